//! When the driver must wake next: every running transaction's next timer,
//! in time order.
//!
//! The driver waits on one timer: the earliest of its transactions'. Asking
//! each transaction for its deadline on every wake-up costs O(n) per message,
//! and a shared driver of 10,000 user agents over UDP holds 20,000
//! transactions through Timer K after their REGISTERs: that scan was most
//! of the time of the registration burst. The index is kept as the
//! transactions change instead (each change is O(log n)).

use std::collections::BTreeSet;
use std::time::Instant;

use crate::sip::transaction::TransactionKey;

/// Which map of the driver a transaction is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Side {
    Client,
    Server,
}

/// The armed timers, one entry per transaction that has one.
#[derive(Debug, Default)]
pub(super) struct Deadlines {
    armed: BTreeSet<(Instant, Side, TransactionKey)>,
}

impl Deadlines {
    /// Moves the entry of `key` from `armed` (what the transaction was
    /// armed with, if anything; updated) to `new`; `None` disarms it.
    pub(super) fn rearm(
        &mut self,
        side: Side,
        key: &TransactionKey,
        armed: &mut Option<Instant>,
        new: Option<Instant>,
    ) {
        let old = std::mem::replace(armed, new);
        if old == new {
            return;
        }
        if let Some(at) = old {
            self.armed.remove(&(at, side, key.clone()));
        }
        if let Some(at) = new {
            self.armed.insert((at, side, key.clone()));
        }
    }

    /// The earliest armed deadline.
    pub(super) fn next(&self) -> Option<Instant> {
        self.armed.first().map(|(at, _, _)| *at)
    }

    /// The transactions whose deadline is at or before `now`, earliest
    /// first. Their entries stay: the caller fires each one and re-arms it.
    pub(super) fn due(&self, now: Instant) -> Vec<(Instant, Side, TransactionKey)> {
        self.armed
            .iter()
            .take_while(|(at, _, _)| *at <= now)
            .cloned()
            .collect()
    }

    /// Forgets every entry (the driver is shutting down).
    pub(super) fn clear(&mut self) {
        self.armed.clear();
    }

    /// How many transactions have a timer armed.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.armed.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn key(branch: &str) -> TransactionKey {
        TransactionKey {
            branch: branch.to_owned(),
            method: "REGISTER".to_owned(),
        }
    }

    #[test]
    fn the_earliest_deadline_comes_first_and_moves_with_its_transaction() {
        let t0 = Instant::now();
        let at = |ms| t0 + Duration::from_millis(ms);
        let mut deadlines = Deadlines::default();
        let (mut a, mut b, mut c) = (None, None, None);
        deadlines.rearm(Side::Client, &key("a"), &mut a, Some(at(500)));
        deadlines.rearm(Side::Client, &key("b"), &mut b, Some(at(100)));
        deadlines.rearm(Side::Server, &key("c"), &mut c, Some(at(300)));
        assert_eq!(deadlines.next(), Some(at(100)));
        assert_eq!(
            deadlines.due(at(300)),
            [
                (at(100), Side::Client, key("b")),
                (at(300), Side::Server, key("c"))
            ]
        );

        // b's retransmission timer doubles; c terminates.
        deadlines.rearm(Side::Client, &key("b"), &mut b, Some(at(700)));
        deadlines.rearm(Side::Server, &key("c"), &mut c, None);
        assert_eq!((b, c), (Some(at(700)), None));
        assert_eq!(deadlines.len(), 2);
        assert_eq!(deadlines.next(), Some(at(500)));
        assert_eq!(deadlines.due(at(499)), []);
        assert_eq!(
            deadlines.due(at(700)),
            [
                (at(500), Side::Client, key("a")),
                (at(700), Side::Client, key("b"))
            ]
        );
    }
}
