//! Registration: digest challenge, refresh before expiry, unregister at
//! shutdown, and the login session over TCP and UDP.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod ua_agent_support;

use std::time::Duration;

use ocer::ua::{RegistrationState, UaEvent, UserAgent};
use ua_agent_support::*;

async fn register_with_digest(kind: Kind) {
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
    register_with_digest(Kind::Tcp).await;
}

#[tokio::test]
async fn register_with_digest_udp() {
    register_with_digest(Kind::Udp).await;
}
