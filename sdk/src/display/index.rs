//! Which strings exist: the index of the embedded en-US messages, and the
//! fallback rule that picks one for a (set, code, mode, action).
//!
//! en-US is the reference: a string is "handled" when en-US has a message for
//! it, whatever other locales translate (DESIGN §4: choose the most specific
//! id against en-US, then format it in the user's locale chain, so a
//! half-translated locale never swaps a specific string for a vague one).

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use fluent_bundle::FluentResource;
use fluent_syntax::ast;

use super::context::{Action, Mode, StringSet};
use super::ids::{Category, Cause, MessageKey};

/// `locales/en-US/lync2010.ftl`, embedded.
pub(crate) const EN_US_LYNC2010: &str = include_str!("../../locales/en-US/lync2010.ftl");
/// `locales/en-US/communicator2007.ftl`, embedded.
pub(crate) const EN_US_COMMUNICATOR2007: &str =
    include_str!("../../locales/en-US/communicator2007.ftl");

/// The en-US source of a set.
pub(crate) const fn en_us_source(set: StringSet) -> &'static str {
    match set {
        StringSet::Lync2010 => EN_US_LYNC2010,
        StringSet::Communicator2007 => EN_US_COMMUNICATOR2007,
    }
}

/// The attribute that holds the secondary string (Lync "Additional
/// Information", Communicator "Descriptive string").
pub(crate) const INFO_ATTRIBUTE: &str = "info";

/// Position of a message in the index (file order, Lync first).
pub(crate) type Slot = u16;

/// One en-US message.
#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) key: MessageKey,
    pub(crate) id: Box<str>,
    pub(crate) has_value: bool,
    pub(crate) has_info: bool,
}

/// A (set, category, code, mode) with its messages in spec order.
#[derive(Debug, Clone, Copy)]
struct Group {
    key: u64,
    start: u16,
    len: u16,
}

/// The index of the en-US messages. Built once from the embedded files
/// ([`StringIndex::en_us`]); lookups are a binary search over a few hundred
/// packed keys and allocate nothing.
#[derive(Debug)]
pub struct StringIndex {
    entries: Vec<Entry>,
    groups: Vec<Group>,
    members: Vec<(Action, Slot)>,
}

/// The embedded en-US resources and their index, parsed once per process.
pub(crate) struct EnUs {
    pub(crate) resources: [Arc<FluentResource>; 2],
    pub(crate) index: StringIndex,
    /// FTL syntax errors and message ids that are not [`MessageKey`]s; both
    /// zero for the shipped files (a test says so).
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) problems: Vec<String>,
}

pub(crate) fn en_us() -> &'static EnUs {
    static EN_US: OnceLock<EnUs> = OnceLock::new();
    EN_US.get_or_init(|| {
        let mut problems = Vec::new();
        let resources = StringSet::ALL.map(|set| {
            let resource = match FluentResource::try_new(en_us_source(set).to_owned()) {
                Ok(resource) => resource,
                Err((resource, errors)) => {
                    problems.extend(errors.iter().map(|e| format!("{}: {e:?}", set.file_name())));
                    resource
                }
            };
            Arc::new(resource)
        });
        let index = StringIndex::build(&resources, &mut problems);
        for problem in &problems {
            // Our own embedded data is wrong: a test fails on this too.
            tracing::error!(%problem, "embedded en-US display strings");
        }
        EnUs {
            resources,
            index,
            problems,
        }
    })
}

const fn pack(set: StringSet, category: Category, code: u32, mode: Mode) -> u64 {
    let mode_index = match mode {
        Mode::Im => 0,
        Mode::Voice => 1,
        Mode::Conference => 2,
        Mode::Sharing => 3,
        Mode::ApplicationSharing => 4,
        Mode::Other => 5,
    };
    ((set.index() as u64) << 40) | (category.index() << 36) | (mode_index << 32) | code as u64
}

const fn group_key(set: StringSet, cause: Option<Cause>, mode: Mode) -> u64 {
    match cause {
        Some(cause) => pack(set, cause.category(), cause.code(), mode),
        None => pack(set, Category::Generic, 0, mode),
    }
}

impl StringIndex {
    /// The index of the embedded en-US strings.
    pub fn en_us() -> &'static StringIndex {
        &en_us().index
    }

    /// Indexes the messages of `resources` (one per [`StringSet::ALL`]), in
    /// file order. Terms are skipped; messages whose id is not a
    /// [`MessageKey`] of that file's set are reported in `problems`.
    fn build(resources: &[Arc<FluentResource>; 2], problems: &mut Vec<String>) -> StringIndex {
        let mut entries = Vec::new();
        for (set, resource) in StringSet::ALL.into_iter().zip(resources) {
            for entry in resource.entries() {
                let ast::Entry::Message(message) = entry else {
                    continue;
                };
                let id = message.id.name;
                match MessageKey::parse(id) {
                    Some(key) if key.set == set && entries.len() < usize::from(Slot::MAX) => {
                        entries.push(Entry {
                            key,
                            id: id.into(),
                            has_value: message.value.is_some(),
                            has_info: message
                                .attributes
                                .iter()
                                .any(|a| a.id.name == INFO_ATTRIBUTE),
                        });
                    }
                    _ => problems.push(format!(
                        "{}: `{id}` is not a message id of this set",
                        set.file_name()
                    )),
                }
            }
        }
        let mut grouped: BTreeMap<u64, Vec<(Action, Slot)>> = BTreeMap::new();
        for (slot, entry) in entries.iter().enumerate() {
            let key = group_key(entry.key.set, entry.key.cause, entry.key.mode);
            let slot = Slot::try_from(slot).unwrap_or(Slot::MAX);
            grouped
                .entry(key)
                .or_default()
                .push((entry.key.action, slot));
        }
        let mut groups = Vec::with_capacity(grouped.len());
        let mut members = Vec::with_capacity(entries.len());
        for (key, list) in grouped {
            let start = u16::try_from(members.len()).unwrap_or(u16::MAX);
            let len = u16::try_from(list.len()).unwrap_or(u16::MAX);
            members.extend(list);
            groups.push(Group { key, start, len });
        }
        StringIndex {
            entries,
            groups,
            members,
        }
    }

    fn group(&self, set: StringSet, cause: Option<Cause>, mode: Mode) -> &[(Action, Slot)] {
        let key = group_key(set, cause, mode);
        match self.groups.binary_search_by_key(&key, |g| g.key) {
            Ok(i) => self.groups.get(i).map_or(&[], |g| {
                let start = usize::from(g.start);
                self.members
                    .get(start..start + usize::from(g.len))
                    .unwrap_or(&[])
            }),
            Err(_) => &[],
        }
    }

    /// The fallback rule of `locales/README.md` for one (set, cause, mode):
    /// the row of `action`; else the row of the mode's primary action; else
    /// the group's first row in spec order. `None` if the group is empty (the
    /// cause is not handled in this mode). `cause = None` picks among the
    /// mode's generic strings.
    pub(crate) fn pick_slot(
        &self,
        set: StringSet,
        cause: Option<Cause>,
        mode: Mode,
        action: Action,
    ) -> Option<Slot> {
        let group = self.group(set, cause, mode);
        let with = |wanted: Action| {
            group
                .iter()
                .find(|(a, _)| *a == wanted)
                .map(|(_, slot)| *slot)
        };
        with(action)
            .or_else(|| with(mode.primary_action()))
            .or_else(|| group.first().map(|(_, slot)| *slot))
    }

    /// The message the fallback rule picks for (set, cause, mode, action), or
    /// `None` when en-US has no string for the cause in this mode.
    pub fn pick(
        &self,
        set: StringSet,
        cause: Option<Cause>,
        mode: Mode,
        action: Action,
    ) -> Option<MessageKey> {
        self.pick_slot(set, cause, mode, action)
            .and_then(|slot| self.key(slot))
    }

    /// Whether en-US has any string for the cause in this mode.
    pub fn handles(&self, set: StringSet, cause: Cause, mode: Mode) -> bool {
        !self.group(set, Some(cause), mode).is_empty()
    }

    /// Whether en-US has exactly this message.
    pub fn contains(&self, key: &MessageKey) -> bool {
        self.group(key.set, key.cause, key.mode)
            .iter()
            .any(|(a, _)| *a == key.action)
    }

    /// Every message of a set, in file (= spec) order.
    pub fn messages(&self, set: StringSet) -> impl Iterator<Item = MessageKey> + '_ {
        self.entries
            .iter()
            .map(|e| e.key)
            .filter(move |k| k.set == set)
    }

    /// The number of messages, both sets.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none (never, for the embedded files).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub(crate) fn key(&self, slot: Slot) -> Option<MessageKey> {
        self.entry(slot).map(|e| e.key)
    }

    pub(crate) fn entry(&self, slot: Slot) -> Option<&Entry> {
        self.entries.get(usize::from(slot))
    }

    pub(crate) fn slot_of_id(&self, id: &str) -> Option<Slot> {
        let key = MessageKey::parse(id)?;
        let group = self.group(key.set, key.cause, key.mode);
        group
            .iter()
            .find(|(a, _)| *a == key.action)
            .map(|(_, slot)| *slot)
    }

    pub(crate) fn entries(&self) -> &[Entry] {
        &self.entries
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::ErrorId;
    use crate::sip::StatusCode;

    #[test]
    fn the_embedded_files_index_without_problems() {
        let en = en_us();
        assert_eq!(en.problems, Vec::<String>::new());
        // locales/README.md, "Counts": 368 messages.
        assert_eq!(en.index.len(), 368);
        assert_eq!(en.index.messages(StringSet::Lync2010).count(), 250);
        assert_eq!(en.index.messages(StringSet::Communicator2007).count(), 118);
        for entry in en.index.entries() {
            assert_eq!(entry.key.id(), &*entry.id, "ids round-trip");
            assert!(entry.has_value || entry.has_info, "{}", entry.id);
        }
    }

    #[test]
    fn the_fallback_rule_takes_action_then_primary_then_first() {
        let idx = StringIndex::en_us();
        let lync = StringSet::Lync2010;
        let c1003 = Some(Cause::MsDiagnostic(ErrorId(1003)));
        // The user's own action.
        assert_eq!(
            idx.pick(lync, c1003, Mode::Voice, Action::Transfer)
                .map(|k| k.id()),
            Some("lync2010-msdiag-1003-voice-transfer".into())
        );
        // No row for `park`: the primary action `call`.
        assert_eq!(
            idx.pick(lync, c1003, Mode::Voice, Action::Park)
                .map(|k| k.id()),
            Some("lync2010-msdiag-1003-voice-call".into())
        );
        // Conference 1003 has join and add-participant; `share` falls to join.
        assert_eq!(
            idx.pick(lync, c1003, Mode::Conference, Action::Share)
                .map(|k| k.id()),
            Some("lync2010-msdiag-1003-conference-join".into())
        );
        // Sharing 415 has only invite-share: no primary row, so the first row.
        let s415 = Some(Cause::SipStatus(StatusCode(415)));
        assert_eq!(
            idx.pick(lync, s415, Mode::Sharing, Action::Share)
                .map(|k| k.id()),
            Some("lync2010-sip-415-sharing-invite-share".into())
        );
        // Not handled in this mode at all.
        assert_eq!(
            idx.pick(
                lync,
                Some(Cause::MsDiagnostic(ErrorId(1007))),
                Mode::Voice,
                Action::Call
            ),
            None
        );
        assert!(idx.handles(lync, Cause::MsDiagnostic(ErrorId(1007)), Mode::Sharing));
        assert!(!idx.handles(lync, Cause::MsDiagnostic(ErrorId(1007)), Mode::Voice));
    }

    #[test]
    fn generic_strings_follow_the_same_rule() {
        let idx = StringIndex::en_us();
        let lync = StringSet::Lync2010;
        assert_eq!(
            idx.pick(lync, None, Mode::Voice, Action::Transfer)
                .map(|k| k.id()),
            Some("lync2010-generic-voice-transfer".into())
        );
        assert_eq!(
            idx.pick(lync, None, Mode::Voice, Action::Park)
                .map(|k| k.id()),
            Some("lync2010-generic-voice-call".into())
        );
        assert_eq!(
            idx.pick(lync, None, Mode::ApplicationSharing, Action::Share),
            None
        );
        assert!(idx.contains(&MessageKey::generic(lync, Mode::Other, Action::Any)));
        assert_eq!(
            idx.slot_of_id("oc2007-generic-other-any")
                .and_then(|s| idx.key(s)),
            Some(MessageKey::generic(
                StringSet::Communicator2007,
                Mode::Other,
                Action::Any
            ))
        );
    }
}
