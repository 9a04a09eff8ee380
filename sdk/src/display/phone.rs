//! The Office Communicator 2007 Phone Edition's "Last Update Status" pair
//! (seed `000_…`): `(0x2ee2/0x0)` is a WinInet error (a problem *contacting*
//! the Update Server) and an HTTP status (the server *was* contacted but failed
//! the request). The normal state is `(0x00/0)`.
//!
//! The seed's rows are the data file `sdk/data/phone-edition-status.tsv`
//! (written by `sdk/data/extract_lookups.py`): columns `field` (`wininet` or
//! `http`), `code`, `name`, `meaning` (the seed's words), `check` (ocer's
//! advice to the administrator, not the seed's) and `source_line`.

use std::fmt;
use std::sync::OnceLock;

use super::windows::WinError;

const TSV: &str = include_str!("../../data/phone-edition-status.tsv");
const TSV_HEADER: &str = "field\tcode\tname\tmeaning\tcheck\tsource_line";

/// Which half of the pair a row explains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PhoneField {
    /// The first field: a WinInet error code.
    WinInet,
    /// The second field: an HTTP status code.
    Http,
}

/// One row of `sdk/data/phone-edition-status.tsv`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneEditionRow {
    /// Which field it explains.
    pub field: PhoneField,
    /// The code (WinInet decimal, or HTTP status).
    pub code: u32,
    /// `ERROR_INTERNET_TIMEOUT`, or the HTTP reason phrase.
    pub name: &'static str,
    /// The seed's description.
    pub meaning: &'static str,
    /// What the administrator should check (ocer's advice).
    pub check: &'static str,
    /// The line of seed `000_…` the row comes from.
    pub source_line: u32,
}

impl PhoneEditionRow {
    /// The first sentence of [`meaning`](Self::meaning) (the HTTP rows quote a
    /// whole RFC 2616 paragraph).
    pub fn summary(&self) -> &'static str {
        match self.meaning.find(". ") {
            Some(i) => self.meaning.get(..=i).unwrap_or(self.meaning),
            None => self.meaning,
        }
    }
}

/// Why a text is not a status pair.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PhoneStatusError {
    /// Not `(X/Y)`.
    #[error("not a Phone Edition status pair `(0x####/0x####)`")]
    Shape,
    /// A field is not a hexadecimal number.
    #[error("the {0} field is not a hexadecimal number")]
    Number(&'static str),
    /// The first field is an HRESULT of another facility than Win32.
    #[error("the WinInet field {0:#x} is an HRESULT but not FACILITY_WIN32")]
    NotWin32(u32),
    /// The second field is larger than any HTTP status.
    #[error("the HTTP field {0:#x} is not an HTTP status")]
    Http(u32),
}

/// A decoded "Last Update Status" pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhoneEditionStatus {
    /// The WinInet error (0 = none); an HRESULT in the field is unwrapped.
    pub wininet: WinError,
    /// The HTTP status (0 = none).
    pub http: u16,
}

impl PhoneEditionStatus {
    /// Reads `(0x2ee2/0x0)`, `(0x80072efd/0x1f4)`, `0x2ee2/0` (parentheses
    /// optional, `0x` optional: the seed says both fields are hexadecimal).
    pub fn parse(text: &str) -> Result<Self, PhoneStatusError> {
        let text = text.trim();
        let inner = text
            .strip_prefix('(')
            .and_then(|t| t.strip_suffix(')'))
            .unwrap_or(text);
        let (first, second) = inner.split_once('/').ok_or(PhoneStatusError::Shape)?;
        let hex = |s: &str, field| {
            let s = s.trim();
            let digits = s
                .strip_prefix("0x")
                .or_else(|| s.strip_prefix("0X"))
                .unwrap_or(s);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(PhoneStatusError::Number(field));
            }
            u32::from_str_radix(digits, 16).map_err(|_| PhoneStatusError::Number(field))
        };
        let first = hex(first, "WinInet")?;
        let second = hex(second, "HTTP")?;
        let wininet = if first > 0xFFFF {
            WinError::from_hresult(first).ok_or(PhoneStatusError::NotWin32(first))?
        } else {
            WinError(first)
        };
        let http = u16::try_from(second)
            .ok()
            .filter(|s| *s < 1000)
            .ok_or(PhoneStatusError::Http(second))?;
        Ok(Self { wininet, http })
    }

    /// `(0x00/0)`: the phone updated normally.
    pub fn is_normal(&self) -> bool {
        self.wininet.0 == 0 && self.http == 0
    }

    /// The seed's row for the WinInet field, if it lists the code.
    pub fn wininet_row(&self) -> Option<&'static PhoneEditionRow> {
        row(PhoneField::WinInet, self.wininet.0)
    }

    /// The seed's row for the HTTP field, if it lists the status.
    pub fn http_row(&self) -> Option<&'static PhoneEditionRow> {
        row(PhoneField::Http, u32::from(self.http))
    }
}

impl fmt::Display for PhoneEditionStatus {
    /// The canonical form, `(0x2ee2/0x1f4)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({:#x}/{:#x})", self.wininet.0, self.http)
    }
}

/// Every row of the seed's two lists, WinInet first, in the seed's order.
pub fn phone_edition_rows() -> &'static [PhoneEditionRow] {
    static TABLE: OnceLock<Vec<PhoneEditionRow>> = OnceLock::new();
    // Our own data, proven to parse by a test; empty rather than a panic.
    TABLE.get_or_init(|| parse_rows(TSV).unwrap_or_default())
}

fn row(field: PhoneField, code: u32) -> Option<&'static PhoneEditionRow> {
    phone_edition_rows()
        .iter()
        .find(|r| r.field == field && r.code == code)
}

fn parse_rows(text: &'static str) -> Result<Vec<PhoneEditionRow>, String> {
    let mut lines = text.lines().enumerate();
    if lines.next().map(|(_, l)| l) != Some(TSV_HEADER) {
        return Err(format!("header must be `{TSV_HEADER}`"));
    }
    lines
        .map(|(i, line)| {
            let at = |what: &str| format!("line {}: {what}", i + 1);
            let cells: Vec<&'static str> = line.split('\t').collect();
            let [field, code, name, meaning, check, source_line] = cells[..] else {
                return Err(at("expected 6 cells"));
            };
            let field = match field {
                "wininet" => PhoneField::WinInet,
                "http" => PhoneField::Http,
                _ => return Err(at("field must be wininet or http")),
            };
            Ok(PhoneEditionRow {
                field,
                code: code.parse().map_err(|_| at("bad code"))?,
                name,
                meaning,
                check,
                source_line: source_line.parse().map_err(|_| at("bad source_line"))?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_parses_and_agrees_with_the_windows_catalogue() {
        let rows = parse_rows(TSV).unwrap();
        assert_eq!(
            rows.len(),
            14,
            "seed 000 lists 7 WinInet codes and 7 HTTP statuses"
        );
        for r in rows.iter().filter(|r| r.field == PhoneField::WinInet) {
            let w = WinError(r.code);
            assert_eq!(w.name(), Some(r.name), "{}", r.code);
            assert_eq!(w.meaning(), Some(r.meaning), "{}", r.code);
        }
        assert_eq!(phone_edition_rows(), &rows[..]);
    }

    #[test]
    fn the_seed_examples_decode() {
        let s = PhoneEditionStatus::parse("(0x2ee2/0x0)").unwrap();
        assert_eq!(s.wininet, WinError::ERROR_INTERNET_TIMEOUT);
        assert_eq!(s.http, 0);
        assert_eq!(s.wininet_row().unwrap().source_line, 24);
        assert!(s.http_row().is_none());
        let s = PhoneEditionStatus::parse("(0x80072efd/0x1f4)").unwrap();
        assert_eq!(s.wininet, WinError::ERROR_INTERNET_CANNOT_CONNECT);
        assert_eq!(s.http, 500);
        assert_eq!(s.http_row().unwrap().name, "Internal Server Error");
        assert_eq!(s.to_string(), "(0x2efd/0x1f4)");
        assert!(PhoneEditionStatus::parse("(0x00/0)").unwrap().is_normal());
        assert_eq!(
            PhoneEditionStatus::parse("0x191/0x191")
                .unwrap()
                .http_row()
                .unwrap()
                .summary(),
            "The request requires user authentication."
        );
    }

    #[test]
    fn bad_pairs_are_refused() {
        assert_eq!(
            PhoneEditionStatus::parse("(0x2ee2)"),
            Err(PhoneStatusError::Shape)
        );
        assert_eq!(
            PhoneEditionStatus::parse("(0xzz/0)"),
            Err(PhoneStatusError::Number("WinInet"))
        );
        assert_eq!(
            PhoneEditionStatus::parse("(0x80040154/0)"),
            Err(PhoneStatusError::NotWin32(0x8004_0154))
        );
        assert_eq!(
            PhoneEditionStatus::parse("(0/0xffff)"),
            Err(PhoneStatusError::Http(0xffff))
        );
        assert!(PhoneEditionStatus::parse("(0x1ffffffffff/0)").is_err());
    }
}
