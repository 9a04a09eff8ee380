//! One request and its responses: the transaction runs in the driver, every
//! response goes through a [`Collector`] in arrival order, and a challenge
//! (401 / 407) is answered with the credentials ([`Auth`]: digest, or the
//! MS-SIPAE NTLM handshake); once an MS-SIPAE security association is up,
//! responses it does not sign are refused before anything sees them.

use super::auth::{Answered, Auth, SaSlot};
use super::failure::{FailureKind, LocalFailure};
use crate::diag::{Collector, CollectorLimits, TransactionRecord};
use crate::sip::{
    RequestIdentity, SipMessage, StatusCode, TransactionEvent, TransportFailure,
    TransportFailureKind,
};
use crate::ua::driver::{Driver, DriverError, ResponseStream};

pub(crate) use crate::ua::clock::now;

/// A finished transaction: the request as sent (without the driver's Via),
/// what it received and how it ended (in the collector's record), and the
/// final response as a message (a challenge to answer, a dialog to build).
#[derive(Debug)]
pub(crate) struct Exchanged {
    pub(crate) request: SipMessage,
    pub(crate) collector: Collector,
    pub(crate) response: Option<SipMessage>,
}

impl Exchanged {
    /// The record of everything received, and how it ended.
    pub(crate) fn record(&self) -> TransactionRecord {
        self.collector.record().clone()
    }

    /// How a failure is described; `None` for a 2xx.
    /// A 401 / 407 offering only schemes this client lacks is
    /// [`FailureKind::UnsupportedAuthentication`], not a plain rejection.
    pub(crate) fn failure_kind(&self) -> Option<FailureKind> {
        match FailureKind::of(&self.collector.record().ending) {
            Some(FailureKind::Rejected(status)) => Some(match &self.response {
                Some(response) => super::schemes::rejected(response, status),
                None => FailureKind::Rejected(status),
            }),
            other => other,
        }
    }

    /// The final status, if a final response came.
    pub(crate) fn status(&self) -> Option<StatusCode> {
        self.collector.record().final_status()
    }
}

/// Starts a collector for `request`.
pub(crate) fn collector_for(request: &SipMessage) -> Result<Collector, LocalFailure> {
    let identity =
        RequestIdentity::from_request(request).map_err(|e| LocalFailure::Refused(e.to_string()))?;
    Ok(Collector::new(identity, now(), CollectorLimits::default()))
}

/// Maps a driver refusal to a local failure.
pub(crate) fn refused(error: DriverError) -> LocalFailure {
    match error {
        DriverError::Stopped => LocalFailure::ShutDown,
        other => LocalFailure::Refused(other.to_string()),
    }
}

/// The next response of `stream`, or `None` when the transaction ended
/// without one more: a timeout or a transport failure is recorded in
/// `collector` (the record's [`Ending`](crate::diag::Ending)).
pub(crate) async fn next_response(
    stream: &mut ResponseStream,
    collector: &mut Collector,
) -> Option<SipMessage> {
    match stream.recv().await {
        Some(TransactionEvent::Response(response)) => Some(response),
        Some(TransactionEvent::Timeout) => {
            collector.observe_timeout();
            None
        }
        Some(TransactionEvent::TransportError(failure)) => {
            collector.observe_transport_failure(failure);
            None
        }
        Some(TransactionEvent::Terminated) | None => {
            collector.observe_transport_failure(TransportFailure::new(
                TransportFailureKind::Other,
                "the transaction ended without a final response",
            ));
            None
        }
    }
}

/// Whether `response` may be acted on: after the MS-SIPAE security
/// association, one that is unsigned, badly signed or replayed is refused
/// (logged and dropped, as a forged message would be). The driver calls it
/// for every response before the transaction layer sees it
/// ([`ResponseFilter`](crate::ua::driver::ResponseFilter)), so a forged 2xx
/// cannot end an INVITE transaction.
pub(crate) fn accepted(sa: &SaSlot, response: &SipMessage) -> bool {
    match sa.verify(response) {
        Ok(()) => true,
        Err(error) => {
            tracing::warn!(%error, status = ?response.status(), "response refused");
            false
        }
    }
}

/// Runs one transaction to its final response (or its end).
pub(crate) async fn transact(
    driver: &Driver,
    request: SipMessage,
) -> Result<Exchanged, LocalFailure> {
    let mut collector = collector_for(&request)?;
    let mut stream = driver.send_request(request.clone()).map_err(refused)?;
    while let Some(response) = next_response(&mut stream, &mut collector).await {
        if let Err(error) = collector.observe_response(&response, now()) {
            tracing::debug!(%error, "response not collected");
        }
        if response.status().is_some_and(|s| s.is_final()) {
            return Ok(Exchanged {
                request,
                collector,
                response: Some(response),
            });
        }
    }
    Ok(Exchanged {
        request,
        collector,
        response: None,
    })
}

/// Whether `response` is a challenge (401 or 407).
pub(crate) fn is_challenge(response: &SipMessage) -> bool {
    matches!(response.status(), Some(StatusCode(401 | 407)))
}

/// Adds the credentials (or the MS-SIPAE signature) of `auth` to `request`.
pub(crate) fn authorize(auth: &mut Option<Auth>, request: &mut SipMessage) {
    if let Some(auth) = auth {
        auth.authorize(request);
    }
}

/// Takes in the challenge `response` to `request`; `true` if the request
/// can be sent again with credentials.
pub(crate) fn answer_challenge(
    auth: &mut Option<Auth>,
    request: &SipMessage,
    response: &SipMessage,
) -> bool {
    auth.as_mut()
        .and_then(|auth| auth.answer_challenge(request, response))
        .is_some()
}

/// Runs a request built by `build(cseq)` starting at `cseq`, each retry a
/// new transaction with CSeq one higher. A digest challenge is answered
/// once; the MS-SIPAE handshake takes two rounds (the offer, then the
/// server's NTLM CHALLENGE), each at most once, so a refused AUTHENTICATE
/// (a wrong password: the offer again) ends here. Returns the last
/// transaction and the CSeq it used.
pub(crate) async fn transact_authenticated(
    driver: &Driver,
    auth: &mut Option<Auth>,
    mut cseq: u32,
    mut build: impl FnMut(u32) -> Result<SipMessage, LocalFailure>,
) -> Result<(Exchanged, u32), LocalFailure> {
    let mut answered: Vec<Answered> = Vec::new();
    loop {
        let mut request = build(cseq)?;
        authorize(auth, &mut request);
        let exchanged = transact(driver, request).await?;
        if let (Some(response), Some(auth)) = (&exchanged.response, auth.as_mut()) {
            if is_challenge(response) {
                if let Some(how) = auth.answer_challenge(&exchanged.request, response) {
                    if !answered.contains(&how) {
                        answered.push(how);
                        cseq = cseq.saturating_add(1);
                        continue;
                    }
                    tracing::warn!(?how, "challenged again: credentials refused");
                    if how == Answered::SaStarted {
                        auth.sa().clear();
                    }
                }
            }
        }
        return Ok((exchanged, cseq));
    }
}
