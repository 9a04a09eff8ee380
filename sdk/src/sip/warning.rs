//! The `Warning` header (RFC 3261 §20.43).
//!
//! ```text
//! Warning        =  "Warning" HCOLON warning-value *(COMMA warning-value)
//! warning-value  =  warn-code SP warn-agent SP warn-text
//! warn-code      =  3DIGIT
//! warn-agent     =  hostport / pseudonym
//! warn-text      =  quoted-string
//! pseudonym      =  token
//! ```
//!
//! The parser accepts linear white space (including folded lines) wherever the
//! grammar has `SP`, `SWS` or `LWS`; inside warn-text a fold (`*WSP CRLF 1*WSP`,
//! or with a bare LF) reads as one SP, as RFC 3261 §7.3.1 allows.

use super::lex::{delimited_text, is_token_byte, Cursor, TextError};
use std::fmt;
use std::net::Ipv6Addr;

/// A warn-code (three digits). Open newtype.
///
/// RFC 3261 defines 3xx codes about the session description; Lync adds its
/// own (MS-OCER §9.2.4 and §10.2.4 map 304, 308, 309, 370, 371 and 391 to the
/// strings the user sees).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WarnCode(pub u16);

impl WarnCode {
    /// 300 (RFC 3261): none of the network protocols offered in the session
    /// description are available.
    pub const INCOMPATIBLE_NETWORK_PROTOCOL: Self = Self(300);
    /// 301 (RFC 3261): none of the network address formats offered are available.
    pub const INCOMPATIBLE_NETWORK_ADDRESS_FORMATS: Self = Self(301);
    /// 302 (RFC 3261): none of the transport protocols offered are available.
    pub const INCOMPATIBLE_TRANSPORT_PROTOCOL: Self = Self(302);
    /// 303 (RFC 3261): none of the bandwidth measurement units offered are understood.
    pub const INCOMPATIBLE_BANDWIDTH_UNITS: Self = Self(303);
    /// 304 (RFC 3261): none of the media types offered are available. Lync shows
    /// it as "the contact's application does not support this type of meeting"
    /// or "sharing is not supported with this contact".
    pub const MEDIA_TYPE_NOT_AVAILABLE: Self = Self(304);
    /// 305 (RFC 3261): none of the media formats offered are available.
    pub const INCOMPATIBLE_MEDIA_FORMAT: Self = Self(305);
    /// 306 (RFC 3261): one of the session description attributes was not understood.
    pub const ATTRIBUTE_NOT_UNDERSTOOD: Self = Self(306);
    /// 307 (RFC 3261): a session description parameter other than those above
    /// was not understood.
    pub const SESSION_DESCRIPTION_PARAMETER_NOT_UNDERSTOOD: Self = Self(307);
    /// 308 (Lync): the call could not be completed because the security levels
    /// of the two sides (e.g. media encryption) do not match ("Incompatible
    /// security setting", MS-OCER §9.2.4, §10.2.4).
    pub const INCOMPATIBLE_SECURITY_SETTING: Self = Self(308);
    /// 309 (Lync): the instant message was not delivered because its contents
    /// are restricted by policy (MS-OCER §9.2.4).
    pub const CONTENT_RESTRICTED_BY_POLICY: Self = Self(309);
    /// 330 (RFC 3261): the site does not support multicast.
    pub const MULTICAST_NOT_AVAILABLE: Self = Self(330);
    /// 331 (RFC 3261): the site does not support unicast (usually behind a firewall).
    pub const UNICAST_NOT_AVAILABLE: Self = Self(331);
    /// 370 (RFC 3261): the bandwidth needed exceeds what is available. Lync
    /// shows it as "the network is busy".
    pub const INSUFFICIENT_BANDWIDTH: Self = Self(370);
    /// 371 (Lync): the network is busy; shown like 370 when joining a meeting,
    /// adding video or completing a call (MS-OCER §9.2.4).
    pub const NETWORK_BUSY: Self = Self(371);
    /// 391 (Lync): the callee is set to Do Not Disturb and does not want to be
    /// disturbed (MS-OCER §9.2.4, §10.2.4).
    pub const DO_NOT_DISTURB: Self = Self(391);
    /// 399 (RFC 3261): miscellaneous warning; the text is for a human or a log.
    pub const MISCELLANEOUS: Self = Self(399);

    /// Every named constant, in numeric order.
    pub const KNOWN: &'static [WarnCode] = &[
        Self::INCOMPATIBLE_NETWORK_PROTOCOL,
        Self::INCOMPATIBLE_NETWORK_ADDRESS_FORMATS,
        Self::INCOMPATIBLE_TRANSPORT_PROTOCOL,
        Self::INCOMPATIBLE_BANDWIDTH_UNITS,
        Self::MEDIA_TYPE_NOT_AVAILABLE,
        Self::INCOMPATIBLE_MEDIA_FORMAT,
        Self::ATTRIBUTE_NOT_UNDERSTOOD,
        Self::SESSION_DESCRIPTION_PARAMETER_NOT_UNDERSTOOD,
        Self::INCOMPATIBLE_SECURITY_SETTING,
        Self::CONTENT_RESTRICTED_BY_POLICY,
        Self::MULTICAST_NOT_AVAILABLE,
        Self::UNICAST_NOT_AVAILABLE,
        Self::INSUFFICIENT_BANDWIDTH,
        Self::NETWORK_BUSY,
        Self::DO_NOT_DISTURB,
        Self::MISCELLANEOUS,
    ];

    /// A short English description of a known code, for logs and `explain`.
    pub fn description(self) -> Option<&'static str> {
        Some(match self.0 {
            300 => "Incompatible network protocol",
            301 => "Incompatible network address formats",
            302 => "Incompatible transport protocol",
            303 => "Incompatible bandwidth units",
            304 => "Media type not available",
            305 => "Incompatible media format",
            306 => "Attribute not understood",
            307 => "Session description parameter not understood",
            308 => "Incompatible security setting",
            309 => "Message contents restricted by policy",
            330 => "Multicast not available",
            331 => "Unicast not available",
            370 => "Insufficient bandwidth",
            371 => "Network busy",
            391 => "Do not disturb",
            399 => "Miscellaneous warning",
            _ => return None,
        })
    }
}

impl From<u16> for WarnCode {
    fn from(code: u16) -> Self {
        Self(code)
    }
}

impl fmt::Display for WarnCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:03}", self.0)
    }
}

/// Who added the warning: `hostport` or a `pseudonym` token.
///
/// The grammar is ambiguous for a token that is also a host name (`proxy`):
/// such an agent parses as [`WarnAgent::HostPort`], so a `Pseudonym` only
/// prints back as itself when it is not a valid host name or IPv4 address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WarnAgent {
    /// A host with an optional port.
    HostPort {
        /// Host name, IPv4 or bracketed IPv6 literal, verbatim.
        host: String,
        /// Port, if given.
        port: Option<u16>,
    },
    /// A pseudonym (a token that is not a host).
    Pseudonym(String),
}

impl fmt::Display for WarnAgent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WarnAgent::HostPort { host, port: None } => f.write_str(host),
            WarnAgent::HostPort {
                host,
                port: Some(port),
            } => write!(f, "{host}:{port}"),
            WarnAgent::Pseudonym(p) => f.write_str(p),
        }
    }
}

/// One warning-value of a `Warning` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// The warn-code.
    pub code: WarnCode,
    /// The warn-agent.
    pub agent: WarnAgent,
    /// The warn-text, unquoted and unescaped.
    pub text: String,
}

/// Prints `code SP agent SP "text"`, escaping `"`, `\` and control characters
/// as quoted-pairs. CR and LF cannot appear in a quoted-string at all (not
/// even escaped), so they print as SP; everything the parser produces prints
/// back to itself.
impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} ", self.code, self.agent)?;
        write_quoted(f, &self.text)
    }
}

/// Writes `text` as a quoted-string.
fn write_quoted(f: &mut impl fmt::Write, text: &str) -> fmt::Result {
    f.write_char('"')?;
    for c in text.chars() {
        match c {
            '\r' | '\n' => f.write_char(' ')?,
            '"' | '\\' => {
                f.write_char('\\')?;
                f.write_char(c)?;
            }
            '\t' => f.write_char(c)?,
            c if c.is_ascii_control() => {
                f.write_char('\\')?;
                f.write_char(c)?;
            }
            c => f.write_char(c)?,
        }
    }
    f.write_char('"')
}

/// Why a `Warning` value did not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WarningErrorReason {
    /// The value is empty or only white space.
    #[error("empty value")]
    Empty,
    /// A comma is not followed by another warning-value.
    #[error("expected a warning-value after the comma")]
    ExpectedWarningValue,
    /// The warn-code is not exactly three digits.
    #[error("warn-code must be three digits")]
    BadCode,
    /// White space is missing between two parts of a warning-value.
    #[error("expected white space")]
    ExpectedSpace,
    /// The warn-agent is missing.
    #[error("missing warn-agent")]
    MissingAgent,
    /// The warn-agent is neither a hostport nor a token.
    #[error("warn-agent is neither a host[:port] nor a token")]
    BadAgent,
    /// The port of the warn-agent is not a number up to 65535.
    #[error("bad port in warn-agent")]
    BadPort,
    /// The warn-text does not start with a double quote.
    #[error("missing quoted warn-text")]
    MissingText,
    /// The warn-text has no closing double quote.
    #[error("unterminated warn-text")]
    UnterminatedText,
    /// A backslash escapes CR, LF or a non-ASCII character.
    #[error("bad quoted-pair")]
    BadEscape,
    /// A control character or a line break that is not a fold.
    #[error("character not allowed here")]
    BadChar,
    /// Something other than a comma follows a warning-value.
    #[error("expected a comma between warning-values")]
    ExpectedComma,
}

/// A `Warning` value that did not parse: the sender's fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("bad Warning value at byte {position}: {reason}")]
#[non_exhaustive]
pub struct WarningError {
    /// Byte offset into the value where parsing failed.
    pub position: usize,
    /// What was wrong there.
    pub reason: WarningErrorReason,
}

/// Parses a `Warning` header value: one or more comma-separated
/// warning-values. Several `Warning` header lines are parsed one by one.
pub fn parse_warning_values(value: &str) -> Result<Vec<Warning>, WarningError> {
    let mut cur = Cursor::new(value);
    cur.skip_lws();
    if cur.at_end() {
        return Err(warning_error(&cur, WarningErrorReason::Empty));
    }
    let mut out = Vec::new();
    loop {
        out.push(parse_one(&mut cur)?);
        cur.skip_lws();
        match cur.peek() {
            None => return Ok(out),
            Some(b',') => {
                cur.bump();
                cur.skip_lws();
                if cur.at_end() {
                    return Err(warning_error(
                        &cur,
                        WarningErrorReason::ExpectedWarningValue,
                    ));
                }
            }
            Some(_) => return Err(warning_error(&cur, WarningErrorReason::ExpectedComma)),
        }
    }
}

fn parse_one(cur: &mut Cursor<'_>) -> Result<Warning, WarningError> {
    let code_start = cur.pos;
    let digits = cur.take_while(|b| b.is_ascii_digit());
    if digits.len() != 3 {
        return Err(WarningError {
            position: code_start,
            reason: WarningErrorReason::BadCode,
        });
    }
    let code = digits
        .bytes()
        .fold(0u16, |n, d| n * 10 + u16::from(d - b'0'));
    if !cur.skip_lws() {
        let reason = if cur.at_end() || cur.peek() == Some(b',') {
            WarningErrorReason::MissingAgent
        } else {
            WarningErrorReason::ExpectedSpace
        };
        return Err(warning_error(cur, reason));
    }

    let agent_start = cur.pos;
    let agent_text = cur.take_while(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b'"' | b','));
    if agent_text.is_empty() {
        return Err(warning_error(cur, WarningErrorReason::MissingAgent));
    }
    let agent = parse_agent(agent_text).map_err(|reason| WarningError {
        position: agent_start,
        reason,
    })?;
    if !cur.skip_lws() {
        let reason = if cur.peek() == Some(b'"') {
            WarningErrorReason::ExpectedSpace
        } else {
            WarningErrorReason::MissingText
        };
        return Err(warning_error(cur, reason));
    }
    let text = parse_quoted_text(cur)?;
    Ok(Warning {
        code: WarnCode(code),
        agent,
        text,
    })
}

fn parse_agent(agent: &str) -> Result<WarnAgent, WarningErrorReason> {
    let (host, port) = if let Some(rest) = agent.strip_prefix('[') {
        let Some((addr, after)) = rest.split_once(']') else {
            return Err(WarningErrorReason::BadAgent);
        };
        if addr.parse::<Ipv6Addr>().is_err() {
            return Err(WarningErrorReason::BadAgent);
        }
        let host_len = addr.len() + 2;
        let port = match after {
            "" => None,
            p => Some(parse_port(
                p.strip_prefix(':').ok_or(WarningErrorReason::BadAgent)?,
            )?),
        };
        (agent.get(..host_len).unwrap_or(agent), port)
    } else if let Some((host, port)) = agent.split_once(':') {
        if !is_hostname(host) && !is_ipv4(host) {
            return Err(WarningErrorReason::BadAgent);
        }
        (host, Some(parse_port(port)?))
    } else if is_hostname(agent) || is_ipv4(agent) {
        (agent, None)
    } else if agent.bytes().all(is_token_byte) {
        return Ok(WarnAgent::Pseudonym(agent.to_owned()));
    } else {
        return Err(WarningErrorReason::BadAgent);
    };
    Ok(WarnAgent::HostPort {
        host: host.to_owned(),
        port,
    })
}

fn parse_port(p: &str) -> Result<u16, WarningErrorReason> {
    if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
        return Err(WarningErrorReason::BadPort);
    }
    p.parse::<u16>().map_err(|_| WarningErrorReason::BadPort)
}

/// RFC 3261 `hostname = *( domainlabel "." ) toplabel [ "." ]`.
pub(super) fn is_hostname(s: &str) -> bool {
    let s = s.strip_suffix('.').unwrap_or(s);
    if s.is_empty() {
        return false;
    }
    let labels: Vec<&str> = s.split('.').collect();
    let label_ok = |l: &str| {
        let b = l.as_bytes();
        match (b.first(), b.last()) {
            (Some(f), Some(e)) => {
                f.is_ascii_alphanumeric()
                    && e.is_ascii_alphanumeric()
                    && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
            }
            _ => false,
        }
    };
    let top_ok = labels
        .last()
        .and_then(|t| t.as_bytes().first())
        .is_some_and(|c| c.is_ascii_alphabetic());
    top_ok && labels.iter().all(|l| label_ok(l))
}

/// RFC 3261 `IPv4address = 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT`.
pub(super) fn is_ipv4(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() == 4
        && parts
            .iter()
            .all(|p| (1..=3).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()))
}

/// Reads a quoted-string at the cursor (which is on the opening quote) and
/// returns its unescaped content; folds read as one SP.
fn parse_quoted_text(cur: &mut Cursor<'_>) -> Result<String, WarningError> {
    if cur.peek() != Some(b'"') {
        return Err(warning_error(cur, WarningErrorReason::MissingText));
    }
    delimited_text(cur, b'"', b'"', false).map_err(|e| {
        let reason = match e {
            TextError::Unterminated => WarningErrorReason::UnterminatedText,
            TextError::BadEscape => WarningErrorReason::BadEscape,
            TextError::BadChar => WarningErrorReason::BadChar,
        };
        warning_error(cur, reason)
    })
}

fn warning_error(cur: &Cursor<'_>, reason: WarningErrorReason) -> WarningError {
    WarningError {
        position: cur.pos,
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn host(h: &str, port: Option<u16>) -> WarnAgent {
        WarnAgent::HostPort {
            host: h.to_owned(),
            port,
        }
    }

    fn one(v: &str) -> Warning {
        match parse_warning_values(v) {
            Ok(mut ws) if ws.len() == 1 => ws.remove(0),
            other => panic!("{v:?} -> {other:?}"),
        }
    }

    fn err(v: &str) -> WarningError {
        match parse_warning_values(v) {
            Err(e) => e,
            Ok(ws) => panic!("{v:?} parsed: {ws:?}"),
        }
    }

    #[test]
    fn rfc_3261_examples() {
        let w = one(r#"307 isi.edu "Session parameter 'foo' not understood""#);
        assert_eq!(
            w.code,
            WarnCode::SESSION_DESCRIPTION_PARAMETER_NOT_UNDERSTOOD
        );
        assert_eq!(w.agent, host("isi.edu", None));
        assert_eq!(w.text, "Session parameter 'foo' not understood");

        let w = one(r#"301 isi.edu "Incompatible network address type 'E.164'""#);
        assert_eq!(w.code, WarnCode(301));
        assert_eq!(w.text, "Incompatible network address type 'E.164'");
    }

    #[test]
    fn several_values_with_commas_in_text() {
        let ws = parse_warning_values(
            r#"370 10.0.0.1:5060 "Insufficient, bandwidth" , 399 [2001:db8::1]:5061 "misc""#,
        )
        .unwrap();
        assert_eq!(ws.len(), 2);
        assert_eq!(ws[0].code, WarnCode::INSUFFICIENT_BANDWIDTH);
        assert_eq!(ws[0].agent, host("10.0.0.1", Some(5060)));
        assert_eq!(ws[0].text, "Insufficient, bandwidth");
        assert_eq!(ws[1].agent, host("[2001:db8::1]", Some(5061)));
        assert_eq!(ws[1].text, "misc");
    }

    #[test]
    fn lync_codes_and_pseudonyms() {
        let w = one(r#"391 lcs_server "The user has set Do Not Disturb""#);
        assert_eq!(w.code, WarnCode::DO_NOT_DISTURB);
        assert_eq!(w.agent, WarnAgent::Pseudonym("lcs_server".into()));
        let w = one(r#"308 lync-fe01.contoso.com "Encryption levels do not match""#);
        assert_eq!(w.code, WarnCode::INCOMPATIBLE_SECURITY_SETTING);
        assert_eq!(w.agent, host("lync-fe01.contoso.com", None));
        let w = one(r#"399 [::1] "x""#);
        assert_eq!(w.agent, host("[::1]", None));
        let w = one(r#"399 123abc "x""#);
        assert_eq!(w.agent, WarnAgent::Pseudonym("123abc".into()));
        let w = one(r#"399 proxy. "x""#);
        assert_eq!(w.agent, host("proxy.", None));
    }

    #[test]
    fn escapes_and_folding() {
        let w = one("399 h \"a \\\"q\\\" \\\\ b\\x\"");
        assert_eq!(w.text, "a \"q\" \\ bx");
        // A fold, with white space on both sides, reads as a single SP.
        let w = one("399\r\n h \"one  \r\n\t two\"");
        assert_eq!(w.text, "one two");
        let w = one("399 h\n \"one\n two\"");
        assert_eq!(w.text, "one two");
        // An escaped space before the fold is content, not LWS.
        let w = one("399 h \"a\\ \r\n b\"");
        assert_eq!(w.text, "a  b");
        // Raw tabs and UTF-8 are text.
        let w = one("399 h \"\tüñí\u{1F600}\"");
        assert_eq!(w.text, "\tüñí\u{1F600}");
    }

    #[test]
    fn errors_name_position_and_reason() {
        use WarningErrorReason as R;
        let cases: &[(&str, usize, WarningErrorReason)] = &[
            ("", 0, R::Empty),
            ("  \r\n ", 5, R::Empty),
            ("39 h \"x\"", 0, R::BadCode),
            ("3999 h \"x\"", 0, R::BadCode),
            ("abc h \"x\"", 0, R::BadCode),
            ("399", 3, R::MissingAgent),
            ("399h \"x\"", 3, R::ExpectedSpace),
            ("399 h", 5, R::MissingText),
            ("399 h\"x\"", 5, R::ExpectedSpace),
            ("399 h x", 6, R::MissingText),
            ("399 h \"x", 8, R::UnterminatedText),
            ("399 h \"x\\", 9, R::UnterminatedText),
            ("399 h \"x\\\u{e9}\"", 9, R::BadEscape),
            ("399 h \"x\\\r\n y\"", 9, R::BadEscape),
            ("399 h \"x\ry\"", 8, R::BadChar),
            ("399 h \"x\u{1}\"", 8, R::BadChar),
            ("399 h:99999 \"x\"", 4, R::BadPort),
            ("399 h: \"x\"", 4, R::BadPort),
            ("399 [::g] \"x\"", 4, R::BadAgent),
            ("399 [::1 \"x\"", 4, R::BadAgent),
            ("399 [::1]x \"x\"", 4, R::BadAgent),
            ("399 a_b:1 \"x\"", 4, R::BadAgent),
            ("399 a(b \"x\"", 4, R::BadAgent),
            ("399 h \"x\" y", 10, R::ExpectedComma),
            ("399 h \"x\",", 10, R::ExpectedWarningValue),
            ("399 h \"x\", ,", 11, R::BadCode),
            ("399 h \"x\"\r", 9, R::ExpectedComma),
        ];
        for (input, position, reason) in cases {
            let e = err(input);
            assert_eq!((e.position, e.reason), (*position, *reason), "{input:?}");
        }
        assert_eq!(
            err("399 h x").to_string(),
            "bad Warning value at byte 6: missing quoted warn-text"
        );
    }

    #[test]
    fn display_is_canonical() {
        let w = Warning {
            code: WarnCode(5),
            agent: host("[::1]", Some(5061)),
            text: "say \"hi\" \\ \u{7}\r\n\tend".into(),
        };
        assert_eq!(
            w.to_string(),
            "005 [::1]:5061 \"say \\\"hi\\\" \\\\ \\\u{7}  \tend\""
        );
        assert_eq!(
            one(&w.to_string()).text,
            "say \"hi\" \\ \u{7}  \tend",
            "CR and LF print as SP"
        );
    }

    #[test]
    fn known_codes_are_described() {
        for c in WarnCode::KNOWN {
            assert!(c.description().is_some(), "{c}");
        }
        assert_eq!(WarnCode(398).description(), None);
        let mut sorted = WarnCode::KNOWN.to_vec();
        sorted.sort();
        assert_eq!(sorted, WarnCode::KNOWN);
    }

    fn arb_agent() -> impl Strategy<Value = WarnAgent> {
        prop_oneof![
            (
                "[a-z][a-z0-9-]{0,8}[a-z0-9](\\.[a-z][a-z0-9]{0,5}){0,3}",
                any::<Option<u16>>()
            )
                .prop_map(|(h, port)| WarnAgent::HostPort { host: h, port }),
            (any::<[u8; 4]>(), any::<Option<u16>>()).prop_map(|(a, port)| {
                WarnAgent::HostPort {
                    host: format!("{}.{}.{}.{}", a[0], a[1], a[2], a[3]),
                    port,
                }
            }),
            (any::<[u16; 8]>(), any::<Option<u16>>()).prop_map(|(a, port)| {
                WarnAgent::HostPort {
                    host: format!("[{}]", Ipv6Addr::from(a)),
                    port,
                }
            }),
            // Tokens that are not host names: they contain a non-host character.
            "[a-zA-Z0-9]{0,4}[_!%*+`'~][a-zA-Z0-9._-]{0,6}".prop_map(WarnAgent::Pseudonym),
        ]
    }

    fn arb_warning() -> impl Strategy<Value = Warning> {
        (0u16..1000, arb_agent(), "[^\r\n]{0,40}").prop_map(|(code, agent, text)| Warning {
            code: WarnCode(code),
            agent,
            text,
        })
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC*") {
            let _ = parse_warning_values(&s);
        }

        #[test]
        fn never_panics_on_near_valid(s in "[0-9 \"\\\\\r\n\t,:\\[\\]a-f.é]{0,40}") {
            let _ = parse_warning_values(&s);
        }

        #[test]
        fn print_parse_round_trip(ws in prop::collection::vec(arb_warning(), 1..4)) {
            let printed = ws.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
            prop_assert_eq!(parse_warning_values(&printed), Ok(ws));
        }

        #[test]
        fn parse_print_parse_is_stable(ws in prop::collection::vec(arb_warning(), 1..4)) {
            // Folded and spaced-out input parses to the same values as the canonical form.
            let loose = ws
                .iter()
                .map(|w| format!("{}\r\n  {}\t {}", w.code, w.agent, w.to_string().splitn(3, ' ').nth(2).unwrap_or("")))
                .collect::<Vec<_>>()
                .join(" ,\r\n ");
            prop_assert_eq!(parse_warning_values(&loose), Ok(ws));
        }
    }
}
