//! The stable driver: a fixed-seed mutation loop over a seed corpus, for CI
//! machines without a nightly toolchain. It is no coverage-guided fuzzer; it
//! replays the seeds and the kept regression inputs, then applies the kinds
//! of edits that broke parsers before (bit flips, SIP delimiters, long runs,
//! cut and spliced messages, huge numbers) for a fixed time. The same seed
//! gives the same sequence of inputs, so a finding prints what reproduces it.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Bytes that mean something to a SIP parser.
const DELIMITERS: &[u8] = b"\r\n \t;:,=\"\\<>()[]@0123456789%\x00\xff\xc3";

/// Text that means something to a SIP parser, spliced in whole.
const TOKENS: &[&[u8]] = &[
    b"\r\n",
    b"\r\n ",
    b"\r\n\r\n",
    b"Content-Length: ",
    b"Content-Length: 99999999999999999999\r\n",
    b"l: 4294967296\r\n",
    b"ms-diagnostics: ",
    b";reason=\"",
    b";source=\"",
    b"SIP/2.0 101 Progress Report\r\n",
    b"SIP/2.0 504 Server time-out\r\n",
    b"BYE sip:a@b SIP/2.0\r\n",
    b"CSeq: 1 INVITE\r\n",
    b"Via: SIP/2.0/TLS h;branch=z9hG4bK1\r\n",
    b"Warning: 399 h \"",
    b"Retry-After: 18446744073709551616 (",
    b"<diagHeader>",
    b"<progressReport>",
    b"&#",
    b"&amp;",
    b"<![CDATA[",
    b"\xef\xbf\xbd",
    b"\xf0\x9f\x98\x80",
];

/// A tiny deterministic generator (splitmix64): the loop must be the same on
/// every machine.
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The next 64 bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        items.get(self.below(items.len()))
    }
}

/// One random edit of `input`; `corpus` supplies material to splice.
pub fn mutate_once(rng: &mut Rng, input: &mut Vec<u8>, corpus: &[Vec<u8>]) {
    let len = input.len();
    let at = rng.below(len + 1);
    match rng.below(11) {
        0 if len > 0 => {
            if let Some(b) = input.get_mut(rng.below(len)) {
                *b ^= 1 << rng.below(8);
            }
        }
        1 if len > 0 => {
            let d = rng.pick(DELIMITERS).copied().unwrap_or(b' ');
            if let Some(b) = input.get_mut(rng.below(len)) {
                *b = d;
            }
        }
        2 => {
            let d = rng.pick(DELIMITERS).copied().unwrap_or(b' ');
            input.insert(at, d);
        }
        3 if len > 0 => {
            let end = (at + 1 + rng.below(16)).min(len);
            input.drain(at.min(len - 1)..end);
        }
        4 => {
            let token = rng.pick(TOKENS).copied().unwrap_or(b"\r\n");
            input.splice(at..at, token.iter().copied());
        }
        5 => {
            // A long run: the caps and the limits.
            let byte = rng.pick(b"a \t\"\\;\r\n0").copied().unwrap_or(b'a');
            let n = 1 << (4 + rng.below(12));
            input.splice(at..at, std::iter::repeat_n(byte, n));
        }
        6 if len > 0 => {
            // Duplicate a chunk: repeated headers, repeated messages.
            let start = rng.below(len);
            let end = (start + 1 + rng.below(256)).min(len);
            let chunk: Vec<u8> = input.get(start..end).unwrap_or_default().to_vec();
            let times = 1 + rng.below(8);
            for _ in 0..times {
                input.splice(at..at, chunk.iter().copied());
            }
        }
        7 => input.truncate(at),
        8 => {
            // Splice another seed's tail or head.
            if let Some(other) = rng.pick(corpus) {
                let from = rng.below(other.len() + 1);
                input.truncate(at);
                input.extend_from_slice(other.get(from..).unwrap_or_default());
            }
        }
        9 => {
            // A number where a number is expected, or anywhere.
            let n = match rng.below(4) {
                0 => u64::MAX.to_string(),
                1 => "4294967296".to_owned(),
                2 => "00000000000000000000000001".to_owned(),
                _ => rng.next_u64().to_string(),
            };
            input.splice(at..at, n.into_bytes());
        }
        _ => {
            if let Some(b) = input.get_mut(at) {
                *b = rng.next_u64() as u8;
            } else {
                input.push(rng.next_u64() as u8);
            }
        }
    }
    // Keep inputs in the range the targets' limits make interesting.
    input.truncate(256 * 1024);
}

/// The files of `dir` (sorted, so the loop is the same everywhere); none if
/// it does not exist.
pub fn read_dir(dir: &Path) -> Vec<Vec<u8>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    paths.sort();
    paths.iter().filter_map(|p| std::fs::read(p).ok()).collect()
}

/// What a loop did.
#[derive(Debug, Clone, Copy, Default)]
pub struct Stats {
    /// Inputs run, seeds included.
    pub runs: u64,
}

/// A panic in a target, with the input that caused it.
#[derive(Debug)]
pub struct Finding {
    /// The target.
    pub target: String,
    /// The input.
    pub input: Vec<u8>,
    /// The panic message.
    pub message: String,
}

fn run_one(name: &str, body: fn(&[u8]), input: &[u8]) -> Result<(), Finding> {
    catch_unwind(AssertUnwindSafe(|| body(input))).map_err(|payload| {
        let message = payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_else(|| "non-string panic".to_owned());
        Finding {
            target: name.to_owned(),
            input: input.to_vec(),
            message,
        }
    })
}

/// Runs `body` on every seed and regression input, then on mutations of them
/// for `budget`, from `seed`. Stops at the first panic and returns it.
pub fn run(
    name: &str,
    body: fn(&[u8]),
    seeds: &[Vec<u8>],
    regressions: &[Vec<u8>],
    seed: u64,
    budget: Duration,
) -> Result<Stats, Finding> {
    let mut stats = Stats::default();
    for input in seeds.iter().chain(regressions) {
        run_one(name, body, input)?;
        stats.runs += 1;
    }
    let mut corpus: Vec<Vec<u8>> = seeds.iter().chain(regressions).cloned().collect();
    if corpus.is_empty() {
        corpus.push(Vec::new());
    }
    let mut rng = Rng::new(seed);
    let started = Instant::now();
    while started.elapsed() < budget {
        let mut input = rng.pick(&corpus).cloned().unwrap_or_default();
        for _ in 0..1 + rng.below(6) {
            mutate_once(&mut rng, &mut input, &corpus);
        }
        run_one(name, body, &input)?;
        stats.runs += 1;
        // Keep some mutants as material: deeper edits over time, bounded.
        if rng.below(16) == 0 && corpus.len() < 512 {
            corpus.push(input);
        }
    }
    Ok(stats)
}

/// `fuzz/seeds/<name>` and `fuzz/regressions/<name>` under `fuzz_dir`, then
/// [`run`]; a finding is written to `target/fuzz-findings/<name>-<n>` and
/// returned as an error message that says how to keep it.
pub fn run_target(
    fuzz_dir: &Path,
    name: &str,
    body: fn(&[u8]),
    seed: u64,
    budget: Duration,
) -> Result<Stats, String> {
    let seeds = read_dir(&fuzz_dir.join("seeds").join(name));
    let regressions = read_dir(&fuzz_dir.join("regressions").join(name));
    if seeds.is_empty() {
        return Err(format!("no seeds in fuzz/seeds/{name}"));
    }
    run(name, body, &seeds, &regressions, seed, budget).map_err(|finding| {
        let dir = fuzz_dir.join("..").join("target").join("fuzz-findings");
        let file = dir.join(format!("{name}-{:016x}", seed));
        let saved = std::fs::create_dir_all(&dir)
            .and_then(|()| std::fs::write(&file, &finding.input))
            .map(|()| file.display().to_string())
            .unwrap_or_else(|e| format!("(not saved: {e})"));
        format!(
            "fuzz target {name} panicked: {}\ninput ({} bytes) saved to {saved}; \
             keep it in fuzz/regressions/{name}/ once fixed\ninput: {:?}",
            finding.message,
            finding.input.len(),
            String::from_utf8_lossy(finding.input.get(..2000).unwrap_or(&finding.input)),
        )
    })
}
