//! The `ms-keep-alive` header of [MS-CONMGMT] §2.2.1: how a client and its
//! outbound proxy agree on keep-alives for the connection a request went on.
//!
//! ```text
//! Ms-Keep-Alive            = "ms-keep-alive" HCOLON ms-keep-alive-value
//! ms-keep-alive-value      = ms-keep-alive-role *(SEMI ms-keep-alive-capability)
//!                            [ SEMI ms-keep-alive-timeout ] *(SEMI generic-param)
//! ms-keep-alive-role       = "UAC" / "UAS"
//! ms-keep-alive-capability = ms-keep-alive-mechanism EQUAL BOOLEAN
//! BOOLEAN                  = "yes" / "no"
//! ms-keep-alive-mechanism  = "hop-hop" / "end-end" / "tcp" / token
//! ms-keep-alive-timeout    = "timeout" EQUAL 1*DIGIT
//! ```
//!
//! The client offers `UAC;hop-hop=yes` (as the INVITE of MS-OCER §4.1 does);
//! a pool answers e.g. `UAS; tcp=no; hop-hop=yes; end-end=no; timeout=300`.
//! Parameters are read in any order (a capability is any `name=yes|no`),
//! because `token` mechanisms and generic parameters share one shape.

use std::fmt;
use std::time::Duration;

use super::lex::{is_token_byte, unfold};

/// Who sent the header: the side that starts the negotiation, or the one
/// that answers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeepAliveRole {
    /// `UAC`: the sender starts the negotiation (a request).
    Uac,
    /// `UAS`: the sender answers it (a response).
    Uas,
}

/// A parsed `ms-keep-alive` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MsKeepAlive {
    /// `UAC` or `UAS`.
    pub role: KeepAliveRole,
    /// The mechanisms the sender says yes or no to (`hop-hop`, `end-end`,
    /// `tcp`, or another token), in order, names as spelled.
    pub capabilities: Vec<(String, bool)>,
    /// `timeout`, in seconds: the idle time the sender allows on the
    /// connection before it gives up on it.
    pub timeout: Option<u32>,
    /// Other parameters in order: (name, value), values verbatim.
    pub params: Vec<(String, Option<String>)>,
}

impl MsKeepAlive {
    /// The header's name.
    pub const HEADER_NAME: &'static str = "ms-keep-alive";

    /// What a client offers: `UAC;hop-hop=yes`.
    pub fn offer() -> MsKeepAlive {
        MsKeepAlive {
            role: KeepAliveRole::Uac,
            capabilities: vec![("hop-hop".to_owned(), true)],
            timeout: None,
            params: Vec::new(),
        }
    }

    /// Parses a header value.
    pub fn parse(value: &str) -> Result<MsKeepAlive, KeepAliveError> {
        let value = unfold(value);
        let mut parts = split_params(&value)?.into_iter();
        let (role_at, role) = parts.next().unwrap_or((0, ""));
        let role = match role {
            r if r.eq_ignore_ascii_case("UAC") => KeepAliveRole::Uac,
            r if r.eq_ignore_ascii_case("UAS") => KeepAliveRole::Uas,
            "" => return Err(KeepAliveError::at(role_at, KeepAliveErrorReason::Empty)),
            _ => return Err(KeepAliveError::at(role_at, KeepAliveErrorReason::BadRole)),
        };
        let mut header = MsKeepAlive {
            role,
            capabilities: Vec::new(),
            timeout: None,
            params: Vec::new(),
        };
        for (at, part) in parts {
            let (name, value) = match part.split_once('=') {
                Some((n, v)) => (n.trim(), Some(v.trim())),
                None => (part, None),
            };
            if name.is_empty() || !name.bytes().all(is_token_byte) {
                return Err(KeepAliveError::at(at, KeepAliveErrorReason::BadParam));
            }
            if name.eq_ignore_ascii_case("timeout") {
                let seconds = value
                    .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
                    .ok_or(KeepAliveError::at(at, KeepAliveErrorReason::BadTimeout))?;
                if header.timeout.is_some() {
                    return Err(KeepAliveError::at(
                        at,
                        KeepAliveErrorReason::DuplicateTimeout,
                    ));
                }
                // 1*DIGIT has no bound; a huge value means "very long".
                header.timeout = Some(seconds.parse().unwrap_or(u32::MAX));
                continue;
            }
            match value {
                Some(v) if v.eq_ignore_ascii_case("yes") => {
                    header.capabilities.push((name.to_owned(), true));
                }
                Some(v) if v.eq_ignore_ascii_case("no") => {
                    header.capabilities.push((name.to_owned(), false));
                }
                v => header.params.push((name.to_owned(), v.map(str::to_owned))),
            }
        }
        Ok(header)
    }

    /// The sender's yes or no to `mechanism` (case-insensitive), if it said.
    pub fn capability(&self, mechanism: &str) -> Option<bool> {
        self.capabilities
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(mechanism))
            .map(|(_, yes)| *yes)
    }

    /// `timeout` as a duration.
    pub fn idle_timeout(&self) -> Option<Duration> {
        self.timeout.map(|s| Duration::from_secs(u64::from(s)))
    }

    /// How often to send keep-alives on the connection, given the interval
    /// configured, once a pool answered with this header: a `UAS` that says
    /// `hop-hop=yes` with a `timeout` gets a ping at four fifths of it when
    /// that is sooner than `configured`, so one arrives before the pool's
    /// idle timer runs out; anything else leaves `configured` as it is
    /// (a CRLF between messages is always allowed on a stream, RFC 3261 §7.5,
    /// so pinging a pool that said `hop-hop=no` costs nothing).
    pub fn ping_interval(&self, configured: Option<Duration>) -> Option<Duration> {
        let asked = match (self.role, self.capability("hop-hop"), self.timeout) {
            (KeepAliveRole::Uas, Some(true), Some(seconds)) => {
                let millis = u64::from(seconds).saturating_mul(800);
                Duration::from_millis(millis).max(Duration::from_secs(1))
            }
            _ => return configured,
        };
        Some(configured.map_or(asked, |c| c.min(asked)))
    }
}

/// Prints `ROLE *(;mechanism=yes|no) [;timeout=N] *(;name[=value])`; what
/// the parser produces prints back to an equal value.
impl fmt::Display for MsKeepAlive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.role {
            KeepAliveRole::Uac => "UAC",
            KeepAliveRole::Uas => "UAS",
        })?;
        for (name, yes) in &self.capabilities {
            write!(f, ";{name}={}", if *yes { "yes" } else { "no" })?;
        }
        if let Some(t) = self.timeout {
            write!(f, ";timeout={t}")?;
        }
        for (name, value) in &self.params {
            write!(f, ";{name}")?;
            if let Some(v) = value {
                write!(f, "={v}")?;
            }
        }
        Ok(())
    }
}

/// The `;`-separated parts of a value, trimmed, with their byte offsets; a
/// `;` inside a quoted-string does not separate.
fn split_params(value: &str) -> Result<Vec<(usize, &str)>, KeepAliveError> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut quoted = false;
    let mut escaped = false;
    for (i, b) in value.bytes().enumerate() {
        match b {
            _ if escaped => escaped = false,
            b'\\' if quoted => escaped = true,
            b'"' => quoted = !quoted,
            b';' if !quoted => {
                parts.push((start, value[start..i].trim()));
                start = i + 1;
            }
            b if b.is_ascii_control() && b != b'\t' => {
                return Err(KeepAliveError::at(i, KeepAliveErrorReason::BadChar));
            }
            _ => {}
        }
    }
    if quoted {
        return Err(KeepAliveError::at(
            value.len(),
            KeepAliveErrorReason::UnterminatedQuote,
        ));
    }
    parts.push((start, value[start..].trim()));
    Ok(parts)
}

/// Why an `ms-keep-alive` value did not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeepAliveErrorReason {
    /// The value is empty or only white space.
    #[error("empty value")]
    Empty,
    /// The value does not start with `UAC` or `UAS`.
    #[error("expected UAC or UAS")]
    BadRole,
    /// A parameter name is empty or not a token.
    #[error("expected a parameter name")]
    BadParam,
    /// `timeout` has no value or one that is not digits.
    #[error("timeout must be digits")]
    BadTimeout,
    /// `timeout` appears twice.
    #[error("duplicate timeout parameter")]
    DuplicateTimeout,
    /// A quoted-string has no closing double quote.
    #[error("unterminated quoted-string")]
    UnterminatedQuote,
    /// A control character.
    #[error("character not allowed here")]
    BadChar,
}

/// An `ms-keep-alive` value that did not parse: the sender's fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("bad ms-keep-alive value at byte {position}: {reason}")]
#[non_exhaustive]
pub struct KeepAliveError {
    /// Byte offset into the (unfolded) value where parsing failed.
    pub position: usize,
    /// What was wrong there.
    pub reason: KeepAliveErrorReason,
}

impl KeepAliveError {
    fn at(position: usize, reason: KeepAliveErrorReason) -> Self {
        Self { position, reason }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_offer_of_ms_ocer_4_1_round_trips() {
        // MS-OCER §4.1's INVITE: `ms-keep-alive: UAC;hop-hop=yes`.
        let offer = MsKeepAlive::parse("UAC;hop-hop=yes").unwrap();
        assert_eq!(offer, MsKeepAlive::offer());
        assert_eq!(offer.to_string(), "UAC;hop-hop=yes");
    }

    #[test]
    fn a_pool_s_answer_is_read_in_any_order() {
        let answer =
            MsKeepAlive::parse("UAS; tcp=no; hop-hop=yes; end-end=no; timeout=300").unwrap();
        assert_eq!(answer.role, KeepAliveRole::Uas);
        assert_eq!(answer.capability("HOP-HOP"), Some(true));
        assert_eq!(answer.capability("tcp"), Some(false));
        assert_eq!(answer.capability("end-end"), Some(false));
        assert_eq!(answer.timeout, Some(300));
        assert_eq!(
            answer.to_string(),
            "UAS;tcp=no;hop-hop=yes;end-end=no;timeout=300"
        );
        let later = MsKeepAlive::parse("uas;timeout=30;hop-hop=yes;x=\"a;b\";flag").unwrap();
        assert_eq!(later.timeout, Some(30));
        assert_eq!(
            later.params,
            vec![
                ("x".to_owned(), Some("\"a;b\"".to_owned())),
                ("flag".to_owned(), None)
            ]
        );
        assert_eq!(MsKeepAlive::parse(&later.to_string()).unwrap(), later);
    }

    #[test]
    fn the_ping_comes_before_the_pool_s_idle_timeout() {
        let configured = Some(Duration::from_secs(95));
        let answer = |v: &str| MsKeepAlive::parse(v).unwrap();
        // 4/5 of 30 s is sooner than 95 s.
        assert_eq!(
            answer("UAS;hop-hop=yes;timeout=30").ping_interval(configured),
            Some(Duration::from_secs(24))
        );
        // 4/5 of 300 s is later: the configured interval stays.
        assert_eq!(
            answer("UAS;hop-hop=yes;timeout=300").ping_interval(configured),
            configured
        );
        // Keep-alives turned off by the app: the pool's asks for them.
        assert_eq!(
            answer("UAS;hop-hop=yes;timeout=300").ping_interval(None),
            Some(Duration::from_secs(240))
        );
        assert_eq!(
            answer("UAS;hop-hop=yes;timeout=0").ping_interval(None),
            Some(Duration::from_secs(1))
        );
        for unchanged in [
            "UAS;hop-hop=no;timeout=30",
            "UAS;hop-hop=yes",
            "UAC;hop-hop=yes;timeout=30",
        ] {
            assert_eq!(answer(unchanged).ping_interval(configured), configured);
        }
    }

    #[test]
    fn bad_values_are_typed_errors() {
        let reason = |v: &str| MsKeepAlive::parse(v).unwrap_err().reason;
        assert_eq!(reason(""), KeepAliveErrorReason::Empty);
        assert_eq!(reason("  "), KeepAliveErrorReason::Empty);
        assert_eq!(reason("UAX;hop-hop=yes"), KeepAliveErrorReason::BadRole);
        assert_eq!(reason("UAS;;timeout=1"), KeepAliveErrorReason::BadParam);
        assert_eq!(reason("UAS;timeout=abc"), KeepAliveErrorReason::BadTimeout);
        assert_eq!(reason("UAS;timeout"), KeepAliveErrorReason::BadTimeout);
        assert_eq!(
            reason("UAS;timeout=1;timeout=2"),
            KeepAliveErrorReason::DuplicateTimeout
        );
        assert_eq!(
            reason("UAS;x=\"open"),
            KeepAliveErrorReason::UnterminatedQuote
        );
        assert_eq!(reason("UAS;\u{1}"), KeepAliveErrorReason::BadChar);
        assert_eq!(
            MsKeepAlive::parse("UAS;timeout=99999999999")
                .unwrap()
                .timeout,
            Some(u32::MAX)
        );
    }
}
