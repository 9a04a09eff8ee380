//! TLS in front of SIPp: `stunnel` (Debian package `stunnel4`) as a child
//! process on 127.0.0.1, with a certificate from a test CA made at test time.
//!
//! Debian's SIPp has no TLS, so a TLS test runs SIPp over TCP
//! ([`SippPeer`](crate::sipp::SippPeer)) and puts a [`Stunnel`] in front of it:
//! the client under test speaks TLS to stunnel, which speaks TCP to SIPp.
//!
//! The discipline is [`SippPeer`](crate::sipp::SippPeer)'s: a fresh temporary
//! directory holds the configuration, the certificate and key and the log;
//! stunnel listens on 127.0.0.1 only; it runs under coreutils `timeout`, so it
//! dies after [`StunnelConfig::run_limit`] even if the test process is killed
//! before it can clean up; dropping the [`Stunnel`] kills it by PID (SIGKILL)
//! and reaps it.
//!
//! ```no_run
//! use ocer_interop::sipp::{Scenario, SippConfig, SippPeer};
//! use ocer_interop::stunnel::{Stunnel, StunnelConfig, TestCa};
//! use ocer_interop::Transport;
//!
//! let sipp = SippPeer::start(&Scenario::invite_progress_504(), &SippConfig::new(Transport::Tcp, 1))?;
//! let ca = TestCa::generate()?;
//! let tls = Stunnel::start(sipp.addr(), &ca, &StunnelConfig::default())?;
//! // ... trust `ca.ca_cert_der()`, connect with TLS to `tls.addr()` as "localhost" ...
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::fs::{self, File};
use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::sipp::{owns_socket, whole_seconds};
use crate::Transport;

/// How often start-up and exit are polled.
const POLL: Duration = Duration::from_millis(10);

/// How long [`Stunnel`]'s drop waits for the supervisor to exit after
/// stunnel was killed.
const REAP_LIMIT: Duration = Duration::from_secs(5);

const CONFIG_FILE: &str = "stunnel.conf";
const CERT_FILE: &str = "server.pem";
const KEY_FILE: &str = "server.key";
const PID_FILE: &str = "stunnel.pid";
const LOG_FILE: &str = "stunnel.log";
const STDERR_FILE: &str = "stderr.log";

/// What stunnel logs when its port is taken.
const BIND_ERROR: &str = "Error binding service";

/// A certificate authority made for one test run, and a server certificate
/// it issued for `localhost` and `127.0.0.1`.
#[derive(Clone)]
pub struct TestCa {
    ca_der: Vec<u8>,
    ca_pem: String,
    server_pem: String,
    server_key_pem: String,
}

impl fmt::Debug for TestCa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The key stays out of logs, even a throwaway one.
        f.debug_struct("TestCa")
            .field("ca_pem", &self.ca_pem)
            .field("server_pem", &self.server_pem)
            .finish_non_exhaustive()
    }
}

impl TestCa {
    /// Makes a new CA (ECDSA P-256) and a server certificate signed by it.
    pub fn generate() -> Result<Self, StunnelError> {
        let ca_key = rcgen::KeyPair::generate()?;
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new())?;
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "ocer-interop test CA");
        ca_params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::CrlSign,
        ];
        let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key)?;

        let server_key = rcgen::KeyPair::generate()?;
        let mut params =
            rcgen::CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])?;
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "localhost");
        let server = params.signed_by(&server_key, &ca)?;
        Ok(Self {
            ca_der: ca.der().to_vec(),
            ca_pem: ca.pem(),
            server_pem: server.pem(),
            server_key_pem: server_key.serialize_pem(),
        })
    }

    /// The CA certificate, DER: what a client under test must trust.
    pub fn ca_cert_der(&self) -> &[u8] {
        &self.ca_der
    }

    /// The CA certificate, PEM.
    pub fn ca_cert_pem(&self) -> &str {
        &self.ca_pem
    }
}

/// How to run stunnel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StunnelConfig {
    /// stunnel is killed (by `timeout`) after this long, whatever happens to
    /// the test process (rounded up to whole seconds).
    pub run_limit: Duration,
    /// How long [`Stunnel::start`] waits for its listening socket.
    pub ready_limit: Duration,
    /// How many ports [`Stunnel::start`] tries.
    pub bind_attempts: u32,
}

/// Alive for at most 60 s, ready within 10 s, 5 ports tried.
impl Default for StunnelConfig {
    fn default() -> Self {
        Self {
            run_limit: Duration::from_secs(60),
            ready_limit: Duration::from_secs(10),
            bind_attempts: 5,
        }
    }
}

/// Why stunnel could not be run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StunnelError {
    /// Neither `stunnel4` nor `stunnel` is on `PATH`.
    #[error(
        "`stunnel4` is not on PATH: run scripts/install-test-deps \
         (it installs the Debian package stunnel4)"
    )]
    NotInstalled,
    /// The test certificates could not be made.
    #[error("making the test certificates: {0}")]
    Certificate(#[from] rcgen::Error),
    /// A file or process operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// stunnel exited before it was ready.
    #[error("stunnel exited while starting: {status}\n{logs}")]
    ExitedEarly {
        /// How it exited.
        status: ExitStatus,
        /// Its logs.
        logs: String,
    },
    /// Every port tried was taken.
    #[error("stunnel could not bind a port on 127.0.0.1 in {attempts} attempts\n{logs}")]
    NoFreePort {
        /// How many ports were tried.
        attempts: u32,
        /// The logs of the last attempt.
        logs: String,
    },
    /// stunnel was not listening in time; it was killed.
    #[error("stunnel did not listen on {addr} within {waited:?}\n{logs}")]
    NotReady {
        /// The address it was told to listen on.
        addr: SocketAddr,
        /// How long start-up waited.
        waited: Duration,
        /// Its logs.
        logs: String,
    },
}

impl StunnelError {
    fn io(context: impl Into<String>) -> impl FnOnce(io::Error) -> Self {
        let context = context.into();
        move |source| Self::Io { context, source }
    }
}

/// A running stunnel: TLS on [`addr`](Self::addr), plain TCP to the backend.
/// Killed and reaped on drop.
#[derive(Debug)]
pub struct Stunnel {
    /// The `timeout` process stunnel runs under; `None` once reaped.
    supervisor: Option<Child>,
    /// stunnel's own PID, from its pid file.
    pid: Option<u32>,
    addr: SocketAddr,
    backend: SocketAddr,
    /// `None` only while dropping, when the directory is kept for a failed test.
    dir: Option<TempDir>,
}

enum StartFailure {
    Bind(String),
    Fatal(StunnelError),
}

impl Stunnel {
    /// Starts stunnel on a free port of 127.0.0.1, terminating TLS with a
    /// certificate from `ca` and forwarding each connection to `backend`;
    /// returns once it listens.
    pub fn start(
        backend: SocketAddr,
        ca: &TestCa,
        config: &StunnelConfig,
    ) -> Result<Self, StunnelError> {
        let program = locate_stunnel()?;
        let attempts = config.bind_attempts.max(1);
        let mut last_logs = String::new();
        for _ in 0..attempts {
            match Self::try_start(&program, backend, ca, config) {
                Ok(stunnel) => return Ok(stunnel),
                Err(StartFailure::Bind(logs)) => last_logs = logs,
                Err(StartFailure::Fatal(error)) => return Err(error),
            }
        }
        Err(StunnelError::NoFreePort {
            attempts,
            logs: last_logs,
        })
    }

    fn try_start(
        program: &Path,
        backend: SocketAddr,
        ca: &TestCa,
        config: &StunnelConfig,
    ) -> Result<Self, StartFailure> {
        let fatal = StartFailure::Fatal;
        let dir = tempfile::Builder::new()
            .prefix("ocer-interop-stunnel-")
            .tempdir()
            .map_err(StunnelError::io("creating stunnel's work directory"))
            .map_err(fatal)?;
        let path = dir.path();
        let write = |name: &str, text: &str| {
            fs::write(path.join(name), text)
                .map_err(StunnelError::io(format!("writing {name}")))
                .map_err(fatal)
        };
        write(CERT_FILE, &ca.server_pem)?;
        write(KEY_FILE, &ca.server_key_pem)?;
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .map_err(StunnelError::io("finding a free port on 127.0.0.1"))
            .map_err(fatal)?;
        let addr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port));
        write(
            CONFIG_FILE,
            &format!(
                "foreground = yes\n\
                 pid = {pid}\n\
                 output = {log}\n\
                 syslog = no\n\
                 debug = info\n\
                 [sip]\n\
                 accept = {addr}\n\
                 connect = {backend}\n\
                 cert = {cert}\n\
                 key = {key}\n",
                pid = path.join(PID_FILE).display(),
                log = path.join(LOG_FILE).display(),
                cert = path.join(CERT_FILE).display(),
                key = path.join(KEY_FILE).display(),
            ),
        )?;
        let stderr = File::create(path.join(STDERR_FILE))
            .map_err(StunnelError::io("creating stderr.log"))
            .map_err(fatal)?;
        let supervisor = Command::new("timeout")
            .arg("--signal=KILL")
            .arg(whole_seconds(config.run_limit).to_string())
            .arg(program)
            .arg(path.join(CONFIG_FILE))
            .current_dir(path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .map_err(StunnelError::io(format!(
                "starting timeout {}",
                program.display()
            )))
            .map_err(fatal)?;
        let mut stunnel = Self {
            supervisor: Some(supervisor),
            pid: None,
            addr,
            backend,
            dir: Some(dir),
        };
        stunnel.await_ready(config.ready_limit)?;
        Ok(stunnel)
    }

    fn await_ready(&mut self, limit: Duration) -> Result<(), StartFailure> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.try_reap().map_err(StartFailure::Fatal)? {
                let logs = self.logs();
                return Err(if logs.contains(BIND_ERROR) {
                    StartFailure::Bind(logs)
                } else {
                    StartFailure::Fatal(StunnelError::ExitedEarly { status, logs })
                });
            }
            if self.pid.is_none() {
                self.pid = self.read_pid();
            }
            if let Some(pid) = self.pid {
                if owns_socket(pid, Transport::Tcp, self.addr) {
                    return Ok(());
                }
            }
            if Instant::now() >= deadline {
                self.kill();
                return Err(StartFailure::Fatal(StunnelError::NotReady {
                    addr: self.addr,
                    waited: limit,
                    logs: self.logs(),
                }));
            }
            thread::sleep(POLL);
        }
    }

    fn read_pid(&self) -> Option<u32> {
        let dir = self.dir.as_ref()?;
        fs::read_to_string(dir.path().join(PID_FILE))
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    /// Where stunnel accepts TLS (127.0.0.1).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// stunnel's process id.
    pub fn pid(&self) -> Option<u32> {
        self.pid
    }

    /// stunnel's log and stderr so far.
    pub fn logs(&self) -> String {
        let Some(dir) = &self.dir else {
            return String::new();
        };
        let read = |name: &str| {
            fs::read(dir.path().join(name))
                .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
                .unwrap_or_default()
        };
        format!(
            "--- stunnel log ({}) ---\n{}\n--- stunnel stderr ---\n{}",
            dir.path().display(),
            read(LOG_FILE).trim_end(),
            read(STDERR_FILE).trim_end()
        )
    }

    fn try_reap(&mut self) -> Result<Option<ExitStatus>, StunnelError> {
        let Some(child) = self.supervisor.as_mut() else {
            return Ok(None);
        };
        let status = child
            .try_wait()
            .map_err(StunnelError::io("polling stunnel's supervisor"))?;
        if status.is_some() {
            self.supervisor = None;
        }
        Ok(status)
    }

    /// SIGKILLs stunnel by its PID and reaps its `timeout` supervisor, which
    /// exits (having reaped stunnel) once stunnel is dead. If the supervisor
    /// does not exit within [`REAP_LIMIT`] it is SIGKILLed too.
    fn kill(&mut self) {
        if let Some(pid) = self.pid.take() {
            // Only while its supervisor is unreaped is `pid` surely stunnel's.
            if self.supervisor.is_some() {
                let _ = Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status();
            }
        }
        let deadline = Instant::now() + REAP_LIMIT;
        while Instant::now() < deadline {
            match self.try_reap() {
                Ok(None) if self.supervisor.is_some() => thread::sleep(POLL),
                _ => break,
            }
        }
        if let Some(mut supervisor) = self.supervisor.take() {
            let _ = supervisor.kill();
            let _ = supervisor.wait();
        }
    }
}

impl Drop for Stunnel {
    fn drop(&mut self) {
        let pid = self.pid;
        self.kill();
        if thread::panicking() {
            let logs = self.logs();
            let kept = self.dir.take().map(TempDir::keep);
            eprintln!(
                "stunnel (pid {pid:?}, {} -> {}) during a failed test; files kept in {}\n{logs}",
                self.addr,
                self.backend,
                kept.as_deref().unwrap_or(Path::new("?")).display(),
            );
        }
    }
}

/// Finds `stunnel4` (Debian's name) or `stunnel` on `PATH`.
pub fn locate_stunnel() -> Result<PathBuf, StunnelError> {
    let path = std::env::var_os("PATH");
    let dirs: Vec<PathBuf> = path
        .as_deref()
        .map(std::env::split_paths)
        .into_iter()
        .flatten()
        .filter(|dir| !dir.as_os_str().is_empty())
        .collect();
    ["stunnel4", "stunnel"]
        .iter()
        .flat_map(|name| dirs.iter().map(move |dir| dir.join(name)))
        .find(|candidate| crate::sipp::is_executable(candidate))
        .ok_or(StunnelError::NotInstalled)
}
