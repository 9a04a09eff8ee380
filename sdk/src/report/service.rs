//! The SERVICE request that carries a report (MS-OCER §3.1.4.1, §4.1).
//!
//! Request-URI, From and To are all the reporting user's own address of record;
//! the request gets a new Call-ID and From tag (it starts no dialog), `CSeq: n
//! SERVICE`, `Content-Type: application/msrtc-reporterror+xml` and the document
//! as its body. The result is a [`SipMessage`] without `Via`: the transport adds
//! its own, then [`super::finalize_request`] checks and prints it (writing
//! `Content-Length` from the body). Randomness is the caller's: pass fresh random
//! numbers to [`call_id_from`] and [`tag_from`].

use std::str::FromStr;

use bytes::Bytes;
use ezk_sip_types::msg::{MessageLine, RequestLine};
use ezk_sip_types::uri::SipUri;
use ezk_sip_types::{Headers, Method, Name};

use super::document::CONTENT_TYPE;
use crate::sip::SipMessage;

/// The method name (§3.1.4.1).
pub const SERVICE: &str = "SERVICE";

/// What the SERVICE request is made of, besides the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceParts<'a> {
    /// The user's address of record, e.g. `sip:alice@contoso.com`.
    pub aor: &'a str,
    /// A new Call-ID for this request ([`call_id_from`]).
    pub call_id: &'a str,
    /// A new From tag ([`tag_from`]).
    pub from_tag: &'a str,
    /// The CSeq number: 1 for a new report, one more for a resend after an
    /// authentication challenge (same Call-ID).
    pub cseq: u32,
    /// Lync's `epid` From parameter (the endpoint id), if the UA uses one.
    pub epid: Option<&'a str>,
    /// The Contact, if the UA has one (e.g. its GRUU), without angle brackets.
    pub contact: Option<&'a str>,
    /// The User-Agent value, if any.
    pub user_agent: Option<&'a str>,
}

/// Why the SERVICE request could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ServiceError {
    /// The AOR is not a SIP URI.
    #[error("the address of record {0:?} is not a SIP URI")]
    BadAor(String),
    /// The Call-ID is not RFC 3261 `word ["@" word]`.
    #[error("{0:?} is not a valid Call-ID")]
    BadCallId(String),
    /// A tag or epid is not an RFC 3261 token.
    #[error("{0:?} is not a token")]
    BadToken(String),
    /// The Contact is not a SIP URI.
    #[error("the contact {0:?} is not a SIP URI")]
    BadContact(String),
    /// The User-Agent holds a line break or control character.
    #[error("the User-Agent holds a control character")]
    BadUserAgent,
}

/// Builds the SERVICE request for `body` (an encoded report, see
/// [`super::encode`]).
pub fn service_request(
    parts: &ServiceParts<'_>,
    body: impl Into<Bytes>,
) -> Result<SipMessage, ServiceError> {
    let uri =
        SipUri::from_str(parts.aor).map_err(|_| ServiceError::BadAor(parts.aor.to_owned()))?;
    if !is_call_id(parts.call_id) {
        return Err(ServiceError::BadCallId(parts.call_id.to_owned()));
    }
    for token in std::iter::once(parts.from_tag).chain(parts.epid) {
        if token.is_empty() || !token.bytes().all(is_token_byte) {
            return Err(ServiceError::BadToken(token.to_owned()));
        }
    }
    let mut headers = Headers::with_capacity(9);
    headers.insert(Name::MAX_FORWARDS, "70");
    let mut from = format!("<{}>;tag={}", parts.aor, parts.from_tag);
    if let Some(epid) = parts.epid {
        from.push_str(";epid=");
        from.push_str(epid);
    }
    headers.insert(Name::FROM, from);
    headers.insert(Name::TO, format!("<{}>", parts.aor));
    headers.insert(Name::CALL_ID, parts.call_id);
    headers.insert(Name::CSEQ, format!("{} {SERVICE}", parts.cseq));
    if let Some(contact) = parts.contact {
        if SipUri::from_str(contact).is_err() {
            return Err(ServiceError::BadContact(contact.to_owned()));
        }
        headers.insert(Name::CONTACT, format!("<{contact}>"));
    }
    if let Some(user_agent) = parts.user_agent {
        if user_agent.chars().any(char::is_control) {
            return Err(ServiceError::BadUserAgent);
        }
        headers.insert(Name::USER_AGENT, user_agent);
    }
    headers.insert(Name::CONTENT_TYPE, CONTENT_TYPE);
    Ok(SipMessage {
        line: MessageLine::Request(RequestLine {
            method: Method::from(SERVICE),
            uri,
        }),
        headers,
        body: body.into(),
    })
}

/// A Call-ID from 128 random bits: 32 lowercase hex digits, as Lync writes them
/// (`110a447676494d158ed66cee1de73f61` in §4.1).
pub fn call_id_from(random: u128) -> String {
    format!("{random:032x}")
}

/// A From tag from 40 of `random`'s bits: 10 lowercase hex digits, as Lync writes
/// them (`22b9d81281` in §4.1).
pub fn tag_from(random: u64) -> String {
    format!("{:010x}", random & 0xFF_FFFF_FFFF)
}

/// RFC 3261 `callid = word [ "@" word ]`.
fn is_call_id(s: &str) -> bool {
    let mut parts = s.splitn(2, '@');
    parts.all(|w| !w.is_empty() && w.bytes().all(is_word_byte))
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'-' | b'.' | b'!' | b'%' | b'*' | b'_' | b'+' | b'`' | b'\'' | b'~'
        )
}

/// RFC 3261 `word` characters.
fn is_word_byte(b: u8) -> bool {
    is_token_byte(b)
        || matches!(
            b,
            b'(' | b')'
                | b'<'
                | b'>'
                | b':'
                | b'\\'
                | b'"'
                | b'/'
                | b'['
                | b']'
                | b'?'
                | b'{'
                | b'}'
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{encode, finalize_request, ErrorReport, OutgoingError, ReportLimits};
    use crate::sip::{FramingLimits, RequestIdentity};

    fn parts() -> ServiceParts<'static> {
        ServiceParts {
            aor: "sip:alice@contoso.com",
            call_id: "110a447676494d158ed66cee1de73f61",
            from_tag: "22b9d81281",
            cseq: 1,
            epid: Some("d08da2d0b3"),
            contact: Some("sip:alice@contoso.com;opaque=user:epid:oc0GtDZDxlOnkHNTjMEMPAAA;gruu"),
            user_agent: Some("UCCP/2.0.6336.0 OC/2.0.6336.0 (Microsoft Office Communicator)"),
        }
    }

    fn body() -> String {
        let report = ErrorReport {
            call_id: "f5290007af32443f8a82daa76c934880".into(),
            request_type: "INVITE".into(),
            response_code: 504,
            to_uri: Some("sip:bob@contoso.com;user=phone".into()),
            diag_headers: vec!["1007;reason=\"Temporarily cannot route\"".into()],
            ..ErrorReport::default()
        };
        encode(report, &ReportLimits::default(), "sip:alice@contoso.com")
            .unwrap()
            .body
    }

    #[test]
    fn the_4_1_service_request() {
        let body = body();
        let mut request = service_request(&parts(), body.clone()).unwrap();
        // A transport's Via, then the one way out.
        assert_eq!(
            finalize_request(&request),
            Err(OutgoingError::MissingHeader("Via"))
        );
        request.headers.insert_front(
            Name::VIA,
            "SIP/2.0/TLS 192.168.66.91:49541;branch=z9hG4bKr1",
        );
        let wire = finalize_request(&request).unwrap();

        let parsed = SipMessage::parse(&wire, &FramingLimits::default()).unwrap();
        let text = String::from_utf8(wire.clone()).unwrap();
        assert!(
            text.starts_with("SERVICE sip:alice@contoso.com SIP/2.0\r\nVia: SIP/2.0/TLS"),
            "{text}"
        );
        let header = |name: &str| parsed.header_value(&Name::from(name)).map(str::to_owned);
        assert_eq!(header("Max-Forwards").as_deref(), Some("70"));
        assert_eq!(
            header("From").as_deref(),
            Some("<sip:alice@contoso.com>;tag=22b9d81281;epid=d08da2d0b3")
        );
        assert_eq!(header("To").as_deref(), Some("<sip:alice@contoso.com>"));
        assert_eq!(
            header("Call-ID").as_deref(),
            Some("110a447676494d158ed66cee1de73f61")
        );
        assert_eq!(header("CSeq").as_deref(), Some("1 SERVICE"));
        assert_eq!(
            header("Content-Type").as_deref(),
            Some("application/msrtc-reporterror+xml")
        );
        assert_eq!(header("Content-Length"), Some(body.len().to_string()));
        assert_eq!(
            header("Contact").as_deref(),
            Some("<sip:alice@contoso.com;opaque=user:epid:oc0GtDZDxlOnkHNTjMEMPAAA;gruu>")
        );
        assert_eq!(parsed.body.as_ref(), body.as_bytes());

        let identity = RequestIdentity::from_request(&parsed).unwrap();
        assert_eq!(identity.method, "SERVICE");
        assert_eq!(
            (identity.from_uri.as_str(), identity.to_uri.as_str()),
            ("sip:alice@contoso.com", "sip:alice@contoso.com")
        );
        assert_eq!(identity.cseq, 1);
        let report = ErrorReport::parse(&parsed.body).unwrap();
        assert_eq!(report.call_id, "f5290007af32443f8a82daa76c934880");
        assert_eq!(report.response_code, 504);
    }

    #[test]
    fn minimal_parts_and_a_resend_after_a_challenge() {
        let p = ServiceParts {
            epid: None,
            contact: None,
            user_agent: None,
            cseq: 2,
            ..parts()
        };
        let request = service_request(&p, Bytes::new()).unwrap();
        assert_eq!(request.header_value(&Name::CSEQ), Some("2 SERVICE"));
        assert_eq!(
            request.header_value(&Name::FROM),
            Some("<sip:alice@contoso.com>;tag=22b9d81281")
        );
        assert_eq!(request.header_value(&Name::CONTACT), None);
    }

    #[test]
    fn bad_parts_are_refused() {
        let bad = |p: ServiceParts<'_>| service_request(&p, Bytes::new()).map(|_| ());
        assert_eq!(
            bad(ServiceParts {
                aor: "alice",
                ..parts()
            }),
            Err(ServiceError::BadAor("alice".into()))
        );
        assert_eq!(
            bad(ServiceParts {
                aor: "sip:a@b>\r\nms-diagnostics: 1",
                ..parts()
            }),
            Err(ServiceError::BadAor("sip:a@b>\r\nms-diagnostics: 1".into()))
        );
        for call_id in ["", "a b", "a@", "@b", "a@b@c", "x\r\ny"] {
            assert_eq!(
                bad(ServiceParts { call_id, ..parts() }),
                Err(ServiceError::BadCallId(call_id.into()))
            );
        }
        assert!(bad(ServiceParts {
            call_id: "abc@host.example",
            ..parts()
        })
        .is_ok());
        assert_eq!(
            bad(ServiceParts {
                from_tag: "a;b",
                ..parts()
            }),
            Err(ServiceError::BadToken("a;b".into()))
        );
        assert_eq!(
            bad(ServiceParts {
                epid: Some(""),
                ..parts()
            }),
            Err(ServiceError::BadToken("".into()))
        );
        assert_eq!(
            bad(ServiceParts {
                contact: Some("x y"),
                ..parts()
            }),
            Err(ServiceError::BadContact("x y".into()))
        );
        assert_eq!(
            bad(ServiceParts {
                user_agent: Some("a\nb"),
                ..parts()
            }),
            Err(ServiceError::BadUserAgent)
        );
    }

    #[test]
    fn ids_have_the_shape_lync_uses() {
        assert_eq!(
            call_id_from(0x110a_4476_7649_4d15_8ed6_6cee_1de7_3f61),
            "110a447676494d158ed66cee1de73f61"
        );
        assert_eq!(call_id_from(1).len(), 32);
        assert_eq!(tag_from(0xffff_ff22_b9d8_1281), "22b9d81281");
        assert_eq!(tag_from(0), "0000000000");
    }
}
