//! The fuzz targets on stable, in CI: each target's seeds and kept regression
//! inputs, then a fixed-seed mutation loop. The whole file costs about 30 s
//! of CPU (`OCER_FUZZ_LOOP_MS` per target, default 2,500 ms); nightly runs the
//! same bodies under libFuzzer (`scripts/fuzz N`).

#![allow(clippy::panic, clippy::expect_used)]

use std::path::PathBuf;
use std::time::Duration;

use ocer_fuzz_targets::{mutate, TARGETS};

fn fuzz_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn budget() -> Duration {
    let ms = std::env::var("OCER_FUZZ_LOOP_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_500);
    Duration::from_millis(ms)
}

fn run(name: &str) {
    let target = TARGETS
        .iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("no target {name}"));
    // One fixed seed per target: the same inputs on every run and machine.
    let seed = name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    match mutate::run_target(&fuzz_dir(), name, target.run, seed, budget()) {
        Ok(stats) => eprintln!("{name}: {} inputs", stats.runs),
        Err(finding) => panic!("{finding}"),
    }
}

macro_rules! targets {
    ($($name:ident),* $(,)?) => {
        $(#[test] fn $name() { run(stringify!($name)); })*

        #[test]
        fn every_target_has_a_test_and_seeds() {
            let tested = [$(stringify!($name)),*];
            for t in TARGETS {
                assert!(tested.contains(&t.name), "{} has no stable loop", t.name);
                assert!(!mutate::read_dir(&fuzz_dir().join("seeds").join(t.name)).is_empty());
                assert!(fuzz_dir().join("fuzz_targets").join(format!("{}.rs", t.name)).is_file(),
                    "{} has no cargo-fuzz target", t.name);
            }
        }
    };
}

targets!(
    stream_framing,
    datagram_parse,
    sip_message,
    diag_header,
    warning,
    retry_after,
    keep_alive,
    report_reader,
    collector,
    display_resolve,
    report_encode,
);

/// The driver itself: a target that panics on one byte is found, and the
/// finding carries the input.
#[test]
fn the_loop_finds_a_planted_bug() {
    fn planted(data: &[u8]) {
        assert!(!data.contains(&b'\x07'), "planted");
    }
    let seeds = vec![b"SIP/2.0 200 OK\r\n\r\n".to_vec()];
    let finding = mutate::run("planted", planted, &seeds, &[], 1, Duration::from_secs(20))
        .expect_err("the loop must reach a BEL byte");
    assert!(finding.input.contains(&b'\x07'));
    assert!(finding.message.contains("planted"));
}
