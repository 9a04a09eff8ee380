//! The fuzz targets of ocer, one function per target, in one place.
//!
//! Each function takes arbitrary bytes and exercises one parser or stage of the
//! pipeline the way a hostile server's bytes would reach it. It must not panic,
//! and it checks the invariants its stage promises (a print∘parse round trip,
//! a report within its limits that the reader accepts again, framing that
//! always makes progress, …): a broken invariant is a panic, hence a finding.
//!
//! Two drivers run them:
//! - `fuzz/` (cargo-fuzz, libFuzzer, nightly): `scripts/fuzz N` runs each target
//!   for N seconds from the seed corpora in `fuzz/seeds/<target>/`;
//! - [`mutate::run`] (stable, in CI): a fixed-seed mutation loop over the same
//!   seeds, see `tests/stable_loop.rs`.
//!
//! The C API's target lives with the C API (`ffi/src/fuzz.rs`), because only
//! that crate can call it; it uses the same driver.

// A broken invariant must stop the fuzzer: panicking is what a target is for.
#![allow(clippy::panic)]

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use ezk_sip_types::Name;
use ocer::diag::{Collector, CollectorLimits, DiagnosticsHeader, HeaderKind};
use ocer::display::{
    resolve, Action, Context, Isolation, Localizer, Mode, Placeholders, StringIndex, StringSet,
    WinError,
};
use ocer::report::{encode, ErrorReport, ReportLimits};
use ocer::sip::{
    frame_stream, parse_datagram, parse_warning_values, Framed, FramingLimits, MsKeepAlive,
    RequestIdentity, RetryAfter, SipMessage,
};

pub mod mutate;

/// A fuzz target: a name (the cargo-fuzz target and the seed directory) and
/// its body.
#[derive(Clone, Copy)]
pub struct Target {
    /// The name, as in `fuzz/fuzz_targets/<name>.rs` and `fuzz/seeds/<name>/`.
    pub name: &'static str,
    /// The body.
    pub run: fn(&[u8]),
}

/// Every target of this crate, in the order `scripts/fuzz` runs them.
pub const TARGETS: &[Target] = &[
    Target {
        name: "stream_framing",
        run: stream_framing,
    },
    Target {
        name: "datagram_parse",
        run: datagram_parse,
    },
    Target {
        name: "sip_message",
        run: sip_message,
    },
    Target {
        name: "diag_header",
        run: diag_header,
    },
    Target {
        name: "warning",
        run: warning,
    },
    Target {
        name: "retry_after",
        run: retry_after,
    },
    Target {
        name: "keep_alive",
        run: keep_alive,
    },
    Target {
        name: "report_reader",
        run: report_reader,
    },
    Target {
        name: "collector",
        run: collector,
    },
    Target {
        name: "display_resolve",
        run: display_resolve,
    },
    Target {
        name: "report_encode",
        run: report_encode,
    },
];

/// Small limits, so that the fuzzer reaches them with short inputs.
fn small_limits() -> FramingLimits {
    FramingLimits {
        max_header_bytes: 2048,
        max_body_bytes: 4096,
    }
}

/// A TCP/TLS byte stream: framed message by message as the transport does,
/// every step consuming something or asking for more, and a message framed
/// from exactly its own bytes the same as from the whole buffer.
pub fn stream_framing(data: &[u8]) {
    let limits = small_limits();
    let mut rest = data;
    while !rest.is_empty() {
        match frame_stream(rest, &limits) {
            Framed::Incomplete => {
                // More bytes may not change an Incomplete head into something
                // shorter than what is already buffered.
                break;
            }
            Framed::KeepAlive { consumed } => {
                assert!(
                    consumed > 0 && consumed <= rest.len(),
                    "keep-alive {consumed}"
                );
                rest = rest.get(consumed..).unwrap_or_default();
            }
            Framed::Message { message, consumed } => {
                assert!(consumed > 0 && consumed <= rest.len(), "message {consumed}");
                let own = rest.get(..consumed).unwrap_or_default();
                match frame_stream(own, &limits) {
                    Framed::Message {
                        consumed: again, ..
                    } => assert_eq!(again, consumed, "framing depends on what follows"),
                    other => panic!("a message's own bytes frame as {other:?}"),
                }
                let _ = message.to_bytes();
                rest = rest.get(consumed..).unwrap_or_default();
            }
            Framed::Error { skip, .. } => match skip {
                Some(n) if n > 0 => rest = rest.get(n..).unwrap_or_default(),
                Some(_) => panic!("an error that skips nothing would loop"),
                None => break,
            },
        }
    }
}

/// A UDP datagram: parsed, printed, and the printed message parsed again.
pub fn datagram_parse(data: &[u8]) {
    let limits = small_limits();
    if let Ok(message) = parse_datagram(data, &limits) {
        let wire = message.to_bytes();
        let big = FramingLimits {
            max_header_bytes: wire.len() + 1,
            max_body_bytes: wire.len() + 1,
        };
        if let Err(e) = parse_datagram(&wire, &big) {
            panic!("printed datagram does not parse again: {e}");
        }
    }
}

/// A message with its accessors, and the request identity a collector starts
/// from.
pub fn sip_message(data: &[u8]) {
    let Ok(message) = SipMessage::parse(data, &small_limits()) else {
        return;
    };
    let _ = (message.status(), message.reason_phrase(), message.method());
    for name in [
        Name::VIA,
        Name::FROM,
        Name::TO,
        Name::CALL_ID,
        Name::CSEQ,
        Name::WARNING,
        Name::RETRY_AFTER,
    ] {
        let _ = message.header_values(&name).count();
    }
    if message.is_request() {
        let _ = RequestIdentity::from_request(&message);
    }
    let _ = ocer::sip::to_tag_of(&message);
    let _ = message.to_bytes();
}

/// Text from the fuzzer: UTF-8 as is, anything else read lossily so that the
/// parsers still see the rest of the bytes.
fn text(data: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(data)
}

/// The ms-diagnostics parser, both kinds and the header-line form, and the
/// print∘parse round trip: what we print parses back to the same header.
pub fn diag_header(data: &[u8]) {
    let s = text(data);
    for kind in [HeaderKind::Private, HeaderKind::Public] {
        if let Ok(header) = DiagnosticsHeader::parse(kind, &s) {
            let printed = header.to_string();
            match DiagnosticsHeader::parse(kind, &printed) {
                Ok(again) => assert_eq!(again, header, "print∘parse of {printed:?}"),
                Err(e) => panic!("printed header {printed:?} does not parse: {e}"),
            }
        }
    }
    let _ = DiagnosticsHeader::parse_header_line(&s);
}

/// Warning values, and their printed form parsed back.
pub fn warning(data: &[u8]) {
    let s = text(data);
    if let Ok(values) = parse_warning_values(&s) {
        let printed: Vec<String> = values.iter().map(ToString::to_string).collect();
        let joined = printed.join(", ");
        match parse_warning_values(&joined) {
            Ok(again) => assert_eq!(again, values, "print∘parse of {joined:?}"),
            Err(e) => panic!("printed Warning {joined:?} does not parse: {e}"),
        }
    }
}

/// Retry-After, and its printed form parsed back.
pub fn retry_after(data: &[u8]) {
    let s = text(data);
    if let Ok(value) = RetryAfter::parse(&s) {
        let printed = value.to_string();
        match RetryAfter::parse(&printed) {
            Ok(again) => assert_eq!(again, value, "print∘parse of {printed:?}"),
            Err(e) => panic!("printed Retry-After {printed:?} does not parse: {e}"),
        }
    }
}

/// The `ms-keep-alive` header (MS-CONMGMT §2.2.1); what parses prints back
/// to an equal value, and the ping interval it gives is never zero.
pub fn keep_alive(data: &[u8]) {
    let s = text(data);
    if let Ok(value) = MsKeepAlive::parse(&s) {
        let printed = value.to_string();
        match MsKeepAlive::parse(&printed) {
            Ok(again) => assert_eq!(again, value, "print∘parse of {printed:?}"),
            Err(e) => panic!("printed ms-keep-alive {printed:?} does not parse: {e}"),
        }
        if let Some(interval) = value.ping_interval(None) {
            assert!(!interval.is_zero(), "a zero ping interval from {s:?}");
        }
    }
}

/// The reportError reader; a document it accepts, written again, reads the
/// same.
pub fn report_reader(data: &[u8]) {
    if let Ok(report) = ErrorReport::parse(data) {
        let xml = report.to_xml();
        match ErrorReport::parse(xml.text.as_bytes()) {
            Ok(again) => {
                if xml.replaced_chars == 0 {
                    assert_eq!(again, report, "write∘read of {:?}", xml.text);
                }
            }
            Err(e) => panic!("written document does not read again: {e}: {:?}", xml.text),
        }
    }
}

/// Frames `data` as a stream of messages (the first one the request) and
/// runs them through a collector with small caps, as the driver would.
fn record_of(data: &[u8]) -> Option<(ocer::diag::TransactionRecord, CollectorLimits)> {
    let limits = small_limits();
    let mut rest = data;
    let mut messages = Vec::new();
    while !rest.is_empty() && messages.len() < 64 {
        match frame_stream(rest, &limits) {
            Framed::Message { message, consumed } => {
                messages.push(message);
                rest = rest.get(consumed..).unwrap_or_default();
            }
            Framed::KeepAlive { consumed } => rest = rest.get(consumed..).unwrap_or_default(),
            Framed::Error {
                skip: Some(n @ 1..),
                ..
            } => rest = rest.get(n..).unwrap_or_default(),
            _ => break,
        }
    }
    let mut messages = messages.into_iter();
    let request = messages.next()?;
    let identity = RequestIdentity::from_request(&request).ok()?;
    let caps = CollectorLimits {
        max_progress_reports: 4,
        max_provisional_responses: 4,
        max_server_requests: 2,
        max_diag_header_chars: 300,
    };
    let start = Instant::now();
    let mut collector = Collector::new(identity, start, caps);
    for (i, message) in messages.enumerate() {
        let now = start + Duration::from_millis(i as u64);
        if message.is_request() {
            let _ = collector.observe_server_request(&message, now);
        } else {
            let _ = collector.observe_response(&message, now);
        }
    }
    Some((collector.finish(), caps))
}

/// The collector over a message sequence: its caps hold.
pub fn collector(data: &[u8]) {
    let Some((record, caps)) = record_of(data) else {
        return;
    };
    assert!(record.progress.len() <= caps.max_progress_reports);
    assert!(record.provisional.len() <= caps.max_provisional_responses);
    assert!(record.server_requests.len() <= caps.max_server_requests);
    for d in record.progress.iter().chain(record.final_diagnostics()) {
        assert!(d.raw.chars().count() <= caps.max_diag_header_chars);
    }
    let _ = record.diagnostics_by_priority().count();
    let _ = (record.final_status(), record.is_failure());
}

fn localizer() -> &'static Localizer {
    static L: OnceLock<Localizer> = OnceLock::new();
    L.get_or_init(|| Localizer::new(Isolation::Off))
}

/// Display: the priority rule and the formatted string, in every context, for
/// a recorded transaction and a Windows error from the input.
pub fn display_resolve(data: &[u8]) {
    let (win, rest) = match data {
        [a, b, c, d, rest @ ..] => (Some(WinError(u32::from_le_bytes([*a, *b, *c, *d]))), rest),
        _ => (None, data),
    };
    let Some((record, _)) = record_of(rest) else {
        return;
    };
    let localizer = localizer();
    let chain = localizer.negotiate(&[]);
    for set in StringSet::ALL {
        for mode in Mode::ALL {
            for action in Action::ALL {
                let context = Context::new(set, mode, action);
                if let Some(resolution) = resolve(StringIndex::en_us(), &record, win, context) {
                    let shown = localizer.display_resolution(
                        &chain,
                        &resolution,
                        context,
                        &Placeholders::SPEC,
                    );
                    assert!(
                        shown.is_some(),
                        "resolved {resolution:?} but nothing to show"
                    );
                }
            }
        }
    }
}

/// The report writer under limits taken from the input: what it produces is
/// within the limits and the reader accepts it.
pub fn report_encode(data: &[u8]) {
    let (max_body_bytes, max_progress_reports, rest) = match data {
        [a, b, c, rest @ ..] => (
            usize::from(u16::from_le_bytes([*a, *b])),
            usize::from(*c % 8),
            rest,
        ),
        _ => return,
    };
    let Some((record, _)) = record_of(rest) else {
        return;
    };
    let aor = "sip:alice@contoso.com";
    let Ok(report) = ErrorReport::from_record(&record, aor) else {
        return;
    };
    let limits = ReportLimits {
        max_body_bytes,
        max_progress_reports,
    };
    if let Ok(encoded) = encode(report, &limits, aor) {
        assert!(
            encoded.body.len() <= max_body_bytes,
            "{} bytes over a limit of {max_body_bytes}",
            encoded.body.len()
        );
        if let Err(e) = ErrorReport::parse(encoded.body.as_bytes()) {
            panic!(
                "encoded report does not read again: {e}: {:?}",
                encoded.body
            );
        }
    }
}
