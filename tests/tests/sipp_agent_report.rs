//! Interop: the `ocer` UserAgent through the MS-OCER 4.1 flow against SIPp,
//! and its automatic error report, over UDP, TCP and TLS.
//!
//! The user registers, calls bob; SIPp answers the INVITE with `100`, then
//! back to back `101` (ms-diagnostics 12006) and `504` (ms-diagnostics
//! 1007). The call fails with what the user sees, and the user agent reports
//! the failure by SERVICE. SIPp checks the report itself (`ereg` and
//! `strcmp` with `check_it` in `tests/sipp/agent_*.xml`): callId is the
//! INVITE's Call-ID, responseCode 504, the 504's diagHeader and the 101's
//! progressReport. Then SIPp answers as each case needs (MS-OCER §3.1.5):
//!
//! - 200: the report is sent;
//! - 503 with Retry-After 1 and no diagnostics (the service is on but busy,
//!   our reading of §3.1.5): retried, no earlier than a second later;
//! - 503 with Retry-After 0: retried, but not at once (the backoff is the
//!   floor);
//! - 503 with only ms-diagnostics-public 2019: as with ms-diagnostics;
//! - 503 with ms-diagnostics 2019, and a bare 503: no more reports in this
//!   login session — a second failed call is queued but not sent;
//! - 413, and 513 read the same way: the report is dropped, never retried;
//! - a bare 503, then a new login session (unregister, register): what was
//!   held back is sent then, and only then.
//!
//! A SERVICE that must not come fails the scenario (a global counter with
//! `check_it`); the user agent runs with a retry backoff of tens of
//! milliseconds, so a wrong retry would come within the test's window.
//!
//! Needs `sipp` and `stunnel4` on PATH: run `scripts/install-test-deps`.

#![allow(clippy::expect_used, clippy::panic)]

use std::time::Duration;

use ocer::diag::HeaderKind;
use ocer::display::{Action, Mode};
use ocer::sip::StatusCode;
use ocer::ua::outbox::ReportId;
use ocer::ua::{FailureKind, UaEvent};
use ocer_interop::message_log::Direction;
use ocer_interop::sipp::SippLogs;
use ocer_test_support::sipp::agent::*;
use ocer_test_support::timers::test_retry_policy;

/// What one run of the 4.1 flow left behind.
struct Run {
    /// The failed INVITE's Call-ID.
    call_id: String,
    /// The report's id in the outbox.
    report_id: ReportId,
}

/// Makes a call that fails as in MS-OCER 4.1 and checks
/// what the user sees and the progress events; returns once the report is
/// queued.
async fn failed_call(ua: &ocer::ua::UserAgent, events: &mut Events) -> Run {
    let failure = match tokio::time::timeout(
        STEP,
        ua.call(BOB, Some(sdp_offer()), Mode::Voice, Action::Call),
    )
    .await
    .expect("the call resolves")
    {
        Ok(_) => panic!("the call was established; events {:#?}", events.seen),
        Err(failure) => failure,
    };
    assert_eq!(
        failure.kind,
        FailureKind::Rejected(StatusCode(504)),
        "{failure:?}"
    );
    // MS-OCER 9.1.1: 1007 has no Voice string, so the 504's is shown.
    let display = failure.display.as_ref().expect("what the user sees");
    assert_eq!(
        display.message_id.to_string(),
        "lync2010-sip-504-voice-call"
    );
    assert_eq!(
        display.message.as_deref(),
        Some("Operation was unsuccessful.")
    );
    // A log line leads with the technical cause (issue 16, item 5).
    assert!(
        failure
            .to_string()
            .starts_with("504 Server time-out, ms-diagnostics 1007 "),
        "{failure}"
    );
    let record = failure.record.as_ref().expect("the INVITE's record");
    let statuses: Vec<u16> = record.provisional.iter().map(|p| p.status.0).collect();
    assert_eq!(statuses, [100, 101], "{record:?}");
    let progress: Vec<&str> = record.progress.iter().map(|d| d.raw.as_str()).collect();
    assert_eq!(progress.len(), 1, "{record:?}");
    assert!(progress[0].starts_with("12006;"), "{progress:?}");
    let finals: Vec<_> = record.final_diagnostics().collect();
    assert_eq!(finals.len(), 1, "{record:?}");
    assert_eq!(finals[0].kind, HeaderKind::Private, "{record:?}");
    assert!(finals[0].raw.starts_with("1007;"), "{:?}", finals[0].raw);
    let call_id = record.identity.call_id.clone();

    // 100 and the 101 with its diagnostics, then Failed, then the report.
    let mut seen_101 = false;
    events
        .wait_for("Failed for the call", |e| match e {
            UaEvent::Progress {
                call_id: c,
                status,
                diagnostics,
                ..
            } if *c == call_id && status.0 == 101 => {
                assert!(
                    diagnostics.iter().any(|d| d.raw.starts_with("12006;")),
                    "{diagnostics:?}"
                );
                seen_101 = true;
                None
            }
            UaEvent::Failed {
                call_id: c,
                mode,
                action,
                failure,
            } if *c == call_id => {
                assert_eq!((*mode, *action), (Mode::Voice, Action::Call));
                assert_eq!(failure.status(), Some(StatusCode(504)));
                Some(())
            }
            _ => None,
        })
        .await;
    assert!(
        seen_101,
        "the 101 came as a Progress event before Failed: {:#?}",
        events.seen
    );
    let report_id = events
        .wait_for("ReportQueued for the call", |e| match e {
            UaEvent::ReportQueued {
                report_id,
                call_id: c,
            } if *c == call_id => Some(*report_id),
            _ => None,
        })
        .await;
    Run { call_id, report_id }
}

/// Starts SIPp with `scenario`, and a registered user agent.
async fn registered(
    name: &str,
    scenario: &str,
    wire: Wire,
) -> (Server, ocer::ua::UserAgent, Events) {
    let server = Server::start(name, scenario, wire);
    let (ua, events) = server.agent(|b| b).await;
    tokio::time::timeout(STEP, ua.register())
        .await
        .expect("register resolves")
        .unwrap_or_else(|failure| panic!("register: {failure}; events {:#?}", events.seen));
    (server, ua, events)
}

/// The SERVICE requests SIPp received, and the times (on SIPp's clock) it
/// sent each answer to one.
fn services(logs: &SippLogs) -> Vec<(Duration, Option<Duration>)> {
    let log = logs.message_log();
    let entries = log.entries();
    let mut found = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        if !(entry.is_received_request() && entry.method() == Some("SERVICE")) {
            continue;
        }
        let call_id = entry.header("Call-ID");
        let answered = entries[i + 1..]
            .iter()
            .find(|e| {
                e.direction == Direction::Sent
                    && e.header("Call-ID") == call_id
                    && e.header("CSeq") == entry.header("CSeq")
            })
            .and_then(|e| e.at);
        found.push((entry.at.expect("a timestamp"), answered));
    }
    found
}

async fn the_4_1_flow_is_reported(wire: Wire) {
    let (server, ua, mut events) = registered(
        "agent_invite_504_report",
        include_str!("../sipp/agent_invite_504_report.xml"),
        wire,
    )
    .await;
    let run = failed_call(&ua, &mut events).await;
    events
        .wait_for("ReportSent", |e| match e {
            UaEvent::ReportSent { report_id } if *report_id == run.report_id => Some(()),
            _ => None,
        })
        .await;
    let (logs, _) = server.finish(ua, events).await;

    assert_eq!(received(&logs, "SERVICE"), 1, "{logs}");
    assert_eq!(received(&logs, "ACK"), 1, "the 504 is acknowledged\n{logs}");
    let log = logs.message_log();
    let service = log.received("SERVICE").next().expect("the SERVICE");
    assert!(
        service
            .message
            .contains(&format!("callId=\"{}\"", run.call_id)),
        "{}",
        service.message
    );
}

async fn a_503_with_retry_after_is_retried_no_earlier(wire: Wire) {
    let waited = retried_after_a_503(
        "agent_report_503_retry_after",
        include_str!("../sipp/agent_report_503_retry_after.xml"),
        wire,
    )
    .await;
    // "Retry-After: 1" counts from when the 503 arrived; SIPp stamps its log
    // just after sending it, so allow its own few milliseconds.
    assert!(
        waited >= Duration::from_millis(990),
        "retried {waited:?} after the 503 with Retry-After 1"
    );
    assert!(
        waited < Duration::from_secs(5),
        "retried only {waited:?} after the 503 with Retry-After 1"
    );
}

/// The report is sent, answered 503 (with a Retry-After), retried, answered
/// 200; returns how long after the 503 the retry came (SIPp's clock).
async fn retried_after_a_503(name: &str, scenario: &str, wire: Wire) -> Duration {
    let (server, ua, mut events) = registered(name, scenario, wire).await;
    let run = failed_call(&ua, &mut events).await;
    events
        .wait_for("ReportSent after the Retry-After", |e| match e {
            UaEvent::ReportSent { report_id } if *report_id == run.report_id => Some(()),
            UaEvent::ReportDropped { why, .. } => panic!("the report was dropped: {why}"),
            UaEvent::ReportingSuspended { why } => panic!("reporting was suspended: {why}"),
            _ => None,
        })
        .await;
    let (logs, _) = server.finish(ua, events).await;

    let services = services(&logs);
    assert_eq!(services.len(), 2, "the report, then its retry\n{logs}");
    let busy = services[0].1.expect("SIPp answered the first SERVICE");
    let retried = services[1].0;
    retried.saturating_sub(busy)
}

/// `Retry-After: 0` is no licence for a busy loop: the report's own backoff
/// (60 to 120 ms for the tests' policy's first) is the floor.
async fn a_503_with_retry_after_0_waits_for_the_backoff(wire: Wire) {
    let waited = retried_after_a_503(
        "agent_report_503_retry_after_0",
        include_str!("../sipp/agent_report_503_retry_after_0.xml"),
        wire,
    )
    .await;
    let floor = test_retry_policy().initial_backoff / 2;
    // SIPp's log has millisecond stamps.
    assert!(
        waited + Duration::from_millis(2) >= floor,
        "retried {waited:?} after the 503 with Retry-After 0"
    );
}

/// A 503 that ends reporting for the login session: the first report gets
/// it, a second failed call's report is queued but not sent.
async fn a_503_suspends_reporting_for_the_login_session(name: &str, scenario: &str, wire: Wire) {
    let (server, ua, mut events) = registered(name, scenario, wire).await;
    let first = failed_call(&ua, &mut events).await;
    events
        .wait_for("ReportingSuspended", |e| match e {
            UaEvent::ReportingSuspended { .. } => Some(()),
            UaEvent::ReportSent { report_id } if *report_id == first.report_id => {
                panic!("a 503 counted as delivered")
            }
            _ => None,
        })
        .await;
    let second = failed_call(&ua, &mut events).await;
    assert_ne!(first.call_id, second.call_id);
    events
        .quiet_for(QUIET, "a report sent or dropped while suspended", |e| {
            matches!(
                e,
                UaEvent::ReportSent { .. } | UaEvent::ReportDropped { .. }
            )
        })
        .await;
    let (logs, _) = server.finish(ua, events).await;
    assert_eq!(received(&logs, "INVITE"), 2, "{logs}");
    assert_eq!(
        received(&logs, "SERVICE"),
        1,
        "no SERVICE after the 503 in this login session\n{logs}"
    );
}

async fn a_413_drops_the_report(wire: Wire) {
    too_large_drops_the_report(
        "agent_report_413",
        include_str!("../sipp/agent_report_413.xml"),
        "413",
        wire,
    )
    .await;
}

async fn too_large_drops_the_report(name: &str, scenario: &str, status: &str, wire: Wire) {
    let (server, ua, mut events) = registered(name, scenario, wire).await;
    let run = failed_call(&ua, &mut events).await;
    let why = events
        .wait_for("ReportDropped", |e| match e {
            UaEvent::ReportDropped { report_id, why } if *report_id == Some(run.report_id) => {
                Some(why.to_string())
            }
            UaEvent::ReportSent { report_id } if *report_id == run.report_id => {
                panic!("a 413 counted as delivered")
            }
            _ => None,
        })
        .await;
    assert!(why.contains(status), "why: {why}");
    events
        .quiet_for(QUIET, "another report event after the refusal", |e| {
            matches!(
                e,
                UaEvent::ReportSent { .. }
                    | UaEvent::ReportDropped { .. }
                    | UaEvent::ReportingSuspended { .. }
            )
        })
        .await;
    let (logs, _) = server.finish(ua, events).await;
    assert_eq!(
        received(&logs, "SERVICE"),
        1,
        "no retry after a {status}\n{logs}"
    );
}

/// A bare 503 holds reports back for the login session only: after
/// unregister and register, both queued reports (the one that got the 503,
/// and the next call's) are sent.
async fn held_back_reports_go_in_the_next_login_session(wire: Wire) {
    let (server, ua, mut events) = registered(
        "agent_report_503_next_login",
        include_str!("../sipp/agent_report_503_next_login.xml"),
        wire,
    )
    .await;
    let first = failed_call(&ua, &mut events).await;
    events
        .wait_for("ReportingSuspended", |e| match e {
            UaEvent::ReportingSuspended { .. } => Some(()),
            _ => None,
        })
        .await;
    let second = failed_call(&ua, &mut events).await;
    events
        .quiet_for(QUIET, "a report sent or dropped while suspended", |e| {
            matches!(
                e,
                UaEvent::ReportSent { .. } | UaEvent::ReportDropped { .. }
            )
        })
        .await;

    tokio::time::timeout(STEP, ua.unregister())
        .await
        .expect("unregister resolves")
        .unwrap_or_else(|failure| panic!("unregister: {failure}"));
    tokio::time::timeout(STEP, ua.register())
        .await
        .expect("register resolves")
        .unwrap_or_else(|failure| panic!("register again: {failure}"));
    let mut pending = vec![first.report_id, second.report_id];
    while !pending.is_empty() {
        let sent = events
            .wait_for("ReportSent for a held-back report", |e| match e {
                UaEvent::ReportSent { report_id } => Some(*report_id),
                UaEvent::ReportDropped { why, .. } => panic!("a report was dropped: {why}"),
                _ => None,
            })
            .await;
        pending.retain(|id| *id != sent);
    }
    let (logs, _) = server.finish(ua, events).await;

    // On SIPp's side: REGISTER, SERVICE (503), unregister, REGISTER, then the
    // two reports, naming the two calls.
    let log = logs.message_log();
    let requests: Vec<_> = log.received_requests().collect();
    let second_login = requests
        .iter()
        .enumerate()
        .filter(|(_, e)| e.method() == Some("REGISTER"))
        .map(|(i, _)| i)
        .nth(2)
        .unwrap_or_else(|| panic!("register, unregister, register\n{logs}"));
    let services: Vec<(usize, &str)> = requests
        .iter()
        .enumerate()
        .filter(|(_, e)| e.method() == Some("SERVICE"))
        .map(|(i, e)| (i, e.message))
        .collect();
    assert_eq!(services.len(), 3, "{logs}");
    let names = |body: &str, call_id: &str| body.contains(&format!("callId=\"{call_id}\""));
    assert!(services[0].0 < second_login, "{logs}");
    assert!(names(services[0].1, &first.call_id), "{logs}");
    for (index, _) in &services[1..] {
        assert!(
            *index > second_login,
            "sent only in the new login session\n{logs}"
        );
    }
    assert!(
        services[1..]
            .iter()
            .any(|(_, body)| names(body, &first.call_id))
            && services[1..]
                .iter()
                .any(|(_, body)| names(body, &second.call_id)),
        "both held-back reports\n{logs}"
    );
}

const SCENARIO_503_2019: &str = include_str!("../sipp/agent_report_503_2019.xml");
const SCENARIO_503_BARE: &str = include_str!("../sipp/agent_report_503_bare.xml");

#[tokio::test]
async fn the_4_1_flow_is_reported_over_udp() {
    the_4_1_flow_is_reported(Wire::Udp).await;
}

#[tokio::test]
async fn the_4_1_flow_is_reported_over_tcp() {
    the_4_1_flow_is_reported(Wire::Tcp).await;
}

#[tokio::test]
async fn the_4_1_flow_is_reported_over_tls() {
    the_4_1_flow_is_reported(Wire::Tls).await;
}

#[tokio::test]
async fn a_503_with_retry_after_is_retried_no_earlier_over_udp() {
    a_503_with_retry_after_is_retried_no_earlier(Wire::Udp).await;
}

#[tokio::test]
async fn a_503_with_retry_after_is_retried_no_earlier_over_tcp() {
    a_503_with_retry_after_is_retried_no_earlier(Wire::Tcp).await;
}

#[tokio::test]
async fn a_503_with_retry_after_is_retried_no_earlier_over_tls() {
    a_503_with_retry_after_is_retried_no_earlier(Wire::Tls).await;
}

#[tokio::test]
async fn a_503_with_2019_suspends_reporting_over_udp() {
    a_503_suspends_reporting_for_the_login_session(
        "agent_report_503_2019",
        SCENARIO_503_2019,
        Wire::Udp,
    )
    .await;
}

#[tokio::test]
async fn a_503_with_2019_suspends_reporting_over_tcp() {
    a_503_suspends_reporting_for_the_login_session(
        "agent_report_503_2019",
        SCENARIO_503_2019,
        Wire::Tcp,
    )
    .await;
}

#[tokio::test]
async fn a_503_with_2019_suspends_reporting_over_tls() {
    a_503_suspends_reporting_for_the_login_session(
        "agent_report_503_2019",
        SCENARIO_503_2019,
        Wire::Tls,
    )
    .await;
}

#[tokio::test]
async fn a_bare_503_suspends_reporting_over_udp() {
    a_503_suspends_reporting_for_the_login_session(
        "agent_report_503_bare",
        SCENARIO_503_BARE,
        Wire::Udp,
    )
    .await;
}

#[tokio::test]
async fn a_bare_503_suspends_reporting_over_tcp() {
    a_503_suspends_reporting_for_the_login_session(
        "agent_report_503_bare",
        SCENARIO_503_BARE,
        Wire::Tcp,
    )
    .await;
}

#[tokio::test]
async fn a_bare_503_suspends_reporting_over_tls() {
    a_503_suspends_reporting_for_the_login_session(
        "agent_report_503_bare",
        SCENARIO_503_BARE,
        Wire::Tls,
    )
    .await;
}

#[tokio::test]
async fn a_413_drops_the_report_over_udp() {
    a_413_drops_the_report(Wire::Udp).await;
}

#[tokio::test]
async fn a_413_drops_the_report_over_tcp() {
    a_413_drops_the_report(Wire::Tcp).await;
}

#[tokio::test]
async fn a_413_drops_the_report_over_tls() {
    a_413_drops_the_report(Wire::Tls).await;
}

#[tokio::test]
async fn held_back_reports_go_in_the_next_login_session_over_udp() {
    held_back_reports_go_in_the_next_login_session(Wire::Udp).await;
}

#[tokio::test]
async fn held_back_reports_go_in_the_next_login_session_over_tcp() {
    held_back_reports_go_in_the_next_login_session(Wire::Tcp).await;
}

#[tokio::test]
async fn held_back_reports_go_in_the_next_login_session_over_tls() {
    held_back_reports_go_in_the_next_login_session(Wire::Tls).await;
}

#[tokio::test]
async fn a_503_with_retry_after_0_waits_for_the_backoff_over_tcp() {
    a_503_with_retry_after_0_waits_for_the_backoff(Wire::Tcp).await;
}

#[tokio::test]
async fn a_503_with_only_public_2019_suspends_reporting_over_tcp() {
    a_503_suspends_reporting_for_the_login_session(
        "agent_report_503_public_2019",
        include_str!("../sipp/agent_report_503_public_2019.xml"),
        Wire::Tcp,
    )
    .await;
}

#[tokio::test]
async fn a_513_drops_the_report_over_tcp() {
    too_large_drops_the_report(
        "agent_report_513",
        include_str!("../sipp/agent_report_513.xml"),
        "513",
        Wire::Tcp,
    )
    .await;
}

/// MS-OCER §2.2.2: `responseCode` is "the SIP response code received from the
/// SIP server (2) for the SIP request". A MESSAGE that gets `101` (with
/// ms-diagnostics 12006) and then nothing times out (Timer F) and is
/// reported with responseCode 101, no diagHeader (no final response carried
/// one), and the 101's diagnostics as its progress report: SIPp checks the
/// document (`tests/sipp/agent_message_101_timeout.xml`).
#[tokio::test]
async fn spec_2_2_2_a_1xx_then_a_timeout_reports_the_1xx_code_over_tcp() {
    let server = Server::start(
        "agent_message_101_timeout",
        include_str!("../sipp/agent_message_101_timeout.xml"),
        Wire::Tcp,
    );
    // T1 of 50 ms: Timer F (64·T1) fires after 3.2 s, within STEP.
    let (ua, mut events) = server
        .agent(|b| {
            b.timers(ocer::sip::TimerConfig {
                t1: Duration::from_millis(50),
                t2: Duration::from_millis(400),
                t4: Duration::from_millis(500),
            })
        })
        .await;
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
    assert_eq!(failure.kind, FailureKind::Timeout, "{failure:?}");
    let record = failure.record.as_ref().expect("the MESSAGE's record");
    let statuses: Vec<u16> = record.provisional.iter().map(|p| p.status.0).collect();
    assert_eq!(statuses, [101], "{record:?}");
    let call_id = record.identity.call_id.clone();
    events.report_delivered(&call_id).await;
    let (logs, _) = server.finish(ua, events).await;
    assert_eq!(received(&logs, "MESSAGE"), 1, "{logs}");
    assert_eq!(received(&logs, "SERVICE"), 1, "{logs}");
}
