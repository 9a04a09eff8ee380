//! loadgen: many ocer user agents in one process, each registered with
//! digest credentials, sending MESSAGE, failing INVITEs or error reports
//! (SERVICE) at a target rate or as fast as they are answered.
//!
//! ```text
//! loadgen --target udp:127.0.0.1:5060 --agents 100 --concurrency 50 --requests 20000 --kind message
//! ```
//!
//! It prints transactions per second, p50 / p99 / max latency, the RSS and
//! what it grew by per registered agent, the reports queued, sent and dropped,
//! and whether every socket and task was gone after the agents unregistered.
//! `--json` adds one JSON object on stdout (what `scripts/bench-load` reads).
//! Made for the SIPp UAS `tests/sipp/load_uas.xml`; BENCHMARKS.md has the
//! figures and the commands.
//!
//! Exit status: 0 if every transaction got the answer it expects, every
//! report expected was sent exactly once and nothing leaked; 1 otherwise;
//! 2 on a bad command line or a setup failure.

mod stats;

use std::collections::HashMap;
use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use ocer::display::{Action, Mode};
use ocer::report::client_errors::{ClientError, CANNOT_CONNECT_TO_EXCHANGE};
use ocer::sip::StatusCode;
use ocer::ua::driver::{DriverConfig, SharedDriver};
use ocer::ua::outbox::{OutboxLimits, ReportId};
use ocer::ua::transport::{tls, Target, TransportKind};
use ocer::ua::{ClientErrorReport, OutboxLocation, UaEvent, UaEvents, UserAgent};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::CertificateDer;
use serde_json::json;
use tokio::sync::oneshot;

use stats::Latencies;

#[global_allocator]
static ALLOC: &stats_alloc::StatsAlloc<std::alloc::System> = &stats_alloc::INSTRUMENTED_SYSTEM;

/// What each transaction of the run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Kind {
    /// MESSAGE, answered 200.
    Message,
    /// INVITE, answered 486: a failed call, reported by SERVICE.
    Invite,
    /// An error report of the app's own (ErrorId 52169), sent by SERVICE;
    /// its latency runs until the server's 200.
    Service,
    /// None: register every agent, measure, unregister (the scale run).
    Register,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Self::Message => "MESSAGE",
            Self::Invite => "INVITE",
            Self::Service => "SERVICE",
            Self::Register => "REGISTER",
        }
    }
}

/// Load generator for the ocer user agent (see BENCHMARKS.md).
#[derive(Debug, Parser)]
#[command(name = "loadgen", version)]
struct Cli {
    /// The server: udp:HOST:PORT, tcp:HOST:PORT or tls:HOST:PORT (IP address).
    #[arg(long, value_parser = parse_target)]
    target: (TransportKind, std::net::SocketAddr),
    /// User agents in this process, each with its own registration.
    #[arg(long, short = 'n', default_value_t = 1)]
    agents: usize,
    /// Transactions in flight at most, over all agents.
    #[arg(long, short = 'c', default_value_t = 10)]
    concurrency: usize,
    /// Transactions in all (spread round-robin over the agents).
    #[arg(long, short = 'm', default_value_t = 1000)]
    requests: u64,
    /// Transactions started per second; 0: as fast as they are answered.
    #[arg(long, short = 'r', default_value_t = 0.0)]
    rate: f64,
    /// What each transaction is.
    #[arg(long, value_enum, default_value_t = Kind::Message)]
    kind: Kind,
    /// The digest user every agent logs in as (each under its own AOR,
    /// sip:load<i>@DOMAIN).
    #[arg(long, default_value = "load")]
    user: String,
    /// The digest password.
    #[arg(long, default_value = "secret")]
    password: String,
    /// The domain of the agents' AORs and of the callee.
    #[arg(long, default_value = "contoso.com")]
    domain: String,
    /// PEM file of the CA to trust for tls: (default: the system's roots).
    #[arg(long)]
    tls_ca: Option<PathBuf>,
    /// The name the server's certificate must carry.
    #[arg(long, default_value = "localhost")]
    tls_name: String,
    /// Keep each agent's reports on disk (fsync'd) under DIR/<agent>, not in memory.
    #[arg(long)]
    outbox_dir: Option<PathBuf>,
    /// Worker threads of the runtime; 1 is tokio's current-thread runtime.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// How long to wait for every report to be sent after the last transaction.
    #[arg(long, default_value_t = 300)]
    report_timeout_secs: u64,
    /// Print one JSON object with every figure on stdout at the end.
    #[arg(long)]
    json: bool,
    /// No progress line on stderr.
    #[arg(long)]
    quiet: bool,
    /// Every agent on one `SharedDriver` (one socket / connection to the
    /// target for all), not a driver each.
    #[arg(long)]
    shared_driver: bool,
}

fn parse_target(s: &str) -> Result<(TransportKind, std::net::SocketAddr), String> {
    let (kind, addr) = s
        .split_once(':')
        .ok_or_else(|| format!("{s}: expected udp:|tcp:|tls:HOST:PORT"))?;
    let kind = match kind.to_ascii_lowercase().as_str() {
        "udp" => TransportKind::Udp,
        "tcp" => TransportKind::Tcp,
        "tls" => TransportKind::Tls,
        other => return Err(format!("{other}: the transport is udp, tcp or tls")),
    };
    let addr = addr
        .parse()
        .map_err(|e| format!("{addr}: not an IP address and port: {e}"))?;
    Ok((kind, addr))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = if cli.threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(cli.threads)
            .enable_all()
            .build()
    };
    let runtime = match runtime {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("loadgen: the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("loadgen: {e}");
            ExitCode::from(2)
        }
    }
}

/// What every agent's event watcher and every worker share.
#[derive(Default)]
struct Shared {
    done: AtomicU64,
    errors: AtomicU64,
    queued: AtomicU64,
    sent: AtomicU64,
    dropped: AtomicU64,
    suspended: AtomicU64,
    /// Microseconds since the phase started at the last report sent.
    last_sent_us: AtomicU64,
    phase_start: Mutex<Option<Instant>>,
    /// Service kind: a worker waits for its report, by Call-ID until the
    /// report is queued, then by report id.
    by_call: Mutex<HashMap<String, oneshot::Sender<bool>>>,
    by_report: Mutex<HashMap<ReportId, oneshot::Sender<bool>>>,
    first_error: Mutex<Option<String>>,
}

impl Shared {
    fn error(&self, what: String) {
        self.errors.fetch_add(1, Relaxed);
        let mut first = lock(&self.first_error);
        if first.is_none() {
            *first = Some(what);
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Reads one agent's events until its stream ends (at shutdown): an app
/// must, or they pile up.
async fn watch(mut events: UaEvents, shared: Arc<Shared>) {
    while let Some(event) = events.recv().await {
        match event {
            UaEvent::ReportQueued { report_id, call_id } => {
                shared.queued.fetch_add(1, Relaxed);
                if let Some(waiter) = lock(&shared.by_call).remove(&call_id) {
                    lock(&shared.by_report).insert(report_id, waiter);
                }
            }
            UaEvent::ReportSent { report_id } => {
                shared.sent.fetch_add(1, Relaxed);
                let start = *lock(&shared.phase_start);
                if let Some(start) = start {
                    let us = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX);
                    shared.last_sent_us.fetch_max(us, Relaxed);
                }
                if let Some(waiter) = lock(&shared.by_report).remove(&report_id) {
                    let _ = waiter.send(true);
                }
            }
            UaEvent::ReportDropped { report_id, why } => {
                shared.dropped.fetch_add(1, Relaxed);
                let shown = report_id.map(|id| id.to_string()).unwrap_or_default();
                shared.error(format!("report {shown} dropped: {why}"));
                if let Some(waiter) = report_id.and_then(|id| lock(&shared.by_report).remove(&id)) {
                    let _ = waiter.send(false);
                }
            }
            UaEvent::ReportingSuspended { why } => {
                shared.suspended.fetch_add(1, Relaxed);
                shared.error(format!("reporting suspended: {why}"));
            }
            _ => {}
        }
    }
}

async fn run(cli: Cli) -> Result<bool, String> {
    if cli.agents == 0 || cli.concurrency == 0 {
        return Err("--agents and --concurrency must be at least 1".into());
    }
    let (kind, addr) = cli.target;
    let mut target = Target::new(kind, addr);
    let mut tls_config = None;
    if kind == TransportKind::Tls {
        target = target.with_server_name(cli.tls_name.clone());
        tls_config = Some(match &cli.tls_ca {
            Some(path) => {
                let mut roots = rustls::RootCertStore::empty();
                let certs = CertificateDer::pem_file_iter(path)
                    .map_err(|e| format!("--tls-ca {}: {e}", path.display()))?;
                for cert in certs {
                    let cert = cert.map_err(|e| format!("--tls-ca {}: {e}", path.display()))?;
                    roots
                        .add(cert)
                        .map_err(|e| format!("--tls-ca {}: {e}", path.display()))?;
                }
                Arc::new(tls::client_config_with_roots(roots).map_err(|e| e.to_string())?)
            }
            None => tls::default_client_config().map_err(|e| e.to_string())?,
        });
    }

    // What the process holds before the first agent: the leak check's baseline.
    let base_fds = stats::open_fds();
    let base_tasks = stats::alive_tasks();
    let base_rss = stats::rss_bytes();
    let base_heap = stats::live_heap_bytes();

    // Started after the baseline: its socket and task must be gone too
    // once it is shut down.
    let shared_driver = if cli.shared_driver {
        let mut config = DriverConfig::new(target.clone());
        if let Some(tls) = &tls_config {
            config.transport.tls = Some(tls.clone());
        }
        Some(
            SharedDriver::start(config)
                .await
                .map_err(|e| format!("the shared driver does not start: {e}"))?,
        )
    } else {
        None
    };
    let shared = Arc::new(Shared::default());
    let mut agents = Vec::with_capacity(cli.agents);
    let mut watchers = Vec::with_capacity(cli.agents);
    let built_at = Instant::now();
    for i in 0..cli.agents {
        let aor = format!("sip:load{i}@{}", cli.domain);
        let mut builder = UserAgent::builder(aor, target.clone())
            .credentials(cli.user.clone(), cli.password.clone());
        if let Some(config) = &tls_config {
            builder = builder.tls_config(config.clone());
        }
        if let Some(driver) = &shared_driver {
            builder = builder.shared_driver(driver);
        }
        if let Some(dir) = &cli.outbox_dir {
            // Room for every report of the run: none evicted for count.
            let limits = OutboxLimits {
                max_reports: usize::try_from(cli.requests)
                    .unwrap_or(usize::MAX)
                    .max(OutboxLimits::default().max_reports),
                max_bytes: 1 << 30,
                ..OutboxLimits::default()
            };
            builder = builder
                .outbox(OutboxLocation::Disk(dir.join(i.to_string())))
                .outbox_limits(limits);
        }
        let (ua, events) = builder
            .build()
            .await
            .map_err(|e| format!("agent {i} does not start: {e}"))?;
        watchers.push(tokio::spawn(watch(events, shared.clone())));
        agents.push(ua);
    }
    let agents = Arc::new(agents);

    // Register every agent, C at a time.
    let progress = !cli.quiet;
    let registered = Arc::new(AtomicU64::new(0));
    let reg_failed = Arc::new(AtomicU64::new(0));
    let next = Arc::new(AtomicU64::new(0));
    let mut workers = Vec::new();
    for _ in 0..cli.concurrency.min(cli.agents) {
        let (agents, next, registered, reg_failed, shared) = (
            agents.clone(),
            next.clone(),
            registered.clone(),
            reg_failed.clone(),
            shared.clone(),
        );
        workers.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Relaxed) as usize;
                let Some(ua) = agents.get(i) else { break };
                match ua.register().await {
                    Ok(()) => registered.fetch_add(1, Relaxed),
                    Err(failure) => {
                        shared.error(format!("REGISTER of agent {i}: {failure}"));
                        reg_failed.fetch_add(1, Relaxed)
                    }
                };
            }
        }));
    }
    for worker in workers {
        worker.await.map_err(|e| e.to_string())?;
    }
    let register_secs = built_at.elapsed().as_secs_f64();
    let reg_failed = reg_failed.load(Relaxed);
    if cli.kind == Kind::Register {
        // Idle: the REGISTER transactions end first (over UDP a completed
        // non-INVITE transaction lives on for Timer K, T4 = 5 s).
        tokio::time::sleep(Duration::from_millis(5_500)).await;
    }
    let registered_heap = stats::live_heap_bytes();
    let heap_per_agent = registered_heap.saturating_sub(base_heap) / cli.agents as u64;
    let registered_rss = stats::rss_bytes();
    let registered_fds = stats::open_fds();
    let registered_tasks = stats::alive_tasks();
    let per_agent = registered_rss.saturating_sub(base_rss) / cli.agents as u64;
    eprintln!(
        "loadgen: {} agents registered over {} in {register_secs:.2} s ({} failed); \
         RSS {} KiB, +{:.1} KiB per agent (heap +{:.1} KiB); {} fds, {} tasks",
        registered.load(Relaxed),
        kind,
        reg_failed,
        registered_rss / 1024,
        per_agent as f64 / 1024.0,
        heap_per_agent as f64 / 1024.0,
        registered_fds,
        registered_tasks,
    );

    // The measured phase.
    let requests = if cli.kind == Kind::Register || reg_failed > 0 {
        0
    } else {
        cli.requests
    };
    let phase_start = Instant::now();
    *lock(&shared.phase_start) = Some(phase_start);
    let stop_progress = Arc::new(AtomicBool::new(false));
    let progress_task = progress.then(|| {
        tokio::spawn(show_progress(
            shared.clone(),
            requests,
            phase_start,
            stop_progress.clone(),
        ))
    });
    let next = Arc::new(AtomicU64::new(0));
    let mut workers = Vec::new();
    for _ in 0..cli.concurrency {
        let (agents, next, shared) = (agents.clone(), next.clone(), shared.clone());
        let (kind, rate, domain) = (cli.kind, cli.rate, cli.domain.clone());
        workers.push(tokio::spawn(async move {
            let mut latencies = Latencies::default();
            let callee = format!("sip:bob@{domain}");
            loop {
                let k = next.fetch_add(1, Relaxed);
                if k >= requests {
                    break;
                }
                if rate > 0.0 {
                    let due = phase_start + Duration::from_secs_f64(k as f64 / rate);
                    tokio::time::sleep_until(due.into()).await;
                }
                let ua = &agents[(k % agents.len() as u64) as usize];
                let started = Instant::now();
                let ok = transaction(kind, ua, &callee, k, &shared).await;
                if ok {
                    latencies.record(started.elapsed());
                }
                shared.done.fetch_add(1, Relaxed);
            }
            latencies
        }));
    }
    let mut latencies = Latencies::default();
    for worker in workers {
        latencies.merge(worker.await.map_err(|e| e.to_string())?);
    }
    let phase_secs = phase_start.elapsed().as_secs_f64();

    // Failed calls and app reports: wait for every report to be sent.
    let expected_reports = match cli.kind {
        Kind::Invite | Kind::Service => requests,
        Kind::Message | Kind::Register => 0,
    };
    let report_deadline = Instant::now() + Duration::from_secs(cli.report_timeout_secs);
    while shared.sent.load(Relaxed) + shared.dropped.load(Relaxed) < expected_reports
        && Instant::now() < report_deadline
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop_progress.store(true, Relaxed);
    if let Some(task) = progress_task {
        let _ = task.await;
    }
    let reports_secs = shared.last_sent_us.load(Relaxed) as f64 / 1e6;
    let peak_rss = stats::rss_bytes();

    // Unregister and stop every agent, C at a time, then check that what
    // they held is gone.
    let next = Arc::new(AtomicU64::new(0));
    let mut workers = Vec::new();
    for _ in 0..cli.concurrency.min(cli.agents) {
        let (agents, next) = (agents.clone(), next.clone());
        workers.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Relaxed) as usize;
                let Some(ua) = agents.get(i) else { break };
                ua.shutdown().await;
            }
        }));
    }
    for worker in workers {
        worker.await.map_err(|e| e.to_string())?;
    }
    drop(agents);
    for watcher in watchers {
        watcher.await.map_err(|e| e.to_string())?;
    }
    // Every agent left the shared driver: it holds no member any more.
    let members_left = match &shared_driver {
        Some(driver) => {
            let left = driver.members().await;
            driver.shutdown().await;
            left
        }
        None => 0,
    };
    drop(shared_driver);
    // Tasks end and sockets close asynchronously after shutdown: give them
    // a moment, but not forever.
    let settle_deadline = Instant::now() + Duration::from_secs(5);
    let (mut end_fds, mut end_tasks);
    loop {
        end_fds = stats::open_fds();
        end_tasks = stats::alive_tasks();
        if (end_fds <= base_fds && end_tasks <= base_tasks) || Instant::now() >= settle_deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let leaked = end_fds > base_fds || end_tasks > base_tasks || members_left > 0;

    let done = requests;
    let errors = shared.errors.load(Relaxed);
    let ok_count = latencies.len() as u64;
    let tps = if phase_secs > 0.0 {
        ok_count as f64 / phase_secs
    } else {
        0.0
    };
    let summary = latencies.summary();
    let (queued, sent, dropped) = (
        shared.queued.load(Relaxed),
        shared.sent.load(Relaxed),
        shared.dropped.load(Relaxed),
    );
    let reports_per_sec = if reports_secs > 0.0 {
        sent as f64 / reports_secs
    } else {
        0.0
    };
    let reports_ok = sent == expected_reports && queued == expected_reports;

    println!(
        "loadgen: {} {} over {} by {} agents, concurrency {}: {ok_count} answered as expected in {phase_secs:.3} s = {tps:.0} transactions/s",
        done,
        cli.kind.name(),
        kind,
        cli.agents,
        cli.concurrency
    );
    if let Some(s) = summary {
        println!(
            "loadgen: latency p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
            s.p50_us as f64 / 1e3,
            s.p99_us as f64 / 1e3,
            s.max_us as f64 / 1e3
        );
    }
    println!(
        "loadgen: RSS {} KiB at start, {} KiB registered (+{:.1} KiB per agent), {} KiB at the end of the load",
        base_rss / 1024,
        registered_rss / 1024,
        per_agent as f64 / 1024.0,
        peak_rss / 1024
    );
    println!(
        "loadgen: reports queued {queued}, sent {sent}, dropped {dropped}{}",
        if expected_reports > 0 {
            format!(" (expected {expected_reports}); {reports_per_sec:.0} reports/s")
        } else {
            String::new()
        }
    );
    println!(
        "loadgen: after unregister: fds {end_fds} (baseline {base_fds}, {registered_fds} registered), \
         tasks {end_tasks} (baseline {base_tasks}, {registered_tasks} registered){}",
        if leaked { " LEAK" } else { "" }
    );
    if errors > 0 {
        println!(
            "loadgen: {errors} errors; the first: {}",
            lock(&shared.first_error).clone().unwrap_or_default()
        );
    }
    if cli.json {
        let s = summary.unwrap_or(stats::Summary {
            p50_us: 0,
            p99_us: 0,
            max_us: 0,
        });
        println!(
            "{}",
            json!({
                "kind": cli.kind.name(),
                "transport": kind.via_token(),
                "agents": cli.agents,
                "concurrency": cli.concurrency,
                "requests": done,
                "answered": ok_count,
                "errors": errors,
                "seconds": phase_secs,
                "tps": tps,
                "p50_us": s.p50_us,
                "p99_us": s.p99_us,
                "max_us": s.max_us,
                "register_seconds": register_secs,
                "registered": registered.load(Relaxed),
                "rss_base": base_rss,
                "rss_registered": registered_rss,
                "rss_per_agent": per_agent,
                "heap_per_agent": heap_per_agent,
                "rss_end_of_load": peak_rss,
                "reports_queued": queued,
                "reports_sent": sent,
                "reports_dropped": dropped,
                "reports_per_sec": reports_per_sec,
                "fds_base": base_fds,
                "fds_registered": registered_fds,
                "fds_end": end_fds,
                "tasks_base": base_tasks,
                "tasks_registered": registered_tasks,
                "tasks_end": end_tasks,
                "leak": leaked,
                "shared_driver": cli.shared_driver,
                "members_left": members_left,
            })
        );
    }
    Ok(errors == 0 && reg_failed == 0 && ok_count == done && reports_ok && !leaked)
}

/// One transaction; `true` if it got the answer the load scenario gives.
async fn transaction(kind: Kind, ua: &UserAgent, callee: &str, k: u64, shared: &Shared) -> bool {
    match kind {
        Kind::Message => match ua.send_message(callee, "load").await {
            Ok(()) => true,
            Err(failure) => {
                shared.error(format!("MESSAGE {k}: {failure}"));
                false
            }
        },
        Kind::Invite => match ua.call(callee, None, Mode::Voice, Action::Call).await {
            Err(failure) if failure.status() == Some(StatusCode(486)) => true,
            Err(failure) => {
                shared.error(format!("INVITE {k}: {failure}"));
                false
            }
            Ok(call) => {
                shared.error(format!("INVITE {k}: answered, not refused"));
                let _ = call.hangup().await;
                false
            }
        },
        Kind::Service => {
            let call_id = format!("loadgen-{k}-{}", std::process::id());
            let (tx, rx) = oneshot::channel();
            lock(&shared.by_call).insert(call_id.clone(), tx);
            let error = ClientError::lookup(CANNOT_CONNECT_TO_EXCHANGE);
            let Some(error) = error.copied() else {
                shared.error("ErrorId 52169 is not a known client error".into());
                return false;
            };
            let report = ClientErrorReport {
                call_id: Some(call_id.clone()),
                // The (simulated) Exchange Web Services call failed to connect.
                ..ClientErrorReport::new(error, "POST", 0)
            };
            if let Err(e) = ua.report_client_error(report).await {
                lock(&shared.by_call).remove(&call_id);
                shared.error(format!("report {k}: {e}"));
                return false;
            }
            // The event watcher answers once the server took it (or it was dropped).
            rx.await.unwrap_or(false)
        }
        Kind::Register => true,
    }
}

/// A progress line on stderr every second (rewritten in place on a terminal).
async fn show_progress(shared: Arc<Shared>, total: u64, start: Instant, stop: Arc<AtomicBool>) {
    let terminal = std::io::stderr().is_terminal();
    let mut last = 0;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.tick().await;
    loop {
        tick.tick().await;
        if stop.load(Relaxed) {
            break;
        }
        let done = shared.done.load(Relaxed);
        let line = format!(
            "loadgen: {:>5.1} s  {done}/{total}  {} tx/s  errors {}  reports queued {} sent {}  RSS {} KiB",
            start.elapsed().as_secs_f64(),
            done - last,
            shared.errors.load(Relaxed),
            shared.queued.load(Relaxed),
            shared.sent.load(Relaxed),
            stats::rss_bytes() / 1024,
        );
        last = done;
        if terminal {
            eprint!("\r{line}");
        } else {
            eprintln!("{line}");
        }
    }
    if terminal {
        eprintln!();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse() {
        assert_eq!(
            parse_target("udp:127.0.0.1:5060"),
            Ok((
                TransportKind::Udp,
                "127.0.0.1:5060".parse().unwrap_or_else(|_| unreachable!())
            ))
        );
        assert!(matches!(
            parse_target("TLS:[::1]:5061"),
            Ok((TransportKind::Tls, _))
        ));
        assert!(parse_target("sctp:127.0.0.1:5060").is_err());
        assert!(parse_target("127.0.0.1:5060").is_err());
        assert!(parse_target("tcp:localhost:5060").is_err());
    }

    #[test]
    fn the_command_line_parses() {
        let cli = Cli::try_parse_from([
            "loadgen",
            "--target",
            "tcp:127.0.0.1:5060",
            "-n",
            "5",
            "-c",
            "3",
            "-m",
            "7",
            "--kind",
            "invite",
        ]);
        let cli = cli.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((cli.agents, cli.concurrency, cli.requests), (5, 3, 7));
        assert_eq!(cli.kind, Kind::Invite);
        assert!(Cli::try_parse_from(["loadgen"]).is_err());
    }
}
