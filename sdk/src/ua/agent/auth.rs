//! How the user agent answers challenges and signs: digest (RFC 7616 /
//! 8760, `ezk-sip-auth`) or MS-SIPAE NTLM (`crate::auth`), NTLM preferred
//! when the server offers both (Lync Server 2010 and later refuse digest).
//!
//! The MS-SIPAE security association belongs to the user agent (one per
//! server), set up by whichever request is challenged first (REGISTER, in
//! practice) and then used to sign every request and check every response.

use std::sync::{Arc, Mutex};

use ezk_sip_auth::{
    ClientAuthenticator, DigestAuthenticator, DigestCredentials, RequestParts, ResponseParts,
};
use ezk_sip_types::msg::MessageLine;

use super::lock;
use crate::auth::ntlm::{ClientSecrets, NtlmCredentials};
use crate::auth::sipae::{self, NtlmProvider, SecurityAssociation, SipaeError};
use crate::sip::SipMessage;

/// Which authentication the user agent uses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthMode {
    /// Whatever the server offers, NTLM (MS-SIPAE) preferred over digest.
    #[default]
    Auto,
    /// MS-SIPAE NTLM only.
    Ntlm,
    /// Digest only.
    Digest,
}

/// The user agent's MS-SIPAE security association, shared by every request.
#[derive(Debug, Clone, Default)]
pub(crate) struct SaSlot(Arc<Mutex<Option<SecurityAssociation>>>);

impl SaSlot {
    /// Forgets the SA (a new login authenticates anew).
    pub(crate) fn clear(&self) {
        *lock(&self.0) = None;
    }

    /// Checks `response` against the SA: once it is established every
    /// response but `100 Trying` and a challenge (401/407: the server cannot
    /// sign for an SA it refuses) must be signed.
    pub(crate) fn verify(&self, response: &SipMessage) -> Result<(), SipaeError> {
        if matches!(response.status().map(|s| s.0), Some(401 | 407)) {
            return Ok(());
        }
        match lock(&self.0).as_mut() {
            Some(sa) => sa.verify_response(response),
            None => Ok(()),
        }
    }
}

/// How a challenge was answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Answered {
    /// With digest credentials.
    Digest,
    /// A new MS-SIPAE SA was started (its first token goes next).
    SaStarted,
    /// The server's token was taken in (the next request carries ours).
    SaContinued,
}

/// The authentication state of one request (and its retries).
pub(crate) struct Auth {
    digest_credentials: Option<DigestCredentials>,
    digest: Option<DigestAuthenticator>,
    login: Option<(String, String)>,
    mode: AuthMode,
    sa: SaSlot,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    if let Err(error) = getrandom::fill(&mut out) {
        // Without OS randomness NTLM must not run on predictable values;
        // the all-zero key then makes the server refuse the sign-in.
        tracing::error!(%error, "no OS randomness for NTLM");
    }
    out
}

/// A `+sip.instance` UUID (RFC 4122 version 4, from OS randomness), in the
/// upper-case form Lync writes.
pub(crate) fn new_instance_id() -> String {
    let mut b: [u8; 16] = random_bytes();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02X}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// Now as a Windows FILETIME (100 ns ticks since 1601-01-01).
fn filetime_now() -> u64 {
    const UNIX_TO_1601: u64 = 11_644_473_600;
    let since_unix = crate::ua::clock::wall()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    (since_unix.as_secs() + UNIX_TO_1601) * 10_000_000 + u64::from(since_unix.subsec_nanos() / 100)
}

impl Auth {
    pub(crate) fn new(
        digest_credentials: Option<DigestCredentials>,
        login: Option<(String, String)>,
        mode: AuthMode,
        sa: SaSlot,
    ) -> Self {
        Self {
            digest_credentials,
            digest: None,
            login,
            mode,
            sa,
        }
    }

    /// The SA this request is checked against.
    pub(crate) fn sa(&self) -> &SaSlot {
        &self.sa
    }

    /// Adds credentials to `request`: the SA's token or signature when there
    /// is an SA, else the cached digest answer.
    pub(crate) fn authorize(&mut self, request: &mut SipMessage) {
        let mut guard = lock(&self.sa.0);
        if let Some(sa) = guard.as_mut() {
            let crand = u32::from_le_bytes(random_bytes::<4>());
            match sa.authorize(request, crand) {
                Ok((name, value)) => {
                    request.headers.remove(&name);
                    request.headers.insert(name, value);
                }
                Err(error) => tracing::warn!(%error, "request not signed"),
            }
            return;
        }
        drop(guard);
        if let Some(digest) = self.digest.as_mut() {
            digest.authorize_request(&mut request.headers);
        }
    }

    /// Takes in the challenge `response` to `request`; `Some` if the request
    /// can be sent again with credentials.
    pub(crate) fn answer_challenge(
        &mut self,
        request: &SipMessage,
        response: &SipMessage,
    ) -> Option<Answered> {
        if let Some(unsupported) = super::schemes::unsupported(response) {
            // Sending the request again without credentials would only be
            // challenged again: fail now, saying what the server wanted.
            tracing::warn!(
                offered = %unsupported.offered.join(", "),
                supported = %super::schemes::SUPPORTED_SCHEMES.join(", "),
                "the server asks for authentication schemes this client does not support; not retrying"
            );
            return None;
        }
        if self.mode != AuthMode::Digest {
            if let Some(answered) = self.answer_sipae(response) {
                return Some(answered);
            }
        }
        if self.mode != AuthMode::Ntlm {
            return self.answer_digest(request, response);
        }
        tracing::warn!("challenged without an NTLM offer, and only NTLM is allowed");
        None
    }

    fn answer_sipae(&mut self, response: &SipMessage) -> Option<Answered> {
        let offers = sipae::challenges(response);
        let (challenger, offer) = offers.iter().find(|(_, o)| o.is("NTLM"))?;
        let mut guard = lock(&self.sa.0);
        if let Some(sa) = guard.as_mut() {
            if sa.continues(offer) {
                return match sa.on_challenge(offer) {
                    Ok(()) => Some(Answered::SaContinued),
                    Err(error) => {
                        tracing::warn!(%error, "NTLM challenge not answered");
                        *guard = None;
                        None
                    }
                };
            }
        }
        let Some((user, password)) = &self.login else {
            tracing::debug!("NTLM offered, and no credentials to answer with");
            return None;
        };
        let provider = NtlmProvider::new(
            NtlmCredentials::from_login(user, password),
            ClientSecrets {
                client_challenge: random_bytes(),
                random_session_key: random_bytes(),
                filetime: filetime_now(),
            },
            "",
        );
        match SecurityAssociation::start(Box::new(provider), *challenger, offer) {
            Ok(sa) => {
                *guard = Some(sa);
                Some(Answered::SaStarted)
            }
            Err(error) => {
                tracing::warn!(%error, "NTLM offer not taken");
                *guard = None;
                None
            }
        }
    }

    fn answer_digest(&mut self, request: &SipMessage, response: &SipMessage) -> Option<Answered> {
        if self.digest.is_none() {
            self.digest = self
                .digest_credentials
                .clone()
                .map(DigestAuthenticator::new);
        }
        let Some(auth) = self.digest.as_mut() else {
            tracing::debug!("challenged, and no credentials to answer with");
            return None;
        };
        let (MessageLine::Request(request_line), MessageLine::Response(status_line)) =
            (&request.line, &response.line)
        else {
            return None;
        };
        let result = auth.handle_rejection(
            RequestParts {
                line: request_line,
                headers: &request.headers,
                body: &request.body,
            },
            ResponseParts {
                line: status_line,
                headers: &response.headers,
                body: &response.body,
            },
        );
        match result {
            Ok(()) => Some(Answered::Digest),
            Err(error) => {
                tracing::warn!(%error, "digest challenge not answered");
                None
            }
        }
    }
}
