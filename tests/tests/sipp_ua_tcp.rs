//! Interop: the `ocer` user agent (driver, TCP transport, transactions)
//! against SIPp over TCP on loopback.

#![allow(clippy::expect_used, clippy::panic)]

use ocer::ua::transport::{Target, TransportKind};
use ocer_interop::sipp::{Scenario, SippConfig, SippPeer};
use ocer_interop::Transport;
use ocer_test_support::sipp::driver::*;

#[tokio::test]
async fn invite_over_tcp_yields_100_101_504_in_order_and_acks() {
    const CALLS: usize = 10;
    let peer = SippPeer::start(
        &Scenario::invite_progress_504(),
        &SippConfig::new(Transport::Tcp, CALLS as u32),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let driver = start(Target::new(TransportKind::Tcp, peer.addr()), None).await;
    run_invites(&driver, CALLS, 1).await;
    sipp_saw_every_call(peer, CALLS).await;
    driver.shutdown().await;
}

/// SIPp writes each 101 and 504 back to back; on a multi-thread runtime not
/// one 101 may be lost or come after its 504.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_back_to_back_101_and_504_over_tcp_lose_no_101() {
    const CALLS: usize = 1000;
    let peer = SippPeer::start(
        &Scenario::invite_progress_504(),
        &SippConfig::new(Transport::Tcp, CALLS as u32),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let driver = start(Target::new(TransportKind::Tcp, peer.addr()), None).await;
    run_invites(&driver, CALLS, 20).await;
    sipp_saw_every_call(peer, CALLS).await;
    driver.shutdown().await;
}
