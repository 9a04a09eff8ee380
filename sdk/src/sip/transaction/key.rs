//! What ties a response (or a retransmitted request) to its transaction:
//! the `branch` of the top Via and the CSeq method (RFC 3261 §17.1.3,
//! §17.2.3).

use crate::sip::SipMessage;
use ezk_sip_types::Name;

/// The RFC 3261 magic cookie every compliant branch starts with (§8.1.1.7).
pub const BRANCH_MAGIC_COOKIE: &str = "z9hG4bK";

/// The identity of a transaction: the top Via's `branch` and the CSeq method.
/// A CANCEL shares its INVITE's branch, so the method is part of the key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TransactionKey {
    /// The `branch` parameter of the top Via, as sent.
    pub branch: String,
    /// The CSeq method, as sent (methods are case-sensitive).
    pub method: String,
}

impl TransactionKey {
    /// The key of a message (request or response), or `None` if it has no
    /// top Via with a `branch` or no readable CSeq.
    pub fn of(message: &SipMessage) -> Option<TransactionKey> {
        Some(TransactionKey {
            branch: top_via_branch(message)?.to_owned(),
            method: cseq_of(message)?.1.to_owned(),
        })
    }
}

/// The first via-parm of the first Via header: the Via the message's last
/// hop added. `None` if there is no Via.
pub fn top_via(message: &SipMessage) -> Option<&str> {
    let first = message.header_values(&Name::VIA).next()?;
    let top = trim_lws(split_unquoted(first, b',').next()?);
    (!top.is_empty()).then_some(top)
}

/// The `branch` parameter of the top Via, or `None` if there is none.
pub fn top_via_branch(message: &SipMessage) -> Option<&str> {
    param(top_via(message)?, "branch")
}

/// The CSeq number and method, or `None` if CSeq is missing or unreadable.
pub fn cseq_of(message: &SipMessage) -> Option<(u32, &str)> {
    let value = trim_lws(message.header_values(&Name::CSEQ).next()?);
    let digits = value.bytes().take_while(u8::is_ascii_digit).count();
    let number = value.get(..digits)?.parse::<u32>().ok()?;
    let method = trim_lws(value.get(digits..)?);
    (!method.is_empty() && !method.contains(is_lws_char)).then_some((number, method))
}

/// The value of parameter `name` (case-insensitive) in `value;p1=v1;p2=v2`;
/// a parameter without a value, or with an empty one, counts as absent.
pub(super) fn param<'a>(value: &'a str, name: &str) -> Option<&'a str> {
    split_unquoted(value, b';').skip(1).find_map(|p| {
        let (n, v) = p.split_once('=')?;
        (trim_lws(n).eq_ignore_ascii_case(name) && !trim_lws(v).is_empty()).then(|| trim_lws(v))
    })
}

/// Splits at `sep` bytes outside quoted-strings (a quoted `;` or `,` in a
/// generic parameter does not split).
pub(super) fn split_unquoted(s: &str, sep: u8) -> impl Iterator<Item = &str> + '_ {
    let mut rest = Some(s);
    std::iter::from_fn(move || {
        let current = rest?;
        let mut quoted = false;
        let mut escaped = false;
        for (i, b) in current.bytes().enumerate() {
            match (quoted, escaped, b) {
                (true, true, _) => escaped = false,
                (true, false, b'\\') => escaped = true,
                (_, _, b'"') => quoted = !quoted,
                (false, _, b) if b == sep => {
                    rest = current.get(i + 1..);
                    return current.get(..i);
                }
                _ => {}
            }
        }
        rest = None;
        Some(current)
    })
}

pub(super) fn is_lws_char(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

pub(super) fn trim_lws(s: &str) -> &str {
    s.trim_matches(is_lws_char)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::FramingLimits;

    fn msg(text: &str) -> SipMessage {
        SipMessage::parse(text.as_bytes(), &FramingLimits::default()).unwrap()
    }

    #[test]
    fn reads_the_top_via_branch_and_cseq() {
        let m = msg("SIP/2.0 200 OK\r\n\
             Via: SIP/2.0/UDP a.example;x=\"q;branch=no,\" ; BRANCH = z9hG4bK1 ;rport=5, \
             SIP/2.0/UDP b.example;branch=z9hG4bK2\r\n\
             v: SIP/2.0/UDP c.example;branch=z9hG4bK3\r\n\
             CSeq:  7  INVITE \r\n\r\n");
        assert_eq!(
            top_via(&m),
            Some("SIP/2.0/UDP a.example;x=\"q;branch=no,\" ; BRANCH = z9hG4bK1 ;rport=5")
        );
        assert_eq!(top_via_branch(&m), Some("z9hG4bK1"));
        assert_eq!(cseq_of(&m), Some((7, "INVITE")));
        assert_eq!(
            TransactionKey::of(&m),
            Some(TransactionKey {
                branch: "z9hG4bK1".into(),
                method: "INVITE".into()
            })
        );
    }

    #[test]
    fn missing_or_broken_parts_are_none() {
        let m = msg("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP a;branch=\r\nCSeq: x INVITE\r\n\r\n");
        assert_eq!(top_via_branch(&m), None);
        assert_eq!(cseq_of(&m), None);
        let m = msg("SIP/2.0 200 OK\r\nCSeq: 1 A B\r\n\r\n");
        assert_eq!(top_via(&m), None);
        assert_eq!(cseq_of(&m), None);
        assert_eq!(TransactionKey::of(&m), None);
    }
}
