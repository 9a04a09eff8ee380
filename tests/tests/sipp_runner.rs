//! The SIPp runner itself: it finds SIPp or says how to install it, serves on
//! loopback once started, reports failed calls, and never leaves a SIPp process
//! (or zombie) behind, whether the test passes, fails or panics.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::panic::{self, AssertUnwindSafe};
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use ocer_interop::sipp::{locate_sipp_in, Scenario, SippConfig, SippError, SippPeer};
use ocer_interop::wire::{fresh_branch, fresh_call_id, OutgoingRequest};
use ocer_interop::Transport;

const IO_LIMIT: Duration = Duration::from_secs(10);

/// Whether no process (not even a zombie) has id `pid`.
fn process_gone(pid: u32) -> bool {
    !Path::new(&format!("/proc/{pid}")).exists()
}

#[test]
fn a_missing_sipp_names_the_install_script() {
    let error = locate_sipp_in(Some("".as_ref())).unwrap_err();
    assert!(matches!(error, SippError::NotInstalled));
    assert!(
        error.to_string().contains("scripts/install-test-deps"),
        "{error}"
    );
    let error = locate_sipp_in(None).unwrap_err();
    assert!(matches!(error, SippError::NotInstalled));
}

#[test]
fn a_started_peer_listens_on_loopback_and_is_reaped_on_drop() {
    let peer = SippPeer::start(
        &Scenario::invite_progress_504(),
        &SippConfig::new(Transport::Tcp, 1),
    )
    .unwrap();
    let addr = peer.addr();
    assert!(addr.ip().is_loopback(), "{addr}");
    let pid = peer.pid();
    assert!(!process_gone(pid));
    let probe = TcpStream::connect_timeout(&addr, IO_LIMIT).unwrap();
    drop(probe);
    drop(peer);
    assert!(process_gone(pid), "SIPp (pid {pid}) survived its peer");
}

#[test]
fn a_panicking_test_kills_sipp_too() {
    let seen = Mutex::new(None);
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
        let peer = SippPeer::start(
            &Scenario::message_progress_403(),
            &SippConfig::new(Transport::Udp, 1),
        )
        .unwrap();
        *seen.lock().unwrap() = Some((peer.pid(), peer.logs().dir));
        panic!("the test fails while SIPp runs");
    }));
    assert!(outcome.is_err());
    let (pid, dir) = seen.lock().unwrap().take().unwrap();
    assert!(
        process_gone(pid),
        "SIPp (pid {pid}) survived a panicking test"
    );
    // The peer keeps its files for a failed test; this failure was on purpose.
    assert!(dir.join("scenario.xml").exists());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_peer_that_outlives_its_wait_is_killed() {
    let peer = SippPeer::start(
        &Scenario::invite_progress_504(),
        &SippConfig::new(Transport::Udp, 1),
    )
    .unwrap();
    let pid = peer.pid();
    let error = peer.wait(Duration::from_millis(200)).unwrap_err();
    assert!(matches!(error, SippError::StillRunning { .. }), "{error}");
    assert!(process_gone(pid));
}

/// SIPp's verdict can fail: a BYE where the scenario expects the ACK aborts the
/// call, and the run is reported as failed, with SIPp's explanation.
#[test]
fn an_unexpected_request_fails_the_run() {
    let peer = SippPeer::start(
        &Scenario::invite_progress_504(),
        &SippConfig::new(Transport::Udp, 1),
    )
    .unwrap();
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.set_read_timeout(Some(IO_LIMIT)).unwrap();
    socket.connect(peer.addr()).unwrap();
    let local: SocketAddr = socket.local_addr().unwrap();

    let mut invite = OutgoingRequest::ms_ocer_4_1_invite().unwrap();
    invite.bind_to(Transport::Udp, local, &fresh_branch(), &fresh_call_id());
    socket.send(&invite.to_bytes()).unwrap();
    let mut datagram = [0u8; 65_535];
    // 100, 101, 504: wait for the 504 so the BYE meets the `recv ACK` step.
    for _ in 0..3 {
        let n = socket.recv(&mut datagram).unwrap();
        assert!(
            datagram[..n].starts_with(b"SIP/2.0 1") || datagram[..n].starts_with(b"SIP/2.0 504")
        );
    }
    let mut bye = invite.clone();
    bye.set_method("BYE").unwrap();
    bye.set_header("CSeq", "2 BYE");
    bye.bind_to(
        Transport::Udp,
        local,
        &fresh_branch(),
        invite.header("Call-ID").unwrap(),
    );
    socket.send(&bye.to_bytes()).unwrap();

    let error = peer.wait(IO_LIMIT).unwrap().into_success().unwrap_err();
    let SippError::CallsFailed { status, logs } = &error else {
        panic!("expected CallsFailed, got {error}");
    };
    assert_eq!(status.code(), Some(1), "{error}");
    assert!(logs.stderr.contains("unexpected BYE"), "{error}");
}

/// The runner does not depend on ocer: a hand-written client plays one INVITE
/// transaction over TCP, reading until the 504, and SIPp sees it through.
#[test]
fn one_scripted_call_succeeds_over_tcp() {
    let peer = SippPeer::start(
        &Scenario::invite_progress_504(),
        &SippConfig::new(Transport::Tcp, 1),
    )
    .unwrap();
    let mut stream = TcpStream::connect_timeout(&peer.addr(), IO_LIMIT).unwrap();
    stream.set_read_timeout(Some(IO_LIMIT)).unwrap();
    let local = stream.local_addr().unwrap();
    let mut invite = OutgoingRequest::ms_ocer_4_1_invite().unwrap();
    invite.bind_to(Transport::Tcp, local, &fresh_branch(), &fresh_call_id());
    stream.write_all(&invite.to_bytes()).unwrap();

    let mut received = Vec::new();
    let mut chunk = [0u8; 4096];
    while !String::from_utf8_lossy(&received).contains("SIP/2.0 504 Server time-out")
        || !received.ends_with(b"\r\n\r\n")
    {
        let n = stream.read(&mut chunk).unwrap();
        assert_ne!(n, 0, "SIPp closed the connection");
        received.extend_from_slice(&chunk[..n]);
    }
    let text = String::from_utf8(received).unwrap();
    let to = text
        .rsplit("\r\nTo: ")
        .next()
        .and_then(|rest| rest.split("\r\n").next())
        .unwrap();
    assert!(to.contains(";tag="), "{to}");
    stream
        .write_all(&invite.ack(to).unwrap().to_bytes())
        .unwrap();

    let logs = peer.wait(IO_LIMIT).unwrap().into_success().unwrap();
    assert!(
        logs.messages
            .contains("ACK sip:bob@contoso.com;user=phone SIP/2.0"),
        "{logs}"
    );
}
