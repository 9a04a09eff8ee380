//! Building the MS-OCER §4.1 reportError document. Target (DESIGN.md §6):
//! ≤ 2 µs median, from the finished TransactionRecord to the body that is sent
//! (record → report → §2.2.2 limits → XML).

// A bench whose input does not build measures nothing; stop loudly.
#![allow(clippy::expect_used)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use ocer::diag::{Collector, CollectorLimits, TransactionRecord};
use ocer::report::{encode, ErrorReport, ReportLimits};
use ocer::sip::{FramingLimits, RequestIdentity, SipMessage};

const INVITE: &[u8] = include_bytes!("../tests/fixtures/ms-ocer-4.1/invite.sip");
const RESPONSES: [&[u8]; 3] = [
    include_bytes!("../tests/fixtures/ms-ocer-4.1/100.sip"),
    include_bytes!("../tests/fixtures/ms-ocer-4.1/101.sip"),
    include_bytes!("../tests/fixtures/ms-ocer-4.1/504.sip"),
];

fn spec_4_1_record() -> TransactionRecord {
    let limits = FramingLimits::default();
    let invite = SipMessage::parse(INVITE, &limits).expect("fixture");
    let start = Instant::now();
    let identity = RequestIdentity::from_request(&invite).expect("identity");
    let mut collector = Collector::new(identity, start, CollectorLimits::default());
    for (i, bytes) in RESPONSES.into_iter().enumerate() {
        let response = SipMessage::parse(bytes, &limits).expect("fixture");
        collector
            .observe_response(&response, start + Duration::from_millis(i as u64))
            .expect("same transaction");
    }
    collector.finish()
}

fn bench(c: &mut Criterion) {
    let record = spec_4_1_record();
    let limits = ReportLimits::default();
    c.bench_function("build spec 4.1 reportError document", |b| {
        b.iter(|| {
            let report = ErrorReport::from_record(black_box(&record), "sip:alice@contoso.com")
                .expect("a failure");
            encode(report, &limits, "sip:alice@contoso.com").expect("fits")
        })
    });
    let body = encode(
        ErrorReport::from_record(&record, "sip:alice@contoso.com").expect("a failure"),
        &limits,
        "sip:alice@contoso.com",
    )
    .expect("fits")
    .body;
    c.bench_function("read spec 4.1 reportError document", |b| {
        b.iter(|| ErrorReport::parse(black_box(body.as_bytes())))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
