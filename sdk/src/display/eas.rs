//! Exchange ActiveSync status codes per command (seed `003_…`): the same
//! number means different things per command (`8` is "Object not found." for
//! `Sync`, "Too Complex" for `Search`) — the idea MS-OCER's per-mode strings
//! share.
//!
//! The data file is `sdk/data/eas-status-codes.tsv` (written by
//! `sdk/data/extract_lookups.py`): columns `command`, `status`, `meaning` (the
//! seed's words) and `source_line`.

use std::sync::OnceLock;

const TSV: &str = include_str!("../../data/eas-status-codes.tsv");
const TSV_HEADER: &str = "command\tstatus\tmeaning\tsource_line";

/// One row of `sdk/data/eas-status-codes.tsv`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EasStatus {
    /// The command, as the seed spells it (`Sync`, `FolderSync`, …).
    pub command: &'static str,
    /// The status value.
    pub status: u16,
    /// What it means for that command.
    pub meaning: &'static str,
    /// The line of seed `003_…` the row comes from.
    pub source_line: u32,
}

/// Every row, in the seed's order.
pub fn eas_statuses() -> &'static [EasStatus] {
    static TABLE: OnceLock<Vec<EasStatus>> = OnceLock::new();
    // Our own data, proven to parse by a test; empty rather than a panic.
    TABLE.get_or_init(|| parse_rows(TSV).unwrap_or_default())
}

/// The meaning of `status` for `command` (case-insensitive, `Sync` = `sync`).
pub fn eas_status(command: &str, status: u16) -> Option<&'static EasStatus> {
    eas_statuses()
        .iter()
        .find(|r| r.status == status && r.command.eq_ignore_ascii_case(command))
}

impl EasStatus {
    /// The commands the catalogue knows, in the seed's order.
    pub fn commands() -> Vec<&'static str> {
        let mut out: Vec<&'static str> = Vec::new();
        for r in eas_statuses() {
            if !out.contains(&r.command) {
                out.push(r.command);
            }
        }
        out
    }
}

fn parse_rows(text: &'static str) -> Result<Vec<EasStatus>, String> {
    let mut lines = text.lines().enumerate();
    if lines.next().map(|(_, l)| l) != Some(TSV_HEADER) {
        return Err(format!("header must be `{TSV_HEADER}`"));
    }
    lines
        .map(|(i, line)| {
            let at = |what: &str| format!("line {}: {what}", i + 1);
            let cells: Vec<&'static str> = line.split('\t').collect();
            let [command, status, meaning, source_line] = cells[..] else {
                return Err(at("expected 4 cells"));
            };
            Ok(EasStatus {
                command,
                status: status.parse().map_err(|_| at("bad status"))?,
                meaning,
                source_line: source_line.parse().map_err(|_| at("bad source_line"))?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_parses_with_seven_commands() {
        let rows = parse_rows(TSV).unwrap();
        assert_eq!(rows.len(), eas_statuses().len());
        assert_eq!(
            EasStatus::commands(),
            [
                "Sync",
                "Search",
                "FolderSync",
                "Ping",
                "MeetingResponse",
                "GetItemEstimate",
                "MoveItems"
            ]
        );
        for c in EasStatus::commands() {
            let mut statuses: Vec<u16> = rows
                .iter()
                .filter(|r| r.command == c)
                .map(|r| r.status)
                .collect();
            let n = statuses.len() as u16;
            statuses.sort_unstable();
            assert_eq!(
                statuses,
                (1..=n).collect::<Vec<_>>(),
                "{c}: 1..n, each once"
            );
        }
    }

    #[test]
    fn the_same_status_differs_per_command() {
        assert_eq!(eas_status("Sync", 8).unwrap().meaning, "Object not found.");
        assert_eq!(eas_status("search", 8).unwrap().meaning, "Too Complex");
        assert_eq!(eas_status("MoveItems", 3).unwrap().meaning, "Success.");
        assert_eq!(eas_status("Sync", 8).unwrap().source_line, 41);
        assert!(eas_status("Sync", 12).is_none());
        assert!(eas_status("Provision", 1).is_none());
    }
}
