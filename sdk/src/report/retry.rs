//! What to do after each attempt to send a report (MS-OCER §3.1.5), as a pure
//! state machine: it is fed the outcome of an attempt and `now`, and returns a
//! [`Verdict`]. No clock, no timer, no randomness of its own (the jitter comes
//! from a caller-supplied seed), so every decision is reproducible.
//!
//! | outcome | verdict | why |
//! |---|---|---|
//! | 2xx | [`Verdict::Delivered`] | §3.1.5 |
//! | 413, 513 | [`Verdict::Discard`] ([`DiscardReason::TooLarge`]) | §3.1.5: "SHOULD NOT retry"; 513 is the same refusal (RFC 3261 §21.5.9): the report is already within §2.2.2's sizes, the same bytes will not fit later |
//! | 503 with ErrorId 2019 (in `ms-diagnostics` or `ms-diagnostics-public`) | [`Verdict::SuspendSession`] | §3.1.5; wins over a Retry-After: the service said it is off |
//! | 503 with Retry-After, with or without diagnostics | [`Verdict::RetryAt`] no earlier than it, and no earlier than the backoff (so `Retry-After: 0` is no busy loop) | §3.1.5: the service is on but busy |
//! | 503 without any diagnostics header (either kind) and without Retry-After | [`Verdict::SuspendSession`] | §3.1.5: reporting is not enabled |
//! | 503 with another ErrorId, no Retry-After | backoff | a failure the spec gives no special meaning |
//! | any Retry-After longer than [`RetryPolicy::max_retry_after`] | [`Verdict::SuspendSession`] | waiting that long inside one login makes no sense; the next login tries again, and never earlier than asked |
//! | 401, 407, first time for this report | [`Verdict::Authenticate`] | RFC 3261 §22 |
//! | 401, 407 again | [`Verdict::SuspendSession`] | the credentials were refused; the next login authenticates anew |
//! | 405, 501 | [`Verdict::SuspendSession`] | this server does not do SERVICE / reporting; another login may reach one that does |
//! | 3xx | [`Verdict::Discard`] | a report is not redirected: its diagnostics are for the user's own server only (§5.1) |
//! | other 4xx, 6xx | [`Verdict::Discard`] | RFC 3261 §21.4, §21.6: retrying the same request unchanged cannot succeed |
//! | 408, 480, 491, other 5xx, timeout, transport error | backoff, never earlier than a Retry-After | transient |
//!
//! *Backoff* is [`Verdict::RetryAt`] after `initial_backoff × 2^(n−1)`, capped at
//! `max_backoff`, with "equal jitter" (a uniform point in the upper half of the
//! delay, so clients that failed together do not retry together), and never
//! earlier than a Retry-After the response carried. Every attempt counts; when a
//! report has used [`RetryPolicy::max_attempts`], a verdict that would send it
//! again becomes [`Verdict::Discard`] ([`DiscardReason::AttemptsExhausted`]).
//!
//! *SuspendSession* stops all reporting until the next login session; nothing
//! is discarded. [`SessionGate`] keeps that state, and also holds every report
//! back until a Retry-After has passed, because "busy" is about the service, not
//! about one report.

use std::time::{Duration, Instant};

use crate::diag::{Ending, ErrorId, FinalResponse, ObservedDiagnostic};
use crate::sip::{RetryAfter, StatusCode};

/// The knobs of the retry policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per report, the first included.
    pub max_attempts: u32,
    /// The backoff before the second attempt.
    pub initial_backoff: Duration,
    /// The longest backoff.
    pub max_backoff: Duration,
    /// The longest Retry-After waited for within a login session.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    /// Six attempts, 10 s doubling to 10 min; a Retry-After of up to an hour is
    /// waited for. Reports are not urgent, and a server in trouble should not be
    /// made busier by them.
    fn default() -> Self {
        Self {
            max_attempts: 6,
            initial_backoff: Duration::from_secs(10),
            max_backoff: Duration::from_secs(600),
            max_retry_after: Duration::from_secs(3600),
        }
    }
}

/// How an attempt to send a report ended.
#[derive(Debug, Clone, Copy)]
pub enum Outcome<'a> {
    /// A final response came.
    Response(ServiceResponse<'a>),
    /// No final response before the transaction timer fired.
    Timeout,
    /// The transport failed.
    TransportError,
}

/// What the policy reads from the SERVICE request's final response.
#[derive(Debug, Clone, Copy)]
pub struct ServiceResponse<'a> {
    /// The status.
    pub status: StatusCode,
    /// Its diagnostics headers, either kind.
    pub diagnostics: &'a [ObservedDiagnostic],
    /// Its Retry-After, if any.
    pub retry_after: Option<&'a RetryAfter>,
}

impl<'a> From<&'a FinalResponse> for ServiceResponse<'a> {
    fn from(response: &'a FinalResponse) -> Self {
        Self {
            status: response.status,
            diagnostics: &response.diagnostics,
            retry_after: response.retry_after.as_ref(),
        }
    }
}

impl<'a> From<&'a FinalResponse> for Outcome<'a> {
    fn from(response: &'a FinalResponse) -> Self {
        Outcome::Response(response.into())
    }
}

impl<'a> From<&'a Ending> for Outcome<'a> {
    /// How the SERVICE transaction ended, as the policy reads it: a record
    /// still open counts as a transport failure (nothing more will come).
    fn from(ending: &'a Ending) -> Self {
        match ending {
            Ending::Timeout => Outcome::Timeout,
            _ => match ending.final_response() {
                Some(response) => Outcome::from(response),
                None => Outcome::TransportError,
            },
        }
    }
}

/// The decision after one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The server took the report: remove it from the outbox.
    Delivered,
    /// The report can never be delivered: remove it from the outbox.
    Discard(DiscardReason),
    /// No more reports in this login session; keep every queued report for the
    /// next one.
    SuspendSession(SuspendReason),
    /// Send this report again, no earlier than `at`.
    RetryAt {
        /// The earliest time.
        at: Instant,
        /// Why this time.
        cause: RetryCause,
    },
    /// Hand the challenge to the authenticator and send again with credentials.
    Authenticate,
}

/// Why a report is discarded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DiscardReason {
    /// 413 or 513: the server will not take a body this large.
    TooLarge,
    /// A response that says the same request can never succeed.
    Rejected(StatusCode),
    /// [`RetryPolicy::max_attempts`] attempts failed.
    AttemptsExhausted,
}

/// Why reporting stops for the rest of the login session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SuspendReason {
    /// 503 with ErrorId 2019: the report error service is not available.
    ServiceNotAvailable,
    /// 503 without diagnostics: error reporting is not enabled.
    NotEnabled,
    /// A wait longer than the policy allows within a session (a Retry-After
    /// beyond [`RetryPolicy::max_retry_after`]) or than the clock can represent.
    WaitTooLong(Duration),
    /// 405 or 501: the server does not take SERVICE requests.
    NotSupported(StatusCode),
    /// 401 / 407 after credentials were already sent once.
    AuthenticationFailed(StatusCode),
}

/// For people: the user agent's `ReportingSuspended` event shows this.
impl std::fmt::Display for SuspendReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SuspendReason::ServiceNotAvailable => {
                f.write_str("the report error service is not available (503, ErrorId 2019)")
            }
            SuspendReason::NotEnabled => f.write_str(
                "error reporting is not enabled on the server (503 without diagnostics)",
            ),
            SuspendReason::WaitTooLong(wait) => write!(
                f,
                "the server asked to wait {} s, longer than a session waits",
                wait.as_secs()
            ),
            SuspendReason::NotSupported(status) => {
                write!(
                    f,
                    "the server does not take SERVICE requests ({})",
                    status.0
                )
            }
            SuspendReason::AuthenticationFailed(status) => {
                write!(f, "the server refused the credentials ({})", status.0)
            }
        }
    }
}

/// Why a retry is scheduled when it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RetryCause {
    /// The server's Retry-After.
    RetryAfter,
    /// Exponential backoff.
    Backoff,
}

/// The retry state of one report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportRetry {
    attempts: u32,
    authenticated: bool,
    rng: u64,
}

impl ReportRetry {
    /// A report not sent yet; `seed` drives the jitter (give each report its
    /// own, e.g. from the OS, or a fixed one in tests).
    pub fn new(seed: u64) -> Self {
        Self::resume(0, seed)
    }

    /// A report that already had `attempts` attempts (read back from the outbox
    /// after a restart).
    pub fn resume(attempts: u32, seed: u64) -> Self {
        Self {
            attempts,
            authenticated: false,
            rng: seed,
        }
    }

    /// Attempts so far.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// Records one attempt and decides what follows. See the module docs.
    pub fn on_outcome(
        &mut self,
        policy: &RetryPolicy,
        outcome: Outcome<'_>,
        now: Instant,
    ) -> Verdict {
        self.attempts = self.attempts.saturating_add(1);
        let verdict = match outcome {
            Outcome::Response(response) => self.classify(policy, response, now),
            Outcome::Timeout | Outcome::TransportError => self.backoff(policy, now, None),
        };
        match verdict {
            Verdict::RetryAt { .. } | Verdict::Authenticate
                if self.attempts >= policy.max_attempts =>
            {
                Verdict::Discard(DiscardReason::AttemptsExhausted)
            }
            other => other,
        }
    }

    fn classify(
        &mut self,
        policy: &RetryPolicy,
        response: ServiceResponse<'_>,
        now: Instant,
    ) -> Verdict {
        let status = response.status;
        let retry_after = response
            .retry_after
            .map(|r| Duration::from_secs(u64::from(r.seconds)));
        match status.0 {
            200..=299 => Verdict::Delivered,
            413 | 513 => Verdict::Discard(DiscardReason::TooLarge),
            503 => {
                let says_2019 = response
                    .diagnostics
                    .iter()
                    .any(|d| d.error_id() == Some(ErrorId::REPORT_ERROR_SERVICE_UNAVAILABLE));
                match retry_after {
                    _ if says_2019 => Verdict::SuspendSession(SuspendReason::ServiceNotAvailable),
                    Some(wait) if wait > policy.max_retry_after => {
                        Verdict::SuspendSession(SuspendReason::WaitTooLong(wait))
                    }
                    // The server's wait is a floor on our own backoff: never
                    // earlier than asked, never a burst (Retry-After: 0).
                    Some(wait) => self.backoff(policy, now, Some(wait)),
                    None if response.diagnostics.is_empty() => {
                        Verdict::SuspendSession(SuspendReason::NotEnabled)
                    }
                    None => self.backoff(policy, now, None),
                }
            }
            401 | 407 if !self.authenticated => {
                self.authenticated = true;
                Verdict::Authenticate
            }
            401 | 407 => Verdict::SuspendSession(SuspendReason::AuthenticationFailed(status)),
            405 | 501 => Verdict::SuspendSession(SuspendReason::NotSupported(status)),
            408 | 480 | 491 | 500..=599 => self.backoff(policy, now, retry_after),
            300..=499 | 600..=699 => Verdict::Discard(DiscardReason::Rejected(status)),
            // Not a final status: nothing the spec defines; treated as transient.
            _ => self.backoff(policy, now, retry_after),
        }
    }

    fn backoff(&mut self, policy: &RetryPolicy, now: Instant, floor: Option<Duration>) -> Verdict {
        let doublings = self.attempts.saturating_sub(1).min(32);
        let full = policy
            .initial_backoff
            .saturating_mul(1u32 << doublings.min(31))
            .min(policy.max_backoff);
        let half = full / 2;
        let span = u64::try_from(half.as_nanos())
            .unwrap_or(u64::MAX)
            .saturating_add(1);
        let delay = half + Duration::from_nanos(self.next_random() % span);
        match floor {
            Some(wait) if wait > policy.max_retry_after => {
                Verdict::SuspendSession(SuspendReason::WaitTooLong(wait))
            }
            Some(wait) if wait >= delay => retry_at(now, wait, RetryCause::RetryAfter),
            _ => retry_at(now, delay, RetryCause::Backoff),
        }
    }

    /// splitmix64: tiny, and good enough to spread retries.
    fn next_random(&mut self) -> u64 {
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

fn retry_at(now: Instant, wait: Duration, cause: RetryCause) -> Verdict {
    match now.checked_add(wait) {
        Some(at) => Verdict::RetryAt { at, cause },
        None => Verdict::SuspendSession(SuspendReason::WaitTooLong(wait)),
    }
}

/// Whether reports may be sent in this login session. Make a new one at each
/// login; feed it every [`Verdict`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionGate {
    suspended: Option<SuspendReason>,
    not_before: Option<Instant>,
}

impl SessionGate {
    /// A gate for a new login session: open.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes in a verdict: a suspension closes the gate for the session, and a
    /// Retry-After holds every report back until it has passed.
    pub fn observe(&mut self, verdict: &Verdict) {
        match *verdict {
            Verdict::SuspendSession(reason) if self.suspended.is_none() => {
                self.suspended = Some(reason)
            }
            Verdict::RetryAt {
                at,
                cause: RetryCause::RetryAfter,
            } => self.not_before = Some(self.not_before.map_or(at, |t| t.max(at))),
            _ => {}
        }
    }

    /// Holds every report back until `at` (a Retry-After kept from an earlier
    /// session, or a spread start); a later hold already in place stays.
    pub fn hold_until(&mut self, at: Instant) {
        self.not_before = Some(self.not_before.map_or(at, |t| t.max(at)));
    }

    /// Why reporting is suspended, if it is.
    pub fn suspended(&self) -> Option<SuspendReason> {
        self.suspended
    }

    /// The earliest time a report may be sent, or `None` if none may be sent in
    /// this session.
    pub fn next_send_at(&self, now: Instant) -> Option<Instant> {
        match (self.suspended, self.not_before) {
            (Some(_), _) => None,
            (None, Some(t)) if t > now => Some(t),
            (None, _) => Some(now),
        }
    }

    /// Whether a report may be sent at `now`.
    pub fn may_send(&self, now: Instant) -> bool {
        self.next_send_at(now) == Some(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::{Collector, CollectorLimits};
    use crate::sip::{FramingLimits, RequestIdentity, SipMessage};

    /// The final response of a SERVICE, collected the way the UA collects it.
    fn response(status_line: &str, headers: &[&str]) -> FinalResponse {
        let request = "SERVICE sip:alice@contoso.com SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bK1\r\n\
            From: <sip:alice@contoso.com>;tag=r1\r\nTo: <sip:alice@contoso.com>\r\nCall-ID: svc1\r\n\
            CSeq: 1 SERVICE\r\nContent-Length: 0\r\n\r\n";
        let limits = FramingLimits::default();
        let request = SipMessage::parse(request.as_bytes(), &limits).unwrap();
        let now = Instant::now();
        let mut collector = Collector::new(
            RequestIdentity::from_request(&request).unwrap(),
            now,
            CollectorLimits::default(),
        );
        let mut text = format!(
            "SIP/2.0 {status_line}\r\nVia: SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bK1\r\n\
             From: <sip:alice@contoso.com>;tag=r1\r\nTo: <sip:alice@contoso.com>;tag=s1\r\nCall-ID: svc1\r\nCSeq: 1 SERVICE\r\n"
        );
        for h in headers {
            text.push_str(h);
            text.push_str("\r\n");
        }
        text.push_str("Content-Length: 0\r\n\r\n");
        collector
            .observe_response(&SipMessage::parse(text.as_bytes(), &limits).unwrap(), now)
            .unwrap();
        collector.finish().final_response().unwrap().clone()
    }

    const D2019: &str = "ms-diagnostics: 2019;reason=\"Report error service is not available\";source=\"fe.contoso.com\"";
    const D1000: &str =
        "ms-diagnostics: 1000;reason=\"Final handshake failed\";source=\"fe.contoso.com\"";
    const P2019: &str =
        "ms-diagnostics-public: 2019;reason=\"Report error service is not available\"";
    const GARBLED: &str = "ms-diagnostics: not-a-number";

    /// What a verdict looks like with the time made relative, for the table.
    #[derive(Debug, PartialEq, Eq)]
    enum V {
        Delivered,
        Discard(DiscardReason),
        Suspend(SuspendReason),
        RetryAfter(u64),
        /// Backoff within [min, max] seconds.
        Backoff(u64, u64),
        Authenticate,
    }

    fn relative(verdict: Verdict, now: Instant) -> V {
        match verdict {
            Verdict::Delivered => V::Delivered,
            Verdict::Discard(r) => V::Discard(r),
            Verdict::SuspendSession(r) => V::Suspend(r),
            Verdict::RetryAt {
                at,
                cause: RetryCause::RetryAfter,
            } => V::RetryAfter((at - now).as_secs()),
            Verdict::RetryAt {
                at,
                cause: RetryCause::Backoff,
            } => {
                let secs = (at - now).as_secs_f64();
                // First attempt: 10 s with equal jitter is 5..=10 s.
                assert!((5.0..=10.0).contains(&secs), "{secs}");
                V::Backoff(5, 10)
            }
            Verdict::Authenticate => V::Authenticate,
        }
    }

    #[test]
    fn first_attempt_table() {
        use DiscardReason as D;
        use SuspendReason as S;
        let s = StatusCode;
        let table: Vec<(&str, Vec<&str>, V)> = vec![
            ("200 OK", vec![], V::Delivered),
            ("202 Accepted", vec![], V::Delivered),
            ("200 OK", vec![D2019, "Retry-After: 60"], V::Delivered),
            (
                "413 Request Entity Too Large",
                vec![],
                V::Discard(D::TooLarge),
            ),
            (
                "413 Request Entity Too Large",
                vec!["Retry-After: 5"],
                V::Discard(D::TooLarge),
            ),
            ("513 Message Too Large", vec![], V::Discard(D::TooLarge)),
            ("503 Service Unavailable", vec![], V::Suspend(S::NotEnabled)),
            (
                "503 Service Unavailable",
                vec![D2019],
                V::Suspend(S::ServiceNotAvailable),
            ),
            (
                "503 Service Unavailable",
                vec![P2019],
                V::Suspend(S::ServiceNotAvailable),
            ),
            (
                "503 Service Unavailable",
                vec![D2019, "Retry-After: 30"],
                V::Suspend(S::ServiceNotAvailable),
            ),
            (
                "503 Service Unavailable",
                vec!["Retry-After: 30"],
                V::RetryAfter(30),
            ),
            (
                "503 Service Unavailable",
                vec![D1000, "Retry-After: 120 (busy)"],
                V::RetryAfter(120),
            ),
            // No busy loop: the backoff is the floor of a zero wait.
            (
                "503 Service Unavailable",
                vec!["Retry-After: 0"],
                V::Backoff(5, 10),
            ),
            (
                "503 Service Unavailable",
                vec!["Retry-After: 1"],
                V::Backoff(5, 10),
            ),
            // Only the public header (what an Edge Server leaves for a remote
            // user, §2.2.1.2): diagnostics are there, so reporting is on.
            (
                "503 Service Unavailable",
                vec!["ms-diagnostics-public: 1000;reason=\"busy\""],
                V::Backoff(5, 10),
            ),
            (
                "503 Service Unavailable",
                vec![
                    "ms-diagnostics-public: 1000;reason=\"busy\"",
                    "Retry-After: 40",
                ],
                V::RetryAfter(40),
            ),
            (
                "503 Service Unavailable",
                vec!["Retry-After: 3600"],
                V::RetryAfter(3600),
            ),
            (
                "503 Service Unavailable",
                vec!["Retry-After: 3601"],
                V::Suspend(S::WaitTooLong(Duration::from_secs(3601))),
            ),
            // The case §3.1.5 leaves open: diagnostics, not 2019, no Retry-After.
            ("503 Service Unavailable", vec![D1000], V::Backoff(5, 10)),
            ("503 Service Unavailable", vec![GARBLED], V::Backoff(5, 10)),
            ("401 Unauthorized", vec![], V::Authenticate),
            ("407 Proxy Authentication Required", vec![], V::Authenticate),
            (
                "405 Method Not Allowed",
                vec![],
                V::Suspend(S::NotSupported(s(405))),
            ),
            (
                "501 Not Implemented",
                vec![],
                V::Suspend(S::NotSupported(s(501))),
            ),
            (
                "302 Moved Temporarily",
                vec![],
                V::Discard(D::Rejected(s(302))),
            ),
            ("400 Bad Request", vec![], V::Discard(D::Rejected(s(400)))),
            ("403 Forbidden", vec![], V::Discard(D::Rejected(s(403)))),
            (
                "415 Unsupported Media Type",
                vec![],
                V::Discard(D::Rejected(s(415))),
            ),
            ("603 Decline", vec![], V::Discard(D::Rejected(s(603)))),
            ("408 Request Timeout", vec![], V::Backoff(5, 10)),
            ("480 Temporarily Unavailable", vec![], V::Backoff(5, 10)),
            ("491 Request Pending", vec![], V::Backoff(5, 10)),
            ("500 Server Internal Error", vec![], V::Backoff(5, 10)),
            (
                "500 Server Internal Error",
                vec!["Retry-After: 90"],
                V::RetryAfter(90),
            ),
            (
                "500 Server Internal Error",
                vec!["Retry-After: 7200"],
                V::Suspend(S::WaitTooLong(Duration::from_secs(7200))),
            ),
            ("504 Server Time-out", vec![D1000], V::Backoff(5, 10)),
        ];
        let policy = RetryPolicy::default();
        for (status_line, headers, expected) in table {
            let response = response(status_line, &headers);
            let now = Instant::now();
            let verdict = ReportRetry::new(7).on_outcome(&policy, (&response).into(), now);
            assert_eq!(
                relative(verdict, now),
                expected,
                "{status_line} {headers:?}"
            );
        }
        let now = Instant::now();
        for outcome in [Outcome::Timeout, Outcome::TransportError] {
            assert_eq!(
                relative(ReportRetry::new(1).on_outcome(&policy, outcome, now), now),
                V::Backoff(5, 10)
            );
        }
    }

    #[test]
    fn authentication_is_tried_once_per_report() {
        let policy = RetryPolicy::default();
        let challenge = response("407 Proxy Authentication Required", &[]);
        let now = Instant::now();
        let mut retry = ReportRetry::new(3);
        assert_eq!(
            retry.on_outcome(&policy, (&challenge).into(), now),
            Verdict::Authenticate
        );
        assert_eq!(
            retry.on_outcome(&policy, (&challenge).into(), now),
            Verdict::SuspendSession(SuspendReason::AuthenticationFailed(StatusCode(407)))
        );
        // A new report (or the same one in the next session) may authenticate again.
        assert_eq!(
            ReportRetry::resume(2, 3).on_outcome(&policy, (&challenge).into(), now),
            Verdict::Authenticate
        );
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_with_jitter_and_attempts_are_capped() {
        let policy = RetryPolicy::default();
        let now = Instant::now();
        let mut retry = ReportRetry::new(42);
        let mut delays = Vec::new();
        for _ in 1..policy.max_attempts {
            match retry.on_outcome(&policy, Outcome::Timeout, now) {
                Verdict::RetryAt {
                    at,
                    cause: RetryCause::Backoff,
                } => delays.push(at - now),
                other => panic!("{other:?}"),
            }
        }
        let full = [10u64, 20, 40, 80, 160];
        for (delay, full) in delays.iter().zip(full) {
            let full = Duration::from_secs(full);
            assert!(
                *delay >= full / 2 && *delay <= full,
                "{delay:?} for {full:?}"
            );
        }
        assert_eq!(retry.attempts(), 5);
        assert_eq!(
            retry.on_outcome(&policy, Outcome::TransportError, now),
            Verdict::Discard(DiscardReason::AttemptsExhausted)
        );

        // Past the doubling range the cap holds, and nothing overflows.
        let policy = RetryPolicy {
            max_attempts: u32::MAX,
            ..RetryPolicy::default()
        };
        let mut retry = ReportRetry::resume(1000, 9);
        match retry.on_outcome(&policy, Outcome::Timeout, now) {
            Verdict::RetryAt { at, .. } => {
                assert!(at - now <= policy.max_backoff && at - now >= policy.max_backoff / 2)
            }
            other => panic!("{other:?}"),
        }
        // A Retry-After also counts as an attempt.
        let busy = response("503 Service Unavailable", &["Retry-After: 5"]);
        let policy = RetryPolicy {
            max_attempts: 2,
            ..RetryPolicy::default()
        };
        let mut retry = ReportRetry::new(0);
        assert!(matches!(
            retry.on_outcome(&policy, (&busy).into(), now),
            Verdict::RetryAt { .. }
        ));
        assert_eq!(
            retry.on_outcome(&policy, (&busy).into(), now),
            Verdict::Discard(DiscardReason::AttemptsExhausted)
        );
    }

    #[test]
    fn jitter_depends_on_the_seed_only() {
        let policy = RetryPolicy::default();
        let now = Instant::now();
        let at = |seed| match ReportRetry::new(seed).on_outcome(&policy, Outcome::Timeout, now) {
            Verdict::RetryAt { at, .. } => at,
            other => panic!("{other:?}"),
        };
        assert_eq!(at(5), at(5));
        let spread: std::collections::BTreeSet<_> = (0..50).map(at).collect();
        assert!(spread.len() > 40, "seeds spread the retries");
    }

    #[test]
    fn the_session_gate_suspends_and_holds_back() {
        let now = Instant::now();
        let mut gate = SessionGate::new();
        assert!(gate.may_send(now));
        gate.observe(&Verdict::RetryAt {
            at: now + Duration::from_secs(30),
            cause: RetryCause::Backoff,
        });
        assert!(gate.may_send(now), "a backoff concerns one report");
        gate.observe(&Verdict::RetryAt {
            at: now + Duration::from_secs(30),
            cause: RetryCause::RetryAfter,
        });
        gate.observe(&Verdict::RetryAt {
            at: now + Duration::from_secs(10),
            cause: RetryCause::RetryAfter,
        });
        assert!(!gate.may_send(now));
        assert_eq!(gate.next_send_at(now), Some(now + Duration::from_secs(30)));
        assert!(gate.may_send(now + Duration::from_secs(30)));
        gate.observe(&Verdict::Delivered);
        gate.observe(&Verdict::SuspendSession(SuspendReason::NotEnabled));
        gate.observe(&Verdict::SuspendSession(SuspendReason::ServiceNotAvailable));
        assert_eq!(
            gate.suspended(),
            Some(SuspendReason::NotEnabled),
            "the first reason is kept"
        );
        assert_eq!(gate.next_send_at(now + Duration::from_secs(99)), None);
        assert!(
            SessionGate::new().may_send(now),
            "the next login starts open"
        );
    }
}
