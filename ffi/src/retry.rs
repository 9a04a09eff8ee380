//! `ocer_retry`: what to do after each attempt to send one report (MS-OCER
//! §3.1.5), as a pure state machine fed outcomes and times.

use std::time::Duration;

use ocer::diag::{DiagOrigin, DiagnosticsHeader, HeaderKind, ObservedDiagnostic};
use ocer::report::{
    DiscardReason, Outcome, ReportRetry, RetryCause, RetryPolicy, ServiceResponse, SuspendReason,
    Verdict,
};
use ocer::sip::{RetryAfter, StatusCode};

use crate::guard::{guard, guard_free};
use crate::ptr::{self, ocer_str, Object};
use crate::record::{ocer_ending, OCER_ENDING_TIMEOUT, OCER_ENDING_TRANSPORT};
use crate::result::{ocer_result, Failure};
use crate::time;

/// What to do with the report: one of the `OCER_VERDICT_*` constants.
pub type ocer_verdict_kind = u32;
/// The server took the report: remove it from the outbox.
pub const OCER_VERDICT_DELIVERED: ocer_verdict_kind = 0;
/// The report can never be delivered: remove it from the outbox.
pub const OCER_VERDICT_DISCARD: ocer_verdict_kind = 1;
/// No more reports in this login session; keep every queued report for the
/// next one.
pub const OCER_VERDICT_SUSPEND_SESSION: ocer_verdict_kind = 2;
/// Send this report again, no earlier than `at_ms`.
pub const OCER_VERDICT_RETRY_AT: ocer_verdict_kind = 3;
/// Answer the authentication challenge and send again with credentials.
pub const OCER_VERDICT_AUTHENTICATE: ocer_verdict_kind = 4;

/// Why: one of the `OCER_VERDICT_REASON_*` constants; each belongs to one
/// verdict kind.
pub type ocer_verdict_reason = u32;
/// Delivered and authenticate have no reason.
pub const OCER_VERDICT_REASON_NONE: ocer_verdict_reason = 0;
/// Discard: 413 or 513, the server will not take a body this large.
pub const OCER_VERDICT_REASON_TOO_LARGE: ocer_verdict_reason = 1;
/// Discard: a response (`status`) that says the same request can never
/// succeed.
pub const OCER_VERDICT_REASON_REJECTED: ocer_verdict_reason = 2;
/// Discard: the policy's attempts are used up.
pub const OCER_VERDICT_REASON_ATTEMPTS_EXHAUSTED: ocer_verdict_reason = 3;
/// Suspend: 503 with ErrorId 2019, the report error service is not
/// available.
pub const OCER_VERDICT_REASON_SERVICE_NOT_AVAILABLE: ocer_verdict_reason = 10;
/// Suspend: 503 without diagnostics, error reporting is not enabled.
pub const OCER_VERDICT_REASON_NOT_ENABLED: ocer_verdict_reason = 11;
/// Suspend: a wait (`wait_ms`) longer than the policy allows in a session.
pub const OCER_VERDICT_REASON_WAIT_TOO_LONG: ocer_verdict_reason = 12;
/// Suspend: 405 or 501 (`status`), the server does not take SERVICE.
pub const OCER_VERDICT_REASON_NOT_SUPPORTED: ocer_verdict_reason = 13;
/// Suspend: 401 / 407 (`status`) after credentials were sent once.
pub const OCER_VERDICT_REASON_AUTHENTICATION_FAILED: ocer_verdict_reason = 14;
/// Retry: at the server's Retry-After.
pub const OCER_VERDICT_REASON_RETRY_AFTER: ocer_verdict_reason = 20;
/// Retry: after exponential backoff with jitter.
pub const OCER_VERDICT_REASON_BACKOFF: ocer_verdict_reason = 21;

/// The decision after one attempt.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ocer_verdict {
    /// What to do.
    pub kind: ocer_verdict_kind,
    /// Why.
    pub reason: ocer_verdict_reason,
    /// The SIP status the reason names (REJECTED, NOT_SUPPORTED,
    /// AUTHENTICATION_FAILED); 0 otherwise.
    pub status: u16,
    /// The Retry-After given did not parse and was ignored (as the SDK's own
    /// collector ignores one).
    pub retry_after_ignored: bool,
    /// RETRY_AT: the earliest time to send again, on the caller's clock,
    /// rounded up to the ms; 0 otherwise.
    pub at_ms: u64,
    /// WAIT_TOO_LONG: the wait that was asked for, in ms; 0 otherwise.
    pub wait_ms: u64,
}

pub(crate) fn verdict_to_c(v: Verdict, retry_after_ignored: bool) -> ocer_verdict {
    let mut out = ocer_verdict {
        kind: OCER_VERDICT_DELIVERED,
        reason: OCER_VERDICT_REASON_NONE,
        status: 0,
        retry_after_ignored,
        at_ms: 0,
        wait_ms: 0,
    };
    match v {
        Verdict::Delivered => {}
        Verdict::Authenticate => out.kind = OCER_VERDICT_AUTHENTICATE,
        Verdict::Discard(reason) => {
            out.kind = OCER_VERDICT_DISCARD;
            out.reason = match reason {
                DiscardReason::TooLarge => OCER_VERDICT_REASON_TOO_LARGE,
                DiscardReason::Rejected(StatusCode(s)) => {
                    out.status = s;
                    OCER_VERDICT_REASON_REJECTED
                }
                DiscardReason::AttemptsExhausted => OCER_VERDICT_REASON_ATTEMPTS_EXHAUSTED,
            };
        }
        Verdict::SuspendSession(reason) => {
            out.kind = OCER_VERDICT_SUSPEND_SESSION;
            out.reason = match reason {
                SuspendReason::ServiceNotAvailable => OCER_VERDICT_REASON_SERVICE_NOT_AVAILABLE,
                SuspendReason::NotEnabled => OCER_VERDICT_REASON_NOT_ENABLED,
                SuspendReason::WaitTooLong(wait) => {
                    out.wait_ms = time::ms_ceil(wait);
                    OCER_VERDICT_REASON_WAIT_TOO_LONG
                }
                SuspendReason::NotSupported(StatusCode(s)) => {
                    out.status = s;
                    OCER_VERDICT_REASON_NOT_SUPPORTED
                }
                SuspendReason::AuthenticationFailed(StatusCode(s)) => {
                    out.status = s;
                    OCER_VERDICT_REASON_AUTHENTICATION_FAILED
                }
            };
        }
        Verdict::RetryAt { at, cause } => {
            out.kind = OCER_VERDICT_RETRY_AT;
            out.at_ms = time::ms_of(at);
            out.reason = match cause {
                RetryCause::RetryAfter => OCER_VERDICT_REASON_RETRY_AFTER,
                RetryCause::Backoff => OCER_VERDICT_REASON_BACKOFF,
            };
        }
    }
    out
}

/// The integer fields of a verdict C hands back (the bool is not read: a
/// verdict C assembled itself may hold any byte there).
#[derive(Debug, Clone, Copy)]
pub(crate) struct VerdictFields {
    pub(crate) kind: ocer_verdict_kind,
    pub(crate) reason: ocer_verdict_reason,
    pub(crate) status: u16,
    pub(crate) at_ms: u64,
    pub(crate) wait_ms: u64,
}

/// The Rust verdict of the fields of a C one; a combination `verdict_out`
/// never makes is INVALID_ARGUMENT.
pub(crate) fn verdict_from_c(v: VerdictFields) -> Result<Verdict, Failure> {
    let bad = || {
        Failure::invalid(format!(
            "not a verdict: kind {} with reason {}",
            v.kind, v.reason
        ))
    };
    let status = StatusCode(v.status);
    Ok(match (v.kind, v.reason) {
        (OCER_VERDICT_DELIVERED, OCER_VERDICT_REASON_NONE) => Verdict::Delivered,
        (OCER_VERDICT_AUTHENTICATE, OCER_VERDICT_REASON_NONE) => Verdict::Authenticate,
        (OCER_VERDICT_DISCARD, OCER_VERDICT_REASON_TOO_LARGE) => {
            Verdict::Discard(DiscardReason::TooLarge)
        }
        (OCER_VERDICT_DISCARD, OCER_VERDICT_REASON_REJECTED) => {
            Verdict::Discard(DiscardReason::Rejected(status))
        }
        (OCER_VERDICT_DISCARD, OCER_VERDICT_REASON_ATTEMPTS_EXHAUSTED) => {
            Verdict::Discard(DiscardReason::AttemptsExhausted)
        }
        (OCER_VERDICT_SUSPEND_SESSION, reason) => Verdict::SuspendSession(match reason {
            OCER_VERDICT_REASON_SERVICE_NOT_AVAILABLE => SuspendReason::ServiceNotAvailable,
            OCER_VERDICT_REASON_NOT_ENABLED => SuspendReason::NotEnabled,
            OCER_VERDICT_REASON_WAIT_TOO_LONG => {
                SuspendReason::WaitTooLong(time::duration(v.wait_ms))
            }
            OCER_VERDICT_REASON_NOT_SUPPORTED => SuspendReason::NotSupported(status),
            OCER_VERDICT_REASON_AUTHENTICATION_FAILED => {
                SuspendReason::AuthenticationFailed(status)
            }
            _ => return Err(bad()),
        }),
        (OCER_VERDICT_RETRY_AT, reason) => Verdict::RetryAt {
            at: time::instant(v.at_ms, "verdict.at_ms")?,
            cause: match reason {
                OCER_VERDICT_REASON_RETRY_AFTER => RetryCause::RetryAfter,
                OCER_VERDICT_REASON_BACKOFF => RetryCause::Backoff,
                _ => return Err(bad()),
            },
        },
        _ => return Err(bad()),
    })
}

/// The knobs of the retry policy. Fill it with `ocer_retry_policy_default`
/// and change what you need.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ocer_retry_policy {
    /// Attempts per report, the first included.
    pub max_attempts: u32,
    /// The backoff before the second attempt, in ms.
    pub initial_backoff_ms: u64,
    /// The longest backoff, in ms.
    pub max_backoff_ms: u64,
    /// The longest Retry-After waited for within a login session, in ms.
    pub max_retry_after_ms: u64,
}

/// The default policy: 6 attempts, backoff from 10 s doubling to 10 min, a
/// Retry-After of up to an hour waited for.
///
/// # Safety
///
/// `policy_out` is valid for writing.
#[no_mangle]
pub unsafe extern "C" fn ocer_retry_policy_default(
    policy_out: *mut ocer_retry_policy,
) -> ocer_result {
    guard(|| {
        // SAFETY: the caller's contract for policy_out.
        let out = unsafe { ptr::out(policy_out, "policy_out") }?;
        let d = RetryPolicy::default();
        out.put(ocer_retry_policy {
            max_attempts: d.max_attempts,
            initial_backoff_ms: time::ms_ceil(d.initial_backoff),
            max_backoff_ms: time::ms_ceil(d.max_backoff),
            max_retry_after_ms: time::ms_ceil(d.max_retry_after),
        });
        Ok(())
    })
}

pub(crate) struct RetryObject {
    state: ReportRetry,
    policy: RetryPolicy,
}

/// The retry state of one report.
///
/// Made by `ocer_retry_new`; free it with `ocer_retry_free`.
///
/// Thread-safety: mutable; use it from one thread at a time (it may move
/// between threads).
pub struct ocer_retry {
    _private: [u8; 0],
}

impl Object for ocer_retry {
    type Rust = RetryObject;
}

/// The retry state of a report that has had `attempts` attempts already (0
/// for a new one; more when it is read back from storage after a restart).
/// `seed` drives the backoff jitter: give each report its own random one.
/// `policy` may be NULL for the default.
///
/// # Safety
///
/// `policy` is NULL or points to an `ocer_retry_policy`; `retry_out` is valid
/// for writing a pointer.
#[no_mangle]
pub unsafe extern "C" fn ocer_retry_new(
    seed: u64,
    attempts: u32,
    policy: *const ocer_retry_policy,
    retry_out: *mut *mut ocer_retry,
) -> ocer_result {
    guard(|| {
        // SAFETY: the caller's contract for retry_out.
        let out = unsafe { ptr::out(retry_out, "retry_out") }?;
        // SAFETY: the caller's contract for policy.
        let policy =
            unsafe { ptr::opt_in(policy) }.map_or_else(RetryPolicy::default, |p| RetryPolicy {
                max_attempts: p.max_attempts,
                initial_backoff: time::duration(p.initial_backoff_ms),
                max_backoff: time::duration(p.max_backoff_ms),
                max_retry_after: time::duration(p.max_retry_after_ms),
            });
        out.put(ptr::into_raw(RetryObject {
            state: ReportRetry::resume(attempts, seed),
            policy,
        }));
        Ok(())
    })
}

/// Records an attempt that got a final response at `now_ms`, and decides.
///
/// `status` is the response's status; `diagnostics` its `ms-diagnostics` /
/// `ms-diagnostics-public` header values (without the header name; a value
/// that does not parse still counts as present, as on the wire);
/// `retry_after` its `Retry-After` value, or NULL when it had none (a value
/// that does not parse is ignored and flagged in the verdict).
///
/// # Safety
///
/// `retry` is NULL or a live `ocer_retry` no other thread is using;
/// `diagnostics` is NULL (with count 0) or points to `diagnostics_count`
/// `ocer_str`s whose bytes are readable; `retry_after` is NULL or points to
/// `retry_after_len` readable bytes; `verdict_out` is valid for writing.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn ocer_retry_on_response(
    retry: *mut ocer_retry,
    status: u16,
    diagnostics: *const ocer_str,
    diagnostics_count: usize,
    retry_after: *const u8,
    retry_after_len: usize,
    now_ms: u64,
    verdict_out: *mut ocer_verdict,
) -> ocer_result {
    guard(|| {
        // SAFETY: the caller's contract for verdict_out.
        let out = unsafe { ptr::out(verdict_out, "verdict_out") }?;
        // SAFETY: the caller's contract for retry.
        let retry = unsafe { ptr::borrow_mut(retry, "retry") }?;
        // SAFETY: the caller's contract for diagnostics.
        let values = unsafe { ptr::slice_in(diagnostics, diagnostics_count, "diagnostics") }?;
        let status = StatusCode(status);
        let mut observed = Vec::with_capacity(values.len());
        for value in values {
            // SAFETY: the caller's contract for the strings of diagnostics.
            let raw = unsafe { ptr::ocer_str_in(*value, "diagnostics[i]") }?;
            // The policy reads only the ErrorId; the kind is immaterial to it.
            observed.push(ObservedDiagnostic {
                kind: HeaderKind::Private,
                origin: DiagOrigin::Final(status),
                at: Duration::ZERO,
                raw: raw.to_owned(),
                truncated: false,
                parsed: DiagnosticsHeader::parse(HeaderKind::Private, raw),
            });
        }
        let (retry_after, ignored) = if retry_after.is_null() {
            (None, false)
        } else {
            // SAFETY: the caller's contract for retry_after.
            let text = unsafe { ptr::str_in(retry_after, retry_after_len, "retry_after") }?;
            match RetryAfter::parse(text) {
                Ok(value) => (Some(value), false),
                Err(_) => (None, true),
            }
        };
        let now = time::instant(now_ms, "now_ms")?;
        let outcome = Outcome::Response(ServiceResponse {
            status,
            diagnostics: &observed,
            retry_after: retry_after.as_ref(),
        });
        let verdict = retry.state.on_outcome(&retry.policy, outcome, now);
        out.put(verdict_to_c(verdict, ignored));
        Ok(())
    })
}

/// Records an attempt that got no final response at `now_ms` — `ending` is
/// `OCER_ENDING_TIMEOUT` (the timer fired) or `OCER_ENDING_TRANSPORT` —
/// and decides.
///
/// Errors: `OCER_RESULT_INVALID_ARGUMENT` (any other ending).
///
/// # Safety
///
/// `retry` is NULL or a live `ocer_retry` no other thread is using;
/// `verdict_out` is valid for writing.
#[no_mangle]
pub unsafe extern "C" fn ocer_retry_on_unanswered(
    retry: *mut ocer_retry,
    ending: ocer_ending,
    now_ms: u64,
    verdict_out: *mut ocer_verdict,
) -> ocer_result {
    guard(|| {
        // SAFETY: the caller's contract for verdict_out.
        let out = unsafe { ptr::out(verdict_out, "verdict_out") }?;
        // SAFETY: the caller's contract for retry.
        let retry = unsafe { ptr::borrow_mut(retry, "retry") }?;
        let outcome = match ending {
            OCER_ENDING_TIMEOUT => Outcome::Timeout,
            OCER_ENDING_TRANSPORT => Outcome::TransportError,
            other => {
                return Err(Failure::invalid(format!(
                    "ocer_retry_on_unanswered takes a timeout or transport ending, not {other}"
                )))
            }
        };
        let now = time::instant(now_ms, "now_ms")?;
        let verdict = retry.state.on_outcome(&retry.policy, outcome, now);
        out.put(verdict_to_c(verdict, false));
        Ok(())
    })
}

/// Attempts recorded so far (store it with the report, to resume after a
/// restart).
///
/// # Safety
///
/// `retry` is NULL or a live `ocer_retry` no other thread is mutating;
/// `attempts_out` is valid for writing.
#[no_mangle]
pub unsafe extern "C" fn ocer_retry_attempts(
    retry: *const ocer_retry,
    attempts_out: *mut u32,
) -> ocer_result {
    guard(|| {
        // SAFETY: the caller's contract for attempts_out.
        let out = unsafe { ptr::out(attempts_out, "attempts_out") }?;
        // SAFETY: the caller's contract for retry.
        let retry = unsafe { ptr::borrow(retry, "retry") }?;
        out.put(retry.state.attempts());
        Ok(())
    })
}

/// Frees a retry state. NULL is a no-op.
///
/// # Safety
///
/// `retry` is NULL or a live `ocer_retry`, not used after this call.
#[no_mangle]
pub unsafe extern "C" fn ocer_retry_free(retry: *mut ocer_retry) {
    // SAFETY: the caller's contract for retry.
    guard_free(|| unsafe { ptr::free(retry) });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(v: &ocer_verdict) -> VerdictFields {
        VerdictFields {
            kind: v.kind,
            reason: v.reason,
            status: v.status,
            at_ms: v.at_ms,
            wait_ms: v.wait_ms,
        }
    }

    #[test]
    fn every_verdict_round_trips_through_c() {
        let at = time::instant(90_000, "t").unwrap();
        let all = [
            Verdict::Delivered,
            Verdict::Authenticate,
            Verdict::Discard(DiscardReason::TooLarge),
            Verdict::Discard(DiscardReason::Rejected(StatusCode(404))),
            Verdict::Discard(DiscardReason::AttemptsExhausted),
            Verdict::SuspendSession(SuspendReason::ServiceNotAvailable),
            Verdict::SuspendSession(SuspendReason::NotEnabled),
            Verdict::SuspendSession(SuspendReason::WaitTooLong(Duration::from_secs(7200))),
            Verdict::SuspendSession(SuspendReason::NotSupported(StatusCode(501))),
            Verdict::SuspendSession(SuspendReason::AuthenticationFailed(StatusCode(407))),
            Verdict::RetryAt {
                at,
                cause: RetryCause::RetryAfter,
            },
            Verdict::RetryAt {
                at,
                cause: RetryCause::Backoff,
            },
        ];
        let mut kinds = std::collections::HashSet::new();
        for v in all {
            let c = verdict_to_c(v, false);
            assert_eq!(verdict_from_c(fields(&c)).unwrap(), v);
            kinds.insert((c.kind, c.reason));
        }
        assert_eq!(kinds.len(), all.len());
    }

    #[test]
    fn made_up_verdicts_are_refused() {
        for (kind, reason) in [
            (OCER_VERDICT_DELIVERED, OCER_VERDICT_REASON_BACKOFF),
            (OCER_VERDICT_DISCARD, OCER_VERDICT_REASON_NONE),
            (OCER_VERDICT_SUSPEND_SESSION, OCER_VERDICT_REASON_TOO_LARGE),
            (OCER_VERDICT_RETRY_AT, OCER_VERDICT_REASON_NOT_ENABLED),
            (99, OCER_VERDICT_REASON_NONE),
        ] {
            let v = VerdictFields {
                kind,
                reason,
                status: 0,
                at_ms: 0,
                wait_ms: 0,
            };
            let e = verdict_from_c(v).unwrap_err();
            assert_eq!(e.code, ocer_result::OCER_RESULT_INVALID_ARGUMENT);
        }
    }
}
