//! `ocer_collector`: watches one client transaction (the request, then its
//! responses in arrival order, and BYE / CANCEL the server sends) and gives
//! its `ocer_record`.

use ocer::diag::{Collector, CollectorLimits};
use ocer::sip::{FramingLimits, RequestIdentity, SipMessage, TransportFailure};

use crate::guard::{guard, guard_free};
use crate::ptr::{self, Object};
use crate::record::{ocer_record, ocer_transport_failure_kind, transport_kind_in};
use crate::result::{ocer_result, Failure};
use crate::time;

/// Caps on what one collector keeps and on the messages it takes. Fill it
/// with `ocer_collector_limits_default` and change what you need.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ocer_collector_limits {
    /// Diagnostics kept from provisional responses (progress reports); later
    /// ones are counted as dropped.
    pub max_progress_reports: usize,
    /// Provisional responses kept.
    pub max_provisional_responses: usize,
    /// Server-sent BYE / CANCEL kept.
    pub max_server_requests: usize,
    /// Characters kept of one diagnostics header value (at most 65,535, the
    /// §2.2.2 limit, whatever is set).
    pub max_diag_header_chars: usize,
    /// The largest header section of a message, in bytes.
    pub max_header_bytes: usize,
    /// The largest message body, in bytes.
    pub max_body_bytes: usize,
}

impl ocer_collector_limits {
    fn defaults() -> Self {
        let c = CollectorLimits::default();
        let f = FramingLimits::default();
        ocer_collector_limits {
            max_progress_reports: c.max_progress_reports,
            max_provisional_responses: c.max_provisional_responses,
            max_server_requests: c.max_server_requests,
            max_diag_header_chars: c.max_diag_header_chars,
            max_header_bytes: f.max_header_bytes,
            max_body_bytes: f.max_body_bytes,
        }
    }
}

/// The default limits: 32 progress reports and provisional responses, 4
/// server requests, 65,535-character headers, 128 KiB of headers and 4 MiB of
/// body per message.
///
/// # Safety
///
/// `limits_out` is valid for writing.
#[no_mangle]
pub unsafe extern "C" fn ocer_collector_limits_default(
    limits_out: *mut ocer_collector_limits,
) -> ocer_result {
    guard(|| {
        // SAFETY: the caller's contract for limits_out.
        let out = unsafe { ptr::out(limits_out, "limits_out") }?;
        out.put(ocer_collector_limits::defaults());
        Ok(())
    })
}

pub(crate) struct CollectorObject {
    collector: Collector,
    framing: FramingLimits,
}

/// Collects the diagnostics of one client transaction.
///
/// Made by `ocer_collector_new`; consumed by `ocer_collector_finish`, or freed
/// with `ocer_collector_free`.
///
/// Thread-safety: mutable; use it from one thread at a time (it may move
/// between threads).
pub struct ocer_collector {
    _private: [u8; 0],
}

impl Object for ocer_collector {
    type Rust = CollectorObject;
}

/// Starts collecting for a request: `request` is the whole SIP request as
/// sent (From, To, Call-ID and CSeq are read from it), `sent_ms` when it was
/// sent on the caller's millisecond clock. `limits` may be NULL for the
/// defaults.
///
/// Errors: `OCER_RESULT_SIP_MALFORMED`, `OCER_RESULT_SIP_REQUEST_IDENTITY`,
/// `OCER_RESULT_TIME_OUT_OF_RANGE`, `OCER_RESULT_NULL_PARAMETER`.
///
/// # Safety
///
/// `request` points to `request_len` readable bytes; `limits` is NULL or
/// points to an `ocer_collector_limits`; `collector_out` is valid for writing
/// a pointer.
#[no_mangle]
pub unsafe extern "C" fn ocer_collector_new(
    request: *const u8,
    request_len: usize,
    sent_ms: u64,
    limits: *const ocer_collector_limits,
    collector_out: *mut *mut ocer_collector,
) -> ocer_result {
    guard(|| {
        // SAFETY: the caller's contract for collector_out.
        let out = unsafe { ptr::out(collector_out, "collector_out") }?;
        // SAFETY: the caller's contract for limits.
        let limits = unsafe { ptr::opt_in(limits) }
            .copied()
            .unwrap_or_else(ocer_collector_limits::defaults);
        // SAFETY: the caller's contract for request.
        let bytes = unsafe { ptr::bytes_in(request, request_len, "request") }?;
        let framing = FramingLimits {
            max_header_bytes: limits.max_header_bytes,
            max_body_bytes: limits.max_body_bytes,
        };
        let message =
            SipMessage::parse(bytes, &framing).map_err(|e| Failure::from(e).context("request"))?;
        let identity = RequestIdentity::from_request(&message)?;
        let started = time::instant(sent_ms, "sent_ms")?;
        let collector = Collector::new(
            identity,
            started,
            CollectorLimits {
                max_progress_reports: limits.max_progress_reports,
                max_provisional_responses: limits.max_provisional_responses,
                max_server_requests: limits.max_server_requests,
                max_diag_header_chars: limits.max_diag_header_chars,
            },
        );
        out.put(ptr::into_raw(CollectorObject { collector, framing }));
        Ok(())
    })
}

/// Observes one response to the request, in arrival order, received at
/// `now_ms`: provisional ones (each `101 Progress Report`) and the final one.
/// Responses after the final one are counted, not kept.
///
/// Errors: `OCER_RESULT_SIP_MALFORMED`, `OCER_RESULT_COLLECTOR_WRONG_MESSAGE_KIND`
/// (a request), `OCER_RESULT_COLLECTOR_NOT_THIS_TRANSACTION` (another Call-ID
/// or CSeq); the collector is unchanged by a failed call.
///
/// # Safety
///
/// `collector` is NULL or a live `ocer_collector` no other thread is using;
/// `response` points to `response_len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn ocer_collector_observe_response(
    collector: *mut ocer_collector,
    response: *const u8,
    response_len: usize,
    now_ms: u64,
) -> ocer_result {
    guard(|| {
        // SAFETY: the caller's contract for collector.
        let state = unsafe { ptr::borrow_mut(collector, "collector") }?;
        // SAFETY: the caller's contract for response.
        let bytes = unsafe { ptr::bytes_in(response, response_len, "response") }?;
        let message = SipMessage::parse(bytes, &state.framing)
            .map_err(|e| Failure::from(e).context("response"))?;
        let now = time::instant(now_ms, "now_ms")?;
        state.collector.observe_response(&message, now)?;
        Ok(())
    })
}

/// Observes a request the server sent in the transaction's dialog, received
/// at `now_ms`: a BYE (the server ended the call) or a CANCEL. Only its
/// Call-ID must match.
///
/// Errors: `OCER_RESULT_SIP_MALFORMED`, `OCER_RESULT_COLLECTOR_WRONG_MESSAGE_KIND`
/// (a response), `OCER_RESULT_COLLECTOR_NOT_BYE_OR_CANCEL`,
/// `OCER_RESULT_COLLECTOR_NOT_THIS_TRANSACTION`.
///
/// # Safety
///
/// `collector` is NULL or a live `ocer_collector` no other thread is using;
/// `request` points to `request_len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn ocer_collector_observe_server_request(
    collector: *mut ocer_collector,
    request: *const u8,
    request_len: usize,
    now_ms: u64,
) -> ocer_result {
    guard(|| {
        // SAFETY: the caller's contract for collector.
        let state = unsafe { ptr::borrow_mut(collector, "collector") }?;
        // SAFETY: the caller's contract for request.
        let bytes = unsafe { ptr::bytes_in(request, request_len, "request") }?;
        let message = SipMessage::parse(bytes, &state.framing)
            .map_err(|e| Failure::from(e).context("request"))?;
        let now = time::instant(now_ms, "now_ms")?;
        state.collector.observe_server_request(&message, now)?;
        Ok(())
    })
}

/// Whether the final response has been observed.
///
/// # Safety
///
/// `collector` is NULL or a live `ocer_collector` no other thread is
/// mutating; `has_final_out` is valid for writing.
#[no_mangle]
pub unsafe extern "C" fn ocer_collector_has_final(
    collector: *const ocer_collector,
    has_final_out: *mut bool,
) -> ocer_result {
    guard(|| {
        // SAFETY: the caller's contract for has_final_out.
        let out = unsafe { ptr::out(has_final_out, "has_final_out") }?;
        // SAFETY: the caller's contract for collector.
        let state = unsafe { ptr::borrow(collector, "collector") }?;
        out.put(state.collector.has_final());
        Ok(())
    })
}

/// The transaction timer fired before a final response (the record's
/// ending becomes `OCER_ENDING_TIMEOUT`; ignored once it has ended).
///
/// # Safety
///
/// `collector` is NULL or a live `ocer_collector` no other thread is using.
#[no_mangle]
pub unsafe extern "C" fn ocer_collector_observe_timeout(
    collector: *mut ocer_collector,
) -> ocer_result {
    guard(|| {
        // SAFETY: the caller's contract for collector.
        let state = unsafe { ptr::borrow_mut(collector, "collector") }?;
        state.collector.observe_timeout();
        Ok(())
    })
}

/// The transport failed before a final response: `kind` (an
/// `OCER_TRANSPORT_FAILURE_*` constant) and the raw OS error (`errno`, or the
/// `WSA*` code on Windows; 0 if none). Display maps it to the Windows error
/// a Windows client would have met. Ignored once the transaction has ended.
///
/// Errors: `OCER_RESULT_INVALID_ARGUMENT` (unknown kind).
///
/// # Safety
///
/// `collector` is NULL or a live `ocer_collector` no other thread is using.
#[no_mangle]
pub unsafe extern "C" fn ocer_collector_observe_transport_failure(
    collector: *mut ocer_collector,
    kind: ocer_transport_failure_kind,
    os_error: i32,
) -> ocer_result {
    guard(|| {
        let kind = transport_kind_in(kind)?;
        // SAFETY: the caller's contract for collector.
        let state = unsafe { ptr::borrow_mut(collector, "collector") }?;
        let mut failure = TransportFailure::new(kind, kind.as_str());
        failure.os_error = (os_error != 0).then_some(os_error);
        state.collector.observe_transport_failure(failure);
        Ok(())
    })
}

/// The user cancelled the request (the record's ending becomes
/// `OCER_ENDING_CANCELLED`: nothing to show or report).
///
/// # Safety
///
/// `collector` is NULL or a live `ocer_collector` no other thread is using.
#[no_mangle]
pub unsafe extern "C" fn ocer_collector_observe_cancel(
    collector: *mut ocer_collector,
) -> ocer_result {
    guard(|| {
        // SAFETY: the caller's contract for collector.
        let state = unsafe { ptr::borrow_mut(collector, "collector") }?;
        state.collector.observe_cancel();
        Ok(())
    })
}

/// Ends collection: the collector becomes the transaction's record.
///
/// On `OCER_RESULT_OK` the collector has been consumed (do not use or free
/// it) and `*record_out` is a new record to free with `ocer_record_free`. On
/// any other result the collector is untouched and still yours.
///
/// # Safety
///
/// `collector` is NULL or a live `ocer_collector` no other thread is using;
/// `record_out` is valid for writing a pointer.
#[no_mangle]
pub unsafe extern "C" fn ocer_collector_finish(
    collector: *mut ocer_collector,
    record_out: *mut *mut ocer_record,
) -> ocer_result {
    guard(|| {
        // SAFETY: the caller's contract for record_out.
        let out = unsafe { ptr::out(record_out, "record_out") }?;
        // SAFETY: the caller's contract for collector, which C gives up on
        // success, the only outcome past this point.
        let state = unsafe { ptr::take(collector) }.ok_or_else(|| Failure::null("collector"))?;
        out.put(ptr::into_raw(state.collector.finish()));
        Ok(())
    })
}

/// Frees a collector that was not finished. NULL is a no-op.
///
/// # Safety
///
/// `collector` is NULL or a live `ocer_collector`, not used after this call.
#[no_mangle]
pub unsafe extern "C" fn ocer_collector_free(collector: *mut ocer_collector) {
    // SAFETY: the caller's contract for collector.
    guard_free(|| unsafe { ptr::free(collector) });
}
