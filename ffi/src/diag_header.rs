//! `ocer_diag_header`: one parsed `ms-diagnostics` / `ms-diagnostics-public`
//! value (MS-OCER §2.2.1).

use ocer::diag::{DiagnosticsHeader, ErrorId, HeaderKind};

use crate::guard::{guard, guard_free};
use crate::ptr::{self, ocer_str, Object};
use crate::result::{ocer_result, Failure};

/// Which diagnostics header: one of the `OCER_HEADER_KIND_*` constants.
pub type ocer_header_kind = u32;
/// `ms-diagnostics` (§2.2.1.1).
pub const OCER_HEADER_KIND_PRIVATE: ocer_header_kind = 0;
/// `ms-diagnostics-public` (§2.2.1.2).
pub const OCER_HEADER_KIND_PUBLIC: ocer_header_kind = 1;

pub(crate) fn header_kind_in(kind: ocer_header_kind) -> Result<HeaderKind, Failure> {
    match kind {
        OCER_HEADER_KIND_PRIVATE => Ok(HeaderKind::Private),
        OCER_HEADER_KIND_PUBLIC => Ok(HeaderKind::Public),
        other => Err(Failure::invalid(format!(
            "unknown ocer_header_kind {other}"
        ))),
    }
}

pub(crate) const fn header_kind_out(kind: HeaderKind) -> ocer_header_kind {
    match kind {
        HeaderKind::Private => OCER_HEADER_KIND_PRIVATE,
        HeaderKind::Public => OCER_HEADER_KIND_PUBLIC,
    }
}

/// A parsed diagnostics header value: the ErrorId, `reason`, `source` and the
/// other parameters in arrival order.
///
/// Made by `ocer_diag_header_parse` or `ocer_diag_header_parse_line` (owned:
/// free it with `ocer_diag_header_free`), or lent by `ocer_record_diagnostic`
/// (`const`, owned by the record: never free it). Its strings live as long
/// as it does.
///
/// Thread-safety: immutable; any number of threads may read one at once.
pub struct ocer_diag_header {
    _private: [u8; 0],
}

impl Object for ocer_diag_header {
    type Rust = DiagnosticsHeader;
}

/// Parses the value of a diagnostics header (the text after the colon;
/// surrounding whitespace and line folds allowed) of the given kind.
///
/// Errors: `OCER_RESULT_DIAG_MALFORMED` (the last error message names the
/// byte where parsing stopped), `OCER_RESULT_INVALID_UTF8`,
/// `OCER_RESULT_INVALID_ARGUMENT` (unknown kind), `OCER_RESULT_NULL_PARAMETER`.
///
/// # Safety
///
/// `value` is NULL (with `value_len` 0) or points to `value_len` readable
/// bytes; `header_out` is valid for writing a pointer.
#[no_mangle]
pub unsafe extern "C" fn ocer_diag_header_parse(
    kind: ocer_header_kind,
    value: *const u8,
    value_len: usize,
    header_out: *mut *mut ocer_diag_header,
) -> ocer_result {
    guard(|| {
        // SAFETY: the caller's contract for header_out.
        let out = unsafe { ptr::out(header_out, "header_out") }?;
        let kind = header_kind_in(kind)?;
        // SAFETY: the caller's contract for value.
        let value = unsafe { ptr::str_in(value, value_len, "value") }?;
        let header = DiagnosticsHeader::parse(kind, value)?;
        out.put(ptr::into_raw(header));
        Ok(())
    })
}

/// Parses a whole header line, `ms-diagnostics: …` or
/// `ms-diagnostics-public: …` (name case-insensitive); the kind comes from the
/// name. Error positions count from the start of the line.
///
/// Errors: as `ocer_diag_header_parse`; a line whose name is another header's
/// is `OCER_RESULT_DIAG_MALFORMED`.
///
/// # Safety
///
/// `line` is NULL (with `line_len` 0) or points to `line_len` readable bytes;
/// `header_out` is valid for writing a pointer.
#[no_mangle]
pub unsafe extern "C" fn ocer_diag_header_parse_line(
    line: *const u8,
    line_len: usize,
    header_out: *mut *mut ocer_diag_header,
) -> ocer_result {
    guard(|| {
        // SAFETY: the caller's contract for header_out.
        let out = unsafe { ptr::out(header_out, "header_out") }?;
        // SAFETY: the caller's contract for line.
        let line = unsafe { ptr::str_in(line, line_len, "line") }?;
        let header = DiagnosticsHeader::parse_header_line(line)?;
        out.put(ptr::into_raw(header));
        Ok(())
    })
}

/// The header's kind.
///
/// # Safety
///
/// `header` is NULL or a live `ocer_diag_header`; `kind_out` is valid for
/// writing.
#[no_mangle]
pub unsafe extern "C" fn ocer_diag_header_kind(
    header: *const ocer_diag_header,
    kind_out: *mut ocer_header_kind,
) -> ocer_result {
    guard(|| {
        // SAFETY: the caller's contract for kind_out.
        let out = unsafe { ptr::out(kind_out, "kind_out") }?;
        // SAFETY: the caller's contract for header.
        let header = unsafe { ptr::borrow(header, "header") }?;
        out.put(header_kind_out(header.kind));
        Ok(())
    })
}

/// The ErrorId.
///
/// # Safety
///
/// `header` is NULL or a live `ocer_diag_header`; `error_id_out` is valid for
/// writing.
#[no_mangle]
pub unsafe extern "C" fn ocer_diag_header_error_id(
    header: *const ocer_diag_header,
    error_id_out: *mut u32,
) -> ocer_result {
    guard(|| {
        // SAFETY: the caller's contract for error_id_out.
        let out = unsafe { ptr::out(error_id_out, "error_id_out") }?;
        // SAFETY: the caller's contract for header.
        let header = unsafe { ptr::borrow(header, "header") }?;
        let ErrorId(id) = header.error_id;
        out.put(id);
        Ok(())
    })
}

/// The `reason` parameter, unquoted and unescaped; `{NULL, 0}` when absent.
///
/// # Safety
///
/// `header` is NULL or a live `ocer_diag_header`; `reason_out` is valid for
/// writing.
#[no_mangle]
pub unsafe extern "C" fn ocer_diag_header_reason(
    header: *const ocer_diag_header,
    reason_out: *mut ocer_str,
) -> ocer_result {
    guard(|| {
        // SAFETY: the caller's contract for reason_out.
        let out = unsafe { ptr::out(reason_out, "reason_out") }?;
        // SAFETY: the caller's contract for header.
        let header = unsafe { ptr::borrow(header, "header") }?;
        out.put(ocer_str::of_opt(header.reason.as_deref()));
        Ok(())
    })
}

/// The `source` parameter (the server that added the header), unquoted;
/// `{NULL, 0}` when absent.
///
/// # Safety
///
/// `header` is NULL or a live `ocer_diag_header`; `source_out` is valid for
/// writing.
#[no_mangle]
pub unsafe extern "C" fn ocer_diag_header_source(
    header: *const ocer_diag_header,
    source_out: *mut ocer_str,
) -> ocer_result {
    guard(|| {
        // SAFETY: the caller's contract for source_out.
        let out = unsafe { ptr::out(source_out, "source_out") }?;
        // SAFETY: the caller's contract for header.
        let header = unsafe { ptr::borrow(header, "header") }?;
        out.put(ocer_str::of_opt(header.source.as_deref()));
        Ok(())
    })
}

/// How many parameters besides `reason` and `source` the header has.
///
/// # Safety
///
/// `header` is NULL or a live `ocer_diag_header`; `count_out` is valid for
/// writing.
#[no_mangle]
pub unsafe extern "C" fn ocer_diag_header_param_count(
    header: *const ocer_diag_header,
    count_out: *mut usize,
) -> ocer_result {
    guard(|| {
        // SAFETY: the caller's contract for count_out.
        let out = unsafe { ptr::out(count_out, "count_out") }?;
        // SAFETY: the caller's contract for header.
        let header = unsafe { ptr::borrow(header, "header") }?;
        out.put(header.params.len());
        Ok(())
    })
}

/// The parameter at `index` (arrival order, below the count): its name as
/// received, and its value unquoted (`{NULL, 0}` for a parameter without `=`).
///
/// Errors: `OCER_RESULT_INDEX_OUT_OF_RANGE`.
///
/// # Safety
///
/// `header` is NULL or a live `ocer_diag_header`; `name_out` and `value_out`
/// are valid for writing.
#[no_mangle]
pub unsafe extern "C" fn ocer_diag_header_param(
    header: *const ocer_diag_header,
    index: usize,
    name_out: *mut ocer_str,
    value_out: *mut ocer_str,
) -> ocer_result {
    guard(|| {
        // SAFETY: the caller's contract for name_out.
        let name_out = unsafe { ptr::out(name_out, "name_out") }?;
        // SAFETY: the caller's contract for value_out.
        let value_out = unsafe { ptr::out(value_out, "value_out") }?;
        // SAFETY: the caller's contract for header.
        let header = unsafe { ptr::borrow(header, "header") }?;
        let param = header.params.get(index).ok_or_else(|| {
            Failure::new(
                ocer_result::OCER_RESULT_INDEX_OUT_OF_RANGE,
                format!("parameter {index} of {}", header.params.len()),
            )
        })?;
        name_out.put(ocer_str::of(&param.name));
        value_out.put(ocer_str::of_opt(param.value_str()));
        Ok(())
    })
}

/// The value of the first parameter called `name` (ASCII case-insensitive),
/// e.g. `appName` or `Setup_time`; `{NULL, 0}` for a parameter without `=`.
///
/// Errors: `OCER_RESULT_NOT_FOUND` when there is no such parameter (`reason`
/// and `source` have their own getters and are never found here).
///
/// # Safety
///
/// `header` is NULL or a live `ocer_diag_header`; `name` is NULL (with
/// `name_len` 0) or points to `name_len` readable bytes; `value_out` is valid
/// for writing.
#[no_mangle]
pub unsafe extern "C" fn ocer_diag_header_param_find(
    header: *const ocer_diag_header,
    name: *const u8,
    name_len: usize,
    value_out: *mut ocer_str,
) -> ocer_result {
    guard(|| {
        // SAFETY: the caller's contract for value_out.
        let out = unsafe { ptr::out(value_out, "value_out") }?;
        // SAFETY: the caller's contract for header.
        let header = unsafe { ptr::borrow(header, "header") }?;
        // SAFETY: the caller's contract for name.
        let name = unsafe { ptr::str_in(name, name_len, "name") }?;
        let param = header.param(name).ok_or_else(|| {
            Failure::new(
                ocer_result::OCER_RESULT_NOT_FOUND,
                format!("no parameter {name:?}"),
            )
        })?;
        out.put(ocer_str::of_opt(param.value_str()));
        Ok(())
    })
}

/// Frees a header made by `ocer_diag_header_parse` or
/// `ocer_diag_header_parse_line`. NULL is a no-op.
///
/// # Safety
///
/// `header` is NULL or an owned `ocer_diag_header` not yet freed (never one
/// lent by a record); it is not used after this call.
#[no_mangle]
pub unsafe extern "C" fn ocer_diag_header_free(header: *mut ocer_diag_header) {
    // SAFETY: the caller's contract for header.
    guard_free(|| unsafe { ptr::free(header) });
}
