//! The sans-IO work each client transaction of the user agent does: what a
//! MESSAGE costs the SDK besides IO (BENCHMARKS.md, "Load"). The request is
//! what `examples/loadgen` sends; the response what `tests/sipp/load_uas.xml`
//! answers.

// A bench whose input does not parse measures nothing; stop loudly.
#![allow(clippy::expect_used)]

use std::hint::black_box;
use std::time::Instant;

use criterion::{criterion_group, criterion_main, Criterion};
use ocer::report::finalize_request;
use ocer::sip::transaction::top_via_branch;
use ocer::sip::{
    parse_datagram, ClientTransaction, FramingLimits, Reliability, RequestIdentity, TimerConfig,
};

const REQUEST: &[u8] = b"MESSAGE sip:bob@contoso.com SIP/2.0\r\n\
Via: SIP/2.0/UDP 127.0.0.1:40000;rport;branch=z9hG4bK0123456789abcdef0123456789abcdef\r\n\
Max-Forwards: 70\r\n\
From: <sip:load0@contoso.com>;tag=4f1c2b3a5d6e7f80\r\n\
To: <sip:bob@contoso.com>\r\n\
Call-ID: 0123456789abcdef0123456789abcdef\r\n\
CSeq: 1 MESSAGE\r\n\
Contact: <sip:load0@127.0.0.1:40000;transport=udp>\r\n\
User-Agent: ocer/0.1.0\r\n\
Content-Type: text/plain; charset=UTF-8\r\n\
Content-Length: 4\r\n\
\r\n\
load";

const RESPONSE: &[u8] = b"SIP/2.0 200 OK\r\n\
Via: SIP/2.0/UDP 127.0.0.1:40000;rport=40000;branch=z9hG4bK0123456789abcdef0123456789abcdef;received=127.0.0.1\r\n\
From: <sip:load0@contoso.com>;tag=4f1c2b3a5d6e7f80\r\n\
To: <sip:bob@contoso.com>;tag=1234ocer1\r\n\
Call-ID: 0123456789abcdef0123456789abcdef\r\n\
CSeq: 1 MESSAGE\r\n\
Content-Length: 0\r\n\
\r\n";

fn bench(c: &mut Criterion) {
    let limits = FramingLimits::default();
    let request = parse_datagram(REQUEST, &limits).expect("the request parses");
    c.bench_function("transaction_path/request identity", |b| {
        b.iter(|| RequestIdentity::from_request(black_box(&request)))
    });
    c.bench_function("transaction_path/finalize request (checks + print)", |b| {
        b.iter(|| finalize_request(black_box(&request)))
    });
    c.bench_function("transaction_path/client transaction new (UDP)", |b| {
        let now = Instant::now();
        b.iter(|| {
            ClientTransaction::new(
                black_box(&request).clone(),
                Reliability::Unreliable,
                TimerConfig::default(),
                now,
            )
        })
    });
    c.bench_function("transaction_path/parse 200 response", |b| {
        b.iter(|| parse_datagram(black_box(RESPONSE), &limits))
    });
    let response = parse_datagram(RESPONSE, &limits).expect("the response parses");
    c.bench_function("transaction_path/top Via branch", |b| {
        b.iter(|| top_via_branch(black_box(&response)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
