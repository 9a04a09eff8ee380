//! RFC 3261 §17 timer values (T1, T2, T4 and the timers derived from them),
//! and the one retransmission timer shape both client transactions use.

use super::error::TransactionError;
use std::time::{Duration, Instant};

/// The base timer values of RFC 3261 §17.1.1.1 (table in Appendix A). Every
/// transaction timer is derived from them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimerConfig {
    /// RTT estimate: first retransmission interval, and 64·T1 is the time a
    /// request may stay unanswered (Timers B, F, J).
    pub t1: Duration,
    /// The longest retransmission interval for non-INVITE requests.
    pub t2: Duration,
    /// How long a message may stay in the network (Timer K).
    pub t4: Duration,
}

impl TimerConfig {
    /// RFC 3261 default T1: 500 ms.
    pub const DEFAULT_T1: Duration = Duration::from_millis(500);
    /// RFC 3261 default T2: 4 s.
    pub const DEFAULT_T2: Duration = Duration::from_secs(4);
    /// RFC 3261 default T4: 5 s.
    pub const DEFAULT_T4: Duration = Duration::from_secs(5);
    /// Timer D on an unreliable transport: RFC 3261 asks for at least 32 s
    /// whatever T1 is, so it is not derived from T1.
    pub const TIMER_D_UNRELIABLE: Duration = Duration::from_secs(32);

    /// Checks that the values can drive retransmissions: T1 above zero (a zero
    /// interval would retransmit without end at one instant) and T2 ≥ T1.
    pub fn validate(&self) -> Result<(), TransactionError> {
        if self.t1.is_zero() || self.t2 < self.t1 {
            return Err(TransactionError::InvalidTimers);
        }
        Ok(())
    }

    /// Timer B (INVITE) and Timer F (non-INVITE): how long a request may go
    /// without a final response (Calling / Trying) — 64·T1.
    pub fn transaction_timeout(&self) -> Duration {
        self.t1.saturating_mul(64)
    }

    /// Timer D: how long an INVITE client transaction absorbs retransmitted
    /// non-2xx finals — 32 s on an unreliable transport, 0 on a reliable one.
    pub fn timer_d(&self, reliability: Reliability) -> Duration {
        match reliability {
            Reliability::Unreliable => Self::TIMER_D_UNRELIABLE,
            Reliability::Reliable => Duration::ZERO,
        }
    }

    /// Timer K: how long a non-INVITE client transaction absorbs retransmitted
    /// finals — T4 on an unreliable transport, 0 on a reliable one.
    pub fn timer_k(&self, reliability: Reliability) -> Duration {
        match reliability {
            Reliability::Unreliable => self.t4,
            Reliability::Reliable => Duration::ZERO,
        }
    }

    /// Timer J: how long a non-INVITE server transaction answers
    /// retransmitted requests — 64·T1 on an unreliable transport, 0 on a
    /// reliable one.
    pub fn timer_j(&self, reliability: Reliability) -> Duration {
        match reliability {
            Reliability::Unreliable => self.t1.saturating_mul(64),
            Reliability::Reliable => Duration::ZERO,
        }
    }
}

/// 500 ms, 4 s, 5 s (RFC 3261 §17).
impl Default for TimerConfig {
    fn default() -> Self {
        Self {
            t1: Self::DEFAULT_T1,
            t2: Self::DEFAULT_T2,
            t4: Self::DEFAULT_T4,
        }
    }
}

/// Whether the transport delivers what it accepts (RFC 3261 §17: TCP, TLS)
/// or may lose messages (UDP). Only an unreliable transport gets
/// retransmissions (Timers A, E) and non-zero Timers D, K and J.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reliability {
    /// TCP, TLS: no retransmissions.
    Reliable,
    /// UDP: requests are retransmitted, retransmitted responses absorbed.
    Unreliable,
}

/// `now + after`, or `None` ("never") if that is past what an `Instant` can
/// hold — an absurd T1 must not panic.
pub(super) fn deadline(now: Instant, after: Duration) -> Option<Instant> {
    now.checked_add(after)
}

/// Whether a timer set for `at` has fired by `now`.
pub(super) fn due(at: Option<Instant>, now: Instant) -> bool {
    at.is_some_and(|at| at <= now)
}

/// A retransmission timer (A or E): when it fires next and the interval it
/// was last set with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Retransmit {
    pub(super) at: Option<Instant>,
    pub(super) interval: Duration,
}

impl Retransmit {
    /// Set to fire `interval` after `now`.
    pub(super) fn start(now: Instant, interval: Duration) -> Self {
        Self {
            at: deadline(now, interval),
            interval,
        }
    }

    /// Reset after firing at `now`, with the next interval.
    pub(super) fn reset(&mut self, now: Instant, interval: Duration) {
        *self = Self::start(now, interval);
    }
}

/// The earliest of some optional deadlines.
pub(super) fn earliest(times: impl IntoIterator<Item = Option<Instant>>) -> Option<Instant> {
    times.into_iter().flatten().min()
}
