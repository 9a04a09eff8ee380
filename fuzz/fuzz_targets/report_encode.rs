#![no_main]
//! cargo-fuzz target; the body is `ocer_fuzz_targets::report_encode`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| ocer_fuzz_targets::report_encode(data));
