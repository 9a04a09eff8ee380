//! What the `sipp_ua_*` tests share: the requests the driver sends to SIPp,
//! the driver set up for a test, and the checks on what came back.

use std::sync::Arc;
use std::time::Duration;

use ocer::sip::{FramingLimits, SipMessage, TransactionEvent};
use ocer::ua::driver::Driver;
use ocer::ua::transport::Target;
use ocer_interop::sipp::{SippLogs, SippPeer};
use ocer_interop::wire::{fresh_call_id, OutgoingRequest};

use crate::events::{collect_until_final, responses, statuses};
use crate::message::header;
use crate::timers::sipp_driver_timers;

/// The longest a single step (one transaction, SIPp's exit) may take.
pub const LIMIT: Duration = Duration::from_secs(20);

/// The MS-OCER 4.1 INVITE with a fresh Call-ID and no Via (the driver adds
/// its own).
pub fn invite() -> SipMessage {
    let mut invite = OutgoingRequest::ms_ocer_4_1_invite().expect("the 4.1 INVITE fixture");
    invite.remove_header("Via");
    invite.set_header("Call-ID", fresh_call_id());
    SipMessage::parse(&invite.to_bytes(), &FramingLimits::default()).expect("the INVITE parses")
}

/// A driver toward `target` with [`sipp_driver_timers`], and TLS trusting
/// `tls`.
pub async fn start(target: Target, tls: Option<Arc<rustls::ClientConfig>>) -> Driver {
    let (driver, incoming) = crate::driver::start(target, tls, sipp_driver_timers()).await;
    // SIPp sends no requests; the driver would answer any itself.
    drop(incoming);
    driver
}

/// The events of a transaction up to its final response, timeout or
/// transport error, each within [`LIMIT`].
pub async fn until_final(stream: &mut ocer::ua::driver::ResponseStream) -> Vec<TransactionEvent> {
    collect_until_final(stream, LIMIT).await
}

/// The MS-OCER 4.1 exchange as the invite_progress_504 scenarios play it:
/// 100, then 101 with ms-diagnostics 12006, then 504 with ms-diagnostics
/// 1007, in that order.
pub fn check_invite_504(events: &[TransactionEvent]) {
    let responses = responses(events);
    assert_eq!(statuses(events), [100, 101, 504], "{events:?}");
    let diagnostics = |r: &SipMessage| header(r, "ms-diagnostics").unwrap_or_default().to_owned();
    assert!(
        diagnostics(responses[1]).starts_with("12006;"),
        "{events:?}"
    );
    assert!(diagnostics(responses[2]).starts_with("1007;"), "{events:?}");
}

/// Waits (off the async threads) for SIPp to finish every call, and checks
/// that it did and that it received `acks` ACKs.
pub async fn sipp_saw_every_call(peer: SippPeer, acks: usize) -> SippLogs {
    tokio::task::spawn_blocking(move || sipp_played_every_call(peer, acks, LIMIT))
        .await
        .expect("the waiting thread")
}

/// Waits up to `limit` (blocking) for SIPp to exit, and checks that it
/// played every call through and received `acks` ACKs (one per call the
/// INVITE scenarios fail).
pub fn sipp_played_every_call(peer: SippPeer, acks: usize, limit: Duration) -> SippLogs {
    let logs = peer
        .wait(limit)
        .and_then(|run| run.into_success())
        .unwrap_or_else(|e| panic!("{e}"));
    let received = logs
        .messages
        .matches("ACK sip:bob@contoso.com;user=phone SIP/2.0")
        .count();
    assert_eq!(received, acks, "ACKs in SIPp's message log\n{logs}");
    logs
}

/// Runs `calls` INVITE transactions, `in_flight` at a time, and checks
/// each one's events with [`check_invite_504`].
pub async fn run_invites(driver: &Driver, calls: usize, in_flight: usize) {
    let mut sent = 0;
    let mut running = tokio::task::JoinSet::new();
    while sent < calls || !running.is_empty() {
        while sent < calls && running.len() < in_flight {
            let mut stream = driver.send_request(invite()).expect("the request is sent");
            running.spawn(async move { until_final(&mut stream).await });
            sent += 1;
        }
        let events = running
            .join_next()
            .await
            .expect("a running transaction")
            .expect("the transaction task");
        check_invite_504(&events);
    }
}
