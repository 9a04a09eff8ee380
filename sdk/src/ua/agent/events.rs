//! What the user agent tells the app: [`UaEvent`]s, in the order they
//! happened, from one [`UaEvents`] stream.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use super::lock;

use super::failure::Failure;
use crate::diag::ObservedDiagnostic;
use crate::display::{Action, DisplayError, Mode};
use crate::report::{DiscardReason, DocumentError, LimitError, SuspendReason};
use crate::sip::{StatusCode, TransportFailure};
use crate::ua::driver::TargetFailure;
use crate::ua::outbox::{OutboxError, ReportId};
use crate::ua::transport::Target;

/// The state of the registration (the login session's REGISTER).
#[derive(Debug, Clone)]
#[non_exhaustive]
#[allow(clippy::large_enum_variant)] // events are few; see `Failure`
pub enum RegistrationState {
    /// A REGISTER is on its way (the first one, or a refresh).
    Registering,
    /// The server accepted it for this long; the user agent refreshes it
    /// before then.
    Registered {
        /// What the server granted.
        expires: Duration,
    },
    /// It failed (the first REGISTER, or a refresh): the login session is
    /// over; a later [`register`](super::UserAgent::register) starts a new one.
    Failed(Failure),
    /// Unregistered (REGISTER with `Expires: 0`), or never registered.
    Unregistered,
}

/// One thing that happened. Calls, IMs, joins and shares are named by the
/// Call-ID of their request.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum UaEvent {
    /// The registration changed state.
    Registration(RegistrationState),
    /// A provisional response to an INVITE (each one: `100 Trying`, every
    /// `101 Progress Report`, `180 Ringing` …), with the diagnostics it
    /// carried.
    Progress {
        /// The call.
        call_id: String,
        /// Its status.
        status: StatusCode,
        /// Its reason phrase, as sent.
        reason: String,
        /// Its `ms-diagnostics` / `ms-diagnostics-public` headers.
        diagnostics: Vec<ObservedDiagnostic>,
        /// What the user sees while the call connects, if one of them has a
        /// string in the call's mode (Lync's "This call may take longer to
        /// connect…" for ErrorId 5): progress, not the failure (MS-OCER
        /// 9.1.1 as `ARCHITECTURE.md` reads it).
        display: Option<DisplayError>,
    },
    /// The call is up: a 2xx came and the ACK went out.
    Established {
        /// The call.
        call_id: String,
    },
    /// A call, IM, join, share (or the hang-up of one) failed. `failure`
    /// has what the user sees and the transaction's record.
    Failed {
        /// The request's Call-ID.
        call_id: String,
        /// What the user was doing.
        mode: Mode,
        /// What the user was doing, within the mode.
        action: Action,
        /// Why.
        failure: Failure,
    },
    /// A call ended: hung up here, cancelled here, or ended by the server
    /// (a BYE, or a CANCEL), in which case `display` is what the user sees
    /// for the diagnostics it carried (e.g. 3118, "You were removed from the
    /// meeting.").
    Ended {
        /// The call.
        call_id: String,
        /// Whether the server ended it.
        by_server: bool,
        /// What to show, if the server said why.
        display: Option<DisplayError>,
        /// The diagnostics of the server's BYE or CANCEL.
        diagnostics: Vec<ObservedDiagnostic>,
    },
    /// An error report was stored in the outbox, to be sent by SERVICE.
    ReportQueued {
        /// The report's id in the outbox (shown as 16 hex digits).
        report_id: ReportId,
        /// The Call-ID of the failed request it reports.
        call_id: String,
    },
    /// The server took a report (2xx to its SERVICE).
    ReportSent {
        /// The report's id.
        report_id: ReportId,
    },
    /// A report will never be sent.
    ReportDropped {
        /// The report's id; `None` if it was never stored (vetoed by the
        /// app's hook, or refused by the limits or the outbox).
        report_id: Option<ReportId>,
        /// Why: 413, attempts exhausted, vetoed by the app's hook … (its
        /// `Display` is the sentence for people).
        why: ReportDropReason,
    },
    /// No more reports in this login session (503 without diagnostics, 503
    /// with ErrorId 2019, …); queued reports wait for the next one.
    ReportingSuspended {
        /// Why: the retry policy's reason (its `Display` is the sentence for
        /// people).
        why: SuspendReason,
    },
    /// A target of the RFC 3263 list failed — its connection could not be
    /// opened, or it answered a REGISTER `503` without `Retry-After` — and
    /// requests go to the next one: which pool failed, and why.
    TargetFailed(TargetFailure),
    /// The connection to the server was lost (closed by it, or broken).
    /// While registered, the user agent registers again on a new connection
    /// ([`UserAgentBuilder::reconnect_backoff`](super::UserAgentBuilder::reconnect_backoff));
    /// a new login session starts when that succeeds.
    ConnectionLost {
        /// Where the connection went.
        target: Target,
        /// How it ended.
        failure: TransportFailure,
    },
    /// The app fell behind: this many events, the oldest waiting, were
    /// dropped to stay within the stream's capacity
    /// ([`UserAgentBuilder::event_capacity`](super::UserAgentBuilder::event_capacity)).
    /// The events after this one are the newest, in order.
    EventsDropped {
        /// How many were dropped since the app last read one.
        count: u64,
    },
}

/// Why a report will never be sent ([`UaEvent::ReportDropped`]). Its
/// `Display` is the sentence for people.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum ReportDropReason {
    /// The app's [`BeforeReport`](crate::ua::outbox::BeforeReport) hook
    /// vetoed it; it was never stored.
    Vetoed,
    /// Its required parts alone exceed the size limits (MS-OCER §2.2.2); it
    /// was never stored.
    Limits(LimitError),
    /// The outbox could not store it (a full disk:
    /// [`OutboxError::is_disk_full`]).
    NotStored(Arc<OutboxError>),
    /// Over UDP it had to be cut to fit a datagram, but the stored body no
    /// longer parses.
    DatagramUnreadable(DocumentError),
    /// Its required parts do not fit a UDP datagram, and TCP to the server
    /// failed.
    DatagramTooSmall(LimitError),
    /// The server refused it as too large (413 or 513); not retried.
    TooLarge(StatusCode),
    /// The server answered that the same request can never succeed; not
    /// retried.
    Rejected(StatusCode),
    /// Every attempt the retry policy allows failed.
    AttemptsExhausted,
}

impl ReportDropReason {
    /// The retry policy's discard, with the status that made it (a 413 when
    /// none came).
    pub(crate) fn discarded(reason: DiscardReason, status: Option<StatusCode>) -> Self {
        match reason {
            DiscardReason::TooLarge => Self::TooLarge(status.unwrap_or(StatusCode(413))),
            DiscardReason::Rejected(status) => Self::Rejected(status),
            DiscardReason::AttemptsExhausted => Self::AttemptsExhausted,
        }
    }
}

impl std::fmt::Display for ReportDropReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Vetoed => f.write_str("vetoed by the app's before_report hook"),
            Self::Limits(error) => write!(f, "not stored: {error}"),
            Self::NotStored(error) if error.is_disk_full() => {
                write!(f, "not stored: the disk is full ({error})")
            }
            Self::NotStored(error) => write!(f, "not stored: {error}"),
            Self::DatagramUnreadable(error) => {
                write!(
                    f,
                    "too large for a UDP datagram and not re-readable: {error}"
                )
            }
            Self::DatagramTooSmall(error) => write!(
                f,
                "does not fit a UDP datagram and TCP to the server failed: {error}"
            ),
            Self::TooLarge(status) => write!(
                f,
                "the server refused the report as too large ({}); it is not retried",
                status.0
            ),
            Self::Rejected(status) => write!(
                f,
                "the server rejected the report ({}); it is not retried",
                status.0
            ),
            Self::AttemptsExhausted => f.write_str("every attempt to send it failed"),
        }
    }
}

/// What happened to one call (or IM, join, share): the [`UaEvent`]s that
/// name a Call-ID, without it ([`UaEvent::into_call_event`]).
#[derive(Debug, Clone)]
#[non_exhaustive]
#[allow(clippy::large_enum_variant)] // events are few; see `Failure`
pub enum CallEvent {
    /// A provisional response ([`UaEvent::Progress`]).
    Progress {
        /// Its status.
        status: StatusCode,
        /// Its reason phrase.
        reason: String,
        /// Its diagnostics headers.
        diagnostics: Vec<ObservedDiagnostic>,
        /// What the user sees while the call connects, if anything.
        display: Option<DisplayError>,
    },
    /// The call is up ([`UaEvent::Established`]).
    Established,
    /// It failed ([`UaEvent::Failed`]).
    Failed {
        /// The mode.
        mode: Mode,
        /// The action.
        action: Action,
        /// Why.
        failure: Failure,
    },
    /// It ended ([`UaEvent::Ended`]).
    Ended {
        /// Whether the server ended it.
        by_server: bool,
        /// What to show, if the server said why.
        display: Option<DisplayError>,
        /// The diagnostics of the server's BYE or CANCEL.
        diagnostics: Vec<ObservedDiagnostic>,
    },
}

impl UaEvent {
    /// The Call-ID the event is about, if it is about one request or call
    /// (for a report: the reported request's, when the event names it).
    pub fn call_id(&self) -> Option<&str> {
        match self {
            UaEvent::Progress { call_id, .. }
            | UaEvent::Established { call_id }
            | UaEvent::Failed { call_id, .. }
            | UaEvent::Ended { call_id, .. }
            | UaEvent::ReportQueued { call_id, .. } => Some(call_id),
            _ => None,
        }
    }

    /// The call's Call-ID and what happened to it, for events about a
    /// call; any other event back as it was.
    pub fn into_call_event(self) -> Result<(String, CallEvent), UaEvent> {
        Ok(match self {
            UaEvent::Progress {
                call_id,
                status,
                reason,
                diagnostics,
                display,
            } => (
                call_id,
                CallEvent::Progress {
                    status,
                    reason,
                    diagnostics,
                    display,
                },
            ),
            UaEvent::Established { call_id } => (call_id, CallEvent::Established),
            UaEvent::Failed {
                call_id,
                mode,
                action,
                failure,
            } => (
                call_id,
                CallEvent::Failed {
                    mode,
                    action,
                    failure,
                },
            ),
            UaEvent::Ended {
                call_id,
                by_server,
                display,
                diagnostics,
            } => (
                call_id,
                CallEvent::Ended {
                    by_server,
                    display,
                    diagnostics,
                },
            ),
            other => return Err(other),
        })
    }
}

/// How many events wait for the app before the oldest are dropped, unless
/// the builder says otherwise.
pub const DEFAULT_EVENT_CAPACITY: usize = 1024;

/// The events of one [`UserAgent`](super::UserAgent), in order: a
/// [`Stream`](futures_core::Stream) that ends (`None`) after
/// [`shutdown`](super::UserAgent::shutdown).
///
/// **Bounded.** At most `capacity` events wait
/// ([`DEFAULT_EVENT_CAPACITY`], or
/// [`UserAgentBuilder::event_capacity`](super::UserAgentBuilder::event_capacity)).
/// The user agent never waits for the app: a call, a registration refresh or
/// a report goes on whether or not anyone reads. When an event comes and
/// `capacity` are waiting, the **oldest** waiting event is dropped, and the
/// next one the app reads is [`UaEvent::EventsDropped`] with how many were
/// lost, followed by the newest events in order. Nothing else is lost:
/// calls and reports keep their own outcomes ([`PendingCall::established`](super::PendingCall::established),
/// the outbox). Dropping `UaEvents` is allowed; events are then discarded.
#[derive(Debug)]
pub struct UaEvents {
    shared: Arc<Mutex<Queue>>,
}

/// The user agent's end of [`UaEvents`]; dropping it ends the stream.
#[derive(Debug)]
pub(crate) struct EventSender {
    shared: Arc<Mutex<Queue>>,
}

#[derive(Debug)]
struct Queue {
    events: VecDeque<UaEvent>,
    capacity: usize,
    dropped: u64,
    sender_gone: bool,
    receiver_gone: bool,
    waker: Option<Waker>,
}

/// A bounded event queue holding at most `capacity` (at least 1) events.
pub(crate) fn event_queue(capacity: usize) -> (EventSender, UaEvents) {
    let shared = Arc::new(Mutex::new(Queue {
        events: VecDeque::new(),
        capacity: capacity.max(1),
        dropped: 0,
        sender_gone: false,
        receiver_gone: false,
        waker: None,
    }));
    (
        EventSender {
            shared: Arc::clone(&shared),
        },
        UaEvents { shared },
    )
}

impl EventSender {
    /// Queues `event`, dropping the oldest waiting one when full.
    pub(crate) fn send(&self, event: UaEvent) {
        let waker = {
            let mut queue = lock(&self.shared);
            if queue.receiver_gone {
                return;
            }
            if queue.events.len() >= queue.capacity {
                queue.events.pop_front();
                queue.dropped = queue.dropped.saturating_add(1);
                tracing::warn!(
                    capacity = queue.capacity,
                    "the app is not reading UaEvents: the oldest event was dropped"
                );
            }
            queue.events.push_back(event);
            queue.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl Drop for EventSender {
    fn drop(&mut self) {
        let waker = {
            let mut queue = lock(&self.shared);
            queue.sender_gone = true;
            queue.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl Drop for UaEvents {
    fn drop(&mut self) {
        let mut queue = lock(&self.shared);
        queue.receiver_gone = true;
        queue.events.clear();
    }
}

impl UaEvents {
    /// The next event; `None` once the user agent has shut down and every
    /// event was read.
    pub async fn recv(&mut self) -> Option<UaEvent> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// The next event if one is waiting.
    pub fn try_recv(&mut self) -> Option<UaEvent> {
        take(&mut lock(&self.shared))
    }

    /// Polls for the next event.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<UaEvent>> {
        let mut queue = lock(&self.shared);
        if let Some(event) = take(&mut queue) {
            return Poll::Ready(Some(event));
        }
        if queue.sender_gone {
            return Poll::Ready(None);
        }
        queue.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

/// The dropped-events notice first, then the oldest waiting event.
fn take(queue: &mut Queue) -> Option<UaEvent> {
    if queue.dropped > 0 {
        let count = std::mem::take(&mut queue.dropped);
        return Some(UaEvent::EventsDropped { count });
    }
    let event = queue.events.pop_front();
    // An idle agent holds no buffer sized for its busiest moment: four
    // `UaEvent`s are about 2.4 KiB, most of what an idle agent costs.
    if queue.events.is_empty() && queue.events.capacity() > 0 {
        queue.events = VecDeque::new();
    }
    event
}

impl futures_core::Stream for UaEvents {
    type Item = UaEvent;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<UaEvent>> {
        self.get_mut().poll_recv(cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let queue = lock(&self.shared);
        let waiting = queue.events.len() + usize::from(queue.dropped > 0);
        (waiting, None)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use futures_core::Stream;

    fn suspended(n: usize) -> UaEvent {
        UaEvent::ReportSent {
            report_id: ReportId(n as u64),
        }
    }

    fn why(event: Option<UaEvent>) -> String {
        match event {
            Some(UaEvent::ReportSent { report_id }) => report_id.0.to_string(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn drop_reasons_read_as_before() {
        let cases = [
            (
                ReportDropReason::discarded(DiscardReason::TooLarge, Some(StatusCode(513))),
                "the server refused the report as too large (513); it is not retried",
            ),
            (
                ReportDropReason::discarded(DiscardReason::TooLarge, None),
                "the server refused the report as too large (413); it is not retried",
            ),
            (
                ReportDropReason::discarded(DiscardReason::Rejected(StatusCode(400)), None),
                "the server rejected the report (400); it is not retried",
            ),
            (
                ReportDropReason::discarded(DiscardReason::AttemptsExhausted, None),
                "every attempt to send it failed",
            ),
            (
                ReportDropReason::Vetoed,
                "vetoed by the app's before_report hook",
            ),
        ];
        for (reason, text) in cases {
            assert_eq!(reason.to_string(), text);
        }
        let full = OutboxError::Io {
            path: "/outbox/x".into(),
            source: std::io::Error::from_raw_os_error(28),
        };
        assert!(ReportDropReason::NotStored(Arc::new(full))
            .to_string()
            .starts_with("not stored: the disk is full ("));
    }

    #[test]
    fn a_full_queue_drops_the_oldest_and_says_how_many() {
        let (tx, mut rx) = event_queue(3);
        for n in 0..5 {
            tx.send(suspended(n));
        }
        assert!(matches!(
            rx.try_recv(),
            Some(UaEvent::EventsDropped { count: 2 })
        ));
        assert_eq!(why(rx.try_recv()), "2");
        assert_eq!(why(rx.try_recv()), "3");
        tx.send(suspended(5));
        assert_eq!(why(rx.try_recv()), "4");
        assert_eq!(why(rx.try_recv()), "5");
        assert!(rx.try_recv().is_none());
    }

    #[tokio::test]
    async fn it_is_a_stream_that_ends_after_the_sender_and_the_rest() {
        let (tx, mut rx) = event_queue(8);
        let reader = tokio::spawn(async move {
            let mut seen = Vec::new();
            while let Some(event) = std::future::poll_fn(|cx| Pin::new(&mut rx).poll_next(cx)).await
            {
                seen.push(why(Some(event)));
            }
            seen
        });
        tokio::task::yield_now().await;
        tx.send(suspended(1));
        tx.send(suspended(2));
        drop(tx);
        assert_eq!(reader.await.unwrap(), ["1", "2"]);
    }

    #[test]
    fn nothing_is_kept_for_a_dropped_receiver() {
        let (tx, rx) = event_queue(2);
        drop(rx);
        tx.send(suspended(1));
        assert!(lock(&tx.shared).events.is_empty());
    }
}
