//! What loadgen measures about itself: latencies, and the process's RSS,
//! file descriptors and live tokio tasks (Linux `/proc/self`).

use std::time::Duration;

/// Latencies of the transactions of a run, in microseconds.
#[derive(Debug, Default)]
pub(crate) struct Latencies {
    micros: Vec<u64>,
}

impl Latencies {
    pub(crate) fn record(&mut self, elapsed: Duration) {
        self.micros
            .push(u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX));
    }

    pub(crate) fn merge(&mut self, other: Latencies) {
        self.micros.extend(other.micros);
    }

    pub(crate) fn len(&self) -> usize {
        self.micros.len()
    }

    /// p50, p99 and max, or `None` with no sample.
    pub(crate) fn summary(&mut self) -> Option<Summary> {
        if self.micros.is_empty() {
            return None;
        }
        self.micros.sort_unstable();
        let at = |q: f64| {
            // Nearest rank: the smallest value with at least q of the samples at or below it.
            let rank = (q * self.micros.len() as f64).ceil() as usize;
            self.micros[rank.clamp(1, self.micros.len()) - 1]
        };
        Some(Summary {
            p50_us: at(0.50),
            p99_us: at(0.99),
            max_us: self.micros[self.micros.len() - 1],
        })
    }
}

/// Percentiles of a run, in microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Summary {
    pub(crate) p50_us: u64,
    pub(crate) p99_us: u64,
    pub(crate) max_us: u64,
}

/// The process's resident set, in bytes (`VmRSS` of `/proc/self/status`);
/// 0 where there is no procfs.
pub(crate) fn rss_bytes() -> u64 {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return 0;
    };
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .map_or(0, |kib| kib * 1024)
}

/// Open file descriptors of the process (entries of `/proc/self/fd`, less
/// the one reading it); 0 where there is no procfs.
pub(crate) fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |dir| dir.count().saturating_sub(1))
}

/// Tasks alive on the current tokio runtime.
pub(crate) fn alive_tasks() -> usize {
    tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks()
}

/// Heap bytes allocated and not freed (the heap an idle agent holds, which
/// RSS shows only roughly: the allocator keeps freed pages, and RSS counts
/// code and stacks as well).
pub(crate) fn live_heap_bytes() -> u64 {
    let stats = super::ALLOC.stats();
    // `bytes_reallocated` is the net growth by reallocation (may be < 0).
    let live = stats.bytes_allocated as i128 + stats.bytes_reallocated as i128
        - stats.bytes_deallocated as i128;
    u64::try_from(live).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let mut l = Latencies::default();
        for us in (1..=100).rev() {
            l.record(Duration::from_micros(us));
        }
        let s = l.summary();
        assert_eq!(
            s,
            Some(Summary {
                p50_us: 50,
                p99_us: 99,
                max_us: 100
            })
        );
        assert_eq!(Latencies::default().summary(), None);
    }

    #[test]
    fn one_sample_is_every_percentile() {
        let mut l = Latencies::default();
        l.record(Duration::from_micros(7));
        assert_eq!(
            l.summary(),
            Some(Summary {
                p50_us: 7,
                p99_us: 7,
                max_us: 7
            })
        );
    }

    #[test]
    fn procfs_readings_are_plausible() {
        assert!(rss_bytes() > 0);
        let before = open_fds();
        let file = std::fs::File::open("/proc/self/status");
        assert_eq!(open_fds(), before + 1);
        drop(file);
        assert_eq!(open_fds(), before);
    }
}
