#![no_main]
//! cargo-fuzz target; the body is `ocer_fuzz_targets::keep_alive`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| ocer_fuzz_targets::keep_alive(data));
