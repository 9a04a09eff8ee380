//! `ocer_display`: the string shown for a failed transaction, and why it was
//! chosen.

use ocer::display::{Cause, CauseOrigin, DisplayError};

use crate::guard::{guard, guard_free};
use crate::localizer::{action_out, mode_out, ocer_action, ocer_mode, ocer_string_set, set_out};
use crate::ptr::{self, ocer_str, Object};
use crate::result::ocer_result;

/// The kind of code a message is about: one of the `OCER_CAUSE_*` constants.
pub type ocer_cause_kind = u32;
/// An ErrorId of an ms-diagnostics / ms-diagnostics-public header.
pub const OCER_CAUSE_MS_DIAGNOSTIC: ocer_cause_kind = 0;
/// A SIP status code (408 for a transaction that timed out).
pub const OCER_CAUSE_SIP_STATUS: ocer_cause_kind = 1;
/// A `Warning` code of the final response.
pub const OCER_CAUSE_WARNING: ocer_cause_kind = 2;
/// A Windows error the transport met.
pub const OCER_CAUSE_WINDOWS: ocer_cause_kind = 3;

/// Where the cause was found: one of the `OCER_CAUSE_ORIGIN_*` constants.
pub type ocer_cause_origin = u32;
/// On the final response.
pub const OCER_CAUSE_ORIGIN_FINAL_RESPONSE: ocer_cause_origin = 0;
/// On a provisional response (a progress report).
pub const OCER_CAUSE_ORIGIN_PROGRESS_REPORT: ocer_cause_origin = 1;
/// On a BYE or CANCEL the server sent.
pub const OCER_CAUSE_ORIGIN_SERVER_REQUEST: ocer_cause_origin = 2;
/// No final response came: the client counts it as 408.
pub const OCER_CAUSE_ORIGIN_LOCAL_TIMEOUT: ocer_cause_origin = 3;
/// The Windows error the caller passed.
pub const OCER_CAUSE_ORIGIN_TRANSPORT: ocer_cause_origin = 4;

/// Why this string: the code, where it was found, and the context.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ocer_cause {
    /// The kind of code.
    pub kind: ocer_cause_kind,
    /// The code: ErrorId, SIP status, warn-code or Windows error. For the
    /// mode's generic string, the highest-priority code present.
    pub code: u32,
    /// Where it was found.
    pub origin: ocer_cause_origin,
    /// Whether a string for the code was found (false: the mode's generic
    /// string).
    pub handled: bool,
    /// The string set asked for.
    pub set: ocer_string_set,
    /// The mode asked for.
    pub mode: ocer_mode,
    /// The action asked for (the message's own action, after falling back to
    /// the mode's primary one, is in the message id).
    pub action: ocer_action,
}

pub(crate) struct DisplayObject {
    shown: DisplayError,
    message_id: String,
    json: String,
    locale: String,
}

impl DisplayObject {
    pub(crate) fn new(shown: DisplayError) -> DisplayObject {
        DisplayObject {
            message_id: shown.message_id.id(),
            json: shown.to_json(),
            locale: shown.locale.to_string(),
            shown,
        }
    }
}

/// A resolved display string.
///
/// Made by `ocer_localizer_resolve`; free it with `ocer_display_free`. Its
/// strings live as long as it does.
///
/// Thread-safety: immutable; any number of threads may read one at once.
pub struct ocer_display {
    _private: [u8; 0],
}

impl Object for ocer_display {
    type Rust = DisplayObject;
}

/// Why `d` was chosen, for `ocer_display_cause` and the user agent's events.
pub(crate) fn cause_of(d: &DisplayError) -> ocer_cause {
    ocer_cause {
        kind: match d.cause {
            Cause::MsDiagnostic(_) => OCER_CAUSE_MS_DIAGNOSTIC,
            Cause::SipStatus(_) => OCER_CAUSE_SIP_STATUS,
            Cause::Warning(_) => OCER_CAUSE_WARNING,
            Cause::Windows(_) => OCER_CAUSE_WINDOWS,
        },
        code: d.cause.code(),
        origin: match d.origin {
            CauseOrigin::FinalResponse => OCER_CAUSE_ORIGIN_FINAL_RESPONSE,
            CauseOrigin::ProgressReport => OCER_CAUSE_ORIGIN_PROGRESS_REPORT,
            CauseOrigin::ServerRequest => OCER_CAUSE_ORIGIN_SERVER_REQUEST,
            CauseOrigin::LocalTimeout => OCER_CAUSE_ORIGIN_LOCAL_TIMEOUT,
            CauseOrigin::Transport => OCER_CAUSE_ORIGIN_TRANSPORT,
        },
        handled: !d.is_generic(),
        set: set_out(d.set),
        mode: mode_out(d.mode),
        action: action_out(d.action),
    }
}

/// The getters below differ only in which string they give.
///
/// # Safety
///
/// `display` is NULL or a live `ocer_display`; `out` is valid for writing.
unsafe fn string_of(
    display: *const ocer_display,
    out: *mut ocer_str,
    pick: impl FnOnce(&DisplayObject) -> Option<&str>,
) -> ocer_result {
    guard(|| {
        // SAFETY: the caller's contract for out.
        let out = unsafe { ptr::out(out, "string_out") }?;
        // SAFETY: the caller's contract for display.
        let display = unsafe { ptr::borrow(display, "display") }?;
        out.put(ocer_str::of_opt(pick(display)));
        Ok(())
    })
}

/// The primary string (Lync "Error Message", Communicator "Summary string");
/// `{NULL, 0}` for Communicator's IM and sharing rows, which have only the
/// secondary one.
///
/// # Safety
///
/// `display` is NULL or a live `ocer_display`; `message_out` is valid for
/// writing.
#[no_mangle]
pub unsafe extern "C" fn ocer_display_message(
    display: *const ocer_display,
    message_out: *mut ocer_str,
) -> ocer_result {
    // SAFETY: the caller's contract is string_of's.
    unsafe { string_of(display, message_out, |d| d.shown.message.as_deref()) }
}

/// The secondary string (Lync "Additional Information", Communicator
/// "Descriptive string"); `{NULL, 0}` when the message has none.
///
/// # Safety
///
/// `display` is NULL or a live `ocer_display`; `info_out` is valid for
/// writing.
#[no_mangle]
pub unsafe extern "C" fn ocer_display_info(
    display: *const ocer_display,
    info_out: *mut ocer_str,
) -> ocer_result {
    // SAFETY: the caller's contract is string_of's.
    unsafe { string_of(display, info_out, |d| d.shown.info.as_deref()) }
}

/// The line to show first: the primary string, or the secondary one when
/// there is no primary one. Never absent.
///
/// # Safety
///
/// `display` is NULL or a live `ocer_display`; `headline_out` is valid for
/// writing.
#[no_mangle]
pub unsafe extern "C" fn ocer_display_headline(
    display: *const ocer_display,
    headline_out: *mut ocer_str,
) -> ocer_result {
    // SAFETY: the caller's contract is string_of's.
    unsafe { string_of(display, headline_out, |d| Some(d.shown.headline())) }
}

/// The Fluent id of the message shown, e.g. "lync2010-sip-504-voice-call".
///
/// # Safety
///
/// `display` is NULL or a live `ocer_display`; `id_out` is valid for writing.
#[no_mangle]
pub unsafe extern "C" fn ocer_display_message_id(
    display: *const ocer_display,
    id_out: *mut ocer_str,
) -> ocer_result {
    // SAFETY: the caller's contract is string_of's.
    unsafe { string_of(display, id_out, |d| Some(&d.message_id)) }
}

/// The locale that formatted the strings, e.g. "en-US".
///
/// # Safety
///
/// `display` is NULL or a live `ocer_display`; `locale_out` is valid for
/// writing.
#[no_mangle]
pub unsafe extern "C" fn ocer_display_locale(
    display: *const ocer_display,
    locale_out: *mut ocer_str,
) -> ocer_result {
    // SAFETY: the caller's contract is string_of's.
    unsafe { string_of(display, locale_out, |d| Some(&d.locale)) }
}

/// The whole display as a JSON object in the shape of a UCWA error:
/// `{"code":"SipStatus","subcode":"504","message":"…","debugInfo":{…}}`.
///
/// # Safety
///
/// `display` is NULL or a live `ocer_display`; `json_out` is valid for
/// writing.
#[no_mangle]
pub unsafe extern "C" fn ocer_display_json(
    display: *const ocer_display,
    json_out: *mut ocer_str,
) -> ocer_result {
    // SAFETY: the caller's contract is string_of's.
    unsafe { string_of(display, json_out, |d| Some(&d.json)) }
}

/// Why this string was chosen.
///
/// # Safety
///
/// `display` is NULL or a live `ocer_display`; `cause_out` is valid for
/// writing.
#[no_mangle]
pub unsafe extern "C" fn ocer_display_cause(
    display: *const ocer_display,
    cause_out: *mut ocer_cause,
) -> ocer_result {
    guard(|| {
        // SAFETY: the caller's contract for cause_out.
        let out = unsafe { ptr::out(cause_out, "cause_out") }?;
        // SAFETY: the caller's contract for display.
        let d = &unsafe { ptr::borrow(display, "display") }?.shown;
        out.put(cause_of(d));
        Ok(())
    })
}

/// Frees a display. NULL is a no-op.
///
/// # Safety
///
/// `display` is NULL or a live `ocer_display`, not used after this call (nor
/// its strings).
#[no_mangle]
pub unsafe extern "C" fn ocer_display_free(display: *mut ocer_display) {
    // SAFETY: the caller's contract for display.
    guard_free(|| unsafe { ptr::free(display) });
}
