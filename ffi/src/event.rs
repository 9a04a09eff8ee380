//! `ocer_event`: what the user agent tells the app, one callback call per
//! event, and the thread that makes those calls.

use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};

use ocer::diag::ObservedDiagnostic;
use ocer::display::{DisplayError, WinError};
use ocer::report::SuspendReason;
use ocer::ua::driver::FailoverCause;
use ocer::ua::transport::Target;
use ocer::ua::{Failure, FailureKind, RegistrationState, ReportDropReason, UaEvent};

use crate::display::{cause_of, ocer_cause};
use crate::localizer::{action_out, mode_out, ocer_action, ocer_mode};
use crate::ptr::ocer_str;

/// What happened: one of the `OCER_EVENT_*` constants. New kinds may be
/// added: ignore a kind you do not know.
pub type ocer_event_kind = u32;
/// A REGISTER is on its way (the first one, or a refresh).
pub const OCER_EVENT_REGISTERING: ocer_event_kind = 0;
/// The server accepted the registration for `expires_s` seconds.
pub const OCER_EVENT_REGISTERED: ocer_event_kind = 1;
/// The registration failed: the failure fields say why and what the user
/// sees.
pub const OCER_EVENT_REGISTRATION_FAILED: ocer_event_kind = 2;
/// Unregistered (REGISTER with `Expires: 0`), or never registered.
pub const OCER_EVENT_UNREGISTERED: ocer_event_kind = 3;
/// A provisional response to a call's INVITE: `status`, `reason`, the
/// ErrorId of its first ms-diagnostics header in `error_id`, and — when one
/// of its diagnostics has a string in the call's mode — what the user sees
/// while the call connects, in the display fields.
pub const OCER_EVENT_PROGRESS: ocer_event_kind = 4;
/// The call `call_id` is up (a 2xx came and the ACK went out).
pub const OCER_EVENT_ESTABLISHED: ocer_event_kind = 5;
/// A call, IM, join or share (or the hang-up of one) failed: the failure
/// fields say why and what the user sees.
pub const OCER_EVENT_FAILED: ocer_event_kind = 6;
/// The call `call_id` ended (hung up, cancelled, or ended by the server,
/// `by_server`, with what the user sees when the server said why).
pub const OCER_EVENT_ENDED: ocer_event_kind = 7;
/// An error report was queued (`report_id`) for the failed request
/// `call_id`.
pub const OCER_EVENT_REPORT_QUEUED: ocer_event_kind = 8;
/// The server took the report `report_id`.
pub const OCER_EVENT_REPORT_SENT: ocer_event_kind = 9;
/// The report `report_id` will never be sent; `detail` says why.
pub const OCER_EVENT_REPORT_DROPPED: ocer_event_kind = 10;
/// No more reports in this login session; `detail` says why.
pub const OCER_EVENT_REPORTING_SUSPENDED: ocer_event_kind = 11;
/// A server of the discovered list failed (RFC 3263 §4.3: its connection
/// could not be opened, or it answered a REGISTER 503 without Retry-After,
/// then `status` is 503) and requests go to the next: `detail` names both
/// and why; `windows` is the transport failure's Windows error, if any.
pub const OCER_EVENT_TARGET_FAILED: ocer_event_kind = 12;
/// The connection to the server was lost; while registered the user agent
/// registers again on a new one. `detail` says where and how; `windows` is
/// the Windows error, if any.
pub const OCER_EVENT_CONNECTION_LOST: ocer_event_kind = 13;
/// The callback fell behind and the oldest waiting events were dropped;
/// `detail` says how many.
pub const OCER_EVENT_EVENTS_DROPPED: ocer_event_kind = 14;

/// Why a report was dropped (`OCER_EVENT_REPORT_DROPPED`) or reporting
/// suspended (`OCER_EVENT_REPORTING_SUSPENDED`): one of the
/// `OCER_REPORT_REASON_*` constants. The retry policy's reasons have the
/// numbers of their `OCER_VERDICT_REASON_*` twins. New reasons may be added:
/// `detail` describes any reason.
pub type ocer_report_reason = u32;
/// Not a report event.
pub const OCER_REPORT_REASON_NONE: ocer_report_reason = 0;
/// Dropped: the server refused it as too large (413 or 513, `status`).
pub const OCER_REPORT_REASON_TOO_LARGE: ocer_report_reason = 1;
/// Dropped: a response (`status`) that says the same request can never
/// succeed.
pub const OCER_REPORT_REASON_REJECTED: ocer_report_reason = 2;
/// Dropped: every attempt the retry policy allows failed.
pub const OCER_REPORT_REASON_ATTEMPTS_EXHAUSTED: ocer_report_reason = 3;
/// Suspended: 503 with ErrorId 2019, the report error service is not
/// available.
pub const OCER_REPORT_REASON_SERVICE_NOT_AVAILABLE: ocer_report_reason = 10;
/// Suspended: 503 without diagnostics, error reporting is not enabled.
pub const OCER_REPORT_REASON_NOT_ENABLED: ocer_report_reason = 11;
/// Suspended: the server asked for a wait longer than a session waits.
pub const OCER_REPORT_REASON_WAIT_TOO_LONG: ocer_report_reason = 12;
/// Suspended: 405 or 501 (`status`), the server does not take SERVICE.
pub const OCER_REPORT_REASON_NOT_SUPPORTED: ocer_report_reason = 13;
/// Suspended: 401 / 407 (`status`) after credentials were sent once.
pub const OCER_REPORT_REASON_AUTHENTICATION_FAILED: ocer_report_reason = 14;
/// Dropped, never stored: the app's before-report hook vetoed it.
pub const OCER_REPORT_REASON_VETOED: ocer_report_reason = 30;
/// Dropped, never stored: its required parts exceed the size limits.
pub const OCER_REPORT_REASON_LIMITS: ocer_report_reason = 31;
/// Dropped, never stored: the outbox could not store it.
pub const OCER_REPORT_REASON_NOT_STORED: ocer_report_reason = 32;
/// Dropped, never stored: the disk (or quota) is full.
pub const OCER_REPORT_REASON_DISK_FULL: ocer_report_reason = 33;
/// Dropped: it does not fit a UDP datagram (and TCP to the server failed).
pub const OCER_REPORT_REASON_DATAGRAM: ocer_report_reason = 34;

/// What ended a failed operation: one of the `OCER_FAILURE_*` constants.
pub type ocer_failure_kind = u32;
/// Not a failure event.
pub const OCER_FAILURE_NONE: ocer_failure_kind = 0;
/// A final response of 300 or more (`status`).
pub const OCER_FAILURE_REJECTED: ocer_failure_kind = 1;
/// No final response before the transaction timer fired.
pub const OCER_FAILURE_TIMEOUT: ocer_failure_kind = 2;
/// The transport failed (`windows` is the Windows error it maps to).
pub const OCER_FAILURE_TRANSPORT: ocer_failure_kind = 3;
/// Nothing was sent, or the user agent ended it itself (`detail`).
pub const OCER_FAILURE_LOCAL: ocer_failure_kind = 4;

/// One event. Every field is always set; a field that does not apply to the
/// kind is 0, false or `{NULL, 0}`.
///
/// The event and every string in it are valid only during the callback
/// call: copy what you keep.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ocer_event {
    /// What happened.
    pub kind: ocer_event_kind,
    /// The Call-ID of the call, IM, join or share the event is about (for
    /// `OCER_EVENT_REPORT_QUEUED`, of the failed request reported).
    pub call_id: ocer_str,
    /// `OCER_EVENT_FAILED`: what the user was doing.
    pub mode: ocer_mode,
    /// `OCER_EVENT_FAILED`: what the user was doing, within the mode.
    pub action: ocer_action,
    /// The SIP status: of the provisional response (`OCER_EVENT_PROGRESS`),
    /// or the final one of a failure; 0 when none came.
    pub status: u32,
    /// The reason phrase that came with `status`.
    pub reason: ocer_str,
    /// What ended a failed operation.
    pub failure: ocer_failure_kind,
    /// Whether `message`, `info`, `message_id` and `cause` are set: a
    /// failure with a transaction behind it, or an end the server explained.
    pub has_display: bool,
    /// What the user sees: the primary string (`{NULL, 0}` when the message
    /// has only the secondary one).
    pub message: ocer_str,
    /// What the user sees: the secondary string, if any.
    pub info: ocer_str,
    /// The Fluent id of the message, e.g. "lync2010-sip-504-voice-call".
    pub message_id: ocer_str,
    /// Why that message: the ErrorId, SIP status, Warning code or Windows
    /// error that decided it.
    pub cause: ocer_cause,
    /// The ErrorId of the first parsed ms-diagnostics header of the final
    /// response (`OCER_EVENT_PROGRESS`: of the provisional one); 0 when none.
    pub error_id: u32,
    /// The first Warning code of the final response; 0 when none.
    pub warning: u32,
    /// The Windows error a transport failure maps to; 0 when none.
    pub windows: u32,
    /// A one-line description: of the failure, or why a report was dropped
    /// or reporting suspended.
    pub detail: ocer_str,
    /// The report's id (16 hex digits) for the `OCER_EVENT_REPORT_*` kinds;
    /// `{NULL, 0}` for a dropped report that was never stored.
    pub report_id: ocer_str,
    /// `OCER_EVENT_REGISTERED`: the granted expiry in seconds.
    pub expires_s: u64,
    /// `OCER_EVENT_ENDED`: whether the server ended the call.
    pub by_server: bool,
    /// `OCER_EVENT_REPORT_DROPPED`, `OCER_EVENT_REPORTING_SUSPENDED`: why
    /// (`detail` says it for people; `status` is the status it names).
    pub report_reason: ocer_report_reason,
}

/// The function that receives the events of an `ocer_ua`, with the
/// `userdata` given to `ocer_ua_new`.
///
/// It is called on one thread the user agent owns (named "ocer-ua-events"),
/// one event at a time, in the order things happened. The event and its
/// strings are valid only during the call. It may call the other `ocer_ua_*`
/// functions (while it blocks in one, events wait), but it must never call
/// `ocer_ua_free` on its own user agent, and should return quickly.
pub type ocer_event_callback =
    Option<unsafe extern "C" fn(userdata: *mut c_void, event: *const ocer_event)>;

/// The empty event every conversion starts from.
fn blank(kind: ocer_event_kind) -> ocer_event {
    ocer_event {
        kind,
        call_id: ocer_str::NONE,
        mode: 0,
        action: 0,
        status: 0,
        reason: ocer_str::NONE,
        failure: OCER_FAILURE_NONE,
        has_display: false,
        message: ocer_str::NONE,
        info: ocer_str::NONE,
        message_id: ocer_str::NONE,
        cause: ocer_cause {
            kind: 0,
            code: 0,
            origin: 0,
            handled: false,
            set: 0,
            mode: 0,
            action: 0,
        },
        error_id: 0,
        warning: 0,
        windows: 0,
        detail: ocer_str::NONE,
        report_id: ocer_str::NONE,
        expires_s: 0,
        by_server: false,
        report_reason: OCER_REPORT_REASON_NONE,
    }
}

fn first_error_id(diagnostics: &[ObservedDiagnostic]) -> u32 {
    diagnostics
        .iter()
        .find_map(|d| d.parsed.as_ref().ok())
        .map_or(0, |h| h.error_id.0)
}

/// The strings an event has that are not in the `UaEvent` itself.
#[derive(Default)]
struct Owned {
    message_id: String,
    detail: String,
    report_id: String,
}

fn set_display(e: &mut ocer_event, display: &DisplayError, owned: &Owned) {
    e.has_display = true;
    e.message = ocer_str::of_opt(display.message.as_deref());
    e.info = ocer_str::of_opt(display.info.as_deref());
    e.message_id = ocer_str::of(&owned.message_id);
    e.cause = cause_of(display);
}

fn set_failure(e: &mut ocer_event, failure: &Failure, owned: &Owned) {
    e.failure = match failure.kind {
        FailureKind::Rejected(_) => OCER_FAILURE_REJECTED,
        FailureKind::Timeout => OCER_FAILURE_TIMEOUT,
        FailureKind::Transport(_) => OCER_FAILURE_TRANSPORT,
        _ => OCER_FAILURE_LOCAL,
    };
    if let Some(display) = &failure.display {
        set_display(e, display, owned);
    }
    if let Some(last) = failure.record.as_ref().and_then(|r| r.final_response()) {
        e.status = u32::from(last.status.0);
        e.reason = ocer_str::of(&last.reason_phrase);
        e.error_id = first_error_id(&last.diagnostics);
        e.warning = last.warnings.first().map_or(0, |w| u32::from(w.code.0));
    }
    e.windows = failure.windows.map_or(0, |w| w.0);
    e.detail = ocer_str::of(&owned.detail);
}

fn owned_of(event: &UaEvent) -> Owned {
    let failure = match event {
        UaEvent::Failed { failure, .. } => Some(failure),
        UaEvent::Registration(RegistrationState::Failed(failure)) => Some(failure),
        _ => None,
    };
    let display = match event {
        UaEvent::Ended { display, .. } | UaEvent::Progress { display, .. } => display.as_ref(),
        _ => failure.and_then(|f| f.display.as_ref()),
    };
    let detail = match event {
        UaEvent::TargetFailed(failed) => format!(
            "{} failed ({}); trying {}",
            target_text(&failed.target),
            match &failed.cause {
                FailoverCause::Transport(failure) => failure.to_string(),
                FailoverCause::Unavailable(response) => format!(
                    "{} without Retry-After",
                    response.status().map_or(503, |s| s.0)
                ),
                other => format!("{other:?}"),
            },
            target_text(&failed.next)
        ),
        UaEvent::ConnectionLost { target, failure } => {
            format!("connection to {} lost: {failure}", target_text(target))
        }
        UaEvent::EventsDropped { count } => format!("{count} events dropped"),
        UaEvent::ReportDropped { why, .. } => why.to_string(),
        UaEvent::ReportingSuspended { why } => why.to_string(),
        _ => failure.map(|f| f.to_string()).unwrap_or_default(),
    };
    let report_id = match event {
        UaEvent::ReportQueued { report_id, .. } | UaEvent::ReportSent { report_id } => {
            Some(report_id)
        }
        UaEvent::ReportDropped { report_id, .. } => report_id.as_ref(),
        _ => None,
    };
    Owned {
        message_id: display.map(|d| d.message_id.id()).unwrap_or_default(),
        detail,
        report_id: report_id.map(ToString::to_string).unwrap_or_default(),
    }
}

/// The C code of a dropped report's reason, and the status it names.
fn drop_reason(why: &ReportDropReason) -> (ocer_report_reason, u16) {
    match why {
        ReportDropReason::TooLarge(status) => (OCER_REPORT_REASON_TOO_LARGE, status.0),
        ReportDropReason::Rejected(status) => (OCER_REPORT_REASON_REJECTED, status.0),
        ReportDropReason::AttemptsExhausted => (OCER_REPORT_REASON_ATTEMPTS_EXHAUSTED, 0),
        ReportDropReason::Vetoed => (OCER_REPORT_REASON_VETOED, 0),
        ReportDropReason::Limits(_) => (OCER_REPORT_REASON_LIMITS, 0),
        ReportDropReason::NotStored(error) if error.is_disk_full() => {
            (OCER_REPORT_REASON_DISK_FULL, 0)
        }
        ReportDropReason::NotStored(_) => (OCER_REPORT_REASON_NOT_STORED, 0),
        ReportDropReason::DatagramUnreadable(_) | ReportDropReason::DatagramTooSmall(_) => {
            (OCER_REPORT_REASON_DATAGRAM, 0)
        }
        // A reason newer than this mirror: `detail` still says it.
        _ => (OCER_REPORT_REASON_NONE, 0),
    }
}

/// The C code of a suspension's reason, and the status it names.
fn suspend_reason(why: SuspendReason) -> (ocer_report_reason, u16) {
    match why {
        SuspendReason::ServiceNotAvailable => (OCER_REPORT_REASON_SERVICE_NOT_AVAILABLE, 503),
        SuspendReason::NotEnabled => (OCER_REPORT_REASON_NOT_ENABLED, 503),
        SuspendReason::WaitTooLong(_) => (OCER_REPORT_REASON_WAIT_TOO_LONG, 0),
        SuspendReason::NotSupported(status) => (OCER_REPORT_REASON_NOT_SUPPORTED, status.0),
        SuspendReason::AuthenticationFailed(status) => {
            (OCER_REPORT_REASON_AUTHENTICATION_FAILED, status.0)
        }
    }
}

/// A target for people: `tls 192.0.2.1:5061 (pool.contoso.com)`.
fn target_text(target: &Target) -> String {
    let kind = format!("{:?}", target.kind).to_ascii_lowercase();
    match &target.server_name {
        Some(name) => format!("{kind} {} ({name})", target.addr),
        None => format!("{kind} {}", target.addr),
    }
}

/// Calls `f` with the C view of `event`; `None` for an event kind this
/// version does not deliver.
fn with_view(event: &UaEvent, f: impl FnOnce(&ocer_event)) {
    let owned = owned_of(event);
    let e = match event {
        UaEvent::Registration(state) => match state {
            RegistrationState::Registering => blank(OCER_EVENT_REGISTERING),
            RegistrationState::Registered { expires } => {
                let mut e = blank(OCER_EVENT_REGISTERED);
                e.expires_s = expires.as_secs();
                e
            }
            RegistrationState::Failed(failure) => {
                let mut e = blank(OCER_EVENT_REGISTRATION_FAILED);
                set_failure(&mut e, failure, &owned);
                e
            }
            RegistrationState::Unregistered => blank(OCER_EVENT_UNREGISTERED),
            _ => return,
        },
        UaEvent::Progress {
            call_id,
            status,
            reason,
            diagnostics,
            display,
        } => {
            let mut e = blank(OCER_EVENT_PROGRESS);
            e.call_id = ocer_str::of(call_id);
            e.status = u32::from(status.0);
            e.reason = ocer_str::of(reason);
            e.error_id = first_error_id(diagnostics);
            if let Some(display) = display {
                set_display(&mut e, display, &owned);
            }
            e
        }
        UaEvent::Established { call_id } => {
            let mut e = blank(OCER_EVENT_ESTABLISHED);
            e.call_id = ocer_str::of(call_id);
            e
        }
        UaEvent::Failed {
            call_id,
            mode,
            action,
            failure,
        } => {
            let mut e = blank(OCER_EVENT_FAILED);
            e.call_id = ocer_str::of(call_id);
            e.mode = mode_out(*mode);
            e.action = action_out(*action);
            set_failure(&mut e, failure, &owned);
            e
        }
        UaEvent::Ended {
            call_id,
            by_server,
            display,
            diagnostics,
        } => {
            let mut e = blank(OCER_EVENT_ENDED);
            e.call_id = ocer_str::of(call_id);
            e.by_server = *by_server;
            e.error_id = first_error_id(diagnostics);
            if let Some(display) = display {
                set_display(&mut e, display, &owned);
            }
            e
        }
        UaEvent::ReportQueued { call_id, .. } => {
            let mut e = blank(OCER_EVENT_REPORT_QUEUED);
            e.report_id = ocer_str::of(&owned.report_id);
            e.call_id = ocer_str::of(call_id);
            e
        }
        UaEvent::ReportSent { .. } => {
            let mut e = blank(OCER_EVENT_REPORT_SENT);
            e.report_id = ocer_str::of(&owned.report_id);
            e
        }
        UaEvent::ReportDropped { why, .. } => {
            let mut e = blank(OCER_EVENT_REPORT_DROPPED);
            e.report_id =
                ocer_str::of_opt(Some(owned.report_id.as_str()).filter(|s| !s.is_empty()));
            e.detail = ocer_str::of(&owned.detail);
            let (reason, status) = drop_reason(why);
            e.report_reason = reason;
            e.status = u32::from(status);
            e
        }
        UaEvent::ReportingSuspended { why } => {
            let mut e = blank(OCER_EVENT_REPORTING_SUSPENDED);
            e.detail = ocer_str::of(&owned.detail);
            let (reason, status) = suspend_reason(*why);
            e.report_reason = reason;
            e.status = u32::from(status);
            e
        }
        UaEvent::TargetFailed(failed) => {
            let mut e = blank(OCER_EVENT_TARGET_FAILED);
            match &failed.cause {
                FailoverCause::Transport(failure) => {
                    e.windows = WinError::from_transport(failure).map_or(0, |w| w.0);
                }
                FailoverCause::Unavailable(response) => {
                    e.status = response.status().map_or(503, |s| u32::from(s.0));
                }
                _ => {}
            }
            e.detail = ocer_str::of(&owned.detail);
            e
        }
        UaEvent::ConnectionLost { failure, .. } => {
            let mut e = blank(OCER_EVENT_CONNECTION_LOST);
            e.windows = WinError::from_transport(failure).map_or(0, |w| w.0);
            e.detail = ocer_str::of(&owned.detail);
            e
        }
        UaEvent::EventsDropped { .. } => {
            let mut e = blank(OCER_EVENT_EVENTS_DROPPED);
            e.detail = ocer_str::of(&owned.detail);
            e
        }
        _ => return,
    };
    f(&e);
}

/// The app's `userdata`, moved to the event thread.
struct UserData(*mut c_void);

// SAFETY: the pointer is only handed back to the app's callback; ocer_ua_new's
// contract makes the app responsible for `userdata` being usable from the
// event thread.
unsafe impl Send for UserData {}

/// The callback and its userdata.
pub(crate) struct Delivery {
    callback: ocer_event_callback,
    userdata: UserData,
}

impl Delivery {
    pub(crate) fn new(callback: ocer_event_callback, userdata: *mut c_void) -> Delivery {
        Delivery {
            callback,
            userdata: UserData(userdata),
        }
    }

    /// Calls the callback with `event`. A panic while converting it (a bug
    /// in ocer) loses that one event rather than unwinding into C.
    pub(crate) fn deliver(&self, event: &UaEvent) {
        let Some(callback) = self.callback else {
            return;
        };
        let userdata = self.userdata.0;
        let _ = catch_unwind(AssertUnwindSafe(|| {
            with_view(event, |view| {
                // SAFETY: ocer_ua_new's contract: `callback` may be called on
                // this thread with `userdata`; `view` and the strings it points
                // to outlive the call.
                unsafe { callback(userdata, view) }
            });
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    unsafe extern "C" fn record(userdata: *mut c_void, event: *const ocer_event) {
        // SAFETY: the tests pass a Vec<(kind, call_id, expires, detail)> as userdata.
        let seen = unsafe { &mut *userdata.cast::<Vec<(u32, String, u64, String)>>() };
        // SAFETY: the event is valid during the call.
        let e = unsafe { &*event };
        let text = |s: ocer_str| {
            if s.ptr.is_null() {
                String::new()
            } else {
                // SAFETY: a view into the event, valid during the call.
                String::from_utf8(unsafe { std::slice::from_raw_parts(s.ptr, s.len) }.to_vec())
                    .unwrap()
            }
        };
        seen.push((e.kind, text(e.call_id), e.expires_s, text(e.detail)));
    }

    #[test]
    fn events_reach_the_callback_with_their_fields() {
        let mut seen: Vec<(u32, String, u64, String)> = Vec::new();
        let delivery = Delivery::new(Some(record), std::ptr::from_mut(&mut seen).cast());
        delivery.deliver(&UaEvent::Registration(RegistrationState::Registered {
            expires: Duration::from_secs(3600),
        }));
        delivery.deliver(&UaEvent::Established {
            call_id: "abc".to_owned(),
        });
        delivery.deliver(&UaEvent::ReportingSuspended {
            why: SuspendReason::ServiceNotAvailable,
        });
        delivery.deliver(&UaEvent::Failed {
            call_id: "def".to_owned(),
            mode: ocer::display::Mode::Voice,
            action: ocer::display::Action::Call,
            failure: Failure::local(ocer::ua::LocalFailure::Cancelled),
        });
        assert_eq!(
            seen,
            vec![
                (OCER_EVENT_REGISTERED, String::new(), 3600, String::new()),
                (OCER_EVENT_ESTABLISHED, "abc".to_owned(), 0, String::new()),
                (
                    OCER_EVENT_REPORTING_SUSPENDED,
                    String::new(),
                    0,
                    "the report error service is not available (503, ErrorId 2019)".to_owned()
                ),
                (
                    OCER_EVENT_FAILED,
                    "def".to_owned(),
                    0,
                    "the call was cancelled".to_owned()
                ),
            ]
        );
    }

    /// Failover, a lost connection and dropped events reach C apps too.
    #[test]
    fn failover_and_connection_events_reach_the_callback() {
        use ocer::sip::{TransportFailure, TransportFailureKind};
        use ocer::ua::driver::TargetFailure;
        use ocer::ua::transport::TransportKind;
        let down = Target::new(TransportKind::Tls, ([127, 0, 0, 1], 5061).into())
            .with_server_name("pool1.contoso.com");
        let up = Target::new(TransportKind::Tcp, ([127, 0, 0, 2], 5060).into());
        let refused = TransportFailure::new(TransportFailureKind::ConnectionRefused, "refused");
        let mut seen: Vec<(u32, String, u64, String)> = Vec::new();
        let delivery = Delivery::new(Some(record), std::ptr::from_mut(&mut seen).cast());
        delivery.deliver(&UaEvent::TargetFailed(TargetFailure {
            target: down.clone(),
            cause: FailoverCause::Transport(refused.clone()),
            next: up,
        }));
        delivery.deliver(&UaEvent::ConnectionLost {
            target: down,
            failure: refused,
        });
        delivery.deliver(&UaEvent::EventsDropped { count: 3 });
        let kinds: Vec<u32> = seen.iter().map(|(kind, ..)| *kind).collect();
        assert_eq!(
            kinds,
            [
                OCER_EVENT_TARGET_FAILED,
                OCER_EVENT_CONNECTION_LOST,
                OCER_EVENT_EVENTS_DROPPED
            ]
        );
        assert!(
            seen[0]
                .3
                .starts_with("tls 127.0.0.1:5061 (pool1.contoso.com) failed (")
                && seen[0].3.ends_with("; trying tcp 127.0.0.2:5060"),
            "{}",
            seen[0].3
        );
        assert!(
            seen[1].3.starts_with("connection to tls 127.0.0.1:5061"),
            "{}",
            seen[1].3
        );
        assert_eq!(seen[2].3, "3 events dropped");
    }

    unsafe extern "C" fn record_report(userdata: *mut c_void, event: *const ocer_event) {
        // SAFETY: the test passes a Vec<(reason, status, report_id is null, report_id len)>.
        let seen = unsafe { &mut *userdata.cast::<Vec<(u32, u32, bool, usize)>>() };
        // SAFETY: the event is valid during the call.
        let e = unsafe { &*event };
        seen.push((
            e.report_reason,
            e.status,
            e.report_id.ptr.is_null(),
            e.report_id.len,
        ));
    }

    /// Report events carry their typed reason as a code, with the status it
    /// names; a report never stored has no id.
    #[test]
    fn report_reasons_reach_the_callback_as_codes() {
        use ocer::sip::StatusCode;
        use ocer::ua::outbox::ReportId;
        let mut seen: Vec<(u32, u32, bool, usize)> = Vec::new();
        let delivery = Delivery::new(Some(record_report), std::ptr::from_mut(&mut seen).cast());
        delivery.deliver(&UaEvent::ReportDropped {
            report_id: Some(ReportId(7)),
            why: ReportDropReason::TooLarge(StatusCode(513)),
        });
        delivery.deliver(&UaEvent::ReportDropped {
            report_id: None,
            why: ReportDropReason::Vetoed,
        });
        delivery.deliver(&UaEvent::ReportingSuspended {
            why: SuspendReason::NotSupported(StatusCode(501)),
        });
        assert_eq!(
            seen,
            [
                (OCER_REPORT_REASON_TOO_LARGE, 513, false, 16),
                (OCER_REPORT_REASON_VETOED, 0, true, 0),
                (OCER_REPORT_REASON_NOT_SUPPORTED, 501, true, 0),
            ]
        );
    }

    /// The policy's reasons keep their verdict twins' numbers.
    #[test]
    fn report_reasons_match_the_verdict_reasons() {
        use crate::retry::*;
        assert_eq!(
            [
                OCER_REPORT_REASON_TOO_LARGE,
                OCER_REPORT_REASON_REJECTED,
                OCER_REPORT_REASON_ATTEMPTS_EXHAUSTED,
                OCER_REPORT_REASON_SERVICE_NOT_AVAILABLE,
                OCER_REPORT_REASON_NOT_ENABLED,
                OCER_REPORT_REASON_WAIT_TOO_LONG,
                OCER_REPORT_REASON_NOT_SUPPORTED,
                OCER_REPORT_REASON_AUTHENTICATION_FAILED,
            ],
            [
                OCER_VERDICT_REASON_TOO_LARGE,
                OCER_VERDICT_REASON_REJECTED,
                OCER_VERDICT_REASON_ATTEMPTS_EXHAUSTED,
                OCER_VERDICT_REASON_SERVICE_NOT_AVAILABLE,
                OCER_VERDICT_REASON_NOT_ENABLED,
                OCER_VERDICT_REASON_WAIT_TOO_LONG,
                OCER_VERDICT_REASON_NOT_SUPPORTED,
                OCER_VERDICT_REASON_AUTHENTICATION_FAILED,
            ]
        );
    }

    #[test]
    fn a_null_callback_drops_events() {
        Delivery::new(None, std::ptr::null_mut()).deliver(&UaEvent::Established {
            call_id: "abc".to_owned(),
        });
    }
}
