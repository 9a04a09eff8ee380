//! Building the requests the user agent originates (RFC 3261 §8.1.1): the
//! Request-URI, From, To, Call-ID, CSeq, Contact, Route, the body. The
//! driver adds `Via`; every request leaves through
//! [`finalize_request`](crate::report::finalize_request).

use std::str::FromStr;

use bytes::Bytes;
use ezk_sip_types::msg::{MessageLine, RequestLine};
use ezk_sip_types::uri::SipUri;
use ezk_sip_types::{Headers, Method, Name};

use super::failure::LocalFailure;
use crate::sip::SipMessage;
pub(crate) use crate::ua::ids::{new_call_id, new_tag};

/// A request to build. Header values are complete (`<uri>;tag=…`).
#[derive(Debug, Clone)]
pub(crate) struct RequestSpec<'a> {
    pub(crate) method: Method,
    pub(crate) uri: &'a str,
    pub(crate) from: &'a str,
    pub(crate) to: &'a str,
    pub(crate) call_id: &'a str,
    pub(crate) cseq: u32,
    pub(crate) contact: Option<&'a str>,
    pub(crate) routes: &'a [String],
    pub(crate) user_agent: Option<&'a str>,
    pub(crate) extra: &'a [(Name, String)],
    pub(crate) content_type: Option<&'a str>,
    pub(crate) body: Bytes,
}

impl RequestSpec<'_> {
    /// The request, or why it cannot be one.
    pub(crate) fn build(&self) -> Result<SipMessage, LocalFailure> {
        let uri = parse_uri(self.uri)?;
        let mut headers = Headers::with_capacity(10 + self.routes.len() + self.extra.len());
        headers.insert(Name::MAX_FORWARDS, "70");
        headers.insert(Name::FROM, self.from.to_owned());
        headers.insert(Name::TO, self.to.to_owned());
        headers.insert(Name::CALL_ID, self.call_id.to_owned());
        headers.insert(Name::CSEQ, format!("{} {}", self.cseq, self.method));
        if let Some(contact) = self.contact {
            headers.insert(Name::CONTACT, contact.to_owned());
        }
        for route in self.routes {
            headers.insert(Name::ROUTE, route.clone());
        }
        if let Some(user_agent) = self.user_agent {
            headers.insert(Name::USER_AGENT, user_agent.to_owned());
        }
        for (name, value) in self.extra {
            headers.insert(name.clone(), value.clone());
        }
        if let Some(content_type) = self.content_type {
            headers.insert(Name::CONTENT_TYPE, content_type.to_owned());
        }
        Ok(SipMessage {
            line: MessageLine::Request(RequestLine {
                method: self.method.clone(),
                uri,
            }),
            headers,
            body: self.body.clone(),
        })
    }
}

/// Parses a SIP URI the app gave (a target, the AOR). Anything that could
/// break out of a header value — whitespace, angle brackets, quotes,
/// control characters — is refused before the parser sees it.
pub(crate) fn parse_uri(uri: &str) -> Result<SipUri, LocalFailure> {
    let invalid = || LocalFailure::InvalidUri(uri.to_owned());
    if uri.is_empty()
        || uri
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '"'))
    {
        return Err(invalid());
    }
    SipUri::from_str(uri).map_err(|_| invalid())
}

/// What `$user` shows for a URI: `bob@contoso.com` for
/// `sip:bob@contoso.com;user=phone`.
pub(crate) fn user_of(uri: &str) -> &str {
    let without_scheme = uri
        .strip_prefix("sips:")
        .or_else(|| uri.strip_prefix("sip:"))
        .unwrap_or(uri);
    without_scheme
        .split([';', '?'])
        .next()
        .unwrap_or(without_scheme)
}

/// The user part of a SIP URI (`alice` of `sip:alice@contoso.com`).
pub(crate) fn user_part(uri: &str) -> Option<&str> {
    let user = user_of(uri);
    let (name, _) = user.split_once('@')?;
    (!name.is_empty()).then_some(name)
}

/// `"Name" <uri>`, the display name quoted and escaped (RFC 3261 §25.1
/// quoted-string), or `<uri>` without one.
pub(crate) fn name_addr(display_name: Option<&str>, uri: &str) -> String {
    match display_name {
        Some(name) if !name.is_empty() => {
            let mut out = String::with_capacity(name.len() + uri.len() + 6);
            out.push('"');
            for c in name.chars().filter(|c| !c.is_control()) {
                if c == '"' || c == '\\' {
                    out.push('\\');
                }
                out.push(c);
            }
            out.push_str("\" <");
            out.push_str(uri);
            out.push('>');
            out
        }
        _ => format!("<{uri}>"),
    }
}

/// The URI of a `Contact` / `Record-Route` value: inside `<…>`, or up to
/// the first `;` for the bare form.
pub(crate) fn uri_in(value: &str) -> &str {
    let value = value.trim();
    match (value.find('<'), value.find('>')) {
        (Some(start), Some(end)) if start < end => value.get(start + 1..end).unwrap_or(value),
        _ => value.split(';').next().unwrap_or(value).trim(),
    }
}

/// Splits a header value at commas that are outside quotes and angle
/// brackets (RFC 3261 §7.3.1: several values in one header).
pub(crate) fn split_values(value: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut quoted, mut angled, mut escaped) = (false, false, false);
    let mut start = 0;
    for (i, c) in value.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            '<' if !quoted => angled = true,
            '>' if !quoted => angled = false,
            ',' if !quoted && !angled => {
                out.push(value.get(start..i).unwrap_or("").trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(value.get(start..).unwrap_or("").trim());
    out.retain(|v| !v.is_empty());
    out
}

/// The value of parameter `name` in a header value's parameters (after the
/// URI), e.g. `expires` of `<sip:a@b>;expires=3600`. The URI ends at the
/// first `>` after `<`, and parameters split at `;` outside quotes, so a
/// quoted value such as `+sip.instance="<urn:uuid:…>"` or
/// `gruu="sip:a@b;opaque=…;gruu"` neither ends the URI nor splits.
pub(crate) fn header_param<'a>(value: &'a str, name: &str) -> Option<&'a str> {
    let params = match (value.find('<'), value.find('>')) {
        (Some(start), Some(end)) if start < end => value.get(end + 1..)?,
        _ => value.split_once(';').map(|(_, p)| p)?,
    };
    let mut quoted = false;
    let mut start = 0;
    let mut found = None;
    for (i, c) in params
        .char_indices()
        .chain(std::iter::once((params.len(), ';')))
    {
        match c {
            '"' => quoted = !quoted,
            ';' if !quoted => {
                let param = params.get(start..i).unwrap_or("");
                start = i + 1;
                if let Some((key, val)) = param.split_once('=') {
                    if key.trim().eq_ignore_ascii_case(name) {
                        found = Some(val.trim().trim_matches('"'));
                        break;
                    }
                }
            }
            _ => {}
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_checked_and_shown() {
        assert!(parse_uri("sip:bob@contoso.com").is_ok());
        assert!(parse_uri("sip:bob@contoso.com;gruu;opaque=app:conf:focus:id:X").is_ok());
        for bad in [
            "",
            "bob",
            "sip:bob@contoso.com>",
            "sip:a@b\r\nX: y",
            "sip:a b@c",
        ] {
            assert_eq!(
                parse_uri(bad).err(),
                Some(LocalFailure::InvalidUri(bad.into()))
            );
        }
        assert_eq!(user_of("sip:bob@contoso.com;user=phone"), "bob@contoso.com");
        assert_eq!(user_part("sip:alice@contoso.com"), Some("alice"));
        assert_eq!(user_part("sip:contoso.com"), None);
    }

    #[test]
    fn names_values_and_params() {
        assert_eq!(
            name_addr(Some("A \"B\""), "sip:a@b"),
            "\"A \\\"B\\\"\" <sip:a@b>"
        );
        assert_eq!(name_addr(None, "sip:a@b"), "<sip:a@b>");
        assert_eq!(uri_in("\"x\" <sip:a@b;lr>;tag=1"), "sip:a@b;lr");
        assert_eq!(uri_in("sip:a@b;expires=5"), "sip:a@b");
        assert_eq!(
            split_values("<sip:p1;lr>, \"a,b\" <sip:p2>,<sip:p3>"),
            vec!["<sip:p1;lr>", "\"a,b\" <sip:p2>", "<sip:p3>"]
        );
        assert_eq!(
            header_param("<sip:a@b;x=1>;expires=60", "expires"),
            Some("60")
        );
        assert_eq!(header_param("<sip:a@b;expires=1>", "expires"), None);
        // RFC 5627: a Contact with +sip.instance and a pub-gruu.
        let contact = "<sip:alice@127.0.0.1:5061;transport=tls>;expires=900;\
                       +sip.instance=\"<urn:uuid:4233FD41-093B-5FD6-B5D2-651ED55969E6>\";\
                       gruu=\"sip:alice@contoso.com;opaque=user:epid:Qz;gruu\"";
        assert_eq!(header_param(contact, "expires"), Some("900"));
        assert_eq!(
            header_param(contact, "gruu"),
            Some("sip:alice@contoso.com;opaque=user:epid:Qz;gruu")
        );
        assert_eq!(new_call_id().len(), 32);
        assert_eq!(new_tag().len(), 10);
    }
}
