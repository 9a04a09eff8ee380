//! Which authentication schemes a 401 / 407 offers, and whether the user
//! agent can answer any of them.
//!
//! A challenge with none of [`SUPPORTED_SCHEMES`] (a pool offering only
//! Kerberos or TLS-DSK) is not answered: sending the same request again
//! without credentials only earns the same 401. The operation fails with
//! [`FailureKind::UnsupportedAuthentication`] naming what the server offered.
//! Supporting a scheme is adding it to [`SUPPORTED_SCHEMES`] and answering it
//! in [`Auth::answer_challenge`](super::auth::Auth::answer_challenge).

use ezk_sip_types::header::typed::AuthChallenge;
use ezk_sip_types::Name;

use super::failure::FailureKind;
use crate::sip::{SipMessage, StatusCode};

/// The schemes the user agent answers, compared case-insensitively
/// (RFC 3261 §25.1: `auth-scheme` is a token; RFC 7235 §2.1: case-insensitive).
pub(crate) const SUPPORTED_SCHEMES: &[&str] = &["NTLM", "Digest"];

/// A challenge the user agent cannot answer: none of the schemes the server
/// offered is one it implements.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{} {}: the server offers only {} authentication, which this client does not support (it supports {})",
    status.0,
    if status.0 == 407 { "Proxy Authentication Required" } else { "Unauthorized" },
    offered.join(", "),
    SUPPORTED_SCHEMES.join(", ")
)]
#[non_exhaustive]
pub struct UnsupportedAuthentication {
    /// 401 or 407.
    pub status: StatusCode,
    /// The schemes offered, as the server spelled them, in the order of its
    /// `WWW-Authenticate` / `Proxy-Authenticate` headers, each once.
    pub offered: Vec<String>,
}

/// The auth schemes of `response`'s challenges (`WWW-Authenticate` on a
/// 401, `Proxy-Authenticate` on a 407; a header may hold several), each once,
/// as spelled first.
pub(crate) fn offered_schemes(response: &SipMessage) -> Vec<String> {
    let mut offered: Vec<String> = Vec::new();
    let mut add = |scheme: &str| {
        if !scheme.is_empty() && !offered.iter().any(|s| s.eq_ignore_ascii_case(scheme)) {
            offered.push(scheme.to_owned());
        }
    };
    for name in [Name::WWW_AUTHENTICATE, Name::PROXY_AUTHENTICATE] {
        match response.headers.try_get::<Vec<AuthChallenge>>(name.clone()) {
            Some(Ok(challenges)) => {
                for challenge in &challenges {
                    match challenge {
                        AuthChallenge::Digest(_) => add("Digest"),
                        AuthChallenge::Other(auth) => add(&auth.scheme),
                    }
                }
            }
            // A value the typed parser refuses still names its scheme first.
            Some(Err(_)) => {
                for value in response.header_values(&name) {
                    add(value
                        .split_whitespace()
                        .next()
                        .unwrap_or_default()
                        .trim_end_matches(','));
                }
            }
            None => {}
        }
    }
    offered
}

/// `Some` when `response` is a 401 / 407 whose challenges name schemes and
/// none of them is one the user agent answers.
pub(crate) fn unsupported(response: &SipMessage) -> Option<UnsupportedAuthentication> {
    let status = response.status().filter(|s| matches!(s.0, 401 | 407))?;
    let offered = offered_schemes(response);
    let answerable = offered
        .iter()
        .any(|s| SUPPORTED_SCHEMES.iter().any(|x| x.eq_ignore_ascii_case(s)));
    if offered.is_empty() || answerable {
        return None;
    }
    Some(UnsupportedAuthentication { status, offered })
}

/// The failure kind of a final response: [`FailureKind::UnsupportedAuthentication`]
/// for a challenge nobody here can answer, else `Rejected`.
pub(crate) fn rejected(response: &SipMessage, status: StatusCode) -> FailureKind {
    match unsupported(response) {
        Some(unsupported) => FailureKind::UnsupportedAuthentication(unsupported),
        None => FailureKind::Rejected(status),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::sip::FramingLimits;

    fn response(headers: &str) -> SipMessage {
        let text = format!(
            "SIP/2.0 401 Unauthorized\r\nVia: SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bK1\r\n\
             From: <sip:alice@contoso.com>;tag=a\r\nTo: <sip:alice@contoso.com>;tag=b\r\n\
             Call-ID: c1\r\nCSeq: 1 REGISTER\r\n{headers}Content-Length: 0\r\n\r\n"
        );
        SipMessage::parse(text.as_bytes(), &FramingLimits::default()).unwrap()
    }

    #[test]
    fn kerberos_and_tls_dsk_only_is_unsupported_and_named() {
        let r = response(
            "WWW-Authenticate: Kerberos realm=\"SIP Communications Service\", targetname=\"sip/pool.contoso.com\", version=4\r\n\
             WWW-Authenticate: TLS-DSK realm=\"SIP Communications Service\", targetname=\"pool.contoso.com\", version=4, sts-uri=\"https://pool.contoso.com/CertProv/CertProvisioningService.svc\"\r\n\
             WWW-Authenticate: kerberos realm=\"again\"\r\n",
        );
        let unsupported = unsupported(&r).expect("nothing to answer with");
        assert_eq!(unsupported.offered, ["Kerberos", "TLS-DSK"]);
        assert_eq!(unsupported.status, StatusCode(401));
        let text = unsupported.to_string();
        assert!(
            text.starts_with("401 Unauthorized: the server offers only Kerberos, TLS-DSK"),
            "{text}"
        );
        assert!(text.ends_with("(it supports NTLM, Digest)"), "{text}");
        assert!(matches!(
            rejected(&r, StatusCode(401)),
            FailureKind::UnsupportedAuthentication(_)
        ));
    }

    #[test]
    fn an_ntlm_challenge_among_others_is_answerable() {
        let r = response(
            "WWW-Authenticate: Kerberos realm=\"x\"\r\nWWW-Authenticate: NTLM realm=\"SIP Communications Service\", targetname=\"pool.contoso.com\", version=4\r\n",
        );
        assert_eq!(unsupported(&r), None);
    }

    #[test]
    fn a_digest_challenge_among_others_is_answerable() {
        let r = response(
            "WWW-Authenticate: Kerberos realm=\"x\"\r\nWWW-Authenticate: digest realm=\"contoso.com\", nonce=\"n\"\r\n",
        );
        assert_eq!(unsupported(&r), None);
        assert_eq!(
            rejected(&r, StatusCode(401)),
            FailureKind::Rejected(StatusCode(401))
        );
    }

    #[test]
    fn a_challenge_without_schemes_is_left_to_the_digest_path() {
        assert_eq!(unsupported(&response("")), None);
    }
}
