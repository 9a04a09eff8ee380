//! Crash safety of the disk outbox: a child process accepts (and delivers some
//! of) 1,000 reports and is SIGKILLed, again and again, between the write of a
//! report and its rename, and at random points. After every kill the outbox is
//! reopened and checked: every report the child was told is accepted is there
//! exactly once (unless it was delivered), nothing delivered comes back, nothing
//! is duplicated, and no partial file is read.
//!
//! The child is this same test binary, run again with `--ignored --exact
//! child_process` and its instructions in environment variables: no helper
//! binary, and the child uses the library exactly as an app would.
#![cfg(all(unix, feature = "ua"))]
#![allow(clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

use ocer::report::{encode, ErrorReport, ReportLimits};
use ocer::ua::outbox::{DiskOutbox, Outbox, OutboxLimits, Removal, ReportId, WriteStep};

const TOTAL: u64 = 1000;
const ENV_DIR: &str = "OCER_CRASH_DIR";
const ENV_START: &str = "OCER_CRASH_START";
const ENV_PAUSE: &str = "OCER_CRASH_PAUSE_AT_WRITE";

fn body(n: u64) -> String {
    let report = ErrorReport {
        call_id: format!("crash-{n}").into(),
        request_type: "INVITE".into(),
        response_code: 504,
        diag_headers: vec![
            format!("1007;reason=\"report {n}\";source=\"fe{n}.contoso.com\"").into(),
        ],
        progress_reports: vec!["12006;reason=\"Trying next hop\"".into()],
        ..ErrorReport::default()
    };
    encode(report, &ReportLimits::default(), "sip:alice@contoso.com")
        .expect("fits")
        .body
}

/// Which report a body is; panics on a body that is not whole.
fn number_of(body: &str) -> u64 {
    let report = ErrorReport::parse(body.as_bytes()).expect("a whole document");
    let n = report
        .call_id
        .strip_prefix("crash-")
        .expect("ours")
        .parse()
        .expect("a number");
    assert_eq!(body, self::body(n), "byte for byte what was accepted");
    n
}

/// Every third report is delivered (and removed) right after it is accepted.
fn delivered_at_once(n: u64) -> bool {
    n.is_multiple_of(3)
}

/// The child: accepts reports from `START` on, printing each step after it
/// returned; with `PAUSE_AT_WRITE=k` it stops forever inside the k-th write,
/// after the temp file is synced and before the rename.
#[test]
#[ignore = "the child process of crash_at_random_points_loses_and_duplicates_nothing"]
fn child_process() {
    let Ok(dir) = std::env::var(ENV_DIR) else {
        return;
    };
    let start: u64 = std::env::var(ENV_START)
        .expect("start")
        .parse()
        .expect("number");
    let pause_at: Option<usize> = std::env::var(ENV_PAUSE)
        .ok()
        .map(|v| v.parse().expect("number"));
    let mut outbox =
        DiskOutbox::open(&dir, OutboxLimits::default(), SystemTime::now()).expect("open");
    let writes = AtomicUsize::new(0);
    outbox.on_write_step(Box::new(move |step| {
        if let WriteStep::TempSynced(_) = step {
            let k = writes.fetch_add(1, Ordering::SeqCst) + 1;
            if Some(k) == pause_at {
                println!("paused");
                let _ = std::io::stdout().flush();
                loop {
                    std::thread::sleep(Duration::from_secs(1));
                }
            }
        }
    }));
    let mut out = std::io::stdout();
    for n in start..TOTAL {
        let id = outbox.accept(body(n), SystemTime::now()).expect("accept");
        writeln!(out, "accepted {n}").expect("stdout");
        out.flush().expect("stdout");
        if delivered_at_once(n) {
            outbox.record_attempt(id).expect("attempt");
            outbox.remove(id, Removal::Delivered).expect("remove");
            writeln!(out, "removed {n}").expect("stdout");
            out.flush().expect("stdout");
        }
    }
    writeln!(out, "done").expect("stdout");
}

/// xorshift64*: the test's own randomness, seeded so a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}

struct Dir(PathBuf);

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// What the parent knows from the child's output.
#[derive(Default)]
struct Seen {
    accepted: BTreeSet<u64>,
    removed: BTreeSet<u64>,
}

enum Kill {
    /// Inside the k-th write, between fsync and rename.
    BetweenWriteAndRename(usize),
    /// After this many accepted lines, plus a random pause of up to 2 ms.
    AfterAccepted(u64, u64),
}

/// Runs the child from `start` and kills it as `kill` says; returns whether it
/// finished on its own.
fn run_child(dir: &Path, start: u64, kill: &Kill, seen: &mut Seen) -> bool {
    let mut command = Command::new(std::env::current_exe().expect("test binary"));
    command
        .args([
            "--ignored",
            "--exact",
            "child_process",
            "--nocapture",
            "--test-threads=1",
            "-q",
        ])
        .env(ENV_DIR, dir)
        .env(ENV_START, start.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if let Kill::BetweenWriteAndRename(k) = kill {
        command.env(ENV_PAUSE, k.to_string());
    }
    let mut child = command.spawn().expect("spawn the child");
    let stdout = child.stdout.take().expect("piped");
    let mut finished = false;
    let mut killed = false;
    let mut accepted_here = 0;
    // After the kill the pipe still holds what the child printed before it:
    // reading on to the end keeps every acknowledgement.
    for line in BufReader::new(stdout).lines() {
        let Ok(line) = line else { break };
        let mut words = line.split(' ');
        let trigger = match (
            words.next(),
            words.next().and_then(|n| n.parse::<u64>().ok()),
        ) {
            (Some("accepted"), Some(n)) => {
                seen.accepted.insert(n);
                accepted_here += 1;
                match kill {
                    Kill::AfterAccepted(limit, micros) if accepted_here == *limit => {
                        std::thread::sleep(Duration::from_micros(*micros));
                        true
                    }
                    _ => false,
                }
            }
            (Some("removed"), Some(n)) => {
                seen.removed.insert(n);
                false
            }
            (Some("paused"), _) => true,
            (Some("done"), _) => {
                finished = !killed;
                false
            }
            _ => false,
        };
        if trigger && !killed {
            // Child::kill is SIGKILL on Unix.
            child.kill().expect("SIGKILL the child");
            killed = true;
        }
    }
    if !killed {
        let _ = child.kill();
    }
    child.wait().expect("reap the child");
    finished
}

#[test]
fn crash_at_random_points_loses_and_duplicates_nothing() {
    let seed = std::env::var("OCER_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
                | 1
        });
    println!("OCER_CRASH_SEED={seed}");
    let mut rng = Rng(seed);
    let dir =
        Dir(std::env::temp_dir().join(format!("ocer-outbox-crash-{}-{seed}", std::process::id())));
    let started = Instant::now();
    let mut seen = Seen::default();
    let mut next = 0u64;
    let mut rounds = 0;
    let mut paused_rounds = 0;
    loop {
        rounds += 1;
        let kill = if rounds % 2 == 1 {
            paused_rounds += 1;
            Kill::BetweenWriteAndRename(1 + rng.below(60) as usize)
        } else {
            Kill::AfterAccepted(1 + rng.below(120), rng.below(2000))
        };
        let finished = run_child(&dir.0, next, &kill, &mut seen);

        let outbox =
            DiskOutbox::open(&dir.0, OutboxLimits::default(), SystemTime::now()).expect("reopen");
        let stats = outbox.stats();
        assert_eq!(
            stats.corrupt_files_quarantined, 0,
            "round {rounds}: a .report file is only ever whole"
        );
        if matches!(kill, Kill::BetweenWriteAndRename(_)) && !finished {
            assert!(
                stats.temp_files_removed >= 1,
                "round {rounds}: the interrupted write left its temp file"
            );
        }
        let mut present: BTreeMap<u64, ReportId> = BTreeMap::new();
        for id in outbox.ids() {
            let n = number_of(&outbox.get(id).expect("listed").body);
            assert!(
                present.insert(n, id).is_none(),
                "round {rounds}: report {n} stored twice"
            );
        }
        let newest_accepted = seen.accepted.iter().next_back().copied();
        for &n in &seen.accepted {
            let delivered = seen.removed.contains(&n);
            // Only the last accepted report can be mid-removal when the kill lands.
            let in_flight_removal =
                Some(n) == newest_accepted && delivered_at_once(n) && !delivered;
            if delivered {
                assert!(
                    !present.contains_key(&n),
                    "round {rounds}: delivered report {n} came back"
                );
            } else if !in_flight_removal {
                assert!(
                    present.contains_key(&n),
                    "round {rounds}: accepted report {n} was lost"
                );
            }
        }
        for &n in present.keys() {
            // Durable but not yet acknowledged: only the write the kill interrupted.
            let in_flight = newest_accepted.map_or(0, |a| a + 1);
            assert!(
                seen.accepted.contains(&n) || n == in_flight,
                "round {rounds}: report {n} appeared from nowhere"
            );
        }
        // Settle what the kill left undecided: a removal it interrupted either
        // happened or not, and a write it interrupted either became durable (the
        // report is accepted now) or not.
        if let Some(n) = newest_accepted {
            if delivered_at_once(n) && !seen.removed.contains(&n) && !present.contains_key(&n) {
                seen.removed.insert(n);
            }
        }
        let in_flight = newest_accepted.map_or(0, |a| a + 1);
        if present.contains_key(&in_flight) {
            seen.accepted.insert(in_flight);
        }
        next = seen.accepted.iter().next_back().map_or(0, |n| n + 1);
        drop(outbox);
        if finished || next >= TOTAL {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(50),
            "seed {seed}: too slow after {rounds} rounds"
        );
    }
    assert!(
        paused_rounds >= 2,
        "killed between write and rename at least twice"
    );
    let outbox =
        DiskOutbox::open(&dir.0, OutboxLimits::default(), SystemTime::now()).expect("reopen");
    let kept: BTreeSet<u64> = outbox
        .ids()
        .iter()
        .map(|id| number_of(&outbox.get(*id).expect("listed").body))
        .collect();
    let expected: BTreeSet<u64> = seen.accepted.difference(&seen.removed).copied().collect();
    assert_eq!(kept, expected);
    assert!(stats_sum_ok(&outbox));
    println!(
        "{rounds} rounds, {} reports accepted, {} delivered, {} kept, {:?}",
        seen.accepted.len(),
        seen.removed.len(),
        kept.len(),
        started.elapsed()
    );
    assert_eq!(seen.accepted.len() as u64, TOTAL);
}

fn stats_sum_ok(outbox: &DiskOutbox) -> bool {
    let stats = outbox.stats();
    stats.corrupt_files_quarantined == 0 && stats.pending == outbox.ids().len()
}
