//! The user agent an app embeds: register, call, IM, conference join and
//! sharing, with every failure resolved to what the user sees and reported
//! to the server (MS-OCER §3.1.4).
//!
//! - [`UserAgent::builder`] configures it ([`UserAgentBuilder`]) and
//!   [`build`](UserAgentBuilder::build) starts it, with the stream of
//!   [`UaEvent`]s the app listens to ([`UaEvents`]).
//! - [`UserAgent::register`] registers (digest credentials answer a 401/407
//!   once), refreshes before expiry in the background, and starts a *login
//!   session*; [`UserAgent::unregister`] (and a failed refresh) ends it.
//! - [`UserAgent::call`], [`join`](UserAgent::join) (Conference mode) and
//!   [`share`](UserAgent::share) (Sharing mode) send an INVITE with the
//!   app's SDP and resolve once the call is up (2xx, ACK sent) or failed;
//!   [`UserAgent::start_call`] returns at once with a [`PendingCall`] that can
//!   be cancelled while it rings. [`Call::hangup`] sends BYE.
//! - [`UserAgent::send_message`] sends an instant message (MESSAGE,
//!   `text/plain; charset=UTF-8`).
//! - Every failure is a [`Failure`]: the [`DisplayError`](crate::display::DisplayError)
//!   the user sees for the operation's (mode, action), and the
//!   [`TransactionRecord`](crate::diag::TransactionRecord) behind it.
//! - **Automatic reporting**: a failed transaction becomes a reportError
//!   document ([`ErrorReport::from_record`](crate::report::ErrorReport::from_record)),
//!   stored in the outbox ([`ua::outbox`](crate::ua::outbox)) before any
//!   attempt, and sent by SERVICE once registered, following
//!   [`ReportRetry`](crate::report::ReportRetry) and
//!   [`SessionGate`](crate::report::SessionGate): 413 drops it; a bare 503 or
//!   ErrorId 2019 stops reporting for the login session and keeps the queue
//!   for the next; a Retry-After is waited out; a 401/407 is answered once.
//!   An app reports errors it detected itself (§7.26) with
//!   [`UserAgent::report_client_error`].
//! - Every request leaves through [`finalize_request`](crate::report::finalize_request),
//!   in the driver: none ever carries an `ms-diagnostics` header.
//!
//! A server's BYE (or CANCEL) for a call is answered 200 and reported as
//! [`UaEvent::Ended`] with what the user sees for its diagnostics (e.g.
//! 3118, "You were removed from the meeting.").
//!
//! # Example
//!
//! The crate documentation opens with a whole session against an
//! in-process server; in short:
//!
//! ```no_run
//! use ocer::display::{Action, Mode};
//! use ocer::ua::transport::{Target, TransportKind};
//! use ocer::ua::UserAgent;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let target = Target::new(TransportKind::Tcp, "192.0.2.10:5060".parse()?);
//! let (ua, mut events) = UserAgent::builder("sip:alice@contoso.com", target)
//!     .credentials("alice", "secret")
//!     .build()
//!     .await?;
//! ua.register().await?;
//! match ua.call("sip:bob@contoso.com", None, Mode::Voice, Action::Call).await {
//!     Ok(call) => call.hangup().await?,
//!     // e.g. `504 Server time-out, ms-diagnostics 1007 "Temporarily cannot
//!     // route"; the user sees "Operation was unsuccessful."`
//!     Err(failure) => println!("{failure}"),
//! }
//! ua.shutdown().await;
//! while let Some(event) = events.recv().await {
//!     println!("{event:?}");
//! }
//! # Ok(())
//! # }
//! ```

// `Failure` carries the whole record and the display string by value, as
// the contract with the app has it: failures are rare and what they carry is
// the point, so their size is not worth an indirection the app would see.
#![allow(clippy::result_large_err)]

mod auth;
mod builder;
mod call;
mod dialog;
mod events;
mod exchange;
mod failure;
mod incoming;
mod message;
mod register;
mod reporter;
mod request;
mod schemes;

use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use auth::Auth;
use bytes::Bytes;
use ezk_sip_auth::DigestCredentials;
use ezk_sip_types::Name;
use tokio::sync::mpsc;

pub use auth::AuthMode;
pub use builder::{OutboxLocation, UserAgentBuilder};
pub use call::{Call, CallCanceller, PendingCall};
pub use events::{
    CallEvent, RegistrationState, ReportDropReason, UaEvent, UaEvents, DEFAULT_EVENT_CAPACITY,
};
pub use failure::{Failure, FailureKind, LocalFailure};
pub use reporter::ClientErrorReport;
pub use schemes::UnsupportedAuthentication;

use crate::diag::{ErrorId, TransactionRecord};
use crate::display::{Action, Mode};
use crate::report::{client_errors::CLIENT_RANGE, ErrorReport};
use crate::sip::{MsKeepAlive, StatusCode, TimerConfig};
use crate::ua::driver::{Driver, DriverError};
use crate::ua::outbox::OutboxError;
use crate::ua::transport::{Target, TransportKind};

use failure::Presenter;
use register::Registration;
use reporter::ReporterCommand;

/// Why the user agent could not start, or refused an app request.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UaError {
    /// The address of record is not a SIP URI with a user part.
    #[error("the address of record {0:?} is not a SIP URI with a user part")]
    InvalidAor(String),
    /// The driver could not start (UDP socket, TLS configuration).
    #[error(transparent)]
    Driver(#[from] DriverError),
    /// The outbox could not be opened.
    #[error(transparent)]
    Outbox(#[from] OutboxError),
    /// An app-reported error id outside §7.26's 51000–52999.
    #[error("ErrorId {0} is not a client-reported id (51000-52999)")]
    NotAClientErrorId(ErrorId),
    /// An app-reported error whose `request_type` is not a method token of
    /// 1–33 characters (§2.2.2): the report must say which request failed.
    #[error("request type {0:?} is not a method of 1-33 token characters")]
    InvalidRequestType(String),
    /// Reporting was turned off ([`UserAgentBuilder::reporting`]).
    #[error("error reporting is off")]
    ReportingOff,
    /// The user agent has shut down.
    #[error("the user agent has shut down")]
    ShutDown,
    /// A task of the user agent failed.
    #[error("internal failure: {0}")]
    Internal(String),
}

/// A running user agent. Cheap to clone (all clones are the same agent).
/// See the module docs.
#[derive(Debug, Clone)]
pub struct UserAgent {
    inner: Arc<Inner>,
}

/// Calls in progress and established, by Call-ID.
#[derive(Debug, Default)]
pub(crate) struct Calls {
    /// Calls not answered yet: where to send a cancel.
    pub(crate) pending: HashMap<String, CallCanceller>,
    /// Established calls.
    pub(crate) established: HashMap<String, Call>,
}

/// Why there is no Contact.
#[derive(Debug)]
pub(crate) enum NoContact {
    /// The connection to the server could not be opened.
    Transport(crate::sip::TransportFailure),
    /// The user agent has shut down.
    ShutDown,
}

/// What every part of the user agent shares.
pub(crate) struct Inner {
    pub(crate) driver: Driver,
    pub(crate) aor: String,
    pub(crate) display_name: Option<String>,
    pub(crate) credentials: Option<DigestCredentials>,
    /// The user name and password, for NTLM.
    pub(crate) login: Option<(String, String)>,
    pub(crate) auth_mode: AuthMode,
    /// The MS-SIPAE security association with the server.
    pub(crate) sa: auth::SaSlot,
    /// This endpoint's id, the `epid` on From (MS-SIPAE / MS-SIPRE: the
    /// server finds the endpoint's SA and registration by it).
    pub(crate) epid: String,
    /// The `+sip.instance` of the registered Contact (RFC 5626 / 5627).
    pub(crate) instance: String,
    /// The public GRUU the registrar gave (RFC 5627 `pub-gruu`), while
    /// registered.
    pub(crate) gruu: Mutex<Option<String>>,
    pub(crate) presenter: Presenter,
    /// The first target's transport (what `Debug` shows; the Contact names
    /// the transport of the flow in use).
    pub(crate) transport: TransportKind,
    /// Whether a login session is on (read by the driver's notice hook,
    /// which cannot wait for the registration's lock).
    pub(crate) session_on: AtomicBool,
    /// Whether the app wants to be registered: set by `register`, cleared
    /// by `unregister` (and so by `shutdown`).
    pub(crate) wanted: AtomicBool,
    /// Whether a re-register after a lost connection is under way.
    pub(crate) reconnecting: AtomicBool,
    /// The first and the longest wait between re-register attempts.
    pub(crate) reconnect_backoff: (Duration, Duration),
    pub(crate) user_agent: Option<String>,
    pub(crate) register_expires: Duration,
    /// How long a call may go unanswered before the user agent cancels it.
    pub(crate) ring_timeout: Duration,
    pub(crate) timers: TimerConfig,
    pub(crate) reporting: bool,
    /// `None` after shutdown, which ends the app's event stream.
    pub(crate) events: Mutex<Option<events::EventSender>>,
    /// `None` when reporting is off, and after shutdown.
    /// Boxed commands: the channel's first block is 32 slots, allocated
    /// for the agent's life (32 × 8 bytes, not 32 × 32).
    pub(crate) reporter: Mutex<Option<mpsc::UnboundedSender<Box<ReporterCommand>>>>,
    pub(crate) registration: tokio::sync::Mutex<Registration>,
    pub(crate) calls: Mutex<Calls>,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inner")
            .field("aor", &self.aor)
            .field("transport", &self.transport)
            .finish_non_exhaustive()
    }
}

/// Locks a std mutex; a panic elsewhere while it was held does not make the
/// data unusable here (every critical section leaves it consistent).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Inner {
    /// Tells the app.
    pub(crate) fn emit(&self, event: UaEvent) {
        tracing::debug!(?event, "event");
        if let Some(events) = lock(&self.events).as_ref() {
            events.send(event);
        }
    }

    /// Tells the reporter.
    pub(crate) fn to_reporter(&self, command: ReporterCommand) {
        if let Some(reporter) = lock(&self.reporter).as_ref() {
            let _ = reporter.send(Box::new(command));
        }
    }

    /// A fresh authenticator with the credentials (one per request, or per
    /// registration: a digest answer is for one method and Request-URI); it
    /// signs with the user agent's MS-SIPAE security association when there
    /// is one.
    pub(crate) fn new_auth(&self) -> Option<Auth> {
        Some(Auth::new(
            self.credentials.clone(),
            self.login.clone(),
            self.auth_mode,
            self.sa.clone(),
        ))
    }

    /// From for a new request: the name-addr, `tag` and this endpoint's `epid`.
    pub(crate) fn new_from(&self, tag: &str) -> String {
        format!(
            "{};tag={tag};epid={}",
            request::name_addr(self.display_name.as_deref(), &self.aor),
            self.epid
        )
    }

    /// The GRUU the registrar gave, if any.
    pub(crate) fn gruu(&self) -> Option<String> {
        lock(&self.gruu).clone()
    }

    /// The Contact of this user agent: its user at the local address of the
    /// flow to the server (for TCP and TLS this opens the connection).
    pub(crate) async fn contact(&self) -> Result<String, NoContact> {
        let (addr, kind) = self
            .driver
            .local_flow()
            .await
            .map_err(|error| match error {
                crate::ua::driver::LocalAddrError::Transport(failure) => {
                    NoContact::Transport(failure)
                }
                _ => NoContact::ShutDown,
            })?;
        // On a shared driver, the member's own user part: the driver
        // routes the server's requests for it by the Request-URI.
        let user = match self.driver.contact_user() {
            Some(user) => user,
            None => request::user_part(&self.aor).unwrap_or("ocer"),
        };
        let transport = kind.uri_param();
        Ok(format!("<sip:{user}@{addr};transport={transport}>"))
    }

    /// [MS-CONMGMT] §2.2.1's keep-alive offer, `ms-keep-alive:
    /// UAC;hop-hop=yes`, which a REGISTER and an INVITE carry (as MS-OCER
    /// §4.1's INVITE does) to negotiate keep-alives on the connection they go
    /// on; none over UDP, which has no connection to keep.
    pub(crate) fn keep_alive_offer(&self) -> Option<(Name, String)> {
        (self.transport != TransportKind::Udp).then(|| {
            (
                Name::from(MsKeepAlive::HEADER_NAME),
                MsKeepAlive::offer().to_string(),
            )
        })
    }

    /// The failure of `request`, which never left: the transport failed
    /// before (opening the connection it needed). Its record has the
    /// request's identity, nothing received, and that failure as its ending.
    pub(crate) fn unsent(
        &self,
        request: &crate::sip::SipMessage,
        failure: crate::sip::TransportFailure,
        mode: Mode,
        action: Action,
        user: &str,
    ) -> Failure {
        let mut collector = match exchange::collector_for(request) {
            Ok(collector) => collector,
            Err(local) => return Failure::local(local),
        };
        collector.observe_transport_failure(failure.clone());
        self.presenter.failure(
            collector.finish(),
            FailureKind::Transport(failure),
            mode,
            action,
            user,
        )
    }

    /// A failed operation: tells the app and reports the transaction.
    pub(crate) fn fail(&self, call_id: &str, mode: Mode, action: Action, failure: &Failure) {
        tracing::info!(call_id, %failure, ?mode, ?action, "operation failed");
        self.emit(UaEvent::Failed {
            call_id: call_id.to_owned(),
            mode,
            action,
            failure: failure.clone(),
        });
        if let Some(record) = &failure.record {
            self.report(record);
        }
    }

    /// Puts the report of a failed transaction in the outbox (through the
    /// reporter). Not reported: SERVICE itself (a report of a report could
    /// loop), a refused authentication (the user's credentials, not the
    /// server's diagnostics), and a request the user cancelled.
    pub(crate) fn report(&self, record: &TransactionRecord) {
        if !self.reporting || record.identity.method == crate::report::SERVICE {
            return;
        }
        if matches!(record.final_status(), Some(StatusCode(401 | 407))) {
            return;
        }
        match ErrorReport::from_record(record, &self.aor) {
            Ok(report) => self.to_reporter(ReporterCommand::Submit {
                call_id: record.identity.call_id.clone(),
                report: Box::new(report.into_owned()),
            }),
            Err(reason) => tracing::debug!(%reason, "nothing to report"),
        }
    }
}

impl UserAgent {
    /// A builder for the user `aor` (e.g. `sip:alice@contoso.com`), whose
    /// requests all go to `target` (the pool or proxy, over UDP, TCP or TLS).
    pub fn builder(aor: impl Into<String>, target: Target) -> UserAgentBuilder {
        UserAgentBuilder::new(aor.into(), target)
    }

    /// The user's address of record.
    pub fn aor(&self) -> &str {
        &self.inner.aor
    }

    /// The driver underneath (for requests the user agent does not make).
    pub fn driver(&self) -> &Driver {
        &self.inner.driver
    }

    /// Registers (REGISTER with the configured expiry; a 401/407 is answered
    /// once with the credentials). On success the registration is refreshed
    /// in the background before it expires, and — unless it was registered
    /// already — a new login session starts: queued reports may be sent.
    pub async fn register(&self) -> Result<(), Failure> {
        register::register(&self.inner).await
    }

    /// Unregisters (REGISTER with `Expires: 0`) and ends the login session.
    /// Does nothing if not registered.
    pub async fn unregister(&self) -> Result<(), Failure> {
        register::unregister(&self.inner).await
    }

    /// Calls `target` (INVITE with the app's SDP, if any) in `mode`, doing
    /// `action`; resolves once the call is up (2xx, ACK sent) or has failed.
    /// To be able to cancel it while it rings, use [`start_call`](Self::start_call).
    pub async fn call(
        &self,
        target: &str,
        sdp: Option<Bytes>,
        mode: Mode,
        action: Action,
    ) -> Result<Call, Failure> {
        self.start_call(target, sdp, mode, action)
            .await?
            .established()
            .await
    }

    /// Sends the INVITE and returns at once: the [`PendingCall`] resolves
    /// to the call ([`PendingCall::established`]) and can be cancelled
    /// ([`PendingCall::cancel`]).
    pub async fn start_call(
        &self,
        target: &str,
        sdp: Option<Bytes>,
        mode: Mode,
        action: Action,
    ) -> Result<PendingCall, Failure> {
        call::start(&self.inner, target, sdp, mode, action).await
    }

    /// Joins a conference (INVITE to its focus URI, e.g.
    /// `sip:bob@contoso.com;gruu;opaque=app:conf:focus:id:X`) in Conference mode.
    pub async fn join(
        &self,
        conference: &str,
        sdp: Option<Bytes>,
        action: Action,
    ) -> Result<Call, Failure> {
        self.call(conference, sdp, Mode::Conference, action).await
    }

    /// Starts sharing with `target` (INVITE with the app's sharing SDP) in
    /// Sharing mode.
    pub async fn share(
        &self,
        target: &str,
        sdp: Option<Bytes>,
        action: Action,
    ) -> Result<Call, Failure> {
        self.call(target, sdp, Mode::Sharing, action).await
    }

    /// Cancels the call `call_id` if it has not been answered yet (CANCEL,
    /// sent once a provisional response has come). `false` if there is no
    /// such pending call.
    pub fn cancel(&self, call_id: &str) -> bool {
        let canceller = lock(&self.inner.calls).pending.get(call_id).cloned();
        canceller.is_some_and(|c| c.cancel())
    }

    /// The established call `call_id`, if it is still up.
    pub fn established_call(&self, call_id: &str) -> Option<Call> {
        lock(&self.inner.calls).established.get(call_id).cloned()
    }

    /// Sends an instant message (MESSAGE, `text/plain; charset=UTF-8`) in
    /// IM mode, action send-message.
    pub async fn send_message(&self, target: &str, text: &str) -> Result<(), Failure> {
        message::send(&self.inner, target, text).await
    }

    /// Reports an error the app detected itself (MS-OCER §7.26: an ErrorId
    /// in 51000–52999, e.g. [`client_errors::CANNOT_CONNECT_TO_EXCHANGE`](crate::report::client_errors::CANNOT_CONNECT_TO_EXCHANGE)):
    /// a reportError document with that diagnostics value goes to the outbox
    /// like any other report ([`UaEvent::ReportQueued`] names it). Its
    /// `requestType` and `responseCode` are the failed request's, as the app
    /// gives them in [`ClientErrorReport::new`]; a `request_type` that is no
    /// method token of 1–33 characters is [`UaError::InvalidRequestType`].
    pub async fn report_client_error(&self, report: ClientErrorReport) -> Result<(), UaError> {
        if !CLIENT_RANGE.contains(&report.error.id.0) {
            return Err(UaError::NotAClientErrorId(report.error.id));
        }
        if !report.request_type_is_valid() {
            return Err(UaError::InvalidRequestType(report.request_type));
        }
        if !self.inner.reporting {
            return Err(UaError::ReportingOff);
        }
        let (call_id, document) = report.into_document();
        let sender = lock(&self.inner.reporter).clone();
        let sender = sender.ok_or(UaError::ShutDown)?;
        sender
            .send(Box::new(ReporterCommand::Submit {
                call_id,
                report: Box::new(document),
            }))
            .map_err(|_| UaError::ShutDown)
    }

    /// Stops: hangs up established calls, cancels pending ones, unregisters
    /// if registered, stops the reporter and the driver (on a
    /// [`SharedDriver`](crate::ua::SharedDriver), leaves it), and ends the event stream. Reports still queued stay in a disk outbox for the next start.
    pub async fn shutdown(&self) {
        let (pending, established) = {
            let mut calls = lock(&self.inner.calls);
            (
                calls.pending.drain().map(|(_, c)| c).collect::<Vec<_>>(),
                calls
                    .established
                    .drain()
                    .map(|(_, c)| c)
                    .collect::<Vec<_>>(),
            )
        };
        for canceller in pending {
            canceller.cancel();
        }
        for call in established {
            if let Err(failure) = call.hangup().await {
                tracing::debug!(%failure, "hang-up at shutdown failed");
            }
        }
        if let Err(failure) = self.unregister().await {
            tracing::debug!(%failure, "unregister at shutdown failed");
        }
        let reporter = lock(&self.inner.reporter).take();
        if let Some(reporter) = reporter {
            let (done, finished) = tokio::sync::oneshot::channel();
            if reporter
                .send(Box::new(ReporterCommand::Shutdown { done }))
                .is_ok()
            {
                let _ = finished.await;
            }
        }
        self.inner.driver.shutdown().await;
        lock(&self.inner.events).take();
    }
}
