//! The fuzz target of the C API's string entry points, built only for tests
//! and for cargo-fuzz (`--cfg fuzzing`, through `fuzz/ffi-rlib`). It calls the
//! functions the way a C app does, with the fuzzer's bytes as the strings, and
//! checks that every string handed back is readable UTF-8 of the length given.
//!
//! Input: pieces separated by NUL bytes — a diagnostics header value (also
//! used as an FTL resource), the request, then messages from the server (the
//! last piece is also the locale list and the locale tag).

// A broken promise must stop the fuzzer: panicking is what a target is for.
#![allow(clippy::panic)]

use crate::collector::{
    ocer_collector, ocer_collector_finish, ocer_collector_free, ocer_collector_new,
    ocer_collector_observe_response, ocer_collector_observe_server_request,
};
use crate::diag_header::{
    ocer_diag_header, ocer_diag_header_free, ocer_diag_header_param, ocer_diag_header_param_count,
    ocer_diag_header_param_find, ocer_diag_header_parse, ocer_diag_header_parse_line,
    ocer_diag_header_reason, ocer_diag_header_source, OCER_HEADER_KIND_PRIVATE,
    OCER_HEADER_KIND_PUBLIC,
};
use crate::display::{
    ocer_display, ocer_display_free, ocer_display_info, ocer_display_json, ocer_display_message,
    ocer_display_message_id,
};
use crate::localizer::{
    ocer_localizer, ocer_localizer_add_locale, ocer_localizer_free, ocer_localizer_new,
    ocer_localizer_resolve, OCER_ISOLATION_OFF, OCER_MODE_VOICE, OCER_STRING_SET_LYNC2010,
};
use crate::ptr::ocer_str;
use crate::record::{ocer_record, ocer_record_free};
use crate::report::{ocer_report, ocer_report_body, ocer_report_free, ocer_report_new};
use crate::result::ocer_result;

/// Whether a call succeeded. A panic caught at the entry point
/// (`OCER_RESULT_PANIC`) is a bug in ocer, hence a finding.
fn ok(rc: ocer_result) -> bool {
    assert_ne!(
        rc,
        ocer_result::OCER_RESULT_PANIC,
        "a panic inside the C API"
    );
    rc == ocer_result::OCER_RESULT_OK
}

/// Reads a string the API handed back; panics (a finding) if it is not
/// UTF-8, so a C caller could not trust it either.
fn read(s: &ocer_str) -> &str {
    if s.ptr.is_null() {
        assert_eq!(s.len, 0, "a NULL string with a length");
        return "";
    }
    // SAFETY: the API promises `len` readable bytes at `ptr` for a non-NULL
    // string, valid while the object it came from lives (it does, here).
    let bytes = unsafe { std::slice::from_raw_parts(s.ptr, s.len) };
    match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => panic!("the C API handed back invalid UTF-8: {e}"),
    }
}

fn diag_header(value: &[u8]) {
    let mut header: *mut ocer_diag_header = std::ptr::null_mut();
    for kind in [OCER_HEADER_KIND_PRIVATE, OCER_HEADER_KIND_PUBLIC, 7] {
        // SAFETY: value is a live slice; header is a valid out pointer.
        let rc = unsafe { ocer_diag_header_parse(kind, value.as_ptr(), value.len(), &mut header) };
        if ok(rc) {
            inspect_header(header);
        }
    }
    // SAFETY: as above.
    if ok(unsafe { ocer_diag_header_parse_line(value.as_ptr(), value.len(), &mut header) }) {
        inspect_header(header);
    }
}

/// Reads every string of a parsed header, then frees it.
fn inspect_header(header: *mut ocer_diag_header) {
    let mut s = ocer_str::NONE;
    let mut name = ocer_str::NONE;
    let mut count = 0usize;
    // SAFETY: header is live until the free below; the out pointers are
    // valid locals.
    unsafe {
        if ok(ocer_diag_header_reason(header, &mut s)) {
            read(&s);
        }
        if ok(ocer_diag_header_source(header, &mut s)) {
            read(&s);
        }
        if ok(ocer_diag_header_param_count(header, &mut count)) {
            // One past the end too: an error, not a read out of bounds.
            for i in 0..=count.min(64) {
                if ok(ocer_diag_header_param(header, i, &mut name, &mut s)) {
                    let n = read(&name).to_owned();
                    read(&s);
                    if ok(ocer_diag_header_param_find(
                        header,
                        n.as_ptr(),
                        n.len(),
                        &mut s,
                    )) {
                        read(&s);
                    }
                }
            }
        }
        ocer_diag_header_free(header);
    }
}

fn record_of(request: &[u8], messages: &[&[u8]]) -> *mut ocer_record {
    let mut collector: *mut ocer_collector = std::ptr::null_mut();
    let mut record: *mut ocer_record = std::ptr::null_mut();
    // SAFETY: the slices are live; NULL limits mean the defaults; the out
    // pointers are valid locals; the collector is consumed by finish.
    unsafe {
        if !ok(ocer_collector_new(
            request.as_ptr(),
            request.len(),
            0,
            std::ptr::null(),
            &mut collector,
        )) {
            return std::ptr::null_mut();
        }
        for (i, m) in messages.iter().enumerate() {
            let now = i as u64 * 10;
            if m.starts_with(b"SIP/") {
                ok(ocer_collector_observe_response(
                    collector,
                    m.as_ptr(),
                    m.len(),
                    now,
                ));
            } else {
                ok(ocer_collector_observe_server_request(
                    collector,
                    m.as_ptr(),
                    m.len(),
                    now,
                ));
            }
        }
        if !ok(ocer_collector_finish(collector, &mut record)) {
            ocer_collector_free(collector);
            return std::ptr::null_mut();
        }
    }
    record
}

fn display_and_report(record: *mut ocer_record, ftl: &[u8], locales: &[u8]) {
    let mut localizer: *mut ocer_localizer = std::ptr::null_mut();
    let mut display: *mut ocer_display = std::ptr::null_mut();
    let mut report: *mut ocer_report = std::ptr::null_mut();
    let mut s = ocer_str::NONE;
    // SAFETY: record is live until freed by the caller; every other object
    // is made and freed here; the slices are live.
    unsafe {
        if ok(ocer_localizer_new(OCER_ISOLATION_OFF, &mut localizer)) {
            // A locale made of the fuzzer's FTL: refused or used, never a crash.
            ok(ocer_localizer_add_locale(
                localizer,
                locales.as_ptr(),
                locales.len(),
                OCER_STRING_SET_LYNC2010,
                ftl.as_ptr(),
                ftl.len(),
            ));
            if ok(ocer_localizer_resolve(
                localizer,
                record,
                OCER_STRING_SET_LYNC2010,
                OCER_MODE_VOICE,
                3,
                locales.as_ptr(),
                locales.len(),
                10061,
                std::ptr::null(),
                &mut display,
            )) && !display.is_null()
            {
                for get in [
                    ocer_display_message,
                    ocer_display_info,
                    ocer_display_message_id,
                    ocer_display_json,
                ] {
                    if ok(get(display, &mut s)) {
                        read(&s);
                    }
                }
                ocer_display_free(display);
            }
            ocer_localizer_free(localizer);
        }
        let aor = b"sip:alice@contoso.com";
        if ok(ocer_report_new(
            record,
            aor.as_ptr(),
            aor.len(),
            std::ptr::null(),
            &mut report,
        )) {
            if ok(ocer_report_body(report, &mut s)) {
                read(&s);
            }
            ocer_report_free(report);
        }
    }
}

/// The target: see the module doc for the input's shape.
pub fn c_api(data: &[u8]) {
    let pieces: Vec<&[u8]> = data.split(|&b| b == 0).take(16).collect();
    let first = pieces.first().copied().unwrap_or_default();
    let last = pieces.last().copied().unwrap_or_default();
    diag_header(first);
    if let [_, request, messages @ ..] = pieces.as_slice() {
        let record = record_of(request, messages);
        if !record.is_null() {
            display_and_report(record, first, last);
            // SAFETY: made by record_of, freed once.
            unsafe { ocer_record_free(record) };
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::time::Duration;

    /// The stable mutation loop of CI over `fuzz/seeds/c_api` and
    /// `fuzz/regressions/c_api` (see fuzz/targets/tests/stable_loop.rs).
    #[test]
    fn c_api_stable_fuzz_loop() {
        let fuzz_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
        let ms = std::env::var("OCER_FUZZ_LOOP_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(2_500);
        let result = ocer_fuzz_targets::mutate::run_target(
            &fuzz_dir,
            "c_api",
            super::c_api,
            0x0c_a9_10,
            Duration::from_millis(ms),
        );
        if let Err(finding) = result {
            panic!("{finding}");
        }
    }
}
