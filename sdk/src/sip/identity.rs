//! The identity of a SIP request, as the reportError document needs it.
//!
//! From and To are read from their raw values rather than through a URI
//! parser, so the URI is reported exactly as it was sent (MS-OCER §4.1 reports
//! `toUri="sip:bob@contoso.com;user=phone"`), and any URI scheme is accepted.

use super::lex::is_token_byte;
use super::message::SipMessage;
use ezk_sip_types::Name;

/// What identifies the request a transaction carried: MS-OCER §2.2.2 reports
/// these fields for the request that failed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RequestIdentity {
    /// The From URI (addr-spec only, no display name, no parameters).
    pub from_uri: String,
    /// The From tag, if any.
    pub from_tag: Option<String>,
    /// The To URI (addr-spec only).
    pub to_uri: String,
    /// The To tag: absent on an initial request; the collector fills it from the
    /// responses (the 4.1 report carries the 504's To tag).
    pub to_tag: Option<String>,
    /// The Call-ID.
    pub call_id: String,
    /// The CSeq sequence number.
    pub cseq: u32,
    /// The CSeq method (the report's `requestType`), e.g. `INVITE`, `SERVICE`.
    pub method: String,
    /// The Content-Type header value, verbatim, if the request had one.
    pub content_type: Option<String>,
}

/// Why a request's identity could not be read. The request is normally our
/// own, so these point at a bug in whoever built it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdentityError {
    /// The message is a response.
    #[error("the message is a response, not a request")]
    NotARequest,
    /// A mandatory header is absent.
    #[error("missing {header} header")]
    Missing {
        /// The header's name.
        header: &'static str,
    },
    /// A mandatory header is present but unusable.
    #[error("invalid {header} header: {reason}")]
    Invalid {
        /// The header's name.
        header: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
}

impl RequestIdentity {
    /// Reads the identity of a request from its From, To, Call-ID, CSeq and
    /// Content-Type headers (compact forms included).
    pub fn from_request(message: &SipMessage) -> Result<RequestIdentity, IdentityError> {
        if !message.is_request() {
            return Err(IdentityError::NotARequest);
        }
        let (from_uri, from_tag) = name_addr_header(message, &Name::FROM, "From")?;
        let (to_uri, to_tag) = name_addr_header(message, &Name::TO, "To")?;

        let call_id = single(message, &Name::CALL_ID, "Call-ID")?;
        let call_id = trim_lws(call_id);
        if call_id.is_empty() || call_id.contains(is_lws_char) {
            return Err(IdentityError::Invalid {
                header: "Call-ID",
                reason: "not a single word",
            });
        }

        let (cseq, method) =
            parse_cseq(single(message, &Name::CSEQ, "CSeq")?).map_err(|reason| {
                IdentityError::Invalid {
                    header: "CSeq",
                    reason,
                }
            })?;

        let content_type = message
            .header_values(&Name::CONTENT_TYPE)
            .next()
            .map(trim_lws)
            .filter(|v| !v.is_empty())
            .map(str::to_owned);

        Ok(RequestIdentity {
            from_uri,
            from_tag,
            to_uri,
            to_tag,
            call_id: call_id.to_owned(),
            cseq,
            method: method.to_owned(),
            content_type,
        })
    }
}

/// The To tag of a message (typically a response: the tag the UAS chose), or
/// `None` if there is no single, readable To header or it has no tag.
pub fn to_tag_of(message: &SipMessage) -> Option<String> {
    name_addr_header(message, &Name::TO, "To")
        .ok()
        .and_then(|(_, tag)| tag)
}

fn single<'a>(
    message: &'a SipMessage,
    name: &Name,
    header: &'static str,
) -> Result<&'a str, IdentityError> {
    let mut values = message.header_values(name);
    let first = values.next().ok_or(IdentityError::Missing { header })?;
    if values.next().is_some() {
        return Err(IdentityError::Invalid {
            header,
            reason: "appears more than once",
        });
    }
    Ok(first)
}

fn name_addr_header(
    message: &SipMessage,
    name: &Name,
    header: &'static str,
) -> Result<(String, Option<String>), IdentityError> {
    let value = single(message, name, header)?;
    let (uri, tag) =
        parse_name_addr(value).map_err(|reason| IdentityError::Invalid { header, reason })?;
    Ok((uri.to_owned(), tag.map(str::to_owned)))
}

fn is_lws_char(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

fn trim_lws(s: &str) -> &str {
    s.trim_matches(is_lws_char)
}

/// Splits `( name-addr / addr-spec ) *( SEMI param )` into the addr-spec and
/// the `tag` parameter.
fn parse_name_addr(value: &str) -> Result<(&str, Option<&str>), &'static str> {
    let v = trim_lws(value);
    let (uri, rest) = if let Some(after_quote) = v.strip_prefix('"') {
        let end = quoted_end(after_quote).ok_or("unterminated display name")?;
        let rest = trim_lws(after_quote.get(end..).unwrap_or(""));
        let inner = rest.strip_prefix('<').ok_or("display name without <URI>")?;
        bracketed(inner)?
    } else {
        match v.find(['<', ':']) {
            Some(i) if v.as_bytes().get(i) == Some(&b'<') => {
                bracketed(v.get(i + 1..).unwrap_or(""))?
            }
            _ => {
                let end = v.find(';').unwrap_or(v.len());
                (
                    trim_lws(v.get(..end).unwrap_or("")),
                    v.get(end..).unwrap_or(""),
                )
            }
        }
    };
    if !is_uri(uri) {
        return Err("not a URI");
    }
    Ok((uri, tag_param(rest)?))
}

/// The index just past the closing quote of a quoted-string whose opening
/// quote has been stripped.
fn quoted_end(s: &str) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        match (escaped, c) {
            (true, _) => escaped = false,
            (false, '\\') => escaped = true,
            (false, '"') => return Some(i + 1),
            _ => {}
        }
    }
    None
}

/// Splits `addr-spec ">" rest` (the `<` already consumed).
fn bracketed(s: &str) -> Result<(&str, &str), &'static str> {
    let end = s.find('>').ok_or("missing '>'")?;
    Ok((
        trim_lws(s.get(..end).unwrap_or("")),
        s.get(end + 1..).unwrap_or(""),
    ))
}

/// `scheme ":" 1*char`, no white space or angle brackets.
fn is_uri(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once(':') else {
        return false;
    };
    let mut sb = scheme.bytes();
    sb.next().is_some_and(|b| b.is_ascii_alphabetic())
        && sb.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
        && !rest.is_empty()
        && !s.contains(|c: char| is_lws_char(c) || c == '<' || c == '>')
}

/// Reads `*( SEMI generic-param )` and returns the first `tag` value.
fn tag_param(params: &str) -> Result<Option<&str>, &'static str> {
    let mut tag = None;
    let mut rest = trim_lws(params);
    while !rest.is_empty() {
        let after_semi = rest
            .strip_prefix(';')
            .ok_or("expected ';' before a parameter")?;
        let p = after_semi.trim_start_matches(is_lws_char);
        let name_len = p.bytes().take_while(|b| is_token_byte(*b)).count();
        if name_len == 0 {
            return Err("empty parameter name");
        }
        let name = p.get(..name_len).unwrap_or("");
        let after_name = p
            .get(name_len..)
            .unwrap_or("")
            .trim_start_matches(is_lws_char);
        let (value, after) = match after_name.strip_prefix('=') {
            Some(v) => {
                let v = v.trim_start_matches(is_lws_char);
                let len = if let Some(q) = v.strip_prefix('"') {
                    1 + quoted_end(q).ok_or("unterminated quoted parameter")?
                } else {
                    v.find(|c: char| c == ';' || is_lws_char(c))
                        .unwrap_or(v.len())
                };
                if len == 0 {
                    return Err("empty parameter value");
                }
                (Some(v.get(..len).unwrap_or("")), v.get(len..).unwrap_or(""))
            }
            None => (None, after_name),
        };
        if name.eq_ignore_ascii_case("tag") && tag.is_none() {
            let v = value.ok_or("tag without a value")?;
            if !v.bytes().all(is_token_byte) {
                return Err("tag is not a token");
            }
            tag = Some(v);
        }
        rest = trim_lws(after);
    }
    Ok(tag)
}

/// `CSeq = 1*DIGIT LWS Method`, the number below 2**31 (RFC 3261 §8.1.1.5).
fn parse_cseq(value: &str) -> Result<(u32, &str), &'static str> {
    let v = trim_lws(value);
    let digits = v.bytes().take_while(u8::is_ascii_digit).count();
    let number = v
        .get(..digits)
        .filter(|d| !d.is_empty())
        .ok_or("no sequence number")?
        .parse::<u32>()
        .ok()
        .filter(|n| *n < 1 << 31)
        .ok_or("sequence number out of range")?;
    let rest = v.get(digits..).unwrap_or("");
    let method = rest.trim_start_matches(is_lws_char);
    if method.len() == rest.len() {
        return Err("no white space before the method");
    }
    if method.is_empty() || !method.bytes().all(is_token_byte) {
        return Err("method is not a token");
    }
    Ok((number, method))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::FramingLimits;

    fn msg(text: &str) -> SipMessage {
        match SipMessage::parse(text.as_bytes(), &FramingLimits::default()) {
            Ok(m) => m,
            Err(e) => panic!("{e}: {text}"),
        }
    }

    /// The INVITE of MS-OCER §4.1 (NTLM header left out; the tag is written
    /// `d1efe7a825`, the PDF text shows a look-alike `l`).
    const INVITE_4_1: &str = "INVITE sip:bob@contoso.com;user=phone SIP/2.0\r\n\
        Via: SIP/2.0/TLS 192.168.66.91:49541\r\n\
        Max-Forwards: 70\r\n\
        From: <sip:alice@contoso.com>;tag=d1efe7a825;epid=d08da2d0b3\r\n\
        To: <sip:bob@contoso.com;user=phone>\r\n\
        Call-ID: f5290007af32443f8a82daa76c934880\r\n\
        CSeq: 1 INVITE\r\n\
        Contact: <sip:alice@contoso.com;opaque=user:epid:oc0GtDZDxlOnkHNTjMEMPAAA;gruu>\r\n\
        Content-Type: application/sdp;call-type=audiovideo\r\n\
        Content-Length: 0\r\n\r\n";

    #[test]
    fn ms_ocer_4_1_invite() {
        let id = RequestIdentity::from_request(&msg(INVITE_4_1)).unwrap();
        assert_eq!(
            id,
            RequestIdentity {
                from_uri: "sip:alice@contoso.com".into(),
                from_tag: Some("d1efe7a825".into()),
                to_uri: "sip:bob@contoso.com;user=phone".into(),
                to_tag: None,
                call_id: "f5290007af32443f8a82daa76c934880".into(),
                cseq: 1,
                method: "INVITE".into(),
                content_type: Some("application/sdp;call-type=audiovideo".into()),
            }
        );
    }

    #[test]
    fn lync_from_with_quoted_display_name_and_compact_headers() {
        let m = msg("SERVICE sip:alice@contoso.com SIP/2.0\r\n\
            f: \"Alice\"<sip:alice@contoso.com>;tag=d1efe7a825;epid=d08da2d0b3\r\n\
            t:   Bob Smith <sip:bob@contoso.com;user=phone> ; TAG=abc\r\n\
            i:  110a447676494d158ed66cee1de73f61 \r\n\
            CSeq:\r\n 7\r\n  SERVICE\r\n\
            c: application/msrtc-reporterror+xml \r\n\
            l: 0\r\n\r\n");
        let id = RequestIdentity::from_request(&m).unwrap();
        assert_eq!(id.from_uri, "sip:alice@contoso.com");
        assert_eq!(id.from_tag.as_deref(), Some("d1efe7a825"));
        assert_eq!(id.to_uri, "sip:bob@contoso.com;user=phone");
        assert_eq!(id.to_tag.as_deref(), Some("abc"));
        assert_eq!(id.call_id, "110a447676494d158ed66cee1de73f61");
        assert_eq!((id.cseq, id.method.as_str()), (7, "SERVICE"));
        assert_eq!(
            id.content_type.as_deref(),
            Some("application/msrtc-reporterror+xml")
        );
    }

    #[test]
    fn name_addr_forms() {
        let cases: &[(&str, &str, Option<&str>)] = &[
            ("sip:a@b;tag=1", "sip:a@b", Some("1")),
            ("  sip:a@b  ", "sip:a@b", None),
            (
                "<sips:a@b:5061;transport=tls>",
                "sips:a@b:5061;transport=tls",
                None,
            ),
            (
                "\"A \\\"q\\\" <x>\" <tel:+15551234>;x=\"a;tag=2\";tag=3",
                "tel:+15551234",
                Some("3"),
            ),
            ("Alice <sip:a@b>;tag=x;tag=y", "sip:a@b", Some("x")),
            ("<sip:a@b>;epid=1;Tag=t-1.X", "sip:a@b", Some("t-1.X")),
        ];
        for (input, uri, tag) in cases {
            assert_eq!(parse_name_addr(input), Ok((*uri, *tag)), "{input:?}");
        }
        for bad in [
            "",
            "\"Alice <sip:a@b>",
            "\"Alice\" sip:a@b",
            "<sip:a@b",
            "<>",
            "<a b:c>",
            "<1sip:a>",
            "<sip:>",
            "<sip:a@b> x",
            "<sip:a@b>;",
            "<sip:a@b>;tag",
            "<sip:a@b>;tag=",
            "<sip:a@b>;tag=\"q\"",
            "<sip:a@b>;x=\"open",
        ] {
            assert!(parse_name_addr(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn cseq_forms() {
        assert_eq!(parse_cseq(" 1 INVITE "), Ok((1, "INVITE")));
        assert_eq!(
            parse_cseq("2147483647\tBENOTIFY"),
            Ok((2_147_483_647, "BENOTIFY"))
        );
        for bad in [
            "",
            "INVITE",
            "1",
            "1INVITE",
            "2147483648 INVITE",
            "1 IN VITE",
            "1 <x>",
        ] {
            assert!(parse_cseq(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn errors_name_the_header() {
        let base = INVITE_4_1;
        let without = |h: &str| {
            base.lines()
                .filter(|l| !l.starts_with(h))
                .map(|l| format!("{l}\r\n"))
                .collect::<String>()
        };
        for (h, name) in [
            ("From", "From"),
            ("To", "To"),
            ("Call-ID", "Call-ID"),
            ("CSeq", "CSeq"),
        ] {
            assert_eq!(
                RequestIdentity::from_request(&msg(&without(h))),
                Err(IdentityError::Missing { header: name })
            );
        }
        let broken = base.replace("CSeq: 1 INVITE", "CSeq: one INVITE");
        assert!(matches!(
            RequestIdentity::from_request(&msg(&broken)),
            Err(IdentityError::Invalid { header: "CSeq", .. })
        ));
        let twice = base.replace("Max-Forwards: 70", "Call-ID: other");
        assert_eq!(
            RequestIdentity::from_request(&msg(&twice)),
            Err(IdentityError::Invalid {
                header: "Call-ID",
                reason: "appears more than once"
            })
        );
        let spaced = base.replace("Call-ID: f529", "Call-ID: f5 29");
        assert!(matches!(
            RequestIdentity::from_request(&msg(&spaced)),
            Err(IdentityError::Invalid {
                header: "Call-ID",
                ..
            })
        ));
        let bad_to = base.replace("To: <sip:bob", "To: \"<sip:bob");
        assert!(matches!(
            RequestIdentity::from_request(&msg(&bad_to)),
            Err(IdentityError::Invalid { header: "To", .. })
        ));
        let no_ct = without("Content-Type");
        assert_eq!(
            RequestIdentity::from_request(&msg(&no_ct)).map(|i| i.content_type),
            Ok(None)
        );
        let response = msg("SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n");
        assert_eq!(
            RequestIdentity::from_request(&response),
            Err(IdentityError::NotARequest)
        );
        assert_eq!(
            IdentityError::Missing { header: "From" }.to_string(),
            "missing From header"
        );
    }

    #[test]
    fn to_tag_of_the_504() {
        let m = msg("SIP/2.0 504 Server time-out\r\n\
            From: \"Alice\"<sip:alice@contoso.com>;tag=d1efe7a825;epid=d08da2d0b3\r\n\
            To:<sip:bob@contoso.com;user=phone>;tag=66643C5C12E2A03D937F1045F8E8484F\r\n\
            Content-Length: 0\r\n\r\n");
        assert_eq!(
            to_tag_of(&m).as_deref(),
            Some("66643C5C12E2A03D937F1045F8E8484F")
        );
        let untagged = msg("SIP/2.0 100 Trying\r\nTo: <sip:bob@contoso.com;user=phone>\r\n\r\n");
        assert_eq!(to_tag_of(&untagged), None);
        let none = msg("SIP/2.0 100 Trying\r\n\r\n");
        assert_eq!(to_tag_of(&none), None);
    }
}
