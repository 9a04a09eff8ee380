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
//! (format version, id, creation time, attempts, body length, FNV-1a 64 checksum
//! of the body), a blank line, the body. Writing is: create `<id>.tmp`, write,
//! fsync the file, rename to `<id>.report`, fsync the directory. A crash at any
//! point leaves either no report or a whole one; the attempt count is rewritten
//! the same way. On [`DiskOutbox::open`], `*.tmp` files are deleted and
//! `*.report` files that do not read back whole (wrong length or checksum, bad
//! header) are deleted, each counted in [`OutboxStats`]; nothing half-written is
//! ever handed out. Removal unlinks and fsyncs the directory, so a delivered
//! report does not come back after a crash and get sent twice.
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
//!     submit(&mut outbox, &mut hook, report, &ReportLimits::default(), SystemTime::now())?
//! else {
//!     unreachable!("the hook did not veto")
//! };
//! // After a restart the report is still there.
//! drop(outbox);
//! let mut outbox = DiskOutbox::open(&dir, OutboxLimits::default(), SystemTime::now())?;
//! let stored = outbox.get(id).expect("still queued");
//! assert!(!stored.body.contains("fe.contoso.com"));
//! outbox.record_attempt(id)?;
//! outbox.remove(id, Removal::Delivered)?;
//! assert!(outbox.ids().is_empty());
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tracing::{debug, warn};

use crate::report::{encode, Cuts, DiscardReason, ErrorReport, LimitError, ReportLimits};

/// A report's place in the outbox: increasing in acceptance order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ReportId(pub u64);

/// A stored report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredReport {
    /// Its id.
    pub id: ReportId,
    /// When it was accepted (wall clock: it outlives the process).
    pub created: SystemTime,
    /// Attempts to send it so far.
    pub attempts: u32,
    /// The `application/msrtc-reporterror+xml` body, limits already applied.
    pub body: String,
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
    /// Report files that did not read back whole, deleted at open.
    pub corrupt_files_removed: u64,
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
pub fn submit(
    outbox: &mut dyn Outbox,
    hook: &mut dyn BeforeReport,
    mut report: ErrorReport<'_>,
    limits: &ReportLimits,
    now: SystemTime,
) -> Result<Submitted, SubmitError> {
    if hook.before_report(&mut report) == HookVerdict::Veto {
        return Ok(Submitted::Vetoed);
    }
    let encoded = encode(report, limits)?;
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
        self.next_id = self.next_id.max(report.id.0.saturating_add(1));
        self.bytes += report.body.len() as u64;
        self.reports.insert(report.id, report);
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
        let id = ReportId(self.queue.next_id);
        self.queue.insert(StoredReport {
            id,
            created: now,
            attempts: 0,
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

/// A step of a crash-safe write, reported to [`DiskOutbox::on_write_step`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteStep {
    /// The temporary file is written and fsynced; the rename comes next.
    TempSynced(ReportId),
    /// The rename is done and the directory fsynced: the write is durable.
    Durable(ReportId),
}

/// An observer of write steps (tracing, fault-injection tests).
pub type WriteStepHook = Box<dyn FnMut(WriteStep) + Send>;

/// The outbox on disk. See the module docs.
pub struct DiskOutbox {
    dir: PathBuf,
    queue: Queue,
    hook: Option<WriteStepHook>,
}

impl std::fmt::Debug for DiskOutbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiskOutbox")
            .field("dir", &self.dir)
            .field("queue", &self.queue)
            .finish_non_exhaustive()
    }
}

const MAGIC: &str = "ocer-outbox 1";
const REPORT_EXT: &str = "report";
const TEMP_EXT: &str = "tmp";

impl DiskOutbox {
    /// Opens (creating if needed) the outbox in `dir`: reads back every whole
    /// report, deletes what an interrupted write left, and applies the limits
    /// (which may have changed since).
    pub fn open(
        dir: impl Into<PathBuf>,
        limits: OutboxLimits,
        now: SystemTime,
    ) -> Result<Self, OutboxError> {
        let dir = dir.into();
        fs::create_dir_all(&dir).map_err(|e| io_error(&dir, e))?;
        let mut outbox = Self {
            queue: Queue::new(limits),
            dir,
            hook: None,
        };
        let entries = fs::read_dir(&outbox.dir).map_err(|e| io_error(&outbox.dir, e))?;
        let mut changed = false;
        for entry in entries {
            let path = entry.map_err(|e| io_error(&outbox.dir, e))?.path();
            let Some(id) = id_of(&path) else { continue };
            match path.extension().and_then(|e| e.to_str()) {
                Some(TEMP_EXT) => {
                    remove_file(&path)?;
                    outbox.queue.stats.temp_files_removed += 1;
                    changed = true;
                }
                Some(REPORT_EXT) => match read_report(&path, id) {
                    Ok(report) => outbox.queue.insert(report),
                    Err(why) => {
                        warn!(path = %path.display(), why, "corrupt outbox file removed");
                        remove_file(&path)?;
                        outbox.queue.stats.corrupt_files_removed += 1;
                        changed = true;
                    }
                },
                _ => {}
            }
        }
        if changed {
            sync_dir(&outbox.dir)?;
        }
        // Limits may be tighter than when the reports were written.
        let over = outbox.queue.evictions(Need::Limits, now);
        outbox.evict(&over)?;
        Ok(outbox)
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Calls `hook` at each step of every crash-safe write.
    pub fn on_write_step(&mut self, hook: WriteStepHook) {
        self.hook = Some(hook);
    }

    fn path(&self, id: ReportId, ext: &str) -> PathBuf {
        self.dir.join(format!("{:016x}.{ext}", id.0))
    }

    /// Temp file, fsync, rename, fsync the directory.
    fn write(&mut self, report: &StoredReport) -> Result<(), OutboxError> {
        let temp = self.path(report.id, TEMP_EXT);
        let path = self.path(report.id, REPORT_EXT);
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&temp)
            .map_err(|e| io_error(&temp, e))?;
        file.write_all(&encode_file(report))
            .map_err(|e| io_error(&temp, e))?;
        file.sync_all().map_err(|e| io_error(&temp, e))?;
        drop(file);
        if let Some(hook) = &mut self.hook {
            hook(WriteStep::TempSynced(report.id));
        }
        fs::rename(&temp, &path).map_err(|e| io_error(&path, e))?;
        sync_dir(&self.dir)?;
        if let Some(hook) = &mut self.hook {
            hook(WriteStep::Durable(report.id));
        }
        Ok(())
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
}

impl Outbox for DiskOutbox {
    fn accept(&mut self, body: String, now: SystemTime) -> Result<ReportId, OutboxError> {
        self.queue.check_size(&body)?;
        let evictions = self.queue.evictions(Need::Room(body.len() as u64), now);
        self.evict(&evictions)?;
        let report = StoredReport {
            id: ReportId(self.queue.next_id),
            created: now,
            attempts: 0,
            body,
        };
        self.write(&report)?;
        let id = report.id;
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
        let mut report = self
            .queue
            .reports
            .get(&id)
            .cloned()
            .ok_or(OutboxError::NoSuchReport(id))?;
        report.attempts = report.attempts.saturating_add(1);
        self.write(&report)?;
        let attempts = report.attempts;
        if let Some(stored) = self.queue.reports.get_mut(&id) {
            stored.attempts = attempts;
        }
        Ok(attempts)
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
    let stem = path.file_stem()?.to_str()?;
    if stem.len() != 16 {
        return None;
    }
    u64::from_str_radix(stem, 16).ok().map(ReportId)
}

/// FNV-1a, 64 bits: catches torn and altered files (not an adversary).
fn checksum(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn encode_file(report: &StoredReport) -> Vec<u8> {
    let created = report
        .created
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let mut out = format!(
        "{MAGIC}\nid {:016x}\ncreated {created}\nattempts {}\nlength {}\nchecksum {:016x}\n\n",
        report.id.0,
        report.attempts,
        report.body.len(),
        checksum(report.body.as_bytes()),
    )
    .into_bytes();
    out.extend_from_slice(report.body.as_bytes());
    out
}

fn read_report(path: &Path, id: ReportId) -> Result<StoredReport, &'static str> {
    let bytes = fs::read(path).map_err(|_| "unreadable")?;
    decode_file(&bytes, id)
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
    if lines.next() != Some(MAGIC) {
        return Err("unknown format");
    }
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
        body,
    })
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
                corrupt_files_removed: 0,
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
        let files = fs::read_dir(&dir.0).unwrap().count();
        assert_eq!(files, 0, "nothing left behind");
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
        let outbox = DiskOutbox::open(&dir.0, limits(10, 1 << 20, 5), t(12)).unwrap();
        assert_eq!(outbox.ids(), vec![next]);
        assert_eq!(outbox.stats().expired, 1);
    }

    #[test]
    fn interrupted_writes_and_damaged_files_are_removed_and_counted() {
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
            (stats.temp_files_removed, stats.corrupt_files_removed),
            (1, 3)
        );
        assert!(dir.0.join("README").exists());
        assert!(!path(torn, "report").exists());
    }

    #[test]
    fn decode_refuses_every_malformed_header() {
        let report = StoredReport {
            id: ReportId(1),
            created: t(0),
            attempts: 3,
            body: "body".into(),
        };
        let good = encode_file(&report);
        assert_eq!(decode_file(&good, ReportId(1)), Ok(report));
        let text = String::from_utf8(good).unwrap();
        for (from, to) in [
            ("ocer-outbox 1", "ocer-outbox 2"),
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
                t(0)
            )
            .unwrap(),
            Submitted::Vetoed
        );
        let mut pass = |_: &mut ErrorReport<'_>| HookVerdict::Send;
        let mut long = report();
        long.request_type = "X".repeat(40).into();
        assert!(matches!(
            submit(&mut outbox, &mut pass, long, &ReportLimits::default(), t(0)),
            Err(SubmitError::Limits(LimitError::RequiredTooLong { .. }))
        ));
        assert_eq!(
            outbox.ids(),
            vec![id],
            "neither the veto nor the refusal stored anything"
        );
    }
}
