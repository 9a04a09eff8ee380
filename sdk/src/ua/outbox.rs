//! The durable outbox of error reports.
//!
//! A report the app accepted for sending ([`submit`]) is stored before the first
//! attempt to send it, and leaves the outbox only after the server took it (2xx)
//! or after a permanent verdict of the retry policy (413, attempts exhausted …);
//! a suspended session keeps it for the next. [`DiskOutbox`] keeps one file per
//! report, written crash-safely; [`MemoryOutbox`] is the same thing without disk,
//! for apps that want none. Both are bounded by count, bytes and age, and count
//! what they evict.
//!
//! # On disk
//!
//! One directory per account (reports are sent as their user, from their AOR).
//! A report is the file `<id as 16 hex digits>.report`: a short text header
//! (format version, id, creation time, attempts, the time it may be sent again
//! and why, body length, FNV-1a 64 checksum of the body), a blank line, the
//! body. Format 1 (without the not-before line) is still read. Writing is:
//! create `<id>.tmp`, write, fsync the file, rename to `<id>.report`, fsync the
//! directory; a write that fails removes its `.tmp`. A crash at any point leaves
//! either no report or a whole one; the attempt count and the not-before time
//! are rewritten the same way.
//!
//! One process owns a directory: [`DiskOutbox::open`] takes an exclusive lock
//! on its `lock` file (released by the kernel when the process dies) and a
//! second opener gets [`OutboxError::Locked`]. At open, `*.tmp` files are
//! deleted; a `*.report` that does not read back whole (wrong length or
//! checksum, bad header, larger than any report) is *quarantined*: renamed to
//! `<id>.corrupt` with a warning, never sent and never deleted; one that cannot
//! be opened for another reason (too many open files …) is left where it is and
//! read again by [`Outbox::rescan`]. Only regular files are opened: a FIFO, a
//! symlink or a directory with a report's name is skipped with a warning. Each
//! of these is counted in [`OutboxStats`]; nothing half-written is ever handed
//! out. Removal unlinks and fsyncs the directory, so a delivered report does not
//! come back after a crash and get sent twice. Ids only grow; if a stored id is
//! near the top of the range, the queue is renumbered from 0 at open (a crash
//! during that leaves copies that the next open recognises and removes).
//!
//! ```
//! use std::time::SystemTime;
//! use ocer::report::{ErrorReport, ReportLimits};
//! use ocer::ua::outbox::{submit, DiskOutbox, HookVerdict, Outbox, OutboxLimits, Removal, Submitted};
//!
//! let dir = std::env::temp_dir().join(format!("ocer-outbox-doc-{}", std::process::id()));
//! let mut outbox = DiskOutbox::open(&dir, OutboxLimits::default(), SystemTime::now())?;
//! let report = ErrorReport {
//!     call_id: "c1".into(),
//!     request_type: "INVITE".into(),
//!     response_code: 504,
//!     diag_headers: vec!["1007;reason=\"Temporarily cannot route\";source=\"fe.contoso.com\"".into()],
//!     ..ErrorReport::default()
//! };
//! // The app's hook strips server names (MS-OCER §5.1) before anything is stored.
//! let mut hook = |r: &mut ErrorReport<'_>| {
//!     r.strip_diag_param("source");
//!     HookVerdict::Send
//! };
//! let Submitted::Queued { id, .. } =
//!     submit(&mut outbox, &mut hook, report, &ReportLimits::default(), "sip:alice@contoso.com", SystemTime::now())?
//! else {
//!     unreachable!("the hook did not veto")
//! };
//! // After a restart the report is still there.
//! drop(outbox);
//! let mut outbox = DiskOutbox::open(&dir, OutboxLimits::default(), SystemTime::now())?;
//! let stored = outbox.get(id).expect("still queued");
//! assert!(!stored.body.contains("fe.contoso.com"));
//! // Another process (or another open here) cannot take the same directory.
//! assert!(matches!(
//!     DiskOutbox::open(&dir, OutboxLimits::default(), SystemTime::now()),
//!     Err(ocer::ua::outbox::OutboxError::Locked { .. })
//! ));
//! outbox.record_attempt(id)?;
//! outbox.remove(id, Removal::Delivered)?;
//! assert!(outbox.ids().is_empty());
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tracing::{debug, warn};

use crate::report::{
    encode, Cuts, DiscardReason, ErrorReport, LimitError, ReportLimits, RetryCause,
};

/// A report's place in the outbox: increasing in acceptance order.
///
/// Shown (and parsed) as 16 lower-case hex digits, its file name's stem: the
/// id events, logs and the outbox directory all use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ReportId(pub u64);

impl fmt::Display for ReportId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// A string that is not a [`ReportId`]: 16 hex digits are needed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a report id (16 hex digits): {0:?}")]
pub struct ParseReportIdError(pub String);

impl FromStr for ReportId {
    type Err = ParseReportIdError;

    /// Exactly 16 hex digits (either case), as [`Display`](fmt::Display)
    /// writes them; a shorter or signed form would name a file the outbox
    /// never writes.
    fn from_str(s: &str) -> Result<ReportId, ParseReportIdError> {
        if s.len() != 16 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(ParseReportIdError(s.to_owned()));
        }
        u64::from_str_radix(s, 16)
            .map(ReportId)
            .map_err(|_| ParseReportIdError(s.to_owned()))
    }
}

/// A stored report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredReport {
    /// Its id.
    pub id: ReportId,
    /// When it was accepted (wall clock: it outlives the process).
    pub created: SystemTime,
    /// Attempts to send it so far.
    pub attempts: u32,
    /// No attempt before this; `None`: at once.
    pub not_before: Option<NotBefore>,
    /// The `application/msrtc-reporterror+xml` body, limits already applied.
    pub body: String,
}

/// The earliest time a report may be sent again, kept with it so that neither a
/// new login session nor a restart shortens a wait (MS-OCER §3.1.5: "SHOULD
/// wait the amount of time specified in the Retry-after header").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotBefore {
    /// When (wall clock: it outlives the process).
    pub at: SystemTime,
    /// Why: a server's Retry-After holds every report, a backoff only this one.
    pub cause: RetryCause,
}

/// Bounds of an outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutboxLimits {
    /// Reports kept at most.
    pub max_reports: usize,
    /// Body bytes kept at most, all reports together.
    pub max_bytes: u64,
    /// A report older than this is dropped unsent.
    pub max_age: Duration,
}

impl Default for OutboxLimits {
    /// 1,000 reports, 16 MiB, 7 days: a week of a client that cannot reach its
    /// reporting service, without letting it fill a disk.
    fn default() -> Self {
        Self {
            max_reports: 1000,
            max_bytes: 16 * 1024 * 1024,
            max_age: Duration::from_secs(7 * 24 * 3600),
        }
    }
}

/// Counters of an outbox since it was opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxStats {
    /// Reports queued now.
    pub pending: usize,
    /// Their body bytes.
    pub pending_bytes: u64,
    /// Accepted.
    pub accepted: u64,
    /// Removed after a 2xx.
    pub delivered: u64,
    /// Removed after a permanent verdict.
    pub discarded: u64,
    /// Evicted (oldest first) to stay within [`OutboxLimits::max_reports`].
    pub evicted_for_count: u64,
    /// Evicted (oldest first) to stay within [`OutboxLimits::max_bytes`].
    pub evicted_for_bytes: u64,
    /// Dropped for being older than [`OutboxLimits::max_age`].
    pub expired: u64,
    /// Temporary files of interrupted writes, deleted at open.
    pub temp_files_removed: u64,
    /// Report files that did not read back whole, renamed to `<id>.corrupt`.
    pub corrupt_files_quarantined: u64,
    /// Report files that could not be opened (an I/O error, not damage):
    /// left in place, read again by [`Outbox::rescan`]. Counts each failure.
    pub unreadable_files: u64,
    /// Entries with a report's name that are not regular files (a FIFO, a
    /// symlink, a directory): skipped, left alone.
    pub skipped_entries: u64,
}

/// Why a report leaves the outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    /// The server took it (2xx).
    Delivered,
    /// It can never be delivered.
    Discarded(DiscardReason),
}

/// An outbox failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OutboxError {
    /// The file system failed (the local machine's fault).
    #[error("outbox I/O on {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// One report is larger than the whole outbox may hold.
    #[error("a report of {bytes} bytes is larger than the outbox ({max_bytes} bytes)")]
    TooLarge {
        /// Its size.
        bytes: u64,
        /// The outbox's limit.
        max_bytes: u64,
    },
    /// The outbox holds no report with this id.
    #[error("no report {0:?} in the outbox")]
    NoSuchReport(ReportId),
    /// Another process (or another [`DiskOutbox`] in this one) has the
    /// directory open: two writers would lose each other's reports.
    #[error("the outbox {dir} is in use by another process")]
    Locked {
        /// The directory.
        dir: PathBuf,
    },
    /// No id is left above the newest report's (only a planted file name
    /// gets there; the next open renumbers).
    #[error("the outbox has no report id left")]
    IdsExhausted,
}

impl OutboxError {
    /// Whether the file system is out of space (or quota).
    pub fn is_disk_full(&self) -> bool {
        match self {
            // ENOSPC 28, EDQUOT 122 (Linux) / 69 (BSD, macOS): io::ErrorKind
            // has StorageFull and QuotaExceeded only since Rust 1.83 / 1.85.
            Self::Io { source, .. } => {
                matches!(source.kind(), io::ErrorKind::StorageFull)
                    || matches!(source.raw_os_error(), Some(28 | 122))
            }
            _ => false,
        }
    }
}

/// A store of reports waiting to be sent. See the module docs.
pub trait Outbox {
    /// Stores `body`; once this returns, the report survives a crash (for
    /// [`DiskOutbox`]). Expired and, if needed, the oldest reports are evicted
    /// first to make room.
    fn accept(&mut self, body: String, now: SystemTime) -> Result<ReportId, OutboxError>;
    /// The queued reports' ids, oldest first.
    fn ids(&self) -> Vec<ReportId>;
    /// A queued report.
    fn get(&self, id: ReportId) -> Option<&StoredReport>;
    /// Counts one attempt to send `id`, durably; returns the new count. Call it
    /// before the attempt, so a crash during one is not forgotten.
    fn record_attempt(&mut self, id: ReportId) -> Result<u32, OutboxError>;
    /// Stores when `id` may be sent next, durably (`None`: at once).
    fn defer(&mut self, id: ReportId, not_before: Option<NotBefore>) -> Result<(), OutboxError>;
    /// Reads again what could not be read before for a passing reason (an
    /// I/O error such as too many open files); returns how many reports
    /// joined the queue.
    fn rescan(&mut self, now: SystemTime) -> Result<u32, OutboxError>;
    /// Removes `id` for good.
    fn remove(&mut self, id: ReportId, removal: Removal) -> Result<(), OutboxError>;
    /// Drops reports older than the age limit; returns how many.
    fn expire(&mut self, now: SystemTime) -> Result<u32, OutboxError>;
    /// The counters.
    fn stats(&self) -> OutboxStats;
}

/// Whether the app lets a report go out ([`BeforeReport`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookVerdict {
    /// Store and send it (possibly redacted).
    Send,
    /// Drop it: it is neither stored nor sent.
    Veto,
}

/// The app's last look at a report before it is stored: it may redact fields
/// (e.g. [`ErrorReport::strip_diag_param`]) or veto the report. Any
/// `FnMut(&mut ErrorReport) -> HookVerdict + Send` is one.
pub trait BeforeReport: Send {
    /// Redacts `report` in place, or vetoes it.
    fn before_report(&mut self, report: &mut ErrorReport<'_>) -> HookVerdict;
}

impl<F> BeforeReport for F
where
    F: FnMut(&mut ErrorReport<'_>) -> HookVerdict + Send,
{
    fn before_report(&mut self, report: &mut ErrorReport<'_>) -> HookVerdict {
        self(report)
    }
}

/// What [`submit`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Submitted {
    /// Stored, to be sent.
    Queued {
        /// Its id.
        id: ReportId,
        /// What the size limits cut.
        cuts: Cuts,
    },
    /// The hook vetoed it.
    Vetoed,
}

/// Why [`submit`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SubmitError {
    /// The report cannot be made to fit the limits.
    #[error(transparent)]
    Limits(#[from] LimitError),
    /// The outbox could not store it.
    #[error(transparent)]
    Outbox(#[from] OutboxError),
}

/// Accepts a report for sending: the app's hook first (so nothing it redacts or
/// vetoes is ever written), then the size limits, then the outbox.
/// `reporter_aor` is the From URI of the SERVICE that will carry the report
/// (see [`encode`]).
pub fn submit(
    outbox: &mut dyn Outbox,
    hook: &mut dyn BeforeReport,
    mut report: ErrorReport<'_>,
    limits: &ReportLimits,
    reporter_aor: &str,
    now: SystemTime,
) -> Result<Submitted, SubmitError> {
    if hook.before_report(&mut report) == HookVerdict::Veto {
        return Ok(Submitted::Vetoed);
    }
    let encoded = encode(report, limits, reporter_aor)?;
    let id = outbox.accept(encoded.body, now)?;
    Ok(Submitted::Queued {
        id,
        cuts: encoded.cuts,
    })
}

/// The bookkeeping both outboxes share: reports in id order, limits, counters.
#[derive(Debug, Clone)]
struct Queue {
    reports: BTreeMap<ReportId, StoredReport>,
    bytes: u64,
    limits: OutboxLimits,
    next_id: u64,
    stats: OutboxStats,
}

/// What [`Queue::evictions`] makes room for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Need {
    /// Nothing: only expired reports go.
    AgeOnly,
    /// The limits as they are.
    Limits,
    /// One more report of this many bytes.
    Room(u64),
}

/// Why a report leaves the queue unsent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Eviction {
    Age,
    Count,
    Bytes,
}

impl Queue {
    fn new(limits: OutboxLimits) -> Self {
        Self {
            reports: BTreeMap::new(),
            bytes: 0,
            limits,
            next_id: 0,
            stats: OutboxStats::default(),
        }
    }

    fn insert(&mut self, report: StoredReport) {
        self.claim_id(report.id);
        self.bytes += report.body.len() as u64;
        self.reports.insert(report.id, report);
    }

    /// No report accepted from now on gets `id` or a lower one.
    fn claim_id(&mut self, id: ReportId) {
        self.next_id = self.next_id.max(id.0.saturating_add(1));
    }

    /// The next id, or `IdsExhausted` when `u64::MAX` is taken.
    fn new_id(&self) -> Result<ReportId, OutboxError> {
        let top = self.reports.keys().next_back().map_or(0, |id| id.0);
        if self.next_id == u64::MAX && top == u64::MAX {
            return Err(OutboxError::IdsExhausted);
        }
        Ok(ReportId(self.next_id))
    }

    fn take(&mut self, id: ReportId) -> Option<StoredReport> {
        let report = self.reports.remove(&id)?;
        self.bytes -= report.body.len() as u64;
        Some(report)
    }

    fn is_expired(&self, report: &StoredReport, now: SystemTime) -> bool {
        now.duration_since(report.created)
            .is_ok_and(|age| age > self.limits.max_age)
    }

    /// The reports to evict, oldest first, with the reason for each: those
    /// past the age limit, and then, unless `need` is [`Need::AgeOnly`], as many
    /// of the oldest as it takes to stay within the count and byte limits with
    /// `need`'s report added.
    fn evictions(&self, need: Need, now: SystemTime) -> Vec<(ReportId, Eviction)> {
        let (extra_count, extra_bytes) = match need {
            Need::AgeOnly => (None, 0),
            Need::Limits => (Some(0), 0),
            Need::Room(bytes) => (Some(1), bytes),
        };
        let mut out = Vec::new();
        let mut count = self.reports.len();
        let mut bytes = self.bytes;
        for report in self.reports.values() {
            let reason = if self.is_expired(report, now) {
                Eviction::Age
            } else {
                match extra_count {
                    Some(extra) if count + extra > self.limits.max_reports => Eviction::Count,
                    Some(_) if bytes + extra_bytes > self.limits.max_bytes => Eviction::Bytes,
                    _ => continue,
                }
            };
            count -= 1;
            bytes -= report.body.len() as u64;
            out.push((report.id, reason));
        }
        out
    }

    fn count_eviction(&mut self, reason: Eviction) {
        let counter = match reason {
            Eviction::Age => &mut self.stats.expired,
            Eviction::Count => &mut self.stats.evicted_for_count,
            Eviction::Bytes => &mut self.stats.evicted_for_bytes,
        };
        *counter += 1;
    }

    fn check_size(&self, body: &str) -> Result<(), OutboxError> {
        let bytes = body.len() as u64;
        if bytes > self.limits.max_bytes || self.limits.max_reports == 0 {
            return Err(OutboxError::TooLarge {
                bytes,
                max_bytes: self.limits.max_bytes,
            });
        }
        Ok(())
    }

    fn count_removal(&mut self, removal: Removal) {
        match removal {
            Removal::Delivered => self.stats.delivered += 1,
            Removal::Discarded(_) => self.stats.discarded += 1,
        }
    }

    fn stats(&self) -> OutboxStats {
        OutboxStats {
            pending: self.reports.len(),
            pending_bytes: self.bytes,
            ..self.stats
        }
    }
}

/// An outbox in memory: same rules as [`DiskOutbox`], nothing survives the
/// process.
#[derive(Debug, Clone)]
pub struct MemoryOutbox {
    queue: Queue,
}

impl MemoryOutbox {
    /// An empty outbox.
    pub fn new(limits: OutboxLimits) -> Self {
        Self {
            queue: Queue::new(limits),
        }
    }
}

impl Outbox for MemoryOutbox {
    fn accept(&mut self, body: String, now: SystemTime) -> Result<ReportId, OutboxError> {
        self.queue.check_size(&body)?;
        for (id, reason) in self.queue.evictions(Need::Room(body.len() as u64), now) {
            self.queue.take(id);
            self.queue.count_eviction(reason);
        }
        let id = self.queue.new_id()?;
        self.queue.insert(StoredReport {
            id,
            created: now,
            attempts: 0,
            not_before: None,
            body,
        });
        self.queue.stats.accepted += 1;
        Ok(id)
    }

    fn ids(&self) -> Vec<ReportId> {
        self.queue.reports.keys().copied().collect()
    }

    fn get(&self, id: ReportId) -> Option<&StoredReport> {
        self.queue.reports.get(&id)
    }

    fn record_attempt(&mut self, id: ReportId) -> Result<u32, OutboxError> {
        let report = self
            .queue
            .reports
            .get_mut(&id)
            .ok_or(OutboxError::NoSuchReport(id))?;
        report.attempts = report.attempts.saturating_add(1);
        Ok(report.attempts)
    }

    fn defer(&mut self, id: ReportId, not_before: Option<NotBefore>) -> Result<(), OutboxError> {
        let report = self
            .queue
            .reports
            .get_mut(&id)
            .ok_or(OutboxError::NoSuchReport(id))?;
        report.not_before = not_before;
        Ok(())
    }

    fn rescan(&mut self, _now: SystemTime) -> Result<u32, OutboxError> {
        Ok(0)
    }

    fn remove(&mut self, id: ReportId, removal: Removal) -> Result<(), OutboxError> {
        self.queue.take(id).ok_or(OutboxError::NoSuchReport(id))?;
        self.queue.count_removal(removal);
        Ok(())
    }

    fn expire(&mut self, now: SystemTime) -> Result<u32, OutboxError> {
        let expired = self.queue.evictions(Need::AgeOnly, now);
        for &(id, reason) in &expired {
            self.queue.take(id);
            self.queue.count_eviction(reason);
        }
        Ok(u32::try_from(expired.len()).unwrap_or(u32::MAX))
    }

    fn stats(&self) -> OutboxStats {
        self.queue.stats()
    }
}

/// A step of a crash-safe write, reported to [`DiskOutbox::on_write_step`]
/// (feature `test-hooks`: for fault-injection tests, not for apps).
#[cfg(any(test, feature = "test-hooks"))]
#[cfg_attr(docsrs, doc(cfg(feature = "test-hooks")))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteStep {
    /// The temporary file is written and fsynced; the rename comes next.
    TempSynced(ReportId),
    /// The rename is done and the directory fsynced: the write is durable.
    Durable(ReportId),
}

/// An observer of write steps (feature `test-hooks`: fault-injection tests).
#[cfg(any(test, feature = "test-hooks"))]
#[cfg_attr(docsrs, doc(cfg(feature = "test-hooks")))]
pub type WriteStepHook = Box<dyn FnMut(WriteStep) + Send>;

/// The outbox on disk. See the module docs.
pub struct DiskOutbox {
    dir: PathBuf,
    queue: Queue,
    #[cfg(any(test, feature = "test-hooks"))]
    hook: Option<WriteStepHook>,
    /// Holds the directory's lock for as long as the outbox lives.
    _lock: File,
    /// Report files that could not be opened, to read again.
    unreadable: BTreeMap<ReportId, PathBuf>,
    /// Opens a report file; a test replaces it to inject I/O errors.
    opener: fn(&Path) -> io::Result<File>,
    /// Fails writes after the temp file exists; tests only.
    #[cfg(test)]
    fail_writes: Option<i32>,
}

impl std::fmt::Debug for DiskOutbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiskOutbox")
            .field("dir", &self.dir)
            .field("queue", &self.queue)
            .field("unreadable", &self.unreadable)
            .finish_non_exhaustive()
    }
}

const MAGIC_V1: &str = "ocer-outbox 1";
const MAGIC: &str = "ocer-outbox 2";
const REPORT_EXT: &str = "report";
const TEMP_EXT: &str = "tmp";
const CORRUPT_EXT: &str = "corrupt";
const LOCK_FILE: &str = "lock";
/// Room for a file's header above its body.
const HEADER_ROOM: u64 = 1024;
/// Ids above this are renumbered at open, long before the counter could run out.
const RENUMBER_ABOVE: u64 = 1 << 63;

/// Why a stored report was not read.
#[derive(Debug)]
enum ReadError {
    /// Opening or reading failed: the file may be fine; try again later.
    Io(io::Error),
    /// Not a regular file (the entry changed since it was listed).
    NotRegular,
    /// Read, but not a whole report.
    Corrupt(&'static str),
}

impl DiskOutbox {
    /// Opens (creating if needed) the outbox in `dir`: takes the directory's
    /// lock ([`OutboxError::Locked`] if another process has it), reads back
    /// every whole report, deletes what an interrupted write left, quarantines
    /// damaged reports, and applies the limits (which may have changed since).
    pub fn open(
        dir: impl Into<PathBuf>,
        limits: OutboxLimits,
        now: SystemTime,
    ) -> Result<Self, OutboxError> {
        Self::open_with(dir.into(), limits, now, |path| File::open(path))
    }

    fn open_with(
        dir: PathBuf,
        limits: OutboxLimits,
        now: SystemTime,
        opener: fn(&Path) -> io::Result<File>,
    ) -> Result<Self, OutboxError> {
        fs::create_dir_all(&dir).map_err(|e| io_error(&dir, e))?;
        let lock_path = dir.join(LOCK_FILE);
        let lock = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock_path)
            .map_err(|e| io_error(&lock_path, e))?;
        match fs4::FileExt::try_lock(&lock) {
            Ok(()) => {}
            Err(fs4::TryLockError::WouldBlock) => return Err(OutboxError::Locked { dir }),
            Err(fs4::TryLockError::Error(e)) => return Err(io_error(&lock_path, e)),
        }
        let mut outbox = Self {
            queue: Queue::new(limits),
            dir,
            #[cfg(any(test, feature = "test-hooks"))]
            hook: None,
            _lock: lock,
            unreadable: BTreeMap::new(),
            opener,
            #[cfg(test)]
            fail_writes: None,
        };
        let entries = fs::read_dir(&outbox.dir).map_err(|e| io_error(&outbox.dir, e))?;
        let mut changed = false;
        let mut reports = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| io_error(&outbox.dir, e))?;
            let path = entry.path();
            let Some(id) = id_of(&path) else { continue };
            let ext = path.extension().and_then(|e| e.to_str());
            if !matches!(ext, Some(TEMP_EXT | REPORT_EXT)) {
                continue;
            }
            // An id in any name of ours is taken: a new report never reuses it.
            outbox.queue.claim_id(id);
            // Does not follow symlinks: only what is really a file is opened.
            let regular = entry.file_type().is_ok_and(|t| t.is_file());
            if !regular {
                warn!(path = %path.display(), "outbox entry is not a regular file; skipped");
                outbox.queue.stats.skipped_entries += 1;
                continue;
            }
            if ext == Some(TEMP_EXT) {
                remove_file(&path)?;
                outbox.queue.stats.temp_files_removed += 1;
                changed = true;
                continue;
            }
            match outbox.read(&path, id) {
                Some(report) => reports.push(report),
                None => changed = true,
            }
        }
        changed |= outbox.take_in(reports)?;
        if changed {
            sync_dir(&outbox.dir)?;
        }
        if outbox.queue.next_id > RENUMBER_ABOVE && outbox.unreadable.is_empty() {
            if let Err(error) = outbox.renumber() {
                warn!(%error, "outbox ids not renumbered; the next open tries again");
            }
        }
        // Limits may be tighter than when the reports were written.
        let over = outbox.queue.evictions(Need::Limits, now);
        outbox.evict(&over)?;
        Ok(outbox)
    }

    /// Reads one report file: the report, or `None` after quarantining,
    /// skipping or setting it aside (counted and logged).
    fn read(&mut self, path: &Path, id: ReportId) -> Option<StoredReport> {
        let max_len = self.queue.limits.max_bytes.saturating_add(HEADER_ROOM);
        match read_report(self.opener, path, id, max_len) {
            Ok(report) => {
                self.unreadable.remove(&id);
                Some(report)
            }
            Err(ReadError::Io(error)) => {
                warn!(path = %path.display(), %error, "outbox file not readable now; kept, read again later");
                self.queue.stats.unreadable_files += 1;
                self.unreadable.insert(id, path.to_owned());
                None
            }
            Err(ReadError::NotRegular) => {
                warn!(path = %path.display(), "outbox entry is not a regular file; skipped");
                self.queue.stats.skipped_entries += 1;
                self.unreadable.remove(&id);
                None
            }
            Err(ReadError::Corrupt(why)) => {
                let to = self.path(id, CORRUPT_EXT);
                match fs::rename(path, &to) {
                    Ok(()) => {
                        warn!(path = %path.display(), quarantine = %to.display(), why, "damaged outbox file quarantined");
                        self.queue.stats.corrupt_files_quarantined += 1;
                    }
                    Err(error) => {
                        warn!(path = %path.display(), why, %error, "damaged outbox file could not be quarantined; left and skipped");
                        self.queue.stats.skipped_entries += 1;
                    }
                }
                self.unreadable.remove(&id);
                None
            }
        }
    }

    /// Queues reports read back; drops copies that an interrupted renumbering
    /// left (same creation time and body: one report under two ids), keeping
    /// the lowest id. Returns whether a file was removed.
    fn take_in(&mut self, mut reports: Vec<StoredReport>) -> Result<bool, OutboxError> {
        reports.sort_by_key(|r| r.id);
        let mut seen: HashMap<(SystemTime, u64), ReportId> = HashMap::new();
        let mut removed = false;
        for report in reports {
            let key = (report.created, checksum(report.body.as_bytes()));
            if let Some(&kept) = seen.get(&key) {
                if self
                    .queue
                    .reports
                    .get(&kept)
                    .is_some_and(|k| k.body == report.body)
                {
                    debug!(id = ?report.id, ?kept, "copy of a renumbered report removed");
                    remove_file(&self.path(report.id, REPORT_EXT))?;
                    removed = true;
                    continue;
                }
            }
            seen.insert(key, report.id);
            self.queue.insert(report);
        }
        Ok(removed)
    }

    /// Gives the queued reports the ids 0, 1, … in their order. Each is
    /// written under its new id before the old file goes, so a crash leaves
    /// a copy (removed at the next open), never a loss.
    fn renumber(&mut self) -> Result<(), OutboxError> {
        let old: Vec<ReportId> = self.queue.reports.keys().copied().collect();
        for (index, old_id) in old.into_iter().enumerate() {
            let new_id = ReportId(index as u64);
            if new_id == old_id {
                continue;
            }
            let Some(mut report) = self.queue.reports.get(&old_id).cloned() else {
                continue;
            };
            report.id = new_id;
            self.write(&report)?;
            self.queue.reports.remove(&old_id);
            self.queue.reports.insert(new_id, report);
            remove_file(&self.path(old_id, REPORT_EXT))?;
            sync_dir(&self.dir)?;
        }
        self.queue.next_id = self.queue.reports.len() as u64;
        debug!(dir = %self.dir.display(), "outbox ids renumbered");
        Ok(())
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Calls `hook` at each step of every crash-safe write (feature
    /// `test-hooks`: a test stops the process between the steps).
    #[cfg(any(test, feature = "test-hooks"))]
    #[cfg_attr(docsrs, doc(cfg(feature = "test-hooks")))]
    pub fn on_write_step(&mut self, hook: WriteStepHook) {
        self.hook = Some(hook);
    }

    fn path(&self, id: ReportId, ext: &str) -> PathBuf {
        self.dir.join(format!("{id}.{ext}"))
    }

    /// Temp file, fsync, rename, fsync the directory. On failure the temp
    /// file is removed: a full disk leaves nothing behind.
    fn write(&mut self, report: &StoredReport) -> Result<(), OutboxError> {
        let temp = self.path(report.id, TEMP_EXT);
        let result = self.write_temp(&temp, report);
        if result.is_err() {
            let _ = fs::remove_file(&temp);
            return result;
        }
        #[cfg(any(test, feature = "test-hooks"))]
        if let Some(hook) = &mut self.hook {
            hook(WriteStep::TempSynced(report.id));
        }
        let path = self.path(report.id, REPORT_EXT);
        if let Err(e) = fs::rename(&temp, &path) {
            let _ = fs::remove_file(&temp);
            return Err(io_error(&path, e));
        }
        sync_dir(&self.dir)?;
        #[cfg(any(test, feature = "test-hooks"))]
        if let Some(hook) = &mut self.hook {
            hook(WriteStep::Durable(report.id));
        }
        Ok(())
    }

    fn write_temp(&mut self, temp: &Path, report: &StoredReport) -> Result<(), OutboxError> {
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(temp)
            .map_err(|e| io_error(temp, e))?;
        #[cfg(test)]
        if let Some(errno) = self.fail_writes {
            return Err(io_error(temp, io::Error::from_raw_os_error(errno)));
        }
        file.write_all(&encode_file(report))
            .map_err(|e| io_error(temp, e))?;
        file.sync_all().map_err(|e| io_error(temp, e))
    }

    fn evict(&mut self, evictions: &[(ReportId, Eviction)]) -> Result<(), OutboxError> {
        if evictions.is_empty() {
            return Ok(());
        }
        for &(id, reason) in evictions {
            remove_file(&self.path(id, REPORT_EXT))?;
            self.queue.take(id);
            self.queue.count_eviction(reason);
            debug!(?id, ?reason, "outbox report evicted");
        }
        sync_dir(&self.dir)
    }

    /// Rewrites a queued report with `change` applied.
    fn rewrite(
        &mut self,
        id: ReportId,
        change: impl FnOnce(&mut StoredReport),
    ) -> Result<&StoredReport, OutboxError> {
        let mut report = self
            .queue
            .reports
            .get(&id)
            .cloned()
            .ok_or(OutboxError::NoSuchReport(id))?;
        change(&mut report);
        self.write(&report)?;
        let stored = self
            .queue
            .reports
            .get_mut(&id)
            .ok_or(OutboxError::NoSuchReport(id))?;
        *stored = report;
        Ok(stored)
    }
}

impl Outbox for DiskOutbox {
    fn accept(&mut self, body: String, now: SystemTime) -> Result<ReportId, OutboxError> {
        self.queue.check_size(&body)?;
        let id = self.queue.new_id()?;
        let evictions = self.queue.evictions(Need::Room(body.len() as u64), now);
        self.evict(&evictions)?;
        let report = StoredReport {
            id,
            created: now,
            attempts: 0,
            not_before: None,
            body,
        };
        self.write(&report)?;
        self.queue.insert(report);
        self.queue.stats.accepted += 1;
        Ok(id)
    }

    fn ids(&self) -> Vec<ReportId> {
        self.queue.reports.keys().copied().collect()
    }

    fn get(&self, id: ReportId) -> Option<&StoredReport> {
        self.queue.reports.get(&id)
    }

    fn record_attempt(&mut self, id: ReportId) -> Result<u32, OutboxError> {
        self.rewrite(id, |r| r.attempts = r.attempts.saturating_add(1))
            .map(|r| r.attempts)
    }

    fn defer(&mut self, id: ReportId, not_before: Option<NotBefore>) -> Result<(), OutboxError> {
        if self.get(id).is_some_and(|r| r.not_before == not_before) {
            return Ok(());
        }
        self.rewrite(id, |r| r.not_before = not_before).map(|_| ())
    }

    fn rescan(&mut self, now: SystemTime) -> Result<u32, OutboxError> {
        let pending: Vec<(ReportId, PathBuf)> =
            std::mem::take(&mut self.unreadable).into_iter().collect();
        let mut reports = Vec::new();
        let mut changed = false;
        for (id, path) in pending {
            match fs::symlink_metadata(&path) {
                Ok(meta) if meta.is_file() => match self.read(&path, id) {
                    Some(report) => reports.push(report),
                    None => changed = true,
                },
                // Gone (or replaced by something else) since: nothing to read.
                _ => {}
            }
        }
        let joined = u32::try_from(reports.len()).unwrap_or(u32::MAX);
        changed |= self.take_in(reports)?;
        if changed {
            sync_dir(&self.dir)?;
        }
        let over = self.queue.evictions(Need::Limits, now);
        self.evict(&over)?;
        Ok(joined)
    }

    fn remove(&mut self, id: ReportId, removal: Removal) -> Result<(), OutboxError> {
        if !self.queue.reports.contains_key(&id) {
            return Err(OutboxError::NoSuchReport(id));
        }
        remove_file(&self.path(id, REPORT_EXT))?;
        sync_dir(&self.dir)?;
        self.queue.take(id);
        self.queue.count_removal(removal);
        Ok(())
    }

    fn expire(&mut self, now: SystemTime) -> Result<u32, OutboxError> {
        let expired = self.queue.evictions(Need::AgeOnly, now);
        self.evict(&expired)?;
        Ok(u32::try_from(expired.len()).unwrap_or(u32::MAX))
    }

    fn stats(&self) -> OutboxStats {
        self.queue.stats()
    }
}

fn io_error(path: &Path, source: io::Error) -> OutboxError {
    OutboxError::Io {
        path: path.to_owned(),
        source,
    }
}

fn remove_file(path: &Path) -> Result<(), OutboxError> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        // Already gone is what we wanted.
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_error(path, e)),
    }
}

/// Makes renames and unlinks in `dir` durable (POSIX: fsync the directory).
fn sync_dir(dir: &Path) -> Result<(), OutboxError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io_error(dir, e))
}

/// The id in a file name `<16 hex digits>.<ext>`.
fn id_of(path: &Path) -> Option<ReportId> {
    path.file_stem()?.to_str()?.parse().ok()
}

/// FNV-1a, 64 bits: catches torn and altered files (not an adversary).
fn checksum(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn encode_file(report: &StoredReport) -> Vec<u8> {
    let millis = |t: SystemTime| t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis());
    let not_before = match report.not_before {
        None => "-".to_owned(),
        Some(NotBefore { at, cause }) => {
            let cause = match cause {
                RetryCause::RetryAfter => "retry-after",
                RetryCause::Backoff => "backoff",
            };
            format!("{} {cause}", millis(at))
        }
    };
    let mut out = format!(
        "{MAGIC}\nid {:016x}\ncreated {}\nattempts {}\nnot-before {not_before}\nlength {}\nchecksum {:016x}\n\n",
        report.id.0,
        millis(report.created),
        report.attempts,
        report.body.len(),
        checksum(report.body.as_bytes()),
    )
    .into_bytes();
    out.extend_from_slice(report.body.as_bytes());
    out
}

/// Opens with `opener`, checks it is a regular file, and reads at most
/// `max_len` bytes: a file larger than any report is damaged, not a reason to
/// read until memory runs out.
fn read_report(
    opener: fn(&Path) -> io::Result<File>,
    path: &Path,
    id: ReportId,
    max_len: u64,
) -> Result<StoredReport, ReadError> {
    let file = opener(path).map_err(ReadError::Io)?;
    let meta = file.metadata().map_err(ReadError::Io)?;
    if !meta.is_file() {
        return Err(ReadError::NotRegular);
    }
    let mut bytes = Vec::new();
    file.take(max_len.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() as u64 > max_len {
        return Err(ReadError::Corrupt("larger than any report"));
    }
    decode_file(&bytes, id).map_err(ReadError::Corrupt)
}

fn decode_file(bytes: &[u8], id: ReportId) -> Result<StoredReport, &'static str> {
    let split = bytes
        .windows(2)
        .position(|w| w == b"\n\n")
        .ok_or("no header end")?;
    let head = std::str::from_utf8(bytes.get(..split).ok_or("no header")?)
        .map_err(|_| "header not UTF-8")?;
    let body = bytes.get(split + 2..).ok_or("no body")?;
    let mut lines = head.lines();
    let version = match lines.next() {
        Some(MAGIC_V1) => 1,
        Some(MAGIC) => 2,
        _ => return Err("unknown format"),
    };
    let mut field = |name: &str| -> Result<&str, &'static str> {
        lines
            .next()
            .and_then(|l| l.strip_prefix(name))
            .and_then(|l| l.strip_prefix(' '))
            .ok_or("bad header field")
    };
    let file_id = u64::from_str_radix(field("id")?, 16).map_err(|_| "bad id")?;
    let created: u64 = field("created")?.parse().map_err(|_| "bad time")?;
    let attempts: u32 = field("attempts")?.parse().map_err(|_| "bad attempts")?;
    let not_before = if version == 1 {
        None
    } else {
        parse_not_before(field("not-before")?)?
    };
    let length: usize = field("length")?.parse().map_err(|_| "bad length")?;
    let sum = u64::from_str_radix(field("checksum")?, 16).map_err(|_| "bad checksum")?;
    if file_id != id.0 {
        return Err("id differs from file name");
    }
    if body.len() != length {
        return Err("length mismatch");
    }
    if checksum(body) != sum {
        return Err("checksum mismatch");
    }
    let body = String::from_utf8(body.to_vec()).map_err(|_| "body not UTF-8")?;
    Ok(StoredReport {
        id,
        created: UNIX_EPOCH + Duration::from_millis(created),
        attempts,
        not_before,
        body,
    })
}

/// `-`, or `<ms since the epoch> retry-after|backoff`.
fn parse_not_before(value: &str) -> Result<Option<NotBefore>, &'static str> {
    if value == "-" {
        return Ok(None);
    }
    let (at, cause) = value.split_once(' ').ok_or("bad not-before")?;
    let at: u64 = at.parse().map_err(|_| "bad not-before time")?;
    let cause = match cause {
        "retry-after" => RetryCause::RetryAfter,
        "backoff" => RetryCause::Backoff,
        _ => return Err("bad not-before cause"),
    };
    Ok(Some(NotBefore {
        at: UNIX_EPOCH + Duration::from_millis(at),
        cause,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh directory under the system temp dir, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(name: &str) -> Self {
            let path =
                std::env::temp_dir().join(format!("ocer-outbox-{name}-{}", std::process::id()));
            let _ = fs::remove_dir_all(&path);
            Self(path)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    const AOR: &str = "sip:alice@contoso.com";

    #[test]
    fn a_report_id_is_16_hex_digits_both_ways() {
        let id = ReportId(0x2a);
        assert_eq!(id.to_string(), "000000000000002a");
        assert_eq!("000000000000002a".parse::<ReportId>(), Ok(id));
        assert_eq!("000000000000002A".parse::<ReportId>(), Ok(id));
        for bad in [
            "2a",
            "+00000000000002a",
            "000000000000002g",
            "",
            "0000000000000002a",
        ] {
            assert!(bad.parse::<ReportId>().is_err(), "{bad}");
        }
    }

    fn t(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_700_000_000 + secs)
    }

    fn limits(max_reports: usize, max_bytes: u64, max_age_secs: u64) -> OutboxLimits {
        OutboxLimits {
            max_reports,
            max_bytes,
            max_age: Duration::from_secs(max_age_secs),
        }
    }

    fn bodies(outbox: &dyn Outbox) -> Vec<String> {
        outbox
            .ids()
            .iter()
            .filter_map(|id| outbox.get(*id))
            .map(|r| r.body.clone())
            .collect()
    }

    /// The same scenario against both outboxes: they share every rule.
    fn bounds_and_counters(outbox: &mut dyn Outbox) {
        let a = outbox.accept("a".repeat(10), t(0)).unwrap();
        outbox.accept("b".repeat(10), t(1)).unwrap();
        outbox.accept("c".repeat(10), t(2)).unwrap();
        // Count limit 3: the oldest goes.
        outbox.accept("d".repeat(10), t(3)).unwrap();
        assert_eq!(outbox.get(a), None);
        assert_eq!(outbox.stats().evicted_for_count, 1);
        // The count limit takes the oldest, then the byte limit 35 (20 queued +
        // 20 incoming) the next.
        outbox.accept("e".repeat(20), t(4)).unwrap();
        assert_eq!(bodies(outbox), vec!["d".repeat(10), "e".repeat(20)]);
        assert_eq!(
            (
                outbox.stats().evicted_for_count,
                outbox.stats().evicted_for_bytes
            ),
            (2, 1)
        );
        assert!(matches!(
            outbox.accept("f".repeat(36), t(5)),
            Err(OutboxError::TooLarge {
                bytes: 36,
                max_bytes: 35
            })
        ));
        // Age limit 100 s.
        assert_eq!(
            outbox.expire(t(104)).unwrap(),
            1,
            "older than 100 s, not 100 s old"
        );
        assert_eq!(bodies(outbox), vec!["e".repeat(20)]);
        let e = outbox.ids()[0];
        assert_eq!(outbox.record_attempt(e).unwrap(), 1);
        assert_eq!(outbox.record_attempt(e).unwrap(), 2);
        outbox
            .remove(e, Removal::Discarded(DiscardReason::TooLarge))
            .unwrap();
        assert!(matches!(
            outbox.remove(e, Removal::Delivered),
            Err(OutboxError::NoSuchReport(_))
        ));
        assert!(matches!(
            outbox.record_attempt(e),
            Err(OutboxError::NoSuchReport(_))
        ));
        let g = outbox.accept("g".into(), t(200)).unwrap();
        outbox.remove(g, Removal::Delivered).unwrap();
        assert_eq!(
            outbox.stats(),
            OutboxStats {
                pending: 0,
                pending_bytes: 0,
                accepted: 6,
                delivered: 1,
                discarded: 1,
                evicted_for_count: 2,
                evicted_for_bytes: 1,
                expired: 1,
                temp_files_removed: 0,
                corrupt_files_quarantined: 0,
                unreadable_files: 0,
                skipped_entries: 0,
            }
        );
        assert!(g > e, "ids keep increasing");
    }

    #[test]
    fn memory_outbox_bounds_and_counters() {
        bounds_and_counters(&mut MemoryOutbox::new(limits(3, 35, 100)));
    }

    #[test]
    fn disk_outbox_bounds_and_counters() {
        let dir = TempDir::new("bounds");
        let mut outbox = DiskOutbox::open(&dir.0, limits(3, 35, 100), t(0)).unwrap();
        bounds_and_counters(&mut outbox);
        let files: Vec<_> = fs::read_dir(&dir.0)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(files, ["lock"], "nothing left behind but the lock");
    }

    #[test]
    fn disk_outbox_survives_a_restart_with_attempts_and_order() {
        let dir = TempDir::new("restart");
        let mut outbox = DiskOutbox::open(&dir.0, OutboxLimits::default(), t(0)).unwrap();
        let ids: Vec<_> = (0..5)
            .map(|i| outbox.accept(format!("<r n=\"{i}\"/>é"), t(i)).unwrap())
            .collect();
        outbox.record_attempt(ids[1]).unwrap();
        outbox.record_attempt(ids[1]).unwrap();
        outbox.remove(ids[3], Removal::Delivered).unwrap();
        drop(outbox);

        let mut outbox = DiskOutbox::open(&dir.0, OutboxLimits::default(), t(10)).unwrap();
        assert_eq!(outbox.ids(), vec![ids[0], ids[1], ids[2], ids[4]]);
        let r = outbox.get(ids[1]).unwrap();
        assert_eq!(
            (r.attempts, r.created, r.body.as_str()),
            (2, t(1), "<r n=\"1\"/>é")
        );
        assert_eq!(outbox.stats().pending, 4);
        let next = outbox.accept("next".into(), t(11)).unwrap();
        assert!(next > ids[4], "no id is reused");

        // Tighter limits at the next open apply at once.
        drop(outbox);
        let outbox = DiskOutbox::open(&dir.0, limits(2, 1 << 20, 1000), t(12)).unwrap();
        assert_eq!(outbox.ids(), vec![ids[4], next]);
        assert_eq!(outbox.stats().evicted_for_count, 3);
        drop(outbox);
        let outbox = DiskOutbox::open(&dir.0, limits(10, 1 << 20, 5), t(12)).unwrap();
        assert_eq!(outbox.ids(), vec![next]);
        assert_eq!(outbox.stats().expired, 1);
    }

    #[test]
    fn interrupted_writes_are_removed_and_damaged_files_quarantined() {
        let dir = TempDir::new("corrupt");
        let mut outbox = DiskOutbox::open(&dir.0, OutboxLimits::default(), t(0)).unwrap();
        let good = outbox.accept("good".into(), t(0)).unwrap();
        let torn = outbox.accept("torn body".into(), t(0)).unwrap();
        let flipped = outbox.accept("flipped".into(), t(0)).unwrap();
        drop(outbox);
        let path = |id: ReportId, ext: &str| dir.0.join(format!("{:016x}.{ext}", id.0));
        // A torn write (cut short), a changed byte, a leftover temp file, a file
        // whose header names another id, and a stranger's file that is left alone.
        let bytes = fs::read(path(torn, "report")).unwrap();
        fs::write(path(torn, "report"), &bytes[..bytes.len() - 3]).unwrap();
        let torn_len = bytes.len() - 3;
        let mut bytes = fs::read(path(flipped, "report")).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0x20;
        fs::write(path(flipped, "report"), bytes).unwrap();
        fs::write(path(ReportId(99), "tmp"), "ocer-outbox 1\nid 00").unwrap();
        fs::copy(path(good, "report"), path(ReportId(7), "report")).unwrap();
        fs::write(dir.0.join("README"), "not ours").unwrap();

        let outbox = DiskOutbox::open(&dir.0, OutboxLimits::default(), t(0)).unwrap();
        assert_eq!(outbox.ids(), vec![good]);
        let stats = outbox.stats();
        assert_eq!(
            (stats.temp_files_removed, stats.corrupt_files_quarantined),
            (1, 3)
        );
        assert!(dir.0.join("README").exists());
        assert!(!path(torn, "report").exists());
        // Quarantined, not deleted: the bytes are there to look at.
        assert_eq!(fs::read(path(torn, "corrupt")).unwrap().len(), torn_len);
        assert!(path(flipped, "corrupt").exists() && path(ReportId(7), "corrupt").exists());
        drop(outbox);
        let outbox = DiskOutbox::open(&dir.0, OutboxLimits::default(), t(0)).unwrap();
        assert_eq!(outbox.ids(), vec![good]);
        assert_eq!(outbox.stats().corrupt_files_quarantined, 0, "once only");
    }

    #[test]
    fn decode_refuses_every_malformed_header() {
        let report = StoredReport {
            id: ReportId(1),
            created: t(0),
            attempts: 3,
            not_before: None,
            body: "body".into(),
        };
        let good = encode_file(&report);
        assert_eq!(decode_file(&good, ReportId(1)), Ok(report));
        let text = String::from_utf8(good).unwrap();
        for (from, to) in [
            ("ocer-outbox 2", "ocer-outbox 3"),
            ("not-before -", "not-before 5"),
            ("not-before -", "not-before 5 soon"),
            ("attempts 3", "attempts x"),
            ("length 4", "length 5"),
            ("created ", "created -"),
            ("\n\n", "\n"),
            ("checksum ", "checksum z"),
        ] {
            let bad = text.replacen(from, to, 1);
            assert!(
                decode_file(bad.as_bytes(), ReportId(1)).is_err(),
                "{from} -> {to}"
            );
        }
        assert!(decode_file(b"", ReportId(1)).is_err());
    }

    #[test]
    fn the_not_before_time_survives_a_restart_and_format_1_still_reads() {
        let dir = TempDir::new("not-before");
        let mut outbox = DiskOutbox::open(&dir.0, OutboxLimits::default(), t(0)).unwrap();
        let busy = outbox.accept("busy".into(), t(0)).unwrap();
        let backoff = outbox.accept("backoff".into(), t(0)).unwrap();
        let wait = NotBefore {
            at: t(120),
            cause: RetryCause::RetryAfter,
        };
        outbox.defer(busy, Some(wait)).unwrap();
        let soon = NotBefore {
            at: t(7),
            cause: RetryCause::Backoff,
        };
        outbox.defer(backoff, Some(soon)).unwrap();
        outbox.defer(backoff, None).unwrap();
        outbox.defer(backoff, Some(soon)).unwrap();
        assert!(matches!(
            outbox.defer(ReportId(99), None),
            Err(OutboxError::NoSuchReport(_))
        ));
        drop(outbox);
        let outbox = DiskOutbox::open(&dir.0, OutboxLimits::default(), t(1)).unwrap();
        assert_eq!(outbox.get(busy).unwrap().not_before, Some(wait));
        assert_eq!(outbox.get(backoff).unwrap().not_before, Some(soon));
        drop(outbox);

        // A file written by the previous version (format 1, no not-before).
        let v1 = format!(
            "ocer-outbox 1\nid {:016x}\ncreated 1700000000000\nattempts 2\nlength 2\nchecksum {:016x}\n\nv1",
            7,
            checksum(b"v1")
        );
        fs::write(dir.0.join(format!("{:016x}.report", 7)), v1).unwrap();
        let outbox = DiskOutbox::open(&dir.0, OutboxLimits::default(), t(1)).unwrap();
        let old = outbox.get(ReportId(7)).unwrap();
        assert_eq!(
            (old.attempts, old.not_before, old.body.as_str(), old.created),
            (2, None, "v1", t(0))
        );
    }

    #[test]
    fn a_second_opener_of_the_directory_is_refused() {
        let dir = TempDir::new("locked");
        let mut first = DiskOutbox::open(&dir.0, OutboxLimits::default(), t(0)).unwrap();
        let err = DiskOutbox::open(&dir.0, OutboxLimits::default(), t(0)).unwrap_err();
        assert!(
            matches!(&err, OutboxError::Locked { dir: d } if *d == dir.0),
            "{err:?}"
        );
        assert!(err.to_string().contains("in use by another process"));
        let id = first.accept("mine".into(), t(0)).unwrap();
        drop(first);
        let second = DiskOutbox::open(&dir.0, OutboxLimits::default(), t(0)).unwrap();
        assert_eq!(second.ids(), vec![id], "the lock goes with its owner");
    }

    fn emfile(_: &Path) -> io::Result<File> {
        Err(io::Error::from_raw_os_error(24))
    }

    #[test]
    fn an_io_error_opening_a_report_keeps_it_for_later() {
        let dir = TempDir::new("emfile");
        let mut outbox = DiskOutbox::open(&dir.0, OutboxLimits::default(), t(0)).unwrap();
        let kept = outbox.accept("kept".into(), t(0)).unwrap();
        drop(outbox);
        let file = dir.0.join(format!("{:016x}.report", kept.0));

        let mut outbox =
            DiskOutbox::open_with(dir.0.clone(), OutboxLimits::default(), t(0), emfile).unwrap();
        assert!(outbox.ids().is_empty(), "not readable now");
        assert!(file.exists(), "EMFILE is not damage: the file stays");
        assert_eq!(outbox.stats().unreadable_files, 1);
        assert_eq!(outbox.stats().corrupt_files_quarantined, 0);
        // Its id stays taken while it is set aside.
        let new = outbox.accept("new".into(), t(1)).unwrap();
        assert!(new > kept, "{new:?} would overwrite {kept:?}");
        assert_eq!(outbox.rescan(t(2)).unwrap(), 0, "still failing");
        outbox.opener = |p| File::open(p);
        assert_eq!(outbox.rescan(t(2)).unwrap(), 1);
        assert_eq!(outbox.ids(), vec![kept, new]);
        assert_eq!(outbox.get(kept).unwrap().body, "kept");
        assert_eq!(outbox.rescan(t(2)).unwrap(), 0, "nothing left to read");
    }

    #[cfg(unix)]
    #[test]
    fn only_regular_files_are_opened() {
        let dir = TempDir::new("irregular");
        let mut outbox = DiskOutbox::open(&dir.0, OutboxLimits::default(), t(0)).unwrap();
        let good = outbox.accept("good".into(), t(0)).unwrap();
        drop(outbox);
        let name = |n: u64, ext: &str| dir.0.join(format!("{n:016x}.{ext}"));
        // A symlink to an endless device, a directory, a FIFO (made by
        // mkfifo(1): opening one for reading blocks until a writer comes).
        std::os::unix::fs::symlink("/dev/zero", name(10, "report")).unwrap();
        fs::create_dir(name(11, "report")).unwrap();
        fs::create_dir(name(14, "tmp")).unwrap();
        let fifo = std::process::Command::new("mkfifo")
            .arg(name(12, "report"))
            .status()
            .unwrap();
        assert!(fifo.success());
        // A regular file far larger than any report: refused without reading it all.
        let big = File::create(name(13, "report")).unwrap();
        big.set_len(1 << 30).unwrap();
        drop(big);

        let mut outbox = DiskOutbox::open(&dir.0, OutboxLimits::default(), t(0)).unwrap();
        assert_eq!(outbox.ids(), vec![good]);
        let stats = outbox.stats();
        assert_eq!(
            (stats.skipped_entries, stats.corrupt_files_quarantined),
            (4, 1)
        );
        assert!(name(13, "corrupt").exists());
        assert!(name(11, "report").is_dir() && name(14, "tmp").is_dir());
        assert!(
            fs::symlink_metadata(name(10, "report")).is_ok(),
            "left alone"
        );
        let next = outbox.accept("next".into(), t(1)).unwrap();
        assert!(next.0 > 14, "no skipped entry's id is reused: {next:?}");
    }

    #[test]
    fn a_failed_write_leaves_no_temp_file_and_the_queue_still_works() {
        let dir = TempDir::new("full");
        let mut outbox = DiskOutbox::open(&dir.0, OutboxLimits::default(), t(0)).unwrap();
        let stored = outbox.accept("stored".into(), t(0)).unwrap();
        outbox.fail_writes = Some(28); // ENOSPC
        let err = outbox.accept("new".into(), t(1)).unwrap_err();
        assert!(err.is_disk_full(), "{err:?}");
        assert!(outbox.record_attempt(stored).unwrap_err().is_disk_full());
        let leftovers: Vec<_> = fs::read_dir(&dir.0)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
        // What was stored can still be read and removed.
        assert_eq!(outbox.ids(), vec![stored]);
        assert_eq!(outbox.get(stored).unwrap().attempts, 0);
        outbox.remove(stored, Removal::Delivered).unwrap();
        outbox.fail_writes = None;
        assert!(outbox.accept("later".into(), t(2)).is_ok());
    }

    #[test]
    fn the_id_counter_does_not_saturate() {
        let dir = TempDir::new("ids");
        let mut outbox = DiskOutbox::open(&dir.0, OutboxLimits::default(), t(0)).unwrap();
        let low = outbox.accept("low".into(), t(0)).unwrap();
        drop(outbox);
        // A report stored under the last id there is.
        let top = StoredReport {
            id: ReportId(u64::MAX),
            created: t(1),
            attempts: 1,
            not_before: None,
            body: "top".into(),
        };
        fs::write(
            dir.0.join(format!("{:016x}.report", u64::MAX)),
            encode_file(&top),
        )
        .unwrap();
        let mut outbox = DiskOutbox::open(&dir.0, OutboxLimits::default(), t(2)).unwrap();
        let a = outbox.accept("a".into(), t(3)).unwrap();
        let b = outbox.accept("b".into(), t(4)).unwrap();
        let bodies = bodies(&outbox);
        assert_eq!(
            bodies,
            ["low", "top", "a", "b"],
            "order kept, nothing overwritten"
        );
        assert!(low < a && a < b);
        drop(outbox);
        let outbox = DiskOutbox::open(&dir.0, OutboxLimits::default(), t(5)).unwrap();
        assert_eq!(bodies_of(&outbox), ["low", "top", "a", "b"]);

        // A crash in the middle of renumbering left a copy: it is removed.
        drop(outbox);
        let copy = dir.0.join(format!("{:016x}.report", u64::MAX - 1));
        let mut top_copy = top.clone();
        top_copy.id = ReportId(u64::MAX - 1);
        fs::write(&copy, encode_file(&top_copy)).unwrap();
        let outbox = DiskOutbox::open(&dir.0, OutboxLimits::default(), t(5)).unwrap();
        assert_eq!(bodies_of(&outbox), ["low", "top", "a", "b"]);
        assert!(!copy.exists());
    }

    fn bodies_of(outbox: &DiskOutbox) -> Vec<String> {
        bodies(outbox)
    }

    #[test]
    fn the_write_hook_sees_each_step() {
        let dir = TempDir::new("hook");
        let mut outbox = DiskOutbox::open(&dir.0, OutboxLimits::default(), t(0)).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        outbox.on_write_step(Box::new(move |step| {
            let _ = tx.send(step);
        }));
        let id = outbox.accept("x".into(), t(0)).unwrap();
        outbox.record_attempt(id).unwrap();
        let steps: Vec<_> = rx.try_iter().collect();
        assert_eq!(
            steps,
            vec![
                WriteStep::TempSynced(id),
                WriteStep::Durable(id),
                WriteStep::TempSynced(id),
                WriteStep::Durable(id)
            ]
        );
    }

    fn report() -> ErrorReport<'static> {
        ErrorReport {
            call_id: "c1".into(),
            request_type: "INVITE".into(),
            response_code: 504,
            diag_headers: vec!["1007;reason=\"r\";source=\"fe.contoso.com\"".into()],
            ..ErrorReport::default()
        }
    }

    #[test]
    fn submit_runs_the_hook_then_the_limits_then_stores() {
        let mut outbox = MemoryOutbox::new(OutboxLimits::default());
        let mut redact = |r: &mut ErrorReport<'_>| {
            r.strip_diag_param("source");
            HookVerdict::Send
        };
        let submitted = submit(
            &mut outbox,
            &mut redact,
            report(),
            &ReportLimits::default(),
            AOR,
            t(0),
        )
        .unwrap();
        let Submitted::Queued { id, cuts } = submitted else {
            panic!("{submitted:?}")
        };
        assert!(cuts.is_empty());
        let stored = ErrorReport::parse(outbox.get(id).unwrap().body.as_bytes()).unwrap();
        assert_eq!(stored.diag_headers, vec!["1007;reason=\"r\""]);

        let mut veto = |_: &mut ErrorReport<'_>| HookVerdict::Veto;
        assert_eq!(
            submit(
                &mut outbox,
                &mut veto,
                report(),
                &ReportLimits::default(),
                AOR,
                t(0)
            )
            .unwrap(),
            Submitted::Vetoed
        );
        let mut pass = |_: &mut ErrorReport<'_>| HookVerdict::Send;
        let mut long = report();
        long.request_type = "X".repeat(40).into();
        assert!(matches!(
            submit(
                &mut outbox,
                &mut pass,
                long,
                &ReportLimits::default(),
                AOR,
                t(0)
            ),
            Err(SubmitError::Limits(LimitError::RequiredTooLong { .. }))
        ));
        assert_eq!(
            outbox.ids(),
            vec![id],
            "neither the veto nor the refusal stored anything"
        );
    }
}
