//! Interop: the `ocer` user agent over TLS — rustls in the driver, stunnel4
//! terminating TLS in front of SIPp (TCP behind it), a test CA made at test
//! time.

#![allow(clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use ocer::sip::{TransactionEvent, TransportFailureKind};
use ocer::ua::transport::{Target, TransportKind};
use ocer_interop::sipp::{Scenario, SippConfig, SippPeer};
use ocer_interop::stunnel::{Stunnel, StunnelConfig, TestCa};
use ocer_interop::Transport;
use ocer_test_support::sipp::driver::*;
use ocer_test_support::tls::trusting;

/// SIPp serving `calls` calls over TCP, stunnel in front of it, and the
/// target to reach it with TLS.
fn tls_peer(calls: usize, ca: &TestCa) -> (SippPeer, Stunnel, Target) {
    let sipp = SippPeer::start(
        &Scenario::invite_progress_504(),
        &SippConfig::new(Transport::Tcp, calls as u32),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let stunnel = Stunnel::start(sipp.addr(), ca, &StunnelConfig::default())
        .unwrap_or_else(|e| panic!("{e}"));
    let target = Target::new(TransportKind::Tls, stunnel.addr()).with_server_name("localhost");
    (sipp, stunnel, target)
}

#[tokio::test]
async fn invite_over_tls_yields_100_101_504_in_order_and_acks() {
    const CALLS: usize = 10;
    let ca = TestCa::generate().unwrap_or_else(|e| panic!("{e}"));
    let (sipp, stunnel, target) = tls_peer(CALLS, &ca);
    let driver = start(target, Some(trusting(&ca))).await;
    run_invites(&driver, CALLS, 1).await;
    sipp_saw_every_call(sipp, CALLS).await;
    driver.shutdown().await;
    drop(stunnel);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_back_to_back_101_and_504_over_tls_lose_no_101() {
    const CALLS: usize = 1000;
    let ca = TestCa::generate().unwrap_or_else(|e| panic!("{e}"));
    let (sipp, stunnel, target) = tls_peer(CALLS, &ca);
    let driver = start(target, Some(trusting(&ca))).await;
    run_invites(&driver, CALLS, 20).await;
    sipp_saw_every_call(sipp, CALLS).await;
    driver.shutdown().await;
    drop(stunnel);
}

#[tokio::test]
async fn a_server_certificate_from_another_ca_fails_at_once_with_a_certificate_error() {
    let server_ca = TestCa::generate().unwrap_or_else(|e| panic!("{e}"));
    let other_ca = TestCa::generate().unwrap_or_else(|e| panic!("{e}"));
    let (_sipp, _stunnel, target) = tls_peer(1, &server_ca);
    let driver = start(target, Some(trusting(&other_ca))).await;
    let started = Instant::now();
    let mut stream = driver.send_request(invite()).expect("the request is sent");
    let events = until_final(&mut stream).await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    match &events[..] {
        [TransactionEvent::TransportError(failure)] => {
            assert_eq!(
                failure.kind,
                TransportFailureKind::Certificate,
                "{failure:?}"
            );
        }
        other => panic!("expected a certificate error, got {other:?}"),
    }
    assert!(matches!(
        stream.recv().await,
        Some(TransactionEvent::Terminated)
    ));
    driver.shutdown().await;
}

#[test]
fn stunnel_listens_on_loopback_and_is_killed_by_pid_on_drop() {
    let ca = TestCa::generate().unwrap_or_else(|e| panic!("{e}"));
    let backend = std::net::TcpListener::bind("127.0.0.1:0").expect("a backend port");
    let stunnel = Stunnel::start(
        backend.local_addr().expect("its address"),
        &ca,
        &StunnelConfig::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(stunnel.addr().ip().is_loopback(), "{}", stunnel.addr());
    let pid = stunnel.pid().expect("stunnel's pid, from its pid file");
    let proc_dir = std::path::PathBuf::from(format!("/proc/{pid}"));
    assert!(proc_dir.exists());
    let probe = std::net::TcpStream::connect(stunnel.addr()).expect("stunnel accepts");
    drop(probe);
    drop(stunnel);
    assert!(
        !proc_dir.exists(),
        "stunnel (pid {pid}) survived its runner"
    );
}
