//! The reporter: error reports from the outbox to the server, by SERVICE
//! (MS-OCER §3.1.4, §3.1.5).
//!
//! One task per user agent owns the outbox and the app's `before_report`
//! hook. A report is stored ([`submit`]: hook, size limits, outbox) before
//! anything is sent, so an accepted report survives until the server takes
//! it or the policy gives it up. Reports go out one at a time, oldest
//! first, only within a login session (between a successful REGISTER and
//! unregister or a failed REGISTER), and only when the session's
//! [`SessionGate`] allows; each attempt is counted in the outbox before it
//! is made. After each attempt [`ReportRetry`] decides:
//!
//! - 2xx: delivered, removed ([`UaEvent::ReportSent`]);
//! - 413 (and other permanent refusals, or attempts exhausted): removed
//!   ([`UaEvent::ReportDropped`]);
//! - 503 without diagnostics nor Retry-After, 503 with ErrorId 2019, a
//!   second 401/407: reporting stops for this login session
//!   ([`UaEvent::ReportingSuspended`]); every report stays queued for the
//!   next session;
//! - 503 with Retry-After (with or without diagnostics): no report goes out
//!   before it has passed, nor before the report's own backoff; a wait
//!   longer than [`RetryPolicy::max_retry_after`] suspends the session and
//!   still holds in the next one;
//! - a first 401/407: the challenge is answered and the report sent again
//!   at once (same Call-ID, CSeq one higher);
//! - anything else transient: exponential backoff with jitter;
//! - too large for a UDP datagram (the target is UDP and TCP to it failed,
//!   RFC 3261 §18.1.1): sent again at once, cut by the §2.2.2 cut order
//!   ([`encode`](crate::report::encode)) to fit one datagram; a report whose
//!   required parts alone do not fit is dropped ([`UaEvent::ReportDropped`]).
//!
//! Every wait is stored with its report in the outbox (wall clock), so
//! neither a new login session nor a restart shortens it. A session that
//! starts with reports queued sends the first of them after a random delay of
//! up to [`RetryPolicy::initial_backoff`]: clients that re-register together
//! after a failover do not send their queues together.
//!
//! The outbox's file operations run on tokio's blocking pool. An outbox that
//! cannot write (a full disk) does not stop stored reports from going out.

use std::collections::BTreeMap;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant, SystemTime};

use super::auth::Auth;
use tokio::sync::{mpsc, oneshot};
use tracing::Instrument;

use super::events::{ReportDropReason, UaEvent};
use super::exchange::{answer_challenge, authorize, now, transact, Exchanged};
use super::failure::LocalFailure;
use super::request::{new_call_id, new_tag};
use super::Inner;
use crate::diag::Ending;
use crate::report::client_errors::ClientError;
use crate::report::{
    encode, service_request, DiscardReason, ErrorReport, Outcome, ReportLimits, ReportRetry,
    RetryCause, RetryPolicy, ServiceParts, SessionGate, SuspendReason, Verdict,
};
use crate::sip::{StatusCode, TransportFailureKind};
use crate::ua::ids::random_u64;
use crate::ua::outbox::{
    submit, BeforeReport, NotBefore, Outbox, OutboxError, Removal, ReportId, SubmitError, Submitted,
};
use crate::ua::transport::MAX_DATAGRAM_PAYLOAD;

/// An error the app detected itself, to report (MS-OCER §7.26).
///
/// The document says what failed, as §2.2.2 asks of every report:
/// `requestType` is "the Method name of the … request that failed" and
/// `responseCode` the code it received. For an error outside SIP (§7.26's
/// Exchange errors: the app's Exchange Web Services call over HTTP) that is
/// the app's request, e.g. `POST` and the HTTP status, or `0` when nothing
/// was received (the connection failed). There is no default: `SERVICE`
/// would name the report itself as the failed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientErrorReport {
    /// The ErrorId (51000–52999) and its reason.
    pub error: ClientError,
    /// The Call-ID of the SIP request it concerns; `None` gives the report
    /// a Call-ID of its own.
    pub call_id: Option<String>,
    /// The method of the request that failed (a SIP method, or the HTTP
    /// method of the app's call to Exchange): an RFC 3261 token of at most
    /// 33 characters (§2.2.2).
    pub request_type: String,
    /// The status that request received (SIP or HTTP); 0, a value no
    /// response has, when it received none.
    pub response_code: u32,
}

impl ClientErrorReport {
    /// A report of `error`, met by the app's request `request_type` (its
    /// method, e.g. `"POST"` for an Exchange Web Services call), which
    /// received `response_code` (0: nothing).
    pub fn new(error: ClientError, request_type: impl Into<String>, response_code: u32) -> Self {
        Self {
            error,
            call_id: None,
            request_type: request_type.into(),
            response_code,
        }
    }

    /// Whether `request_type` can stand as the report's `requestType`: a
    /// method-like token (RFC 3261 §25.1 `token`) within §2.2.2's 33
    /// characters.
    pub(crate) fn request_type_is_valid(&self) -> bool {
        let t = self.request_type.as_bytes();
        !t.is_empty()
            && t.len() <= crate::report::MAX_REQUEST_TYPE_CHARS
            && t.iter().all(|&b| crate::sip::lex::is_token_byte(b))
    }

    /// The Call-ID it goes by, and the document.
    pub(crate) fn into_document(self) -> (String, ErrorReport<'static>) {
        let call_id = self.call_id.unwrap_or_else(new_call_id);
        let report = ErrorReport {
            call_id: call_id.clone().into(),
            request_type: self.request_type.into(),
            response_code: self.response_code,
            diag_headers: vec![self.error.header_value().into()],
            ..ErrorReport::default()
        };
        (call_id, report)
    }
}

/// What the reporter is told.
#[derive(Debug)]
pub(crate) enum ReporterCommand {
    /// Store this report (of the request with this Call-ID) and send it.
    Submit {
        call_id: String,
        report: Box<ErrorReport<'static>>,
    },
    /// A login session started: reports may go out.
    SessionStarted,
    /// The login session ended: hold every report.
    SessionEnded,
    /// Stop; queued reports stay in the outbox.
    Shutdown { done: oneshot::Sender<()> },
}

/// The outbox and the app's hook, moved together to the blocking pool.
pub(crate) struct Store {
    pub(crate) outbox: Box<dyn Outbox + Send>,
    pub(crate) hook: Box<dyn BeforeReport>,
}

/// The reporter's settings.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ReporterConfig {
    pub(crate) policy: RetryPolicy,
    pub(crate) limits: ReportLimits,
}

/// The longest wait kept: a stored time further off than this (a clock set
/// back, a huge Retry-After) is read as this; the age limit drops the report
/// long before.
const MAX_WAIT: Duration = Duration::from_secs(30 * 24 * 3600);

/// `at` on the wall clock, for the outbox.
fn to_wall(at: Instant, now: Instant) -> SystemTime {
    let wall = crate::ua::clock::wall();
    wall.checked_add(at.saturating_duration_since(now).min(MAX_WAIT))
        .unwrap_or(wall)
}

/// A stored wall-clock time on the monotonic clock (the past is `now`).
fn from_wall(at: SystemTime, now: Instant) -> Instant {
    let wait = at
        .duration_since(crate::ua::clock::wall())
        .unwrap_or(Duration::ZERO)
        .min(MAX_WAIT);
    now.checked_add(wait).unwrap_or(now)
}

/// One queued report's sending state.
struct Pending {
    retry: ReportRetry,
    /// No attempt before this; a Retry-After's also holds every report.
    not_before: Option<(Instant, RetryCause)>,
    /// The SERVICE request's Call-ID, From tag and CSeq: kept for a resend
    /// after a challenge, new for every other attempt.
    service_call_id: String,
    service_tag: String,
    cseq: u32,
    auth: Option<Auth>,
    /// The most body bytes that fit one UDP datagram beside the SERVICE's
    /// headers, once a send was refused as too large for one.
    datagram_body: Option<usize>,
}

impl Pending {
    fn new(attempts: u32) -> Self {
        Self {
            retry: ReportRetry::resume(attempts, random_u64()),
            not_before: None,
            service_call_id: new_call_id(),
            service_tag: new_tag(),
            cseq: 1,
            auth: None,
            datagram_body: None,
        }
    }

    /// A fresh SERVICE request next time.
    fn renew(&mut self) {
        self.service_call_id = new_call_id();
        self.service_tag = new_tag();
        self.cseq = 1;
        self.auth = None;
    }
}

/// An attempt's result. Sent boxed: the channel's first block holds 32 of
/// what it carries, and an `Exchanged` is near 1 KiB, which every idle user
/// agent would pay (BENCHMARKS.md, "Scale").
struct Attempted {
    id: ReportId,
    result: Result<Exchanged, LocalFailure>,
}

struct Reporter {
    inner: Weak<Inner>,
    /// The user's AOR: the SERVICE's From, which the server puts in a report
    /// without `fromUri` (it counts toward §2.2.2's identity limit).
    aor: Arc<str>,
    /// `None` while an operation runs on the blocking pool (or after one
    /// panicked: then the reporter only logs).
    store: Option<Store>,
    config: ReporterConfig,
    gate: SessionGate,
    registered: bool,
    reports: BTreeMap<ReportId, Pending>,
    in_flight: Option<ReportId>,
    attempts: mpsc::UnboundedSender<Box<Attempted>>,
}

/// Starts the reporter task.
pub(crate) fn spawn(
    inner: Weak<Inner>,
    store: Store,
    config: ReporterConfig,
    commands: mpsc::UnboundedReceiver<Box<ReporterCommand>>,
) {
    let (attempts, attempted) = mpsc::unbounded_channel();
    let mut reports = BTreeMap::new();
    let now = now();
    for id in store.outbox.ids() {
        let stored = store.outbox.get(id);
        let mut pending = Pending::new(stored.map_or(0, |r| r.attempts));
        pending.not_before = stored
            .and_then(|r| r.not_before)
            .map(|nb| (from_wall(nb.at, now), nb.cause));
        reports.insert(id, pending);
    }
    let aor = inner
        .upgrade()
        .map_or_else(|| Arc::from(""), |i| Arc::from(i.aor.as_str()));
    let reporter = Reporter {
        inner,
        aor,
        store: Some(store),
        config,
        gate: SessionGate::new(),
        registered: false,
        reports,
        in_flight: None,
        attempts,
    };
    tokio::spawn(reporter.run(commands, attempted));
}

impl Reporter {
    async fn run(
        mut self,
        mut commands: mpsc::UnboundedReceiver<Box<ReporterCommand>>,
        mut attempted: mpsc::UnboundedReceiver<Box<Attempted>>,
    ) {
        // The awaits below are boxed: this future lives as long as the
        // agent, idle nearly all the time, and should weigh what it holds
        // while idle, not the largest exchange it ever runs.
        loop {
            Box::pin(self.start_next()).await;
            let wake = self.next_wake();
            let timer = async {
                match wake {
                    Some(at) => tokio::time::sleep_until(at.into()).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                command = commands.recv() => match command.map(|c| *c) {
                    Some(ReporterCommand::Shutdown { done }) => {
                        // Closed (and its directory unlocked) before the app
                        // hears the reporter has stopped.
                        self.store = None;
                        let _ = done.send(());
                        return;
                    }
                    Some(command) => Box::pin(self.on_command(command)).await,
                    None => return,
                },
                Some(done) = attempted.recv() => Box::pin(self.on_attempted(*done)).await,
                () = timer => {}
            }
        }
    }

    fn emit(&self, event: UaEvent) {
        if let Some(inner) = self.inner.upgrade() {
            inner.emit(event);
        }
    }

    /// Runs `f` on the store in the blocking pool.
    async fn with_store<R: Send + 'static>(
        &mut self,
        f: impl FnOnce(&mut Store) -> R + Send + 'static,
    ) -> Option<R> {
        let mut store = self.store.take()?;
        match tokio::task::spawn_blocking(move || {
            let result = f(&mut store);
            (store, result)
        })
        .await
        {
            Ok((store, result)) => {
                self.store = Some(store);
                Some(result)
            }
            Err(error) => {
                tracing::error!(%error, "outbox operation failed; reporting stops");
                None
            }
        }
    }

    async fn on_command(&mut self, command: ReporterCommand) {
        match command {
            ReporterCommand::Submit { call_id, report } => self.on_submit(call_id, *report).await,
            ReporterCommand::SessionStarted => self.on_session_started().await,
            ReporterCommand::SessionEnded => self.registered = false,
            ReporterCommand::Shutdown { .. } => {}
        }
    }

    /// A new session: a fresh gate, but no wait is shortened (MS-OCER §3.1.5
    /// "SHOULD wait the amount of time specified in the Retry-after header"
    /// is about the service, which a new login does not make less busy), and
    /// a queue waiting from before goes after a random spread.
    async fn on_session_started(&mut self) {
        self.registered = true;
        self.gate = SessionGate::new();
        let joined = self
            .with_store(|store| store.outbox.rescan(crate::ua::clock::wall()))
            .await;
        match joined {
            Some(Ok(0)) | None => {}
            Some(Ok(joined)) => {
                tracing::info!(joined, "outbox files readable again");
                self.adopt_new_reports();
            }
            Some(Err(error)) => tracing::warn!(%error, "outbox not rescanned"),
        }
        let now = now();
        let held = self
            .reports
            .values()
            .filter_map(|p| match p.not_before {
                Some((at, RetryCause::RetryAfter)) if at > now => Some(at),
                _ => None,
            })
            .max();
        if let Some(at) = held {
            self.gate.hold_until(at);
        }
        if !self.reports.is_empty() {
            let spread = self.config.policy.initial_backoff;
            let nanos = u64::try_from(spread.as_nanos()).unwrap_or(u64::MAX);
            let delay = Duration::from_nanos(random_u64() % nanos.saturating_add(1));
            if let Some(at) = now.checked_add(delay) {
                self.gate.hold_until(at);
            }
        }
    }

    /// Takes up reports the outbox has that the reporter does not know yet.
    fn adopt_new_reports(&mut self) {
        let Some(store) = &self.store else { return };
        let now = now();
        for id in store.outbox.ids() {
            if self.reports.contains_key(&id) {
                continue;
            }
            let stored = store.outbox.get(id);
            let mut pending = Pending::new(stored.map_or(0, |r| r.attempts));
            pending.not_before = stored
                .and_then(|r| r.not_before)
                .map(|nb| (from_wall(nb.at, now), nb.cause));
            self.reports.insert(id, pending);
        }
    }

    async fn on_submit(&mut self, call_id: String, report: ErrorReport<'static>) {
        let limits = self.config.limits;
        let aor = Arc::clone(&self.aor);
        let submitted = self
            .with_store(move |store| {
                submit(
                    &mut *store.outbox,
                    &mut *store.hook,
                    report,
                    &limits,
                    &aor,
                    crate::ua::clock::wall(),
                )
            })
            .await;
        match submitted {
            Some(Ok(Submitted::Queued { id, cuts })) => {
                if !cuts.is_empty() {
                    tracing::info!(?cuts, "report cut to the size limits");
                }
                self.reports.insert(id, Pending::new(0));
                tracing::info!(report_id = %id, %call_id, "report queued");
                self.emit(UaEvent::ReportQueued {
                    report_id: id,
                    call_id,
                });
            }
            Some(Ok(Submitted::Vetoed)) => self.emit(UaEvent::ReportDropped {
                report_id: None,
                why: ReportDropReason::Vetoed,
            }),
            Some(Err(error)) => {
                tracing::warn!(%error, "report not stored");
                let why = match error {
                    SubmitError::Limits(error) => ReportDropReason::Limits(error),
                    SubmitError::Outbox(error) => ReportDropReason::NotStored(Arc::new(error)),
                };
                self.emit(UaEvent::ReportDropped {
                    report_id: None,
                    why,
                });
            }
            None => {}
        }
    }

    /// The earliest time something may be sent, when nothing is in flight.
    fn next_wake(&self) -> Option<Instant> {
        if self.in_flight.is_some() || !self.registered {
            return None;
        }
        let now = now();
        let gate = self.gate.next_send_at(now)?;
        let report = self
            .reports
            .values()
            .map(|p| p.not_before.map_or(now, |(at, _)| at))
            .min()?;
        Some(gate.max(report))
    }

    /// Starts the next attempt, if one may go now.
    async fn start_next(&mut self) {
        if self.in_flight.is_some() || !self.registered {
            return;
        }
        let now = now();
        if !self.gate.may_send(now) {
            return;
        }
        let Some(store) = &self.store else { return };
        let queued = store.outbox.ids();
        // Reports the outbox evicted are forgotten here too.
        self.reports.retain(|id, _| queued.contains(id));
        let Some(id) = queued.into_iter().find(|id| {
            self.reports
                .get(id)
                .is_some_and(|p| p.not_before.is_none_or(|(at, _)| at <= now))
        }) else {
            return;
        };
        let Some(mut body) = store.outbox.get(id).map(|r| r.body.clone()) else {
            return;
        };
        if let Some(budget) = self.reports.get(&id).and_then(|p| p.datagram_body) {
            match cut_to(&body, budget, self.config.limits, &self.aor) {
                Ok(Some(cut)) => body = cut,
                Ok(None) => {}
                Err(why) => {
                    let reason = DiscardReason::TooLarge;
                    self.remove(id, Removal::Discarded(reason)).await;
                    tracing::info!(report_id = %id, %why, "report dropped");
                    self.emit(UaEvent::ReportDropped {
                        report_id: Some(id),
                        why,
                    });
                    return;
                }
            }
        }
        let Some(inner) = self.inner.upgrade() else {
            return;
        };
        match self
            .with_store(move |store| store.outbox.record_attempt(id))
            .await
        {
            Some(Ok(_)) => {}
            Some(Err(OutboxError::NoSuchReport(_))) => return,
            // The report itself is stored: it goes out all the same (a full
            // disk must not hold back what is already queued); only a crash
            // now would forget this attempt.
            Some(Err(error)) => tracing::warn!(%error, "attempt not recorded; report sent anyway"),
            None => return,
        }
        let Some(pending) = self.reports.get_mut(&id) else {
            return;
        };
        let gruu = inner.gruu();
        let parts = ServiceParts {
            aor: &inner.aor,
            call_id: &pending.service_call_id,
            from_tag: &pending.service_tag,
            cseq: pending.cseq,
            // MS-OCER §4.1's SERVICE: epid on From, the GRUU as Contact.
            epid: Some(&inner.epid),
            contact: gruu.as_deref(),
            user_agent: inner.user_agent.as_deref(),
        };
        let mut request = match service_request(&parts, body) {
            Ok(request) => request,
            Err(error) => {
                tracing::error!(%error, "SERVICE not built");
                pending.not_before =
                    Some((now + self.config.policy.max_backoff, RetryCause::Backoff));
                return;
            }
        };
        if pending.auth.is_none() {
            pending.auth = inner.new_auth();
        }
        authorize(&mut pending.auth, &mut request);
        self.in_flight = Some(id);
        let driver = inner.driver.clone();
        let done = self.attempts.clone();
        let span = report_span(id);
        span.in_scope(|| tracing::debug!(cseq = pending.cseq, "sending report"));
        tokio::spawn(
            async move {
                let result = transact(&driver, request).await;
                let _ = done.send(Box::new(Attempted { id, result }));
            }
            .instrument(span),
        );
    }

    async fn on_attempted(&mut self, attempted: Attempted) {
        let Attempted { id, result } = attempted;
        let span = report_span(id);
        let _in_report = span.enter();
        self.in_flight = None;
        let now = now();
        let policy = self.config.policy;
        let Some(pending) = self.reports.get_mut(&id) else {
            return;
        };
        let exchanged = match result {
            Ok(exchanged) => Some(exchanged),
            Err(error) => {
                tracing::warn!(%error, "SERVICE not sent");
                None
            }
        };
        if let Some((request, Ending::Transport(failure))) = exchanged
            .as_ref()
            .map(|exchanged| (&exchanged.request, &exchanged.collector.record().ending))
        {
            if failure.kind == TransportFailureKind::TooLarge && pending.datagram_body.is_none() {
                // Not a transient failure: the same bytes would fail again.
                let headers = request.to_bytes().len().saturating_sub(request.body.len());
                // Room for the Via and credentials of the next attempt.
                let budget = MAX_DATAGRAM_PAYLOAD.saturating_sub(headers + 512);
                tracing::info!(report_id = %id, budget, "report cut to fit a UDP datagram");
                pending.datagram_body = Some(budget);
                pending.not_before = None;
                return;
            }
        }
        let record = exchanged.as_ref().map(Exchanged::record);
        let outcome = record
            .as_ref()
            .map_or(Outcome::TransportError, |r| Outcome::from(&r.ending));
        let status = exchanged.as_ref().and_then(Exchanged::status);
        let mut verdict = pending.retry.on_outcome(&policy, outcome, now);
        if verdict == Verdict::Authenticate {
            let answered = match &exchanged {
                Some(Exchanged {
                    request,
                    response: Some(response),
                    ..
                }) => {
                    if pending.auth.is_none() {
                        pending.auth = self.inner.upgrade().and_then(|i| i.new_auth());
                    }
                    answer_challenge(&mut pending.auth, request, response)
                }
                _ => false,
            };
            if answered {
                pending.cseq = pending.cseq.saturating_add(1);
                pending.not_before = None;
                return;
            }
            verdict = Verdict::SuspendSession(SuspendReason::AuthenticationFailed(
                status.unwrap_or(StatusCode(401)),
            ));
        }
        let was_suspended = self.gate.suspended().is_some();
        self.gate.observe(&verdict);
        match verdict {
            Verdict::Delivered => {
                self.remove(id, Removal::Delivered).await;
                tracing::info!(report_id = %id, "report delivered");
                self.emit(UaEvent::ReportSent { report_id: id });
            }
            Verdict::Discard(reason) => {
                self.remove(id, Removal::Discarded(reason)).await;
                let why = ReportDropReason::discarded(reason, status);
                tracing::info!(report_id = %id, %why, "report dropped");
                self.emit(UaEvent::ReportDropped {
                    report_id: Some(id),
                    why,
                });
            }
            Verdict::SuspendSession(reason) => {
                pending.renew();
                // A wait too long for this session is still kept for the next.
                pending.not_before = match reason {
                    SuspendReason::WaitTooLong(wait) => Some((
                        now.checked_add(wait.min(MAX_WAIT)).unwrap_or(now),
                        RetryCause::RetryAfter,
                    )),
                    _ => None,
                };
                let not_before = pending.not_before;
                self.store_wait(id, not_before, now).await;
                if !was_suspended {
                    tracing::info!(why = %reason, "reporting suspended for this login session");
                    self.emit(UaEvent::ReportingSuspended { why: reason });
                }
            }
            Verdict::RetryAt { at, cause } => {
                pending.renew();
                pending.not_before = Some((at, cause));
                self.store_wait(id, Some((at, cause)), now).await;
            }
            Verdict::Authenticate => {}
        }
    }

    /// Keeps a report's wait in the outbox, so that a restart keeps it too.
    async fn store_wait(
        &mut self,
        id: ReportId,
        wait: Option<(Instant, RetryCause)>,
        now: Instant,
    ) {
        let not_before = wait.map(|(at, cause)| NotBefore {
            at: to_wall(at, now),
            cause,
        });
        if let Some(Err(error)) = self
            .with_store(move |store| store.outbox.defer(id, not_before))
            .await
        {
            tracing::warn!(%error, "report's wait not stored; kept in memory");
        }
    }

    async fn remove(&mut self, id: ReportId, removal: Removal) {
        self.reports.remove(&id);
        if let Some(Err(error)) = self
            .with_store(move |store| store.outbox.remove(id, removal))
            .await
        {
            tracing::warn!(%error, "report not removed from the outbox");
        }
    }
}

/// The span of one report's attempt and verdict: `ocer.report` with its id.
fn report_span(id: ReportId) -> tracing::Span {
    tracing::info_span!("ocer.report", report_id = %id)
}

/// `body` re-encoded within `max_body_bytes` by the §2.2.2 cut order, if it
/// is longer; `Err` says why it cannot be.
fn cut_to(
    body: &str,
    max_body_bytes: usize,
    limits: ReportLimits,
    aor: &str,
) -> Result<Option<String>, ReportDropReason> {
    if body.len() <= max_body_bytes {
        return Ok(None);
    }
    let report =
        ErrorReport::parse(body.as_bytes()).map_err(ReportDropReason::DatagramUnreadable)?;
    let limits = ReportLimits {
        max_body_bytes,
        ..limits
    };
    match encode(report, &limits, aor) {
        Ok(encoded) => {
            tracing::info!(cuts = ?encoded.cuts, "report cut to fit a UDP datagram");
            Ok(Some(encoded.body))
        }
        Err(error) => Err(ReportDropReason::DatagramTooSmall(error)),
    }
}
