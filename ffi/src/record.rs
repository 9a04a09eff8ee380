//! `ocer_record`: everything one transaction received that matters for
//! error display and reporting.

use ocer::diag::{DiagOrigin, Ending, ErrorId, ObservedDiagnostic, TransactionRecord};
use ocer::sip::{StatusCode, TransportFailureKind};

use crate::diag_header::{header_kind_out, ocer_diag_header, ocer_header_kind};
use crate::guard::{guard, guard_free};
use crate::ptr::{self, ocer_str, Object};
use crate::result::{ocer_result, Failure};
use crate::time;

/// The record of one transaction.
///
/// Made by `ocer_collector_finish`; free it with `ocer_record_free`. Its
/// strings and lent headers live as long as it does.
///
/// Thread-safety: immutable; any number of threads may read one at once.
pub struct ocer_record {
    _private: [u8; 0],
}

impl Object for ocer_record {
    type Rust = TransactionRecord;
}

/// Where a diagnostics header came: one of the `OCER_DIAG_ORIGIN_*` constants.
pub type ocer_diag_origin = u32;
/// On a provisional (1xx) response: a progress report.
pub const OCER_DIAG_ORIGIN_PROVISIONAL: ocer_diag_origin = 0;
/// On the final response.
pub const OCER_DIAG_ORIGIN_FINAL: ocer_diag_origin = 1;
/// On a BYE or CANCEL the server sent.
pub const OCER_DIAG_ORIGIN_SERVER_REQUEST: ocer_diag_origin = 2;

/// How a transaction ended: one of the `OCER_ENDING_*` constants. New values
/// may be added: treat one you do not know as `OCER_ENDING_OPEN`.
pub type ocer_ending = u32;
/// Not known to have ended: no final response came and the collector was not
/// told otherwise.
pub const OCER_ENDING_OPEN: ocer_ending = 0;
/// A final response came (`ocer_record_final_response`).
pub const OCER_ENDING_FINAL: ocer_ending = 1;
/// No final response before the transaction timer fired.
pub const OCER_ENDING_TIMEOUT: ocer_ending = 2;
/// The transport failed before a final response (`ocer_record_ending`
/// gives its kind and OS error).
pub const OCER_ENDING_TRANSPORT: ocer_ending = 3;
/// The user cancelled the request (a final response that followed is still
/// in `ocer_record_final_response`).
pub const OCER_ENDING_CANCELLED: ocer_ending = 4;

/// What kind of transport failure: one of the `OCER_TRANSPORT_FAILURE_*` constants.
pub type ocer_transport_failure_kind = u32;
/// Anything else.
pub const OCER_TRANSPORT_FAILURE_OTHER: ocer_transport_failure_kind = 0;
/// The connection was refused.
pub const OCER_TRANSPORT_FAILURE_CONNECTION_REFUSED: ocer_transport_failure_kind = 1;
/// The host or network is unreachable.
pub const OCER_TRANSPORT_FAILURE_UNREACHABLE: ocer_transport_failure_kind = 2;
/// Connecting timed out.
pub const OCER_TRANSPORT_FAILURE_TIMED_OUT: ocer_transport_failure_kind = 3;
/// The connection was reset or aborted.
pub const OCER_TRANSPORT_FAILURE_CONNECTION_RESET: ocer_transport_failure_kind = 4;
/// The peer closed the connection.
pub const OCER_TRANSPORT_FAILURE_CONNECTION_CLOSED: ocer_transport_failure_kind = 5;
/// The TLS handshake failed (not the certificate).
pub const OCER_TRANSPORT_FAILURE_TLS: ocer_transport_failure_kind = 6;
/// The server's certificate was refused.
pub const OCER_TRANSPORT_FAILURE_CERTIFICATE: ocer_transport_failure_kind = 7;
/// A message (the final response) could not be framed or parsed.
pub const OCER_TRANSPORT_FAILURE_FRAMING: ocer_transport_failure_kind = 8;
/// The request could not be sent.
pub const OCER_TRANSPORT_FAILURE_SEND: ocer_transport_failure_kind = 9;
/// Name resolution failed.
pub const OCER_TRANSPORT_FAILURE_RESOLVE: ocer_transport_failure_kind = 10;

const TRANSPORT_KINDS: [(ocer_transport_failure_kind, TransportFailureKind); 11] = [
    (OCER_TRANSPORT_FAILURE_OTHER, TransportFailureKind::Other),
    (
        OCER_TRANSPORT_FAILURE_CONNECTION_REFUSED,
        TransportFailureKind::ConnectionRefused,
    ),
    (
        OCER_TRANSPORT_FAILURE_UNREACHABLE,
        TransportFailureKind::Unreachable,
    ),
    (
        OCER_TRANSPORT_FAILURE_TIMED_OUT,
        TransportFailureKind::TimedOut,
    ),
    (
        OCER_TRANSPORT_FAILURE_CONNECTION_RESET,
        TransportFailureKind::ConnectionReset,
    ),
    (
        OCER_TRANSPORT_FAILURE_CONNECTION_CLOSED,
        TransportFailureKind::ConnectionClosed,
    ),
    (OCER_TRANSPORT_FAILURE_TLS, TransportFailureKind::Tls),
    (
        OCER_TRANSPORT_FAILURE_CERTIFICATE,
        TransportFailureKind::Certificate,
    ),
    (
        OCER_TRANSPORT_FAILURE_FRAMING,
        TransportFailureKind::Framing,
    ),
    (OCER_TRANSPORT_FAILURE_SEND, TransportFailureKind::Send),
    (
        OCER_TRANSPORT_FAILURE_RESOLVE,
        TransportFailureKind::Resolve,
    ),
];

pub(crate) fn transport_kind_in(
    kind: ocer_transport_failure_kind,
) -> Result<TransportFailureKind, Failure> {
    TRANSPORT_KINDS
        .iter()
        .find(|(c, _)| *c == kind)
        .map(|(_, k)| *k)
        .ok_or_else(|| Failure::invalid(format!("unknown ocer_transport_failure_kind {kind}")))
}

fn transport_kind_out(kind: TransportFailureKind) -> ocer_transport_failure_kind {
    TRANSPORT_KINDS
        .iter()
        .find(|(_, k)| *k == kind)
        .map_or(OCER_TRANSPORT_FAILURE_OTHER, |(c, _)| *c)
}

/// How the transaction ended (`ocer_record_ending`). Fields that do not
/// apply to `ending` are 0.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ocer_record_end {
    /// One of the `OCER_ENDING_*` constants.
    pub ending: ocer_ending,
    /// `OCER_ENDING_TRANSPORT`: what failed.
    pub transport: ocer_transport_failure_kind,
    /// `OCER_ENDING_TRANSPORT`: the raw OS error, 0 if none.
    pub os_error: i32,
    /// `OCER_ENDING_TRANSPORT`: the Windows error display maps it to (what
    /// a Windows client would have met), 0 if none.
    pub windows: u32,
}

/// What identifies the request (the fields a report names). Absent optional
/// fields are `{NULL, 0}`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ocer_request_identity {
    /// The From URI (addr-spec only).
    pub from_uri: ocer_str,
    /// The From tag; optional.
    pub from_tag: ocer_str,
    /// The To URI (addr-spec only).
    pub to_uri: ocer_str,
    /// The To tag, from the responses; optional.
    pub to_tag: ocer_str,
    /// The Call-ID.
    pub call_id: ocer_str,
    /// The CSeq method, e.g. "INVITE".
    pub method: ocer_str,
    /// The Content-Type, verbatim; optional.
    pub content_type: ocer_str,
    /// The CSeq number.
    pub cseq: u32,
}

/// The final response, when one came.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ocer_final_response {
    /// The status, 200–699.
    pub status: u16,
    /// Whether it had a `Retry-After` that parsed.
    pub has_retry_after: bool,
    /// The reason phrase as received.
    pub reason_phrase: ocer_str,
    /// When it came, in ms from when the request was sent.
    pub at_ms: u64,
    /// The `Retry-After` delay in seconds, when `has_retry_after`.
    pub retry_after_seconds: u32,
}

/// How much the record holds, and what it saw but did not keep.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ocer_counts {
    /// Diagnostics headers in all, the count `ocer_record_diagnostic` takes.
    pub diagnostics: usize,
    /// Diagnostics headers of the final response.
    pub final_diagnostics: usize,
    /// Diagnostics headers of provisional responses (progress reports).
    pub progress_reports: usize,
    /// Provisional responses kept.
    pub provisional_responses: usize,
    /// Server-sent BYE / CANCEL kept.
    pub server_requests: usize,
    /// `Warning` values of the final response, the count
    /// `ocer_record_warning` takes.
    pub warnings: usize,
    /// Progress-report diagnostics beyond the limit, not kept.
    pub dropped_progress_reports: u32,
    /// Provisional responses beyond the limit, not kept.
    pub dropped_provisional_responses: u32,
    /// Server requests beyond the limit, not kept.
    pub dropped_server_requests: u32,
    /// Diagnostics values cut to the length limit.
    pub truncated_headers: u32,
    /// Responses that came after the final one (retransmissions, forks).
    pub responses_after_final: u32,
}

/// One diagnostics header as received.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ocer_diagnostic {
    /// Which header.
    pub kind: ocer_header_kind,
    /// What message it came on.
    pub origin: ocer_diag_origin,
    /// The status of the response it came on; 0 for a server request.
    pub status: u16,
    /// Whether the value parsed; when false, `header` is NULL and `error_id`
    /// is 0.
    pub parsed: bool,
    /// Whether `raw` was cut to the length limit.
    pub truncated: bool,
    /// The ErrorId, when `parsed`.
    pub error_id: u32,
    /// The method of the server request it came on ("BYE", "CANCEL");
    /// `{NULL, 0}` on a response.
    pub method: ocer_str,
    /// When it came, in ms from when the request was sent.
    pub at_ms: u64,
    /// The value exactly as received (what a report carries).
    pub raw: ocer_str,
    /// The parsed value, lent by the record: never free it. NULL when the
    /// value did not parse.
    pub header: *const ocer_diag_header,
}

/// One `Warning` value of the final response.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ocer_warning {
    /// The warn-code, e.g. 399.
    pub code: u16,
    /// The warn-text, unquoted.
    pub text: ocer_str,
}

fn diagnostic_to_c(d: &ObservedDiagnostic) -> ocer_diagnostic {
    let (origin, status, method) = match &d.origin {
        DiagOrigin::Provisional(StatusCode(s)) => (OCER_DIAG_ORIGIN_PROVISIONAL, *s, None),
        DiagOrigin::Final(StatusCode(s)) => (OCER_DIAG_ORIGIN_FINAL, *s, None),
        DiagOrigin::ServerRequest(m) => (OCER_DIAG_ORIGIN_SERVER_REQUEST, 0, Some(m.as_str())),
    };
    let header = d.parsed.as_ref().ok();
    ocer_diagnostic {
        kind: header_kind_out(d.kind),
        origin,
        status,
        parsed: header.is_some(),
        truncated: d.truncated,
        error_id: header.map_or(0, |h| {
            let ErrorId(id) = h.error_id;
            id
        }),
        method: ocer_str::of_opt(method),
        at_ms: time::ms_ceil(d.at),
        raw: ocer_str::of(&d.raw),
        header: header.map_or(std::ptr::null(), ptr::lend::<ocer_diag_header>),
    }
}

/// The final status, or 0 when no final response came.
///
/// # Safety
///
/// `record` is NULL or a live `ocer_record`; `status_out` is valid for
/// writing.
#[no_mangle]
pub unsafe extern "C" fn ocer_record_final_status(
    record: *const ocer_record,
    status_out: *mut u16,
) -> ocer_result {
    guard(|| {
        // SAFETY: the caller's contract for status_out.
        let out = unsafe { ptr::out(status_out, "status_out") }?;
        // SAFETY: the caller's contract for record.
        let record = unsafe { ptr::borrow(record, "record") }?;
        out.put(record.final_status().map_or(0, |StatusCode(s)| s));
        Ok(())
    })
}

/// Whether the transaction failed: a final status of 300 or more, or no
/// final response at all.
///
/// # Safety
///
/// `record` is NULL or a live `ocer_record`; `failed_out` is valid for
/// writing.
#[no_mangle]
pub unsafe extern "C" fn ocer_record_is_failure(
    record: *const ocer_record,
    failed_out: *mut bool,
) -> ocer_result {
    guard(|| {
        // SAFETY: the caller's contract for failed_out.
        let out = unsafe { ptr::out(failed_out, "failed_out") }?;
        // SAFETY: the caller's contract for record.
        let record = unsafe { ptr::borrow(record, "record") }?;
        out.put(record.is_failure());
        Ok(())
    })
}

/// The final response.
///
/// Errors: `OCER_RESULT_NOT_FOUND` when none came.
///
/// # Safety
///
/// `record` is NULL or a live `ocer_record`; `final_out` is valid for
/// writing.
#[no_mangle]
pub unsafe extern "C" fn ocer_record_final_response(
    record: *const ocer_record,
    final_out: *mut ocer_final_response,
) -> ocer_result {
    guard(|| {
        // SAFETY: the caller's contract for final_out.
        let out = unsafe { ptr::out(final_out, "final_out") }?;
        // SAFETY: the caller's contract for record.
        let record = unsafe { ptr::borrow(record, "record") }?;
        let f = record.final_response().ok_or_else(|| {
            Failure::new(ocer_result::OCER_RESULT_NOT_FOUND, "no final response came")
        })?;
        out.put(ocer_final_response {
            status: f.status.0,
            has_retry_after: f.retry_after.is_some(),
            reason_phrase: ocer_str::of(&f.reason_phrase),
            at_ms: time::ms_ceil(f.at),
            retry_after_seconds: f.retry_after.as_ref().map_or(0, |r| r.seconds),
        });
        Ok(())
    })
}

/// How the transaction ended.
///
/// # Safety
///
/// `record` is NULL or a live `ocer_record`; `end_out` is valid for writing.
#[no_mangle]
pub unsafe extern "C" fn ocer_record_ending(
    record: *const ocer_record,
    end_out: *mut ocer_record_end,
) -> ocer_result {
    guard(|| {
        // SAFETY: the caller's contract for end_out.
        let out = unsafe { ptr::out(end_out, "end_out") }?;
        // SAFETY: the caller's contract for record.
        let record = unsafe { ptr::borrow(record, "record") }?;
        let mut end = ocer_record_end {
            ending: OCER_ENDING_OPEN,
            transport: OCER_TRANSPORT_FAILURE_OTHER,
            os_error: 0,
            windows: 0,
        };
        end.ending = match &record.ending {
            Ending::Final(_) => OCER_ENDING_FINAL,
            Ending::Timeout => OCER_ENDING_TIMEOUT,
            Ending::Transport(failure) => {
                end.transport = transport_kind_out(failure.kind);
                end.os_error = failure.os_error.unwrap_or(0);
                end.windows = ocer::display::WinError::from_transport(failure).map_or(0, |w| w.0);
                OCER_ENDING_TRANSPORT
            }
            Ending::Cancelled(_) => OCER_ENDING_CANCELLED,
            _ => OCER_ENDING_OPEN,
        };
        out.put(end);
        Ok(())
    })
}

/// The request's identity.
///
/// # Safety
///
/// `record` is NULL or a live `ocer_record`; `identity_out` is valid for
/// writing.
#[no_mangle]
pub unsafe extern "C" fn ocer_record_identity(
    record: *const ocer_record,
    identity_out: *mut ocer_request_identity,
) -> ocer_result {
    guard(|| {
        // SAFETY: the caller's contract for identity_out.
        let out = unsafe { ptr::out(identity_out, "identity_out") }?;
        // SAFETY: the caller's contract for record.
        let record = unsafe { ptr::borrow(record, "record") }?;
        let id = &record.identity;
        out.put(ocer_request_identity {
            from_uri: ocer_str::of(&id.from_uri),
            from_tag: ocer_str::of_opt(id.from_tag.as_deref()),
            to_uri: ocer_str::of(&id.to_uri),
            to_tag: ocer_str::of_opt(id.to_tag.as_deref()),
            call_id: ocer_str::of(&id.call_id),
            method: ocer_str::of(&id.method),
            content_type: ocer_str::of_opt(id.content_type.as_deref()),
            cseq: id.cseq,
        });
        Ok(())
    })
}

/// What the record holds and what it dropped.
///
/// # Safety
///
/// `record` is NULL or a live `ocer_record`; `counts_out` is valid for
/// writing.
#[no_mangle]
pub unsafe extern "C" fn ocer_record_counts(
    record: *const ocer_record,
    counts_out: *mut ocer_counts,
) -> ocer_result {
    guard(|| {
        // SAFETY: the caller's contract for counts_out.
        let out = unsafe { ptr::out(counts_out, "counts_out") }?;
        // SAFETY: the caller's contract for record.
        let record = unsafe { ptr::borrow(record, "record") }?;
        let dropped = record.dropped;
        out.put(ocer_counts {
            diagnostics: record.diagnostics_by_priority().count(),
            final_diagnostics: record.final_diagnostics().count(),
            progress_reports: record.progress.len(),
            provisional_responses: record.provisional.len(),
            server_requests: record.server_requests.len(),
            warnings: record.warnings().len(),
            dropped_progress_reports: dropped.progress_reports,
            dropped_provisional_responses: dropped.provisional_responses,
            dropped_server_requests: dropped.server_requests,
            truncated_headers: dropped.truncated_headers,
            responses_after_final: dropped.responses_after_final,
        });
        Ok(())
    })
}

/// The ErrorIds of the diagnostics headers that parsed, in the order MS-OCER
/// 9.1.1 / 10.1.1 consults them: the final response's, then the progress
/// reports latest first, then those of server-sent BYE / CANCEL latest first.
///
/// `*count_out` receives the number of ids whatever the outcome; when it is
/// above `capacity`, the first `capacity` are written and the result is
/// `OCER_RESULT_INSUFFICIENT_SIZE`. `ids` may be NULL when `capacity` is 0.
///
/// # Safety
///
/// `record` is NULL or a live `ocer_record`; `ids` is NULL or valid for
/// writing `capacity` `uint32_t`s; `count_out` is valid for writing.
#[no_mangle]
pub unsafe extern "C" fn ocer_record_error_ids(
    record: *const ocer_record,
    ids: *mut u32,
    capacity: usize,
    count_out: *mut usize,
) -> ocer_result {
    guard(|| {
        // SAFETY: the caller's contract for count_out.
        let count = unsafe { ptr::out(count_out, "count_out") }?;
        // SAFETY: the caller's contract for ids and capacity.
        let array = unsafe { ptr::array_out(ids, capacity, "ids") }?;
        // SAFETY: the caller's contract for record.
        let record = unsafe { ptr::borrow(record, "record") }?;
        let found: Vec<u32> = record
            .diagnostics_by_priority()
            .filter_map(ObservedDiagnostic::error_id)
            .map(|ErrorId(id)| id)
            .collect();
        ptr::fill(array, count, found.into_iter(), "ids")
    })
}

/// The diagnostics header at `index` (below `counts.diagnostics`), in the
/// priority order of `ocer_record_error_ids`, parsed or not.
///
/// Errors: `OCER_RESULT_INDEX_OUT_OF_RANGE`.
///
/// # Safety
///
/// `record` is NULL or a live `ocer_record`; `diagnostic_out` is valid for
/// writing.
#[no_mangle]
pub unsafe extern "C" fn ocer_record_diagnostic(
    record: *const ocer_record,
    index: usize,
    diagnostic_out: *mut ocer_diagnostic,
) -> ocer_result {
    guard(|| {
        // SAFETY: the caller's contract for diagnostic_out.
        let out = unsafe { ptr::out(diagnostic_out, "diagnostic_out") }?;
        // SAFETY: the caller's contract for record.
        let record = unsafe { ptr::borrow(record, "record") }?;
        let d = record.diagnostics_by_priority().nth(index).ok_or_else(|| {
            Failure::new(
                ocer_result::OCER_RESULT_INDEX_OUT_OF_RANGE,
                format!(
                    "diagnostic {index} of {}",
                    record.diagnostics_by_priority().count()
                ),
            )
        })?;
        out.put(diagnostic_to_c(d));
        Ok(())
    })
}

/// The final response's `Warning` value at `index` (below `counts.warnings`).
///
/// Errors: `OCER_RESULT_INDEX_OUT_OF_RANGE`.
///
/// # Safety
///
/// `record` is NULL or a live `ocer_record`; `warning_out` is valid for
/// writing.
#[no_mangle]
pub unsafe extern "C" fn ocer_record_warning(
    record: *const ocer_record,
    index: usize,
    warning_out: *mut ocer_warning,
) -> ocer_result {
    guard(|| {
        // SAFETY: the caller's contract for warning_out.
        let out = unsafe { ptr::out(warning_out, "warning_out") }?;
        // SAFETY: the caller's contract for record.
        let record = unsafe { ptr::borrow(record, "record") }?;
        let warnings = record.warnings();
        let w = warnings.get(index).ok_or_else(|| {
            Failure::new(
                ocer_result::OCER_RESULT_INDEX_OUT_OF_RANGE,
                format!("warning {index} of {}", warnings.len()),
            )
        })?;
        out.put(ocer_warning {
            code: w.code.0,
            text: ocer_str::of(&w.text),
        });
        Ok(())
    })
}

/// Frees a record, and with it every string and header it lent. NULL is a
/// no-op.
///
/// # Safety
///
/// `record` is NULL or a live `ocer_record`, not used after this call (nor
/// anything it lent).
#[no_mangle]
pub unsafe extern "C" fn ocer_record_free(record: *mut ocer_record) {
    // SAFETY: the caller's contract for record.
    guard_free(|| unsafe { ptr::free(record) });
}
