//! The SIP timers and the report retry policy the tests run with.

use std::time::Duration;

use ocer::report::RetryPolicy;
use ocer::sip::TimerConfig;

/// Small timers for in-process peers: UDP retransmissions and timeouts take
/// little time.
pub fn fast_timers() -> TimerConfig {
    TimerConfig {
        t1: Duration::from_millis(50),
        t2: Duration::from_millis(400),
        t4: Duration::from_millis(500),
    }
}

/// T1 = 100 ms, for the driver against SIPp: retransmissions and timers in
/// tenths of a second.
pub fn sipp_driver_timers() -> TimerConfig {
    TimerConfig {
        t1: Duration::from_millis(100),
        t2: Duration::from_millis(800),
        t4: Duration::from_millis(1000),
    }
}

/// RFC 3261's T1 = 500 ms, T2 = 4 s, T4 = 5 s, for the user agent against
/// SIPp, on purpose not shorter: over UDP a request retransmitted just as
/// SIPp's answer is on its way would reach SIPp after that transaction's call
/// has ended, and start a new one (a second SERVICE, to the scenarios). SIPp
/// answers at once, so at T1 this does not happen; no test waits for a timer.
pub fn sipp_agent_timers() -> TimerConfig {
    TimerConfig {
        t1: Duration::from_millis(500),
        t2: Duration::from_secs(4),
        t4: Duration::from_secs(5),
    }
}

/// Backoff from 60 ms: a report retried when it must not be comes well
/// within [`crate::sipp::agent::QUIET`], and one that waits out a Retry-After
/// must not be early because of it.
pub fn test_retry_policy() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 6,
        initial_backoff: Duration::from_millis(60),
        max_backoff: Duration::from_millis(200),
        max_retry_after: Duration::from_secs(3600),
    }
}
