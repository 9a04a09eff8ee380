//! The priority rule: which string the user sees for a transaction
//! (MS-OCER 9.1.1 / 10.1.1).
//!
//! # The spec
//!
//! "The SIP protocol client can receive more than one error code at a single
//! time or receive no diagnostic codes with each transaction. Therefore, the
//! SIP protocol client uses a priority to evaluate which error codes are
//! consumed and displayed to the user": 1. ms-diagnostic, 2. SIP errors,
//! 3. SIP warning, 4. Windows errors. A *handled* error shows its string
//! (9.2); an unhandled or unknown one shows the mode's generic string (9.3).
//!
//! # Our reading
//!
//! 1. **Which codes, in which order.** [`causes`] lists every code of the
//!    transaction in priority order:
//!    - the ErrorIds of the final response's `ms-diagnostics` /
//!      `ms-diagnostics-public` headers (private before public, header
//!      order), then those of BYE / CANCEL requests the server sent, latest
//!      first: what the server said about *this* failure;
//!    - the SIP status of the final response;
//!    - the final response's `Warning` codes, in header order;
//!    - the ErrorIds of the progress reports (`101 Progress Report` and other
//!      1xx), **latest first** — the last hop's report is closest to the
//!      failure. They explain a transaction that got no final response; a
//!      failed final response outranks them, so a `101` "Trying next hop"
//!      never names the failure a `486` explains. A progress report with a
//!      string is shown when it arrives, as progress ([`resolve_progress`]);
//!    - what the client detected itself, from the record's
//!      [`Ending`](crate::diag::Ending): a transport failure as the Windows
//!      error a Windows client would have met ([`WinError::from_transport`]),
//!      or the Windows error the caller gives instead; a timeout as
//!      `408 Request Timeout`, which RFC 3261 §8.1.3.1 tells the client to
//!      treat it as (origin [`CauseOrigin::LocalTimeout`]). No code is
//!      guessed for a record whose ending is not known.
//! 2. **Handled means handled in this mode.** The tables list strings per
//!    mode, so a code counts as handled only when en-US has a string for
//!    (set, code, mode). The first code that is handled wins; a code that is
//!    not handled *for this mode* does not stop the walk: an ms-diagnostic
//!    that has strings only for sharing falls through to the SIP status in a
//!    voice call.
//! 3. **Listed as not handled.** An ErrorId on the set's "not handled" list
//!    (9.3.2 / 10.3.1, [`is_listed_unhandled`]) stops the walk: "When the SIP
//!    protocol client receives one of these error codes, it displays a
//!    generic error string" — the mode's generic string, with that id as
//!    `$errorId`. An id that is neither handled in this mode nor listed goes
//!    on down the priority.
//! 4. **Which of the code's strings.** Within (set, code, mode) the action
//!    decides: the user's action, else the mode's primary action, else the
//!    first string in spec order (`locales/README.md`, "the fallback rule").
//! 5. **Nothing handled.** The mode's generic string (same action rule; a
//!    mode the set has no generic string for, such as `sharing` in
//!    Communicator, takes the set's `other` string), with `$errorId` = the
//!    highest-priority code present, i.e. the first of step 1.
//! 6. **Success and cancel show nothing.** A 2xx final response is not an
//!    error: its status, Warnings and diagnostics are not causes, nor are its
//!    progress reports. What can still explain a failure after it — a BYE /
//!    CANCEL the server sent with diagnostics (the server ended the call or
//!    removed the user), or a Windows error the caller reports (the
//!    connection broke) — is walked as above; with neither, the result is
//!    `None`. A request the user cancelled shows nothing.

use super::context::{Action, Context, Mode};
use super::ids::{Cause, CauseOrigin, MessageKey};
use super::index::{Slot, StringIndex};
use super::unhandled::is_listed_unhandled;
use super::windows::WinError;
use crate::diag::{Ending, ObservedDiagnostic, TransactionRecord};
use crate::sip::StatusCode;

/// What the priority rule chose: the message, and the code it is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resolution {
    /// The message to show.
    pub key: MessageKey,
    /// For a handled string, its cause; for the generic string, the
    /// highest-priority code present (its `$errorId`).
    pub cause: Cause,
    /// Where that cause was found.
    pub origin: CauseOrigin,
    pub(crate) slot: Slot,
}

impl Resolution {
    /// Whether the string is the mode's generic one (no code was handled).
    pub fn is_generic(&self) -> bool {
        self.key.cause.is_none()
    }
}

/// Every code of the transaction, in the order the priority rule consults
/// them (see the module docs, steps 1 and 6). `windows`, if given, is used
/// instead of the Windows error display derives from the record's transport
/// failure (an app with its own stack may know the exact code).
pub fn causes(
    record: &TransactionRecord,
    windows: Option<WinError>,
) -> impl Iterator<Item = (Cause, CauseOrigin)> + '_ {
    let cancelled = matches!(record.ending, Ending::Cancelled(_));
    let success = record
        .final_status()
        .is_some_and(|s| (200..300).contains(&s.0));
    let failed = !success && !cancelled;
    let id_of =
        |d: &ObservedDiagnostic, origin| d.error_id().map(|id| (Cause::MsDiagnostic(id), origin));
    let final_diagnostics = record
        .final_diagnostics()
        .filter(move |_| failed)
        .filter_map(move |d| id_of(d, CauseOrigin::FinalResponse));
    let server_requests = record
        .server_requests
        .iter()
        .rev()
        .filter(move |_| !cancelled)
        .flat_map(|r| r.diagnostics.iter())
        .filter_map(move |d| id_of(d, CauseOrigin::ServerRequest));
    let status = record
        .final_status()
        .filter(move |_| failed)
        .map(|status| (Cause::SipStatus(status), CauseOrigin::FinalResponse));
    let warnings = record
        .warnings()
        .iter()
        .filter(move |_| failed)
        .map(|w| (Cause::Warning(w.code), CauseOrigin::FinalResponse));
    let progress = record
        .progress
        .iter()
        .rev()
        .filter(move |_| failed)
        .filter_map(move |d| id_of(d, CauseOrigin::ProgressReport));
    let detected = match &record.ending {
        _ if cancelled => None,
        Ending::Transport(failure) => windows
            .or_else(|| WinError::from_transport(failure))
            .map(|w| (Cause::Windows(w), CauseOrigin::Transport)),
        Ending::Timeout if windows.is_none() => Some((
            Cause::SipStatus(StatusCode::REQUEST_TIMEOUT),
            CauseOrigin::LocalTimeout,
        )),
        _ => windows.map(|w| (Cause::Windows(w), CauseOrigin::Transport)),
    };
    final_diagnostics
        .chain(server_requests)
        .chain(status)
        .chain(warnings)
        .chain(progress)
        .chain(detected)
}

/// The priority rule: the message the user sees for `record` (plus the
/// Windows error the caller met, if any; see [`causes`]) in `context`, or
/// `None` when nothing failed. Pure: reads the record and the index,
/// allocates nothing.
pub fn resolve(
    strings: &StringIndex,
    record: &TransactionRecord,
    windows: Option<WinError>,
    context: Context,
) -> Option<Resolution> {
    let context = Context::new(
        context.set,
        context.set.mode_for(context.mode),
        context.action,
    );
    let Context { set, mode, action } = context;
    let mut first = None;
    for (cause, origin) in causes(record, windows) {
        if let Some(slot) = strings.pick_slot(set, Some(cause), mode, action) {
            return resolution(strings, slot, cause, origin);
        }
        first.get_or_insert((cause, origin));
        if let Cause::MsDiagnostic(id) = cause {
            if is_listed_unhandled(set, id) {
                // 9.3.2 / 10.3.1: a listed id shows the generic string, with
                // that id as [error ID].
                return generic(strings, context, cause, origin);
            }
        }
    }
    let (cause, origin) = first?;
    generic(strings, context, cause, origin)
}

/// What the user sees *while* a request is in progress for one progress
/// report (a diagnostics header on a 1xx): its string in this context, if
/// the set has one (Lync's "This call may take longer to connect…" for
/// ErrorId 5). `None` when the id has no string here, is listed as not
/// handled, or the header did not parse: progress never shows a generic
/// error string.
pub fn resolve_progress(
    strings: &StringIndex,
    diagnostic: &ObservedDiagnostic,
    context: Context,
) -> Option<Resolution> {
    let id = diagnostic.error_id()?;
    let cause = Cause::MsDiagnostic(id);
    let mode = context.set.mode_for(context.mode);
    let slot = strings.pick_slot(context.set, Some(cause), mode, context.action)?;
    resolution(strings, slot, cause, CauseOrigin::ProgressReport)
}

fn generic(
    strings: &StringIndex,
    context: Context,
    cause: Cause,
    origin: CauseOrigin,
) -> Option<Resolution> {
    let slot = strings
        .pick_slot(context.set, None, context.mode, context.action)
        .or_else(|| strings.pick_slot(context.set, None, Mode::Other, Action::Any))?;
    resolution(strings, slot, cause, origin)
}

fn resolution(
    strings: &StringIndex,
    slot: Slot,
    cause: Cause,
    origin: CauseOrigin,
) -> Option<Resolution> {
    Some(Resolution {
        key: strings.key(slot)?,
        cause,
        origin,
        slot,
    })
}
