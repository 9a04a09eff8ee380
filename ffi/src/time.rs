//! Times across the C API: milliseconds (`uint64_t`) on a monotonic clock the
//! caller chooses, e.g. `CLOCK_MONOTONIC` in ms, or ms since the app started.
//!
//! The SDK's sans-IO core works with [`Instant`]s, which C cannot make. Every C
//! time `t` stands for `BASE + t ms`, where `BASE` is one `Instant` captured the
//! first time any time is converted, once per process. The SDK only adds and
//! subtracts instants (durations since a start, "now + wait"), so `BASE` cancels
//! out of every result: an output time is `(instant - BASE)` in ms, on the
//! caller's own clock again, and two objects' times compare because they share
//! `BASE`. That one read is the only clock read; its value never shows.
//!
//! Why one base for the process rather than one per object: a retry verdict's
//! time from an `ocer_retry` goes into an `ocer_session_gate`, and must mean
//! the same there.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::result::{ocer_result, Failure};

static BASE: OnceLock<Instant> = OnceLock::new();

fn base() -> Instant {
    *BASE.get_or_init(Instant::now)
}

/// The instant a C time in ms stands for.
pub(crate) fn instant(ms: u64, what: &str) -> Result<Instant, Failure> {
    base()
        .checked_add(Duration::from_millis(ms))
        .ok_or_else(|| {
            Failure::new(
                ocer_result::OCER_RESULT_TIME_OUT_OF_RANGE,
                format!("{what} = {ms} ms is beyond this platform's clock"),
            )
        })
}

/// A duration in whole ms, rounded up (a "no earlier than" time must not move
/// earlier), saturating.
pub(crate) fn ms_ceil(d: Duration) -> u64 {
    let ms = d.as_nanos().div_ceil(1_000_000);
    u64::try_from(ms).unwrap_or(u64::MAX)
}

/// The C time of an instant the SDK computed, rounded up to the ms.
pub(crate) fn ms_of(at: Instant) -> u64 {
    ms_ceil(at.saturating_duration_since(base()))
}

/// A duration in ms from C.
pub(crate) fn duration(ms: u64) -> Duration {
    Duration::from_millis(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip_and_round_up() {
        for ms in [0, 1, 999, 86_400_000, 1 << 40] {
            assert_eq!(ms_of(instant(ms, "t").unwrap()), ms);
        }
        let t = instant(5, "t").unwrap() + Duration::from_nanos(1);
        assert_eq!(ms_of(t), 6);
        assert_eq!(ms_ceil(Duration::from_micros(1500)), 2);
        assert_eq!(ms_ceil(Duration::MAX), u64::MAX);
        assert_eq!(duration(1500), Duration::from_millis(1500));
    }

    #[test]
    fn differences_do_not_depend_on_the_base() {
        let a = instant(1_000, "a").unwrap();
        let b = instant(61_000, "b").unwrap();
        assert_eq!(b - a, Duration::from_secs(60));
    }
}
