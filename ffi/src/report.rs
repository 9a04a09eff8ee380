//! `ocer_report`: the `application/msrtc-reporterror+xml` body of a SERVICE
//! request that reports a failed transaction (MS-OCER §2.2.2), fitted to the
//! size limits.

use ocer::report::{encode, EncodedReport, ErrorReport, Field, ReportLimits};

use crate::guard::{guard, guard_free};
use crate::ptr::{self, ocer_str, Object};
use crate::record::ocer_record;
use crate::result::ocer_result;

/// Optional report attributes, as bits of `ocer_cuts.dropped_fields`:
/// the `OCER_REPORT_FIELD_*` constants.
pub type ocer_report_field = u32;
/// `fromUri`.
pub const OCER_REPORT_FIELD_FROM_URI: ocer_report_field = 1 << 0;
/// `toUri`.
pub const OCER_REPORT_FIELD_TO_URI: ocer_report_field = 1 << 1;
/// `callId`.
pub const OCER_REPORT_FIELD_CALL_ID: ocer_report_field = 1 << 2;
/// `fromTag`.
pub const OCER_REPORT_FIELD_FROM_TAG: ocer_report_field = 1 << 3;
/// `toTag`.
pub const OCER_REPORT_FIELD_TO_TAG: ocer_report_field = 1 << 4;
/// `requestType`.
pub const OCER_REPORT_FIELD_REQUEST_TYPE: ocer_report_field = 1 << 5;
/// `contentType`.
pub const OCER_REPORT_FIELD_CONTENT_TYPE: ocer_report_field = 1 << 6;

fn field_bit(field: Field) -> ocer_report_field {
    match field {
        Field::FromUri => OCER_REPORT_FIELD_FROM_URI,
        Field::ToUri => OCER_REPORT_FIELD_TO_URI,
        Field::CallId => OCER_REPORT_FIELD_CALL_ID,
        Field::FromTag => OCER_REPORT_FIELD_FROM_TAG,
        Field::ToTag => OCER_REPORT_FIELD_TO_TAG,
        Field::RequestType => OCER_REPORT_FIELD_REQUEST_TYPE,
        Field::ContentType => OCER_REPORT_FIELD_CONTENT_TYPE,
    }
}

/// The client's own caps on a report, on top of §2.2.2's. Fill it with
/// `ocer_report_limits_default` and change what you need.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ocer_report_limits {
    /// The largest body sent, in bytes.
    pub max_body_bytes: usize,
    /// The most progress reports one document carries.
    pub max_progress_reports: usize,
}

/// The default report limits: 128 KiB of body, 32 progress reports.
///
/// # Safety
///
/// `limits_out` is valid for writing.
#[no_mangle]
pub unsafe extern "C" fn ocer_report_limits_default(
    limits_out: *mut ocer_report_limits,
) -> ocer_result {
    guard(|| {
        // SAFETY: the caller's contract for limits_out.
        let out = unsafe { ptr::out(limits_out, "limits_out") }?;
        let d = ReportLimits::default();
        out.put(ocer_report_limits {
            max_body_bytes: d.max_body_bytes,
            max_progress_reports: d.max_progress_reports,
        });
        Ok(())
    })
}

/// What was cut to make the report fit. All zero: it went out whole.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ocer_cuts {
    /// Optional attributes dropped: `OCER_REPORT_FIELD_*` bits.
    pub dropped_fields: ocer_report_field,
    /// `diagHeader`s whose tail was cut.
    pub truncated_diag_headers: u32,
    /// Characters removed by those cuts.
    pub truncated_chars: u64,
    /// Final-response `diagHeader`s dropped whole.
    pub dropped_diag_headers: u32,
    /// Progress reports dropped.
    pub dropped_progress_reports: u32,
    /// Characters XML 1.0 cannot carry, written as U+FFFD.
    pub replaced_chars: u32,
}

/// A reportError document ready to send.
///
/// Made by `ocer_report_new`; free it with
/// `ocer_report_free`. Its body lives as long as it does.
///
/// Thread-safety: immutable; any number of threads may read one at once.
pub struct ocer_report {
    _private: [u8; 0],
}

impl Object for ocer_report {
    type Rust = EncodedReport;
}

/// The report of a failed transaction, for the user whose address of record
/// is `aor` (the From URI of the SERVICE request that will carry it), within
/// `limits` (NULL for the defaults). How the transaction ended is in the
/// record (a final response, or what the collector was told:
/// `ocer_collector_observe_timeout`,
/// `ocer_collector_observe_transport_failure`). `responseCode` is the code
/// received: the final status, else the last provisional one, else 0; no
/// ErrorId is invented (MS-OCER §2.2.2, §7.26).
///
/// Errors: `OCER_RESULT_NOT_A_FAILURE` (final status below 300),
/// `OCER_RESULT_REPORT_NOT_ENDED` (the record does not say how it ended),
/// `OCER_RESULT_REPORT_CANCELLED`, `OCER_RESULT_REPORT_REQUIRED_TOO_LONG`,
/// `OCER_RESULT_REPORT_REQUIRED_EXCEED_BODY`.
///
/// # Safety
///
/// `record` is NULL or a live `ocer_record`; `aor` points to `aor_len`
/// readable bytes; `limits` is NULL or points to an `ocer_report_limits`;
/// `report_out` is valid for writing a pointer.
#[no_mangle]
pub unsafe extern "C" fn ocer_report_new(
    record: *const ocer_record,
    aor: *const u8,
    aor_len: usize,
    limits: *const ocer_report_limits,
    report_out: *mut *mut ocer_report,
) -> ocer_result {
    guard(|| {
        // SAFETY: the caller's contract for report_out.
        let out = unsafe { ptr::out(report_out, "report_out") }?;
        // SAFETY: the caller's contract for record.
        let record = unsafe { ptr::borrow(record, "record") }?;
        // SAFETY: the caller's contract for aor.
        let aor = unsafe { ptr::str_in(aor, aor_len, "aor") }?;
        // SAFETY: the caller's contract for limits.
        let limits =
            unsafe { ptr::opt_in(limits) }.map_or_else(ReportLimits::default, |l| ReportLimits {
                max_body_bytes: l.max_body_bytes,
                max_progress_reports: l.max_progress_reports,
            });
        let report = ErrorReport::from_record(record, aor)?;
        out.put(ptr::into_raw(encode(report, &limits, aor)?));
        Ok(())
    })
}

/// The document, UTF-8 XML, to send as the body of a SERVICE request with
/// `Content-Type: application/msrtc-reporterror+xml`.
///
/// # Safety
///
/// `report` is NULL or a live `ocer_report`; `body_out` is valid for writing.
#[no_mangle]
pub unsafe extern "C" fn ocer_report_body(
    report: *const ocer_report,
    body_out: *mut ocer_str,
) -> ocer_result {
    guard(|| {
        // SAFETY: the caller's contract for body_out.
        let out = unsafe { ptr::out(body_out, "body_out") }?;
        // SAFETY: the caller's contract for report.
        let report = unsafe { ptr::borrow(report, "report") }?;
        out.put(ocer_str::of(&report.body));
        Ok(())
    })
}

/// The content type of the body: "application/msrtc-reporterror+xml";
/// static.
///
/// # Safety
///
/// `content_type_out` is valid for writing.
#[no_mangle]
pub unsafe extern "C" fn ocer_report_content_type(content_type_out: *mut ocer_str) -> ocer_result {
    guard(|| {
        // SAFETY: the caller's contract for content_type_out.
        let out = unsafe { ptr::out(content_type_out, "content_type_out") }?;
        out.put(ocer_str::of(ocer::report::CONTENT_TYPE));
        Ok(())
    })
}

/// What was cut to fit the limits.
///
/// # Safety
///
/// `report` is NULL or a live `ocer_report`; `cuts_out` is valid for writing.
#[no_mangle]
pub unsafe extern "C" fn ocer_report_cuts(
    report: *const ocer_report,
    cuts_out: *mut ocer_cuts,
) -> ocer_result {
    guard(|| {
        // SAFETY: the caller's contract for cuts_out.
        let out = unsafe { ptr::out(cuts_out, "cuts_out") }?;
        // SAFETY: the caller's contract for report.
        let cuts = &unsafe { ptr::borrow(report, "report") }?.cuts;
        out.put(ocer_cuts {
            dropped_fields: cuts
                .dropped_fields
                .iter()
                .fold(0, |bits, f| bits | field_bit(*f)),
            truncated_diag_headers: cuts.truncated_diag_headers,
            truncated_chars: cuts.truncated_chars,
            dropped_diag_headers: cuts.dropped_diag_headers,
            dropped_progress_reports: cuts.dropped_progress_reports,
            replaced_chars: cuts.replaced_chars,
        });
        Ok(())
    })
}

/// Frees a report. NULL is a no-op.
///
/// # Safety
///
/// `report` is NULL or a live `ocer_report`, not used after this call (nor
/// its body).
#[no_mangle]
pub unsafe extern "C" fn ocer_report_free(report: *mut ocer_report) {
    // SAFETY: the caller's contract for report.
    guard_free(|| unsafe { ptr::free(report) });
}
