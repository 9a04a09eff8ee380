//! Causes and Fluent message ids.
//!
//! A message id has one shape (`locales/README.md`, "Message ids"):
//!
//! ```text
//! {set}-{category}-{code}-{mode}-{action}     lync2010-msdiag-1003-voice-call
//! {set}-generic-{mode}-{action}               lync2010-generic-voice-call
//! ```
//!
//! and is written by exactly one function, [`MessageKey::write_id`], from
//! typed values. [`MessageKey::parse`] reads one back; it exists to index the
//! embedded en-US files, and a test proves `parse` and `write_id` inverse for
//! every message there.

use std::fmt;

use super::context::{Action, Mode, StringSet};
use super::windows::WinError;
use crate::diag::ErrorId;
use crate::sip::{StatusCode, WarnCode};

/// The kind of a code, in MS-OCER 9.1.1 / 10.1.1 priority order, plus
/// `generic` for the strings of no code (9.3.1 / 10.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Category {
    /// `msdiag`: an `ms-diagnostics` / `ms-diagnostics-public` ErrorId
    /// (9.2.2 / 10.2.2).
    MsDiagnostic,
    /// `sip`: the SIP status code of the final response (9.2.3 / 10.2.3).
    SipStatus,
    /// `warning`: a SIP `Warning` code (9.2.4 / 10.2.4).
    Warning,
    /// `windows`: a Windows error (9.2.5 / 10.2.5).
    Windows,
    /// `generic`: the mode's string for an unhandled or unknown error.
    Generic,
}

impl Category {
    /// Every category, in priority order.
    pub const ALL: [Category; 5] = [
        Category::MsDiagnostic,
        Category::SipStatus,
        Category::Warning,
        Category::Windows,
        Category::Generic,
    ];

    /// The id used in message ids.
    pub const fn id(self) -> &'static str {
        match self {
            Self::MsDiagnostic => "msdiag",
            Self::SipStatus => "sip",
            Self::Warning => "warning",
            Self::Windows => "windows",
            Self::Generic => "generic",
        }
    }

    pub(crate) const fn index(self) -> u64 {
        match self {
            Self::MsDiagnostic => 0,
            Self::SipStatus => 1,
            Self::Warning => 2,
            Self::Windows => 3,
            Self::Generic => 4,
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// One code that can explain a failure, typed by its kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cause {
    /// An ErrorId of an `ms-diagnostics` or `ms-diagnostics-public` header.
    MsDiagnostic(ErrorId),
    /// The SIP status of the final response (or 408 for a transaction that
    /// timed out, RFC 3261 §8.1.3.1).
    SipStatus(StatusCode),
    /// A `Warning` code of the final response.
    Warning(WarnCode),
    /// A Windows error the transport met.
    Windows(WinError),
}

impl Cause {
    /// Its category.
    pub const fn category(self) -> Category {
        match self {
            Self::MsDiagnostic(_) => Category::MsDiagnostic,
            Self::SipStatus(_) => Category::SipStatus,
            Self::Warning(_) => Category::Warning,
            Self::Windows(_) => Category::Windows,
        }
    }

    /// The number, as the spec tables and the ids print it.
    pub const fn code(self) -> u32 {
        match self {
            Self::MsDiagnostic(id) => id.0,
            Self::SipStatus(status) => status.0 as u32,
            Self::Warning(code) => code.0 as u32,
            Self::Windows(error) => error.0,
        }
    }

    /// The cause of a category and number, if the number fits the kind
    /// (SIP and Warning codes are 16-bit). `None` for [`Category::Generic`].
    pub fn from_parts(category: Category, code: u32) -> Option<Cause> {
        Some(match category {
            Category::MsDiagnostic => Self::MsDiagnostic(ErrorId(code)),
            Category::SipStatus => Self::SipStatus(StatusCode(u16::try_from(code).ok()?)),
            Category::Warning => Self::Warning(WarnCode(u16::try_from(code).ok()?)),
            Category::Windows => Self::Windows(WinError(code)),
            Category::Generic => return None,
        })
    }
}

impl fmt::Display for Cause {
    /// `msdiag 1003`, `sip 486`, `warning 391`, `windows 10053`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.category().id(), self.code())
    }
}

/// Where a cause was found in the transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CauseOrigin {
    /// On the final response.
    FinalResponse,
    /// On a provisional response (a `101 Progress Report`, or any 1xx).
    ProgressReport,
    /// On a BYE or CANCEL the server sent in the dialog.
    ServerRequest,
    /// No final response came: the transaction timed out and the client
    /// itself counts that as `408 Request Timeout` (RFC 3261 §8.1.3.1).
    LocalTimeout,
    /// Reported by the transport (the Windows error given by the caller).
    Transport,
}

impl CauseOrigin {
    /// A kebab-case name for logs and JSON.
    pub const fn id(self) -> &'static str {
        match self {
            Self::FinalResponse => "final-response",
            Self::ProgressReport => "progress-report",
            Self::ServerRequest => "server-request",
            Self::LocalTimeout => "local-timeout",
            Self::Transport => "transport",
        }
    }
}

/// What a Fluent message is about: the typed parts of its id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MessageKey {
    /// Whose strings.
    pub set: StringSet,
    /// The code, or `None` for the mode's generic string.
    pub cause: Option<Cause>,
    /// The mode.
    pub mode: Mode,
    /// The action.
    pub action: Action,
}

impl MessageKey {
    /// The key of a code's string.
    pub const fn handled(set: StringSet, cause: Cause, mode: Mode, action: Action) -> Self {
        Self {
            set,
            cause: Some(cause),
            mode,
            action,
        }
    }

    /// The key of a mode's generic string.
    pub const fn generic(set: StringSet, mode: Mode, action: Action) -> Self {
        Self {
            set,
            cause: None,
            mode,
            action,
        }
    }

    /// The category: the cause's, or [`Category::Generic`].
    pub const fn category(&self) -> Category {
        match self.cause {
            Some(cause) => cause.category(),
            None => Category::Generic,
        }
    }

    /// Writes the Fluent message id. The only place ids are built.
    pub fn write_id<W: fmt::Write + ?Sized>(&self, out: &mut W) -> fmt::Result {
        out.write_str(self.set.id())?;
        out.write_char('-')?;
        out.write_str(self.category().id())?;
        if let Some(cause) = self.cause {
            write!(out, "-{}", cause.code())?;
        }
        write!(out, "-{}-{}", self.mode.id(), self.action.id())
    }

    /// The Fluent message id, e.g. `lync2010-msdiag-1003-voice-call`.
    pub fn id(&self) -> String {
        let mut id = String::with_capacity(48);
        // Writing to a String cannot fail.
        let _ = self.write_id(&mut id);
        id
    }

    /// Reads an id written by [`MessageKey::write_id`]; `None` if `id` does not
    /// have that shape (a code with a leading zero, a 16-bit kind with a larger
    /// number, an unknown part).
    pub fn parse(id: &str) -> Option<MessageKey> {
        let (set_id, rest) = id.split_once('-')?;
        let set = StringSet::ALL.into_iter().find(|s| s.id() == set_id)?;
        let (category_id, rest) = rest.split_once('-')?;
        let category = Category::ALL.into_iter().find(|c| c.id() == category_id)?;
        let (cause, rest) = if category == Category::Generic {
            (None, rest)
        } else {
            let (code, rest) = rest.split_once('-')?;
            let canonical = !code.is_empty()
                && code.bytes().all(|b| b.is_ascii_digit())
                && (code == "0" || !code.starts_with('0'));
            if !canonical {
                return None;
            }
            (Some(Cause::from_parts(category, code.parse().ok()?)?), rest)
        };
        // Modes and actions contain hyphens, but every mode id followed by '-'
        // is a distinct prefix, so at most one split fits.
        Mode::ALL.into_iter().find_map(|mode| {
            let action_id = rest.strip_prefix(mode.id())?.strip_prefix('-')?;
            let action = Action::ALL.into_iter().find(|a| a.id() == action_id)?;
            Some(MessageKey {
                set,
                cause,
                mode,
                action,
            })
        })
    }
}

impl fmt::Display for MessageKey {
    /// The message id.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_id(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_the_documented_shape() {
        let key = MessageKey::handled(
            StringSet::Lync2010,
            Cause::MsDiagnostic(ErrorId(1003)),
            Mode::Voice,
            Action::Call,
        );
        assert_eq!(key.id(), "lync2010-msdiag-1003-voice-call");
        assert_eq!(key.to_string(), key.id());
        let key = MessageKey::handled(
            StringSet::Communicator2007,
            Cause::SipStatus(StatusCode(486)),
            Mode::Voice,
            Action::Transfer,
        );
        assert_eq!(key.id(), "oc2007-sip-486-voice-transfer");
        let key = MessageKey::generic(StringSet::Lync2010, Mode::Voice, Action::Call);
        assert_eq!(key.id(), "lync2010-generic-voice-call");
        let key = MessageKey::handled(
            StringSet::Communicator2007,
            Cause::Windows(WinError::WSAECONNABORTED),
            Mode::ApplicationSharing,
            Action::Share,
        );
        assert_eq!(key.id(), "oc2007-windows-10053-application-sharing-share");
    }

    #[test]
    fn every_key_shape_round_trips() {
        let causes = [
            None,
            Some(Cause::MsDiagnostic(ErrorId(0))),
            Some(Cause::MsDiagnostic(ErrorId(u32::MAX))),
            Some(Cause::SipStatus(StatusCode(603))),
            Some(Cause::Warning(WarnCode(391))),
            Some(Cause::Windows(WinError(12031))),
        ];
        for set in StringSet::ALL {
            for cause in causes {
                for mode in Mode::ALL {
                    for action in Action::ALL {
                        let key = MessageKey {
                            set,
                            cause,
                            mode,
                            action,
                        };
                        assert_eq!(MessageKey::parse(&key.id()), Some(key), "{key}");
                    }
                }
            }
        }
    }

    #[test]
    fn malformed_ids_are_refused() {
        for id in [
            "",
            "lync2010",
            "lync2013-sip-486-voice-call",
            "lync2010-http-486-voice-call",
            "lync2010-sip-0486-voice-call",
            "lync2010-sip-70000-voice-call",
            "lync2010-sip--voice-call",
            "lync2010-sip-48a-voice-call",
            "lync2010-sip-486-voice",
            "lync2010-sip-486-voice-calls",
            "lync2010-sip-486-video-call",
            "lync2010-generic-486-voice-call",
            "lync2010-msdiag-4294967296-im-send-message",
            "-product-name",
        ] {
            assert_eq!(MessageKey::parse(id), None, "{id:?}");
        }
    }

    #[test]
    fn causes_know_their_category_and_code() {
        assert_eq!(Cause::Warning(WarnCode(391)).to_string(), "warning 391");
        assert_eq!(
            Cause::from_parts(Category::SipStatus, 486),
            Some(Cause::SipStatus(StatusCode(486)))
        );
        assert_eq!(Cause::from_parts(Category::SipStatus, 65_536), None);
        assert_eq!(Cause::from_parts(Category::Generic, 1), None);
        let priorities: Vec<_> = Category::ALL.iter().map(|c| c.id()).collect();
        assert_eq!(
            priorities,
            ["msdiag", "sip", "warning", "windows", "generic"]
        );
    }
}
