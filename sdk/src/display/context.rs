//! What the user was doing when an error arrived: which client's strings
//! ([`StringSet`]), in which [`Mode`] (MS-OCER 9.2.1 / 10.2.1), doing what
//! ([`Action`]).
//!
//! The kebab-case ids of these values are the ones `locales/README.md`
//! documents and the Fluent message ids use; the taxonomy is defined there.

use std::fmt;
use std::str::FromStr;

/// Which client's strings: MS-OCER Appendix D (Lync 2010) or Appendix E
/// (Office Communicator 2007 / 2007 R2). The two differ in wording, in modes
/// and in which codes they handle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StringSet {
    /// Section 9: Microsoft Lync 2010. Id `lync2010`, file `lync2010.ftl`.
    Lync2010,
    /// Section 10: Office Communicator 2007 and 2007 R2. Id `oc2007`, file
    /// `communicator2007.ftl`.
    Communicator2007,
}

impl StringSet {
    /// Both sets, in spec order.
    pub const ALL: [StringSet; 2] = [StringSet::Lync2010, StringSet::Communicator2007];

    /// The id used in message ids: `lync2010` or `oc2007`.
    pub const fn id(self) -> &'static str {
        match self {
            Self::Lync2010 => "lync2010",
            Self::Communicator2007 => "oc2007",
        }
    }

    /// The name of its Fluent file in a locale directory (`lync2010.ftl`,
    /// `communicator2007.ftl`), also accepted by [`FromStr`] without `.ftl`.
    pub const fn file_name(self) -> &'static str {
        match self {
            Self::Lync2010 => "lync2010.ftl",
            Self::Communicator2007 => "communicator2007.ftl",
        }
    }

    /// The MS-OCER section the strings come from.
    pub const fn spec_section(self) -> &'static str {
        match self {
            Self::Lync2010 => "9",
            Self::Communicator2007 => "10",
        }
    }

    /// The modes this client shows errors in. Lync has `sharing`,
    /// Communicator its single `application-sharing` row instead.
    pub const fn modes(self) -> &'static [Mode] {
        match self {
            Self::Lync2010 => &[
                Mode::Im,
                Mode::Voice,
                Mode::Conference,
                Mode::Sharing,
                Mode::Other,
            ],
            Self::Communicator2007 => &[
                Mode::Im,
                Mode::Voice,
                Mode::Conference,
                Mode::ApplicationSharing,
                Mode::Other,
            ],
        }
    }

    /// The mode this client shows `mode` in: Communicator has no `sharing`
    /// mode, its sharing strings are its `application-sharing` row (10.2.3),
    /// and Lync the other way round; every other mode is its own.
    pub const fn mode_for(self, mode: Mode) -> Mode {
        match (self, mode) {
            (Self::Communicator2007, Mode::Sharing) => Mode::ApplicationSharing,
            (Self::Lync2010, Mode::ApplicationSharing) => Mode::Sharing,
            (_, mode) => mode,
        }
    }

    pub(crate) const fn index(self) -> usize {
        match self {
            Self::Lync2010 => 0,
            Self::Communicator2007 => 1,
        }
    }
}

/// The mode the user was in when the error arrived (MS-OCER 9.2.1, 10.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Mode {
    /// `im`: instant messages between two or more parties, and file transfer.
    Im,
    /// `voice`: audio or audio/video between two parties.
    Voice,
    /// `conference`: more than two parties through a conferencing server.
    Conference,
    /// `sharing`: content and application sharing (Lync 2010 only).
    Sharing,
    /// `application-sharing`: Communicator's `ApplicationSharing` row (10.2.3).
    ApplicationSharing,
    /// `other`: none of the above (9.3.1's generic "Other" row).
    Other,
}

impl Mode {
    /// Every mode.
    pub const ALL: [Mode; 6] = [
        Mode::Im,
        Mode::Voice,
        Mode::Conference,
        Mode::Sharing,
        Mode::ApplicationSharing,
        Mode::Other,
    ];

    /// The kebab-case id used in message ids.
    pub const fn id(self) -> &'static str {
        match self {
            Self::Im => "im",
            Self::Voice => "voice",
            Self::Conference => "conference",
            Self::Sharing => "sharing",
            Self::ApplicationSharing => "application-sharing",
            Self::Other => "other",
        }
    }

    /// The action whose string is shown when the user's own action has no
    /// string for a code (`locales/README.md`, "the fallback rule", step 2):
    /// what a user in this mode is doing most of the time.
    pub const fn primary_action(self) -> Action {
        match self {
            Self::Im => Action::SendMessage,
            Self::Voice => Action::Call,
            Self::Conference => Action::Join,
            Self::Sharing | Self::ApplicationSharing => Action::Share,
            Self::Other => Action::Any,
        }
    }
}

/// What the user was doing within the mode. The spec often gives several
/// strings for one (mode, code); the action tells them apart. The taxonomy,
/// and which strings each action was derived from, is in `locales/README.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    /// `send-message`: sending an instant message.
    SendMessage,
    /// `start-conversation`: opening an IM conversation with someone whose
    /// endpoint cannot take IM.
    StartConversation,
    /// `add-participant`: inviting or adding a person to a meeting or a
    /// multi-party conversation.
    AddParticipant,
    /// `call`: placing or answering a two-party call (or dialling out from a
    /// meeting).
    Call,
    /// `transfer`: transferring a call.
    Transfer,
    /// `add-video`: adding video to a call.
    AddVideo,
    /// `park`: parking a call.
    Park,
    /// `join`: joining, starting or creating a meeting, or its audio.
    Join,
    /// `in-session`: in a session that was already up, when the far end or
    /// the server ended or broke it.
    InSession,
    /// `share`: starting to share a screen, desktop or program.
    Share,
    /// `invite-share`: inviting a contact to a two-party sharing session.
    InviteShare,
    /// `answer-share`: answering (declining) a sharing invitation.
    AnswerShare,
    /// `share-content`: sharing meeting content through the conferencing
    /// (data) service.
    ShareContent,
    /// `any`: anything (mode `other`).
    Any,
    /// `sign-in`: signing in (REGISTER), mode `other`. Not an action of the
    /// spec, which has no sign-in strings: its messages carry Lync 2010's own
    /// sign-in text (`locales/README.md`, "Sign-in strings").
    SignIn,
}

impl Action {
    /// Every action.
    pub const ALL: [Action; 15] = [
        Action::SendMessage,
        Action::StartConversation,
        Action::AddParticipant,
        Action::Call,
        Action::Transfer,
        Action::AddVideo,
        Action::Park,
        Action::Join,
        Action::InSession,
        Action::Share,
        Action::InviteShare,
        Action::AnswerShare,
        Action::ShareContent,
        Action::Any,
        Action::SignIn,
    ];

    /// The kebab-case id used in message ids.
    pub const fn id(self) -> &'static str {
        match self {
            Self::SendMessage => "send-message",
            Self::StartConversation => "start-conversation",
            Self::AddParticipant => "add-participant",
            Self::Call => "call",
            Self::Transfer => "transfer",
            Self::AddVideo => "add-video",
            Self::Park => "park",
            Self::Join => "join",
            Self::InSession => "in-session",
            Self::Share => "share",
            Self::InviteShare => "invite-share",
            Self::AnswerShare => "answer-share",
            Self::ShareContent => "share-content",
            Self::Any => "any",
            Self::SignIn => "sign-in",
        }
    }
}

/// Where and what: the string set of the client, the user's mode and action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Context {
    /// Whose strings.
    pub set: StringSet,
    /// The mode the user was in.
    pub mode: Mode,
    /// What the user was doing.
    pub action: Action,
}

impl Context {
    /// A context.
    pub const fn new(set: StringSet, mode: Mode, action: Action) -> Self {
        Self { set, mode, action }
    }

    /// The context of the mode's primary action.
    pub const fn primary(set: StringSet, mode: Mode) -> Self {
        Self::new(set, mode, mode.primary_action())
    }
}

/// A name that is not one of the documented ids.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} `{value}` (expected one of: {expected})")]
pub struct UnknownName {
    /// "string set", "mode" or "action".
    pub what: &'static str,
    /// What was given.
    pub value: String,
    /// The accepted ids, comma-separated.
    pub expected: String,
}

fn unknown<T: Copy>(
    what: &'static str,
    value: &str,
    all: &[T],
    id: fn(T) -> &'static str,
) -> UnknownName {
    UnknownName {
        what,
        value: value.to_owned(),
        expected: all.iter().map(|v| id(*v)).collect::<Vec<_>>().join(", "),
    }
}

impl FromStr for StringSet {
    type Err = UnknownName;

    /// Accepts the id (`lync2010`, `oc2007`), the file stem
    /// (`communicator2007`) or the file name, ASCII case-insensitively.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|set| {
                s.eq_ignore_ascii_case(set.id())
                    || s.eq_ignore_ascii_case(set.file_name())
                    || set
                        .file_name()
                        .strip_suffix(".ftl")
                        .is_some_and(|stem| s.eq_ignore_ascii_case(stem))
            })
            .ok_or_else(|| unknown("string set", s, &Self::ALL, Self::id))
    }
}

impl FromStr for Mode {
    type Err = UnknownName;

    /// Accepts the id, ASCII case-insensitively.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|m| s.eq_ignore_ascii_case(m.id()))
            .ok_or_else(|| unknown("mode", s, &Self::ALL, Self::id))
    }
}

impl FromStr for Action {
    type Err = UnknownName;

    /// Accepts the id, ASCII case-insensitively.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|a| s.eq_ignore_ascii_case(a.id()))
            .ok_or_else(|| unknown("action", s, &Self::ALL, Self::id))
    }
}

impl fmt::Display for StringSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_from_str() {
        for set in StringSet::ALL {
            assert_eq!(set.id().parse::<StringSet>(), Ok(set));
            assert_eq!(set.file_name().parse::<StringSet>(), Ok(set));
        }
        assert_eq!(
            "communicator2007".parse::<StringSet>(),
            Ok(StringSet::Communicator2007)
        );
        assert_eq!("LYNC2010".parse::<StringSet>(), Ok(StringSet::Lync2010));
        for mode in Mode::ALL {
            assert_eq!(mode.id().parse::<Mode>(), Ok(mode));
            assert_eq!(mode.to_string(), mode.id());
        }
        for action in Action::ALL {
            assert_eq!(action.id().parse::<Action>(), Ok(action));
            assert_eq!(action.to_string(), action.id());
        }
    }

    #[test]
    fn unknown_names_list_what_is_accepted() {
        let err = "sms".parse::<Mode>().unwrap_err();
        assert_eq!(err.what, "mode");
        assert_eq!(
            err.to_string(),
            "unknown mode `sms` (expected one of: im, voice, conference, sharing, application-sharing, other)"
        );
        assert!("lync2013".parse::<StringSet>().is_err());
        assert!("send_message".parse::<Action>().is_err());
    }

    #[test]
    fn primary_actions_are_the_documented_ones() {
        let primaries: Vec<_> = Mode::ALL
            .iter()
            .map(|m| (m.id(), m.primary_action().id()))
            .collect();
        assert_eq!(
            primaries,
            [
                ("im", "send-message"),
                ("voice", "call"),
                ("conference", "join"),
                ("sharing", "share"),
                ("application-sharing", "share"),
                ("other", "any"),
            ]
        );
    }

    #[test]
    fn each_set_has_its_own_sharing_mode() {
        assert!(StringSet::Lync2010.modes().contains(&Mode::Sharing));
        assert!(!StringSet::Lync2010
            .modes()
            .contains(&Mode::ApplicationSharing));
        assert!(StringSet::Communicator2007
            .modes()
            .contains(&Mode::ApplicationSharing));
        assert!(!StringSet::Communicator2007.modes().contains(&Mode::Sharing));
    }
}
