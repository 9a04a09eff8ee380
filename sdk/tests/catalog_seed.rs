//! Checks the ErrorId catalog data (`sdk/data/*.tsv`) against the spec seed
//! text it was extracted from, independently of the extraction script, and
//! checks that the compiled tables are exactly the TSV rows.
//!
//! The seed is read from `$OCER_SEEDS_DIR`, else `<repo>/../shared/seeds`. If
//! that directory is absent the seed checks print a notice and pass, unless
//! `CI` is set: then they fail.

// Helpers outside `#[test]` fns: here a panic is how a check fails.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use ocer::diag::{Catalog, CatalogHeader, Direction, ErrorId};

const SEED_FILE: &str = "001_6e653f46ba48cd55.txt";
const LYNC_TSV: &str = include_str!("../data/lync2010-error-ids.tsv");
const OCS_TSV: &str = include_str!("../data/ocs2007-error-ids.tsv");
const COMPONENTS_TSV: &str = include_str!("../data/components.tsv");

/// How far past its first line a row's text may run (page footer, repeated
/// table header, continuation line).
const MAX_ROW_SPAN: usize = 12;

#[derive(Debug)]
struct TsvRow {
    section: String,
    component: String,
    error_id: u32,
    header: String,
    direction: String,
    reason: String,
    footnote: Option<u16>,
    spec_line: usize,
    notes: String,
}

fn tsv_rows(text: &str) -> Vec<TsvRow> {
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("section\tcomponent\terror_id\theader\tdirection\treason\tfootnote\tspec_line\tnotes")
    );
    lines
        .map(|line| {
            let c: Vec<&str> = line.split('\t').collect();
            assert_eq!(c.len(), 9, "{line}");
            TsvRow {
                section: c[0].to_owned(),
                component: c[1].to_owned(),
                error_id: c[2].parse().unwrap(),
                header: c[3].to_owned(),
                direction: c[4].to_owned(),
                reason: c[5].to_owned(),
                footnote: (!c[6].is_empty()).then(|| c[6].parse().unwrap()),
                spec_line: c[7].parse().unwrap(),
                notes: c[8].to_owned(),
            }
        })
        .collect()
}

fn all_tsv_rows() -> Vec<TsvRow> {
    let mut rows = tsv_rows(LYNC_TSV);
    rows.extend(tsv_rows(OCS_TSV));
    rows
}

fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false")
}

/// The seed's lines, or `None` (after a notice) when the seed directory is
/// absent outside CI.
fn seed_lines() -> Option<Vec<String>> {
    let dir = std::env::var_os("OCER_SEEDS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/seeds"));
    if !dir.is_dir() {
        assert!(
            !ci(),
            "seed directory {} is absent (set OCER_SEEDS_DIR)",
            dir.display()
        );
        eprintln!(
            "notice: seed directory {} is absent; skipping the seed checks (set OCER_SEEDS_DIR)",
            dir.display()
        );
        return None;
    }
    let path = dir.join(SEED_FILE);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    Some(text.split('\n').map(str::to_owned).collect())
}

/// Page footers and repeated table headers that the PDF conversion put
/// inside tables.
fn is_artifact(line: &str) -> bool {
    line.starts_with("[MS-OCER] ")
        || line.starts_with("Copyright ")
        || line.starts_with("Release: ")
        || line.starts_with("ErrorId\tHeader\t")
}

/// Lower-case alphanumeric words. A lower-to-upper case change splits too, so
/// a word the conversion glued to the next ("handlerNo") splits like an
/// identifier ("getMcu") does on the other side.
fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut prev_lower = false;
    for ch in text.chars() {
        if ch.is_ascii_alphanumeric() {
            if prev_lower && ch.is_ascii_uppercase() {
                out.push(std::mem::take(&mut word));
            }
            prev_lower = ch.is_ascii_lowercase();
            word.push(ch.to_ascii_lowercase());
        } else {
            prev_lower = false;
            if !word.is_empty() {
                out.push(std::mem::take(&mut word));
            }
        }
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

/// Leading ErrorId of a seed table row (`digits TAB ...`).
fn row_id(line: &str) -> Option<u32> {
    let (id, _) = line.split_once('\t')?;
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    id.parse().ok()
}

/// Subsection headings of sections 7 and 8: (section, title, 0-based line of
/// the heading, 0-based end of the subsection).
fn subsections(lines: &[String]) -> Vec<(String, String, usize, usize)> {
    let mut heads = Vec::new();
    let mut end = lines.len();
    for (i, line) in lines.iter().enumerate() {
        let text = line.trim_start_matches('#');
        if text.len() == line.len() || !text.starts_with(' ') {
            continue;
        }
        let text = text.trim_start();
        if text.starts_with("9 Appendix D") {
            end = i;
            break;
        }
        if text.starts_with("8 Appendix C") {
            heads.push(("8".to_owned(), String::new(), i));
            continue;
        }
        let Some((number, title)) = text.split_once(' ') else {
            continue;
        };
        let is_sub = matches!(number.split_once('.'), Some((major, minor))
            if (major == "7" || major == "8") && !minor.is_empty() && minor.bytes().all(|b| b.is_ascii_digit()));
        if is_sub {
            heads.push((number.to_owned(), title.trim().to_owned(), i));
        }
    }
    let mut out = Vec::new();
    for (k, (number, title, start)) in heads.iter().enumerate() {
        let stop = heads.get(k + 1).map_or(end, |h| h.2);
        if number.contains('.') {
            out.push((number.clone(), title.clone(), *start, stop));
        }
    }
    out
}

#[test]
fn every_row_matches_the_seed_line_it_names() {
    let Some(lines) = seed_lines() else { return };
    let subs = subsections(&lines);
    let rows = all_tsv_rows();
    let mut starts: Vec<usize> = rows.iter().map(|r| r.spec_line).collect();
    starts.sort_unstable();

    for row in &rows {
        let ctx = format!(
            "{} ErrorId {} (line {})",
            row.section, row.error_id, row.spec_line
        );
        let own = &lines[row.spec_line - 1];

        // The line lies in the row's subsection, whose heading names its component.
        let (_, title, first, stop) = subs
            .iter()
            .find(|s| s.0 == row.section)
            .unwrap_or_else(|| panic!("{ctx}: no such subsection heading"));
        assert!(
            (*first..*stop).contains(&(row.spec_line - 1)),
            "{ctx}: outside its subsection"
        );
        assert_eq!(&row.component, title, "{ctx}");

        // The id at the line start; a corrected misprint must say so.
        let printed = row_id(own).unwrap_or_else(|| panic!("{ctx}: line is no table row: {own:?}"));
        if printed != row.error_id {
            assert!(
                row.notes.contains(&format!("id-typo: printed {printed};")),
                "{ctx}: seed prints {printed}"
            );
        }

        // Header and direction cells as printed, PDF line breaks removed.
        let cells: Vec<&str> = own.split('\t').collect();
        let header_start: String = cells[1]
            .split_whitespace()
            .collect::<String>()
            .to_lowercase();
        assert!(
            row.header.starts_with(&header_start),
            "{ctx}: header cell {:?}",
            cells[1]
        );
        let dir = if row.direction == "request" {
            "Request"
        } else {
            "Response"
        };
        assert!(
            cells[2].starts_with(dir),
            "{ctx}: direction cell {:?}",
            cells[2]
        );

        // Reason words in order from this line up to the next row's line
        // (continuations sit before it, a spilled word on it), artifacts removed.
        let next = starts
            .iter()
            .copied()
            .find(|&s| s > row.spec_line)
            .unwrap_or(usize::MAX);
        let last = next.min(row.spec_line + MAX_ROW_SPAN).min(lines.len());
        let window: Vec<String> = lines[row.spec_line - 1..last]
            .iter()
            .filter(|l| !is_artifact(l))
            .flat_map(|l| words(l))
            .collect();
        let mut pos = 0;
        for word in words(&row.reason) {
            match window[pos..].iter().position(|w| *w == word) {
                Some(at) => pos += at + 1,
                None => panic!(
                    "{ctx}: reason word {word:?} not in the seed: {:?}",
                    row.reason
                ),
            }
        }
        let own_words = words(own);
        for word in words(&row.reason).iter().take(2) {
            assert!(
                own_words.contains(word),
                "{ctx}: {word:?} not on the row's own line"
            );
        }

        // A footnote number is printed in the row, unless recorded as inferred.
        if let Some(n) = row.footnote {
            if !row.notes.contains("footnote-inferred:") {
                assert!(
                    window[pos..].contains(&n.to_string()),
                    "{ctx}: footnote {n} not in the seed"
                );
            }
        }
    }
}

#[test]
fn row_counts_per_subsection_match_the_seed() {
    let Some(lines) = seed_lines() else { return };
    let subs = subsections(&lines);
    assert_eq!(subs.iter().filter(|s| s.0.starts_with("7.")).count(), 26);
    assert_eq!(subs.iter().filter(|s| s.0.starts_with("8.")).count(), 21);
    let rows = all_tsv_rows();
    for (section, _, first, stop) in &subs {
        let in_seed = lines[*first..*stop]
            .iter()
            .filter(|l| row_id(l).is_some())
            .count();
        let in_tsv = rows.iter().filter(|r| &r.section == section).count();
        let catalog = if section.starts_with("7.") {
            Catalog::LyncServer2010
        } else {
            Catalog::Ocs2007
        };
        let compiled = catalog
            .entries()
            .iter()
            .filter(|e| e.section == section)
            .count();
        assert_eq!(in_tsv, in_seed, "{section}: TSV rows vs seed rows");
        assert_eq!(compiled, in_seed, "{section}: compiled rows vs seed rows");
    }
}

#[test]
fn component_ranges_match_the_seed() {
    let Some(lines) = seed_lines() else { return };
    let mut lines_in_tsv = COMPONENTS_TSV.lines();
    assert_eq!(
        lines_in_tsv.next(),
        Some("section\tcomponent\tlow\thigh\tfootnote\tspec_line")
    );
    let mut count = 0;
    for line in lines_in_tsv {
        let c: Vec<&str> = line.split('\t').collect();
        let seed_line = &lines[c[5].parse::<usize>().unwrap() - 1];
        let stated = [
            format!("numbered {} \u{2013} {},", c[2], c[3]),
            format!("numbered {} - {},", c[2], c[3]),
        ];
        assert!(
            stated.iter().any(|s| seed_line.contains(s.as_str())),
            "{line}: {seed_line}"
        );
        count += 1;
    }
    // Every subsection but the public errors (7.1, 8.1) states a range.
    let stating = lines
        .iter()
        .filter(|l| l.starts_with("The following table lists") && l.contains("numbered "))
        .count();
    assert_eq!(count, stating);
    assert_eq!(count, 45);
}

#[test]
fn compiled_tables_are_the_tsv_rows() {
    for (catalog, text) in [
        (Catalog::LyncServer2010, LYNC_TSV),
        (Catalog::Ocs2007, OCS_TSV),
    ] {
        let mut rows = tsv_rows(text);
        rows.sort_by_key(|r| (r.error_id, r.spec_line));
        let entries = catalog.entries();
        assert_eq!(entries.len(), rows.len());
        for (e, r) in entries.iter().zip(&rows) {
            let header = match e.header {
                CatalogHeader::Private => "ms-diagnostics",
                CatalogHeader::Public => "ms-diagnostics-public",
                CatalogHeader::PrivateOrPublic => "ms-diagnostics/ms-diagnostics-public",
            };
            let direction = match e.direction {
                Direction::Request => "request",
                Direction::Response => "response",
            };
            assert_eq!(
                (
                    e.section,
                    e.component,
                    e.error_id,
                    header,
                    direction,
                    e.reason,
                    e.footnote,
                    e.spec_line as usize
                ),
                (
                    r.section.as_str(),
                    r.component.as_str(),
                    ErrorId(r.error_id),
                    r.header.as_str(),
                    r.direction.as_str(),
                    r.reason.as_str(),
                    r.footnote,
                    r.spec_line
                )
            );
        }
    }
    let ranges: BTreeMap<&str, (u32, u32)> = Catalog::ALL
        .iter()
        .flat_map(|c| c.ranges())
        .map(|r| (r.section, (r.low.0, r.high.0)))
        .collect();
    let from_tsv: BTreeMap<&str, (u32, u32)> = COMPONENTS_TSV
        .lines()
        .skip(1)
        .map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            (c[0], (c[2].parse().unwrap(), c[3].parse().unwrap()))
        })
        .collect();
    assert_eq!(ranges, from_tsv);
}
