//! dnsmasq (Debian package `dnsmasq-base`) as a DNS server on loopback,
//! serving the records a test gives it and nothing else: the third-party
//! name server that pool discovery is tested against.

use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Why dnsmasq could not be run.
#[derive(Debug, thiserror::Error)]
pub enum DnsmasqError {
    /// It is not installed, or could not be spawned.
    #[error("dnsmasq (scripts/install-test-deps installs it): {0}")]
    Missing(std::io::Error),
    /// It did not come up on any port tried.
    #[error("dnsmasq did not start on any of {0} ports")]
    Start(usize),
}

/// dnsmasq in the foreground on 127.0.0.1 (UDP), killed after 60 s whatever
/// happens; killed and reaped on drop.
#[derive(Debug)]
pub struct Dnsmasq {
    child: Child,
    addr: SocketAddr,
}

impl Dnsmasq {
    /// How many free ports [`start`](Self::start) tries.
    const TRIES: usize = 5;

    /// Starts dnsmasq with `records` (its options, e.g.
    /// `--srv-host=_sipinternal._tcp.contoso.com,pool.contoso.com,5060,0,0`
    /// and `--host-record=pool.contoso.com,127.0.0.1`) on a free port and
    /// waits until it holds that port.
    pub fn start(records: &[&str]) -> Result<Self, DnsmasqError> {
        for _ in 0..Self::TRIES {
            if let Some(started) = Self::try_start(records)? {
                return Ok(started);
            }
        }
        Err(DnsmasqError::Start(Self::TRIES))
    }

    fn try_start(records: &[&str]) -> Result<Option<Self>, DnsmasqError> {
        // A free port: bound and released (dnsmasq binds it just after; a
        // port taken in between is another try).
        let port = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))
            .and_then(|s| s.local_addr())
            .map_err(DnsmasqError::Missing)?
            .port();
        let mut child = Command::new("timeout")
            .args(["-s", "KILL", "60", "dnsmasq"])
            .args([
                "--keep-in-foreground",
                "--no-resolv",
                "--no-hosts",
                "--conf-file=/dev/null",
                "--listen-address=127.0.0.1",
                "--bind-interfaces",
                "--user=root",
                "--log-facility=-",
            ])
            .arg(format!("--port={port}"))
            .args(records)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(DnsmasqError::Missing)?;
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if child.try_wait().ok().flatten().is_some() {
                return Ok(None);
            }
            // Ready once the port is dnsmasq's: binding it fails.
            if UdpSocket::bind(addr).is_err() {
                return Ok(Some(Self { child, addr }));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        Ok(None)
    }

    /// A Lync pool for contoso.com: `_sipinternaltls._tcp.contoso.com`
    /// names `pool.contoso.com` at `port` on 127.0.0.1 (what the softphones'
    /// discovery tests sign in through).
    pub fn lync_tls_pool(port: u16) -> Result<Self, DnsmasqError> {
        Self::start(&[
            &format!("--srv-host=_sipinternaltls._tcp.contoso.com,pool.contoso.com,{port},0,0"),
            "--host-record=pool.contoso.com,127.0.0.1",
        ])
    }

    /// Where it answers (UDP).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Dnsmasq {
    /// SIGTERM to `timeout`, which passes it on to dnsmasq: a SIGKILL would
    /// stop `timeout` alone and leave dnsmasq running with no deadline.
    fn drop(&mut self) {
        let pid = self.child.id().to_string();
        let termed = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .is_ok_and(|s| s.success());
        if !termed {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}
