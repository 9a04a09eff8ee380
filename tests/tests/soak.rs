//! Soak (issue #13, "Robustness"): register / call that fails / report /
//! MESSAGE cycles of one `UserAgent` over TCP against SIPp
//! (`tests/sipp/load_uas.xml`: digest registrar, INVITE 486 with
//! ms-diagnostics, MESSAGE 200, SERVICE 200), while the server crashes every
//! 2 to 4 s: SIPp is killed (SIGKILL, its connections closed by the kernel)
//! and started again on the same port. The user agent hears
//! `ConnectionLost`, registers again, and resends what was cut.
//!
//! Checked at the end:
//! - every report queued was delivered exactly once on the user agent's side
//!   (one `ReportSent` per `ReportQueued`, none dropped) and reached the
//!   server, counted by the Call-ID each SERVICE reports: a second copy only
//!   where a crash cut the first (the last SERVICE the crashed instance
//!   received);
//! - memory and file descriptors are flat: the second half's largest
//!   VmRSS and fd count stay within a generous bound of the first half's,
//!   and the fds are back to the baseline once the agent has shut down.
//!
//! `OCER_SOAK_SECS` sets the length (default 120 s; 3600 by hand, README
//! "Reliability testing"). Needs `sipp` on PATH: run `scripts/install-test-deps`.

#![allow(clippy::expect_used, clippy::panic)]

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ocer::display::{Action, Mode};
use ocer::report::RetryPolicy;
use ocer::ua::transport::{Target, TransportKind};
use ocer::ua::{RegistrationState, UaEvent, UserAgent};
use ocer_interop::sipp::{Scenario, SippConfig, SippLogs, SippPeer};
use ocer_interop::Transport;
use ocer_test_support::sipp::agent::{sdp_offer, AOR, BOB, STEP};
use ocer_test_support::timers::sipp_agent_timers;

const LOAD_UAS: &str = include_str!("../sipp/load_uas.xml");

/// How long each SIPp instance lives, in turn: the crashes land at
/// different points of the cycle.
const CRASH_EVERY: [Duration; 4] = [
    Duration::from_millis(2000),
    Duration::from_millis(2700),
    Duration::from_millis(3400),
    Duration::from_millis(4100),
];

/// Between two cycles: an hour's SIPp logs stay small, and the test's own
/// bookkeeping (a few strings per report) stays far below the RSS bound.
const PAUSE: Duration = Duration::from_millis(50);

/// How often VmRSS and the fd count are sampled.
const SAMPLE_EVERY: Duration = Duration::from_secs(1);

/// The second half's largest VmRSS may exceed the first half's by this
/// much, or by a quarter of it, whichever is more: allocator growth, not a
/// leak. A leak of 1 KiB per cycle crosses it within the hour.
const RSS_SLACK_KIB: u64 = 8 * 1024;

/// The second half's largest fd count may exceed the first half's by this
/// many (a connection being replaced at the moment of a sample).
const FD_SLACK: usize = 4;

fn soak_duration() -> Duration {
    let secs = std::env::var("OCER_SOAK_SECS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(120);
    Duration::from_secs(secs.max(10))
}

/// This process's resident set (VmRSS, KiB).
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
        .expect("a VmRSS line")
}

/// This process's open file descriptors.
fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd")
        .count()
}

/// An id or Call-ID as a 64-bit hash: an hour's bookkeeping (tens of
/// thousands of reports) then stays a few MiB, well inside the RSS bound.
type Key = u64;

fn key(text: &str) -> Key {
    use std::hash::{Hash, Hasher};
    // SipHash with fixed keys: the same text always gives the same key.
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut hasher);
    hasher.finish()
}

/// What the user agent said about reports and connections.
#[derive(Default)]
struct Tally {
    /// Report id (its Display form) to the Call-ID of the request it reports.
    queued: HashMap<Key, Key>,
    /// Every `ReportSent`, in order (a duplicate shows as a repeat).
    sent: Vec<Key>,
    dropped: Vec<(String, String)>,
    suspended: Vec<String>,
    connections_lost: u32,
    registered: u32,
    events_dropped: u64,
}

/// The `callId` attribute of each SERVICE one SIPp instance received, in
/// order: the reported request's Call-ID.
fn reported_call_ids(logs: &SippLogs) -> Vec<Key> {
    logs.message_log()
        .received("SERVICE")
        .map(|entry| {
            let (_, rest) = entry
                .message
                .split_once("callId=\"")
                .unwrap_or_else(|| panic!("a SERVICE without callId:\n{}", entry.message));
            key(rest.split('"').next().unwrap_or_default())
        })
        .collect()
}

/// Runs SIPp on `port`, killing and restarting it every [`CRASH_EVERY`]
/// until `stop`; then keeps the last one up until `done`. Returns the
/// reported Call-IDs each instance received, in order of the instances.
fn crashing_server(
    port: u16,
    run_limit: Duration,
    stop: Arc<AtomicBool>,
    done: Arc<AtomicBool>,
) -> Vec<Vec<Key>> {
    let scenario = Scenario::new("load_uas", LOAD_UAS);
    let mut config = SippConfig::new(Transport::Tcp, 10_000_000);
    config.port = Some(port);
    config.run_limit = run_limit;
    config.bind_attempts = 50;
    config.extra_args = vec!["-deadcall_wait".to_owned(), "0".to_owned()];
    let start = || SippPeer::start(&scenario, &config).unwrap_or_else(|e| panic!("{e}"));
    let mut instances = Vec::new();
    let mut peer = start();
    for lifetime in CRASH_EVERY.iter().cycle() {
        let until = Instant::now() + *lifetime;
        while Instant::now() < until && !stop.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(20));
        }
        if stop.load(Ordering::SeqCst) {
            break;
        }
        instances.push(reported_call_ids(&peer.kill_now()));
        peer = start();
    }
    while !done.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(20));
    }
    instances.push(reported_call_ids(&peer.kill_now()));
    instances
}

/// The server thread. If the test fails before it has joined it, dropping
/// this stops the thread and waits for it, so that its SIPp is killed
/// rather than left to its `-timeout`.
struct ServerThread {
    stop: Arc<AtomicBool>,
    done: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<Vec<Vec<Key>>>>,
}

impl ServerThread {
    fn start(port: u16, run_limit: Duration) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let done = Arc::new(AtomicBool::new(false));
        let thread = {
            let (stop, done) = (stop.clone(), done.clone());
            std::thread::spawn(move || crashing_server(port, run_limit, stop, done))
        };
        Self {
            stop,
            done,
            thread: Some(thread),
        }
    }

    /// No more crashes: the current SIPp stays up.
    fn stop_crashing(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }

    /// Kills the last SIPp; what each instance received.
    fn finish(&mut self) -> Vec<Vec<Key>> {
        self.stop.store(true, Ordering::SeqCst);
        self.done.store(true, Ordering::SeqCst);
        self.thread
            .take()
            .expect("finished once")
            .join()
            .unwrap_or_else(|_| panic!("the server thread panicked"))
    }
}

impl Drop for ServerThread {
    fn drop(&mut self) {
        if let Some(thread) = self.thread.take() {
            self.stop.store(true, Ordering::SeqCst);
            self.done.store(true, Ordering::SeqCst);
            let _ = thread.join();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soak_register_call_report_with_server_crashes() {
    let length = soak_duration();
    let baseline_fds = open_fds();

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let mut server = ServerThread::start(port, length + Duration::from_secs(180));

    let target = Target::new(
        TransportKind::Tcp,
        std::net::SocketAddr::from(([127, 0, 0, 1], port)),
    );
    let (ua, mut events) = UserAgent::builder(AOR, target)
        .credentials("load", "secret")
        .timers(sipp_agent_timers())
        .retry_policy(RetryPolicy {
            // A report is cut by a crash now and then; it must never run
            // out of attempts for that.
            max_attempts: 1000,
            initial_backoff: Duration::from_millis(60),
            max_backoff: Duration::from_millis(500),
            max_retry_after: Duration::from_secs(60),
        })
        .register_expires(Duration::from_secs(3600))
        .reconnect_backoff(Duration::from_millis(100), Duration::from_millis(800))
        .build()
        .await
        .unwrap_or_else(|e| panic!("the user agent starts: {e}"));

    let tally = Arc::new(Mutex::new(Tally::default()));
    let reader = {
        let tally = tally.clone();
        tokio::spawn(async move {
            while let Some(event) = events.recv().await {
                let mut t = tally.lock().expect("tally");
                match event {
                    UaEvent::ReportQueued { report_id, call_id } => {
                        let again = t.queued.insert(key(&report_id.to_string()), key(&call_id));
                        assert!(again.is_none(), "a report id queued twice");
                    }
                    UaEvent::ReportSent { report_id } => t.sent.push(key(&report_id.to_string())),
                    UaEvent::ReportDropped { report_id, why } => {
                        t.dropped.push((format!("{report_id:?}"), why.to_string()))
                    }
                    UaEvent::ReportingSuspended { why } => t.suspended.push(why.to_string()),
                    UaEvent::ConnectionLost { .. } => t.connections_lost += 1,
                    UaEvent::Registration(RegistrationState::Registered { .. }) => {
                        t.registered += 1
                    }
                    UaEvent::EventsDropped { count } => t.events_dropped += count,
                    _ => {}
                }
            }
        })
    };

    // The cycles.
    let started = Instant::now();
    let mut samples: Vec<(u64, usize)> = Vec::new();
    let mut next_sample = started;
    let (mut cycles, mut calls_failed, mut messages_ok, mut stuck) = (0u64, 0u64, 0u64, 0u64);
    while started.elapsed() < length {
        if Instant::now() >= next_sample {
            samples.push((rss_kib(), open_fds()));
            next_sample += SAMPLE_EVERY;
        }
        cycles += 1;
        match tokio::time::timeout(STEP, ua.register()).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => {
                // The server is restarting: try again shortly.
                tokio::time::sleep(PAUSE).await;
                continue;
            }
            Err(_) => {
                stuck += 1;
                continue;
            }
        }
        match tokio::time::timeout(
            STEP,
            ua.call(BOB, Some(sdp_offer()), Mode::Voice, Action::Call),
        )
        .await
        {
            Ok(Ok(call)) => panic!("SIPp answers 486, yet call {} is up", call.call_id()),
            Ok(Err(_)) => calls_failed += 1,
            Err(_) => stuck += 1,
        }
        match tokio::time::timeout(STEP, ua.send_message(BOB, "soak")).await {
            Ok(Ok(())) => messages_ok += 1,
            Ok(Err(_)) => {}
            Err(_) => stuck += 1,
        }
        tokio::time::sleep(PAUSE).await;
    }

    // No more crashes: every queued report goes out.
    server.stop_crashing();
    let drain_until = Instant::now() + Duration::from_secs(60);
    loop {
        let _ = tokio::time::timeout(STEP, ua.register()).await;
        let pending = {
            let t = tally.lock().expect("tally");
            t.queued.len() > t.sent.len() + t.dropped.len()
        };
        if !pending {
            break;
        }
        assert!(
            Instant::now() < drain_until,
            "reports still queued 60 s after the last crash"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::timeout(STEP, ua.shutdown())
        .await
        .expect("shutdown within STEP");
    drop(ua);
    tokio::time::timeout(STEP, reader)
        .await
        .expect("the event stream ends after shutdown")
        .expect("the event reader");
    let instances = tokio::task::block_in_place(|| server.finish());

    let t = std::mem::take(&mut *tally.lock().expect("tally"));
    let crashes = instances.len() - 1;
    eprintln!(
        "soak {length:?}: {cycles} cycles, {calls_failed} failed calls, {messages_ok} messages, \
         {} reports, {crashes} server crashes, {} connections lost, {} registrations; \
         RSS KiB first {:?} last {:?}; fds baseline {baseline_fds} samples {:?}..{:?}",
        t.queued.len(),
        t.connections_lost,
        t.registered,
        samples.first().map(|s| s.0),
        samples.last().map(|s| s.0),
        samples.iter().map(|s| s.1).min(),
        samples.iter().map(|s| s.1).max(),
    );

    // The cycles ran, the server crashed under them, the agent came back.
    assert_eq!(stuck, 0, "a request did not resolve within {STEP:?}");
    assert_eq!(t.events_dropped, 0, "the reader fell behind");
    assert!(crashes >= 2, "{crashes} crashes");
    assert!(
        t.connections_lost as usize >= crashes / 2,
        "{} lost",
        t.connections_lost
    );
    assert!(
        t.registered as usize > crashes / 2,
        "{} registered",
        t.registered
    );
    assert!(
        calls_failed > 10 && messages_ok > 10,
        "{calls_failed} / {messages_ok}"
    );

    // Exactly once, on the agent's side.
    assert!(t.dropped.is_empty(), "reports dropped: {:?}", t.dropped);
    assert!(
        t.suspended.is_empty(),
        "reporting suspended: {:?}",
        t.suspended
    );
    let mut sent = HashSet::new();
    for id in &t.sent {
        assert!(sent.insert(*id), "report (key {id:x}) sent twice");
        assert!(
            t.queued.contains_key(id),
            "report (key {id:x}) sent, never queued"
        );
    }
    assert_eq!(sent.len(), t.queued.len(), "every queued report sent");

    // On the server's side. The wire names a report by the Call-ID it
    // reports (its `callId` attribute), which two reports may share (two
    // failed REGISTERs of one registration), so copies are counted per
    // Call-ID: as many as reports queued with it, plus at most one per
    // crash that cut a SERVICE of it (the last SERVICE a crashed instance
    // received: reports go one at a time).
    let mut queued_per_call: HashMap<Key, usize> = HashMap::new();
    for call_id in t.queued.values() {
        *queued_per_call.entry(*call_id).or_default() += 1;
    }
    let mut received_per_call: HashMap<Key, usize> = HashMap::new();
    let mut cut_per_call: HashMap<Key, usize> = HashMap::new();
    for (i, ids) in instances.iter().enumerate() {
        for id in ids {
            *received_per_call.entry(*id).or_default() += 1;
        }
        if let Some(last) = ids.last().filter(|_| i + 1 < instances.len()) {
            *cut_per_call.entry(*last).or_default() += 1;
        }
    }
    let mut resent = 0;
    for (call_id, received) in &received_per_call {
        let queued = queued_per_call.get(call_id).copied().unwrap_or(0);
        let cut = cut_per_call.get(call_id).copied().unwrap_or(0);
        assert!(
            queued > 0,
            "SIPp received a report of Call-ID key {call_id:x}, which no ReportQueued named"
        );
        assert!(
            *received <= queued + cut,
            "SIPp received {received} reports of Call-ID key {call_id:x}: {queued} queued, \
             {cut} cut by a crash"
        );
        resent += received.saturating_sub(queued);
    }
    for (call_id, queued) in &queued_per_call {
        let received = received_per_call.get(call_id).copied().unwrap_or(0);
        assert!(
            received >= *queued,
            "{queued} reports of Call-ID key {call_id:x} queued and sent, {received} reached SIPp"
        );
    }
    eprintln!("soak: {resent} SERVICEs sent again after a crash cut them");

    // Flat memory and fds.
    let warm = samples.len() / 10;
    let half = samples.len() / 2;
    assert!(half > warm + 2, "too few samples: {}", samples.len());
    let (first, second) = (&samples[warm..half], &samples[half..]);
    let max_rss = |s: &[(u64, usize)]| s.iter().map(|x| x.0).max().unwrap_or(0);
    let max_fds = |s: &[(u64, usize)]| s.iter().map(|x| x.1).max().unwrap_or(0);
    let bound = max_rss(first) + (max_rss(first) / 4).max(RSS_SLACK_KIB);
    assert!(
        max_rss(second) <= bound,
        "VmRSS grew: first half up to {} KiB, second half up to {} KiB",
        max_rss(first),
        max_rss(second)
    );
    assert!(
        max_fds(second) <= max_fds(first) + FD_SLACK,
        "fds grew: first half up to {}, second half up to {}",
        max_fds(first),
        max_fds(second)
    );
    let fds_until = Instant::now() + Duration::from_secs(5);
    while open_fds() != baseline_fds && Instant::now() < fds_until {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(open_fds(), baseline_fds, "fds back to the baseline");
}
