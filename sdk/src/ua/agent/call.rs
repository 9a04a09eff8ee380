//! Calls: the INVITE transaction and what follows it (RFC 3261 §13, §15).
//!
//! [`start`] sends the INVITE and hands the rest to a task that reads every
//! response in order: each provisional becomes a [`UaEvent::Progress`]; a
//! 401/407 is answered once with credentials; a 2xx creates the dialog, the
//! ACK goes out (the transaction layer does not ACK a 2xx) and the call is
//! [`UaEvent::Established`]; anything else is a [`Failure`] resolved in the
//! call's (mode, action), told as [`UaEvent::Failed`] and reported.
//!
//! A [`PendingCall`] can be cancelled until it is answered: the CANCEL
//! (§9.1) goes out as soon as a provisional response has come, never
//! before; if no final response follows within 64·T1, the call counts as
//! cancelled anyway. A 2xx that crosses the CANCEL is ACKed and hung up.
//!
//! The user agent cancels a call itself when it has not been answered within
//! the ring timeout (default 180 s): a server that rings forever, or whose
//! final response is lost, cannot keep a call pending forever (the INVITE
//! transaction has no timer once a provisional came). The call then fails
//! with [`LocalFailure::NoAnswer`], told as [`UaEvent::Failed`]; it is not
//! reported (nothing failed on the server's side that the record shows).

use std::sync::{Arc, Mutex, Weak};

use super::auth::Auth;
use bytes::Bytes;
use ezk_sip_types::{Method, Name};
use tokio::sync::{mpsc, oneshot};

use super::dialog::Dialog;
use super::events::UaEvent;
use super::exchange::{
    answer_challenge, authorize, collector_for, is_challenge, next_response, now, refused,
    transact_authenticated,
};
use super::failure::{Failure, FailureKind, LocalFailure};
use super::request::{name_addr, new_call_id, new_tag, parse_uri, user_of, RequestSpec};
use super::{lock, Inner, NoContact};
use crate::diag::{Collector, ObservedDiagnostic};
use crate::display::{Action, Mode};
use crate::sip::{SipMessage, TransactionEvent};
use crate::ua::driver::ResponseStream;

/// What a pending call's task is told.
#[derive(Debug)]
pub(crate) enum CallCommand {
    /// The user cancels.
    Cancel,
}

/// Cancels one pending call; cheap to clone, usable from anywhere.
#[derive(Debug, Clone)]
pub struct CallCanceller {
    call_id: String,
    commands: mpsc::UnboundedSender<CallCommand>,
}

impl CallCanceller {
    /// The call.
    pub fn call_id(&self) -> &str {
        &self.call_id
    }

    /// Asks for the call to be cancelled: CANCEL goes out once a provisional
    /// response has come. `false` if the call is no longer pending.
    pub fn cancel(&self) -> bool {
        self.commands.send(CallCommand::Cancel).is_ok()
    }
}

/// A call whose INVITE is out and not answered yet.
///
/// **Dropping it does not cancel the call.** The INVITE goes on; its outcome
/// comes as [`UaEvent`](super::UaEvent)s with its Call-ID (`Established`,
/// `Failed`), an established call is kept by the agent
/// ([`UserAgent::established_call`](super::UserAgent::established_call)), and
/// [`UserAgent::cancel`](super::UserAgent::cancel) or a [`CallCanceller`]
/// still cancels it. That is what an app driven by events (and the C API)
/// wants; an app that meant to cancel must say so with [`cancel`](Self::cancel).
/// So that a call is not left ringing by mistake, the type is `#[must_use]`:
///
/// ```compile_fail
/// #![deny(unused_must_use)]
/// # async fn f(ua: ocer::ua::UserAgent) -> Result<(), ocer::ua::Failure> {
/// use ocer::display::{Action, Mode};
/// // error: unused `PendingCall` that must be used
/// ua.start_call("sip:bob@contoso.com", None, Mode::Voice, Action::Call).await?;
/// # Ok(()) }
/// # fn main() {}
/// ```
///
/// while saying so compiles:
///
/// ```no_run
/// #![deny(unused_must_use)]
/// # async fn f(ua: ocer::ua::UserAgent) -> Result<(), ocer::ua::Failure> {
/// use ocer::display::{Action, Mode};
/// let _ringing_on = ua.start_call("sip:bob@contoso.com", None, Mode::Voice, Action::Call).await?;
/// # Ok(()) }
/// # fn main() {}
/// ```
#[derive(Debug)]
#[must_use = "dropping a PendingCall does not cancel the call: call .cancel() to cancel it, or let _ = … to let it ring on"]
pub struct PendingCall {
    canceller: CallCanceller,
    outcome: oneshot::Receiver<Result<Call, Failure>>,
}

impl PendingCall {
    /// The INVITE's Call-ID (what events name the call by).
    pub fn call_id(&self) -> &str {
        &self.canceller.call_id
    }

    /// A handle that cancels this call, for another task.
    pub fn canceller(&self) -> CallCanceller {
        self.canceller.clone()
    }

    /// Cancels the call (see [`CallCanceller::cancel`]).
    pub fn cancel(&self) -> bool {
        self.canceller.cancel()
    }

    /// Waits for the outcome: the established call, or why there is none
    /// ([`LocalFailure::Cancelled`] after a cancel).
    pub async fn established(self) -> Result<Call, Failure> {
        self.outcome
            .await
            .unwrap_or_else(|_| Err(Failure::local(LocalFailure::ShutDown)))
    }
}

/// An established call. Cheap to clone; every clone is the same call.
#[derive(Debug, Clone)]
pub struct Call {
    shared: Arc<CallShared>,
}

#[derive(Debug)]
struct CallShared {
    /// Weak: the agent's table of established calls holds calls.
    inner: Weak<Inner>,
    call_id: String,
    mode: Mode,
    action: Action,
    target: String,
    remote_sdp: Option<Bytes>,
    /// `None` once the call has ended.
    state: Mutex<Option<Established>>,
}

#[derive(Debug)]
struct Established {
    dialog: Dialog,
    /// The INVITE's collector: a server BYE or CANCEL is added to its
    /// record, which is what the display rule reads.
    collector: Collector,
}

impl Call {
    /// The Call-ID.
    pub fn call_id(&self) -> &str {
        &self.shared.call_id
    }

    /// The mode it was placed in.
    pub fn mode(&self) -> Mode {
        self.shared.mode
    }

    /// The action it was placed with.
    pub fn action(&self) -> Action {
        self.shared.action
    }

    /// The URI it was placed to.
    pub fn target(&self) -> &str {
        &self.shared.target
    }

    /// The remote SDP (the 2xx's body), if it had one.
    pub fn remote_sdp(&self) -> Option<&Bytes> {
        self.shared.remote_sdp.as_ref()
    }

    /// Whether the call is still up.
    pub fn is_active(&self) -> bool {
        lock(&self.shared.state).is_some()
    }

    /// Hangs up (BYE; a 401/407 is answered once). The call is over either
    /// way ([`UaEvent::Ended`]); a failed BYE is also a [`UaEvent::Failed`]
    /// (mode of the call, action in-session) and is reported. Does nothing
    /// if the call has already ended.
    pub async fn hangup(&self) -> Result<(), Failure> {
        let shared = &self.shared;
        let Some(inner) = shared.inner.upgrade() else {
            return Err(Failure::local(LocalFailure::ShutDown));
        };
        let Some(mut established) = lock(&shared.state).take() else {
            return Ok(());
        };
        lock(&inner.calls).established.remove(&shared.call_id);
        let result = bye(
            &inner,
            &mut established.dialog,
            shared.mode,
            user_of(&shared.target),
        )
        .await;
        inner.emit(UaEvent::Ended {
            call_id: shared.call_id.clone(),
            by_server: false,
            display: None,
            diagnostics: Vec::new(),
        });
        match result {
            Ok(None) => Ok(()),
            Ok(Some(failure)) => {
                inner.fail(&shared.call_id, shared.mode, Action::InSession, &failure);
                Err(failure)
            }
            Err(local) => Err(Failure::local(local)),
        }
    }
}

/// Sends BYE in `dialog`; `Some` if it failed. A failure shows in the call's
/// mode, action in-session.
async fn bye(
    inner: &Inner,
    dialog: &mut Dialog,
    mode: Mode,
    user: &str,
) -> Result<Option<Failure>, LocalFailure> {
    let mut auth = inner.new_auth();
    let first = dialog.next_cseq();
    let (exchanged, last) = transact_authenticated(&inner.driver, &mut auth, first, |cseq| {
        dialog.request(Method::BYE, cseq)
    })
    .await?;
    dialog.sent_cseq(last);
    let Some(kind) = exchanged.failure_kind() else {
        return Ok(None);
    };
    let failure = inner
        .presenter
        .failure(exchanged.record(), kind, mode, Action::InSession, user);
    Ok(Some(failure))
}

/// A BYE or CANCEL the server sent: if it belongs to an established call,
/// the call ends ([`UaEvent::Ended`] with what the user sees for its
/// diagnostics) and `true` is returned (the request gets a 200).
pub(crate) fn end_by_server(inner: &Inner, request: &SipMessage) -> bool {
    let Some(call_id) = request.header_value(&Name::CALL_ID).map(str::trim) else {
        return false;
    };
    let Some(call) = lock(&inner.calls).established.get(call_id).cloned() else {
        return false;
    };
    let shared = &call.shared;
    let established = {
        let mut state = lock(&shared.state);
        match state.as_ref() {
            Some(established) if established.dialog.matches(request) => state.take(),
            _ => None,
        }
    };
    let Some(mut established) = established else {
        return false;
    };
    lock(&inner.calls).established.remove(call_id);
    if let Err(error) = established.collector.observe_server_request(request, now()) {
        tracing::debug!(%error, "server request not collected");
    }
    let record = established.collector.finish();
    let diagnostics: Vec<ObservedDiagnostic> = record
        .server_requests
        .last()
        .map(|r| r.diagnostics.clone())
        .unwrap_or_default();
    let display = inner.presenter.display(
        &record,
        None,
        shared.mode,
        Action::InSession,
        user_of(&shared.target),
    );
    tracing::info!(call_id, method = ?request.method(), "call ended by the server");
    inner.emit(UaEvent::Ended {
        call_id: call_id.to_owned(),
        by_server: true,
        display,
        diagnostics,
    });
    true
}

/// [`UserAgent::start_call`](super::UserAgent::start_call).
pub(crate) async fn start(
    inner: &Arc<Inner>,
    target: &str,
    sdp: Option<Bytes>,
    mode: Mode,
    action: Action,
) -> Result<PendingCall, Failure> {
    parse_uri(target).map_err(Failure::local)?;
    // RFC 5627 §4.2: the GRUU is the Contact of dialogs when there is one.
    let contact = inner.contact().await.map(|c| match inner.gruu() {
        Some(gruu) => format!("<{gruu}>"),
        None => c,
    });
    let call_id = new_call_id();
    let from = inner.new_from(&new_tag());
    let to = name_addr(None, target);
    let invite = Invite {
        target: target.to_owned(),
        from,
        to,
        call_id: call_id.clone(),
        contact: contact.as_ref().ok().cloned(),
        sdp,
        user_agent: inner.user_agent.clone(),
        extra: inner.keep_alive_offer().into_iter().collect(),
    };
    match contact {
        Ok(_) => {}
        Err(NoContact::ShutDown) => return Err(Failure::local(LocalFailure::ShutDown)),
        Err(NoContact::Transport(failure)) => {
            let request = invite.build(1).map_err(Failure::local)?;
            let failure = inner.unsent(&request, failure, mode, action, user_of(target));
            inner.fail(&call_id, mode, action, &failure);
            return Err(failure);
        }
    }
    let mut auth = inner.new_auth();
    let cseq = 1;
    let mut request = invite.build(cseq).map_err(Failure::local)?;
    authorize(&mut auth, &mut request);
    let collector = collector_for(&request).map_err(Failure::local)?;
    let stream = inner
        .driver
        .send_request(request.clone())
        .map_err(|e| Failure::local(refused(e)))?;
    let (commands_tx, commands) = mpsc::unbounded_channel();
    let canceller = CallCanceller {
        call_id: call_id.clone(),
        commands: commands_tx,
    };
    lock(&inner.calls)
        .pending
        .insert(call_id.clone(), canceller.clone());
    let (outcome_tx, outcome) = oneshot::channel();
    let task = CallTask {
        inner: Arc::clone(inner),
        invite,
        mode,
        action,
        request,
        cseq,
        stream,
        collector,
        auth,
        challenged: false,
        cancel_requested: false,
        cancel_sent: false,
        provisional_seen: false,
        unanswered: None,
    };
    tokio::spawn(async move {
        let result = task.run(commands).await;
        let _ = outcome_tx.send(result);
    });
    Ok(PendingCall { canceller, outcome })
}

/// What every INVITE of one call shares (the first, and the one with
/// credentials).
#[derive(Debug, Clone)]
struct Invite {
    target: String,
    from: String,
    to: String,
    call_id: String,
    /// `None` only for an INVITE that is never sent.
    contact: Option<String>,
    sdp: Option<Bytes>,
    user_agent: Option<String>,
    /// The keep-alive offer (MS-OCER §4.1's INVITE carries one).
    extra: Vec<(Name, String)>,
}

impl Invite {
    fn build(&self, cseq: u32) -> Result<SipMessage, LocalFailure> {
        RequestSpec {
            method: Method::INVITE,
            uri: &self.target,
            from: &self.from,
            to: &self.to,
            call_id: &self.call_id,
            cseq,
            contact: self.contact.as_deref(),
            routes: &[],
            user_agent: self.user_agent.as_deref(),
            extra: &self.extra,
            content_type: self.sdp.as_ref().map(|_| "application/sdp"),
            body: self.sdp.clone().unwrap_or_default(),
        }
        .build()
    }
}

/// The task that follows one call until it is established or over.
struct CallTask {
    inner: Arc<Inner>,
    invite: Invite,
    mode: Mode,
    action: Action,
    /// The INVITE in flight (as built: the driver adds the Via).
    request: SipMessage,
    cseq: u32,
    stream: ResponseStream,
    collector: Collector,
    auth: Option<Auth>,
    challenged: bool,
    cancel_requested: bool,
    cancel_sent: bool,
    provisional_seen: bool,
    /// Set when the ring timeout fired: the CANCEL is the user agent's, and
    /// the call ends as not answered.
    unanswered: Option<std::time::Duration>,
}

impl CallTask {
    async fn run(
        mut self,
        mut commands: mpsc::UnboundedReceiver<CallCommand>,
    ) -> Result<Call, Failure> {
        let mut cancel_deadline: Option<tokio::time::Instant> = None;
        let ring_timeout = self.inner.ring_timeout;
        let ring_deadline = crate::ua::clock::deadline_after(ring_timeout);
        let result = loop {
            let deadline = async {
                match cancel_deadline {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            let ringing = !self.cancel_requested;
            tokio::select! {
                next = next_response(&mut self.stream, &mut self.collector) => match next {
                    Some(response) => {
                        if let Some(result) = self.on_response(response).await {
                            break result;
                        }
                    }
                    None => break Err(self.failed()),
                },
                Some(CallCommand::Cancel) = commands.recv(), if !self.cancel_requested => {
                    self.cancel_requested = true;
                    self.send_cancel();
                    cancel_deadline = Some(
                        crate::ua::clock::deadline_after(self.inner.timers.transaction_timeout()),
                    );
                }
                () = tokio::time::sleep_until(ring_deadline), if ringing => {
                    tracing::info!(call_id = %self.invite.call_id, ?ring_timeout, "no answer; cancelling");
                    self.unanswered = Some(ring_timeout);
                    self.cancel_requested = true;
                    self.send_cancel();
                    cancel_deadline = Some(
                        crate::ua::clock::deadline_after(self.inner.timers.transaction_timeout()),
                    );
                }
                () = deadline => break Err(self.cancelled()),
            }
        };
        lock(&self.inner.calls).pending.remove(&self.invite.call_id);
        result
    }

    /// One response; `Some` when the call's outcome is decided.
    async fn on_response(&mut self, response: SipMessage) -> Option<Result<Call, Failure>> {
        let before = self.collector.record().progress.len();
        if let Err(error) = self.collector.observe_response(&response, now()) {
            tracing::debug!(%error, "response not collected");
        }
        let status = response.status()?;
        if !status.is_final() {
            self.provisional_seen = true;
            let diagnostics = self
                .collector
                .record()
                .progress
                .get(before..)
                .map(<[ObservedDiagnostic]>::to_vec)
                .unwrap_or_default();
            let display = diagnostics.iter().find_map(|d| {
                self.inner.presenter.progress(
                    d,
                    self.mode,
                    self.action,
                    user_of(&self.invite.target),
                )
            });
            self.inner.emit(UaEvent::Progress {
                call_id: self.invite.call_id.clone(),
                status,
                reason: response.reason_phrase().unwrap_or_default().to_owned(),
                diagnostics,
                display,
            });
            if self.cancel_requested {
                self.send_cancel();
            }
            return None;
        }
        if status.is_success() {
            return Some(self.answered(&response).await);
        }
        if is_challenge(&response)
            && !self.challenged
            && !self.cancel_requested
            && answer_challenge(&mut self.auth, &self.request, &response)
        {
            self.challenged = true;
            match self.resend() {
                Ok(()) => return None,
                Err(failure) => return Some(Err(failure)),
            }
        }
        Some(Err(if self.cancel_requested {
            self.cancelled()
        } else {
            self.failed()
        }))
    }

    /// The INVITE again, with credentials: CSeq one higher, a new branch.
    fn resend(&mut self) -> Result<(), Failure> {
        self.cseq = self.cseq.saturating_add(1);
        let mut request = self.invite.build(self.cseq).map_err(Failure::local)?;
        authorize(&mut self.auth, &mut request);
        self.collector = collector_for(&request).map_err(Failure::local)?;
        self.stream = self
            .inner
            .driver
            .send_request(request.clone())
            .map_err(|e| Failure::local(refused(e)))?;
        self.request = request;
        self.provisional_seen = false;
        self.cancel_sent = false;
        Ok(())
    }

    /// Sends CANCEL if it is due: asked for, a provisional response seen,
    /// not sent yet.
    fn send_cancel(&mut self) {
        if !self.cancel_requested || !self.provisional_seen || self.cancel_sent {
            return;
        }
        self.cancel_sent = true;
        let mut cancel = match self.invite.build(self.cseq) {
            Ok(mut cancel) => {
                // §9.1: the INVITE's Request-URI, Call-ID, To, From, CSeq
                // number and Route; no body.
                cancel.line = match cancel.line {
                    ezk_sip_types::msg::MessageLine::Request(mut line) => {
                        line.method = Method::CANCEL;
                        ezk_sip_types::msg::MessageLine::Request(line)
                    }
                    other => other,
                };
                cancel.headers.remove(&Name::CSEQ);
                cancel
                    .headers
                    .insert(Name::CSEQ, format!("{} CANCEL", self.cseq));
                for name in [Name::CONTACT, Name::CONTENT_TYPE] {
                    cancel.headers.remove(&name);
                }
                cancel.body = Bytes::new();
                cancel
            }
            Err(error) => {
                tracing::warn!(%error, "CANCEL not built");
                return;
            }
        };
        // The INVITE's credentials, if it carried any (RFC 3261 §22.1).
        for name in [Name::AUTHORIZATION, Name::PROXY_AUTHORIZATION] {
            for value in self.request.header_values(&name) {
                cancel.headers.insert(name.clone(), value.to_owned());
            }
        }
        match self.inner.driver.send_cancel(self.stream.branch(), cancel) {
            Ok(mut stream) => {
                tokio::spawn(async move {
                    // The CANCEL's own answer only says it arrived; the
                    // INVITE's 487 is what ends the call.
                    while let Some(event) = stream.recv().await {
                        match event {
                            TransactionEvent::Response(response)
                                if !response.status().is_some_and(|s| s.is_final()) => {}
                            other => {
                                tracing::debug!(?other, "CANCEL answered or ended");
                                break;
                            }
                        }
                    }
                });
            }
            Err(error) => tracing::warn!(%error, "CANCEL not sent"),
        }
    }

    /// A 2xx: the dialog, the ACK; hung up at once if the user had cancelled.
    async fn answered(&mut self, response: &SipMessage) -> Result<Call, Failure> {
        let dialog = Dialog::from_2xx(&self.request, response, &self.invite.target, self.cseq);
        match dialog.ack(self.cseq) {
            Ok(ack) => {
                if let Err(error) = self.inner.driver.send_ack(ack) {
                    tracing::warn!(%error, "ACK not sent");
                }
            }
            Err(error) => tracing::warn!(%error, "ACK not built"),
        }
        let call = Call {
            shared: Arc::new(CallShared {
                inner: Arc::downgrade(&self.inner),
                call_id: self.invite.call_id.clone(),
                mode: self.mode,
                action: self.action,
                target: self.invite.target.clone(),
                remote_sdp: (!response.body.is_empty()).then(|| response.body.clone()),
                state: Mutex::new(Some(Established {
                    dialog,
                    collector: self.collector.clone(),
                })),
            }),
        };
        if self.cancel_requested {
            // The answer crossed the CANCEL (§9.1): the call is up, and the
            // user wanted it down.
            if let Err(failure) = call.hangup().await {
                tracing::debug!(%failure, "hang-up of a cancelled call failed");
            }
            return Err(Failure::local(LocalFailure::Cancelled));
        }
        lock(&self.inner.calls)
            .established
            .insert(self.invite.call_id.clone(), call.clone());
        tracing::info!(call_id = %self.invite.call_id, "call established");
        self.inner.emit(UaEvent::Established {
            call_id: self.invite.call_id.clone(),
        });
        Ok(call)
    }

    /// The call failed: what the user sees, told and reported.
    fn failed(&mut self) -> Failure {
        if self.cancel_requested {
            return self.cancelled();
        }
        let kind = FailureKind::of(&self.collector.record().ending).unwrap_or(FailureKind::Timeout);
        let failure = self.inner.presenter.failure(
            self.collector.record().clone(),
            kind,
            self.mode,
            self.action,
            user_of(&self.invite.target),
        );
        self.inner
            .fail(&self.invite.call_id, self.mode, self.action, &failure);
        failure
    }

    /// The user cancelled (or the ring timeout did): not an error to report.
    fn cancelled(&mut self) -> Failure {
        if let Some(after) = self.unanswered {
            let failure = Failure {
                record: Some(self.collector.record().clone()),
                ..Failure::local(LocalFailure::NoAnswer(after))
            };
            self.inner.emit(UaEvent::Failed {
                call_id: self.invite.call_id.clone(),
                mode: self.mode,
                action: self.action,
                failure: failure.clone(),
            });
            return failure;
        }
        tracing::info!(call_id = %self.invite.call_id, "call cancelled");
        self.collector.observe_cancel();
        self.inner.emit(UaEvent::Ended {
            call_id: self.invite.call_id.clone(),
            by_server: false,
            display: None,
            diagnostics: Vec::new(),
        });
        Failure {
            record: Some(self.collector.record().clone()),
            ..Failure::local(LocalFailure::Cancelled)
        }
    }
}
