//! The hostile-server suite (issue 13, item 2): a scripted server on
//! loopback over UDP, TCP and TLS that floods, stalls, truncates, lies and
//! resets, against the whole user agent (`ocer::ua::UserAgent`).
//!
//! Each case checks that the user agent does not panic, that the operation
//! under attack ends within the RFC 3261 timers (short ones here: T1 = 20 ms,
//! so Timer B is 1.28 s) with a clear `UaEvent::Failed` or result, that only
//! that transaction fails (a MESSAGE afterwards is answered and succeeds),
//! and that the process's resident memory grew by less than [`RSS_BOUND`]
//! over the case (a leak bound, not a measurement: tests run in parallel in
//! one process, so it is generous).
//!
//! Big counts (10,000 `101`s, 100,000 stray responses) run with
//! `OCER_HOSTILE_FULL=1`; CI runs smaller ones that still cross every cap.
//!
//! The peer is `ocer_test_support::peer::Server`, the scripted server of the
//! SDK's own `ua_agent_*` tests, set to accept the user agent's next
//! connection when it closes one, and to wait [`limit`].

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ezk_sip_types::Name;
use ocer::diag::ErrorId;
use ocer::display::{Action, Mode};
use ocer::sip::{SipMessage, StatusCode, TimerConfig, TransportFailureKind};
use ocer::ua::transport::{Target, TransportKind};
use ocer::ua::{Call, Failure, FailureKind, UaEvent, UserAgent};
use ocer_test_support::message::{branch, response, D1007};
use ocer_test_support::peer::Server;
use ocer_test_support::tls::TestCa;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Resident memory a case may add: far below what a leak of the flood would
/// hold (10,000 × 60 KB = 600 MB), far above the noise of parallel tests.
const RSS_BOUND: u64 = 64 * 1024 * 1024;

/// T1 = 20 ms: Timer B and F (64·T1) fire after 1.28 s.
fn timers() -> TimerConfig {
    TimerConfig {
        t1: Duration::from_millis(20),
        t2: Duration::from_millis(160),
        t4: Duration::from_millis(200),
    }
}

/// The longest a step may take: the transaction timers plus a wide margin
/// for a loaded machine (and for the big counts, which a debug build reads
/// for a while). Passing it is a hang.
fn limit() -> Duration {
    Duration::from_secs(if full() { 180 } else { 15 })
}

/// Whether the big counts of the issue run (`OCER_HOSTILE_FULL=1`).
fn full() -> bool {
    std::env::var("OCER_HOSTILE_FULL").is_ok_and(|v| v == "1")
}

/// Resident set size of this process, from `/proc/self/statm` (pages).
fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm");
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .expect("statm's resident field");
    // The kernel's page size; Linux on x86-64 and most aarch64 uses 4 KiB,
    // and a larger page only makes the bound looser.
    pages * 4096
}

/// The hostile server over `kind` (TLS presenting `ca`'s certificate): it
/// accepts the user agent's next connection when one closes, and waits
/// [`limit`] for what it reads.
async fn hostile_server(kind: TransportKind, ca: Option<&TestCa>) -> Server {
    let mut server = Server::bind_with(kind, ca.map(TestCa::acceptor)).await;
    server.reconnect = true;
    server.limit = limit();
    server
}

/// A user agent on `peer` with the short timers and a ring timeout of
/// [`limit`],
/// and its events read as an app would: `Progress` counted, the rest kept.
struct Client {
    ua: UserAgent,
    events: mpsc::UnboundedReceiver<UaEvent>,
    progress: Arc<AtomicUsize>,
}

impl Client {
    async fn new(peer: &Server, tls: Option<Arc<rustls::ClientConfig>>) -> Client {
        Self::on(peer.target(), tls).await
    }

    async fn on(target: Target, tls: Option<Arc<rustls::ClientConfig>>) -> Client {
        let mut builder = UserAgent::builder("sip:alice@contoso.com", target)
            .timers(timers())
            .ring_timeout(limit());
        if let Some(tls) = tls {
            builder = builder.tls_config(tls);
        }
        let (ua, mut ua_events) = builder.build().await.expect("the user agent starts");
        let (tx, events) = mpsc::unbounded_channel();
        let progress = Arc::new(AtomicUsize::new(0));
        let counted = progress.clone();
        tokio::spawn(async move {
            while let Some(event) = ua_events.recv().await {
                if matches!(event, UaEvent::Progress { .. }) {
                    counted.fetch_add(1, Ordering::Relaxed);
                } else if tx.send(event).is_err() {
                    break;
                }
            }
        });
        Client {
            ua,
            events,
            progress,
        }
    }

    fn call(&self) -> JoinHandle<Result<Call, Failure>> {
        let ua = self.ua.clone();
        tokio::spawn(async move {
            ua.call("sip:bob@contoso.com", None, Mode::Voice, Action::Call)
                .await
        })
    }

    /// The `Failed` event of `call_id` (other events passed over).
    async fn failed_event(&mut self, call_id: &str) -> Failure {
        loop {
            let event = tokio::time::timeout(limit(), self.events.recv())
                .await
                .expect("an event in time")
                .expect("the event stream is open");
            if let UaEvent::Failed {
                call_id: id,
                failure,
                ..
            } = event
            {
                if id == call_id {
                    return failure;
                }
            }
        }
    }

    /// Every event that came so far, without waiting.
    fn pending_events(&mut self) -> Vec<UaEvent> {
        let mut events = Vec::new();
        while let Ok(event) = self.events.try_recv() {
            events.push(event);
        }
        events
    }
}

/// The failure of a call that must fail, within [`limit`].
async fn failure_of(call: JoinHandle<Result<Call, Failure>>) -> Failure {
    match tokio::time::timeout(limit(), call)
        .await
        .expect("the call ends in time (no hang)")
        .expect("the call task does not panic")
    {
        Ok(_) => panic!("the call was established"),
        Err(failure) => failure,
    }
}

/// Only the transaction under attack failed: a MESSAGE afterwards reaches
/// the server (over a new connection if the old one was given up) and its
/// 200 makes it succeed.
///
/// A MESSAGE sent in the instant the server closes the connection can go
/// out on the closing one and fail with it (`ConnectionClosed`); as an app
/// would, it is sent once more, which must then succeed.
async fn still_works(peer: &mut Server, client: &Client) {
    for attempt in 0..2 {
        let ua = client.ua.clone();
        let mut sending =
            tokio::spawn(async move { ua.send_message("sip:bob@contoso.com", "hi").await });
        let message = tokio::select! {
            message = peer.request("MESSAGE") => message,
            ended = &mut sending => match ended.unwrap() {
                Err(failure) if attempt == 0 && is_transport(&failure, TransportFailureKind::ConnectionClosed) => continue,
                other => panic!("the MESSAGE ended before reaching the server: {other:?}"),
            },
        };
        peer.try_send(&response(&message, "200 OK", "", ""))
            .await
            .expect("the 200 is sent");
        tokio::time::timeout(limit(), sending)
            .await
            .expect("the MESSAGE ends in time")
            .unwrap()
            .expect("the MESSAGE after the attack succeeds");
        return;
    }
}

/// Runs `case` with RSS sampled before and after.
async fn bounded<F: std::future::Future<Output = ()>>(case: F) {
    let before = rss_bytes();
    case.await;
    let after = rss_bytes();
    assert!(
        after.saturating_sub(before) < RSS_BOUND,
        "resident memory grew from {before} to {after} bytes"
    );
}

fn is_transport(failure: &Failure, kind: TransportFailureKind) -> bool {
    matches!(&failure.kind, FailureKind::Transport(t) if t.kind == kind)
}

fn call_id(request: &SipMessage) -> String {
    request
        .header_value(&Name::CALL_ID)
        .unwrap_or_default()
        .to_owned()
}

/// The INVITE's 504 with ErrorId 1007, until the ACK comes (over UDP the
/// 504 may be lost after a flood and is sent again, as a server would).
async fn reject(peer: &mut Server, invite: &SipMessage) {
    let rejection = response(invite, "504 Server time-out", D1007, "");
    let want = branch(invite);
    let deadline = Instant::now() + limit();
    let stream = peer.is_stream();
    loop {
        peer.try_send(&rejection).await.expect("the 504 is sent");
        let until_ack = async {
            loop {
                let message = peer.raw().await;
                if message.method().map(ToString::to_string).as_deref() == Some("ACK")
                    && branch(&message) == want
                {
                    return;
                }
            }
        };
        // Over a stream the 504 is not lost: wait for the ACK behind
        // whatever the user agent is still reading.
        let wait = if stream {
            limit()
        } else {
            Duration::from_millis(500)
        };
        if tokio::time::timeout(wait, until_ack).await.is_ok() {
            return;
        }
        assert!(Instant::now() < deadline, "no ACK for the 504");
    }
}

/// Runs an async case on a fresh multi-threaded runtime.
fn run<F: std::future::Future<Output = ()>>(case: F) {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(case);
}

/// One peer and one client over `kind` (TLS with a test CA).
async fn setup(kind: TransportKind) -> (Server, Client, Option<TestCa>) {
    let ca = (kind == TransportKind::Tls).then(|| TestCa::new("ocer hostile CA"));
    let peer = hostile_server(kind, ca.as_ref()).await;
    let client = Client::new(&peer, ca.as_ref().map(TestCa::client_config)).await;
    (peer, client, ca)
}

macro_rules! over_every_transport {
    ($case:ident) => {
        mod $case {
            use super::*;
            #[test]
            fn udp() {
                run(bounded(super::$case(TransportKind::Udp)));
            }
            #[test]
            fn tcp() {
                run(bounded(super::$case(TransportKind::Tcp)));
            }
            #[test]
            fn tls() {
                run(bounded(super::$case(TransportKind::Tls)));
            }
        }
    };
}

// ---------------------------------------------------------------------------
// The cases

/// `101`s each with a 60 KB ms-diagnostics header (10,000 with
/// `OCER_HOSTILE_FULL=1`, 200 in CI), then the 504: the record keeps at most
/// the collector's caps (32 progress reports, 32 provisionals) and counts
/// what it dropped.
async fn progress_flood(kind: TransportKind) {
    let (mut peer, mut client, _ca) = setup(kind).await;
    let count = if full() { 10_000 } else { 200 };
    let call = client.call();
    let invite = peer.request("INVITE").await;
    let call_id = call_id(&invite);
    let padding = "x".repeat(60_000);
    let progress = response(
        &invite,
        "101 Progress Report",
        &format!("ms-diagnostics: 12006;reason=\"Trying next hop\";appName=\"{padding}\"\r\n"),
        "",
    );
    for sent in 0..count {
        peer.try_send(&progress).await.expect("a 101 is sent");
        // A datagram flood beyond the socket buffer is only loss; pace it
        // so the caps, not the kernel, do the dropping.
        if !peer.is_stream() && sent % 4 == 3 {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
    reject(&mut peer, &invite).await;
    let failure = failure_of(call).await;
    assert_eq!(failure.kind, FailureKind::Rejected(StatusCode(504)));
    let record = failure.record.as_ref().expect("the transaction's record");
    assert!(
        record.progress.len() <= 32,
        "{} kept",
        record.progress.len()
    );
    assert!(record.provisional.len() <= 32);
    let seen = record.progress.len() + record.dropped.progress_reports as usize;
    if peer.is_stream() {
        assert_eq!(seen, count, "every 101 is kept or counted as dropped");
    }
    // (Over UDP a loaded machine may lose some of the flood: drops are
    // counted once the cap is reached.)
    assert!(
        record.dropped.progress_reports > 0 || (!peer.is_stream() && record.progress.len() < 32),
        "drops are counted"
    );
    let event = client.failed_event(&call_id).await;
    assert_eq!(event.status(), Some(StatusCode(504)));
    assert_eq!(
        event
            .record
            .as_ref()
            .and_then(|r| r.final_diagnostics().next()?.error_id()),
        Some(ErrorId(1007))
    );
    assert!(client.progress.load(Ordering::Relaxed) > 0);
    still_works(&mut peer, &client).await;
}
over_every_transport!(progress_flood);

/// A 504 whose Content-Length promises more than comes, then silence: on a
/// stream the message never completes and the INVITE times out at Timer B;
/// a datagram that lies is malformed, and as it names the INVITE (its
/// branch) it fails the call at once.
async fn content_length_stall(kind: TransportKind) {
    let (mut peer, mut client, _ca) = setup(kind).await;
    let call = client.call();
    let invite = peer.request("INVITE").await;
    let call_id = call_id(&invite);
    let lying = String::from_utf8(response(&invite, "504 Server time-out", D1007, ""))
        .unwrap()
        .replace("Content-Length: 0", "Content-Length: 5000");
    peer.send(format!("{lying}only ten b").as_bytes()).await;
    let failure = failure_of(call).await;
    if peer.is_stream() {
        assert_eq!(failure.kind, FailureKind::Timeout, "{failure}");
    } else {
        // The datagram is malformed but names the INVITE (its branch): it
        // fails the call at once, as the SDK reads a malformed final.
        assert!(
            is_transport(&failure, TransportFailureKind::Framing),
            "{failure}"
        );
    }
    assert_eq!(client.failed_event(&call_id).await.kind, failure.kind);
    // The stream is out of step for good; the server gives up on it and
    // the next request opens a new one.
    peer.close();
    still_works(&mut peer, &client).await;
}
over_every_transport!(content_length_stall);

/// A header line of 2 MB (over UDP, as much as one datagram carries): over
/// the framing limit on a stream, so the connection closes and the call
/// fails with a framing error; a datagram that fits is read.
async fn huge_header_line(kind: TransportKind) {
    let (mut peer, mut client, _ca) = setup(kind).await;
    let call = client.call();
    let invite = peer.request("INVITE").await;
    let call_id = call_id(&invite);
    let size = if peer.is_stream() {
        2 * 1024 * 1024
    } else {
        60_000
    };
    let line = format!("X-Long: {}\r\n", "a".repeat(size));
    let bytes = response(
        &invite,
        "504 Server time-out",
        &format!("{D1007}{line}"),
        "",
    );
    // The user agent may close the connection before all of it is written.
    let _ = peer.try_send(&bytes).await;
    let failure = failure_of(call).await;
    if peer.is_stream() {
        assert!(
            is_transport(&failure, TransportFailureKind::Framing),
            "{failure}"
        );
        peer.close();
    } else {
        assert_eq!(failure.status(), Some(StatusCode(504)), "{failure}");
    }
    let event = client.failed_event(&call_id).await;
    assert_eq!(event.kind, failure.kind);
    still_works(&mut peer, &client).await;
}
over_every_transport!(huge_header_line);

/// Bytes that are not UTF-8 in the reason phrase, a header value and the
/// ms-diagnostics reason.
async fn non_utf8_headers(kind: TransportKind) {
    let (mut peer, mut client, _ca) = setup(kind).await;
    let call = client.call();
    let invite = peer.request("INVITE").await;
    let call_id = call_id(&invite);
    let text = String::from_utf8(response(
        &invite,
        "504 Server REASON",
        "ms-diagnostics: 1007;reason=\"Temporarily DIAG route\";source=\"server.contoso.com\"\r\nX-Junk: JUNK\r\n",
        "",
    ))
    .unwrap();
    let mut bytes = Vec::new();
    for (i, part) in text.split("REASON").enumerate() {
        if i > 0 {
            bytes.extend_from_slice(b"time\xff\xfeout");
        }
        bytes.extend_from_slice(part.as_bytes());
    }
    let text = bytes;
    let mut bytes = Vec::new();
    let mut rest = &text[..];
    while let Some(at) = rest.windows(4).position(|w| w == b"DIAG" || w == b"JUNK") {
        bytes.extend_from_slice(&rest[..at]);
        bytes.extend_from_slice(b"\xc0\xaf\x80\xed\xa0\x80");
        rest = &rest[at + 4..];
    }
    bytes.extend_from_slice(rest);
    peer.send(&bytes).await;
    let failure = failure_of(call).await;
    // The header section is not UTF-8, so not SIP (RFC 3261 §25: TEXT-UTF8):
    // the response is refused, and as it names the INVITE (its branch) the
    // call fails at once, saying why. On a stream only that message is
    // skipped: the connection stays in step and open.
    assert!(
        is_transport(&failure, TransportFailureKind::Framing),
        "{failure}"
    );
    assert!(failure.to_string().contains("not UTF-8"), "{failure}");
    let event = client.failed_event(&call_id).await;
    assert_eq!(event.kind, failure.kind);
    still_works(&mut peer, &client).await;
}
over_every_transport!(non_utf8_headers);

/// A 504 with another transaction's Via branch is not this call's: it is
/// passed over, and the right 504 (ErrorId 1007) ends the call.
async fn wrong_via_branch(kind: TransportKind) {
    let (mut peer, mut client, _ca) = setup(kind).await;
    let call = client.call();
    let invite = peer.request("INVITE").await;
    let call_id = call_id(&invite);
    let good = branch(&invite).expect("a branch");
    let wrong = String::from_utf8(response(
        &invite,
        "486 Busy Here",
        "ms-diagnostics: 1003;reason=\"User does not exist\"\r\n",
        "",
    ))
    .unwrap()
    .replace(&good, "z9hG4bKnotyours");
    peer.send(wrong.as_bytes()).await;
    reject(&mut peer, &invite).await;
    let failure = failure_of(call).await;
    assert_eq!(failure.status(), Some(StatusCode(504)), "{failure}");
    let event = client.failed_event(&call_id).await;
    assert_eq!(
        event
            .record
            .as_ref()
            .and_then(|r| r.final_diagnostics().next()?.error_id()),
        Some(ErrorId(1007))
    );
    still_works(&mut peer, &client).await;
}
over_every_transport!(wrong_via_branch);

/// The final response 50 times: one failure, one `Failed` event, the
/// repeats counted in the record or absorbed by the transaction.
async fn final_repeated(kind: TransportKind) {
    let (mut peer, mut client, _ca) = setup(kind).await;
    let call = client.call();
    let invite = peer.request("INVITE").await;
    let call_id = call_id(&invite);
    let rejection = response(&invite, "504 Server time-out", D1007, "");
    for _ in 0..50 {
        peer.send(&rejection).await;
    }
    let failure = failure_of(call).await;
    assert_eq!(failure.status(), Some(StatusCode(504)));
    let event = client.failed_event(&call_id).await;
    assert_eq!(event.status(), Some(StatusCode(504)));
    still_works(&mut peer, &client).await;
    let again: Vec<_> = client
        .pending_events()
        .into_iter()
        .filter(|e| matches!(e, UaEvent::Failed { call_id: id, .. } if *id == call_id))
        .collect();
    assert!(again.is_empty(), "one Failed per call: {again:?}");
}
over_every_transport!(final_repeated);

/// Half a 504, then the connection closes (over UDP: half a datagram, a
/// malformed response that fails the INVITE it names).
async fn reset_mid_message(kind: TransportKind) {
    let (mut peer, mut client, _ca) = setup(kind).await;
    let call = client.call();
    let invite = peer.request("INVITE").await;
    let call_id = call_id(&invite);
    let rejection = response(&invite, "504 Server time-out", D1007, "");
    peer.send(&rejection[..rejection.len() / 2]).await;
    peer.close();
    let failure = failure_of(call).await;
    if peer.is_stream() {
        assert!(
            matches!(&failure.kind, FailureKind::Transport(t)
                if matches!(t.kind, TransportFailureKind::ConnectionClosed | TransportFailureKind::ConnectionReset)),
            "{failure}"
        );
    } else {
        // Half a datagram still names the INVITE: failed at once as malformed.
        assert!(
            is_transport(&failure, TransportFailureKind::Framing),
            "{failure}"
        );
    }
    assert_eq!(client.failed_event(&call_id).await.kind, failure.kind);
    still_works(&mut peer, &client).await;
}
over_every_transport!(reset_mid_message);

/// One byte a second (two of them): Timer B ends the INVITE while the
/// bytes trickle; nothing waits on the trickle.
async fn one_byte_per_second(kind: TransportKind) {
    let (mut peer, mut client, _ca) = setup(kind).await;
    let call = client.call();
    let invite = peer.request("INVITE").await;
    let call_id = call_id(&invite);
    let rejection = response(&invite, "504 Server time-out", D1007, "");
    let started = Instant::now();
    for byte in &rejection[..2] {
        peer.send(std::slice::from_ref(byte)).await;
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let failure = failure_of(call).await;
    assert_eq!(failure.kind, FailureKind::Timeout, "{failure}");
    assert_eq!(
        client.failed_event(&call_id).await.kind,
        FailureKind::Timeout
    );
    assert!(started.elapsed() < limit());
    peer.close();
    still_works(&mut peer, &client).await;
}
over_every_transport!(one_byte_per_second);

/// Responses to nothing the user agent sent (100,000 with
/// `OCER_HOSTILE_FULL=1`, 2,000 in CI): each is passed over; a call placed
/// during the flood gets its own 504.
async fn stray_responses(kind: TransportKind) {
    let (mut peer, mut client, _ca) = setup(kind).await;
    let count = if full() { 100_000 } else { 2_000 };
    let call = client.call();
    let invite = peer.request("INVITE").await;
    let call_id = call_id(&invite);
    // The INVITE is Proceeding (no Timer B) however long the flood takes.
    peer.send(&response(&invite, "100 Trying", "", "")).await;
    let template = String::from_utf8(response(&invite, "200 OK", "", "")).unwrap();
    let good = branch(&invite).expect("a branch");
    let mut batch = Vec::new();
    for n in 0..count {
        let stray = template
            .replace(&good, &format!("z9hG4bKstray{n}"))
            .replace(&call_id, &format!("stray-{n}@hostile.test"));
        if peer.is_stream() {
            batch.extend_from_slice(stray.as_bytes());
            if batch.len() > 64 * 1024 {
                peer.send(&batch).await;
                batch.clear();
            }
        } else {
            peer.send(stray.as_bytes()).await;
            if n % 32 == 31 {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
    }
    peer.send(&batch).await;
    reject(&mut peer, &invite).await;
    let failure = failure_of(call).await;
    assert_eq!(failure.status(), Some(StatusCode(504)), "{failure}");
    assert_eq!(
        client.failed_event(&call_id).await.status(),
        Some(StatusCode(504))
    );
    still_works(&mut peer, &client).await;
}
over_every_transport!(stray_responses);

/// A 504 with 5,000 Via headers (over UDP, as many as fit a datagram): on a
/// stream that is over the header limit (framing error, connection closed);
/// a datagram that fits is read.
async fn many_vias(kind: TransportKind) {
    let (mut peer, mut client, _ca) = setup(kind).await;
    let call = client.call();
    let invite = peer.request("INVITE").await;
    let call_id = call_id(&invite);
    let count = if peer.is_stream() { 5_000 } else { 1_500 };
    let top = invite.header_value(&Name::VIA).unwrap().to_owned();
    let text = String::from_utf8(response(&invite, "504 Server time-out", D1007, "")).unwrap();
    let mut extra = String::new();
    for n in 0..count {
        extra.push_str(&format!("v: SIP/2.0/UDP h{n};branch=z9hG4bK{n}\r\n"));
    }
    let top_line = format!("Via: {top}\r\n");
    let bytes = text.replacen(&top_line, &format!("{top_line}{extra}"), 1);
    let _ = peer.try_send(bytes.as_bytes()).await;
    let failure = failure_of(call).await;
    if peer.is_stream() {
        assert!(
            is_transport(&failure, TransportFailureKind::Framing),
            "{failure}"
        );
        peer.close();
    } else {
        assert_eq!(failure.status(), Some(StatusCode(504)), "{failure}");
    }
    assert_eq!(client.failed_event(&call_id).await.kind, failure.kind);
    still_works(&mut peer, &client).await;
}
over_every_transport!(many_vias);

/// A reason phrase of 70,000 characters (over UDP, 60,000: a datagram's
/// worth): read over TCP and TLS — within the 128 KiB header limit — and
/// the 504 fails the call.
async fn long_reason(kind: TransportKind) {
    let (mut peer, mut client, _ca) = setup(kind).await;
    let call = client.call();
    let invite = peer.request("INVITE").await;
    let call_id = call_id(&invite);
    let size = if peer.is_stream() { 70_000 } else { 60_000 };
    let reason = "r".repeat(size);
    peer.send(&response(&invite, &format!("504 {reason}"), D1007, ""))
        .await;
    let failure = failure_of(call).await;
    assert_eq!(failure.status(), Some(StatusCode(504)), "{failure}");
    assert_eq!(
        client.failed_event(&call_id).await.status(),
        Some(StatusCode(504))
    );
    still_works(&mut peer, &client).await;
}
over_every_transport!(long_reason);

/// A BYE for a dialog that does not exist is answered 481 (RFC 3261
/// §15.1.2), ends no call and fails nothing.
async fn bye_for_unknown_dialog(kind: TransportKind) {
    let (mut peer, mut client, _ca) = setup(kind).await;
    // The user agent speaks first: a connection (or a datagram source) to
    // send the BYE to.
    still_works(&mut peer, &client).await;
    let bye = format!(
        "BYE sip:alice@127.0.0.1 SIP/2.0\r\n\
         Via: SIP/2.0/{} 127.0.0.1:{};branch=z9hG4bKbye1\r\n\
         From: <sip:bob@contoso.com>;tag=nobody\r\n\
         To: <sip:alice@contoso.com>;tag=nothing\r\n\
         Call-ID: no-such-dialog@hostile.test\r\n\
         CSeq: 7 BYE\r\n\
         Max-Forwards: 70\r\n\
         Content-Length: 0\r\n\r\n",
        match kind {
            TransportKind::Udp => "UDP",
            TransportKind::Tcp => "TCP",
            _ => "TLS",
        },
        peer.addr().port()
    );
    peer.send(bye.as_bytes()).await;
    let answer = loop {
        let message = tokio::time::timeout(limit(), peer.raw())
            .await
            .expect("an answer to the BYE");
        if !message.is_request()
            && message.header_value(&Name::CALL_ID) == Some("no-such-dialog@hostile.test")
        {
            break message;
        }
    };
    assert_eq!(answer.status(), Some(StatusCode(481)), "{answer}");
    still_works(&mut peer, &client).await;
    let ended: Vec<_> = client
        .pending_events()
        .into_iter()
        .filter(|e| matches!(e, UaEvent::Ended { .. } | UaEvent::Failed { .. }))
        .collect();
    assert!(ended.is_empty(), "{ended:?}");
}
over_every_transport!(bye_for_unknown_dialog);

// ---------------------------------------------------------------------------
// TLS peers with certificates the user agent must refuse

/// A TLS server whose handshake the client must refuse, and the client's
/// target and trust; the call fails with `Certificate` and the reason.
async fn refused_certificate(
    acceptor: tokio_rustls::TlsAcceptor,
    server_name: &str,
    trust: Arc<rustls::ClientConfig>,
    reason: &str,
) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let target = Target::new(TransportKind::Tls, listener.local_addr().unwrap())
        .with_server_name(server_name);
    let server = tokio::spawn(async move {
        // Handshakes until the client stops trying; none may succeed.
        while let Ok((tcp, _)) = listener.accept().await {
            assert!(
                acceptor.accept(tcp).await.is_err(),
                "the client accepted a certificate it must refuse"
            );
        }
    });
    let mut client = Client::on(target, Some(trust)).await;
    let call = client.call();
    let failure = failure_of(call).await;
    let FailureKind::Transport(transport) = &failure.kind else {
        panic!("not a transport failure: {failure}");
    };
    assert_eq!(
        transport.kind,
        TransportFailureKind::Certificate,
        "{failure}"
    );
    let said = transport
        .message
        .to_ascii_lowercase()
        .replace([' ', '_'], "");
    assert!(
        said.contains(reason),
        "{reason} not in {:?}",
        transport.message
    );
    let event = loop {
        match tokio::time::timeout(limit(), client.events.recv()).await {
            Ok(Some(UaEvent::Failed { failure, .. })) => break failure,
            Ok(Some(_)) => {}
            other => panic!("no Failed event: {other:?}"),
        }
    };
    assert_eq!(event.kind, failure.kind);
    assert!(
        failure
            .to_string()
            .to_ascii_lowercase()
            .contains("certificate"),
        "{failure}"
    );
    client.ua.shutdown().await;
    server.abort();
}

#[test]
fn tls_expired_certificate_is_refused() {
    run(bounded(async {
        let ca = TestCa::expired("ocer expired CA");
        refused_certificate(ca.acceptor(), "localhost", ca.client_config(), "expired").await;
    }));
}

#[test]
fn tls_certificate_for_another_name_is_refused() {
    run(bounded(async {
        let ca = TestCa::new("ocer hostile CA");
        refused_certificate(
            ca.acceptor(),
            "sip.contoso.com",
            ca.client_config(),
            "notvalidforname",
        )
        .await;
    }));
}

#[test]
fn tls_certificate_of_an_unknown_ca_is_refused() {
    run(bounded(async {
        let server_ca = TestCa::new("ocer unknown CA");
        let trusted = TestCa::new("ocer trusted CA");
        refused_certificate(
            server_ca.acceptor(),
            "localhost",
            trusted.client_config(),
            "unknownissuer",
        )
        .await;
    }));
}

/// The 60 KB `101` flood against an app that reads no events while it
/// lasts: the event queue keeps its capacity and says how many it dropped,
/// and memory stays bounded (a capacity of 64 and 200 `101`s in CI; the
/// default 1,024 and 10,000 with `OCER_HOSTILE_FULL=1`).
#[test]
fn progress_flood_with_events_unread() {
    run(bounded(async {
        let mut peer = hostile_server(TransportKind::Tcp, None).await;
        // CI: a queue of 64 and 200 `101`s; by hand the default 1,024.
        let (capacity, count) = if full() {
            (ocer::ua::DEFAULT_EVENT_CAPACITY, 10_000)
        } else {
            (64, 200)
        };
        let (ua, mut events) = UserAgent::builder("sip:alice@contoso.com", peer.target())
            .timers(timers())
            .ring_timeout(limit())
            .event_capacity(capacity)
            .build()
            .await
            .unwrap();
        let call = tokio::spawn({
            let ua = ua.clone();
            async move {
                ua.call("sip:bob@contoso.com", None, Mode::Voice, Action::Call)
                    .await
            }
        });
        let invite = peer.request("INVITE").await;
        let padding = "x".repeat(60_000);
        let progress = response(
            &invite,
            "101 Progress Report",
            &format!("ms-diagnostics: 12006;reason=\"Trying next hop\";appName=\"{padding}\"\r\n"),
            "",
        );
        for _ in 0..count {
            peer.send(&progress).await;
        }
        reject(&mut peer, &invite).await;
        let failure = failure_of(call).await;
        assert_eq!(failure.status(), Some(StatusCode(504)), "{failure}");
        let first = tokio::time::timeout(limit(), events.recv()).await.unwrap();
        assert!(
            matches!(first, Some(UaEvent::EventsDropped { count }) if count > 0),
            "{first:?}"
        );
    }));
}
