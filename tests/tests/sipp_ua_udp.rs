//! Interop: the `ocer` user agent (driver, UDP transport, transactions)
//! against SIPp over UDP on loopback.

#![allow(clippy::expect_used, clippy::panic)]

use ocer::ua::transport::{Target, TransportKind};
use ocer_interop::sipp::{Scenario, SippConfig, SippLogs, SippPeer};
use ocer_interop::Transport;
use ocer_test_support::sipp::driver::*;
use ocer_test_support::timers::sipp_driver_timers;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invite_over_udp_yields_100_101_504_in_order_and_acks() {
    const CALLS: usize = 20;
    let peer = SippPeer::start(
        &Scenario::invite_progress_504(),
        &SippConfig::new(Transport::Udp, CALLS as u32),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let driver = start(Target::new(TransportKind::Udp, peer.addr()), None).await;
    run_invites(&driver, CALLS, 4).await;
    sipp_saw_every_call(peer, CALLS).await;
    driver.shutdown().await;
}

/// When each INVITE arrived at SIPp, in seconds since midnight, from the
/// timestamps of its message log (`-trace_msg`).
fn invite_arrivals(logs: &SippLogs) -> Vec<f64> {
    let separator = "----------------------------------------------- ";
    logs.messages
        .split(separator)
        .filter_map(|entry| {
            let (stamp, rest) = entry.split_once('\n')?;
            let mut lines = rest.lines().map(str::trim).filter(|l| !l.is_empty());
            let (what, first) = (lines.next()?, lines.next()?);
            if !what.contains("message received") || !first.starts_with("INVITE ") {
                return None;
            }
            let time = stamp.split_whitespace().nth(1)?;
            let mut parts = time.split(':');
            let (h, m, s) = (parts.next()?, parts.next()?, parts.next()?);
            Some(
                h.parse::<f64>().ok()? * 3600.0
                    + m.parse::<f64>().ok()? * 60.0
                    + s.parse::<f64>().ok()?,
            )
        })
        .collect()
}

#[tokio::test]
async fn a_silent_udp_peer_gets_retransmissions_at_t1_then_2_t1() {
    let mut config = SippConfig::new(Transport::Udp, 1);
    config.extra_args = vec!["-nr".to_owned()];
    let peer = SippPeer::start(&Scenario::invite_ignore_two_then_504(), &config)
        .unwrap_or_else(|e| panic!("{e}"));
    let driver = start(Target::new(TransportKind::Udp, peer.addr()), None).await;
    let mut stream = driver.send_request(invite()).expect("the request is sent");
    check_invite_504(&until_final(&mut stream).await);
    let logs = sipp_saw_every_call(peer, 1).await;
    driver.shutdown().await;

    let arrivals = invite_arrivals(&logs);
    assert_eq!(arrivals.len(), 3, "three copies of the INVITE\n{logs}");
    let t1 = sipp_driver_timers().t1.as_secs_f64();
    let (first, second) = (arrivals[1] - arrivals[0], arrivals[2] - arrivals[0]);
    // Timer A on the wire, loosely: T1, then 2·T1 more (3·T1 in all).
    assert!(
        first >= t1 * 0.8 && first < t1 * 2.0,
        "first retransmission after {first} s"
    );
    assert!(
        second >= t1 * 2.6 && second < t1 * 5.0,
        "second retransmission {second} s after the INVITE"
    );
}
