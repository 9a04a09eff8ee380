//! What the SDK reports back, read with time limits: a driver transaction's
//! events, and a user agent's events (one at a time, or kept in [`Events`]
//! to be printed when a wait fails).

use std::time::Duration;

use ocer::sip::{SipMessage, TransactionEvent};
use ocer::ua::driver::ResponseStream;
use ocer::ua::outbox::ReportId;
use ocer::ua::{UaEvent, UaEvents};

use crate::LIMIT;

/// Status codes of the responses in `events`.
pub fn statuses(events: &[TransactionEvent]) -> Vec<u16> {
    events
        .iter()
        .filter_map(|e| match e {
            TransactionEvent::Response(r) => r.status().map(|s| s.0),
            _ => None,
        })
        .collect()
}

/// The responses of `events`, or a panic naming what else came.
pub fn responses(events: &[TransactionEvent]) -> Vec<&SipMessage> {
    events
        .iter()
        .map(|e| match e {
            TransactionEvent::Response(r) => r,
            other => panic!("expected only responses, got {other:?} in {events:?}"),
        })
        .collect()
}

/// The next event of a transaction, within `limit`.
async fn next(stream: &mut ResponseStream, limit: Duration) -> TransactionEvent {
    tokio::time::timeout(limit, stream.recv())
        .await
        .expect("the transaction ends in time")
        .expect("the stream ends with Terminated")
}

/// Every event of a transaction, until `Terminated` (which is included).
pub async fn collect(stream: &mut ResponseStream) -> Vec<TransactionEvent> {
    let mut events = Vec::new();
    loop {
        let event = next(stream, LIMIT).await;
        let last = matches!(event, TransactionEvent::Terminated);
        events.push(event);
        if last {
            return events;
        }
    }
}

/// Every event of a transaction up to its final response, timeout or
/// transport error, each within `limit`. Over UDP an INVITE transaction
/// stays Completed for Timer D (32 s, whatever T1) after a non-2xx final to
/// absorb retransmissions; the app has its answer before that, so
/// `Terminated` is not waited for.
pub async fn collect_until_final(
    stream: &mut ResponseStream,
    limit: Duration,
) -> Vec<TransactionEvent> {
    let mut events = Vec::new();
    loop {
        let event = next(stream, limit).await;
        let last = match &event {
            TransactionEvent::Response(r) => r.status().is_some_and(|s| s.is_final()),
            _ => true,
        };
        events.push(event);
        if last {
            return events;
        }
    }
}

/// The next user-agent event, within [`LIMIT`].
pub async fn event(events: &mut UaEvents) -> UaEvent {
    tokio::time::timeout(LIMIT, events.recv())
        .await
        .expect("an event in time")
        .expect("the event stream is open")
}

/// Events until one matches `pred` (returned); the others are returned too,
/// in order.
pub async fn until(
    events: &mut UaEvents,
    mut pred: impl FnMut(&UaEvent) -> bool,
) -> (UaEvent, Vec<UaEvent>) {
    let mut before = Vec::new();
    loop {
        let e = event(events).await;
        if pred(&e) {
            return (e, before);
        }
        before.push(e);
    }
}

/// A user agent's events, read with time limits, and every one seen so far
/// (printed when a wait fails).
pub struct Events {
    events: UaEvents,
    /// Every event read, in order.
    pub seen: Vec<UaEvent>,
}

impl Events {
    /// Watches `events`.
    pub fn new(events: UaEvents) -> Self {
        Self {
            events,
            seen: Vec::new(),
        }
    }

    /// Reads events until `pick` returns `Some`, within [`LIMIT`].
    pub async fn wait_for<T>(
        &mut self,
        what: &str,
        mut pick: impl FnMut(&UaEvent) -> Option<T>,
    ) -> T {
        let deadline = tokio::time::Instant::now() + LIMIT;
        loop {
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Some(event)) => {
                    let picked = pick(&event);
                    self.seen.push(event);
                    if let Some(value) = picked {
                        return value;
                    }
                }
                Ok(None) => panic!("the events ended before {what}; seen: {:#?}", self.seen),
                Err(_) => panic!("no {what} within {LIMIT:?}; seen: {:#?}", self.seen),
            }
        }
    }

    /// Waits for the report of the failed request `call_id` to be queued,
    /// then sent (the server's 2xx); its report id.
    pub async fn report_delivered(&mut self, call_id: &str) -> ReportId {
        let report_id = self
            .wait_for("ReportQueued for the failed request", |e| match e {
                UaEvent::ReportQueued {
                    report_id,
                    call_id: c,
                } if c == call_id => Some(*report_id),
                _ => None,
            })
            .await;
        self.wait_for("ReportSent", |e| match e {
            UaEvent::ReportSent { report_id: r } if *r == report_id => Some(()),
            _ => None,
        })
        .await;
        report_id
    }

    /// Reads events for `window`, failing on any that `forbidden` matches.
    pub async fn quiet_for(
        &mut self,
        window: Duration,
        what: &str,
        forbidden: impl Fn(&UaEvent) -> bool,
    ) {
        let deadline = tokio::time::Instant::now() + window;
        while let Ok(Some(event)) = tokio::time::timeout_at(deadline, self.events.recv()).await {
            let bad = forbidden(&event);
            self.seen.push(event);
            assert!(!bad, "{what} within {window:?}; seen: {:#?}", self.seen);
        }
    }

    /// Reads what is left after shutdown, until the stream ends.
    pub async fn drain(&mut self) {
        while let Ok(Some(event)) = tokio::time::timeout(LIMIT, self.events.recv()).await {
            self.seen.push(event);
        }
    }
}
