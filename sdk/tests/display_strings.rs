//! Every MS-OCER Appendix D / E string, checked against the extraction
//! `locales/spec-rows.tsv` (generated from the spec text by
//! `locales/extract_strings.py`, which compares it with the spec a second
//! way): each row renders exactly, both directions are complete, and every
//! string is reachable by some (mode, action).

// Helpers outside `#[test]` fns: here a panic is how a check fails.
#![allow(clippy::unwrap_used, clippy::panic, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};

use ocer::diag::ErrorId;
use ocer::display::{
    Action, Category, Cause, Isolation, Localizer, MessageKey, Mode, Placeholders, StringIndex,
    StringSet,
};

const SPEC_ROWS: &str = include_str!("../../locales/spec-rows.tsv");
const HEADER: &str =
    "set\tcategory\tcode\tmode\taction\tmessage_id\tprimary\tinfo\tspec_line\tfixes";

#[derive(Debug)]
struct Row {
    line: usize,
    set: StringSet,
    category: String,
    code: Option<u32>,
    mode: Option<Mode>,
    action: Option<Action>,
    message_id: String,
    primary: String,
    info: String,
    spec_line: u32,
}

fn rows() -> Vec<Row> {
    let mut lines = SPEC_ROWS.lines();
    assert_eq!(lines.next(), Some(HEADER));
    lines
        .enumerate()
        .map(|(i, line)| {
            let c: Vec<&str> = line.split('\t').collect();
            assert_eq!(c.len(), 10, "spec-rows.tsv line {}: {line}", i + 2);
            Row {
                line: i + 2,
                set: c[0].parse().unwrap(),
                category: c[1].to_owned(),
                code: (!c[2].is_empty()).then(|| c[2].parse().unwrap()),
                mode: (!c[3].is_empty()).then(|| c[3].parse().unwrap()),
                action: (!c[4].is_empty()).then(|| c[4].parse().unwrap()),
                message_id: c[5].to_owned(),
                primary: c[6].to_owned(),
                info: c[7].to_owned(),
                spec_line: c[8].parse().unwrap(),
            }
        })
        .collect()
}

/// The `-product-name` term of each file (`locales/README.md`).
fn product_name(set: StringSet) -> &'static str {
    match set {
        StringSet::Lync2010 => "Lync",
        StringSet::Communicator2007 => "Communicator",
    }
}

fn expected(text: &str, set: StringSet) -> Option<String> {
    (!text.is_empty()).then(|| text.replace("<product name>", product_name(set)))
}

/// The typed key a row describes, built from its columns (not from its id).
fn key_of(row: &Row) -> MessageKey {
    let category = match row.category.as_str() {
        "msdiag" => Category::MsDiagnostic,
        "sip" => Category::SipStatus,
        "warning" => Category::Warning,
        "windows" => Category::Windows,
        "generic" => Category::Generic,
        other => panic!("line {}: category {other} has no message", row.line),
    };
    let cause = row
        .code
        .map(|code| Cause::from_parts(category, code).unwrap());
    assert_eq!(
        cause.is_none(),
        category == Category::Generic,
        "line {}",
        row.line
    );
    MessageKey {
        set: row.set,
        cause,
        mode: row.mode.unwrap(),
        action: row.action.unwrap(),
    }
}

#[test]
fn every_spec_row_renders_exactly() {
    let localizer = Localizer::new(Isolation::Off);
    let chain = localizer.negotiate(&[]);
    let mut checked = 0;
    for row in rows().iter().filter(|r| r.category != "unhandled") {
        let key = key_of(row);
        assert_eq!(
            key.to_string(),
            row.message_id,
            "line {}: the id is built from the typed key",
            row.line
        );
        let shown = localizer
            .render(
                &chain,
                &key,
                Placeholders::SPEC_ERROR_ID,
                &Placeholders::SPEC,
            )
            .unwrap_or_else(|| panic!("line {}: no message {}", row.line, row.message_id));
        assert_eq!(
            shown.message,
            expected(&row.primary, row.set),
            "{} (spec line {})",
            row.message_id,
            row.spec_line
        );
        assert_eq!(
            shown.info,
            expected(&row.info, row.set),
            "{} .info (spec line {})",
            row.message_id,
            row.spec_line
        );
        assert_eq!(shown.locale.to_string(), "en-US");
        checked += 1;
    }
    assert_eq!(checked, 368, "locales/README.md counts 368 messages");
}

#[test]
fn every_spec_row_has_its_message_and_every_message_its_row() {
    let index = StringIndex::en_us();
    let from_tsv: BTreeSet<String> = rows()
        .iter()
        .filter(|r| !r.message_id.is_empty())
        .map(|r| r.message_id.clone())
        .collect();
    let from_ftl: BTreeSet<String> = StringSet::ALL
        .into_iter()
        .flat_map(|set| index.messages(set))
        .map(|k| k.to_string())
        .collect();
    let missing: Vec<_> = from_tsv.difference(&from_ftl).collect();
    let extra: Vec<_> = from_ftl.difference(&from_tsv).collect();
    assert!(
        missing.is_empty(),
        "spec rows without a message: {missing:?}"
    );
    assert!(
        extra.is_empty(),
        "en-US messages without a spec row: {extra:?}"
    );
    assert_eq!(from_ftl.len(), index.len(), "no id twice");
}

#[test]
fn messages_are_in_spec_order() {
    let index = StringIndex::en_us();
    for set in StringSet::ALL {
        let tsv: Vec<String> = rows()
            .into_iter()
            .filter(|r| r.set == set && !r.message_id.is_empty())
            .map(|r| r.message_id)
            .collect();
        let ftl: Vec<String> = index.messages(set).map(|k| k.to_string()).collect();
        assert_eq!(ftl, tsv, "{set}: the FTL is in the TSV's (spec) order");
    }
}

#[test]
fn every_string_is_reachable_by_its_own_action_and_groups_fall_back_as_documented() {
    let index = StringIndex::en_us();
    let mut groups: BTreeMap<(String, Option<u32>, String, String), Vec<MessageKey>> =
        BTreeMap::new();
    for row in rows().iter().filter(|r| r.category != "unhandled") {
        let key = key_of(row);
        // Its own action picks it.
        assert_eq!(
            index.pick(key.set, key.cause, key.mode, key.action),
            Some(key),
            "{key}"
        );
        groups
            .entry((
                row.set.id().to_owned(),
                row.code,
                row.category.clone(),
                key.mode.id().to_owned(),
            ))
            .or_default()
            .push(key);
    }
    for keys in groups.values() {
        let first = keys[0];
        let primary = keys
            .iter()
            .find(|k| k.action == k.mode.primary_action())
            .copied();
        for action in Action::ALL {
            let picked = index
                .pick(first.set, first.cause, first.mode, action)
                .unwrap();
            let want = keys
                .iter()
                .find(|k| k.action == action)
                .copied()
                .or(primary)
                .unwrap_or(first);
            assert_eq!(picked, want, "{first} group, action {action}");
        }
    }
}

#[test]
fn unhandled_ids_have_no_string_in_any_mode() {
    let index = StringIndex::en_us();
    let unhandled: Vec<Row> = rows()
        .into_iter()
        .filter(|r| r.category == "unhandled")
        .collect();
    // locales/README.md: 746 Lync rows (751 ids, 5 repeated), 514 Communicator.
    assert_eq!(
        unhandled
            .iter()
            .filter(|r| r.set == StringSet::Lync2010)
            .count(),
        746
    );
    assert_eq!(
        unhandled
            .iter()
            .filter(|r| r.set == StringSet::Communicator2007)
            .count(),
        514
    );
    for row in unhandled {
        let cause = Cause::MsDiagnostic(ErrorId(row.code.unwrap()));
        for mode in Mode::ALL {
            assert!(
                !index.handles(row.set, cause, mode),
                "{} {cause} is listed as not handled",
                row.set
            );
        }
    }
}

#[test]
fn isolation_marks_wrap_placeables_only_when_on() {
    let key = MessageKey::handled(
        StringSet::Lync2010,
        Cause::SipStatus(ocer::sip::StatusCode(486)),
        Mode::Voice,
        Action::Call,
    );
    let who = Placeholders {
        user: "Bob",
        ..Placeholders::default()
    };
    let on = Localizer::new(Isolation::On);
    let shown = on.render(&on.negotiate(&[]), &key, "486", &who).unwrap();
    assert_eq!(
        shown.message.as_deref(),
        Some("\u{2068}Bob\u{2069} is in another call.")
    );
    let off = Localizer::new(Isolation::Off);
    let shown = off.render(&off.negotiate(&[]), &key, "486", &who).unwrap();
    assert_eq!(shown.message.as_deref(), Some("Bob is in another call."));
}
