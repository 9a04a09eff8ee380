//! Calls against a scripted server: the MS-OCER 4.1 flow (INVITE → 100,
//! 101 with 12006, 504 with 1007) with its automatic report, a join that
//! the server ends with 3118, cancel, hang-up, and a transport failure.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use bytes::Bytes;
use ocer::diag::ErrorId;
use ocer::display::{Action, Cause, Mode, WinError};
use ocer::report::ErrorReport;
use ocer::sip::StatusCode;
use ocer::ua::{FailureKind, LocalFailure, UaEvent, UaEvents, UserAgent};
use ocer_test_support::prelude::*;

/// A user agent on `server`, registered (200 at once).
async fn registered(server: &mut Server) -> (UserAgent, UaEvents) {
    let (ua, events) = UserAgent::builder("sip:alice@contoso.com", server.target())
        .display_name("Alice")
        .timers(fast_timers())
        .build()
        .await
        .unwrap();
    let registering = tokio::spawn({
        let ua = ua.clone();
        async move { ua.register().await }
    });
    let register = server.expect("REGISTER").await;
    server.reply(&register, "200 OK", "").await;
    registering.await.unwrap().expect("registered");
    (ua, events)
}

const D12006: &str =
    "ms-diagnostics: 12006;reason=\"Trying next hop\";appName=\"OutboundRouting\"\r\n";
const D1007: &str =
    "ms-diagnostics: 1007;reason=\"Temporarily cannot route\";source=\"server.contoso.com\"\r\n";

async fn flow_4_1(kind: TransportKind) {
    let mut server = Server::bind(kind).await;
    let (ua, mut events) = registered(&mut server).await;
    let sdp = Bytes::from_static(b"v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=-\r\n");
    let calling = tokio::spawn({
        let ua = ua.clone();
        let sdp = sdp.clone();
        async move {
            ua.call(
                "sip:bob@contoso.com;user=phone",
                Some(sdp),
                Mode::Voice,
                Action::Call,
            )
            .await
        }
    });
    let invite = server.expect("INVITE").await;
    assert_eq!(header(&invite, "Content-Type"), Some("application/sdp"));
    assert_eq!(invite.body, sdp);
    assert_eq!(
        header(&invite, "To"),
        Some("<sip:bob@contoso.com;user=phone>")
    );
    assert!(header(&invite, "From")
        .unwrap()
        .starts_with("\"Alice\" <sip:alice@contoso.com>;tag="));
    assert!(header(&invite, "Contact").is_some());
    let call_id = header(&invite, "Call-ID").unwrap().to_owned();

    server.reply(&invite, "100 Trying", "").await;
    server.reply(&invite, "101 Progress Report", D12006).await;
    server.reply(&invite, "504 Server time-out", D1007).await;
    let ack = server.expect("ACK").await;
    assert_eq!(header(&ack, "CSeq"), Some("1 ACK"));
    assert_eq!(branch(&ack), branch(&invite));

    let failure = calling.await.unwrap().expect_err("the call fails");
    assert_eq!(failure.kind, FailureKind::Rejected(StatusCode(504)));
    let display = failure.display.as_ref().expect("a string to show");
    assert_eq!(
        display.message.as_deref(),
        Some("Operation was unsuccessful.")
    );
    assert_eq!(
        display.message_id.to_string(),
        "lync2010-sip-504-voice-call"
    );
    // A log line of the error leads with the technical cause; the user's
    // string follows (issue 16, item 5).
    assert_eq!(
        failure.to_string(),
        "504 Server time-out, ms-diagnostics 1007 \"Temporarily cannot route\"; \
         the user sees \"Operation was unsuccessful.\""
    );
    let record = failure.record.as_ref().unwrap();
    assert_eq!(record.identity.call_id, call_id);
    let ids: Vec<_> = record
        .diagnostics_by_priority()
        .filter_map(|d| d.error_id())
        .collect();
    assert_eq!(ids, [ErrorId(1007), ErrorId(12006)]);

    // Events: each provisional (the 101 with its diagnostics), the failure,
    // the report.
    let (queued, before) = until(&mut events, |e| matches!(e, UaEvent::ReportQueued { .. })).await;
    let progress: Vec<_> = before
        .iter()
        .filter_map(|e| match e {
            UaEvent::Progress {
                status,
                diagnostics,
                ..
            } => Some((status.0, diagnostics.len())),
            _ => None,
        })
        .collect();
    assert_eq!(progress, [(100, 0), (101, 1)]);
    assert!(before.iter().any(|e| matches!(e,
        UaEvent::Failed { call_id: c, mode: Mode::Voice, action: Action::Call, failure }
            if *c == call_id && failure.status() == Some(StatusCode(504)))));
    let UaEvent::ReportQueued {
        report_id,
        call_id: reported,
    } = queued
    else {
        unreachable!()
    };
    assert_eq!(reported, call_id);

    // The SERVICE: from and to the user, the report of the INVITE.
    let service = server.expect("SERVICE").await;
    assert_eq!(
        header(&service, "Content-Type"),
        Some("application/msrtc-reporterror+xml")
    );
    assert_eq!(header(&service, "To"), Some("<sip:alice@contoso.com>"));
    let report = ErrorReport::parse(&service.body).unwrap();
    assert_eq!(report.call_id, call_id);
    assert_eq!(report.response_code, 504);
    assert_eq!(report.request_type, "INVITE");
    assert_eq!(report.diag_headers.len(), 1);
    assert!(report.diag_headers[0].starts_with("1007;reason=\"Temporarily cannot route\""));
    assert_eq!(report.progress_reports.len(), 1);
    assert!(report.progress_reports[0].starts_with("12006;"));
    server.reply(&service, "200 OK", "").await;
    let (sent, _) = until(&mut events, |e| matches!(e, UaEvent::ReportSent { .. })).await;
    assert!(matches!(sent, UaEvent::ReportSent { report_id: r } if r == report_id));

    let stopping = tokio::spawn(async move { ua.shutdown().await });
    let unregister = server.expect("REGISTER").await;
    server.reply(&unregister, "200 OK", "").await;
    stopping.await.unwrap();
}

#[tokio::test]
async fn the_4_1_flow_over_tcp() {
    flow_4_1(TransportKind::Tcp).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_4_1_flow_over_tcp_on_a_multi_thread_runtime() {
    flow_4_1(TransportKind::Tcp).await;
}

#[tokio::test]
async fn the_4_1_flow_over_udp() {
    flow_4_1(TransportKind::Udp).await;
}

async fn removed_from_the_meeting(kind: TransportKind) {
    let mut server = Server::bind(kind).await;
    let (ua, mut events) = registered(&mut server).await;
    let focus = "sip:bob@contoso.com;gruu;opaque=app:conf:focus:id:X";
    let joining = tokio::spawn({
        let ua = ua.clone();
        async move { ua.join(focus, None, Action::Join).await }
    });
    let invite = server.expect("INVITE").await;
    assert_eq!(start_line(&invite).split(" ").nth(1), Some(focus));
    let contact =
        "Contact: <sip:focus@127.0.0.1:1;transport=tcp>\r\nContent-Type: application/sdp\r\n";
    server
        .send(&response(&invite, "200 OK", contact, "v=0\r\n"))
        .await;
    let ack = server.expect("ACK").await;
    assert_eq!(
        start_line(&ack),
        "ACK sip:focus@127.0.0.1:1;transport=tcp SIP/2.0"
    );
    assert_eq!(header(&ack, "CSeq"), Some("1 ACK"));
    assert!(header(&ack, "To").unwrap().ends_with(";tag=srv1"));
    assert_ne!(branch(&ack), branch(&invite));
    let call = joining.await.unwrap().expect("joined");
    assert_eq!(call.remote_sdp().map(|b| b.as_ref()), Some(&b"v=0\r\n"[..]));
    assert_eq!(call.mode(), Mode::Conference);
    let (_, _) = until(&mut events, |e| matches!(e, UaEvent::Established { .. })).await;

    // The server removes the user: a BYE with 3118.
    let from_tag = header(&invite, "From")
        .unwrap()
        .rsplit("tag=")
        .next()
        .unwrap()
        .to_owned();
    let via = match kind {
        TransportKind::Tcp => "SIP/2.0/TCP 127.0.0.1:1;branch=z9hG4bKsrvbye",
        TransportKind::Udp => "SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bKsrvbye",
        other => unreachable!("the test runs over TCP and UDP, not {other:?}"),
    };
    let bye = format!(
        "BYE sip:alice@127.0.0.1 SIP/2.0\r\nVia: {via}\r\nMax-Forwards: 70\r\n\
         From: <{focus}>;tag=srv1\r\nTo: <sip:alice@contoso.com>;tag={from_tag}\r\n\
         Call-ID: {}\r\nCSeq: 5 BYE\r\n\
         ms-diagnostics: 3118;reason=\"User removed from the conference by the organizer\";source=\"fe.contoso.com\"\r\n\
         Content-Length: 0\r\n\r\n",
        header(&invite, "Call-ID").unwrap()
    );
    server.send(bye.as_bytes()).await;
    let ok = server.response().await;
    assert_eq!(ok.status(), Some(StatusCode::OK));
    assert_eq!(header(&ok, "CSeq"), Some("5 BYE"));
    let (ended, _) = until(&mut events, |e| matches!(e, UaEvent::Ended { .. })).await;
    let UaEvent::Ended {
        by_server,
        display,
        diagnostics,
        call_id,
    } = ended
    else {
        unreachable!()
    };
    assert_eq!(call_id, call.call_id());
    assert!(by_server);
    assert_eq!(diagnostics.len(), 1);
    let display = display.expect("what the user sees");
    assert_eq!(
        display.message.as_deref(),
        Some("You were removed from the meeting.")
    );
    assert_eq!(display.cause, Cause::MsDiagnostic(ErrorId(3118)));
    assert!(!call.is_active());
    // Hanging up an ended call sends nothing.
    call.hangup().await.unwrap();
    assert!(server
        .next_within(Duration::from_millis(200))
        .await
        .is_none());
    drop(ua);
}

#[tokio::test]
async fn a_server_bye_with_3118_over_tcp() {
    removed_from_the_meeting(TransportKind::Tcp).await;
}

#[tokio::test]
async fn a_server_bye_with_3118_over_udp() {
    removed_from_the_meeting(TransportKind::Udp).await;
}

#[tokio::test]
async fn cancel_waits_for_a_provisional_then_cancels() {
    let mut server = Server::bind(TransportKind::Tcp).await;
    let (ua, mut events) = registered(&mut server).await;
    let pending = ua
        .start_call("sip:bob@contoso.com", None, Mode::Voice, Action::Call)
        .await
        .unwrap();
    let invite = server.expect("INVITE").await;
    assert_eq!(pending.call_id(), header(&invite, "Call-ID").unwrap());
    assert!(pending.cancel());
    // No CANCEL before a provisional response (RFC 3261 §9.1).
    assert!(server
        .next_within(Duration::from_millis(200))
        .await
        .is_none());
    server.reply(&invite, "180 Ringing", "").await;
    let cancel = server.expect("CANCEL").await;
    assert_eq!(branch(&cancel), branch(&invite));
    assert_eq!(header(&cancel, "CSeq"), Some("1 CANCEL"));
    assert_eq!(header(&cancel, "Call-ID"), header(&invite, "Call-ID"));
    assert_eq!(
        start_line(&cancel),
        start_line(&invite).replace("INVITE", "CANCEL")
    );
    server.reply(&cancel, "200 OK", "").await;
    server.reply(&invite, "487 Request Terminated", "").await;
    server.expect("ACK").await;
    let failure = pending.established().await.expect_err("cancelled");
    assert_eq!(failure.kind, FailureKind::Local(LocalFailure::Cancelled));
    assert!(failure.display.is_none());
    let (ended, before) = until(&mut events, |e| matches!(e, UaEvent::Ended { .. })).await;
    assert!(matches!(
        ended,
        UaEvent::Ended {
            by_server: false,
            display: None,
            ..
        }
    ));
    assert!(!before
        .iter()
        .any(|e| matches!(e, UaEvent::Failed { .. } | UaEvent::ReportQueued { .. })));
    // Nothing is reported.
    assert!(server
        .next_within(Duration::from_millis(200))
        .await
        .is_none());
    drop(ua);
}

/// Issue 17 item 2: a server that rings (180) and never sends a final
/// response. The INVITE transaction has no timer once a provisional came, so
/// the call waited forever; the ring timeout cancels it, and the call fails
/// with `NoAnswer`, told as `Failed`, not reported.
#[tokio::test]
async fn a_call_ringing_forever_is_cancelled_at_the_ring_timeout() {
    let mut server = Server::bind(TransportKind::Tcp).await;
    let (ua, mut events) = UserAgent::builder("sip:alice@contoso.com", server.target())
        .timers(fast_timers())
        .ring_timeout(Duration::from_millis(300))
        .build()
        .await
        .unwrap();
    let calling = tokio::spawn({
        let ua = ua.clone();
        async move {
            ua.call("sip:bob@contoso.com", None, Mode::Voice, Action::Call)
                .await
        }
    });
    let invite = server.expect("INVITE").await;
    server.reply(&invite, "180 Ringing", "").await;
    let cancel = server.expect("CANCEL").await;
    assert_eq!(branch(&cancel), branch(&invite));
    server.reply(&cancel, "200 OK", "").await;
    server.reply(&invite, "487 Request Terminated", "").await;
    server.expect("ACK").await;
    let failure = calling.await.unwrap().expect_err("not answered");
    assert_eq!(
        failure.kind,
        FailureKind::Local(LocalFailure::NoAnswer(Duration::from_millis(300)))
    );
    assert!(failure.to_string().contains("no answer"), "{failure}");
    let (failed, before) = until(&mut events, |e| matches!(e, UaEvent::Failed { .. })).await;
    let UaEvent::Failed { failure, .. } = failed else {
        unreachable!()
    };
    assert!(matches!(
        failure.kind,
        FailureKind::Local(LocalFailure::NoAnswer(_))
    ));
    assert!(before
        .iter()
        .any(|e| matches!(e, UaEvent::Progress { status, .. } if status.0 == 180)));
    // Not reported: the server did nothing wrong that the record shows.
    assert!(server
        .next_within(Duration::from_millis(200))
        .await
        .is_none());
    drop(ua);
}

#[tokio::test]
async fn hangup_sends_bye_in_the_dialog() {
    let mut server = Server::bind(TransportKind::Tcp).await;
    let (ua, mut events) = registered(&mut server).await;
    let calling = tokio::spawn({
        let ua = ua.clone();
        async move { ua.share("sip:bob@contoso.com", None, Action::Share).await }
    });
    let invite = server.expect("INVITE").await;
    server
        .reply(
            &invite,
            "200 OK",
            "Contact: <sip:bob@127.0.0.1:2;transport=tcp>\r\nRecord-Route: <sip:proxy.contoso.com;lr>\r\n",
        )
        .await;
    server.expect("ACK").await;
    let call = calling.await.unwrap().unwrap();
    assert_eq!(call.mode(), Mode::Sharing);
    assert!(ua.established_call(call.call_id()).is_some());
    let hanging = tokio::spawn({
        let call = call.clone();
        async move { call.hangup().await }
    });
    let bye = server.expect("BYE").await;
    assert_eq!(
        start_line(&bye),
        "BYE sip:bob@127.0.0.1:2;transport=tcp SIP/2.0"
    );
    assert_eq!(header(&bye, "CSeq"), Some("2 BYE"));
    assert_eq!(header(&bye, "Route"), Some("<sip:proxy.contoso.com;lr>"));
    assert!(header(&bye, "To").unwrap().ends_with(";tag=srv1"));
    server.reply(&bye, "200 OK", "").await;
    hanging.await.unwrap().unwrap();
    let (ended, _) = until(&mut events, |e| matches!(e, UaEvent::Ended { .. })).await;
    assert!(matches!(
        ended,
        UaEvent::Ended {
            by_server: false,
            ..
        }
    ));
    assert!(ua.established_call(call.call_id()).is_none());
}

#[tokio::test]
async fn a_refused_connection_shows_the_windows_error() {
    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = closed.local_addr().unwrap();
    drop(closed);
    let target = ocer::ua::transport::Target::new(ocer::ua::transport::TransportKind::Tcp, addr);
    let (ua, mut events) = UserAgent::builder("sip:alice@contoso.com", target)
        .timers(fast_timers())
        .build()
        .await
        .unwrap();
    let failure = ua
        .call("sip:bob@contoso.com", None, Mode::Voice, Action::Call)
        .await
        .expect_err("nothing listens");
    assert!(matches!(failure.kind, FailureKind::Transport(_)));
    assert_eq!(failure.windows, Some(WinError::WSAECONNREFUSED));
    let display = failure.display.expect("a string to show");
    assert_eq!(display.cause, Cause::Windows(WinError::WSAECONNREFUSED));
    // Reported (queued; not sent: not registered).
    let (queued, _) = until(&mut events, |e| matches!(e, UaEvent::ReportQueued { .. })).await;
    assert!(matches!(queued, UaEvent::ReportQueued { .. }));
    ua.shutdown().await;
}

#[tokio::test]
async fn a_challenged_invite_is_sent_again_with_credentials() {
    let mut server = Server::bind(TransportKind::Udp).await;
    let (ua, _events) = UserAgent::builder("sip:alice@contoso.com", server.target())
        .credentials("alice", "secret")
        .timers(fast_timers())
        .build()
        .await
        .unwrap();
    let calling = tokio::spawn({
        let ua = ua.clone();
        async move {
            ua.call("sip:bob@contoso.com", None, Mode::Voice, Action::Call)
                .await
        }
    });
    let invite = server.expect("INVITE").await;
    server
        .reply(
            &invite,
            "407 Proxy Authentication Required",
            &CHALLENGE.replace("WWW-", "Proxy-"),
        )
        .await;
    server.expect("ACK").await;
    let again = server.expect("INVITE").await;
    assert_eq!(header(&again, "CSeq"), Some("2 INVITE"));
    assert_eq!(header(&again, "Call-ID"), header(&invite, "Call-ID"));
    assert_eq!(header(&again, "From"), header(&invite, "From"));
    let auth = header(&again, "Proxy-Authorization").unwrap();
    assert!(auth.contains("uri=\"sip:bob@contoso.com\""), "{auth}");
    server
        .reply(&again, "200 OK", "Contact: <sip:bob@127.0.0.1:3>\r\n")
        .await;
    let ack = server.expect("ACK").await;
    assert_eq!(header(&ack, "CSeq"), Some("2 ACK"));
    let call = calling.await.unwrap().unwrap();
    let hanging = tokio::spawn(async move { call.hangup().await });
    let bye = server.expect("BYE").await;
    assert_eq!(header(&bye, "CSeq"), Some("3 BYE"));
    server.reply(&bye, "200 OK", "").await;
    hanging.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_retransmitted_2xx_gets_its_ack_again_over_udp() {
    let mut server = Server::bind(TransportKind::Udp).await;
    let (ua, _events) = registered(&mut server).await;
    let calling = tokio::spawn({
        let ua = ua.clone();
        async move {
            ua.call("sip:bob@contoso.com", None, Mode::Voice, Action::Call)
                .await
        }
    });
    let invite = server.expect("INVITE").await;
    let ok = response(&invite, "200 OK", "Contact: <sip:bob@127.0.0.1:4>\r\n", "");
    server.send(&ok).await;
    let ack = server.expect("ACK").await;
    let _call = calling.await.unwrap().unwrap();
    // The ACK was lost, as far as the server knows: it sends the 2xx again.
    server.send(&ok).await;
    let again = server.raw_within(LIMIT).await.expect("the ACK again");
    assert_eq!(again.to_string(), ack.to_string());
    drop(ua);
}

/// `PendingCall` is `#[must_use]` and dropping it does not cancel the call
/// (its doc says so): the INVITE goes on, no CANCEL is sent, and the call
/// comes up as an event the app can take from the agent.
#[tokio::test]
async fn dropping_a_pending_call_lets_it_ring_on() {
    let mut server = Server::bind(TransportKind::Tcp).await;
    let (ua, mut events) = registered(&mut server).await;
    let pending = ua
        .start_call("sip:bob@contoso.com", None, Mode::Voice, Action::Call)
        .await
        .unwrap();
    let call_id = pending.call_id().to_owned();
    drop(pending);
    let invite = server.expect("INVITE").await;
    server.reply(&invite, "180 Ringing", "").await;
    server
        .reply(
            &invite,
            "200 OK",
            "Contact: <sip:bob@127.0.0.1:2;transport=tcp>\r\n",
        )
        .await;
    // The next request is the ACK of the 2xx, not a CANCEL.
    server.expect("ACK").await;
    let (established, _) = until(&mut events, |e| matches!(e, UaEvent::Established { .. })).await;
    assert_eq!(established.call_id(), Some(call_id.as_str()));
    let call = ua.established_call(&call_id).expect("kept by the agent");
    drop(call);
    drop(ua);
}
