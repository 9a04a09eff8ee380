//! Instant messages and automatic error reporting against a scripted
//! server: MESSAGE → 480 + Warning 391 and → 404 with
//! ms-diagnostics-public; the SERVICE answered 200, 413 (dropped), 503 with
//! Retry-After (retried no earlier), 503 with 2019 and a bare 503 (no retry
//! in this login session; sent after re-registering), 401 (answered once);
//! app-reported errors; reports that survive a restart in a disk outbox.
//! Waits that hold across login sessions and restarts, and a queue spread
//! at login, run on paused tokio time (the clock jumps when the runtime is
//! idle; loopback I/O and the outbox's blocking pool keep it from jumping
//! mid-exchange).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use ocer::diag::ErrorId;
use ocer::display::{Action, Cause, Mode};
use ocer::report::client_errors::{ClientError, CANNOT_CONNECT_TO_EXCHANGE};
use ocer::report::{ErrorReport, RetryPolicy, SuspendReason};
use ocer::sip::StatusCode;
use ocer::ua::outbox::OutboxError;
use ocer::ua::{
    ClientErrorReport, FailureKind, OutboxLocation, ReportDropReason, UaError, UaEvent, UaEvents,
    UserAgent, UserAgentBuilder,
};
use ocer_test_support::prelude::*;

/// The retry policy of these tests: the default's shape, shorter backoffs
/// (the first is 100 to 200 ms; a queue at login is spread over 200 ms).
fn policy() -> RetryPolicy {
    RetryPolicy {
        initial_backoff: Duration::from_millis(200),
        max_backoff: Duration::from_secs(1),
        ..RetryPolicy::default()
    }
}

fn builder(server: &Server) -> UserAgentBuilder {
    UserAgent::builder("sip:alice@contoso.com", server.target())
        .credentials("alice", "secret")
        .timers(fast_timers())
        .retry_policy(policy())
}

async fn ua_on(server: &Server) -> (UserAgent, UaEvents) {
    builder(server).build().await.unwrap()
}

async fn register(server: &mut Server, ua: &UserAgent) {
    let registering = tokio::spawn({
        let ua = ua.clone();
        async move { ua.register().await }
    });
    let register = server.expect("REGISTER").await;
    server.reply(&register, "200 OK", "").await;
    registering.await.unwrap().expect("registered");
}

async fn unregister(server: &mut Server, ua: &UserAgent) {
    let unregistering = tokio::spawn({
        let ua = ua.clone();
        async move { ua.unregister().await }
    });
    let register = server.expect("REGISTER").await;
    assert_eq!(header(&register, "Expires"), Some("0"));
    server.reply(&register, "200 OK", "").await;
    unregistering.await.unwrap().expect("unregistered");
}

const W391: &str =
    "Warning: 391 lcs.contoso.com \"The recipient does not wish to be disturbed\"\r\n";

/// An IM the server refuses with 480 + Warning 391; its Call-ID.
async fn failed_im(server: &mut Server, ua: &UserAgent) -> String {
    let sending = tokio::spawn({
        let ua = ua.clone();
        async move { ua.send_message("sip:bob@contoso.com", "hello").await }
    });
    let message = server.expect("MESSAGE").await;
    server
        .reply(&message, "480 Temporarily Unavailable", W391)
        .await;
    sending.await.unwrap().expect_err("refused");
    header(&message, "Call-ID").unwrap().to_owned()
}

/// The report a SERVICE carries.
fn report_of(service: &ocer::sip::SipMessage) -> ErrorReport<'static> {
    ErrorReport::parse(&service.body).unwrap()
}

async fn im_480_with_warning_391(kind: TransportKind) {
    let mut server = Server::bind(kind).await;
    let (ua, mut events) = ua_on(&server).await;
    register(&mut server, &ua).await;
    let sending = tokio::spawn({
        let ua = ua.clone();
        async move { ua.send_message("sip:bob@contoso.com", "héllo").await }
    });
    let message = server.expect("MESSAGE").await;
    assert_eq!(
        header(&message, "Content-Type"),
        Some("text/plain; charset=UTF-8")
    );
    assert_eq!(message.body.as_ref(), "héllo".as_bytes());
    assert_eq!(start_line(&message), "MESSAGE sip:bob@contoso.com SIP/2.0");
    server
        .reply(&message, "480 Temporarily Unavailable", W391)
        .await;
    let failure = sending.await.unwrap().expect_err("refused");
    assert_eq!(failure.kind, FailureKind::Rejected(StatusCode(480)));
    let record = failure.record.as_ref().unwrap();
    assert_eq!(
        record
            .warnings()
            .iter()
            .map(|w| w.code.0)
            .collect::<Vec<_>>(),
        [391]
    );
    // The priority rule: the SIP status comes before the Warning, and
    // Lync 2010 has a string for 480 in IM.
    let display = failure.display.as_ref().unwrap();
    assert_eq!(display.cause, Cause::SipStatus(StatusCode(480)));
    assert_eq!(
        display.message.as_deref(),
        Some("This message was not delivered to bob@contoso.com because this person is unavailable or offline.")
    );
    let (failed, _) = until(&mut events, |e| matches!(e, UaEvent::Failed { .. })).await;
    assert!(matches!(
        failed,
        UaEvent::Failed {
            mode: Mode::Im,
            action: Action::SendMessage,
            ..
        }
    ));

    let service = server.expect("SERVICE").await;
    let report = report_of(&service);
    assert_eq!(report.request_type, "MESSAGE");
    assert_eq!(report.response_code, 480);
    assert_eq!(report.call_id, header(&message, "Call-ID").unwrap());
    assert_eq!(
        report.content_type.as_deref(),
        Some("text/plain; charset=UTF-8")
    );
    server.reply(&service, "200 OK", "").await;
    until(&mut events, |e| matches!(e, UaEvent::ReportSent { .. })).await;
}

#[tokio::test]
async fn im_480_with_warning_391_over_tcp() {
    im_480_with_warning_391(TransportKind::Tcp).await;
}

#[tokio::test]
async fn im_480_with_warning_391_over_udp() {
    im_480_with_warning_391(TransportKind::Udp).await;
}

async fn im_404_with_public_diagnostics(kind: TransportKind) {
    let mut server = Server::bind(kind).await;
    let (ua, _events) = ua_on(&server).await;
    register(&mut server, &ua).await;
    let sending = tokio::spawn({
        let ua = ua.clone();
        async move { ua.send_message("sip:bob@fabrikam.com", "hi").await }
    });
    let message = server.expect("MESSAGE").await;
    server
        .reply(
            &message,
            "404 Not Found",
            "ms-diagnostics-public: 1003;reason=\"User does not exist\"\r\n",
        )
        .await;
    let failure = sending.await.unwrap().expect_err("not found");
    let display = failure.display.unwrap();
    assert_eq!(display.cause, Cause::MsDiagnostic(ErrorId(1003)));
    assert_eq!(
        display.message.as_deref(),
        Some("bob@fabrikam.com could not be found and this message was not delivered:")
    );
    let service = server.expect("SERVICE").await;
    let report = report_of(&service);
    assert_eq!(report.response_code, 404);
    assert_eq!(report.diag_headers, ["1003;reason=\"User does not exist\""]);
    server.reply(&service, "200 OK", "").await;
}

#[tokio::test]
async fn im_404_with_public_diagnostics_over_tcp() {
    im_404_with_public_diagnostics(TransportKind::Tcp).await;
}

#[tokio::test]
async fn im_404_with_public_diagnostics_over_udp() {
    im_404_with_public_diagnostics(TransportKind::Udp).await;
}

#[tokio::test]
async fn a_413_drops_the_report() {
    let mut server = Server::bind(TransportKind::Tcp).await;
    let (ua, mut events) = ua_on(&server).await;
    register(&mut server, &ua).await;
    let first = failed_im(&mut server, &ua).await;
    let service = server.expect("SERVICE").await;
    assert_eq!(report_of(&service).call_id, first);
    server
        .reply(&service, "413 Request Entity Too Large", "")
        .await;
    let (dropped, _) = until(&mut events, |e| matches!(e, UaEvent::ReportDropped { .. })).await;
    assert!(matches!(
        &dropped,
        UaEvent::ReportDropped {
            why: ReportDropReason::TooLarge(StatusCode(413)),
            report_id: Some(_)
        }
    ));
    // Never again: the next SERVICE is the next report's.
    assert!(server
        .next_within(Duration::from_millis(300))
        .await
        .is_none());
    let second = failed_im(&mut server, &ua).await;
    let service = server.expect("SERVICE").await;
    assert_eq!(report_of(&service).call_id, second);
    server.reply(&service, "200 OK", "").await;
}

#[tokio::test]
async fn a_503_with_retry_after_is_waited_out() {
    let mut server = Server::bind(TransportKind::Tcp).await;
    let (ua, mut events) = ua_on(&server).await;
    register(&mut server, &ua).await;
    let call_id = failed_im(&mut server, &ua).await;
    let service = server.expect("SERVICE").await;
    let answered = Instant::now();
    server
        .reply(
            &service,
            "503 Service Unavailable",
            "ms-diagnostics: 1000;reason=\"busy\";source=\"fe\"\r\nRetry-After: 1\r\n",
        )
        .await;
    let again = server.expect("SERVICE").await;
    assert!(
        answered.elapsed() >= Duration::from_secs(1),
        "retried after {:?}",
        answered.elapsed()
    );
    assert_eq!(report_of(&again).call_id, call_id);
    assert_ne!(header(&again, "Call-ID"), header(&service, "Call-ID"));
    server.reply(&again, "200 OK", "").await;
    until(&mut events, |e| matches!(e, UaEvent::ReportSent { .. })).await;
}

/// A 503 that suspends reporting: nothing more this login session, all of
/// it in the next.
async fn suspended_until_the_next_login(extra: &str) {
    let mut server = Server::bind(TransportKind::Tcp).await;
    let (ua, mut events) = ua_on(&server).await;
    register(&mut server, &ua).await;
    let first = failed_im(&mut server, &ua).await;
    let service = server.expect("SERVICE").await;
    server
        .reply(&service, "503 Service Unavailable", extra)
        .await;
    let (suspended, _) = until(&mut events, |e| {
        matches!(e, UaEvent::ReportingSuspended { .. })
    })
    .await;
    assert!(matches!(
        &suspended,
        UaEvent::ReportingSuspended {
            why: SuspendReason::NotEnabled | SuspendReason::ServiceNotAvailable
        }
    ));
    let second = failed_im(&mut server, &ua).await;
    until(
        &mut events,
        |e| matches!(e, UaEvent::ReportQueued { call_id, .. } if *call_id == second),
    )
    .await;
    assert!(
        server
            .next_within(Duration::from_millis(500))
            .await
            .is_none(),
        "no SERVICE"
    );

    // A new login session sends what is queued, oldest first.
    unregister(&mut server, &ua).await;
    assert!(server
        .next_within(Duration::from_millis(200))
        .await
        .is_none());
    register(&mut server, &ua).await;
    for call_id in [first, second] {
        let service = server.expect("SERVICE").await;
        assert_eq!(report_of(&service).call_id, call_id);
        server.reply(&service, "200 OK", "").await;
        until(&mut events, |e| matches!(e, UaEvent::ReportSent { .. })).await;
    }
}

#[tokio::test]
async fn a_503_with_2019_suspends_reporting_for_the_session() {
    suspended_until_the_next_login(
        "ms-diagnostics: 2019;reason=\"Report error service is not available\";source=\"fe\"\r\n",
    )
    .await;
}

#[tokio::test]
async fn a_bare_503_suspends_reporting_for_the_session() {
    suspended_until_the_next_login("").await;
}

#[tokio::test]
async fn a_challenged_service_is_sent_again_with_credentials() {
    let mut server = Server::bind(TransportKind::Tcp).await;
    let (ua, mut events) = ua_on(&server).await;
    register(&mut server, &ua).await;
    failed_im(&mut server, &ua).await;
    let service = server.expect("SERVICE").await;
    server
        .reply(
            &service,
            "407 Proxy Authentication Required",
            &CHALLENGE.replace("WWW-", "Proxy-"),
        )
        .await;
    let again = server.expect("SERVICE").await;
    assert_eq!(header(&again, "Call-ID"), header(&service, "Call-ID"));
    assert_eq!(header(&again, "CSeq"), Some("2 SERVICE"));
    assert!(header(&again, "Proxy-Authorization")
        .unwrap()
        .contains("username=\"alice\""));
    server.reply(&again, "200 OK", "").await;
    until(&mut events, |e| matches!(e, UaEvent::ReportSent { .. })).await;
}

#[tokio::test]
async fn an_app_reports_its_own_error() {
    let mut server = Server::bind(TransportKind::Tcp).await;
    let (ua, mut events) = ua_on(&server).await;
    register(&mut server, &ua).await;
    let exchange = *ClientError::lookup(CANNOT_CONNECT_TO_EXCHANGE).unwrap();
    // The app's Exchange Web Services call (HTTP POST) got a 503.
    ua.report_client_error(ClientErrorReport::new(exchange, "POST", 503))
        .await
        .unwrap();
    let service = server.expect("SERVICE").await;
    let report = report_of(&service);
    assert_eq!(
        report.diag_headers,
        ["52169;reason=\"Cannot connect to Exchange Server.\""]
    );
    assert_eq!(
        (report.request_type.as_ref(), report.response_code),
        ("POST", 503)
    );
    server.reply(&service, "200 OK", "").await;
    until(&mut events, |e| matches!(e, UaEvent::ReportSent { .. })).await;
    let not_ours = ClientError {
        id: ErrorId(1007),
        ..exchange
    };
    assert!(matches!(
        ua.report_client_error(ClientErrorReport::new(not_ours, "POST", 0))
            .await,
        Err(UaError::NotAClientErrorId(_))
    ));
}

/// §2.2.2: `requestType` is "the Method name of the SIP request that
/// failed": an app-reported error names the app's request, never the
/// SERVICE that carries the report, and nothing that is no method.
#[tokio::test]
async fn spec_2_2_2_an_app_reported_error_names_the_request_that_failed() {
    let server = Server::bind(TransportKind::Tcp).await;
    let (ua, _events) = ua_on(&server).await;
    let exchange = *ClientError::lookup(CANNOT_CONNECT_TO_EXCHANGE).unwrap();
    for bad in ["", "GET /ews", &"X".repeat(34), "POST\r\nms-diagnostics: 1"] {
        assert!(
            matches!(
                ua.report_client_error(ClientErrorReport::new(exchange, bad, 0))
                    .await,
                Err(UaError::InvalidRequestType(_))
            ),
            "{bad:?}"
        );
    }
    let report = ClientErrorReport::new(exchange, "POST", 0);
    assert_eq!(
        (report.request_type.as_str(), report.response_code),
        ("POST", 0)
    );
    ua.report_client_error(report).await.unwrap();
}

#[tokio::test]
async fn reporting_off_sends_nothing() {
    let mut server = Server::bind(TransportKind::Tcp).await;
    let (ua, mut events) = UserAgent::builder("sip:alice@contoso.com", server.target())
        .timers(fast_timers())
        .reporting(false)
        .build()
        .await
        .unwrap();
    register(&mut server, &ua).await;
    failed_im(&mut server, &ua).await;
    assert!(server
        .next_within(Duration::from_millis(300))
        .await
        .is_none());
    while let Some(event) = events.try_recv() {
        assert!(!matches!(event, UaEvent::ReportQueued { .. }), "{event:?}");
    }
}

#[tokio::test]
async fn a_queued_report_survives_a_restart_in_a_disk_outbox() {
    let dir = std::env::temp_dir().join(format!("ocer-ua-agent-outbox-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut server = Server::bind(TransportKind::Tcp).await;
    let build = |server: &Server| {
        builder(server)
            .outbox(OutboxLocation::Disk(dir.clone()))
            .build()
    };
    // Not registered: the report is stored, not sent.
    let (ua, mut events) = build(&server).await.unwrap();
    let call_id = failed_im(&mut server, &ua).await;
    until(&mut events, |e| matches!(e, UaEvent::ReportQueued { .. })).await;
    ua.shutdown().await;
    drop(ua);

    let mut server2 = Server::bind(TransportKind::Tcp).await;
    let (ua, mut events) = build(&server2).await.unwrap();
    register(&mut server2, &ua).await;
    let service = server2.expect("SERVICE").await;
    assert_eq!(report_of(&service).call_id, call_id);
    server2.reply(&service, "200 OK", "").await;
    until(&mut events, |e| matches!(e, UaEvent::ReportSent { .. })).await;
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Issue 17 item 4 (issue 10 item 5): a report larger than one UDP
/// datagram, to a UDP target that also takes TCP on its port. RFC 3261
/// §18.1.1 sends a request over 1,300 bytes over TCP: the whole ~85 KB
/// report goes there, where over UDP every attempt failed (EMSGSIZE) and the
/// report was dropped.
#[tokio::test]
async fn a_report_larger_than_a_datagram_goes_whole_over_tcp_to_the_udp_target() {
    let mut server = Server::bind(TransportKind::Udp).await;
    let tcp = tokio::net::TcpListener::bind(server.target().addr)
        .await
        .unwrap();
    let (ua, mut events) = ua_on(&server).await;
    register(&mut server, &ua).await;
    let calling = tokio::spawn({
        let ua = ua.clone();
        async move {
            ua.call("sip:bob@contoso.com", None, Mode::Voice, Action::Call)
                .await
        }
    });
    let invite = server.expect("INVITE").await;
    let filler = "f".repeat(12_000);
    for n in 0..6 {
        let diag = format!(
            "ms-diagnostics: 12006;reason=\"Trying next hop\";source=\"fe{n}.contoso.com\";Filler=\"{filler}\"\r\n"
        );
        server.reply(&invite, "101 Progress Report", &diag).await;
    }
    let diag = format!(
        "ms-diagnostics: 1007;reason=\"Temporarily cannot route\";source=\"server.contoso.com\";Filler=\"{filler}\"\r\n"
    );
    server.reply(&invite, "504 Server time-out", &diag).await;
    calling.await.unwrap().expect_err("504");

    let (stream, _) = tokio::time::timeout(LIMIT, tcp.accept())
        .await
        .expect("the report comes over TCP")
        .unwrap();
    let (mut read, mut write) = stream.into_split();
    let mut buf = bytes::BytesMut::new();
    let service = loop {
        tokio::time::timeout(
            LIMIT,
            tokio::io::AsyncReadExt::read_buf(&mut read, &mut buf),
        )
        .await
        .expect("the SERVICE in time")
        .unwrap();
        if let ocer::sip::Framed::Message { message, .. } =
            ocer::sip::frame_stream(&buf, &ocer::sip::FramingLimits::default())
        {
            break message;
        }
    };
    assert_eq!(
        service.method().map(|m| m.to_string()).as_deref(),
        Some("SERVICE")
    );
    assert!(
        service.body.len() > ocer::ua::transport::MAX_DATAGRAM_PAYLOAD,
        "{} bytes",
        service.body.len()
    );
    assert_eq!(report_of(&service).progress_reports.len(), 6);
    assert!(header(&service, "Via").unwrap().starts_with("SIP/2.0/TCP "));
    let ok = response(&service, "200 OK", "", "");
    tokio::io::AsyncWriteExt::write_all(&mut write, &ok)
        .await
        .unwrap();
    until(&mut events, |e| matches!(e, UaEvent::ReportSent { .. })).await;
}
/// The tokio clock (paused in these tests).
fn clock() -> tokio::time::Instant {
    tokio::time::Instant::now()
}

/// The next SERVICE, however long (on the paused clock) it takes to come.
async fn next_service(server: &mut Server) -> ocer::sip::SipMessage {
    server.limit = Duration::from_secs(4 * 3600);
    let service = server.expect("SERVICE").await;
    server.limit = LIMIT;
    service
}

const BUSY_120: &str = "Retry-After: 120\r\n";

/// MS-OCER §3.1.5: a 503 with Retry-After 120, then unregister and register:
/// the new login session does not shorten the wait.
#[tokio::test(start_paused = true)]
async fn s3_1_5_a_retry_after_holds_across_login_sessions() {
    let mut server = Server::bind(TransportKind::Tcp).await;
    let (ua, mut events) = ua_on(&server).await;
    register(&mut server, &ua).await;
    let call_id = failed_im(&mut server, &ua).await;
    let service = server.expect("SERVICE").await;
    server
        .reply(&service, "503 Service Unavailable", BUSY_120)
        .await;
    let answered = clock();
    unregister(&mut server, &ua).await;
    register(&mut server, &ua).await;
    let again = next_service(&mut server).await;
    let waited = answered.elapsed();
    assert!(
        waited >= Duration::from_secs(120),
        "sent {waited:?} after a Retry-After of 120 s"
    );
    assert_eq!(report_of(&again).call_id, call_id);
    server.reply(&again, "200 OK", "").await;
    until(&mut events, |e| matches!(e, UaEvent::ReportSent { .. })).await;
}

/// A Retry-After longer than a session waits (over 3600 s) suspends this
/// session and still holds in the next.
#[tokio::test(start_paused = true)]
async fn s3_1_5_a_retry_after_over_an_hour_holds_in_the_next_session() {
    let mut server = Server::bind(TransportKind::Tcp).await;
    // A day's registration: no refresh due while the test waits.
    let (ua, mut events) = builder(&server)
        .register_expires(Duration::from_secs(86_400))
        .build()
        .await
        .unwrap();
    register(&mut server, &ua).await;
    failed_im(&mut server, &ua).await;
    let service = server.expect("SERVICE").await;
    server
        .reply(&service, "503 Service Unavailable", "Retry-After: 7200\r\n")
        .await;
    let answered = clock();
    until(&mut events, |e| {
        matches!(e, UaEvent::ReportingSuspended { .. })
    })
    .await;
    unregister(&mut server, &ua).await;
    register(&mut server, &ua).await;
    let again = next_service(&mut server).await;
    let waited = answered.elapsed();
    assert!(
        waited >= Duration::from_secs(7200),
        "sent {waited:?} after a Retry-After of 7200 s"
    );
    server.reply(&again, "200 OK", "").await;
    until(&mut events, |e| matches!(e, UaEvent::ReportSent { .. })).await;
}

/// The wait is stored with the report: a restart does not shorten it.
#[tokio::test(start_paused = true)]
async fn s3_1_5_a_retry_after_holds_across_a_restart() {
    let dir = std::env::temp_dir().join(format!("ocer-ua-agent-wait-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut server = Server::bind(TransportKind::Tcp).await;
    let on_disk = |server: &Server| builder(server).outbox(OutboxLocation::Disk(dir.clone()));
    let (ua, _events) = on_disk(&server).build().await.unwrap();
    register(&mut server, &ua).await;
    let call_id = failed_im(&mut server, &ua).await;
    let service = server.expect("SERVICE").await;
    server
        .reply(&service, "503 Service Unavailable", BUSY_120)
        .await;
    let answered = clock();
    // Let the reporter store the wait (the blocking pool holds the paused
    // clock until it is done); then the app stops.
    tokio::time::sleep(Duration::from_millis(10)).await;
    let shutting = tokio::spawn({
        let ua = ua.clone();
        async move { ua.shutdown().await }
    });
    let bye = server.expect("REGISTER").await;
    server.reply(&bye, "200 OK", "").await;
    shutting.await.unwrap();
    drop(ua);

    let mut server2 = Server::bind(TransportKind::Tcp).await;
    let (ua, mut events) = on_disk(&server2).build().await.unwrap();
    register(&mut server2, &ua).await;
    let again = next_service(&mut server2).await;
    let waited = answered.elapsed();
    assert!(
        waited >= Duration::from_secs(119),
        "sent {waited:?} after a Retry-After of 120 s and a restart"
    );
    assert_eq!(report_of(&again).call_id, call_id);
    server2.reply(&again, "200 OK", "").await;
    until(&mut events, |e| matches!(e, UaEvent::ReportSent { .. })).await;
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A queue that waited for a login is not sent the moment the login
/// succeeds: clients re-registering together after a failover spread out.
#[tokio::test(start_paused = true)]
async fn a_queue_waiting_at_login_is_spread() {
    let mut server = Server::bind(TransportKind::Tcp).await;
    let (ua, mut events) = ua_on(&server).await;
    for _ in 0..3 {
        failed_im(&mut server, &ua).await;
        until(&mut events, |e| matches!(e, UaEvent::ReportQueued { .. })).await;
    }
    register(&mut server, &ua).await;
    let registered = clock();
    let first = next_service(&mut server).await;
    let delay = registered.elapsed();
    assert!(
        delay > Duration::ZERO && delay <= policy().initial_backoff,
        "first report {delay:?} after the login"
    );
    server.reply(&first, "200 OK", "").await;
    for _ in 0..2 {
        let service = next_service(&mut server).await;
        server.reply(&service, "200 OK", "").await;
    }
}

/// Two user agents (or processes) on one disk outbox would lose each
/// other's reports: the second is refused with a typed error.
#[tokio::test]
async fn a_second_user_agent_on_the_same_disk_outbox_is_refused() {
    let dir = std::env::temp_dir().join(format!("ocer-ua-agent-lock-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let server = Server::bind(TransportKind::Tcp).await;
    let on_disk = || builder(&server).outbox(OutboxLocation::Disk(dir.clone()));
    let (first, _events) = on_disk().build().await.unwrap();
    match on_disk().build().await {
        Err(UaError::Outbox(OutboxError::Locked { dir: locked })) => assert_eq!(locked, dir),
        Err(other) => panic!("{other}"),
        Ok(_) => panic!("two owners of one outbox"),
    }
    first.shutdown().await;
    drop(first);
    let (again, _events) = on_disk().build().await.expect("free after shutdown");
    again.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
