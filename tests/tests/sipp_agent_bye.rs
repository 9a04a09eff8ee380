//! Interop: the server ends a meeting the user joined, removing the user —
//! a BYE with `ms-diagnostics: 3118` (`tests/sipp/agent_bye_3118.xml`) —
//! against SIPp over UDP, TCP and TLS. The user agent answers 200 and tells
//! the app, with what the user sees ("You were removed from the meeting.").
//!
//! Needs `sipp` and `stunnel4` on PATH: run `scripts/install-test-deps`.

#![allow(clippy::expect_used, clippy::panic)]

use ocer::display::{Action, Mode};
use ocer::ua::UaEvent;
use ocer_test_support::sipp::agent::*;

/// The focus of the meeting the user joins.
const CONFERENCE: &str = "sip:bob@contoso.com;gruu;opaque=app:conf:focus:id:X";

async fn a_server_bye_with_3118_ends_the_meeting(wire: Wire) {
    let server = Server::start(
        "agent_bye_3118",
        include_str!("../sipp/agent_bye_3118.xml"),
        wire,
    );
    let (ua, mut events) = server.agent(|b| b).await;
    tokio::time::timeout(STEP, ua.register())
        .await
        .expect("register resolves")
        .unwrap_or_else(|failure| panic!("register: {failure}; events {:#?}", events.seen));
    let call = tokio::time::timeout(STEP, ua.join(CONFERENCE, Some(sdp_offer()), Action::Join))
        .await
        .expect("join resolves")
        .unwrap_or_else(|failure| panic!("join: {failure}; events {:#?}", events.seen));
    assert_eq!(call.mode(), Mode::Conference);
    let call_id = call.call_id().to_owned();
    assert!(
        call.remote_sdp().is_some_and(|sdp| sdp.starts_with(b"v=0")),
        "the 200's SDP answer reaches the app"
    );

    events
        .wait_for("Established", |e| match e {
            UaEvent::Established { call_id: c } if *c == call_id => Some(()),
            _ => None,
        })
        .await;
    let (display, diagnostics) = events
        .wait_for("Ended by the server", |e| match e {
            UaEvent::Ended {
                call_id: c,
                by_server,
                display,
                diagnostics,
            } if *c == call_id => {
                assert!(*by_server, "{e:?}");
                Some((display.clone(), diagnostics.clone()))
            }
            _ => None,
        })
        .await;
    assert!(
        diagnostics.iter().any(|d| d.raw.starts_with("3118;")),
        "{diagnostics:?}"
    );
    let display = display.expect("what the user sees for 3118");
    assert_eq!(
        display.message_id.to_string(),
        "lync2010-msdiag-3118-conference-in-session",
        "{display:?}"
    );
    assert_eq!(
        display.message.as_deref(),
        Some("You were removed from the meeting.")
    );
    assert!(
        display
            .info
            .as_deref()
            .is_some_and(|info| info.starts_with("A presenter has removed you from the meeting.")),
        "{display:?}"
    );
    assert!(
        !call.is_active(),
        "the call is over once the server ended it"
    );
    assert!(ua.established_call(&call_id).is_none());

    let (logs, _) = server.finish(ua, events).await;
    let log = logs.message_log();
    // SIPp's scenario expects the 200 to its BYE; the user agent sent no BYE
    // of its own for a call that was already over.
    let ok_to_bye = log.received_responses(200, "BYE").count();
    assert_eq!(ok_to_bye, 1, "{logs}");
    assert_eq!(received(&logs, "BYE"), 0, "{logs}");
    assert_eq!(received(&logs, "ACK"), 1, "{logs}");
}

#[tokio::test]
async fn a_server_bye_with_3118_ends_the_meeting_over_udp() {
    a_server_bye_with_3118_ends_the_meeting(Wire::Udp).await;
}

#[tokio::test]
async fn a_server_bye_with_3118_ends_the_meeting_over_tcp() {
    a_server_bye_with_3118_ends_the_meeting(Wire::Tcp).await;
}

#[tokio::test]
async fn a_server_bye_with_3118_ends_the_meeting_over_tls() {
    a_server_bye_with_3118_ends_the_meeting(Wire::Tls).await;
}
