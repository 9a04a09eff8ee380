//! Interop: calls against hostile or broken servers (issue 17), against SIPp
//! over UDP, TCP and TLS.
//!
//! - `tests/sipp/agent_invite_ring_forever.xml`: 180 Ringing and never a
//!   final response. The ring timeout cancels the call, which fails with
//!   `LocalFailure::NoAnswer` (item 2).
//! - `tests/sipp/agent_invite_contact_headers.xml`: a 200 whose Contact
//!   carries `?X-Inject=…` URI headers; the ACK and BYE go to the Contact
//!   without them (RFC 3261 §19.1.5, item 10).
//!
//! Needs `sipp` and `stunnel4` on PATH: run `scripts/install-test-deps`.

#![allow(clippy::expect_used, clippy::panic)]

use std::time::Duration;

use ocer::display::{Action, Mode};
use ocer::ua::{FailureKind, LocalFailure, UaEvent};
use ocer_test_support::sipp::agent::*;

const RING: Duration = Duration::from_millis(500);

async fn a_call_ringing_forever_is_cancelled(wire: Wire) {
    let server = Server::start(
        "agent_invite_ring_forever",
        include_str!("../sipp/agent_invite_ring_forever.xml"),
        wire,
    );
    let (ua, mut events) = server.agent(|b| b.ring_timeout(RING)).await;
    tokio::time::timeout(STEP, ua.register())
        .await
        .expect("register resolves")
        .unwrap_or_else(|failure| panic!("register: {failure}; events {:#?}", events.seen));
    let failure = tokio::time::timeout(
        STEP,
        ua.call(BOB, Some(sdp_offer()), Mode::Voice, Action::Call),
    )
    .await
    .expect("the call ends: it must not wait forever after the 180")
    .expect_err("nobody answers");
    assert_eq!(
        failure.kind,
        FailureKind::Local(LocalFailure::NoAnswer(RING))
    );
    events
        .wait_for("Failed with NoAnswer", |e| match e {
            UaEvent::Failed { failure, .. }
                if matches!(failure.kind, FailureKind::Local(LocalFailure::NoAnswer(_))) =>
            {
                Some(())
            }
            _ => None,
        })
        .await;
    let (logs, _) = server.finish(ua, events).await;
    assert_eq!(received(&logs, "CANCEL"), 1, "{logs}");
    assert_eq!(received(&logs, "ACK"), 1, "{logs}");
    assert_eq!(
        received(&logs, "SERVICE"),
        0,
        "a no-answer is not reported\n{logs}"
    );
}

#[tokio::test]
async fn a_call_ringing_forever_is_cancelled_over_udp() {
    a_call_ringing_forever_is_cancelled(Wire::Udp).await;
}

#[tokio::test]
async fn a_call_ringing_forever_is_cancelled_over_tcp() {
    a_call_ringing_forever_is_cancelled(Wire::Tcp).await;
}

#[tokio::test]
async fn a_call_ringing_forever_is_cancelled_over_tls() {
    a_call_ringing_forever_is_cancelled(Wire::Tls).await;
}

async fn contact_uri_headers_stay_out_of_ack_and_bye(wire: Wire) {
    let server = Server::start(
        "agent_invite_contact_headers",
        include_str!("../sipp/agent_invite_contact_headers.xml"),
        wire,
    );
    let (ua, events) = server.agent(|b| b).await;
    tokio::time::timeout(STEP, ua.register())
        .await
        .expect("register resolves")
        .unwrap_or_else(|failure| panic!("register: {failure}; events {:#?}", events.seen));
    let call = tokio::time::timeout(
        STEP,
        ua.call(BOB, Some(sdp_offer()), Mode::Voice, Action::Call),
    )
    .await
    .expect("the call resolves")
    .unwrap_or_else(|failure| panic!("call: {failure}; events {:#?}", events.seen));
    tokio::time::timeout(STEP, call.hangup())
        .await
        .expect("the hang-up resolves")
        .unwrap_or_else(|failure| panic!("hangup: {failure}"));
    let (logs, _) = server.finish(ua, events).await;
    let log = logs.message_log();
    for method in ["ACK", "BYE"] {
        let lines: Vec<&str> = log.received(method).map(|e| e.first_line()).collect();
        assert_eq!(lines.len(), 1, "{method}\n{logs}");
        for line in lines {
            assert!(
                line.starts_with(&format!("{method} sip:bob@")) && !line.contains('?'),
                "{line}"
            );
        }
    }
}

#[tokio::test]
async fn contact_uri_headers_stay_out_of_ack_and_bye_over_udp() {
    contact_uri_headers_stay_out_of_ack_and_bye(Wire::Udp).await;
}

#[tokio::test]
async fn contact_uri_headers_stay_out_of_ack_and_bye_over_tcp() {
    contact_uri_headers_stay_out_of_ack_and_bye(Wire::Tcp).await;
}

#[tokio::test]
async fn contact_uri_headers_stay_out_of_ack_and_bye_over_tls() {
    contact_uri_headers_stay_out_of_ack_and_bye(Wire::Tls).await;
}
