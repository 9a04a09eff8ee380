//! `ocer_session_gate`: whether reports may be sent in this login session,
//! given every verdict so far (MS-OCER §3.1.5: a suspension lasts the
//! session; a Retry-After holds back every report, not just the one).

use ocer::report::{SessionGate, Verdict};

use crate::guard::{guard, guard_free};
use crate::ptr::{self, Object};
use crate::result::{ocer_result, Failure};
use crate::retry::{ocer_verdict, verdict_from_c, verdict_to_c, VerdictFields};
use crate::time;

/// The reporting gate of one login session.
///
/// Made by `ocer_session_gate_new` at each login; free it with
/// `ocer_session_gate_free`.
///
/// Thread-safety: mutable; use it from one thread at a time (it may move
/// between threads).
pub struct ocer_session_gate {
    _private: [u8; 0],
}

impl Object for ocer_session_gate {
    type Rust = SessionGate;
}

/// A gate for a new login session: open.
///
/// # Safety
///
/// `gate_out` is valid for writing a pointer.
#[no_mangle]
pub unsafe extern "C" fn ocer_session_gate_new(
    gate_out: *mut *mut ocer_session_gate,
) -> ocer_result {
    guard(|| {
        // SAFETY: the caller's contract for gate_out.
        let out = unsafe { ptr::out(gate_out, "gate_out") }?;
        out.put(ptr::into_raw(SessionGate::new()));
        Ok(())
    })
}

/// Takes in a verdict from `ocer_retry_on_*`: a suspension closes the gate
/// for the session, and a Retry-After holds every report back until it has
/// passed.
///
/// Errors: `OCER_RESULT_INVALID_ARGUMENT` for a kind / reason pair no
/// `ocer_retry` call makes.
///
/// # Safety
///
/// `gate` is NULL or a live `ocer_session_gate` no other thread is using;
/// `verdict` is NULL or points to an `ocer_verdict`.
#[no_mangle]
pub unsafe extern "C" fn ocer_session_gate_observe(
    gate: *mut ocer_session_gate,
    verdict: *const ocer_verdict,
) -> ocer_result {
    guard(|| {
        // SAFETY: the caller's contract for gate.
        let gate = unsafe { ptr::borrow_mut(gate, "gate") }?;
        if verdict.is_null() {
            return Err(Failure::null("verdict"));
        }
        // SAFETY: non-NULL and, by the contract, an ocer_verdict. Reading the
        // integer fields by place never asserts its bool is 0 or 1.
        let fields = unsafe {
            VerdictFields {
                kind: std::ptr::addr_of!((*verdict).kind).read(),
                reason: std::ptr::addr_of!((*verdict).reason).read(),
                status: std::ptr::addr_of!((*verdict).status).read(),
                at_ms: std::ptr::addr_of!((*verdict).at_ms).read(),
                wait_ms: std::ptr::addr_of!((*verdict).wait_ms).read(),
            }
        };
        gate.observe(&verdict_from_c(fields)?);
        Ok(())
    })
}

/// Whether a report may be sent at `now_ms`.
///
/// # Safety
///
/// `gate` is NULL or a live `ocer_session_gate` no other thread is mutating;
/// `may_send_out` is valid for writing.
#[no_mangle]
pub unsafe extern "C" fn ocer_session_gate_may_send(
    gate: *const ocer_session_gate,
    now_ms: u64,
    may_send_out: *mut bool,
) -> ocer_result {
    guard(|| {
        // SAFETY: the caller's contract for may_send_out.
        let out = unsafe { ptr::out(may_send_out, "may_send_out") }?;
        // SAFETY: the caller's contract for gate.
        let gate = unsafe { ptr::borrow(gate, "gate") }?;
        out.put(gate.may_send(time::instant(now_ms, "now_ms")?));
        Ok(())
    })
}

/// The earliest time a report may be sent, at `now_ms` or later; when the
/// session is suspended, `*suspended_out` is true and `*at_ms_out` is 0.
///
/// # Safety
///
/// `gate` is NULL or a live `ocer_session_gate` no other thread is mutating;
/// `suspended_out` and `at_ms_out` are valid for writing.
#[no_mangle]
pub unsafe extern "C" fn ocer_session_gate_next_send_at(
    gate: *const ocer_session_gate,
    now_ms: u64,
    suspended_out: *mut bool,
    at_ms_out: *mut u64,
) -> ocer_result {
    guard(|| {
        // SAFETY: the caller's contract for suspended_out.
        let suspended_out = unsafe { ptr::out(suspended_out, "suspended_out") }?;
        // SAFETY: the caller's contract for at_ms_out.
        let at_out = unsafe { ptr::out(at_ms_out, "at_ms_out") }?;
        // SAFETY: the caller's contract for gate.
        let gate = unsafe { ptr::borrow(gate, "gate") }?;
        let next = gate.next_send_at(time::instant(now_ms, "now_ms")?);
        suspended_out.put(next.is_none());
        at_out.put(next.map_or(0, time::ms_of));
        Ok(())
    })
}

/// Why the session is suspended, as the verdict that suspended it (kind
/// `OCER_VERDICT_SUSPEND_SESSION`).
///
/// Errors: `OCER_RESULT_NOT_FOUND` while the gate is not suspended.
///
/// # Safety
///
/// `gate` is NULL or a live `ocer_session_gate` no other thread is mutating;
/// `verdict_out` is valid for writing.
#[no_mangle]
pub unsafe extern "C" fn ocer_session_gate_suspension(
    gate: *const ocer_session_gate,
    verdict_out: *mut ocer_verdict,
) -> ocer_result {
    guard(|| {
        // SAFETY: the caller's contract for verdict_out.
        let out = unsafe { ptr::out(verdict_out, "verdict_out") }?;
        // SAFETY: the caller's contract for gate.
        let gate = unsafe { ptr::borrow(gate, "gate") }?;
        let reason = gate.suspended().ok_or_else(|| {
            Failure::new(
                ocer_result::OCER_RESULT_NOT_FOUND,
                "the session is not suspended",
            )
        })?;
        out.put(verdict_to_c(Verdict::SuspendSession(reason), false));
        Ok(())
    })
}

/// Frees a gate. NULL is a no-op.
///
/// # Safety
///
/// `gate` is NULL or a live `ocer_session_gate`, not used after this call.
#[no_mangle]
pub unsafe extern "C" fn ocer_session_gate_free(gate: *mut ocer_session_gate) {
    // SAFETY: the caller's contract for gate.
    guard_free(|| unsafe { ptr::free(gate) });
}
