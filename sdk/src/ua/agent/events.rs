//! What the user agent tells the app: [`UaEvent`]s, in the order they
//! happened, from one [`UaEvents`] stream.

use std::task::{Context, Poll};
use std::time::Duration;

use tokio::sync::mpsc;

use super::failure::Failure;
use crate::diag::ObservedDiagnostic;
use crate::display::{Action, DisplayError, Mode};
use crate::sip::StatusCode;

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
        /// The report's id in the outbox (16 hex digits).
        report_id: String,
        /// The Call-ID of the failed request it reports.
        call_id: String,
    },
    /// The server took a report (2xx to its SERVICE).
    ReportSent {
        /// The report's id.
        report_id: String,
    },
    /// A report will never be sent.
    ReportDropped {
        /// The report's id (empty if it was never stored).
        report_id: String,
        /// Why: 413, attempts exhausted, vetoed by the app's hook …
        why: String,
    },
    /// No more reports in this login session (503 without diagnostics, 503
    /// with ErrorId 2019, …); queued reports wait for the next one.
    ReportingSuspended {
        /// Why.
        why: String,
    },
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
            } => (
                call_id,
                CallEvent::Progress {
                    status,
                    reason,
                    diagnostics,
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

/// The events of one [`UserAgent`](super::UserAgent), in order. Ends (`None`)
/// after [`shutdown`](super::UserAgent::shutdown).
#[derive(Debug)]
pub struct UaEvents {
    /// Boxed: the channel's first block holds 32 events, and a `UaEvent` is
    /// over 600 bytes, which every idle user agent would pay
    /// (BENCHMARKS.md, "Scale").
    pub(super) events: mpsc::UnboundedReceiver<Box<UaEvent>>,
}

impl UaEvents {
    /// The next event.
    pub async fn recv(&mut self) -> Option<UaEvent> {
        self.events.recv().await.map(|event| *event)
    }

    /// The next event if one is waiting.
    pub fn try_recv(&mut self) -> Option<UaEvent> {
        self.events.try_recv().ok().map(|event| *event)
    }

    /// Polls for the next event.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<UaEvent>> {
        self.events
            .poll_recv(cx)
            .map(|event| event.map(|event| *event))
    }
}
