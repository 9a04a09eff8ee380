//! The Windows error catalogue (`sdk/data/windows-errors.tsv`) against the
//! seed texts its rows cite, and against the compiled [`WinError`] API.
//!
//! The seeds are read from `$OCER_SEEDS_DIR`, else `<repo>/../shared/seeds`.
//! If that directory is absent the seed check prints a notice and passes,
//! unless `CI` is set: then it fails.

#![allow(clippy::unwrap_used, clippy::panic, clippy::expect_used)]

use std::path::PathBuf;

use ocer::display::{windows_errors, WinError};

const TSV: &str = include_str!("../data/windows-errors.tsv");

fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false")
}

fn seed_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("OCER_SEEDS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/seeds"));
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        !ci(),
        "seed directory {} is absent (set OCER_SEEDS_DIR)",
        dir.display()
    );
    eprintln!(
        "notice: seed directory {} is absent; skipping the seed check (set OCER_SEEDS_DIR)",
        dir.display()
    );
    None
}

fn seed_lines(dir: &std::path::Path, prefix: &str) -> Vec<String> {
    let file = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
        .unwrap_or_else(|| panic!("no seed {prefix}* in {}", dir.display()));
    std::fs::read_to_string(&file)
        .unwrap()
        .split('\n')
        .map(str::to_owned)
        .collect()
}

#[test]
fn rows_citing_a_seed_match_its_text() {
    let Some(dir) = seed_dir() else { return };
    let wininet = seed_lines(&dir, "000_");
    let spec = seed_lines(&dir, "001_");
    let mut checked = 0;
    for row in windows_errors() {
        let Some(line) = row.source_line else {
            // Documented by Windows' own headers (winerror.h, wininet.h), not a seed.
            assert!(
                row.source.starts_with("Windows Sockets")
                    || row.source.starts_with("WinInet error codes (wininet.h")
                    || row.source.ends_with("(winerror.h)"),
                "{row:?}"
            );
            continue;
        };
        let at = |lines: &[String], n: u32| lines.get(n as usize - 1).cloned().unwrap_or_default();
        let code = row.code.0.to_string();
        if row.source.starts_with("seed 000") {
            // "   12002       ERROR_INTERNET_TIMEOUT" / "   (0x2ee2)    The request has timed out."
            let first = at(&wininet, line);
            let second = at(&wininet, line + 1);
            assert_eq!(
                first.split_whitespace().collect::<Vec<_>>(),
                [code.as_str(), row.name],
                "{row:?}"
            );
            let hex = format!("(0x{:x})", row.code.0);
            // The seed pads with no-break spaces: `trim` takes any white space.
            let meaning = second.trim().strip_prefix(&hex).map(str::trim);
            assert_eq!(meaning, Some(row.meaning), "{row:?}: {second}");
        } else if row.source.starts_with("seed 001") {
            let text = at(&spec, line);
            let hex_name = format!("{:X}({})", row.code.0, row.name);
            assert!(
                text.contains(&code) || text.contains(&hex_name),
                "{row:?}: {text}"
            );
        } else {
            panic!("unknown source {:?}", row.source);
        }
        checked += 1;
    }
    assert_eq!(
        checked, 9,
        "7 WinInet rows of seed 000, 2 rows citing MS-OCER"
    );
}

#[test]
fn the_catalogue_covers_the_socket_errors_a_client_meets_and_the_wininet_codes() {
    for code in [
        10053, 10054, 10060, 10061, 10065, 11001, 12002, 12005, 12007, 12028, 12029, 12030, 12031,
    ] {
        let info = WinError(code)
            .info()
            .unwrap_or_else(|| panic!("{code} not catalogued"));
        assert!(!info.meaning.is_empty());
    }
    assert_eq!(TSV.lines().count() - 1, windows_errors().len());
    // Every named constant is catalogued; the catalogue also has the rest of
    // the WinInet range (12001-12175), read by `WinError::parse` and `explain`.
    for known in WinError::KNOWN {
        assert!(known.info().is_some(), "{known:?}");
    }
    let wininet = windows_errors()
        .iter()
        .filter(|r| (12_000..13_000).contains(&r.code.0))
        .count();
    assert_eq!(
        wininet, 80,
        "the WinInet codes of wininet.h that clients meet"
    );
}
