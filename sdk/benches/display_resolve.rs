//! DESIGN §6: resolve a failed transaction to its localized string (priority
//! rule + Fluent formatting) in ≤ 1 µs median.
//!
//! The transaction is MS-OCER §4.1's INVITE: a `101 Progress Report` with
//! ms-diagnostics 12006, then `504 Server time-out` with ms-diagnostics 1007.
//! In Lync 2010 voice mode 1007 has no string, so the rule walks on to the
//! SIP 504 (a realistic two-step walk).

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use ocer::diag::{Collector, CollectorLimits, TransactionRecord};
use ocer::display::{
    resolve, Action, Context, Isolation, LocaleSource, Localizer, Mode, Placeholders, StringIndex,
    StringSet,
};
use ocer::sip::{FramingLimits, RequestIdentity, SipMessage};

const INVITE: &[u8] = include_bytes!("../tests/fixtures/ms-ocer-4.1/invite.sip");
const TRYING: &[u8] = include_bytes!("../tests/fixtures/ms-ocer-4.1/100.sip");
const PROGRESS: &[u8] = include_bytes!("../tests/fixtures/ms-ocer-4.1/101.sip");
const TIMEOUT: &[u8] = include_bytes!("../tests/fixtures/ms-ocer-4.1/504.sip");

fn record() -> TransactionRecord {
    let limits = FramingLimits::default();
    let invite = SipMessage::parse(INVITE, &limits).unwrap();
    let start = Instant::now();
    let mut collector = Collector::new(
        RequestIdentity::from_request(&invite).unwrap(),
        start,
        CollectorLimits::default(),
    );
    for (i, bytes) in [TRYING, PROGRESS, TIMEOUT].into_iter().enumerate() {
        let at = start + Duration::from_millis(10 * i as u64);
        collector
            .observe_response(&SipMessage::parse(bytes, &limits).unwrap(), at)
            .unwrap();
    }
    collector.finish()
}

fn busy_record() -> TransactionRecord {
    let limits = FramingLimits::default();
    let invite = SipMessage::parse(INVITE, &limits).unwrap();
    let start = Instant::now();
    let mut collector = Collector::new(
        RequestIdentity::from_request(&invite).unwrap(),
        start,
        CollectorLimits::default(),
    );
    let busy = String::from_utf8_lossy(TIMEOUT).replace("504 Server time-out", "486 Busy Here");
    // No diagnostics: the 486's own string is the one shown (an ErrorId on
    // the final response would rank above it, MS-OCER 9.1.1).
    let busy: String = busy
        .split_inclusive("\r\n")
        .filter(|line| !line.to_ascii_lowercase().starts_with("ms-diagnostics"))
        .collect();
    collector
        .observe_response(&SipMessage::parse(busy.as_bytes(), &limits).unwrap(), start)
        .unwrap();
    collector.finish()
}

fn bench(c: &mut Criterion) {
    let record = record();
    let localizer = Localizer::new(Isolation::Off);
    let chain = localizer.negotiate(&[]);
    let context = Context::new(StringSet::Lync2010, Mode::Voice, Action::Call);
    let who = Placeholders {
        user: "Bob",
        client: "Lync",
        feature: "",
    };
    let shown = localizer
        .display(&chain, &record, None, context, &who)
        .unwrap();
    assert_eq!(shown.message_id.to_string(), "lync2010-sip-504-voice-call");

    c.bench_function(
        "display_resolve/spec-4.1-voice-call (priority + Fluent)",
        |b| {
            b.iter(|| {
                localizer.display(
                    black_box(&chain),
                    black_box(&record),
                    None,
                    black_box(context),
                    &who,
                )
            })
        },
    );
    // A translated string with a placeable: 486 in the German test locale.
    let busy = busy_record();
    let german = Localizer::new(Isolation::Off)
        .with_locales([LocaleSource {
            locale: "de".parse().unwrap(),
            set: StringSet::Lync2010,
            ftl: include_str!("../tests/fixtures/locales/de/lync2010.ftl").to_owned(),
        }])
        .unwrap();
    let german_chain = german.negotiate(&["de-DE".parse().unwrap()]);
    let shown = german
        .display(&german_chain, &busy, None, context, &who)
        .unwrap();
    assert_eq!(
        shown.message.as_deref(),
        Some("Bob führt gerade ein anderes Gespräch.")
    );
    c.bench_function(
        "display_resolve/486-voice-call-de ($user, per-message fallback)",
        |b| {
            b.iter(|| {
                german.display(
                    black_box(&german_chain),
                    black_box(&busy),
                    None,
                    black_box(context),
                    &who,
                )
            })
        },
    );

    let index = StringIndex::en_us();
    c.bench_function("display_resolve/spec-4.1-voice-call (priority only)", |b| {
        b.iter(|| resolve(index, black_box(&record), None, black_box(context)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
