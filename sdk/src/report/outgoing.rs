//! The one place an outgoing message becomes bytes.
//!
//! Every request the SDK sends — REGISTER, INVITE, MESSAGE, SERVICE, ACK, BYE,
//! CANCEL — goes through [`finalize_request`] after the transport has added its
//! `Via`, and every response it sends — the app's
//! (`IncomingRequest::respond`) and the driver's own answers (200 to a BYE, 481,
//! 405 …) — through [`finalize_response`]; the UA's transports write nothing
//! else. That makes it the place to enforce the rules that hold for all of
//! them (the mandatory headers are the requests' only):
//!
//! - a client never sends `ms-diagnostics` or `ms-diagnostics-public` as a
//!   header: MS-OCER §3.1 has the *server* add them, §5.1 makes their content the
//!   enterprise's private business, and what a client has to say goes into a
//!   reportError document instead ([`super::client_errors`]);
//! - the headers RFC 3261 §8.1.1 makes mandatory are present;
//! - no header name or value can smuggle in a line break, so no value taken from
//!   a peer or an app can add a header (such as a diagnostics header) or end the
//!   header section early;
//! - `Content-Length` matches the body (the printer writes it from the body).

use crate::diag::{MS_DIAGNOSTICS, MS_DIAGNOSTICS_PUBLIC};
use crate::sip::SipMessage;

/// Headers RFC 3261 §8.1.1 requires in every request.
pub const MANDATORY_REQUEST_HEADERS: [&str; 6] =
    ["Via", "From", "To", "Call-ID", "CSeq", "Max-Forwards"];

/// Why a request may not be sent. All of these are the SDK's (or the app's) own
/// fault, never a peer's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OutgoingError {
    /// The message is a response.
    #[error("a response cannot be finalized as a request")]
    NotARequest,
    /// The message is a request.
    #[error("a request cannot be finalized as a response")]
    NotAResponse,
    /// A diagnostics header: clients never send them (MS-OCER §3.1, §5.1),
    /// in a request or a response.
    #[error("a message the client sends must not carry {0}")]
    DiagnosticsHeader(&'static str),
    /// A mandatory header is missing.
    #[error("the request has no {0} header")]
    MissingHeader(&'static str),
    /// A header name that is not an RFC 3261 token.
    #[error("header name {0:?} is not a token")]
    BadHeaderName(String),
    /// A header value with a line break or another control character.
    #[error("the value of {0} contains a line break or control character")]
    BadHeaderValue(String),
}

/// Checks `request` against the rules above and prints it, `Content-Length`
/// written from the body.
pub fn finalize_request(request: &SipMessage) -> Result<Vec<u8>, OutgoingError> {
    if !request.is_request() {
        return Err(OutgoingError::NotARequest);
    }
    check_headers(request)?;
    for mandatory in MANDATORY_REQUEST_HEADERS {
        if !request
            .headers
            .iter()
            .any(|(name, _)| name.as_print_str().eq_ignore_ascii_case(mandatory))
        {
            return Err(OutgoingError::MissingHeader(mandatory));
        }
    }
    Ok(request.to_bytes())
}

/// What [`finalize_request`] checks, for a request whose `Via` and
/// `Max-Forwards` the transport is still to set (so neither is looked at),
/// without printing it: the driver checks each request once when it is
/// handed over, and prints it once, at the exit.
pub fn check_request(request: &SipMessage) -> Result<(), OutgoingError> {
    if !request.is_request() {
        return Err(OutgoingError::NotARequest);
    }
    for (name, value) in request.headers.iter() {
        if *name == ezk_sip_types::Name::VIA {
            continue;
        }
        check_header(name.as_print_str(), value)?;
    }
    for mandatory in MANDATORY_REQUEST_HEADERS {
        if mandatory == "Via" || mandatory == "Max-Forwards" {
            continue;
        }
        if !request
            .headers
            .iter()
            .any(|(name, _)| name.as_print_str().eq_ignore_ascii_case(mandatory))
        {
            return Err(OutgoingError::MissingHeader(mandatory));
        }
    }
    Ok(())
}

/// Checks `response` — one the app or the driver answers a server's request
/// with — against the same rules as a request (no diagnostics header in any
/// spelling, no line break or control character in a name or value; MS-OCER
/// §3.1 has only the *server* add diagnostics) and prints it.
pub fn finalize_response(response: &SipMessage) -> Result<Vec<u8>, OutgoingError> {
    if response.is_request() {
        return Err(OutgoingError::NotAResponse);
    }
    check_headers(response)?;
    Ok(response.to_bytes())
}

/// The header rules both kinds share.
fn check_headers(message: &SipMessage) -> Result<(), OutgoingError> {
    for (name, value) in message.headers.iter() {
        check_header(name.as_print_str(), value)?;
    }
    Ok(())
}

/// One header against the rules.
fn check_header(name: &str, value: &str) -> Result<(), OutgoingError> {
    for forbidden in [MS_DIAGNOSTICS, MS_DIAGNOSTICS_PUBLIC] {
        if name.eq_ignore_ascii_case(forbidden) {
            return Err(OutgoingError::DiagnosticsHeader(forbidden));
        }
    }
    if name.is_empty() || !name.bytes().all(is_token_byte) {
        return Err(OutgoingError::BadHeaderName(name.to_owned()));
    }
    if value.chars().any(|c| c.is_control() && c != '\t') {
        return Err(OutgoingError::BadHeaderValue(name.to_owned()));
    }
    Ok(())
}

/// RFC 3261 `token` characters.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'-' | b'.' | b'!' | b'%' | b'*' | b'_' | b'+' | b'`' | b'\'' | b'~'
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::FramingLimits;
    use ezk_sip_types::Name;

    fn request(extra: &str) -> SipMessage {
        let text = format!(
            "MESSAGE sip:bob@contoso.com SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bK1\r\n\
             Max-Forwards: 70\r\nFrom: <sip:alice@contoso.com>;tag=a\r\nTo: <sip:bob@contoso.com>\r\n\
             Call-ID: c1\r\nCSeq: 1 MESSAGE\r\n{extra}Content-Type: text/plain\r\nContent-Length: 0\r\n\r\n"
        );
        let mut message = SipMessage::parse(text.as_bytes(), &FramingLimits::default()).unwrap();
        message.body = bytes::Bytes::from_static(b"hi");
        message
    }

    #[test]
    fn a_clean_request_is_printed_with_its_real_content_length() {
        let bytes = finalize_request(&request("")).unwrap();
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.starts_with("MESSAGE sip:bob@contoso.com SIP/2.0\r\n"));
        assert!(text.ends_with("Content-Length: 2\r\n\r\nhi"));
        assert_eq!(text.matches("Content-Length").count(), 1);
    }

    #[test]
    fn diagnostics_headers_are_refused_in_any_spelling() {
        for header in [
            "ms-diagnostics: 1;reason=\"x\"\r\n",
            "MS-Diagnostics: 1\r\n",
            "ms-diagnostics-public: 1\r\n",
            "Ms-Diagnostics-Public: 1\r\n",
        ] {
            let expected = if header.to_ascii_lowercase().contains("public") {
                MS_DIAGNOSTICS_PUBLIC
            } else {
                MS_DIAGNOSTICS
            };
            assert_eq!(
                finalize_request(&request(header)),
                Err(OutgoingError::DiagnosticsHeader(expected)),
                "{header}"
            );
        }
        // Added by code, not parsed.
        let mut m = request("");
        m.headers
            .insert(Name::from("ms-diagnostics"), "52169;reason=\"x\"");
        assert_eq!(
            finalize_request(&m),
            Err(OutgoingError::DiagnosticsHeader(MS_DIAGNOSTICS))
        );
    }

    #[test]
    fn injection_through_names_and_values_is_refused() {
        let mut m = request("");
        m.headers
            .insert(Name::from("Subject"), "hi\r\nms-diagnostics: 1");
        assert_eq!(
            finalize_request(&m),
            Err(OutgoingError::BadHeaderValue("Subject".into()))
        );
        let mut m = request("");
        m.headers.insert(Name::from("X-A\r\nms-diagnostics"), "1");
        assert!(matches!(
            finalize_request(&m),
            Err(OutgoingError::BadHeaderName(_))
        ));
        let mut m = request("");
        m.headers
            .insert(Name::from("Subject"), "tab\tis fine, é too");
        assert!(finalize_request(&m).is_ok());
    }

    #[test]
    fn mandatory_headers_and_kind_are_checked() {
        for name in MANDATORY_REQUEST_HEADERS {
            let mut m = request("");
            m.headers.remove(&Name::from(name));
            assert_eq!(
                finalize_request(&m),
                Err(OutgoingError::MissingHeader(name)),
                "{name}"
            );
        }
        let response = SipMessage::parse(
            b"SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n",
            &FramingLimits::default(),
        )
        .unwrap();
        assert_eq!(finalize_request(&response), Err(OutgoingError::NotARequest));
    }

    #[test]
    fn spec_3_1_responses_never_carry_diagnostics_headers() {
        let parse =
            |text: &str| SipMessage::parse(text.as_bytes(), &FramingLimits::default()).unwrap();
        let clean = parse(
            "SIP/2.0 200 OK\r\nVia: SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bK1\r\nCall-ID: c\r\nCSeq: 7 BYE\r\nContent-Length: 0\r\n\r\n",
        );
        let bytes = finalize_response(&clean).unwrap();
        assert!(bytes.starts_with(b"SIP/2.0 200 OK\r\n"));
        for name in ["ms-diagnostics", "MS-Diagnostics-Public", "ms-DIAGNOSTICS"] {
            let mut m = clean.clone();
            m.headers.insert(Name::from(name), "1;reason=\"x\"");
            assert!(
                matches!(
                    finalize_response(&m),
                    Err(OutgoingError::DiagnosticsHeader(_))
                ),
                "{name}"
            );
        }
        let mut m = clean.clone();
        m.headers
            .insert(Name::from("Reason"), "x\r\nms-diagnostics: 1");
        assert_eq!(
            finalize_response(&m),
            Err(OutgoingError::BadHeaderValue("Reason".into()))
        );
        assert_eq!(
            finalize_response(&request("")),
            Err(OutgoingError::NotAResponse)
        );
    }
}
