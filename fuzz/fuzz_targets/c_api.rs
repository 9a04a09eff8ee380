#![no_main]
//! cargo-fuzz target; the body is the C API's own (`ffi/src/fuzz.rs`).
libfuzzer_sys::fuzz_target!(|data: &[u8]| ocer_ffi::fuzz::c_api(data));
