//! SIPp's message log (`-trace_msg`), read back as entries: what SIPp
//! received and sent, when, and the messages themselves.
//!
//! SIPp writes each message as a block that starts with a line of dashes and
//! a timestamp of its local clock, then a title (`UDP message received [330]
//! bytes :`, `TCP message sent (350 bytes):`), a blank line and the message.
//! Notes about messages it could not place (`Unexpected UDP message
//! received:`, `Dead call … received a … message:`, `Discarded message for
//! new calls while quitting`) are blocks too, some without a timestamp; they
//! are kept as [`Direction::Note`] entries. A received message SIPp dropped
//! because it was quitting is marked [`LogEntry::discarded`].
//!
//! This reads a log for assertions; it is not a SIP parser: a header is a
//! line `Name: value` of the header section, matched case-insensitively by
//! its long name, and folded lines are not unfolded.
//!
//! ```
//! use ocer_interop::message_log::{Direction, MessageLog};
//!
//! let text = "----------------------------------------------- 2026-11-23 11:27:36.184381\n\
//!             TCP message received [60] bytes :\n\n\
//!             REGISTER sip:contoso.com SIP/2.0\r\nCall-ID: a1\r\nExpires: 0\r\n\r\n\n\n";
//! let log = MessageLog::parse(text);
//! let register = &log.entries()[0];
//! assert_eq!(register.direction, Direction::Received);
//! assert_eq!(register.method(), Some("REGISTER"));
//! assert_eq!(register.header("call-id"), Some("a1"));
//! ```

use std::time::Duration;

/// The line of dashes that opens every block of the log.
const SEPARATOR: &str = "-----------------------------------------------";

/// What SIPp writes after a request it drops because it is quitting.
const DISCARDED: &str = "Discarded message for new calls while quitting";

/// Which way a logged message went, from SIPp's side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// SIPp received it: for a SIPp server, what the client under test sent.
    Received,
    /// SIPp sent it.
    Sent,
    /// A note about a message SIPp could not place (unexpected, for a dead
    /// call, discarded while quitting); its title says which.
    Note,
}

/// One block of the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry<'a> {
    /// When SIPp logged it, as time since 1970-01-01 00:00 on SIPp's local
    /// clock (its log has no time zone); `None` for notes without a timestamp.
    /// Only differences between entries of one log mean anything.
    pub at: Option<Duration>,
    /// Received, sent, or a note.
    pub direction: Direction,
    /// The block's title line, e.g. `UDP message received [330] bytes :`.
    pub title: &'a str,
    /// The message, from its first line to the end of its body.
    pub message: &'a str,
    /// SIPp received this message as the start of a new call while quitting
    /// (after `stop_gracefully` or `-m`), and dropped it unanswered.
    pub discarded: bool,
}

impl<'a> LogEntry<'a> {
    /// The first line of the message, without its line ending.
    pub fn first_line(&self) -> &'a str {
        self.message
            .lines()
            .next()
            .unwrap_or_default()
            .trim_end_matches('\r')
    }

    /// The method, if the message is a request.
    pub fn method(&self) -> Option<&'a str> {
        let line = self.first_line();
        if line.starts_with("SIP/") || !line.ends_with(" SIP/2.0") {
            return None;
        }
        line.split(' ').next().filter(|m| !m.is_empty())
    }

    /// The status code, if the message is a response.
    pub fn status(&self) -> Option<u16> {
        let rest = self.first_line().strip_prefix("SIP/2.0 ")?;
        rest.split(' ').next()?.parse().ok()
    }

    /// The header lines of the message, as (name, value) pairs, value trimmed.
    pub fn headers(&self) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        self.message
            .lines()
            .skip(1)
            .map(|line| line.trim_end_matches('\r'))
            .take_while(|line| !line.is_empty())
            .filter_map(|line| {
                let (name, value) = line.split_once(':')?;
                Some((name.trim(), value.trim()))
            })
    }

    /// The value of the first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&'a str> {
        self.headers_named(name).next()
    }

    /// The values of every header named `name` (case-insensitive), in order.
    pub fn headers_named<'n>(&self, name: &'n str) -> impl Iterator<Item = &'a str> + 'n
    where
        'a: 'n,
    {
        self.headers()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// Whether SIPp received this message and it is a request: on a SIPp
    /// server, a request the client under test sent.
    pub fn is_received_request(&self) -> bool {
        self.direction == Direction::Received && self.method().is_some()
    }
}

/// A whole `-trace_msg` log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageLog<'a> {
    entries: Vec<LogEntry<'a>>,
}

impl<'a> MessageLog<'a> {
    /// Splits `text` into its blocks. Text before the first separator (there
    /// is none in SIPp's logs) is ignored.
    pub fn parse(text: &'a str) -> Self {
        let mut entries = Vec::new();
        let mut rest = text;
        // Each block starts at a separator line; find them one after another.
        let mut starts = Vec::new();
        let mut offset = 0;
        while let Some(found) = rest.find(SEPARATOR) {
            let at_line_start =
                offset + found == 0 || text.as_bytes().get(offset + found - 1) == Some(&b'\n');
            if at_line_start {
                starts.push(offset + found);
            }
            let skip = found + SEPARATOR.len();
            offset += skip;
            rest = rest.get(skip..).unwrap_or_default();
        }
        for (i, &start) in starts.iter().enumerate() {
            let end = starts.get(i + 1).copied().unwrap_or(text.len());
            if let Some(entry) = text.get(start..end).and_then(parse_block) {
                entries.push(entry);
            }
        }
        Self { entries }
    }

    /// Every block, in the order SIPp wrote them.
    pub fn entries(&self) -> &[LogEntry<'a>] {
        &self.entries
    }

    /// The requests SIPp received, in order.
    pub fn received_requests(&self) -> impl Iterator<Item = &LogEntry<'a>> {
        self.entries.iter().filter(|e| e.is_received_request())
    }

    /// The requests SIPp received with method `method`, in order.
    pub fn received(&self, method: &'a str) -> impl Iterator<Item = &LogEntry<'a>> + '_ {
        self.received_requests()
            .filter(move |e| e.method() == Some(method))
    }

    /// The responses SIPp sent with status `status`, in order.
    pub fn sent_responses(&self, status: u16) -> impl Iterator<Item = &LogEntry<'a>> + '_ {
        self.entries
            .iter()
            .filter(move |e| e.direction == Direction::Sent && e.status() == Some(status))
    }

    /// The responses SIPp received with status `status` to a `method`
    /// request (by their CSeq), in order.
    pub fn received_responses<'s>(
        &'s self,
        status: u16,
        method: &'s str,
    ) -> impl Iterator<Item = &'s LogEntry<'a>> + 's {
        self.entries.iter().filter(move |e| {
            e.direction == Direction::Received
                && e.status() == Some(status)
                && e.header("CSeq").is_some_and(|c| c.ends_with(method))
        })
    }

    /// The messages SIPp received but dropped because it was quitting.
    pub fn discarded(&self) -> impl Iterator<Item = &LogEntry<'a>> {
        self.entries.iter().filter(|e| e.discarded)
    }

    /// The notes: messages SIPp could not place in a call.
    pub fn notes(&self) -> impl Iterator<Item = &LogEntry<'a>> {
        self.entries
            .iter()
            .filter(|e| e.direction == Direction::Note)
    }
}

/// One block, from its separator line to the next one.
fn parse_block(block: &str) -> Option<LogEntry<'_>> {
    let (separator, rest) = block.split_once('\n')?;
    let at = separator
        .strip_prefix(SEPARATOR)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .and_then(parse_timestamp);
    let (title, body) = rest.split_once('\n').unwrap_or((rest, ""));
    let title = title.trim_end_matches('\r').trim();
    let direction = if title.contains("message received") && !title.starts_with("Unexpected") {
        Direction::Received
    } else if title.contains("message sent") {
        Direction::Sent
    } else {
        Direction::Note
    };
    // A blank line separates the title from the message; SIPp ends each block
    // with blank lines of its own.
    let message = body
        .strip_prefix("\r\n")
        .or_else(|| body.strip_prefix('\n'))
        .unwrap_or(body)
        .trim_end_matches(['\r', '\n']);
    // SIPp appends this line, without a block of its own, to the message it
    // is about.
    let (message, discarded) = match message.strip_suffix(DISCARDED) {
        Some(kept) => (kept.trim_end_matches(['\r', '\n']), true),
        None => (message, false),
    };
    Some(LogEntry {
        at,
        direction,
        title,
        message,
        discarded,
    })
}

/// `2026-11-23 11:27:36.184381` as time since 1970-01-01 00:00 (no zone).
fn parse_timestamp(text: &str) -> Option<Duration> {
    let mut parts = text.split_whitespace();
    let (date, time) = (parts.next()?, parts.next()?);
    let mut ymd = date.split('-');
    let year: i64 = ymd.next()?.parse().ok()?;
    let month: u32 = ymd.next()?.parse().ok()?;
    let day: u32 = ymd.next()?.parse().ok()?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let mut hms = time.split(':');
    let hours: u64 = hms.next()?.parse().ok()?;
    let minutes: u64 = hms.next()?.parse().ok()?;
    let seconds = hms.next()?;
    let (secs, fraction) = seconds.split_once('.').unwrap_or((seconds, ""));
    let secs: u64 = secs.parse().ok()?;
    let nanos = fraction_nanos(fraction)?;
    let days = u64::try_from(days_from_civil(year, month, day)).ok()?;
    let whole = days * 86_400 + hours * 3_600 + minutes * 60 + secs;
    Some(Duration::new(whole, nanos))
}

/// The digits after a decimal point as nanoseconds (at most 9 are read).
fn fraction_nanos(digits: &str) -> Option<u32> {
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let kept: String = digits.chars().take(9).collect();
    let padded = format!("{kept:0<9}");
    padded.parse().ok()
}

/// Days from 1970-01-01 to the given proleptic Gregorian date (Howard
/// Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let shifted_month = if month > 2 { month - 3 } else { month + 9 };
    let day_of_year = (153 * shifted_month + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str =
        "----------------------------------------------- 2026-11-23 11:27:36.184381\n\
TCP message received [330] bytes :\n\
\n\
REGISTER sip:contoso.com SIP/2.0\r\n\
Via: SIP/2.0/TCP 127.0.0.1:58066;branch=z9hG4bK24b1\r\n\
Call-ID: 991332fd\r\n\
CSeq: 1 REGISTER\r\n\
Content-Length: 0\r\n\
\r\n\
\n\
\n\
----------------------------------------------- 2026-11-23 11:27:37.185614\n\
TCP message sent (350 bytes):\n\
\n\
SIP/2.0 401 Unauthorized\n\
Call-ID: 991332fd\n\
ms-diagnostics: 1000;reason=\"x\"\n\
Content-Length:     0\n\
\n\
\n\
-----------------------------------------------\n\
Unexpected UDP message received:\n\
\n\
SERVICE sip:alice@contoso.com SIP/2.0\n\
Call-ID: b2\n\
\n\
\n";

    #[test]
    fn blocks_are_split_and_classified() {
        let log = MessageLog::parse(LOG);
        let entries = log.entries();
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[0].direction, Direction::Received);
        assert_eq!(entries[0].method(), Some("REGISTER"));
        assert_eq!(entries[0].header("CALL-ID"), Some("991332fd"));
        assert!(entries[0].message.ends_with("Content-Length: 0"));
        assert_eq!(entries[1].direction, Direction::Sent);
        assert_eq!(entries[1].status(), Some(401));
        assert_eq!(entries[1].method(), None);
        assert_eq!(
            entries[1].header("ms-diagnostics"),
            Some("1000;reason=\"x\"")
        );
        assert_eq!(entries[2].direction, Direction::Note);
        assert_eq!(entries[2].at, None);
        assert_eq!(entries[2].method(), Some("SERVICE"));
        assert_eq!(log.received_requests().count(), 1);
        assert_eq!(log.received("REGISTER").count(), 1);
        assert_eq!(log.sent_responses(401).count(), 1);
        assert_eq!(log.notes().count(), 1);
    }

    #[test]
    fn timestamps_differ_by_the_time_between_entries() {
        let log = MessageLog::parse(LOG);
        let (first, second) = (log.entries()[0].at.unwrap(), log.entries()[1].at.unwrap());
        assert_eq!(second - first, Duration::from_micros(1_001_233));
    }

    #[test]
    fn timestamps_count_days_across_midnight_and_month_ends() {
        let before = parse_timestamp("2024-02-29 23:59:59.900000").unwrap();
        let after = parse_timestamp("2024-03-01 00:00:00.100000").unwrap();
        assert_eq!(after - before, Duration::from_millis(200));
        assert_eq!(
            parse_timestamp("1970-01-02 00:00:01"),
            Some(Duration::from_secs(86_401))
        );
        assert_eq!(parse_timestamp("2024-13-01 00:00:00"), None);
        assert_eq!(parse_timestamp("yesterday"), None);
    }

    #[test]
    fn a_request_dropped_while_quitting_is_marked() {
        let text = "----------------------------------------------- 2026-11-23 11:27:36.184381\n\
UDP message received [40] bytes :\n\
\n\
SERVICE sip:alice@contoso.com SIP/2.0\r\n\
Call-ID: c3\r\n\
\r\n\
\n\
Discarded message for new calls while quitting\n";
        let log = MessageLog::parse(text);
        let entry = &log.entries()[0];
        assert!(entry.discarded);
        assert_eq!(
            entry.message,
            "SERVICE sip:alice@contoso.com SIP/2.0\r\nCall-ID: c3"
        );
        assert_eq!(log.discarded().count(), 1);
        assert!(!MessageLog::parse(LOG).entries()[0].discarded);
    }

    #[test]
    fn text_without_separators_has_no_entries() {
        assert!(MessageLog::parse("").entries().is_empty());
        assert!(MessageLog::parse("no blocks here\n").entries().is_empty());
    }
}
