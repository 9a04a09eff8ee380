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
//!    - the ErrorIds of the `ms-diagnostics` / `ms-diagnostics-public`
//!      headers: the final response's first (private before public, header
//!      order), then the progress reports' (`101 Progress Report` and other
//!      1xx), **latest first** — the last hop's report is closest to the
//!      failure — then those of BYE / CANCEL requests the server sent
//!      (the order of [`TransactionRecord::diagnostics_by_priority`]); headers
//!      that did not parse have no ErrorId and are skipped;
//!    - the SIP status of the final response. No final response at all means
//!      the transaction timed out, which RFC 3261 §8.1.3.1 tells the client to
//!      treat as `408 Request Timeout`; that 408 is used unless the caller
//!      gives a Windows error, i.e. the transport failed and no SIP status
//!      exists;
//!    - the final response's `Warning` codes, in header order;
//!    - the Windows error the caller gives (from the transport; see
//!      [`WinError::from_io_error`](super::WinError::from_io_error)).
//! 2. **Handled means handled in this mode.** The tables list strings per
//!    mode, so a code counts as handled only when en-US has a string for
//!    (set, code, mode). The first code that is handled wins; a code that is
//!    not handled *for this mode* does not stop the walk: an ms-diagnostic
//!    that has strings only for sharing falls through to the SIP status in a
//!    voice call. (9.3.2 says an id on its "not handled" list shows the
//!    generic string; we read that as "has no string of its own", so a
//!    handled SIP status or Warning behind it is still preferred, as the
//!    priority list asks.)
//! 3. **Which of the code's strings.** Within (set, code, mode) the action
//!    decides: the user's action, else the mode's primary action, else the
//!    first string in spec order (`locales/README.md`, "the fallback rule").
//! 4. **Nothing handled.** The mode's generic string (same action rule; a
//!    mode the set has no generic string for, such as `sharing` in
//!    Communicator, takes the set's `other` string), with `$errorId` = the
//!    highest-priority code present, i.e. the first of step 1.
//! 5. **Success shows nothing.** A 2xx final response is not an error: its
//!    status, Warnings and diagnostics are not causes. What can still explain
//!    a failure after it — a BYE / CANCEL the server sent with diagnostics
//!    (the server ended the call or removed the user), or a Windows error the
//!    caller reports (the connection broke) — is walked as above; with
//!    neither, the result is `None`.

use super::context::{Action, Context, Mode};
use super::ids::{Cause, CauseOrigin, MessageKey};
use super::index::{Slot, StringIndex};
use super::windows::WinError;
use crate::diag::{DiagOrigin, TransactionRecord};
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
/// them (see the module docs, step 1 and 5).
pub fn causes(
    record: &TransactionRecord,
    windows: Option<WinError>,
) -> impl Iterator<Item = (Cause, CauseOrigin)> + '_ {
    let success = record
        .final_status()
        .is_some_and(|s| (200..300).contains(&s.0));
    let diagnostics = record
        .diagnostics_by_priority()
        .filter(move |d| !success || matches!(d.origin, DiagOrigin::ServerRequest(_)))
        .filter_map(|d| {
            let origin = match d.origin {
                DiagOrigin::Final(_) => CauseOrigin::FinalResponse,
                DiagOrigin::Provisional(_) => CauseOrigin::ProgressReport,
                DiagOrigin::ServerRequest(_) => CauseOrigin::ServerRequest,
            };
            d.error_id().map(|id| (Cause::MsDiagnostic(id), origin))
        });
    let status = match record.final_status() {
        _ if success => None,
        Some(status) => Some((Cause::SipStatus(status), CauseOrigin::FinalResponse)),
        None if windows.is_none() => {
            Some((Cause::SipStatus(StatusCode(408)), CauseOrigin::LocalTimeout))
        }
        None => None,
    };
    let warnings = record
        .warnings()
        .iter()
        .filter(move |_| !success)
        .map(|w| (Cause::Warning(w.code), CauseOrigin::FinalResponse));
    let windows = windows.map(|w| (Cause::Windows(w), CauseOrigin::Transport));
    diagnostics.chain(status).chain(warnings).chain(windows)
}

/// The priority rule: the message the user sees for `record` (plus the
/// Windows error the transport met, if any) in `context`, or `None` when
/// nothing failed. Pure: reads the record and the index, allocates nothing.
pub fn resolve(
    strings: &StringIndex,
    record: &TransactionRecord,
    windows: Option<WinError>,
    context: Context,
) -> Option<Resolution> {
    let Context { set, mode, action } = context;
    let mut first = None;
    for (cause, origin) in causes(record, windows) {
        if let Some(slot) = strings.pick_slot(set, Some(cause), mode, action) {
            return resolution(strings, slot, cause, origin);
        }
        first.get_or_insert((cause, origin));
    }
    let (cause, origin) = first?;
    let slot = strings
        .pick_slot(set, None, mode, action)
        .or_else(|| strings.pick_slot(set, None, Mode::Other, Action::Any))?;
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
