//! Interop: keep-alive negotiation ([MS-CONMGMT] §2.2.1) with SIPp as the
//! registrar (`tests/sipp/agent_register_keep_alive.xml`), over TCP and TLS.
//! SIPp checks the REGISTER's offer (`ms-keep-alive: UAC;hop-hop=yes`) and
//! answers `UAS; tcp=no; hop-hop=yes; end-end=no; timeout=2`; the user agent
//! then pings the connection every 1.6 s (4/5 of the pool's timeout) instead
//! of its configured 95 s, and the pings reach SIPp.
//!
//! Needs `sipp` and `stunnel4` on PATH: run `scripts/install-test-deps`.

#![allow(clippy::expect_used, clippy::panic)]

use std::time::Duration;

use ocer_test_support::sipp::agent::*;

const SCENARIO: &str = include_str!("../sipp/agent_register_keep_alive.xml");

async fn the_pool_s_timeout_sets_the_ping_interval(wire: Wire) {
    let server = Server::start("agent_register_keep_alive", SCENARIO, wire);
    let (ua, events) = server.agent(|b| b).await;
    tokio::time::timeout(STEP, ua.register())
        .await
        .expect("register resolves")
        .unwrap_or_else(|f| panic!("register failed: {f}"));
    // Idle for 4 s: two pings at 1.6 s and 3.2 s (none at the configured
    // 95 s). Scheduling delays can only make them later, not more.
    tokio::time::sleep(Duration::from_millis(4000)).await;
    let (logs, _events, stunnel) = server.finish_with_stunnel_log(ua, events).await;
    let log = logs.message_log();
    let registers: Vec<_> = log.received("REGISTER").collect();
    assert_eq!(registers.len(), 2, "REGISTER, unregister\n{logs}");
    for register in &registers {
        assert_eq!(
            register.header("ms-keep-alive"),
            Some("UAC;hop-hop=yes"),
            "{logs}"
        );
    }
    if wire == Wire::Tls {
        // SIPp does not log keep-alives, but stunnel counts every byte it
        // passed on to SIPp: the two REGISTERs SIPp logged, plus 4 bytes
        // (CRLFCRLF) per ping.
        let to_sipp = bytes_sent_to_socket(&stunnel);
        let messages: usize = logs
            .messages
            .lines()
            .filter_map(|l| l.strip_prefix("TCP message received ["))
            .filter_map(|l| l.split(']').next()?.parse::<usize>().ok())
            .sum();
        let pings = to_sipp
            .checked_sub(messages)
            .map(|extra| (extra / 4, extra % 4));
        assert!(
            matches!(pings, Some((1..=2, 0))),
            "{to_sipp} bytes to SIPp, {messages} in its messages: {pings:?} pings\n{stunnel}\n{logs}"
        );
    }
}

/// The count in stunnel's "Connection closed: N byte(s) sent to TLS, M
/// byte(s) sent to socket" line: M, what went to SIPp.
fn bytes_sent_to_socket(stunnel_log: &str) -> usize {
    stunnel_log
        .lines()
        .find_map(|line| {
            let (_, rest) = line.split_once("Connection closed: ")?;
            let (_, socket) = rest.split_once(", ")?;
            socket.split_whitespace().next()?.parse().ok()
        })
        .unwrap_or_else(|| panic!("no closing line in stunnel's log\n{stunnel_log}"))
}

#[tokio::test]
async fn over_tcp() {
    the_pool_s_timeout_sets_the_ping_interval(Wire::Tcp).await;
}

#[tokio::test]
async fn over_tls_the_pings_reach_the_pool() {
    the_pool_s_timeout_sets_the_ping_interval(Wire::Tls).await;
}
