//! Interop: three user agents (alice, bob, carol) on one `SharedDriver`
//! against SIPp (`tests/sipp/agent_shared.xml`), over UDP and TCP. They
//! register over the driver's one socket / connection, each gets its own
//! 200 (with its own Contact), and the BYE SIPp sends to bob's Contact —
//! removing him from the meeting he joined (ms-diagnostics 3118) — reaches
//! bob, and only bob.
//!
//! Needs `sipp` on PATH: run `scripts/install-test-deps`.

#![allow(clippy::expect_used, clippy::panic)]

use ocer::display::Action;
use ocer::ua::driver::{DriverConfig, SharedDriver};
use ocer::ua::{UaEvent, UserAgent};
use ocer_interop::message_log::Direction;
use ocer_test_support::sipp::agent::*;
use ocer_test_support::timers::{sipp_agent_timers, test_retry_policy};

const USERS: [&str; 3] = ["alice", "bob", "carol"];

async fn agents_on_a_shared_driver(wire: Wire) {
    let server = Server::start(
        "agent_shared",
        include_str!("../sipp/agent_shared.xml"),
        wire,
    );
    let mut config = DriverConfig::new(server.target().clone());
    config.timers = sipp_agent_timers();
    let shared = SharedDriver::start(config)
        .await
        .expect("the shared driver starts");
    let mut agents = Vec::new();
    for user in USERS {
        let (ua, events) =
            UserAgent::builder(format!("sip:{user}@contoso.com"), server.target().clone())
                .retry_policy(test_retry_policy())
                .shared_driver(&shared)
                .build()
                .await
                .unwrap_or_else(|e| panic!("{user} starts: {e}"));
        agents.push((ua, Events::new(events)));
    }
    assert_eq!(shared.members().await, 3);
    for (ua, events) in &agents {
        tokio::time::timeout(STEP, ua.register())
            .await
            .expect("register resolves")
            .unwrap_or_else(|failure| panic!("{}: {failure}; {:#?}", ua.aor(), events.seen));
    }

    let (bob, bob_events) = &mut agents[1];
    let call = tokio::time::timeout(
        STEP,
        bob.join(
            "sip:focus@contoso.com;gruu",
            Some(sdp_offer()),
            Action::Join,
        ),
    )
    .await
    .expect("join resolves")
    .unwrap_or_else(|failure| panic!("join: {failure}; {:#?}", bob_events.seen));
    let call_id = call.call_id().to_owned();
    let display = bob_events
        .wait_for("bob's call ended by the server", |e| match e {
            UaEvent::Ended {
                call_id: c,
                by_server: true,
                display,
                ..
            } if *c == call_id => Some(display.clone()),
            _ => None,
        })
        .await;
    assert_eq!(
        display.and_then(|d| d.message).as_deref(),
        Some("You were removed from the meeting.")
    );

    let mut agents = agents.into_iter();
    let mut seen = Vec::new();
    for _ in 0..2 {
        let (ua, mut events) = agents.next().expect("alice, then bob");
        tokio::time::timeout(STEP, ua.shutdown())
            .await
            .expect("shutdown resolves");
        events.drain().await;
        seen.push((ua.aor().to_owned(), events.seen));
    }
    let (carol, carol_events) = agents.next().expect("carol");
    let (logs, carol_seen) = server.finish(carol, carol_events).await;
    seen.push(("sip:carol@contoso.com".to_owned(), carol_seen));
    // Carol's shutdown left the driver, which still runs: it is the app's.
    assert_eq!(shared.members().await, 0, "every agent left the driver");
    shared.shutdown().await;

    for (aor, events) in &seen {
        let ended = events
            .iter()
            .filter(|e| {
                matches!(
                    e,
                    UaEvent::Ended {
                        by_server: true,
                        ..
                    }
                )
            })
            .count();
        let expected = usize::from(aor == "sip:bob@contoso.com");
        assert_eq!(ended, expected, "{aor}: {events:#?}");
    }

    // One REGISTER and one unregister per agent, each with the agent's own
    // Contact on the one local address of the shared flow.
    let log = logs.message_log();
    let registers: Vec<_> = log
        .entries()
        .iter()
        .filter(|e| e.direction == Direction::Received && e.method() == Some("REGISTER"))
        .collect();
    assert_eq!(registers.len(), 6, "{logs}");
    let contacts: Vec<String> = registers
        .iter()
        .filter_map(|e| e.header("Contact").map(str::to_owned))
        .collect();
    let hosts: std::collections::BTreeSet<&str> = contacts
        .iter()
        .filter_map(|c| c.split('@').nth(1)?.split(';').next())
        .collect();
    assert_eq!(hosts.len(), 1, "one local address for all: {contacts:?}");
    for user in USERS {
        assert!(
            contacts
                .iter()
                .any(|c| c.starts_with(&format!("<sip:{user}-"))),
            "{user}'s own Contact: {contacts:?}"
        );
    }
    let ok_to_bye = log.received_responses(200, "BYE").count();
    assert_eq!(ok_to_bye, 1, "{logs}");
}

#[tokio::test]
async fn agents_on_a_shared_driver_over_udp() {
    agents_on_a_shared_driver(Wire::Udp).await;
}

#[tokio::test]
async fn agents_on_a_shared_driver_over_tcp() {
    agents_on_a_shared_driver(Wire::Tcp).await;
}
