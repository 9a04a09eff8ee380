//! The SIP trace for support: every message the user agent sends or
//! receives, as a `tracing` event under the target [`TARGET`] (`ocer::wire`)
//! at level TRACE, with credentials masked; and the span of each client
//! transaction (`sip.transaction`, with its method, Call-ID and branch), so a
//! subscriber shows which transaction a message or a log line belongs to.
//!
//! Turn it on with a filter such as `ocer::wire=trace` (the sample softphone's
//! `--trace` does). Each event has the fields `direction` (`sent` /
//! `received`), `flow` and `message`, the message as printed on the wire.
//!
//! Masked: the credentials of `Authorization` and `Proxy-Authorization`
//! (the digest `response`, `cnonce`, NTLM / Kerberos `gssapi-data`, a Basic
//! or bearer token — any parameter not known to be harmless), so a trace can
//! be sent to a support team. What identifies the attempt stays
//! (`username`, `realm`, `nonce`, `uri`, `algorithm`, `qop`, `nc`, `opaque`,
//! `targetname`, `version`).

use std::fmt;

use crate::sip::SipMessage;

/// The `tracing` target of the SIP trace.
pub const TARGET: &str = "ocer::wire";

/// What replaces a masked value.
pub const MASK: &str = "\"***\"";

/// Parameters of an authorization header that carry no secret.
const HARMLESS: &[&str] = &[
    "username",
    "realm",
    "nonce",
    "uri",
    "algorithm",
    "qop",
    "nc",
    "opaque",
    "targetname",
    "version",
    "userhash",
];

/// Whether the SIP trace is on (so the message is printed only then).
fn enabled() -> bool {
    tracing::enabled!(target: "ocer::wire", tracing::Level::TRACE)
}

/// Logs a message sent on `flow` (`bytes` as written).
pub(crate) fn sent(flow: &dyn fmt::Debug, bytes: &[u8]) {
    if enabled() {
        let message = mask_credentials(&String::from_utf8_lossy(bytes));
        tracing::trace!(target: "ocer::wire", direction = "sent", flow = ?flow, %message);
    }
}

/// Logs a message received on `flow`.
pub(crate) fn received(flow: &dyn fmt::Debug, message: &SipMessage) {
    if enabled() {
        let message = mask_credentials(&String::from_utf8_lossy(&message.to_bytes()));
        tracing::trace!(target: "ocer::wire", direction = "received", flow = ?flow, %message);
    }
}

/// The span of one client transaction: method, Call-ID and branch.
pub(crate) fn transaction_span(request: &SipMessage, branch: &str) -> tracing::Span {
    let method = request
        .method()
        .map(ToString::to_string)
        .unwrap_or_default();
    let call_id = request
        .header_value(&ezk_sip_types::Name::CALL_ID)
        .unwrap_or_default();
    tracing::info_span!("sip.transaction", method = %method, call_id = %call_id, branch = %branch)
}

/// `text` (a SIP message) with the credentials of every `Authorization`
/// and `Proxy-Authorization` header masked; the other lines as they were.
pub fn mask_credentials(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_body = false;
    for line in text.split_inclusive('\n') {
        let content = line.trim_end_matches(['\r', '\n']);
        if content.is_empty() {
            in_body = true;
        }
        match (!in_body).then(|| credentials_header(content)).flatten() {
            Some((name, value)) => {
                out.push_str(name);
                out.push_str(": ");
                out.push_str(&mask_value(value));
                out.push_str(&line[content.len()..]);
            }
            None => out.push_str(line),
        }
    }
    out
}

/// `(name, value)` when `line` is an Authorization or Proxy-Authorization
/// header.
fn credentials_header(line: &str) -> Option<(&str, &str)> {
    let (name, value) = line.split_once(':')?;
    let name = name.trim_end();
    (name.eq_ignore_ascii_case("Authorization") || name.eq_ignore_ascii_case("Proxy-Authorization"))
        .then(|| (name, value.trim()))
}

/// `Scheme p1=v1, p2=v2`: the scheme kept, every parameter not in
/// [`HARMLESS`] masked; a token68 credential (Basic, Bearer) masked whole.
fn mask_value(value: &str) -> String {
    let (scheme, params) = value.split_once(char::is_whitespace).unwrap_or((value, ""));
    let params = params.trim();
    if params.is_empty() {
        return scheme.to_owned();
    }
    if !params.contains('=') || !looks_like_params(params) {
        return format!("{scheme} {MASK}");
    }
    let masked: Vec<String> = split_params(params)
        .into_iter()
        .map(|param| match param.split_once('=') {
            Some((name, value)) if HARMLESS.iter().any(|h| h.eq_ignore_ascii_case(name.trim())) => {
                format!("{}={}", name.trim(), value.trim())
            }
            Some((name, _)) => format!("{}={MASK}", name.trim()),
            None => MASK.to_owned(),
        })
        .collect();
    format!("{scheme} {}", masked.join(", "))
}

/// Whether `params` is `name=value` pairs (and not a token68 that ends in
/// `=` padding, like Basic's base64).
fn looks_like_params(params: &str) -> bool {
    params
        .split_once('=')
        .is_some_and(|(name, rest)| !name.trim().is_empty() && !rest.starts_with('='))
        && !params
            .trim_end_matches('=')
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+/-._~".contains(c))
}

/// Splits `a=1, b="x, y"` at the commas outside quotes.
fn split_params(params: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in params.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ',' if !quoted => {
                parts.push(params[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(params[start..].trim());
    parts.retain(|p| !p.is_empty());
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_credentials_are_masked_and_the_rest_kept() {
        let text = "REGISTER sip:contoso.com SIP/2.0\r\n\
            Call-ID: abc\r\n\
            Authorization: Digest username=\"alice\", realm=\"contoso.com\", nonce=\"n1\", uri=\"sip:contoso.com\", response=\"6629fae49393a05397450978507c4ef1\", algorithm=MD5, cnonce=\"c0ffee\", qop=auth, nc=00000001\r\n\
            proxy-authorization: Digest username=\"alice\", response=\"deadbeef\"\r\n\
            Content-Length: 0\r\n\r\n";
        let masked = mask_credentials(text);
        assert!(!masked.contains("6629fae4"), "{masked}");
        assert!(!masked.contains("c0ffee"), "{masked}");
        assert!(!masked.contains("deadbeef"), "{masked}");
        assert!(masked.contains("Authorization: Digest username=\"alice\", realm=\"contoso.com\", nonce=\"n1\", uri=\"sip:contoso.com\", response=\"***\", algorithm=MD5, cnonce=\"***\", qop=auth, nc=00000001\r\n"), "{masked}");
        assert!(
            masked.contains("proxy-authorization: Digest username=\"alice\", response=\"***\"\r\n"),
            "{masked}"
        );
        assert!(
            masked.starts_with("REGISTER sip:contoso.com SIP/2.0\r\nCall-ID: abc\r\n"),
            "{masked}"
        );
        assert!(masked.ends_with("Content-Length: 0\r\n\r\n"), "{masked}");
    }

    #[test]
    fn tokens_and_ntlm_blobs_are_masked_whole() {
        let basic = mask_credentials("Authorization: Basic YWxpY2U6c2VjcmV0\r\n");
        assert_eq!(basic, "Authorization: Basic \"***\"\r\n");
        let padded = mask_credentials("Authorization: Basic YWxpY2U6c2VjcmV0MQ==\r\n");
        assert_eq!(padded, "Authorization: Basic \"***\"\r\n");
        let ntlm = mask_credentials(
            "Proxy-Authorization: NTLM qop=\"auth\", realm=\"SIP Communications Service\", targetname=\"pool\", gssapi-data=\"TlRMTVNTUAABAAAAt4II4gAAAAAAAAAAAAAAAAAAAAAGAbEdAAAADw==\", version=4\r\n",
        );
        assert!(!ntlm.contains("TlRMTVNTUA"), "{ntlm}");
        assert!(ntlm.contains("gssapi-data=\"***\""), "{ntlm}");
        assert!(ntlm.contains("targetname=\"pool\""), "{ntlm}");
    }

    #[test]
    fn a_body_line_that_looks_like_a_header_is_left_alone() {
        let text = "MESSAGE sip:bob@contoso.com SIP/2.0\r\nContent-Length: 27\r\n\r\nAuthorization: not a header";
        assert_eq!(mask_credentials(text), text);
    }
}
