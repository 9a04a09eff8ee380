//! SIP status codes (RFC 3261 §21).
//!
//! Reason phrases and meanings come from `data/sip-status-codes.tsv` (one row
//! per code; `seed_line` is the line of the status-code seed document the
//! meaning was taken from, empty for 101, which is Lync's and comes from
//! MS-OCER §4.1). The table is embedded and parsed on first use: a build
//! script would be the alternative, and the crate's build script belongs to
//! another concern.

use std::fmt;
use std::sync::OnceLock;

/// A SIP status code. Open: any value 100–699 is kept, known or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StatusCode(pub u16);

/// The class of a status code: its first digit (RFC 3261 §7.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StatusClass {
    /// 1xx: the request is being processed; more responses follow.
    Provisional,
    /// 2xx: the request succeeded.
    Success,
    /// 3xx: the request should be retried elsewhere.
    Redirection,
    /// 4xx: the request failed at this server and must be changed before a retry.
    ClientFailure,
    /// 5xx: the server failed to fulfil an apparently valid request.
    ServerFailure,
    /// 6xx: the request cannot be fulfilled at any server.
    GlobalFailure,
    /// Outside 100–699: not a valid SIP status code.
    Unknown,
}

impl StatusCode {
    /// 100 Trying.
    pub const TRYING: Self = Self(100);
    /// 101 Progress Report: Lync's provisional response that carries
    /// `ms-diagnostics` while a request is still in progress (MS-OCER §4.1).
    pub const PROGRESS_REPORT: Self = Self(101);
    /// 180 Ringing.
    pub const RINGING: Self = Self(180);
    /// 181 Call Is Being Forwarded.
    pub const CALL_IS_BEING_FORWARDED: Self = Self(181);
    /// 182 Queued.
    pub const QUEUED: Self = Self(182);
    /// 183 Session Progress.
    pub const SESSION_PROGRESS: Self = Self(183);
    /// 200 OK.
    pub const OK: Self = Self(200);
    /// 300 Multiple Choices.
    pub const MULTIPLE_CHOICES: Self = Self(300);
    /// 301 Moved Permanently.
    pub const MOVED_PERMANENTLY: Self = Self(301);
    /// 302 Moved Temporarily.
    pub const MOVED_TEMPORARILY: Self = Self(302);
    /// 305 Use Proxy.
    pub const USE_PROXY: Self = Self(305);
    /// 380 Alternative Service.
    pub const ALTERNATIVE_SERVICE: Self = Self(380);
    /// 400 Bad Request.
    pub const BAD_REQUEST: Self = Self(400);
    /// 401 Unauthorized.
    pub const UNAUTHORIZED: Self = Self(401);
    /// 402 Payment Required.
    pub const PAYMENT_REQUIRED: Self = Self(402);
    /// 403 Forbidden.
    pub const FORBIDDEN: Self = Self(403);
    /// 404 Not Found.
    pub const NOT_FOUND: Self = Self(404);
    /// 405 Method Not Allowed.
    pub const METHOD_NOT_ALLOWED: Self = Self(405);
    /// 406 Not Acceptable.
    pub const NOT_ACCEPTABLE: Self = Self(406);
    /// 407 Proxy Authentication Required.
    pub const PROXY_AUTHENTICATION_REQUIRED: Self = Self(407);
    /// 408 Request Timeout.
    pub const REQUEST_TIMEOUT: Self = Self(408);
    /// 410 Gone.
    pub const GONE: Self = Self(410);
    /// 413 Request Entity Too Large.
    pub const REQUEST_ENTITY_TOO_LARGE: Self = Self(413);
    /// 414 Request-URI Too Long.
    pub const REQUEST_URI_TOO_LONG: Self = Self(414);
    /// 415 Unsupported Media Type.
    pub const UNSUPPORTED_MEDIA_TYPE: Self = Self(415);
    /// 416 Unsupported URI Scheme.
    pub const UNSUPPORTED_URI_SCHEME: Self = Self(416);
    /// 420 Bad Extension.
    pub const BAD_EXTENSION: Self = Self(420);
    /// 421 Extension Required.
    pub const EXTENSION_REQUIRED: Self = Self(421);
    /// 423 Interval Too Brief.
    pub const INTERVAL_TOO_BRIEF: Self = Self(423);
    /// 480 Temporarily Unavailable.
    pub const TEMPORARILY_UNAVAILABLE: Self = Self(480);
    /// 481 Call/Transaction Does Not Exist.
    pub const CALL_OR_TRANSACTION_DOES_NOT_EXIST: Self = Self(481);
    /// 482 Loop Detected.
    pub const LOOP_DETECTED: Self = Self(482);
    /// 483 Too Many Hops.
    pub const TOO_MANY_HOPS: Self = Self(483);
    /// 484 Address Incomplete.
    pub const ADDRESS_INCOMPLETE: Self = Self(484);
    /// 485 Ambiguous.
    pub const AMBIGUOUS: Self = Self(485);
    /// 486 Busy Here.
    pub const BUSY_HERE: Self = Self(486);
    /// 487 Request Terminated.
    pub const REQUEST_TERMINATED: Self = Self(487);
    /// 488 Not Acceptable Here.
    pub const NOT_ACCEPTABLE_HERE: Self = Self(488);
    /// 491 Request Pending.
    pub const REQUEST_PENDING: Self = Self(491);
    /// 493 Undecipherable.
    pub const UNDECIPHERABLE: Self = Self(493);
    /// 500 Server Internal Error.
    pub const SERVER_INTERNAL_ERROR: Self = Self(500);
    /// 501 Not Implemented.
    pub const NOT_IMPLEMENTED: Self = Self(501);
    /// 502 Bad Gateway.
    pub const BAD_GATEWAY: Self = Self(502);
    /// 503 Service Unavailable.
    pub const SERVICE_UNAVAILABLE: Self = Self(503);
    /// 504 Server Time-out.
    pub const SERVER_TIME_OUT: Self = Self(504);
    /// 505 Version Not Supported.
    pub const VERSION_NOT_SUPPORTED: Self = Self(505);
    /// 513 Message Too Large.
    pub const MESSAGE_TOO_LARGE: Self = Self(513);
    /// 600 Busy Everywhere.
    pub const BUSY_EVERYWHERE: Self = Self(600);
    /// 603 Decline.
    pub const DECLINE: Self = Self(603);
    /// 604 Does Not Exist Anywhere.
    pub const DOES_NOT_EXIST_ANYWHERE: Self = Self(604);
    /// 606 Not Acceptable (global: the session description is unacceptable everywhere).
    pub const NOT_ACCEPTABLE_ANYWHERE: Self = Self(606);

    /// Every named constant, in numeric order.
    pub const KNOWN: &'static [StatusCode] = &[
        Self::TRYING,
        Self::PROGRESS_REPORT,
        Self::RINGING,
        Self::CALL_IS_BEING_FORWARDED,
        Self::QUEUED,
        Self::SESSION_PROGRESS,
        Self::OK,
        Self::MULTIPLE_CHOICES,
        Self::MOVED_PERMANENTLY,
        Self::MOVED_TEMPORARILY,
        Self::USE_PROXY,
        Self::ALTERNATIVE_SERVICE,
        Self::BAD_REQUEST,
        Self::UNAUTHORIZED,
        Self::PAYMENT_REQUIRED,
        Self::FORBIDDEN,
        Self::NOT_FOUND,
        Self::METHOD_NOT_ALLOWED,
        Self::NOT_ACCEPTABLE,
        Self::PROXY_AUTHENTICATION_REQUIRED,
        Self::REQUEST_TIMEOUT,
        Self::GONE,
        Self::REQUEST_ENTITY_TOO_LARGE,
        Self::REQUEST_URI_TOO_LONG,
        Self::UNSUPPORTED_MEDIA_TYPE,
        Self::UNSUPPORTED_URI_SCHEME,
        Self::BAD_EXTENSION,
        Self::EXTENSION_REQUIRED,
        Self::INTERVAL_TOO_BRIEF,
        Self::TEMPORARILY_UNAVAILABLE,
        Self::CALL_OR_TRANSACTION_DOES_NOT_EXIST,
        Self::LOOP_DETECTED,
        Self::TOO_MANY_HOPS,
        Self::ADDRESS_INCOMPLETE,
        Self::AMBIGUOUS,
        Self::BUSY_HERE,
        Self::REQUEST_TERMINATED,
        Self::NOT_ACCEPTABLE_HERE,
        Self::REQUEST_PENDING,
        Self::UNDECIPHERABLE,
        Self::SERVER_INTERNAL_ERROR,
        Self::NOT_IMPLEMENTED,
        Self::BAD_GATEWAY,
        Self::SERVICE_UNAVAILABLE,
        Self::SERVER_TIME_OUT,
        Self::VERSION_NOT_SUPPORTED,
        Self::MESSAGE_TOO_LARGE,
        Self::BUSY_EVERYWHERE,
        Self::DECLINE,
        Self::DOES_NOT_EXIST_ANYWHERE,
        Self::NOT_ACCEPTABLE_ANYWHERE,
    ];

    /// The numeric value.
    pub const fn as_u16(self) -> u16 {
        self.0
    }

    /// The class, from the first digit.
    pub const fn class(self) -> StatusClass {
        match self.0 {
            100..=199 => StatusClass::Provisional,
            200..=299 => StatusClass::Success,
            300..=399 => StatusClass::Redirection,
            400..=499 => StatusClass::ClientFailure,
            500..=599 => StatusClass::ServerFailure,
            600..=699 => StatusClass::GlobalFailure,
            _ => StatusClass::Unknown,
        }
    }

    /// 1xx: more responses will follow in the same transaction.
    pub const fn is_provisional(self) -> bool {
        matches!(self.class(), StatusClass::Provisional)
    }

    /// 2xx–6xx: the response ends the client transaction.
    pub const fn is_final(self) -> bool {
        matches!(self.0, 200..=699)
    }

    /// 2xx.
    pub const fn is_success(self) -> bool {
        matches!(self.class(), StatusClass::Success)
    }

    /// 3xx–6xx: the request failed (or must be retried elsewhere).
    pub const fn is_failure(self) -> bool {
        matches!(self.0, 300..=699)
    }

    /// The standard reason phrase (RFC 3261 §21; "Progress Report" for Lync's
    /// 101), or `None` for a code without one.
    pub fn reason_phrase(self) -> Option<&'static str> {
        row(self).map(|r| r.reason_phrase)
    }

    /// What the code means and how a client handles it, in one or two
    /// sentences, or `None` for a code without an entry.
    pub fn meaning(self) -> Option<&'static str> {
        row(self).map(|r| r.meaning)
    }
}

impl From<u16> for StatusCode {
    fn from(code: u16) -> Self {
        Self(code)
    }
}

impl From<StatusCode> for u16 {
    fn from(code: StatusCode) -> Self {
        code.0
    }
}

impl From<ezk_sip_types::StatusCode> for StatusCode {
    fn from(code: ezk_sip_types::StatusCode) -> Self {
        Self(code.into_u16())
    }
}

impl From<StatusCode> for ezk_sip_types::StatusCode {
    fn from(code: StatusCode) -> Self {
        ezk_sip_types::StatusCode::from(code.0)
    }
}

impl fmt::Display for StatusCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// One row of `data/sip-status-codes.tsv`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct StatusRow {
    code: u16,
    reason_phrase: &'static str,
    meaning: &'static str,
    /// Line in the status-code seed; `None` for codes from other sources.
    seed_line: Option<u32>,
}

const TABLE_TSV: &str = include_str!("../../data/sip-status-codes.tsv");

/// Parses one data row. `None` for a malformed row: the embedded table is
/// checked by a unit test, so a bad row is a build-time mistake, and at run
/// time it must cost only its own entry, never a panic.
fn parse_row(line: &'static str) -> Option<StatusRow> {
    let mut fields = line.split('\t');
    let code = fields.next()?.parse::<u16>().ok()?;
    let reason_phrase = fields.next()?;
    let meaning = fields.next()?;
    let seed_line = match fields.next()? {
        "" => None,
        n => Some(n.parse::<u32>().ok()?),
    };
    if fields.next().is_some()
        || !StatusCode(code).is_provisional() && !StatusCode(code).is_final()
        || reason_phrase.is_empty()
        || meaning.is_empty()
    {
        return None;
    }
    Some(StatusRow {
        code,
        reason_phrase,
        meaning,
        seed_line,
    })
}

/// The data lines of the table (after the header row), blank lines dropped.
fn data_lines() -> impl Iterator<Item = &'static str> {
    TABLE_TSV
        .lines()
        .skip(1)
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| !l.is_empty())
}

fn table() -> &'static [StatusRow] {
    static TABLE: OnceLock<Vec<StatusRow>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut rows: Vec<StatusRow> = data_lines().filter_map(parse_row).collect();
        rows.sort_by_key(|r| r.code);
        rows
    })
}

fn row(code: StatusCode) -> Option<&'static StatusRow> {
    let rows = table();
    rows.binary_search_by_key(&code.0, |r| r.code)
        .ok()
        .and_then(|i| rows.get(i))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn header_row_names_the_columns() {
        assert_eq!(
            TABLE_TSV.lines().next(),
            Some("code\treason_phrase\tmeaning\tseed_line")
        );
    }

    #[test]
    fn every_row_parses() {
        for line in data_lines() {
            assert!(parse_row(line).is_some(), "malformed row: {line:?}");
        }
        assert_eq!(table().len(), data_lines().count());
    }

    #[test]
    fn malformed_rows_are_skipped_not_panicked_on() {
        for bad in [
            "",
            "abc\tX\tY\t1",
            "100\tTrying\tmeaning",
            "100\tTrying\tmeaning\t1\textra",
            "100\t\tmeaning\t1",
            "100\tTrying\t\t1",
            "100\tTrying\tmeaning\tx",
            "99\tOdd\tmeaning\t1",
            "70000\tOdd\tmeaning\t1",
        ] {
            assert_eq!(parse_row(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn codes_are_unique_and_match_the_constants() {
        let in_table: Vec<u16> = data_lines().filter_map(parse_row).map(|r| r.code).collect();
        let unique: BTreeSet<u16> = in_table.iter().copied().collect();
        assert_eq!(unique.len(), in_table.len(), "duplicate code in table");
        let constants: BTreeSet<u16> = StatusCode::KNOWN.iter().map(|c| c.0).collect();
        assert_eq!(unique, constants);
        let mut sorted = StatusCode::KNOWN.to_vec();
        sorted.sort();
        assert_eq!(sorted, StatusCode::KNOWN);
    }

    #[test]
    fn seed_lines_are_given_except_for_lync_101() {
        for r in table() {
            if r.code == 101 {
                assert_eq!(r.seed_line, None);
            } else {
                let line = r.seed_line.unwrap_or(0);
                assert!(
                    (19..=157).contains(&line),
                    "{} has seed line {line}",
                    r.code
                );
            }
        }
        let lines: Vec<u32> = table().iter().filter_map(|r| r.seed_line).collect();
        let mut sorted = lines.clone();
        sorted.sort();
        assert_eq!(lines, sorted, "seed lines follow the code order");
    }

    #[test]
    fn meanings_are_short_clean_sentences() {
        for r in table() {
            assert!(r.meaning.ends_with('.'), "{}", r.code);
            assert!(r.meaning.len() < 400, "{} is long", r.code);
            assert!(!r.meaning.contains("  "), "{}", r.code);
        }
    }

    #[test]
    fn rfc_3261_phrases() {
        assert_eq!(StatusCode::TRYING.reason_phrase(), Some("Trying"));
        assert_eq!(
            StatusCode::PROGRESS_REPORT.reason_phrase(),
            Some("Progress Report")
        );
        assert_eq!(
            StatusCode::CALL_IS_BEING_FORWARDED.reason_phrase(),
            Some("Call Is Being Forwarded")
        );
        assert_eq!(
            StatusCode::NOT_ACCEPTABLE.reason_phrase(),
            Some("Not Acceptable")
        );
        assert_eq!(
            StatusCode::BAD_EXTENSION.reason_phrase(),
            Some("Bad Extension")
        );
        assert_eq!(
            StatusCode::SERVER_TIME_OUT.reason_phrase(),
            Some("Server Time-out")
        );
        assert_eq!(
            StatusCode::MESSAGE_TOO_LARGE.reason_phrase(),
            Some("Message Too Large")
        );
        assert_eq!(
            StatusCode(481).reason_phrase(),
            Some("Call/Transaction Does Not Exist")
        );
        assert_eq!(StatusCode(499).reason_phrase(), None);
        assert_eq!(StatusCode(499).meaning(), None);
    }

    #[test]
    fn agrees_with_ezk_on_shared_phrases() {
        for code in StatusCode::KNOWN {
            let ezk = ezk_sip_types::StatusCode::from(*code);
            if let Some(theirs) = ezk.text() {
                assert!(
                    theirs.eq_ignore_ascii_case(code.reason_phrase().unwrap_or("")),
                    "{code}: {theirs:?} vs {:?}",
                    code.reason_phrase()
                );
            }
        }
    }

    #[test]
    fn meanings_carry_the_handling_notes() {
        let m = |c: StatusCode| c.meaning().unwrap_or("");
        assert!(m(StatusCode::SERVICE_UNAVAILABLE).contains("Retry-After"));
        assert!(m(StatusCode::SERVICE_UNAVAILABLE).contains("500"));
        assert!(m(StatusCode::UNAUTHORIZED).contains("WWW-Authenticate"));
        assert!(m(StatusCode::PROXY_AUTHENTICATION_REQUIRED).contains("Proxy-Authorization"));
        assert!(m(StatusCode::MOVED_TEMPORARILY).contains("Contact"));
        assert!(m(StatusCode::BUSY_HERE).contains("Retry-After"));
        assert!(m(StatusCode::PROGRESS_REPORT).contains("ms-diagnostics"));
        assert!(m(StatusCode::CALL_IS_BEING_FORWARDED).contains("forwarding"));
    }

    #[test]
    fn classes_and_predicates() {
        assert_eq!(StatusCode(101).class(), StatusClass::Provisional);
        assert_eq!(StatusCode(299).class(), StatusClass::Success);
        assert_eq!(StatusCode(302).class(), StatusClass::Redirection);
        assert_eq!(StatusCode(486).class(), StatusClass::ClientFailure);
        assert_eq!(StatusCode(504).class(), StatusClass::ServerFailure);
        assert_eq!(StatusCode(603).class(), StatusClass::GlobalFailure);
        assert_eq!(StatusCode(99).class(), StatusClass::Unknown);
        assert_eq!(StatusCode(700).class(), StatusClass::Unknown);
        assert!(StatusCode(101).is_provisional() && !StatusCode(101).is_final());
        assert!(StatusCode(200).is_final() && StatusCode(200).is_success());
        assert!(StatusCode(699).is_final() && StatusCode(699).is_failure());
        assert!(!StatusCode(700).is_final() && !StatusCode(99).is_provisional());
        assert!(!StatusCode(200).is_failure());
    }

    #[test]
    fn conversions_and_display() {
        assert_eq!(StatusCode::from(504), StatusCode::SERVER_TIME_OUT);
        assert_eq!(u16::from(StatusCode::OK), 200);
        let ezk: ezk_sip_types::StatusCode = StatusCode(101).into();
        assert_eq!(ezk.into_u16(), 101);
        assert_eq!(
            StatusCode::from(ezk_sip_types::StatusCode::SERVER_TIMEOUT),
            StatusCode(504)
        );
        assert_eq!(StatusCode(504).to_string(), "504");
        assert_eq!(format!("{:>5}", StatusCode(42)), "   42");
    }
}
