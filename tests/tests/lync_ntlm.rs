//! Interop: the `ocer` UserAgent signs in with MS-SIPAE NTLM to a Lync-like
//! registrar whose NTLM side is Python `pyspnego`
//! (`tests/peers/lync_registrar.py`), over TCP and over TLS (stunnel in
//! front), then plays the MS-OCER 4.1 flow (INVITE → 101 with 12006 → 504
//! with 1007) and sends the error report in a signed SERVICE.
//!
//! The peer checks every request's signature (and, for each one, that a
//! tampered copy and a replay are refused); it signs its responses, which the
//! user agent verifies. A wrong password fails the sign-in.
//!
//! Needs python3 with pyspnego, and stunnel: run `scripts/install-test-deps`.

#![allow(clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use ocer::display::{Action, Mode};
use ocer::sip::StatusCode;
use ocer::ua::transport::{Target, TransportKind};
use ocer::ua::{AuthMode, FailureKind, UaEvent, UserAgent};
use ocer_interop::lync_peer::{count, LyncPeer, LyncPeerConfig};
use ocer_interop::stunnel::{Stunnel, StunnelConfig, TestCa};
use ocer_test_support::events::Events;
use ocer_test_support::sipp::agent::{sdp_offer, AOR, BOB, STEP};
use ocer_test_support::timers::{sipp_agent_timers, test_retry_policy};
use ocer_test_support::tls::trusting;

/// The peer, stunnel in front of it for TLS, and how to reach them.
struct Pool {
    /// Declared first: stunnel goes before the peer (kept for its drop).
    _stunnel: Option<Stunnel>,
    peer: LyncPeer,
    target: Target,
    tls: Option<Arc<rustls::ClientConfig>>,
}

fn pool(tls: bool) -> Pool {
    pool_with(tls, LyncPeerConfig::default())
}

fn pool_with(tls: bool, config: LyncPeerConfig) -> Pool {
    let peer = LyncPeer::start(&config).unwrap_or_else(|e| panic!("{e}"));
    if !tls {
        return Pool {
            target: Target::new(TransportKind::Tcp, peer.addr()),
            _stunnel: None,
            peer,
            tls: None,
        };
    }
    let ca = TestCa::generate().unwrap_or_else(|e| panic!("{e}"));
    let stunnel = Stunnel::start(
        peer.addr(),
        &ca,
        &StunnelConfig {
            run_limit: Duration::from_secs(60),
            ..StunnelConfig::default()
        },
    )
    .unwrap_or_else(|e| panic!("{e}"));
    Pool {
        target: Target::new(TransportKind::Tls, stunnel.addr()).with_server_name("localhost"),
        _stunnel: Some(stunnel),
        peer,
        tls: Some(trusting(&ca)),
    }
}

async fn agent(pool: &Pool, password: &str, mode: AuthMode) -> (UserAgent, Events) {
    let mut builder = UserAgent::builder(AOR, pool.target.clone())
        .display_name("Alice")
        .credentials("CONTOSO\\alice", password)
        .auth_mode(mode)
        .timers(sipp_agent_timers())
        .retry_policy(test_retry_policy())
        .register_expires(Duration::from_secs(3600));
    if let Some(tls) = &pool.tls {
        builder = builder.tls_config(tls.clone());
    }
    let (ua, events) = builder.build().await.unwrap_or_else(|e| panic!("{e}"));
    (ua, Events::new(events))
}

async fn signs_in_and_reports(tls: bool) {
    let pool = pool(tls);
    let (ua, mut events) = agent(&pool, "secret", AuthMode::Auto).await;
    tokio::time::timeout(STEP, ua.register())
        .await
        .expect("register resolves")
        .unwrap_or_else(|f| panic!("sign-in failed: {f}\n{:#?}", pool.peer.verdicts()));

    let failure = tokio::time::timeout(
        STEP,
        ua.call(BOB, Some(sdp_offer()), Mode::Voice, Action::Call),
    )
    .await
    .expect("the call resolves")
    .map(|_| ())
    .expect_err("the 4.1 call fails");
    assert_eq!(
        failure.kind,
        FailureKind::Rejected(StatusCode(504)),
        "{failure:?}"
    );
    let record = failure.record.as_ref().expect("the INVITE's record");
    let statuses: Vec<u16> = record.provisional.iter().map(|p| p.status.0).collect();
    assert_eq!(statuses, [100, 101], "signed 101 accepted: {record:?}");
    events
        .wait_for("ReportSent", |e| {
            matches!(e, UaEvent::ReportSent { .. }).then_some(())
        })
        .await;
    tokio::time::timeout(STEP, ua.shutdown())
        .await
        .expect("shutdown");
    events.drain().await;

    let v = pool.peer.verdicts();
    let all = v.join("\n");
    // The handshake (NTLM chosen over the Digest offered alongside),
    // REGISTER, INVITE and SERVICE signed and verified, the 504's report
    // received, tampered and replayed copies refused.
    pool.peer.assert_signed_in_with_ntlm();
    assert!(count(&v, r#""expires": "0""#) >= 1, "the unregister\n{all}");
    // RFC 5627 / MS-SIPAE 4.1: the REGISTER asked for a GRUU, and the
    // SERVICE of MS-OCER 4.1 uses it as Contact, with the epid on From.
    assert!(count(&v, r#""supported": "gruu-10""#) >= 1, "{all}");
    assert!(
        count(
            &v,
            r#""event": "service", "content_type": "application/msrtc-reporterror+xml", "contact": "<sip:alice@contoso.com;opaque=user:epid:"#
        ) == 1,
        "{all}"
    );
    assert!(count(&v, ";epid=") >= 1, "{all}");
    // The unregister is signed and checked for tampering and replay too.
    assert!(
        count(&v, "tamper-check") >= 3,
        "INVITE, SERVICE, unregister: {all}"
    );
    drop(pool);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ntlm_sign_in_report_over_tcp() {
    signs_in_and_reports(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ntlm_sign_in_report_over_tls() {
    signs_in_and_reports(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ntlm_wrong_password_fails_the_sign_in() {
    let pool = pool(false);
    let (ua, mut events) = agent(&pool, "wrong", AuthMode::Ntlm).await;
    let failure = tokio::time::timeout(STEP, ua.register())
        .await
        .expect("register resolves")
        .expect_err("a wrong password is refused");
    assert_eq!(
        failure.kind,
        FailureKind::Rejected(StatusCode(401)),
        "{failure:?}"
    );
    let display = failure.display.as_ref().expect("what the user sees");
    // MS-OCER Appendix D has no sign-in strings: a refused REGISTER shows
    // Lync 2010's own sign-in text (locales/README.md, "Sign-in strings").
    assert_eq!(
        display.message_id.to_string(),
        "lync2010-sip-401-other-sign-in",
        "{display:?}"
    );
    assert!(
        display
            .message
            .as_deref()
            .is_some_and(|m| m.starts_with("Cannot sign in. You may have entered")),
        "{display:?}"
    );
    tokio::time::timeout(STEP, ua.shutdown())
        .await
        .expect("shutdown");
    events.drain().await;
    let v = pool.peer.verdicts();
    let all = v.join("\n");
    assert_eq!(
        count(&v, r#""event": "authenticate", "ok": false"#),
        1,
        "{all}"
    );
    assert_eq!(
        count(&v, r#""event": "authenticate", "ok": true"#),
        0,
        "{all}"
    );
}

/// After the security association, responses that are unsigned or badly
/// signed are refused: two forged 200 OKs to the INVITE do not establish a
/// call; the signed 504 ends it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ntlm_unsigned_or_forged_responses_are_refused() {
    let pool = pool_with(
        false,
        LyncPeerConfig {
            forge_invite_answers: true,
            ..LyncPeerConfig::default()
        },
    );
    let (ua, mut events) = agent(&pool, "secret", AuthMode::Ntlm).await;
    tokio::time::timeout(STEP, ua.register())
        .await
        .expect("register resolves")
        .unwrap_or_else(|f| panic!("sign-in failed: {f}"));
    let result = tokio::time::timeout(
        STEP,
        ua.call(BOB, Some(sdp_offer()), Mode::Voice, Action::Call),
    )
    .await
    .expect("the call resolves");
    let failure = match result {
        Ok(_) => panic!("a forged 200 OK established the call"),
        Err(failure) => failure,
    };
    assert_eq!(
        failure.kind,
        FailureKind::Rejected(StatusCode(504)),
        "{failure:?}"
    );
    tokio::time::timeout(STEP, ua.shutdown())
        .await
        .expect("shutdown");
    events.drain().await;
    let v = pool.peer.verdicts();
    assert_eq!(count(&v, r#""event": "forged""#), 2, "{}", v.join("\n"));
}
