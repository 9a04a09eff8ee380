//! Memory held by one finished [`TransactionRecord`]. Target (DESIGN.md §6):
//! ≤ 4 KiB per record.
//!
//! Unlike a timing this is deterministic, so it is a pass/fail check: the
//! process exits non-zero above the limit, under `cargo bench` and under
//! `cargo test --bench record_memory` alike (CI runs benches in test mode).
//!
//! The record measured is MS-OCER §4.1's: the INVITE, its `100 Trying`, the
//! `101 Progress Report` with one ms-diagnostics header and the `504` with
//! another, as the SIP fixtures hold them. "Held" means the heap bytes still
//! allocated once the messages are gone, plus the record's own inline size.
//!
//! Counting uses `stats_alloc`'s wrapper around the system allocator: a
//! hand-written `GlobalAlloc` needs `unsafe`, which the workspace forbids.

use std::alloc::System;
use std::error::Error;
use std::mem::size_of;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use ocer::diag::{
    Collector, CollectorLimits, DiagnosticsHeader, ObservedDiagnostic, Param, TransactionRecord,
};
use ocer::sip::{FramingLimits, RequestIdentity, SipMessage};
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// DESIGN.md §6.
const LIMIT_BYTES: usize = 4096;

const INVITE: &[u8] = include_bytes!("../tests/fixtures/ms-ocer-4.1/invite.sip");
const TRYING: &[u8] = include_bytes!("../tests/fixtures/ms-ocer-4.1/100.sip");
const PROGRESS: &[u8] = include_bytes!("../tests/fixtures/ms-ocer-4.1/101.sip");
const TIMEOUT: &[u8] = include_bytes!("../tests/fixtures/ms-ocer-4.1/504.sip");

/// The §4.1 flow through a collector. The messages are dropped on return,
/// so what stays allocated afterwards belongs to the record.
fn spec_4_1_record() -> Result<TransactionRecord, Box<dyn Error>> {
    let limits = FramingLimits::default();
    let invite = SipMessage::parse(INVITE, &limits)?;
    let start = Instant::now();
    let mut collector = Collector::new(
        RequestIdentity::from_request(&invite)?,
        start,
        CollectorLimits::default(),
    );
    for (bytes, after_ms) in [(TRYING, 5), (PROGRESS, 900), (TIMEOUT, 20_000)] {
        let response = SipMessage::parse(bytes, &limits)?;
        collector.observe_response(&response, start + Duration::from_millis(after_ms))?;
    }
    let record = collector.finish();
    if record.final_status().map(|s| s.0) != Some(504) || record.progress.len() != 1 {
        return Err("the §4.1 fixtures no longer give a 504 with one progress report".into());
    }
    Ok(record)
}

/// Net heap bytes and blocks allocated since `region` started.
fn net(region: &Region<'_, System>) -> (i128, i128) {
    let s = region.change();
    let bytes = s.bytes_allocated as i128 - s.bytes_deallocated as i128;
    let blocks = s.allocations as i128 - s.deallocations as i128;
    (bytes, blocks)
}

/// Heap bytes and blocks that dropping `value` gives back.
fn freed<T>(value: T) -> (i128, i128) {
    let region = Region::new(GLOBAL);
    drop(value);
    let (bytes, blocks) = net(&region);
    (-bytes, -blocks)
}

fn run() -> Result<bool, Box<dyn Error>> {
    // First use of the parsers may set up lazily built statics; those are
    // the process's, not the record's, so they are paid before measuring.
    drop(spec_4_1_record()?);

    let region = Region::new(GLOBAL);
    let record = spec_4_1_record()?;
    let (heap, blocks) = net(&region);

    // Where the bytes are, field by field (the destructuring is exhaustive
    // so a new field cannot go unaccounted).
    let TransactionRecord {
        identity,
        provisional,
        progress,
        ending,
        server_requests,
        dropped: _,
    } = record;
    let parts = [
        ("identity", freed(identity)),
        ("provisional", freed(provisional)),
        ("progress (101 diagnostics)", freed(progress)),
        ("ending (504 + diagnostics)", freed(ending)),
        ("server_requests", freed(server_requests)),
    ];
    // Everything allocated since `region` began is freed again: the number
    // above counted the record and nothing else.
    let (leftover, _) = net(&region);
    if leftover != 0 {
        return Err(format!(
            "{leftover} bytes still allocated after dropping the record: the measurement \
             counted something else"
        )
        .into());
    }

    let inline = size_of::<TransactionRecord>();
    let total = usize::try_from(heap)? + inline;
    println!("TransactionRecord of MS-OCER 4.1 (INVITE, 100, 101, 504):");
    for (name, (bytes, blocks)) in parts {
        println!("  {name:<36} {bytes:>6} B heap in {blocks:>3} blocks");
    }
    println!(
        "  heap {heap} B in {blocks} blocks + inline {inline} B = {total} B (limit {LIMIT_BYTES} B)"
    );
    println!(
        "  inline sizes: ObservedDiagnostic {} B, DiagnosticsHeader {} B, Param {} B",
        size_of::<ObservedDiagnostic>(),
        size_of::<DiagnosticsHeader>(),
        size_of::<Param>()
    );
    Ok(total <= LIMIT_BYTES)
}

fn main() -> ExitCode {
    match run() {
        Ok(true) => {
            println!("record_memory: within the {LIMIT_BYTES} B target");
            ExitCode::SUCCESS
        }
        Ok(false) => {
            eprintln!("record_memory: FAILED, over the {LIMIT_BYTES} B target (DESIGN.md §6)");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("record_memory: could not measure: {e}");
            ExitCode::FAILURE
        }
    }
}
