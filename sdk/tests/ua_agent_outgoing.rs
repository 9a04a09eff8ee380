//! Nothing the SDK sends carries a diagnostics header, and nothing the app
//! passes can smuggle one in: the driver refuses such a request before it
//! is queued, and the user agent refuses targets that could break out of a
//! header.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use ocer::display::{Action, Mode};
use ocer::report::OutgoingError;
use ocer::sip::{FramingLimits, SipMessage};
use ocer::ua::driver::DriverError;
use ocer::ua::{FailureKind, LocalFailure, UserAgent};
use ocer_test_support::prelude::*;

#[tokio::test]
async fn the_driver_refuses_a_request_with_diagnostics() {
    let mut server = Server::bind(TransportKind::Tcp).await;
    let (ua, _events) = UserAgent::builder("sip:alice@contoso.com", server.target())
        .timers(fast_timers())
        .build()
        .await
        .unwrap();
    for name in ["ms-diagnostics", "MS-Diagnostics-Public"] {
        let request = SipMessage::parse(
            format!(
                "OPTIONS sip:contoso.com SIP/2.0\r\nFrom: <sip:alice@contoso.com>;tag=1\r\n\
                 To: <sip:contoso.com>\r\nCall-ID: o1\r\nCSeq: 1 OPTIONS\r\n\
                 {name}: 52169;reason=\"x\"\r\nContent-Length: 0\r\n\r\n"
            )
            .as_bytes(),
            &FramingLimits::default(),
        )
        .unwrap();
        let refused = ua.driver().send_request(request).expect_err("refused");
        assert!(
            matches!(
                refused,
                DriverError::Outgoing(OutgoingError::DiagnosticsHeader(_))
            ),
            "{refused}"
        );
    }
    assert!(server
        .next_within(Duration::from_millis(200))
        .await
        .is_none());
}

#[tokio::test]
async fn targets_that_could_inject_headers_are_refused() {
    let mut server = Server::bind(TransportKind::Udp).await;
    let (ua, _events) = UserAgent::builder("sip:alice@contoso.com", server.target())
        .display_name("Alice\r\nms-diagnostics: 1")
        .timers(fast_timers())
        .build()
        .await
        .unwrap();
    for target in [
        "sip:bob@contoso.com\r\nms-diagnostics: 1007",
        "sip:bob@contoso.com>\r\nX: y",
        "bob",
    ] {
        let failure = ua
            .send_message(target, "hi")
            .await
            .expect_err("not a target");
        assert_eq!(
            failure.kind,
            FailureKind::Local(LocalFailure::InvalidUri(target.to_owned()))
        );
        let failure = ua
            .call(target, None, Mode::Voice, Action::Call)
            .await
            .expect_err("not a target");
        assert!(matches!(
            failure.kind,
            FailureKind::Local(LocalFailure::InvalidUri(_))
        ));
    }
    // A display name cannot break out of From either: the request goes out
    // with the line break removed, and the server sees no diagnostics header.
    let sending = tokio::spawn({
        let ua = ua.clone();
        async move { ua.send_message("sip:bob@contoso.com", "hi").await }
    });
    let message = server.expect("MESSAGE").await;
    assert!(header(&message, "From")
        .unwrap()
        .starts_with("\"Alicems-diagnostics: 1\" <sip:alice@contoso.com>"));
    server.reply(&message, "200 OK", "").await;
    sending.await.unwrap().unwrap();
}

#[tokio::test]
async fn an_aor_that_is_not_a_sip_uri_is_refused() {
    let server = Server::bind(TransportKind::Udp).await;
    for aor in [
        "alice@contoso.com",
        "sip:contoso.com",
        "sip:alice@contoso.com\r\n",
    ] {
        let built = UserAgent::builder(aor, server.target()).build().await;
        assert!(
            matches!(built, Err(ocer::ua::UaError::InvalidAor(_))),
            "{aor}"
        );
    }
}
