//! What the user sees, as a value: [`DisplayError`], and its JSON form in the
//! shape of UCWA 2.0's error body (seed `004_…`: `code`, `subcode`,
//! `message`, `debugInfo`; only `code` is required, readers ignore unknown
//! subcodes).

use std::fmt;

use serde::Serialize;

use unic_langid::LanguageIdentifier;

use super::context::{Action, Mode, StringSet};
use super::ids::{Cause, CauseOrigin, MessageKey};

/// The string shown for a failed transaction, and why it was chosen.
/// Not a Rust error: a value to show, log or send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayError {
    /// Whose strings (the context asked for).
    pub set: StringSet,
    /// The user's mode (the context asked for).
    pub mode: Mode,
    /// The user's action (the context asked for; the message's own action,
    /// after the fallback rule, is in `message_id`).
    pub action: Action,
    /// The code the message is about; for the generic string, the
    /// highest-priority code present (its `$errorId`).
    pub cause: Cause,
    /// Where that code was found.
    pub origin: CauseOrigin,
    /// The primary string (Lync "Error Message", Communicator "Summary
    /// string"); `None` for Communicator's IM and sharing rows, which write
    /// only the secondary string into the IM area.
    pub message: Option<String>,
    /// The secondary string (Lync "Additional Information", Communicator
    /// "Descriptive string"), if the message has one.
    pub info: Option<String>,
    /// The message shown; `message_id.to_string()` is its Fluent id.
    pub message_id: MessageKey,
    /// The locale that formatted it.
    pub locale: LanguageIdentifier,
}

impl DisplayError {
    /// Whether this is the mode's generic string (no code was handled).
    pub fn is_generic(&self) -> bool {
        self.message_id.cause.is_none()
    }

    /// The line to show first: the primary string, or the secondary one when
    /// the message has no primary string.
    pub fn headline(&self) -> &str {
        self.message
            .as_deref()
            .or(self.info.as_deref())
            .unwrap_or_default()
    }

    /// The UCWA `code`: the kind of the cause, `MsDiagnostics`, `SipStatus`,
    /// `SipWarning` or `WindowsError`.
    pub fn code(&self) -> &'static str {
        match self.cause {
            Cause::MsDiagnostic(_) => "MsDiagnostics",
            Cause::SipStatus(_) => "SipStatus",
            Cause::Warning(_) => "SipWarning",
            Cause::Windows(_) => "WindowsError",
        }
    }

    /// The UCWA-shaped JSON object:
    ///
    /// ```json
    /// {"code":"SipStatus","subcode":"504","message":"…",
    ///  "debugInfo":{"info":"…","messageId":"lync2010-sip-504-voice-call","handled":true,
    ///   "origin":"final-response","locale":"en-US","set":"lync2010","mode":"voice","action":"call"}}
    /// ```
    ///
    /// `code` is the kind of the cause ([`DisplayError::code`]), `subcode` its
    /// number in decimal, `message` the [`headline`](DisplayError::headline);
    /// `debugInfo` has the secondary string (when there is a primary one),
    /// the message id, whether a code was handled, where the cause came from,
    /// the locale and the context. This is the value's [`serde::Serialize`]
    /// form; [`UcwaError::from_json`](super::UcwaError::from_json) reads it back.
    pub fn to_json(&self) -> String {
        // A struct of strings and booleans always serializes.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// [`DisplayError::to_json`] into any writer.
    pub fn write_json<W: fmt::Write + ?Sized>(&self, out: &mut W) -> fmt::Result {
        out.write_str(&self.to_json())
    }

    fn wire(&self) -> Wire<'_> {
        Wire {
            code: self.code(),
            subcode: self.cause.code().to_string(),
            message: self.headline(),
            debug_info: WireDebug {
                info: self.message.as_ref().and(self.info.as_deref()),
                message_id: self.message_id.id(),
                handled: !self.is_generic(),
                origin: self.origin.id(),
                locale: self.locale.to_string(),
                set: self.set.id(),
                mode: self.mode.id(),
                action: self.action.id(),
            },
        }
    }
}

/// The serialized shape of a [`DisplayError`]; field order is the JSON's.
#[derive(Serialize)]
struct Wire<'a> {
    code: &'static str,
    subcode: String,
    message: &'a str,
    #[serde(rename = "debugInfo")]
    debug_info: WireDebug<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WireDebug<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    info: Option<&'a str>,
    message_id: String,
    handled: bool,
    origin: &'static str,
    locale: String,
    set: &'static str,
    mode: &'static str,
    action: &'static str,
}

impl Serialize for DisplayError {
    /// The UCWA error body shape of [`DisplayError::to_json`].
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.wire().serialize(serializer)
    }
}

impl fmt::Display for DisplayError {
    /// The headline, then the secondary string on its own line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.headline())?;
        if let (Some(_), Some(info)) = (&self.message, &self.info) {
            write!(f, "\n{info}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::StatusCode;

    fn sample(message: Option<&str>, info: Option<&str>) -> DisplayError {
        DisplayError {
            set: StringSet::Lync2010,
            mode: Mode::Voice,
            action: Action::Park,
            cause: Cause::SipStatus(StatusCode(504)),
            origin: CauseOrigin::FinalResponse,
            message: message.map(str::to_owned),
            info: info.map(str::to_owned),
            message_id: MessageKey::handled(
                StringSet::Lync2010,
                Cause::SipStatus(StatusCode(504)),
                Mode::Voice,
                Action::Call,
            ),
            locale: "en-US".parse().unwrap(),
        }
    }

    #[test]
    fn json_has_the_ucwa_shape() {
        let e = sample(Some("Call \"failed\"."), Some("Line\none\\two\u{1}"));
        assert_eq!(
            e.to_json(),
            "{\"code\":\"SipStatus\",\"subcode\":\"504\",\"message\":\"Call \\\"failed\\\".\",\
             \"debugInfo\":{\"info\":\"Line\\none\\\\two\\u0001\",\"messageId\":\"lync2010-sip-504-voice-call\",\
             \"handled\":true,\"origin\":\"final-response\",\"locale\":\"en-US\",\"set\":\"lync2010\",\
             \"mode\":\"voice\",\"action\":\"park\"}}"
        );
    }

    #[test]
    fn an_info_only_message_puts_info_in_message() {
        let e = sample(None, Some("Only info."));
        assert_eq!(e.headline(), "Only info.");
        assert_eq!(e.to_string(), "Only info.");
        assert!(e.to_json().starts_with("{\"code\":\"SipStatus\",\"subcode\":\"504\",\"message\":\"Only info.\",\"debugInfo\":{\"messageId\""));
        let e = sample(Some("Primary."), Some("Secondary."));
        assert_eq!(e.to_string(), "Primary.\nSecondary.");
    }

    #[test]
    fn json_strings_escape_what_rfc_8259_requires() {
        let e = sample(Some("a\"b\\c\td\re\u{7f}é\u{1f}"), None);
        assert!(
            e.to_json()
                .contains("\"message\":\"a\\\"b\\\\c\\td\\re\u{7f}é\\u001f\""),
            "{}",
            e.to_json()
        );
    }
}
