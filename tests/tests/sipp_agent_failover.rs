//! Interop: RFC 3263 §4.3 failover and re-registering after a lost
//! connection, against SIPp pools on loopback (TCP).
//!
//! - The first pool is down (a closed port): the REGISTER goes to the
//!   second, which takes it; the app hears which pool failed.
//! - The first pool answers `503` without `Retry-After`
//!   (`tests/sipp/agent_register_503_bare.xml`): the REGISTER goes, in a new
//!   transaction, to the second; the first never hears from the client again.
//! - Registered with the first pool, which then goes away (SIPp exits,
//!   closing the connection): the user agent registers again on a new
//!   connection — the list from the top: the first pool is down now, so the
//!   second.
//!
//! Needs `sipp` on PATH: run `scripts/install-test-deps`.

#![allow(clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::time::Duration;

use ocer::sip::TransportFailureKind;
use ocer::ua::driver::FailoverCause;
use ocer::ua::transport::{Target, TransportKind};
use ocer::ua::{RegistrationState, UaEvent};
use ocer_interop::sipp::{Scenario, SippConfig, SippLogs, SippPeer};
use ocer_interop::Transport;
use ocer_test_support::sipp::agent::*;

const DIGEST: &str = include_str!("../sipp/agent_register_digest.xml");
const BUSY: &str = include_str!("../sipp/agent_register_503_bare.xml");

/// A loopback TCP port nothing listens on (bound, then released).
fn closed_port() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address")
}

/// SIPp playing `xml` over TCP for exactly one call, then exiting.
fn one_call_pool(name: &str, xml: &str) -> SippPeer {
    let mut config = SippConfig::new(Transport::Tcp, 1);
    config.run_limit = Duration::from_secs(30);
    SippPeer::start(&Scenario::new(name, xml), &config).unwrap_or_else(|e| panic!("{e}"))
}

/// Waits for `pool` to exit after its one call, and returns its logs.
async fn finished(pool: SippPeer) -> SippLogs {
    tokio::task::spawn_blocking(move || pool.wait(STEP).and_then(|run| run.into_success()))
        .await
        .expect("the waiting thread")
        .unwrap_or_else(|e| panic!("{e}"))
}

fn registered(event: &UaEvent) -> Option<()> {
    matches!(
        event,
        UaEvent::Registration(RegistrationState::Registered { .. })
    )
    .then_some(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc3263_4_3_a_pool_that_is_down_is_skipped() {
    let down = Target::new(TransportKind::Tcp, closed_port());
    let server = Server::start("agent_register_digest", DIGEST, Wire::Tcp);
    let up = server.target().clone();
    let list = vec![down.clone(), up.clone()];
    let (ua, mut events) = server
        .agent(|b| b.credentials("alice", "secret").targets(list))
        .await;
    tokio::time::timeout(STEP, ua.register())
        .await
        .expect("register resolves")
        .unwrap_or_else(|failure| panic!("register failed: {failure}; {:#?}", events.seen));

    let failed = events
        .wait_for("the failed target", |event| match event {
            UaEvent::TargetFailed(failure) => Some(failure.clone()),
            _ => None,
        })
        .await;
    assert_eq!(failed.target, down);
    assert_eq!(failed.next, up);
    match &failed.cause {
        FailoverCause::Transport(failure) => {
            assert_eq!(
                failure.kind,
                TransportFailureKind::ConnectionRefused,
                "{failure:?}"
            )
        }
        other => panic!("a refused connection, not {other:?}"),
    }

    let (logs, seen) = server.finish(ua, events).await;
    // The challenge, the answer, the unregister: all to the second pool.
    assert!(received(&logs, "REGISTER") >= 3, "{logs}");
    assert_eq!(
        seen.iter()
            .filter(|e| matches!(e, UaEvent::TargetFailed(_)))
            .count(),
        1,
        "one failover only: {seen:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc3263_4_3_a_503_without_retry_after_sends_the_register_to_the_next_pool() {
    let busy = one_call_pool("agent_register_503_bare", BUSY);
    let busy_target = Target::new(TransportKind::Tcp, busy.addr());
    let server = Server::start("agent_register_digest", DIGEST, Wire::Tcp);
    let up = server.target().clone();
    let list = vec![busy_target.clone(), up.clone()];
    let (ua, mut events) = server
        .agent(|b| b.credentials("alice", "secret").targets(list))
        .await;
    tokio::time::timeout(STEP, ua.register())
        .await
        .expect("register resolves")
        .unwrap_or_else(|failure| panic!("register failed: {failure}; {:#?}", events.seen));

    let failed = events
        .wait_for("the failed target", |event| match event {
            UaEvent::TargetFailed(failure) => Some(failure.clone()),
            _ => None,
        })
        .await;
    assert_eq!(failed.target, busy_target);
    assert_eq!(failed.next, up);
    match &failed.cause {
        FailoverCause::Unavailable(response) => {
            assert_eq!(response.status().map(|s| s.0), Some(503))
        }
        other => panic!("the 503, not {other:?}"),
    }

    let busy_logs = finished(busy).await;
    assert_eq!(received(&busy_logs, "REGISTER"), 1, "{busy_logs}");
    assert_eq!(busy_logs.message_log().sent_responses(503).count(), 1);

    let (logs, _) = server.finish(ua, events).await;
    let log = logs.message_log();
    let first = log.received("REGISTER").next().expect("a REGISTER");
    // A new transaction on a new connection: its Contact names that
    // connection, not the one to the busy pool.
    let contact = first.header("Contact").expect("a Contact");
    let via = first.header("Via").expect("a Via");
    let sent_by = via
        .split_whitespace()
        .nth(1)
        .and_then(|rest| rest.split(';').next())
        .expect("a sent-by");
    assert!(
        contact.contains(&format!("@{sent_by};")),
        "{contact} / {via}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_connection_while_registered_registers_again_on_a_new_one() {
    let first = one_call_pool("agent_register_digest", DIGEST);
    let first_target = Target::new(TransportKind::Tcp, first.addr());
    let server = Server::start("agent_register_digest", DIGEST, Wire::Tcp);
    let list = vec![first_target.clone(), server.target().clone()];
    let (ua, mut events) = server
        .agent(|b| {
            b.credentials("alice", "secret")
                .targets(list)
                .reconnect_backoff(Duration::from_millis(100), Duration::from_millis(400))
        })
        .await;
    tokio::time::timeout(STEP, ua.register())
        .await
        .expect("register resolves")
        .unwrap_or_else(|failure| panic!("register failed: {failure}; {:#?}", events.seen));
    events.wait_for("registered", registered).await;

    // SIPp exits after its one call: the connection closes under the UA.
    let first_logs = finished(first).await;
    assert_eq!(first_logs.message_log().sent_responses(200).count(), 1);
    let lost = events
        .wait_for("the lost connection", |event| match event {
            UaEvent::ConnectionLost { target, .. } => Some(target.clone()),
            _ => None,
        })
        .await;
    assert_eq!(lost, first_target);
    // Again from the top of the list: the first pool is gone, the second
    // takes the new REGISTER.
    let failed = events
        .wait_for("the failed target", |event| match event {
            UaEvent::TargetFailed(failure) => Some(failure.clone()),
            _ => None,
        })
        .await;
    assert_eq!(failed.target, first_target);
    events.wait_for("registered again", registered).await;

    let (logs, _) = server.finish(ua, events).await;
    assert!(received(&logs, "REGISTER") >= 3, "{logs}");
}
