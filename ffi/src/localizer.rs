//! `ocer_localizer`: the display strings of MS-OCER Appendix D / E (en-US
//! built in, more locales from FTL text) and the priority rule that picks the
//! string the user sees for a record.

use ocer::display::WinError;
use ocer::display::{
    Action, Context, Isolation, LanguageIdentifier, LocaleSource, Localizer, Mode, Placeholders,
    StringSet,
};

use crate::display::{ocer_display, DisplayObject};
use crate::guard::{guard, guard_free};
use crate::ptr::{self, ocer_str, Object};
use crate::record::ocer_record;
use crate::result::{ocer_result, Failure};

/// Whose strings: one of the `OCER_STRING_SET_*` constants.
pub type ocer_string_set = u32;
/// MS-OCER Appendix D (section 9): Microsoft Lync 2010.
pub const OCER_STRING_SET_LYNC2010: ocer_string_set = 0;
/// MS-OCER Appendix E (section 10): Office Communicator 2007 / 2007 R2.
pub const OCER_STRING_SET_COMMUNICATOR2007: ocer_string_set = 1;

/// The mode the user was in (MS-OCER 9.2.1 / 10.2.1): one of the
/// `OCER_MODE_*` constants.
pub type ocer_mode = u32;
/// Instant messages and file transfer.
pub const OCER_MODE_IM: ocer_mode = 0;
/// A two-party audio or audio/video call.
pub const OCER_MODE_VOICE: ocer_mode = 1;
/// More than two parties through a conferencing server.
pub const OCER_MODE_CONFERENCE: ocer_mode = 2;
/// Content and application sharing (Lync 2010 only).
pub const OCER_MODE_SHARING: ocer_mode = 3;
/// Communicator's ApplicationSharing row (Communicator 2007 only).
pub const OCER_MODE_APPLICATION_SHARING: ocer_mode = 4;
/// None of the above.
pub const OCER_MODE_OTHER: ocer_mode = 5;

/// What the user was doing within the mode (`locales/README.md` defines the
/// taxonomy): one of the `OCER_ACTION_*` constants.
pub type ocer_action = u32;
/// Sending an instant message.
pub const OCER_ACTION_SEND_MESSAGE: ocer_action = 0;
/// Opening an IM conversation with someone whose endpoint cannot take IM.
pub const OCER_ACTION_START_CONVERSATION: ocer_action = 1;
/// Inviting or adding a person to a meeting or multi-party conversation.
pub const OCER_ACTION_ADD_PARTICIPANT: ocer_action = 2;
/// Placing or answering a two-party call.
pub const OCER_ACTION_CALL: ocer_action = 3;
/// Transferring a call.
pub const OCER_ACTION_TRANSFER: ocer_action = 4;
/// Adding video to a call.
pub const OCER_ACTION_ADD_VIDEO: ocer_action = 5;
/// Parking a call.
pub const OCER_ACTION_PARK: ocer_action = 6;
/// Joining, starting or creating a meeting, or its audio.
pub const OCER_ACTION_JOIN: ocer_action = 7;
/// In a session that was already up, when the far end or the server ended it.
pub const OCER_ACTION_IN_SESSION: ocer_action = 8;
/// Starting to share a screen, desktop or program.
pub const OCER_ACTION_SHARE: ocer_action = 9;
/// Inviting a contact to a two-party sharing session.
pub const OCER_ACTION_INVITE_SHARE: ocer_action = 10;
/// Answering (declining) a sharing invitation.
pub const OCER_ACTION_ANSWER_SHARE: ocer_action = 11;
/// Sharing meeting content through the conferencing (data) service.
pub const OCER_ACTION_SHARE_CONTENT: ocer_action = 12;
/// Anything (mode other).
pub const OCER_ACTION_ANY: ocer_action = 13;
/// Signing in (REGISTER), mode other: Lync 2010's own sign-in text, which the
/// spec does not give (locales/README.md, "Sign-in strings").
pub const OCER_ACTION_SIGN_IN: ocer_action = 14;

/// Whether placeables are wrapped in Unicode bidi isolation marks: one of the
/// `OCER_ISOLATION_*` constants.
pub type ocer_isolation = u32;
/// No marks: text for logs, reports, JSON, terminals and tests.
pub const OCER_ISOLATION_OFF: ocer_isolation = 0;
/// U+2068 … U+2069 around each name: text a user interface renders, always
/// when right-to-left locales or names are possible.
pub const OCER_ISOLATION_ON: ocer_isolation = 1;

const SETS: [(ocer_string_set, StringSet); 2] = [
    (OCER_STRING_SET_LYNC2010, StringSet::Lync2010),
    (
        OCER_STRING_SET_COMMUNICATOR2007,
        StringSet::Communicator2007,
    ),
];

const MODES: [(ocer_mode, Mode); 6] = [
    (OCER_MODE_IM, Mode::Im),
    (OCER_MODE_VOICE, Mode::Voice),
    (OCER_MODE_CONFERENCE, Mode::Conference),
    (OCER_MODE_SHARING, Mode::Sharing),
    (OCER_MODE_APPLICATION_SHARING, Mode::ApplicationSharing),
    (OCER_MODE_OTHER, Mode::Other),
];

const ACTIONS: [(ocer_action, Action); 15] = [
    (OCER_ACTION_SEND_MESSAGE, Action::SendMessage),
    (OCER_ACTION_START_CONVERSATION, Action::StartConversation),
    (OCER_ACTION_ADD_PARTICIPANT, Action::AddParticipant),
    (OCER_ACTION_CALL, Action::Call),
    (OCER_ACTION_TRANSFER, Action::Transfer),
    (OCER_ACTION_ADD_VIDEO, Action::AddVideo),
    (OCER_ACTION_PARK, Action::Park),
    (OCER_ACTION_JOIN, Action::Join),
    (OCER_ACTION_IN_SESSION, Action::InSession),
    (OCER_ACTION_SHARE, Action::Share),
    (OCER_ACTION_INVITE_SHARE, Action::InviteShare),
    (OCER_ACTION_ANSWER_SHARE, Action::AnswerShare),
    (OCER_ACTION_SHARE_CONTENT, Action::ShareContent),
    (OCER_ACTION_ANY, Action::Any),
    (OCER_ACTION_SIGN_IN, Action::SignIn),
];

fn lookup_in<T: Copy>(table: &[(u32, T)], value: u32, what: &str) -> Result<T, Failure> {
    table
        .iter()
        .find(|(c, _)| *c == value)
        .map(|(_, v)| *v)
        .ok_or_else(|| Failure::invalid(format!("unknown {what} {value}")))
}

fn lookup_out<T: Copy + PartialEq>(table: &[(u32, T)], value: T) -> u32 {
    // Every Rust value is in its table (a unit test walks them all).
    table
        .iter()
        .find(|(_, v)| *v == value)
        .map_or(u32::MAX, |(c, _)| *c)
}

pub(crate) fn set_in(set: ocer_string_set) -> Result<StringSet, Failure> {
    lookup_in(&SETS, set, "ocer_string_set")
}

pub(crate) fn set_out(set: StringSet) -> ocer_string_set {
    lookup_out(&SETS, set)
}

pub(crate) fn mode_in(mode: ocer_mode) -> Result<Mode, Failure> {
    lookup_in(&MODES, mode, "ocer_mode")
}

pub(crate) fn action_in(action: ocer_action) -> Result<Action, Failure> {
    lookup_in(&ACTIONS, action, "ocer_action")
}

pub(crate) fn mode_out(mode: Mode) -> ocer_mode {
    lookup_out(&MODES, mode)
}

pub(crate) fn action_out(action: Action) -> ocer_action {
    lookup_out(&ACTIONS, action)
}

/// The values of the placeholders the strings use. Each may be `{NULL, 0}`
/// (empty).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ocer_placeholders {
    /// `{ $user }`, the spec's `[user name]`: the other person's display name.
    pub user: ocer_str,
    /// `{ $client }`, the spec's `[client name]`: the client's own name.
    pub client: ocer_str,
    /// `{ $feature }`, Communicator's `%3`: the sharing feature that did not
    /// start, e.g. "Desktop sharing".
    pub feature: ocer_str,
}

/// The display strings: en-US built in, plus the locales the app adds.
///
/// Made by `ocer_localizer_new`; free it with `ocer_localizer_free`.
///
/// Thread-safety: add every locale first, from one thread; after that,
/// `ocer_localizer_resolve` may be called from any number of threads at once.
/// Never call `ocer_localizer_add_locale` while another thread uses it.
pub struct ocer_localizer {
    _private: [u8; 0],
}

impl Object for ocer_localizer {
    type Rust = Localizer;
}

/// A localizer with the built-in en-US strings of both string sets.
///
/// # Safety
///
/// `localizer_out` is valid for writing a pointer.
#[no_mangle]
pub unsafe extern "C" fn ocer_localizer_new(
    isolation: ocer_isolation,
    localizer_out: *mut *mut ocer_localizer,
) -> ocer_result {
    guard(|| {
        // SAFETY: the caller's contract for localizer_out.
        let out = unsafe { ptr::out(localizer_out, "localizer_out") }?;
        let isolation = match isolation {
            OCER_ISOLATION_OFF => Isolation::Off,
            OCER_ISOLATION_ON => Isolation::On,
            other => return Err(Failure::invalid(format!("unknown ocer_isolation {other}"))),
        };
        out.put(ptr::into_raw(Localizer::new(isolation)));
        Ok(())
    })
}

/// Adds one string set of one locale from its FTL text (the content of
/// `lync2010.ftl` or `communicator2007.ftl` of that locale). The file is
/// checked against en-US and refused whole if anything is wrong with it, so a
/// translator's mistake never shows a user English or a broken sentence.
///
/// Errors: `OCER_RESULT_LOCALE_INVALID_TAG` (`locale` is not a language tag
/// such as "de-DE"), `OCER_RESULT_LOCALE_REFERENCE` (en-US),
/// `OCER_RESULT_LOCALE_DUPLICATE`, `OCER_RESULT_LOCALE_INVALID` (the last
/// error message lists every problem, one per line).
///
/// # Safety
///
/// `localizer` is NULL or a live `ocer_localizer` no other thread is using;
/// `locale` and `ftl` point to `locale_len` and `ftl_len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn ocer_localizer_add_locale(
    localizer: *mut ocer_localizer,
    locale: *const u8,
    locale_len: usize,
    set: ocer_string_set,
    ftl: *const u8,
    ftl_len: usize,
) -> ocer_result {
    guard(|| {
        // SAFETY: the caller's contract for localizer.
        let localizer = unsafe { ptr::borrow_mut(localizer, "localizer") }?;
        // SAFETY: the caller's contract for locale.
        let tag = unsafe { ptr::str_in(locale, locale_len, "locale") }?;
        // SAFETY: the caller's contract for ftl.
        let ftl = unsafe { ptr::str_in(ftl, ftl_len, "ftl") }?;
        let set = set_in(set)?;
        let locale: LanguageIdentifier = tag.parse().map_err(|e| {
            Failure::new(
                ocer_result::OCER_RESULT_LOCALE_INVALID_TAG,
                format!("{tag:?} is not a language tag: {e}"),
            )
        })?;
        localizer.add_locale(LocaleSource {
            locale,
            set,
            ftl: ftl.to_owned(),
        })?;
        Ok(())
    })
}

/// What the user sees for `record`: the MS-OCER priority rule (the final
/// response's ms-diagnostics, then progress reports latest first, then the
/// SIP status, then Warning codes, then `windows_error`) picks the most
/// specific string of `set` for (`mode`, `action`) against en-US, and it is
/// formatted in the first of the user's locales that has it.
///
/// `locales` is the user's preference list in the `Accept-Language` form,
/// e.g. "de-DE, fr;q=0.5" or "de-AT,de"; empty for en-US. Entries that are not
/// language tags are ignored. `windows_error` is the Windows (or WinInet)
/// error the transport met, 0 for none. `placeholders` may be NULL (all
/// empty).
///
/// Errors: `OCER_RESULT_NOT_A_FAILURE` when the record shows no failure (no
/// `*display_out` is made), `OCER_RESULT_INVALID_ARGUMENT` (unknown set,
/// mode or action), `OCER_RESULT_INVALID_UTF8`.
///
/// # Safety
///
/// `localizer` and `record` are NULL or live objects of their types;
/// `locales` points to `locales_len` readable bytes; `placeholders` is NULL
/// or points to an `ocer_placeholders` whose strings are readable;
/// `display_out` is valid for writing a pointer.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn ocer_localizer_resolve(
    localizer: *const ocer_localizer,
    record: *const ocer_record,
    set: ocer_string_set,
    mode: ocer_mode,
    action: ocer_action,
    locales: *const u8,
    locales_len: usize,
    windows_error: u32,
    placeholders: *const ocer_placeholders,
    display_out: *mut *mut ocer_display,
) -> ocer_result {
    guard(|| {
        // SAFETY: the caller's contract for display_out.
        let out = unsafe { ptr::out(display_out, "display_out") }?;
        // SAFETY: the caller's contract for localizer.
        let localizer = unsafe { ptr::borrow(localizer, "localizer") }?;
        // SAFETY: the caller's contract for record.
        let record = unsafe { ptr::borrow(record, "record") }?;
        // SAFETY: the caller's contract for locales.
        let locales = unsafe { ptr::str_in(locales, locales_len, "locales") }?;
        let context = Context::new(set_in(set)?, mode_in(mode)?, action_in(action)?);
        let mut values = Placeholders::default();
        // SAFETY: the caller's contract for placeholders.
        if let Some(p) = unsafe { ptr::opt_in(placeholders) } {
            // SAFETY: the caller's contract for the strings of placeholders.
            values.user = unsafe { ptr::ocer_str_in(p.user, "placeholders.user") }?;
            // SAFETY: as above.
            values.client = unsafe { ptr::ocer_str_in(p.client, "placeholders.client") }?;
            // SAFETY: as above.
            values.feature = unsafe { ptr::ocer_str_in(p.feature, "placeholders.feature") }?;
        }
        let windows = (windows_error != 0).then_some(WinError(windows_error));
        let chain = localizer.negotiate_accept_language(locales);
        let shown = localizer
            .display(&chain, record, windows, context, &values)
            .ok_or_else(|| {
                Failure::new(
                    ocer_result::OCER_RESULT_NOT_A_FAILURE,
                    "the record shows no failure: nothing to display",
                )
            })?;
        out.put(ptr::into_raw::<ocer_display>(DisplayObject::new(shown)));
        Ok(())
    })
}

/// Frees a localizer. NULL is a no-op. Displays it made stay valid.
///
/// # Safety
///
/// `localizer` is NULL or a live `ocer_localizer` no other thread is using,
/// not used after this call.
#[no_mangle]
pub unsafe extern "C" fn ocer_localizer_free(localizer: *mut ocer_localizer) {
    // SAFETY: the caller's contract for localizer.
    guard_free(|| unsafe { ptr::free(localizer) });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_has_one_constant() {
        for set in StringSet::ALL {
            assert_eq!(set_in(set_out(set)).unwrap(), set);
        }
        for mode in Mode::ALL {
            assert_eq!(lookup_in(&MODES, mode_out(mode), "m").unwrap(), mode);
        }
        for action in Action::ALL {
            assert_eq!(
                lookup_in(&ACTIONS, action_out(action), "a").unwrap(),
                action
            );
        }
        assert_eq!(MODES.len(), Mode::ALL.len());
        assert_eq!(ACTIONS.len(), Action::ALL.len());
        assert_eq!(SETS.len(), StringSet::ALL.len());
        assert!(set_in(2).is_err());
    }
}
