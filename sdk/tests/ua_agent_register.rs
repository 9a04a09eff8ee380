//! Registration: digest challenge, refresh before expiry, unregister at
//! shutdown, and the login session over TCP and UDP.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use ocer::ua::{RegistrationState, UaEvent, UserAgent};
use ocer_test_support::prelude::*;

async fn register_with_digest(kind: TransportKind) {
    let mut server = Server::bind(kind).await;
    let (ua, mut events) = UserAgent::builder("sip:alice@contoso.com", server.target())
        .credentials("alice", "secret")
        .timers(fast_timers())
        .register_expires(Duration::from_secs(2))
        .build()
        .await
        .unwrap();
    let registering = tokio::spawn({
        let ua = ua.clone();
        async move { ua.register().await }
    });

    let first = server.expect("REGISTER").await;
    assert_eq!(header(&first, "Expires"), Some("2"));
    assert!(header(&first, "Authorization").is_none());
    let contact = header(&first, "Contact").unwrap().to_owned();
    assert!(contact.starts_with("<sip:alice@127.0.0.1:"), "{contact}");
    server.reply(&first, "401 Unauthorized", CHALLENGE).await;

    let second = server.expect("REGISTER").await;
    let auth = header(&second, "Authorization")
        .expect("credentials")
        .to_owned();
    for part in [
        "Digest",
        "username=\"alice\"",
        "realm=\"contoso.com\"",
        "nonce=\"4f1b2c3d\"",
        "response=",
    ] {
        assert!(auth.contains(part), "{part} in {auth}");
    }
    assert_eq!(header(&second, "Call-ID"), header(&first, "Call-ID"));
    assert_eq!(header(&second, "CSeq"), Some("2 REGISTER"));
    server
        .reply(
            &second,
            "200 OK",
            &format!("Contact: {contact};expires=2\r\n"),
        )
        .await;
    registering.await.unwrap().expect("registered");

    let (registered, _) = until(&mut events, |e| {
        matches!(
            e,
            UaEvent::Registration(RegistrationState::Registered { .. })
        )
    })
    .await;
    let UaEvent::Registration(RegistrationState::Registered { expires }) = registered else {
        unreachable!()
    };
    assert_eq!(expires, Duration::from_secs(2));

    // The refresh comes before the 2 s are over (at half), with the same
    // Call-ID and the registrar's credentials.
    let started = tokio::time::Instant::now();
    let refresh = server.expect("REGISTER").await;
    assert!(started.elapsed() < Duration::from_millis(1900));
    assert_eq!(header(&refresh, "Call-ID"), header(&first, "Call-ID"));
    assert_eq!(header(&refresh, "CSeq"), Some("3 REGISTER"));
    assert!(header(&refresh, "Authorization").is_some());
    server
        .reply(
            &refresh,
            "200 OK",
            &format!("Contact: {contact};expires=2\r\n"),
        )
        .await;

    // Shutdown unregisters.
    let stopping = tokio::spawn({
        let ua = ua.clone();
        async move { ua.shutdown().await }
    });
    let bye = server.expect("REGISTER").await;
    assert_eq!(header(&bye, "Expires"), Some("0"));
    server.reply(&bye, "200 OK", "").await;
    tokio::time::timeout(LIMIT, stopping)
        .await
        .unwrap()
        .unwrap();
    let (_, _) = until(&mut events, |e| {
        matches!(e, UaEvent::Registration(RegistrationState::Unregistered))
    })
    .await;
    // The stream ends after shutdown.
    while let Some(_e) = tokio::time::timeout(LIMIT, events.recv()).await.unwrap() {}
}

#[tokio::test]
async fn register_with_digest_tcp() {
    register_with_digest(TransportKind::Tcp).await;
}

#[tokio::test]
async fn register_with_digest_udp() {
    register_with_digest(TransportKind::Udp).await;
}

/// A failed refresh ends the login session: reports wait; registering again
/// starts a new session, which sends them.
#[tokio::test]
async fn a_failed_refresh_ends_the_login_session() {
    let mut server = Server::bind(TransportKind::Tcp).await;
    let (ua, mut events) = UserAgent::builder("sip:alice@contoso.com", server.target())
        .timers(fast_timers())
        .register_expires(Duration::from_secs(2))
        .build()
        .await
        .unwrap();
    let registering = tokio::spawn({
        let ua = ua.clone();
        async move { ua.register().await }
    });
    let register = server.expect("REGISTER").await;
    server.reply(&register, "200 OK", "Expires: 2\r\n").await;
    registering.await.unwrap().unwrap();

    let refresh = server.expect("REGISTER").await;
    server
        .reply(
            &refresh,
            "500 Server Internal Error",
            "ms-diagnostics: 1000;reason=\"Final handshake failed\"\r\n",
        )
        .await;
    let (failed, _) = until(&mut events, |e| {
        matches!(e, UaEvent::Registration(RegistrationState::Failed(_)))
    })
    .await;
    let UaEvent::Registration(RegistrationState::Failed(failure)) = failed else {
        unreachable!()
    };
    assert_eq!(failure.status().map(|s| s.0), Some(500));
    assert!(failure.display.is_some());
    // No more refreshes after a failure.
    assert!(server
        .next_within(Duration::from_millis(1500))
        .await
        .is_none());

    // The failed refresh was reported; it waits for a session. Register
    // again: a new session, and the report goes out.
    let (queued, _) = until(&mut events, |e| matches!(e, UaEvent::ReportQueued { .. })).await;
    let UaEvent::ReportQueued { call_id, .. } = queued else {
        unreachable!()
    };
    assert_eq!(Some(call_id.as_str()), header(&refresh, "Call-ID"));
    let registering = tokio::spawn({
        let ua = ua.clone();
        async move { ua.register().await }
    });
    let again = server.expect("REGISTER").await;
    server.reply(&again, "200 OK", "Expires: 60\r\n").await;
    registering.await.unwrap().unwrap();
    let service = server.expect("SERVICE").await;
    let report = ocer::report::ErrorReport::parse(&service.body).unwrap();
    assert_eq!(
        (report.request_type.as_ref(), report.response_code),
        ("REGISTER", 500)
    );
    server.reply(&service, "200 OK", "").await;
    until(&mut events, |e| matches!(e, UaEvent::ReportSent { .. })).await;
}

#[tokio::test]
async fn a_registrar_that_refuses_twice_fails_registration() {
    let mut server = Server::bind(TransportKind::Udp).await;
    let (ua, _events) = UserAgent::builder("sip:alice@contoso.com", server.target())
        .credentials("alice", "wrong")
        .timers(fast_timers())
        .build()
        .await
        .unwrap();
    let registering = tokio::spawn({
        let ua = ua.clone();
        async move { ua.register().await }
    });
    let first = server.expect("REGISTER").await;
    server.reply(&first, "401 Unauthorized", CHALLENGE).await;
    let second = server.expect("REGISTER").await;
    assert!(header(&second, "Authorization").is_some());
    server
        .reply(
            &second,
            "401 Unauthorized",
            &CHALLENGE.replace("4f1b2c3d", "5a6b7c8d"),
        )
        .await;
    let failure = registering.await.unwrap().expect_err("refused");
    assert_eq!(failure.status().map(|s| s.0), Some(401));
    // Once only: no third REGISTER.
    assert!(server
        .next_within(Duration::from_millis(300))
        .await
        .is_none());
}

#[test]
fn handles_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<UserAgent>();
    check::<ocer::ua::Call>();
    check::<ocer::ua::PendingCall>();
    check::<ocer::ua::CallCanceller>();
    check::<ocer::ua::Failure>();
    check::<ocer::ua::UaEvent>();
}
