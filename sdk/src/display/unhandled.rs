//! The ms-diagnostics ErrorIds a client lists as "not handled" (MS-OCER
//! 9.3.2 for Lync 2010, 10.3.1 for Communicator 2007): "When the SIP protocol
//! client receives one of these error codes, it displays a generic error
//! string."
//!
//! The lists are data, `locales/unhandled-ids.tsv` (columns `set`, `section`,
//! `error_id`, `spec_line`: the seed line the id is printed on), written by
//! `locales/extract_strings.py` from the spec text and checked by
//! `scripts/test`.

use std::sync::OnceLock;

use super::context::StringSet;
use crate::diag::ErrorId;

/// `locales/unhandled-ids.tsv`, embedded.
pub(crate) const UNHANDLED_IDS_TSV: &str = include_str!("../../../locales/unhandled-ids.tsv");

const TSV_HEADER: &str = "set\tsection\terror_id\tspec_line";

/// The sorted lists, one per set (indexed by `StringSet::index`).
fn lists() -> &'static [Vec<u32>; 2] {
    static LISTS: OnceLock<[Vec<u32>; 2]> = OnceLock::new();
    LISTS.get_or_init(|| {
        let mut lists: [Vec<u32>; 2] = [Vec::new(), Vec::new()];
        for row in UNHANDLED_IDS_TSV.lines().filter(|l| *l != TSV_HEADER) {
            let mut cells = row.split('\t');
            let (Some(set), Some(_section), Some(id)) = (cells.next(), cells.next(), cells.next())
            else {
                continue;
            };
            let set = StringSet::ALL.into_iter().find(|s| s.id() == set);
            if let (Some(set), Ok(id)) = (set, id.parse::<u32>()) {
                if let Some(list) = lists.get_mut(set.index()) {
                    list.push(id);
                }
            }
        }
        for list in &mut lists {
            list.sort_unstable();
            list.dedup();
        }
        lists
    })
}

/// Whether `set`'s client lists `id` as not handled (9.3.2 / 10.3.1): it
/// shows the generic string with that id, whatever else the transaction got.
pub fn is_listed_unhandled(set: StringSet, id: ErrorId) -> bool {
    lists()
        .get(set.index())
        .is_some_and(|list| list.binary_search(&id.0).is_ok())
}

/// The ids `set`'s client lists as not handled, ascending.
pub fn listed_unhandled(set: StringSet) -> &'static [u32] {
    lists().get(set.index()).map_or(&[], Vec::as_slice)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_of_the_data_file_is_read() {
        let rows = UNHANDLED_IDS_TSV.lines().count() - 1;
        assert_eq!(
            listed_unhandled(StringSet::Lync2010).len()
                + listed_unhandled(StringSet::Communicator2007).len(),
            rows
        );
        assert!(UNHANDLED_IDS_TSV.starts_with(TSV_HEADER));
        // 9.3.2's first and 10.3.1's first printed ids.
        assert!(is_listed_unhandled(StringSet::Lync2010, ErrorId(1000)));
        assert!(is_listed_unhandled(StringSet::Communicator2007, ErrorId(2)));
        assert!(!is_listed_unhandled(StringSet::Lync2010, ErrorId(2)));
    }
}
