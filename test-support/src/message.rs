//! The messages the tests send and what they read from the ones they get:
//! requests as an app builds them, the one response builder, a message's top
//! branch, headers and start line, and the diagnostics-header check.

use ezk_sip_types::Name;
use ocer::sip::{FramingLimits, SipMessage};

/// A request as the app would build it (no Via: the driver adds it).
pub fn request(method: &str, call: usize) -> SipMessage {
    let text = format!(
        "{method} sip:bob@contoso.com;user=phone SIP/2.0\r\n\
         From: <sip:alice@contoso.com>;tag=d1efe7a825\r\n\
         To: <sip:bob@contoso.com;user=phone>\r\n\
         Call-ID: call-{call}@ocer.test\r\n\
         CSeq: 1 {method}\r\n\
         Content-Length: 0\r\n\r\n"
    );
    SipMessage::parse(text.as_bytes(), &FramingLimits::default()).unwrap()
}

/// The To tag a response adds when the request's To has none.
pub const TO_TAG: &str = "srv1";

/// A response to `request`: its Via, From, Call-ID and CSeq; To with the tag
/// [`TO_TAG`] if it has none (a 100 excepted: it makes no dialog, RFC 3261
/// §8.2.6.2); `extra` header lines (each ending CRLF); `body`.
pub fn response(request: &SipMessage, status: &str, extra: &str, body: &str) -> Vec<u8> {
    let mut text = format!("SIP/2.0 {status}\r\n");
    for via in request.header_values(&Name::VIA) {
        text.push_str(&format!("Via: {via}\r\n"));
    }
    let header = |name: &Name| request.header_value(name).unwrap_or_default().to_owned();
    let to = header(&Name::TO);
    let to = if to.contains(";tag=") || status.starts_with("100") {
        to
    } else {
        format!("{to};tag={TO_TAG}")
    };
    text.push_str(&format!(
        "From: {}\r\nTo: {to}\r\nCall-ID: {}\r\nCSeq: {}\r\n{extra}Content-Length: {}\r\n\r\n{body}",
        header(&Name::FROM),
        header(&Name::CALL_ID),
        header(&Name::CSEQ),
        body.len(),
    ));
    text.into_bytes()
}

/// `ms-diagnostics` of the 101 of MS-OCER 4.1.
pub const D12006: &str =
    "ms-diagnostics: 12006;reason=\"Trying next hop\";appName=\"OutboundRouting\"\r\n";

/// `ms-diagnostics` of the 504 of MS-OCER 4.1.
pub const D1007: &str =
    "ms-diagnostics: 1007;reason=\"Temporarily cannot route\";source=\"server.contoso.com\"\r\n";

/// The 101 and 504 of MS-OCER 4.1, for `request`, back to back in one buffer.
pub fn progress_and_final(request: &SipMessage, final_status: &str) -> Vec<u8> {
    let mut bytes = response(request, "101 Progress Report", D12006, "");
    bytes.extend(response(request, final_status, D1007, ""));
    bytes
}

/// A WWW-Authenticate challenge.
pub const CHALLENGE: &str =
    "WWW-Authenticate: Digest realm=\"contoso.com\", nonce=\"4f1b2c3d\", algorithm=MD5, qop=\"auth\"\r\n";

/// The top Via's branch.
pub fn branch(message: &SipMessage) -> Option<String> {
    let via = message.header_value(&Name::VIA)?;
    via.split(';')
        .find_map(|p| p.trim().strip_prefix("branch="))
        .map(|b| b.split(',').next().unwrap_or(b).to_owned())
}

/// The value of header `name` of `message`.
pub fn header<'a>(message: &'a SipMessage, name: &str) -> Option<&'a str> {
    message.header_value(&Name::from(name))
}

/// The start line of `message`.
pub fn start_line(message: &SipMessage) -> String {
    message
        .to_string()
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// Fails if `message` (sent by the SDK) carries `ms-diagnostics` or
/// `ms-diagnostics-public`: a client never sends them (MS-OCER §3.1, §5.1).
pub fn assert_no_diagnostics(message: &SipMessage) {
    for (name, _) in message.headers.iter() {
        assert!(
            !name
                .as_print_str()
                .to_ascii_lowercase()
                .starts_with("ms-diagnostics"),
            "the SDK sent a diagnostics header:\n{message}"
        );
    }
}
