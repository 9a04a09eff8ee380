//! The Lync-like registrar of `tests/peers/lync_registrar.py` as a child
//! process on 127.0.0.1: MS-SIPAE NTLM with Python `pyspnego` as the NTLM
//! acceptor, so the client's NTLM is checked by another implementation.
//!
//! The peer prints `LISTENING <port>` once it accepts TCP connections and
//! writes each verdict as one JSON line in a log file here. It runs with a
//! run limit of its own and exits when its stdin closes; dropping the
//! [`LyncPeer`] closes stdin, kills it and reaps it. TLS goes through
//! [`Stunnel`](crate::stunnel::Stunnel) in front of it.

use std::io::{BufRead, BufReader};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::Duration;

use tempfile::TempDir;

/// Why the peer could not start.
#[derive(Debug, thiserror::Error)]
pub enum LyncPeerError {
    /// python3 or pyspnego is missing.
    #[error("python3 with pyspnego is needed (scripts/install-test-deps installs it): {0}")]
    Missing(String),
    /// It did not come up.
    #[error("the Lync peer did not start: {0}")]
    Start(String),
}

/// How the peer is run.
#[derive(Debug, Clone)]
pub struct LyncPeerConfig {
    /// The user name it accepts.
    pub user: String,
    /// The NetBIOS domain.
    pub domain: String,
    /// The password it checks the NTLMv2 response against.
    pub password: String,
    /// Registration expiry it grants.
    pub expires: u32,
    /// It exits after this long whatever happens.
    pub run_limit: Duration,
    /// Also check a tampered copy and a replay of every signed request.
    pub check_tamper: bool,
    /// Answer an INVITE with an unsigned and a badly signed 200 OK before
    /// the signed 504, which the client must refuse.
    pub forge_invite_answers: bool,
}

impl Default for LyncPeerConfig {
    fn default() -> Self {
        Self {
            user: "alice".into(),
            domain: "CONTOSO".into(),
            password: "secret".into(),
            expires: 3600,
            run_limit: Duration::from_secs(60),
            check_tamper: true,
            forge_invite_answers: false,
        }
    }
}

/// The script, from this crate's directory.
pub fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("peers/lync_registrar.py")
}

/// The running peer.
pub struct LyncPeer {
    child: Child,
    stdin: Option<ChildStdin>,
    addr: SocketAddr,
    dir: TempDir,
}

impl LyncPeer {
    /// Starts the peer.
    pub fn start(config: &LyncPeerConfig) -> Result<Self, LyncPeerError> {
        let check = Command::new("python3")
            .args(["-c", "import spnego._ntlm_raw.crypto"])
            .output()
            .map_err(|e| LyncPeerError::Missing(e.to_string()))?;
        if !check.status.success() {
            return Err(LyncPeerError::Missing(
                String::from_utf8_lossy(&check.stderr).into_owned(),
            ));
        }
        let dir = TempDir::new().map_err(|e| LyncPeerError::Start(e.to_string()))?;
        let log = dir.path().join("verdicts.jsonl");
        let mut command = Command::new("timeout");
        command
            .arg("-s")
            .arg("KILL")
            .arg(format!("{}", config.run_limit.as_secs() + 5))
            .arg("python3")
            .arg(script())
            .args(["--user", &config.user, "--domain", &config.domain])
            .args(["--password", &config.password])
            .arg("--log")
            .arg(&log)
            .args(["--expires", &config.expires.to_string()])
            .args(["--run-limit", &config.run_limit.as_secs().to_string()]);
        if config.check_tamper {
            command.arg("--check-tamper");
        }
        if config.forge_invite_answers {
            command.arg("--forge-invite-answers");
        }
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| LyncPeerError::Start(e.to_string()))?;
        let stdin = child.stdin.take();
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| LyncPeerError::Start("no stdout".into()))?;
        let mut line = String::new();
        let read = BufReader::new(stdout).read_line(&mut line);
        let port = match read {
            Ok(_) => line
                .trim()
                .strip_prefix("LISTENING ")
                .and_then(|p| p.parse::<u16>().ok()),
            Err(_) => None,
        };
        let Some(port) = port else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(LyncPeerError::Start(format!("it said {line:?}")));
        };
        Ok(Self {
            child,
            stdin,
            addr: SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port)),
            dir,
        })
    }

    /// Where it listens (TCP).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its verdicts so far, one JSON object per line.
    pub fn verdicts(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join("verdicts.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// Asserts what a client's run of the §4.1 flow leaves in the verdicts:
    /// one NTLM handshake, accepted and chosen over the digest offered
    /// alongside; REGISTER, INVITE and SERVICE signed and verified, none
    /// refused; the report of the 504 received in a signed SERVICE; each
    /// tampered or replayed copy of a signed request refused.
    pub fn assert_signed_in_with_ntlm(&self) {
        let v = self.verdicts();
        let all = v.join("\n");
        assert_eq!(
            count(&v, r#""event": "authenticate", "ok": true"#),
            1,
            "{all}"
        );
        assert_eq!(count(&v, "instead of NTLM"), 0, "{all}");
        assert_eq!(count(&v, r#""event": "refused""#), 0, "{all}");
        for method in ["REGISTER", "INVITE", "SERVICE"] {
            assert!(
                count(&v, &format!(r#""event": "verified", "method": "{method}""#)) >= 1,
                "{method} signed\n{all}"
            );
        }
        assert!(count(&v, r#"responseCode=\"504\""#) >= 1, "{all}");
        let checks = count(&v, "tamper-check");
        assert!(checks >= 2, "INVITE, SERVICE: {all}");
        assert_eq!(count(&v, r#""tampered": "bad signature""#), checks, "{all}");
        assert_eq!(count(&v, r#""replayed": "replayed cnum"#), checks, "{all}");
    }
}

/// How many verdict lines contain `needle`.
pub fn count(verdicts: &[String], needle: &str) -> usize {
    verdicts.iter().filter(|v| v.contains(needle)).count()
}

impl Drop for LyncPeer {
    fn drop(&mut self) {
        self.stdin.take();
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("Lync peer verdicts:\n{}", self.verdicts().join("\n"));
        }
    }
}
