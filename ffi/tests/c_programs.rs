//! Builds the C and C++ programs of the C API against the libraries cargo has
//! just built (`target/<profile>/libocer.a`, `libocer.so`) and runs them:
//!
//! - with `-Wall -Wextra -Werror -pedantic -fsanitize=address,undefined`
//!   against the static library (ASan, UBSan and LeakSanitizer);
//! - without sanitizers, against the shared library, under valgrind
//!   (`--leak-check=full`, any error or leak fails); valgrind may be absent on
//!   a developer's machine (the test says it skipped), never in CI;
//! - the header as C++ (`-std=c++11`), linked and run.
//!
//! The programs: `tests/c/api_test.c` (every entry point), the §4.1 decoder
//! `examples/c/decode_504.c`, the example of `README.md`, and the softphone
//! `examples/c/softphone_lite.c`, run against SIPp playing
//! `tests/sipp/softphone_lite.xml` (REGISTER 200, INVITE 100/101/504, the
//! report's SERVICE 200) over UDP, TCP and TLS (stunnel in front, the CA and
//! name given in `tls_ca_file` / `tls_server_name`), and against the
//! Lync-like registrar of `tests/peers/lync_registrar.py` (MS-SIPAE NTLM,
//! Python `pyspnego` the acceptor), at an address or found by DNS (dnsmasq
//! serving Lync's SRV records).

// A test harness: a failed step is a failed test.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::Duration;

use ocer_interop::dnsmasq::Dnsmasq;
use ocer_interop::lync_peer::{count, LyncPeer, LyncPeerConfig};
use ocer_interop::sipp::{Scenario, SippConfig, SippPeer};
use ocer_interop::stunnel::{Stunnel, StunnelConfig, TestCa};
use ocer_interop::Transport;

/// What a Rust staticlib needs on Linux (`--print native-static-libs`).
const NATIVE_LIBS: &[&str] = &[
    "-lgcc_s",
    "-lutil",
    "-lrt",
    "-lpthread",
    "-lm",
    "-ldl",
    "-lc",
];
const STRICT: &[&str] = &["-Wall", "-Wextra", "-Werror", "-pedantic", "-g"];
const SANITIZE: &[&str] = &[
    "-fsanitize=address,undefined",
    "-fno-sanitize-recover=all",
    "-fno-omit-frame-pointer",
];

fn ffi_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `target/<profile>`, with `libocer.a` and `libocer.so` up to date.
///
/// Cargo builds a package's library before its integration tests only when
/// they can link it (an rlib), and this one has none; so the test builds it,
/// once per test process, with the cargo that runs it, into the same target
/// directory (cargo holds no lock on it while tests run).
fn lib_dir() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            // This test runs as target/<profile dir>/deps/<name>-<hash>.
            let exe = std::env::current_exe().unwrap();
            let dir = exe.parent().and_then(Path::parent).unwrap().to_path_buf();
            let profile = match dir.file_name().and_then(|n| n.to_str()) {
                Some("debug") | None => "dev".to_owned(),
                Some(other) => other.to_owned(),
            };
            run(Command::new(env!("CARGO"))
                .args(["build", "--quiet", "--locked", "-p", "ocer-ffi", "--lib"])
                .args(["--profile", &profile])
                .current_dir(ffi_dir()));
            for lib in ["libocer.a", "libocer.so"] {
                assert!(
                    dir.join(lib).is_file(),
                    "{} was not built",
                    dir.join(lib).display()
                );
            }
            dir
        })
        .clone()
}

fn out_path(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("ocer-ffi-c");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn compiler(var: &str, default: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| default.to_owned())
}

fn run(command: &mut Command) -> Output {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    assert!(
        output.status.success(),
        "{command:?} failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Compiles and links `source` as C (`-std=c11` with sanitizers, `-std=c99`
/// for valgrind, so both standards are covered).
fn build_c(source: &Path, name: &str, sanitized: bool) -> PathBuf {
    let libs = lib_dir();
    let exe = out_path(name);
    let mut cc = Command::new(compiler("CC", "cc"));
    cc.args(STRICT)
        .arg("-I")
        .arg(ffi_dir().join("include"))
        .arg(source)
        .arg("-o")
        .arg(&exe);
    if sanitized {
        cc.arg("-std=c11")
            .args(SANITIZE)
            .arg(libs.join("libocer.a"));
    } else {
        cc.arg("-std=c99")
            .arg(libs.join("libocer.so"))
            .arg(format!("-Wl,-rpath,{}", libs.display()));
    }
    cc.args(NATIVE_LIBS);
    run(&mut cc);
    exe
}

/// Runs `exe` under the sanitizers expecting exit status 1 (a failure the
/// program reports, not a crash): its stdout and stderr.
fn run_sanitized_failing(exe: &Path, args: &[PathBuf]) -> (String, String) {
    let output = Command::new(exe)
        .args(args)
        .env("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
        .env("UBSAN_OPTIONS", "print_stacktrace=1")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {exe:?}: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(
        output.status.code(),
        Some(1),
        "--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    (stdout, stderr)
}

fn run_sanitized(exe: &Path, args: &[PathBuf]) -> String {
    let output = run(Command::new(exe)
        .args(args)
        .env("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
        .env("UBSAN_OPTIONS", "print_stacktrace=1"));
    String::from_utf8(output.stdout).unwrap()
}

/// Runs `exe` under valgrind; `None` when valgrind is absent outside CI.
fn run_valgrind(exe: &Path, args: &[PathBuf]) -> Option<String> {
    run_valgrind_with(exe, args, &[])
}

/// [`run_valgrind`] for a program speaking TLS: ring's AES-GCM tag is
/// computed in assembly memcheck cannot follow, so the two places the tag is
/// used are suppressed (`tests/valgrind/ring-gcm.supp` says why), and the
/// stack is kept deep enough to tell the TLS write from any other.
fn run_valgrind_tls(exe: &Path, args: &[PathBuf]) -> Option<String> {
    let suppressions = ffi_dir().join("tests/valgrind/ring-gcm.supp");
    run_valgrind_with(
        exe,
        args,
        &[
            format!("--suppressions={}", suppressions.display()),
            "--num-callers=50".to_owned(),
        ],
    )
}

fn run_valgrind_with(exe: &Path, args: &[PathBuf], options: &[String]) -> Option<String> {
    if Command::new("valgrind").arg("--version").output().is_err() {
        assert!(
            std::env::var_os("CI").is_none(),
            "valgrind is not installed (scripts/install-test-deps installs it)"
        );
        eprintln!("note: valgrind is not installed; skipping the valgrind run of {exe:?}");
        return None;
    }
    let output = run(Command::new("valgrind")
        .args([
            "-q",
            "--error-exitcode=99",
            "--leak-check=full",
            "--show-leak-kinds=definite,indirect,possible",
            "--errors-for-leak-kinds=definite,indirect,possible",
        ])
        .args(options)
        .arg(exe)
        .args(args));
    Some(String::from_utf8(output.stdout).unwrap())
}

fn api_test() -> PathBuf {
    ffi_dir().join("tests/c/api_test.c")
}

fn decoder() -> PathBuf {
    ffi_dir().join("examples/c/decode_504.c")
}

/// The §4.1 messages, in the order the decoder takes them.
fn spec_trace() -> Vec<PathBuf> {
    let dir = ffi_dir().join("../sdk/tests/fixtures/ms-ocer-4.1");
    ["invite.sip", "100.sip", "101.sip", "504.sip"]
        .iter()
        .map(|f| dir.join(f))
        .collect()
}

fn assert_api_test_passed(stdout: &str) {
    let last = stdout.lines().last().unwrap_or_default();
    assert!(last.ends_with(" passed, 0 failed"), "{stdout}");
}

fn assert_decoded(stdout: &str) {
    for line in [
        "request   INVITE (Call-ID f5290007af32443f8a82daa76c934880, CSeq 1)",
        "final     504 Server time-out",
        "msdiag    1007 on final 504, reason \"Temporarily cannot route\"",
        "msdiag    12006 on provisional 101, reason \"Trying next hop\"",
        "shown     Operation was unsuccessful.",
        "info      The calling service did not respond. Wait and then try again. If the problem continues, contact your support team with this information.",
        "message   lync2010-sip-504-voice-call (en-US)",
    ] {
        assert!(stdout.lines().any(|l| l == line), "no line {line:?} in:\n{stdout}");
    }
}

#[test]
fn api_test_passes_under_sanitizers() {
    let exe = build_c(&api_test(), "api_test_asan", true);
    assert_api_test_passed(&run_sanitized(&exe, &[]));
}

#[test]
fn api_test_passes_under_valgrind() {
    let exe = build_c(&api_test(), "api_test_valgrind", false);
    if let Some(stdout) = run_valgrind(&exe, &[]) {
        assert_api_test_passed(&stdout);
    }
}

#[test]
fn decoder_prints_the_lync_2010_voice_string_under_sanitizers() {
    let exe = build_c(&decoder(), "decode_504_asan", true);
    let trace = spec_trace();
    assert_decoded(&run_sanitized(&exe, &trace));

    // The response given as the request: a failure, in the code's words.
    let output = Command::new(&exe)
        .env("ASAN_OPTIONS", "detect_leaks=1")
        .args([&trace[3], &trace[1]])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("request: the request lacks a usable From, To, Call-ID or CSeq"),
        "{stderr}"
    );
}

#[test]
fn decoder_runs_clean_under_valgrind() {
    let exe = build_c(&decoder(), "decode_504_valgrind", false);
    if let Some(stdout) = run_valgrind(&exe, &spec_trace()) {
        assert_decoded(&stdout);
    }
}

/// The example of README.md, as written there.
#[test]
fn readme_example_runs_under_sanitizers() {
    let readme = std::fs::read_to_string(ffi_dir().join("README.md")).unwrap();
    let section = readme
        .split_once("## A complete example")
        .map(|(_, rest)| rest)
        .unwrap();
    let code = section
        .split_once("```c\n")
        .and_then(|(_, rest)| rest.split_once("```"))
        .map(|(code, _)| code)
        .unwrap();
    let source = out_path("readme_example.c");
    std::fs::write(&source, code).unwrap();
    let exe = build_c(&source, "readme_example", true);
    let stdout = run_sanitized(&exe, &[]);
    assert!(stdout.contains("Operation was unsuccessful."), "{stdout}");
}

#[test]
fn header_is_cpp_clean() {
    let libs = lib_dir();
    let exe = out_path("header_check_cpp");
    run(Command::new(compiler("CXX", "c++"))
        .args(["-std=c++11"])
        .args(STRICT)
        .arg("-I")
        .arg(ffi_dir().join("include"))
        .arg(ffi_dir().join("tests/c/header_check.cpp"))
        .arg(libs.join("libocer.a"))
        .args(NATIVE_LIBS)
        .arg("-o")
        .arg(&exe));
    let output = run(&mut Command::new(&exe));
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "1003 User does not exist: User does not exist.\n"
    );
}

/// The build gives the shared library a SONAME and writes `ocer.pc`
/// (ffi/build.rs): a C program built with `pkg-config --cflags --libs ocer`
/// alone links and runs, and needs `libocer.so.0`.
#[test]
fn pkg_config_builds_a_program_against_the_soname() {
    let libs = lib_dir();
    let pkg_config = |args: &[&str]| {
        let output = run(Command::new("pkg-config")
            .args(args)
            .arg("ocer")
            .env("PKG_CONFIG_PATH", &libs));
        String::from_utf8(output.stdout).unwrap()
    };
    let flags = pkg_config(&["--cflags", "--libs"]);
    assert!(flags.contains("-locer"), "{flags}");
    assert_eq!(
        pkg_config(&["--modversion"]).trim(),
        env!("CARGO_PKG_VERSION")
    );
    assert!(
        pkg_config(&["--static", "--libs"]).contains("-lpthread"),
        "Libs.private"
    );
    let exe = out_path("decode_504_pkg_config");
    run(Command::new(compiler("CC", "cc"))
        .args(STRICT)
        .arg("-std=c99")
        .arg(ffi_dir().join("examples/c/decode_504.c"))
        .arg("-o")
        .arg(&exe)
        .args(flags.split_whitespace())
        .arg(format!("-Wl,-rpath,{}", libs.display())));
    let elf = run(Command::new("readelf").arg("-d").arg(&exe));
    let elf = String::from_utf8_lossy(&elf.stdout);
    assert!(
        elf.contains("[libocer.so.0]"),
        "NEEDED libocer.so.0:\n{elf}"
    );
    let output = Command::new(&exe).args(spec_trace()).output().unwrap();
    assert!(output.status.success(), "{output:?}");
    assert_decoded(&String::from_utf8_lossy(&output.stdout));
}

/// Every function the header declares is exercised by `api_test.c`.
#[test]
fn api_test_calls_every_function() {
    let header = std::fs::read_to_string(ffi_dir().join("include/ocer.h")).unwrap();
    let test = std::fs::read_to_string(api_test()).unwrap();
    let functions: Vec<&str> = header
        .lines()
        .filter(|l| !l.starts_with(' ') && !l.starts_with('#') && !l.starts_with('*'))
        .filter_map(|l| l.split_once('(').map(|(head, _)| head))
        .filter_map(|head| head.rsplit([' ', '*']).next())
        .filter(|name| name.starts_with("ocer_"))
        .collect();
    assert!(functions.len() > 50, "{functions:?}");
    let untested: Vec<&&str> = functions
        .iter()
        .filter(|f| !test.contains(&format!("{f}(")))
        .collect();
    assert!(
        untested.is_empty(),
        "not called by api_test.c: {untested:?}"
    );
}

fn softphone() -> PathBuf {
    ffi_dir().join("examples/c/softphone_lite.c")
}

/// SIPp for one run of the softphone: three SIPp calls (the REGISTER and its
/// unregistering, the INVITE, the report's SERVICE), then it exits.
fn softphone_server(transport: Transport) -> SippPeer {
    let scenario = Scenario::new("softphone_lite", include_str!("sipp/softphone_lite.xml"));
    SippPeer::start(&scenario, &SippConfig::new(transport, 3)).unwrap_or_else(|e| panic!("{e}"))
}

/// The softphone's arguments: SIPp's address and the transport.
fn softphone_args(peer: &SippPeer, transport: &str) -> Vec<PathBuf> {
    vec![
        PathBuf::from(peer.addr().to_string()),
        PathBuf::from(transport),
    ]
}

/// What the softphone printed, in order: the 504 with its ErrorId, the Lync
/// 2010 Voice string for it, the report sent, a clean end.
fn assert_softphone_ran(stdout: &str) {
    let expected = [
        "event registered",
        "event progress 101 Progress Report ms-diagnostics 12006",
        "event failed 504 Server time-out ms-diagnostics 1007",
        "shown     Operation was unsuccessful.",
        "info      The calling service did not respond. Wait and then try again. If the problem continues, contact your support team with this information.",
        "message   lync2010-sip-504-voice-call (cause 504)",
        "event report-sent",
        "event unregistered",
        "done",
    ];
    let lines: Vec<&str> = stdout.lines().collect();
    let mut at = 0;
    for line in expected {
        match lines[at..].iter().position(|l| *l == line) {
            Some(i) => at += i + 1,
            None => panic!("no line {line:?} (in order) in:\n{stdout}"),
        }
    }
    assert!(
        lines.iter().any(|l| l.starts_with("calling   ")),
        "{stdout}"
    );
}

/// SIPp saw every request through: its checks of the report passed too.
fn assert_sipp_done(peer: SippPeer) {
    let run = peer
        .wait(Duration::from_secs(20))
        .unwrap_or_else(|e| panic!("{e}"));
    run.into_success().unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn softphone_lite_against_sipp_over_udp_under_sanitizers() {
    let exe = build_c(&softphone(), "softphone_lite_asan", true);
    let peer = softphone_server(Transport::Udp);
    assert_softphone_ran(&run_sanitized(&exe, &softphone_args(&peer, "udp")));
    assert_sipp_done(peer);
}

#[test]
fn softphone_lite_against_sipp_over_tcp_under_valgrind() {
    let exe = build_c(&softphone(), "softphone_lite_valgrind", false);
    let peer = softphone_server(Transport::Tcp);
    if let Some(stdout) = run_valgrind(&exe, &softphone_args(&peer, "tcp")) {
        assert_softphone_ran(&stdout);
        assert_sipp_done(peer);
    }
}

/// `args` as the program's arguments.
fn argv(args: &[&str]) -> Vec<PathBuf> {
    args.iter().map(PathBuf::from).collect()
}

/// A test CA, its certificate in a PEM file named after the test (what
/// `--ca` / `tls_ca_file` reads).
fn test_ca(name: &str) -> (TestCa, PathBuf) {
    let ca = TestCa::generate().unwrap_or_else(|e| panic!("{e}"));
    let pem = out_path(&format!("{name}.ca.pem"));
    std::fs::write(&pem, ca.ca_cert_pem()).unwrap();
    (ca, pem)
}

fn stunnel_to(backend: std::net::SocketAddr, ca: &TestCa) -> Stunnel {
    Stunnel::start(backend, ca, &StunnelConfig::default()).unwrap_or_else(|e| panic!("{e}"))
}

/// Over TLS, the C API's `tls_ca_file` and `tls_server_name`: SIPp (TCP)
/// behind stunnel, whose certificate a test CA issued for `localhost` and
/// 127.0.0.1. The agent connects to 127.0.0.1 and expects `localhost`. The
/// same CA with a name the certificate lacks fails the sign-in as a
/// transport failure (Schannel's `SEC_E_CERT_UNKNOWN` to the user), and
/// without the CA file the system's roots do not know the test CA.
#[test]
fn softphone_lite_against_sipp_over_tls_under_sanitizers() {
    let exe = build_c(&softphone(), "softphone_lite_tls_asan", true);
    let (ca, pem) = test_ca("softphone_lite_tls_asan");
    let peer = softphone_server(Transport::Tcp);
    let stunnel = stunnel_to(peer.addr(), &ca);
    let server = stunnel.addr().to_string();
    let pem = pem.to_str().unwrap();

    for refused in [
        vec![
            server.as_str(),
            "tls",
            "--ca",
            pem,
            "--tls-name",
            "sip.contoso.com",
        ],
        vec![server.as_str(), "tls", "--tls-name", "localhost"],
    ] {
        let (stdout, stderr) = run_sanitized_failing(&exe, &argv(&refused));
        assert!(
            stderr.contains("register: the transport failed"),
            "{refused:?}\n{stdout}\n{stderr}"
        );
        assert!(
            stdout.contains("event registration-failed"),
            "{refused:?}\n{stdout}"
        );
    }
    let args = argv(&[&server, "tls", "--ca", pem, "--tls-name", "localhost"]);
    assert_softphone_ran(&run_sanitized(&exe, &args));
    assert_sipp_done(peer);
    drop(stunnel);
}

#[test]
fn softphone_lite_against_sipp_over_tls_under_valgrind() {
    let exe = build_c(&softphone(), "softphone_lite_tls_valgrind", false);
    let (ca, pem) = test_ca("softphone_lite_tls_valgrind");
    let peer = softphone_server(Transport::Tcp);
    let stunnel = stunnel_to(peer.addr(), &ca);
    let server = stunnel.addr().to_string();
    let args = argv(&[
        &server,
        "tls",
        "--ca",
        pem.to_str().unwrap(),
        "--tls-name",
        "localhost",
    ]);
    if let Some(stdout) = run_valgrind_tls(&exe, &args) {
        assert_softphone_ran(&stdout);
        assert_sipp_done(peer);
    }
    drop(stunnel);
}

/// The pyspnego registrar as alice of CONTOSO (password "secret"); it
/// checks a tampered copy and a replay of every signed request too.
fn lync_peer() -> LyncPeer {
    LyncPeer::start(&LyncPeerConfig::default()).unwrap_or_else(|e| panic!("{e}"))
}

/// The C softphone's arguments for the registrar over TCP, forcing NTLM as
/// `CONTOSO\alice` with `password`.
fn ntlm_over_tcp(peer: &LyncPeer, password: &str) -> Vec<PathBuf> {
    let server = peer.addr().to_string();
    argv(&[
        &server,
        "tcp",
        "--user",
        "CONTOSO\\alice",
        "--password",
        password,
        "--auth",
        "ntlm",
    ])
}

/// `OCER_AUTH_NTLM` with `user` `CONTOSO\alice`: the C softphone signs in
/// to the pyspnego registrar over TCP, its §4.1 call fails with the 504,
/// and the report goes out in a signed SERVICE.
#[test]
fn softphone_lite_signs_in_with_ntlm_to_the_lync_registrar_under_sanitizers() {
    let exe = build_c(&softphone(), "softphone_lite_ntlm_asan", true);
    let peer = lync_peer();
    let args = ntlm_over_tcp(&peer, "secret");
    assert_softphone_ran(&run_sanitized(&exe, &args));
    peer.assert_signed_in_with_ntlm();
}

/// A wrong password: the registrar's NTLM check fails, the REGISTER ends
/// with 401, and the user sees Lync 2010's sign-in string (not in MS-OCER,
/// which has no sign-in strings: locales/README.md, "Sign-in strings").
#[test]
fn softphone_lite_with_a_wrong_ntlm_password_fails_the_sign_in_under_sanitizers() {
    let exe = build_c(&softphone(), "softphone_lite_ntlm_wrong_asan", true);
    let peer = lync_peer();
    let args = ntlm_over_tcp(&peer, "wrong");
    let (stdout, stderr) = run_sanitized_failing(&exe, &args);
    assert!(
        stderr.contains("register: the server rejected the request"),
        "{stderr}"
    );
    assert!(stdout.contains("event registration-failed 401"), "{stdout}");
    assert!(
        stdout.contains("shown     Cannot sign in. You may have entered your sign-in address"),
        "{stdout}"
    );
    let v = peer.verdicts();
    assert_eq!(
        count(&v, r#""event": "authenticate", "ok": false"#),
        1,
        "{}",
        v.join("\n")
    );
}

/// No server: `ocer_ua_new` finds the pool by DNS from the AOR's domain,
/// asking dnsmasq (`dns_server`). `_sipinternaltls._tcp.contoso.com` names
/// `pool.contoso.com`, stunnel in front of the registrar; the certificate
/// is the test CA's for `localhost`, named by `tls_server_name`. Then NTLM
/// (`OCER_AUTH_AUTO`: the registrar offers NTLM and digest) over TLS.
#[test]
fn softphone_lite_discovers_the_pool_and_signs_in_with_ntlm_under_valgrind() {
    let exe = build_c(&softphone(), "softphone_lite_discovery_valgrind", false);
    let (ca, pem) = test_ca("softphone_lite_discovery_valgrind");
    let peer = lync_peer();
    let stunnel = stunnel_to(peer.addr(), &ca);
    let dns = Dnsmasq::lync_tls_pool(stunnel.addr().port()).unwrap_or_else(|e| panic!("{e}"));
    let dns_addr = dns.addr().to_string();
    let args = argv(&[
        "-",
        "udp",
        "--dns",
        &dns_addr,
        "--ca",
        pem.to_str().unwrap(),
        "--tls-name",
        "localhost",
        "--user",
        "CONTOSO\\alice",
        "--password",
        "secret",
    ]);
    if let Some(stdout) = run_valgrind_tls(&exe, &args) {
        assert_softphone_ran(&stdout);
        peer.assert_signed_in_with_ntlm();
    }
    drop(stunnel);
}

/// Discovery that finds nothing is `OCER_RESULT_UA_NOT_DISCOVERED`, with
/// every DNS question in the detail; nothing starts.
#[test]
fn softphone_lite_without_a_pool_in_dns_says_so_under_sanitizers() {
    let exe = build_c(&softphone(), "softphone_lite_undiscovered_asan", true);
    let dns = Dnsmasq::start(&["--host-record=unrelated.contoso.org,127.0.0.1"])
        .unwrap_or_else(|e| panic!("{e}"));
    let dns_addr = dns.addr().to_string();
    let (stdout, stderr) = run_sanitized_failing(&exe, &argv(&["-", "tcp", "--dns", &dns_addr]));
    assert!(
        stderr.contains("start: DNS discovery found no SIP server for the domain"),
        "{stderr}"
    );
    for asked in ["_sipinternaltls._tcp.contoso.com", "sip.contoso.com"] {
        assert!(stderr.contains(asked), "{asked}: {stderr}");
    }
    assert!(!stdout.contains("event"), "{stdout}");
}
