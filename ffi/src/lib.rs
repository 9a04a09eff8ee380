//! The C API of ocer (`libocer.a`, `libocer.so`, header `include/ocer.h`).
//!
//! It exposes the SDK's sans-IO pipeline to C and C++ apps that have their own
//! SIP stack: parse an `ms-diagnostics` header, feed a collector the raw SIP
//! messages of a transaction and get its record, resolve the record to the
//! string the user sees, build the reportError body, and run the report retry
//! policy. Nothing of that starts a thread or a runtime, or does IO; the user
//! agent (`ocer_ua`) does, with a runtime and an event thread of its own.
//!
//! Conventions (rustls-ffi style, see `README.md`): `ocer_<object>_<verb>`;
//! objects are opaque, made by a constructor and freed by `ocer_<object>_free`;
//! every other function returns an [`ocer_result`](result::ocer_result) and
//! writes its outputs through `*_out` pointers; strings go in as UTF-8
//! `(ptr, len)` and come out as [`ocer_str`] views owned by the
//! object they came from; every entry point checks its pointers and catches
//! panics.
//!
//! The unsafe code is the pointer boundary in [`ptr`] and one call per
//! pointer parameter, each naming the `# Safety` contract it relies on.

#![allow(non_camel_case_types)]

// The order of the modules is the order of the header.

// The calling convention: result codes, the last error, strings, time.
pub mod result;

pub mod guard;

pub mod ptr;

pub mod time;

// Diagnostics headers and the ErrorId catalogs (MS-OCER §2.2.1, App. B, C).
pub mod diag_header;

pub mod catalog;

// One transaction: the collector and its record.
pub mod collector;

pub mod record;

// What the user sees (MS-OCER App. D, E).
pub mod localizer;

pub mod display;

// Reporting (MS-OCER §2.2.2, §3.1.5).
pub mod report;

pub mod retry;

pub mod session_gate;

// The user agent (register, call, IM, join, share) and its events.
pub mod event;

pub mod ua;

// The fuzz target of the C API (tests and cargo-fuzz only; no C symbols).
#[cfg(any(test, fuzzing))]
#[doc(hidden)]
pub mod fuzz;

use ptr::ocer_str;

/// The version of the library, e.g. "0.1.0"; static; never freed.
#[no_mangle]
pub extern "C" fn ocer_version() -> ocer_str {
    ocer_str::of(env!("CARGO_PKG_VERSION"))
}

#[cfg(test)]
mod tests {
    use crate::ptr::Object;

    fn shared<T: Send + Sync>() {}
    fn movable<T: Send>() {}

    /// What the header promises about each object's threads.
    #[test]
    fn objects_have_the_thread_safety_the_header_states() {
        shared::<<crate::diag_header::ocer_diag_header as Object>::Rust>();
        shared::<<crate::record::ocer_record as Object>::Rust>();
        shared::<<crate::localizer::ocer_localizer as Object>::Rust>();
        shared::<<crate::display::ocer_display as Object>::Rust>();
        shared::<<crate::report::ocer_report as Object>::Rust>();
        movable::<<crate::collector::ocer_collector as Object>::Rust>();
        movable::<<crate::retry::ocer_retry as Object>::Rust>();
        movable::<<crate::session_gate::ocer_session_gate as Object>::Rust>();
        shared::<<crate::ua::ocer_ua as Object>::Rust>();
    }

    #[test]
    fn the_version_is_the_crate_version() {
        let v = super::ocer_version();
        // SAFETY: a view of a static string.
        let text = unsafe { std::slice::from_raw_parts(v.ptr, v.len) };
        assert_eq!(text, env!("CARGO_PKG_VERSION").as_bytes());
    }
}
