//! Interop: the `ocer` UserAgent registers with SIPp as a registrar that asks
//! for digest credentials (`tests/sipp/agent_register_digest.xml`: 401 with
//! an MD5 challenge, then SIPp's `verifyauth` on the REGISTER that answers
//! it), over UDP, TCP and TLS; and unregisters on shutdown.
//!
//! Needs `sipp` and `stunnel4` on PATH: run `scripts/install-test-deps`.

#![allow(clippy::expect_used, clippy::panic)]

use std::time::Duration;

use ocer::ua::{FailureKind, RegistrationState, UaEvent};
use ocer_interop::sipp::SippLogs;
use ocer_test_support::sipp::agent::*;

const SCENARIO: &str = include_str!("../sipp/agent_register_digest.xml");

/// Registers as alice / `password`; returns what `register` said, the
/// events and SIPp's logs once it has exited.
async fn register_with(
    wire: Wire,
    password: &str,
) -> (Result<(), ocer::ua::Failure>, Vec<UaEvent>, SippLogs) {
    let server = Server::start("agent_register_digest", SCENARIO, wire);
    let (ua, events) = server.agent(|b| b.credentials("alice", password)).await;
    let result = tokio::time::timeout(STEP, ua.register())
        .await
        .expect("register resolves");
    let (logs, seen) = server.finish(ua, events).await;
    (result, seen, logs)
}

async fn registers_after_a_digest_challenge(wire: Wire) {
    let (result, events, logs) = register_with(wire, "secret").await;
    result
        .unwrap_or_else(|failure| panic!("register failed: {failure}; events {events:#?}\n{logs}"));

    let log = logs.message_log();
    let registers: Vec<_> = log.received("REGISTER").collect();
    assert!(
        registers.len() >= 3,
        "REGISTER, REGISTER with credentials, unregister\n{logs}"
    );
    let (first, second) = (registers[0], registers[1]);
    assert_eq!(first.header("Authorization"), None, "{logs}");
    let authorization = second.header("Authorization").expect("credentials");
    assert!(authorization.starts_with("Digest "), "{authorization}");
    assert!(
        authorization.contains("username=\"alice\""),
        "{authorization}"
    );
    assert!(
        authorization.contains("realm=\"contoso.com\""),
        "{authorization}"
    );
    // RFC 3261 §8.1.3.5 / §22: the retry is the same registration, next CSeq.
    assert_eq!(first.header("Call-ID"), second.header("Call-ID"), "{logs}");
    let cseq = |e: &ocer_interop::message_log::LogEntry<'_>| {
        e.header("CSeq")
            .and_then(|v| v.split_whitespace().next())
            .and_then(|n| n.parse::<u32>().ok())
            .expect("a CSeq number")
    };
    assert!(cseq(second) > cseq(first), "{logs}");
    assert_eq!(log.sent_responses(401).count(), 1, "{logs}");
    assert_eq!(log.sent_responses(403).count(), 0, "{logs}");

    // Registering, Registered for what SIPp granted, and Unregistered at
    // shutdown, in that order.
    let states: Vec<&RegistrationState> = events
        .iter()
        .filter_map(|e| match e {
            UaEvent::Registration(state) => Some(state),
            _ => None,
        })
        .collect();
    let registered = states
        .iter()
        .position(|s| {
            matches!(s, RegistrationState::Registered { expires } if *expires == Duration::from_secs(3600))
        })
        .unwrap_or_else(|| panic!("Registered {{ 3600 s }} in {states:#?}"));
    assert!(
        matches!(states.first(), Some(RegistrationState::Registering)),
        "{states:#?}"
    );
    assert!(
        states[registered..]
            .iter()
            .any(|s| matches!(s, RegistrationState::Unregistered)),
        "{states:#?}"
    );
    assert!(
        !states
            .iter()
            .any(|s| matches!(s, RegistrationState::Failed(_))),
        "{states:#?}"
    );
}

async fn a_wrong_password_is_refused(wire: Wire) {
    let (result, events, logs) = register_with(wire, "not-the-password").await;
    let failure = match result {
        Ok(()) => panic!("registered with a wrong password\n{logs}"),
        Err(failure) => failure,
    };
    assert_eq!(
        failure.kind,
        FailureKind::Rejected(ocer::sip::StatusCode(403)),
        "{failure:?}"
    );
    assert!(
        events.iter().any(|e| matches!(
            e,
            UaEvent::Registration(RegistrationState::Failed(f)) if f.status() == Some(ocer::sip::StatusCode(403))
        )),
        "{events:#?}"
    );
    // The challenge was answered once, and not again after the 403.
    let log = logs.message_log();
    assert_eq!(log.received("REGISTER").count(), 2, "{logs}");
    assert_eq!(log.sent_responses(403).count(), 1, "{logs}");
}

/// The check every test ends with catches a diagnostics header in anything
/// SIPp received, whatever its case, and passes a clean message.
#[test]
fn the_no_diagnostics_check_can_fail() {
    let entry = |headers: &str| {
        format!(
            "----------------------------------------------- 2026-11-23 11:27:36.184381\n\
             UDP message received [100] bytes :\n\n\
             MESSAGE sip:bob@contoso.com SIP/2.0\r\nCall-ID: a1\r\n{headers}Content-Length: 0\r\n\r\n\n\n"
        )
    };
    let logs = |messages: String| SippLogs {
        messages,
        ..SippLogs::default()
    };
    assert_no_diagnostics_from_the_agent(&logs(entry("")));
    for header in ["ms-diagnostics: 1000", "MS-Diagnostics-Public: 2000"] {
        let carrying = logs(entry(&format!("{header}\r\n")));
        let caught = std::panic::catch_unwind(|| assert_no_diagnostics_from_the_agent(&carrying));
        assert!(caught.is_err(), "{header} went unnoticed");
    }
    let nothing =
        std::panic::catch_unwind(|| assert_no_diagnostics_from_the_agent(&logs(String::new())));
    assert!(nothing.is_err(), "an empty log passes for a clean one");
}

#[tokio::test]
async fn registers_after_a_digest_challenge_over_udp() {
    registers_after_a_digest_challenge(Wire::Udp).await;
}

#[tokio::test]
async fn registers_after_a_digest_challenge_over_tcp() {
    registers_after_a_digest_challenge(Wire::Tcp).await;
}

#[tokio::test]
async fn registers_after_a_digest_challenge_over_tls() {
    registers_after_a_digest_challenge(Wire::Tls).await;
}

#[tokio::test]
async fn a_wrong_password_is_refused_over_udp() {
    a_wrong_password_is_refused(Wire::Udp).await;
}

#[tokio::test]
async fn a_wrong_password_is_refused_over_tcp() {
    a_wrong_password_is_refused(Wire::Tcp).await;
}

#[tokio::test]
async fn a_wrong_password_is_refused_over_tls() {
    a_wrong_password_is_refused(Wire::Tls).await;
}

const KERBEROS_ONLY: &str = include_str!("../sipp/agent_register_kerberos_only.xml");

/// A pool offering only Kerberos and TLS-DSK: the REGISTER is not sent again
/// blind; the failure names the schemes, and the log says why (issue 16).
async fn a_pool_offering_only_kerberos_and_tls_dsk_is_not_retried(wire: Wire) {
    let server = Server::start("agent_register_kerberos_only", KERBEROS_ONLY, wire);
    let (ua, events) = server.agent(|b| b.credentials("alice", "secret")).await;
    let result = tokio::time::timeout(STEP, ua.register())
        .await
        .expect("register resolves");
    // SIPp waits 1 s for a retry, on an open connection.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (logs, events) = server.finish(ua, events).await;
    let failure = match result {
        Ok(()) => panic!("registered without Kerberos\n{logs}"),
        Err(failure) => failure,
    };
    let FailureKind::UnsupportedAuthentication(unsupported) = &failure.kind else {
        panic!("not an unsupported-authentication failure: {failure:?}");
    };
    assert_eq!(unsupported.offered, ["Kerberos", "TLS-DSK"], "{failure}");
    assert!(
        failure.to_string().starts_with(
            "401 Unauthorized: the server offers only Kerberos, TLS-DSK authentication"
        ),
        "{failure}"
    );
    let display = failure.display.as_ref().expect("what the user sees");
    assert_eq!(
        display.message_id.to_string(),
        "lync2010-sip-401-other-sign-in",
        "Lync 2010's sign-in string: {display:?}"
    );
    assert!(
        events.iter().any(|e| matches!(
            e,
            UaEvent::Registration(RegistrationState::Failed(f))
                if matches!(f.kind, FailureKind::UnsupportedAuthentication(_))
        )),
        "{events:#?}"
    );
    let log = logs.message_log();
    assert_eq!(log.received("REGISTER").count(), 1, "a blind retry\n{logs}");
}

#[tokio::test]
async fn a_pool_offering_only_kerberos_and_tls_dsk_is_not_retried_over_udp() {
    a_pool_offering_only_kerberos_and_tls_dsk_is_not_retried(Wire::Udp).await;
}

#[tokio::test]
async fn a_pool_offering_only_kerberos_and_tls_dsk_is_not_retried_over_tls() {
    a_pool_offering_only_kerberos_and_tls_dsk_is_not_retried(Wire::Tls).await;
}
