//! The user agent's clocks: the one place the IO side reads them (the
//! sans-IO pipeline never does; it is handed `now`).
//!
//! - [`now`]: the monotonic clock of timers and transactions. It is tokio's,
//!   so tests that pause tokio's time drive every timer of the agent.
//! - [`deadline_after`]: the same clock, as a tokio deadline.
//! - [`wall`]: the wall clock, for what outlives the process (the outbox's
//!   stored waits) and for NTLM's timestamps.

use std::time::{Duration, Instant, SystemTime};

/// Now, on the monotonic clock.
pub(crate) fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

/// `after` from now, as a tokio deadline.
pub(crate) fn deadline_after(after: Duration) -> tokio::time::Instant {
    tokio::time::Instant::now() + after
}

/// Now, on the wall clock.
pub(crate) fn wall() -> SystemTime {
    SystemTime::now()
}
