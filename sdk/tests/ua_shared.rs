//! Many members on one `SharedDriver` over UDP against an in-process peer:
//! one socket for all, each member's responses to its own requests, the
//! server's requests to the member they name, members leaving.

#![allow(clippy::unwrap_used, clippy::panic, clippy::expect_used)]

use std::time::Duration;

use ezk_sip_types::Name;
use ocer::ua::driver::{DriverConfig, IncomingRequests, SharedDriver};
use ocer_test_support::prelude::*;

/// A request from the server: Request-URI user `uri_user`, To `to_user`.
fn server_request(method: &str, uri_user: &str, to_user: &str, branch: &str) -> Vec<u8> {
    format!(
        "{method} sip:{uri_user}@127.0.0.1 SIP/2.0\r\n\
         Via: SIP/2.0/UDP 127.0.0.1:5060;branch={branch}\r\n\
         From: <sip:server@contoso.com>;tag=srv1\r\n\
         To: <sip:{to_user}@contoso.com>;tag=ua1\r\n\
         Call-ID: srv-{branch}\r\n\
         CSeq: 5 {method}\r\n\
         Content-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

/// The Call-ID of the next request `incoming` gets within a short wait.
async fn next_call_id(incoming: &mut IncomingRequests) -> Option<String> {
    let request = tokio::time::timeout(Duration::from_millis(300), incoming.recv())
        .await
        .ok()??;
    request
        .request()
        .header_value(&Name::CALL_ID)
        .map(str::to_owned)
}

#[tokio::test]
async fn members_share_one_socket_and_get_their_own_responses_and_requests() {
    let peer = UdpPeer::bind().await;
    let mut config = DriverConfig::new(peer.target());
    config.timers = fast_timers();
    let shared = SharedDriver::start(config).await.unwrap();
    let (alice, mut alice_in) = shared.join("sip:alice@contoso.com", None, None).unwrap();
    let (bob, mut bob_in) = shared.join("sip:bob@contoso.com", None, None).unwrap();
    // The same user twice (two endpoints): a Contact user of its own.
    let (alice2, mut alice2_in) = shared.join("sip:alice@contoso.com", None, None).unwrap();
    assert_eq!(shared.members().await, 3);
    let users = [&alice, &bob, &alice2].map(|d| d.contact_user().unwrap().to_owned());
    assert!(users[0].starts_with("alice-") && users[1].starts_with("bob-"));
    assert_ne!(users[0], users[2]);

    // Requests of all three leave from one socket; each answer reaches the
    // stream of the member that sent it, whatever the order.
    let mut streams = Vec::new();
    for (i, driver) in [&alice, &bob, &alice2].into_iter().enumerate() {
        streams.push(driver.send_request(request("OPTIONS", i)).unwrap());
    }
    let mut received = Vec::new();
    for _ in 0..3 {
        received.push(peer.next().await);
    }
    assert!(received.iter().all(|(_, from)| *from == received[0].1));
    for (i, (message, from)) in received.iter().enumerate().rev() {
        let status = format!("{} OK", 200 + i);
        peer.socket
            .send_to(&response(message, &status, "", ""), from)
            .await
            .unwrap();
    }
    let ua = received[0].1;
    for (i, stream) in streams.iter_mut().enumerate() {
        let events = collect(stream).await;
        let sent = received
            .iter()
            .position(|(m, _)| {
                m.header_value(&Name::CALL_ID) == Some(&format!("call-{i}@ocer.test"))
            })
            .unwrap();
        assert_eq!(statuses(&events), [200 + sent as u16], "{events:?}");
    }

    // By Request-URI: the Contact user of bob, then of the second alice.
    peer.socket
        .send_to(
            &server_request("OPTIONS", &users[1], "nobody", "z9hG4bKb1"),
            ua,
        )
        .await
        .unwrap();
    assert_eq!(
        next_call_id(&mut bob_in).await.as_deref(),
        Some("srv-z9hG4bKb1")
    );
    peer.socket
        .send_to(
            &server_request("OPTIONS", &users[2], "alice", "z9hG4bKa2"),
            ua,
        )
        .await
        .unwrap();
    assert_eq!(
        next_call_id(&mut alice2_in).await.as_deref(),
        Some("srv-z9hG4bKa2")
    );
    // By To, when the Request-URI names no member: the first alice.
    peer.socket
        .send_to(
            &server_request("OPTIONS", "alice", "alice", "z9hG4bKa1"),
            ua,
        )
        .await
        .unwrap();
    assert_eq!(
        next_call_id(&mut alice_in).await.as_deref(),
        Some("srv-z9hG4bKa1")
    );
    assert_eq!(next_call_id(&mut bob_in).await, None);
    assert_eq!(next_call_id(&mut alice2_in).await, None);
    // The answers the members' dropped requests got (200 to OPTIONS).
    for _ in 0..3 {
        let (answer, _) = peer.next().await;
        assert_eq!(answer.status().map(|s| s.0), Some(200));
    }

    // A BYE for nobody: the driver answers it, 481 (no such dialog).
    peer.socket
        .send_to(&server_request("BYE", "carol-9", "carol", "z9hG4bKc1"), ua)
        .await
        .unwrap();
    let (answer, _) = peer.next().await;
    assert_eq!(answer.status().map(|s| s.0), Some(481));

    // Leaving: by shutdown, and by dropping the last handle.
    bob.shutdown().await;
    assert!(bob_in.recv().await.is_none(), "bob's requests end");
    drop(alice2);
    assert!(alice2_in.recv().await.is_none(), "the second alice's end");
    assert_eq!(shared.members().await, 1);
    alice.shutdown().await;
    assert_eq!(shared.members().await, 0);
    // A request for a member that left is the driver's to answer.
    peer.socket
        .send_to(&server_request("BYE", &users[1], "bob", "z9hG4bKb2"), ua)
        .await
        .unwrap();
    let (answer, _) = peer.next().await;
    assert_eq!(answer.status().map(|s| s.0), Some(481));
    shared.shutdown().await;
}
