//! Interop: instant messages the server refuses, against SIPp, over UDP, TCP
//! and TLS: what the user sees, and the error report SIPp receives.
//!
//! - `tests/sipp/agent_message_480_391.xml`: `480 Temporarily Unavailable`
//!   with `Warning: 391` (the recipient does not want to be disturbed) and no
//!   diagnostics header.
//! - `tests/sipp/agent_message_404_public.xml`: `404 Not Found` with
//!   `ms-diagnostics-public: 4005` only.
//!
//! SIPp checks the report (callId is the MESSAGE's Call-ID, responseCode,
//! requestType MESSAGE, the diagHeader or its absence) and answers 200.
//!
//! Needs `sipp` and `stunnel4` on PATH: run `scripts/install-test-deps`.

#![allow(clippy::expect_used, clippy::panic)]

use ocer::diag::HeaderKind;
use ocer::display::{Action, Mode};
use ocer::sip::StatusCode;
use ocer::ua::{Failure, FailureKind, UaEvent};
use ocer_interop::sipp::SippLogs;
use ocer_test_support::sipp::agent::*;

/// Registers, sends bob a message that SIPp refuses, waits for its report to
/// be sent, shuts down; returns the failure and SIPp's logs.
async fn refused_message(
    name: &str,
    scenario: &str,
    wire: Wire,
    status: u16,
) -> (Failure, SippLogs) {
    let server = Server::start(name, scenario, wire);
    let (ua, mut events) = server.agent(|b| b).await;
    tokio::time::timeout(STEP, ua.register())
        .await
        .expect("register resolves")
        .unwrap_or_else(|failure| panic!("register: {failure}; events {:#?}", events.seen));
    let failure = match tokio::time::timeout(STEP, ua.send_message(BOB, "hello"))
        .await
        .expect("send_message resolves")
    {
        Ok(()) => panic!("the message was accepted; events {:#?}", events.seen),
        Err(failure) => failure,
    };
    assert_eq!(
        failure.kind,
        FailureKind::Rejected(StatusCode(status)),
        "{failure:?}"
    );
    let call_id = failure
        .record
        .as_ref()
        .expect("the MESSAGE's record")
        .identity
        .call_id
        .clone();
    events
        .wait_for("Failed for the message", |e| match e {
            UaEvent::Failed {
                call_id: c,
                mode,
                action,
                failure,
            } if *c == call_id => {
                assert_eq!((*mode, *action), (Mode::Im, Action::SendMessage));
                assert_eq!(failure.status(), Some(StatusCode(status)));
                Some(())
            }
            _ => None,
        })
        .await;
    events.report_delivered(&call_id).await;
    let (logs, _) = server.finish(ua, events).await;
    assert_eq!(received(&logs, "MESSAGE"), 1, "{logs}");
    assert_eq!(received(&logs, "SERVICE"), 1, "{logs}");
    (failure, logs)
}

async fn a_480_with_warning_391(wire: Wire) {
    let (failure, logs) = refused_message(
        "agent_message_480_391",
        include_str!("../sipp/agent_message_480_391.xml"),
        wire,
        480,
    )
    .await;
    let record = failure.record.as_ref().expect("the record");
    let final_response = record.final_response().expect("the 480");
    let warnings: Vec<u16> = final_response.warnings.iter().map(|w| w.code.0).collect();
    assert_eq!(warnings, [391], "{final_response:?}");
    assert!(final_response.diagnostics.is_empty(), "{final_response:?}");
    // MS-OCER 9.1.1's priority: SIP errors before SIP warnings, and IM has
    // a string for 480.
    let display = failure.display.as_ref().expect("what the user sees");
    assert_eq!(
        display.message_id.to_string(),
        "lync2010-sip-480-im-send-message",
        "{display:?}"
    );
    let message = display.message.as_deref().unwrap_or_default();
    assert!(
        message.starts_with("This message was not delivered to ")
            && message.ends_with(" because this person is unavailable or offline."),
        "{message:?}\n{logs}"
    );
}

async fn a_404_with_public_diagnostics(wire: Wire) {
    let (failure, logs) = refused_message(
        "agent_message_404_public",
        include_str!("../sipp/agent_message_404_public.xml"),
        wire,
        404,
    )
    .await;
    let record = failure.record.as_ref().expect("the record");
    let finals: Vec<_> = record.final_diagnostics().collect();
    assert_eq!(finals.len(), 1, "{record:?}");
    assert_eq!(finals[0].kind, HeaderKind::Public, "{record:?}");
    assert!(finals[0].raw.starts_with("4005;"), "{:?}", finals[0].raw);
    // 9.3.2 lists 4005 as not handled: Lync shows the generic IM string
    // with 4005 as its error id, not the 404's string.
    let display = failure.display.as_ref().expect("what the user sees");
    assert_eq!(
        display.message_id.to_string(),
        "lync2010-generic-im-send-message",
        "{display:?}"
    );
    assert_eq!(
        display.cause,
        ocer::display::Cause::MsDiagnostic(ocer::diag::ErrorId(4005)),
        "{display:?}\n{logs}"
    );
}

#[tokio::test]
async fn a_message_refused_480_with_warning_391_over_udp() {
    a_480_with_warning_391(Wire::Udp).await;
}

#[tokio::test]
async fn a_message_refused_480_with_warning_391_over_tcp() {
    a_480_with_warning_391(Wire::Tcp).await;
}

#[tokio::test]
async fn a_message_refused_480_with_warning_391_over_tls() {
    a_480_with_warning_391(Wire::Tls).await;
}

#[tokio::test]
async fn a_message_refused_404_with_public_diagnostics_over_udp() {
    a_404_with_public_diagnostics(Wire::Udp).await;
}

#[tokio::test]
async fn a_message_refused_404_with_public_diagnostics_over_tcp() {
    a_404_with_public_diagnostics(Wire::Tcp).await;
}

#[tokio::test]
async fn a_message_refused_404_with_public_diagnostics_over_tls() {
    a_404_with_public_diagnostics(Wire::Tls).await;
}
