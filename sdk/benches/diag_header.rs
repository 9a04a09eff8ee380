//! Parsing and printing one diagnostics header. Target (DESIGN.md §6):
//! parsing the MS-OCER §2.2.1.1 example takes ≤ 300 ns median.

// A bench whose input does not parse measures nothing; stop loudly.
#![allow(clippy::expect_used)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use ocer::diag::{DiagnosticsHeader, HeaderKind};

/// The §2.2.1.1 example value, wrapped as the spec prints it.
const SPEC_2211: &str = "1007;reason=\"Temporarily cannot\n\
route\";source=\"sip.contoso.com\";ErrorType=\"Connect Attempt Failure\"\n\
;WinsockFailureDescription=\"The peer actively refused the connection\n\
attempt\";WinsockFailureCode=\"274D(WSAECONNREFUSED)\"\n\
;Peer=\"sip.fabrikam.com\"";

/// The same header as one line, as a server sends it.
const ONE_LINE: &str = "1007;reason=\"Temporarily cannot route\";source=\"sip.contoso.com\";\
ErrorType=\"Connect Attempt Failure\";\
WinsockFailureDescription=\"The peer actively refused the connection attempt\";\
WinsockFailureCode=\"274D(WSAECONNREFUSED)\";Peer=\"sip.fabrikam.com\"";

fn bench(c: &mut Criterion) {
    c.bench_function("parse spec 2.2.1.1 example", |b| {
        b.iter(|| DiagnosticsHeader::parse(HeaderKind::Private, black_box(SPEC_2211)))
    });
    c.bench_function("parse spec 2.2.1.1 example, one line", |b| {
        b.iter(|| DiagnosticsHeader::parse(HeaderKind::Private, black_box(ONE_LINE)))
    });
    let h = DiagnosticsHeader::parse(HeaderKind::Private, SPEC_2211)
        .expect("the spec example parses (unit tests check its fields)");
    // The owned result alone: the same heap blocks and bytes as a
    // parse, without any scanning. Parse time minus this is the parser's own.
    c.bench_function("clone parsed 2.2.1.1 example (allocation floor)", |b| {
        b.iter(|| black_box(&h).clone())
    });
    c.bench_function("print spec 2.2.1.1 example", |b| {
        b.iter(|| black_box(&h).to_string())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
