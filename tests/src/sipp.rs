//! SIPp as a user agent server, run as a child process on 127.0.0.1.
//!
//! [`SippPeer::start`] writes a [`Scenario`] into a fresh temporary directory,
//! picks a free port, starts `sipp` on it and returns once SIPp's socket is
//! bound (and, for TCP, listening). SIPp stays a child of the test process (no
//! `-bg`): dropping the [`SippPeer`] kills it by PID and reaps it, also when the
//! test panics, and then prints SIPp's logs to stderr. SIPp's own `-timeout`
//! bounds its life even if the test process is killed before it can drop the
//! peer.
//!
//! ```no_run
//! use std::time::Duration;
//! use ocer_interop::sipp::{Scenario, SippConfig, SippPeer};
//! use ocer_interop::Transport;
//!
//! let peer = SippPeer::start(&Scenario::invite_progress_504(), &SippConfig::new(Transport::Tcp, 1))?;
//! let server = peer.addr();
//! // ... connect to `server`, run one INVITE transaction ...
//! peer.wait(Duration::from_secs(10))?.into_success()?;
//! # Ok::<(), ocer_interop::sipp::SippError>(())
//! ```

use std::collections::HashSet;
use std::ffi::OsStr;
use std::fmt;
use std::fs::{self, File};
use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener, UdpSocket};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::message_log::MessageLog;
use crate::Transport;

/// SIPp's exit code for "fatal error binding a socket" (`-2`).
const EXIT_BIND_FAILED: i32 = 254;

/// How often start-up and exit are polled.
const POLL: Duration = Duration::from_millis(10);

/// How much of the message log and of the screen output is shown in [`SippLogs`]'
/// `Display`: their ends explain a failure; the whole files stay on disk.
const LOG_TAIL_BYTES: usize = 8 * 1024;

/// An XML scenario SIPp plays. The ones the interop tests use are in `tests/sipp/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scenario {
    name: String,
    xml: String,
}

impl Scenario {
    /// `tests/sipp/invite_progress_504.xml`: the server side of MS-OCER 4.1. An
    /// INVITE gets `100 Trying`, then back to back `101 Progress Report` with
    /// `ms-diagnostics: 12006` and `504 Server time-out` with
    /// `ms-diagnostics: 1007`; then SIPp waits for the ACK.
    pub fn invite_progress_504() -> Self {
        Self::new(
            "invite_progress_504",
            include_str!("../sipp/invite_progress_504.xml"),
        )
    }

    /// `tests/sipp/message_progress_403.xml`: a MESSAGE gets, back to back,
    /// `101 Progress Report` with `ms-diagnostics-public: 12006` and
    /// `403 Forbidden` with `ms-diagnostics-public: 3027`. No ACK.
    pub fn message_progress_403() -> Self {
        Self::new(
            "message_progress_403",
            include_str!("../sipp/message_progress_403.xml"),
        )
    }

    /// `tests/sipp/invite_ignore_two_then_504.xml`: over UDP, the first two
    /// copies of an INVITE go unanswered (the client must retransmit); the
    /// third gets `100`, `101` with `ms-diagnostics: 12006` and `504` with
    /// `ms-diagnostics: 1007`, then SIPp waits for the ACK. Run SIPp with
    /// `-nr` ([`SippConfig::extra_args`]) so that each retransmission plays
    /// the next `recv` instead of being absorbed.
    pub fn invite_ignore_two_then_504() -> Self {
        Self::new(
            "invite_ignore_two_then_504",
            include_str!("../sipp/invite_ignore_two_then_504.xml"),
        )
    }

    /// A scenario from its XML text; `name` only labels logs and errors.
    pub fn new(name: impl Into<String>, xml: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            xml: xml.into(),
        }
    }

    /// The label given at construction.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The XML text.
    pub fn xml(&self) -> &str {
        &self.xml
    }
}

/// How to run SIPp.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SippConfig {
    /// TCP (`-t t1`: one connection for every call) or UDP (`-t u1`).
    pub transport: Transport,
    /// `-m`: SIPp exits after this many calls, so [`SippPeer::wait`] can tell
    /// whether it saw every call through.
    pub max_calls: u32,
    /// `-timeout` with `-timeout_error`: SIPp gives up, failing, after this long
    /// (rounded up to whole seconds). This bounds its life even if the test
    /// process dies without dropping the peer.
    pub run_limit: Duration,
    /// How long [`SippPeer::start`] waits for SIPp's socket.
    pub ready_limit: Duration,
    /// How many ports [`SippPeer::start`] tries: another process may take the
    /// port between the moment it is found free and the moment SIPp binds it.
    pub bind_attempts: u32,
    /// More SIPp options, after the harness's own (for example `-nr`, so that
    /// a retransmitted request plays the scenario's next `recv`).
    pub extra_args: Vec<String>,
    /// The port to listen on; `None` picks a free one. (A UDP and a TCP SIPp
    /// on one port stand for one server reachable over both.)
    pub port: Option<u16>,
}

impl SippConfig {
    /// `max_calls` calls over `transport`, SIPp alive for at most 60 s, ready
    /// within 10 s, 5 ports tried.
    pub fn new(transport: Transport, max_calls: u32) -> Self {
        Self {
            transport,
            max_calls,
            run_limit: Duration::from_secs(60),
            ready_limit: Duration::from_secs(10),
            bind_attempts: 5,
            extra_args: Vec::new(),
            port: None,
        }
    }
}

/// Why SIPp could not be run, or did not end well.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SippError {
    /// No executable `sipp` on `PATH`.
    #[error(
        "`sipp` is not on PATH: run scripts/install-test-deps \
         (it installs the Debian package sip-tester)"
    )]
    NotInstalled,
    /// A file or process operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// Every attempt to start SIPp failed to bind its port.
    #[error("SIPp could not bind a port on 127.0.0.1 in {attempts} attempts\n{logs}")]
    NoFreePort {
        /// How many ports were tried.
        attempts: u32,
        /// The logs of the last attempt.
        logs: Box<SippLogs>,
    },
    /// SIPp exited before its socket was ready.
    #[error("SIPp exited while starting: {}\n{logs}", describe_exit(*.status))]
    ExitedEarly {
        /// How it exited.
        status: ExitStatus,
        /// Its logs.
        logs: Box<SippLogs>,
    },
    /// SIPp's socket was not ready in time; SIPp was killed.
    #[error("SIPp did not bind {addr} within {waited:?} (read from /proc/net)\n{logs}")]
    NotReady {
        /// The address it was told to bind.
        addr: SocketAddr,
        /// How long start-up waited.
        waited: Duration,
        /// Its logs.
        logs: Box<SippLogs>,
    },
    /// SIPp did not exit in time; it was killed.
    #[error("SIPp did not exit within {waited:?}; killed\n{logs}")]
    StillRunning {
        /// How long [`SippPeer::wait`] waited.
        waited: Duration,
        /// Its logs.
        logs: Box<SippLogs>,
    },
    /// SIPp exited, but not every call played the scenario through, or it logged
    /// unexpected messages.
    #[error("SIPp reports failure: {}\n{logs}", describe_exit(*.status))]
    CallsFailed {
        /// How it exited.
        status: ExitStatus,
        /// Its logs.
        logs: Box<SippLogs>,
    },
}

impl SippError {
    fn io(context: impl Into<String>) -> impl FnOnce(io::Error) -> Self {
        let context = context.into();
        move |source| Self::Io { context, source }
    }
}

/// What SIPp wrote, read back from its work directory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SippLogs {
    /// The work directory holding the scenario and every log.
    pub dir: PathBuf,
    /// SIPp's stderr: start-up failures and aborted calls.
    pub stderr: String,
    /// The `-trace_err` log: every unexpected message. Empty when all went as
    /// scripted.
    pub errors: String,
    /// The `-trace_msg` log: every message sent and received.
    pub messages: String,
    /// The `-trace_screen` statistics dumped when SIPp quits, or failing that
    /// its live screen (stdout).
    pub screen: String,
}

impl SippLogs {
    fn read(dir: &Path) -> Self {
        let read = |name: &str| {
            fs::read(dir.join(name))
                .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
                .unwrap_or_default()
        };
        let screen = match read(SCREEN_FILE) {
            dumped if !dumped.trim().is_empty() => dumped,
            _ => read(STDOUT_FILE),
        };
        Self {
            dir: dir.to_path_buf(),
            stderr: read(STDERR_FILE),
            errors: read(ERROR_FILE),
            messages: read(MESSAGE_FILE),
            screen,
        }
    }
}

impl SippLogs {
    /// The message log (`-trace_msg`), split into entries.
    pub fn message_log(&self) -> MessageLog<'_> {
        MessageLog::parse(&self.messages)
    }
}

impl fmt::Display for SippLogs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "SIPp work directory: {}", self.dir.display())?;
        for (title, text) in [
            ("stderr", self.stderr.as_str()),
            ("error log (-trace_err)", self.errors.as_str()),
            ("message log (-trace_msg)", tail(&self.messages)),
            ("screen", tail(&self.screen)),
        ] {
            writeln!(f, "--- SIPp {title} ({} bytes shown) ---", text.len())?;
            writeln!(f, "{}", text.trim_end())?;
        }
        Ok(())
    }
}

/// The last [`LOG_TAIL_BYTES`] of `text`, cut at a character boundary.
fn tail(text: &str) -> &str {
    let mut start = text.len().saturating_sub(LOG_TAIL_BYTES);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    text.get(start..).unwrap_or_default()
}

/// How a SIPp run ended. See [`SippPeer::wait`].
#[derive(Debug)]
pub struct SippRun {
    /// SIPp's exit status.
    pub status: ExitStatus,
    /// Its logs.
    pub logs: SippLogs,
}

impl SippRun {
    /// The logs if every call played the scenario through (exit code 0) and
    /// nothing unexpected was logged; otherwise [`SippError::CallsFailed`].
    pub fn into_success(self) -> Result<SippLogs, SippError> {
        if self.status.code() == Some(0) && self.logs.errors.trim().is_empty() {
            Ok(self.logs)
        } else {
            Err(SippError::CallsFailed {
                status: self.status,
                logs: Box::new(self.logs),
            })
        }
    }
}

/// SIPp's exit status in words (its documented exit codes).
pub fn describe_exit(status: ExitStatus) -> String {
    let meaning = match status.code() {
        Some(0) => "all calls were successful",
        Some(1) => "at least one call failed",
        Some(97) => "exit on internal command",
        Some(99) => "normal exit without calls processed",
        Some(255) => "fatal error (or -timeout reached)",
        Some(EXIT_BIND_FAILED) => "fatal error binding a socket",
        Some(_) => "unknown exit code",
        None => "killed by a signal",
    };
    format!("{status} ({meaning})")
}

const SCENARIO_FILE: &str = "scenario.xml";
const ERROR_FILE: &str = "errors.log";
const MESSAGE_FILE: &str = "messages.log";
const SCREEN_FILE: &str = "screen.log";
const STDOUT_FILE: &str = "stdout.log";
const STDERR_FILE: &str = "stderr.log";

/// A running SIPp user agent server. Killed and reaped on drop.
#[derive(Debug)]
pub struct SippPeer {
    /// `None` once reaped.
    child: Option<Child>,
    pid: u32,
    addr: SocketAddr,
    transport: Transport,
    scenario: String,
    /// `None` only while dropping, when the directory is kept for a failed test.
    dir: Option<TempDir>,
}

/// How one start-up attempt ended, short of success.
enum StartFailure {
    /// The port was taken: try another.
    Bind(SippLogs),
    Fatal(SippError),
}

impl SippPeer {
    /// Starts SIPp playing `scenario` as a server on a free port of 127.0.0.1, and
    /// returns once its socket is bound (TCP: listening).
    ///
    /// Fails with [`SippError::NotInstalled`] when `sipp` is not on `PATH`.
    pub fn start(scenario: &Scenario, config: &SippConfig) -> Result<Self, SippError> {
        let program = locate_sipp()?;
        let attempts = config.bind_attempts.max(1);
        let mut last_logs = SippLogs::default();
        for _ in 0..attempts {
            match Self::try_start(&program, scenario, config) {
                Ok(peer) => return Ok(peer),
                Err(StartFailure::Bind(logs)) => last_logs = logs,
                Err(StartFailure::Fatal(error)) => return Err(error),
            }
        }
        Err(SippError::NoFreePort {
            attempts,
            logs: Box::new(last_logs),
        })
    }

    fn try_start(
        program: &Path,
        scenario: &Scenario,
        config: &SippConfig,
    ) -> Result<Self, StartFailure> {
        let fatal = StartFailure::Fatal;
        let dir = tempfile::Builder::new()
            .prefix("ocer-interop-sipp-")
            .tempdir()
            .map_err(SippError::io("creating SIPp's work directory"))
            .map_err(fatal)?;
        let path = dir.path();
        fs::write(path.join(SCENARIO_FILE), scenario.xml())
            .map_err(SippError::io("writing the SIPp scenario"))
            .map_err(fatal)?;
        let port = match config.port {
            Some(port) => port,
            None => free_port(config.transport).map_err(fatal)?,
        };
        let addr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port));
        let output = |name: &str| {
            File::create(path.join(name))
                .map_err(SippError::io(format!("creating {name}")))
                .map_err(fatal)
        };
        let (stdout, stderr) = (output(STDOUT_FILE)?, output(STDERR_FILE)?);

        let mut command = Command::new(program);
        command
            .current_dir(path)
            .arg("-sf")
            .arg(path.join(SCENARIO_FILE))
            // Loopback only: -bind_local makes the server listen on -i alone, and
            // the control socket (-ci) stays on loopback too.
            .args(["-i", "127.0.0.1", "-bind_local", "-ci", "127.0.0.1"])
            .arg("-p")
            .arg(port.to_string())
            .arg("-t")
            .arg(match config.transport {
                Transport::Tcp => "t1",
                Transport::Udp => "u1",
            })
            .arg("-m")
            .arg(config.max_calls.to_string())
            .arg("-timeout")
            .arg(whole_seconds(config.run_limit).to_string())
            .arg("-timeout_error")
            .arg("-trace_err")
            .arg("-error_file")
            .arg(path.join(ERROR_FILE))
            .arg("-trace_msg")
            .arg("-message_file")
            .arg(path.join(MESSAGE_FILE))
            .arg("-trace_screen")
            .arg("-screen_file")
            .arg(path.join(SCREEN_FILE))
            .arg("-nostdin")
            .args(&config.extra_args)
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr);
        let child = command
            .spawn()
            .map_err(SippError::io(format!("starting {}", program.display())))
            .map_err(fatal)?;

        let mut peer = Self {
            pid: child.id(),
            child: Some(child),
            addr,
            transport: config.transport,
            scenario: scenario.name().to_owned(),
            dir: Some(dir),
        };
        peer.await_ready(config.ready_limit)?;
        Ok(peer)
    }

    /// Polls until SIPp's socket is bound, SIPp exits, or `limit` passes.
    fn await_ready(&mut self, limit: Duration) -> Result<(), StartFailure> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.try_reap().map_err(StartFailure::Fatal)? {
                let logs = self.logs();
                return Err(if status.code() == Some(EXIT_BIND_FAILED) {
                    StartFailure::Bind(logs)
                } else {
                    StartFailure::Fatal(SippError::ExitedEarly {
                        status,
                        logs: Box::new(logs),
                    })
                });
            }
            if owns_socket(self.pid, self.transport, self.addr) {
                return Ok(());
            }
            if Instant::now() >= deadline {
                self.kill();
                return Err(StartFailure::Fatal(SippError::NotReady {
                    addr: self.addr,
                    waited: limit,
                    logs: Box::new(self.logs()),
                }));
            }
            thread::sleep(POLL);
        }
    }

    /// The address SIPp serves on (127.0.0.1).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// SIPp's process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// What SIPp has logged so far.
    pub fn logs(&self) -> SippLogs {
        self.dir
            .as_ref()
            .map(|dir| SippLogs::read(dir.path()))
            .unwrap_or_default()
    }

    /// Waits up to `limit` for SIPp to exit on its own (after `max_calls` calls),
    /// and says how it ended. If it is still running then, it is killed and this
    /// fails with [`SippError::StillRunning`].
    pub fn wait(mut self, limit: Duration) -> Result<SippRun, SippError> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.try_reap()? {
                return Ok(SippRun {
                    status,
                    logs: self.logs(),
                });
            }
            if Instant::now() >= deadline {
                self.kill();
                return Err(SippError::StillRunning {
                    waited: limit,
                    logs: Box::new(self.logs()),
                });
            }
            thread::sleep(POLL);
        }
    }

    /// Kills SIPp now (SIGKILL: a server that crashes, its connections
    /// closed by the kernel), reaps it, and returns what it had logged
    /// (SIPp writes its message trace out message by message; the soak test
    /// finds every SERVICE it answered there).
    pub fn kill_now(mut self) -> SippLogs {
        self.kill();
        self.logs()
    }

    /// The exit status if SIPp has exited (and reaps it), `None` while it runs.
    fn try_reap(&mut self) -> Result<Option<ExitStatus>, SippError> {
        let Some(child) = self.child.as_mut() else {
            return Ok(None);
        };
        let status = child
            .try_wait()
            .map_err(SippError::io(format!("polling SIPp (pid {})", self.pid)))?;
        if status.is_some() {
            self.child = None;
        }
        Ok(status)
    }

    /// Kills SIPp by PID (SIGKILL) and reaps it, so no zombie is left.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            // Errors mean it has already exited; `wait` reaps it either way.
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for SippPeer {
    fn drop(&mut self) {
        self.kill();
        if thread::panicking() {
            let logs = self.logs();
            // Keep the files for a post-mortem; a passing test leaves nothing behind.
            let kept = self.dir.take().map(TempDir::keep);
            eprintln!(
                "SIPp peer `{}` (pid {}, {} {}) during a failed test; files kept in {}\n{logs}",
                self.scenario,
                self.pid,
                self.transport.via_token(),
                self.addr,
                kept.as_deref().unwrap_or(Path::new("?")).display(),
            );
        }
    }
}

/// `duration` in whole seconds, rounded up, at least 1 (SIPp's `-timeout` unit).
pub(crate) fn whole_seconds(duration: Duration) -> u64 {
    let secs = duration.as_secs() + u64::from(duration.subsec_nanos() > 0);
    secs.max(1)
}

/// A port of 127.0.0.1 free right now for `transport`, found by binding port 0
/// and releasing it. Another process may take it before SIPp binds it;
/// [`SippPeer::start`] then tries another.
fn free_port(_transport: Transport) -> Result<u16, SippError> {
    // Free for both: a client sends requests over 1,300 bytes to a UDP
    // server's port over TCP (RFC 3261 §18.1.1), which must not reach a TCP
    // SIPp of another test.
    let context = "finding a free port on 127.0.0.1";
    let mut last = None;
    for _ in 0..20 {
        let tcp = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(SippError::io(context))?;
        let port = tcp.local_addr().map_err(SippError::io(context))?.port();
        match UdpSocket::bind((Ipv4Addr::LOCALHOST, port)) {
            Ok(_) => return Ok(port),
            Err(error) => last = Some(error),
        }
    }
    Err(SippError::io(context)(last.unwrap_or_else(|| {
        std::io::Error::other("no port free for both TCP and UDP")
    })))
}

/// Finds `sipp` on `PATH`.
pub fn locate_sipp() -> Result<PathBuf, SippError> {
    locate_sipp_in(std::env::var_os("PATH").as_deref())
}

/// Finds an executable `sipp` in the directories of `path` (a `PATH` value).
/// Empty entries are skipped: they would mean the current directory.
pub fn locate_sipp_in(path: Option<&OsStr>) -> Result<PathBuf, SippError> {
    let dirs = path.map(std::env::split_paths).into_iter().flatten();
    dirs.filter(|dir| !dir.as_os_str().is_empty())
        .map(|dir| dir.join("sipp"))
        .find(|candidate| is_executable(candidate))
        .ok_or(SippError::NotInstalled)
}

/// Whether `path` is an executable file.
pub(crate) fn is_executable(path: &Path) -> bool {
    fs::metadata(path).is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

/// Whether process `pid` holds a socket bound to `addr` (for TCP: listening),
/// read from `/proc/<pid>/fd` and `/proc/net/{tcp,udp}`. Any read error (the
/// process exiting, say) counts as "not yet"; the caller's deadline and exit
/// check end the wait.
pub(crate) fn owns_socket(pid: u32, transport: Transport, addr: SocketAddr) -> bool {
    let inodes = socket_inodes(pid);
    if inodes.is_empty() {
        return false;
    }
    let table = match transport {
        Transport::Tcp => "/proc/net/tcp",
        Transport::Udp => "/proc/net/udp",
    };
    let Ok(text) = fs::read_to_string(table) else {
        return false;
    };
    text.lines().skip(1).any(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (Some(local), Some(state), Some(inode)) = (fields.get(1), fields.get(3), fields.get(9))
        else {
            return false;
        };
        // 0A is TCP_LISTEN; a bound UDP socket is 07 (TCP_CLOSE), any state will do.
        let state_ok = transport == Transport::Udp || *state == "0A";
        state_ok
            && parse_proc_net_addr(local) == Some(addr)
            && inode
                .parse::<u64>()
                .is_ok_and(|inode| inodes.contains(&inode))
    })
}

/// The inodes of the sockets process `pid` has open.
fn socket_inodes(pid: u32) -> HashSet<u64> {
    let Ok(entries) = fs::read_dir(format!("/proc/{pid}/fd")) else {
        return HashSet::new();
    };
    entries
        .filter_map(|entry| fs::read_link(entry.ok()?.path()).ok())
        .filter_map(|target| {
            let target = target.to_str()?;
            target
                .strip_prefix("socket:[")?
                .strip_suffix(']')?
                .parse()
                .ok()
        })
        .collect()
}

/// An IPv4 `local_address` of `/proc/net/tcp`: the address as the kernel holds
/// it in memory (network order), printed as a native-endian hex `u32`, then the
/// port in hex.
fn parse_proc_net_addr(text: &str) -> Option<SocketAddr> {
    let (ip, port) = text.split_once(':')?;
    let ip = u32::from_str_radix(ip, 16).ok()?;
    let port = u16::from_str_radix(port, 16).ok()?;
    Some(SocketAddr::V4(SocketAddrV4::new(
        Ipv4Addr::from(ip.to_ne_bytes()),
        port,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_net_addresses_decode_to_loopback() {
        let loopback = u32::from_ne_bytes([127, 0, 0, 1]);
        let text = format!("{loopback:08X}:3AE6");
        assert_eq!(
            parse_proc_net_addr(&text),
            Some("127.0.0.1:15078".parse().unwrap())
        );
        assert_eq!(parse_proc_net_addr("nonsense"), None);
        assert_eq!(parse_proc_net_addr("0100007F:XYZ"), None);
    }

    #[test]
    fn run_limits_round_up_to_whole_seconds() {
        assert_eq!(whole_seconds(Duration::ZERO), 1);
        assert_eq!(whole_seconds(Duration::from_millis(1500)), 2);
        assert_eq!(whole_seconds(Duration::from_secs(30)), 30);
    }

    #[test]
    fn log_tails_cut_at_character_boundaries() {
        let text = format!("{}{}", "é".repeat(LOG_TAIL_BYTES), "end");
        let cut = tail(&text);
        assert!(cut.len() <= LOG_TAIL_BYTES);
        assert!(cut.ends_with("end"));
        assert_eq!(tail("short"), "short");
    }
}
