//! `softphone`: a SIP client for Lync / Skype for Business servers, built on
//! the `ocer` user agent, that shows MS-OCER client error reporting at work.
//!
//! With no arguments it starts an embedded demo server on loopback
//! (`demo_server.rs`) and walks through the spec's §4.1 flow (`demo.rs`):
//! registering (with a digest challenge), a call the server fails with 504
//! after a `101 Progress Report`, an instant message it refuses with 480, a
//! meeting it removes the user from, and the reportError documents the user
//! agent uploads. With `--server` it talks to a real server, one command at
//! a time (`session.rs`, exit code 0 or 1, `--json` events) or
//! interactively (`interactive.rs`). `cli.rs` has the usage; bad arguments
//! exit with 2.

use std::process::ExitCode;

mod cli;
mod demo;
mod demo_server;
mod interactive;
mod output;
mod session;

use cli::Invocation;
use output::{Output, Sink};

/// `--trace`: the user agent's SIP trace (`ocer::wire`, credentials masked)
/// on stderr, one block per message, inside its transaction's span.
fn install_wire_trace() {
    use tracing_subscriber::layer::SubscriberExt;
    let filter = tracing_subscriber::filter::Targets::new()
        .with_target(ocer::ua::wire::TARGET, tracing::Level::TRACE);
    let printer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .without_time()
        .with_target(false)
        .with_level(false);
    let subscriber = tracing_subscriber::registry().with(printer).with(filter);
    if tracing::subscriber::set_global_default(subscriber).is_err() {
        eprintln!("softphone: --trace: a tracing subscriber is already installed");
    }
}

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if cli::take_trace(&mut args) {
        install_wire_trace();
    }
    let invocation = match cli::parse(&args) {
        Ok(invocation) => invocation,
        Err(message) => {
            use std::io::Write as _;
            let _ = writeln!(
                std::io::stderr(),
                "softphone: {message}\nsee `softphone --help`"
            );
            return ExitCode::from(2);
        }
    };
    if let Invocation::Print(text) = &invocation {
        use std::io::Write as _;
        // A closed pipe (`softphone --help | head`) is not an error.
        let _ = std::io::stdout().write_all(text.as_bytes());
        return ExitCode::SUCCESS;
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("softphone: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(run(invocation))
}

async fn run(invocation: Invocation) -> ExitCode {
    match invocation {
        Invocation::Print(_) => ExitCode::SUCCESS,
        Invocation::Demo(args) => {
            let out = Output::new(Sink::Stdout, false);
            match demo::run(&args, out, demo_server::Pacing::DEMO).await {
                Ok(outcome) if outcome.ok() => ExitCode::SUCCESS,
                Ok(_) => ExitCode::FAILURE,
                Err(message) => {
                    eprintln!("softphone: {message}");
                    ExitCode::FAILURE
                }
            }
        }
        Invocation::Server(args) => {
            let out = Output::new(Sink::Stdout, args.json);
            let outcome = match &args.command {
                Some(command) => session::one_shot(&args, command, &out).await,
                None => interactive::run(&args, &out).await,
            };
            ExitCode::from(outcome.code())
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use ocer::display::{Action, Mode, StringSet};
    use ocer::ua::transport::TransportKind;
    use serde_json::Value;

    use super::*;
    use crate::cli::{Command, DemoArgs, ServerArgs};
    use crate::demo_server::{Account, DemoServer, Pacing};
    use crate::session::Outcome;

    /// No test waits longer than this for the softphone.
    const LIMIT: Duration = Duration::from_secs(60);

    fn capture(json: bool) -> (Output, Arc<Mutex<String>>) {
        let buffer = Arc::new(Mutex::new(String::new()));
        (Output::new(Sink::Capture(buffer.clone()), json), buffer)
    }

    fn text(buffer: &Arc<Mutex<String>>) -> String {
        buffer.lock().unwrap().clone()
    }

    async fn demo(transport: TransportKind) -> (demo::Outcome, String) {
        let (out, buffer) = capture(false);
        let args = DemoArgs {
            transport,
            ..DemoArgs::default()
        };
        let outcome = tokio::time::timeout(LIMIT, demo::run(&args, out, Pacing::FAST))
            .await
            .expect("the demo finishes")
            .expect("the demo starts");
        (outcome, text(&buffer))
    }

    fn assert_demo(outcome: &demo::Outcome, output: &str) {
        assert!(outcome.ok(), "{outcome:?}\n{output}");
        // What the Lync 2010 user sees for the 504 of a voice call, and for
        // the 480 of an instant message.
        for expected in [
            "<< 401 Unauthorized",
            "WWW-Authenticate: Digest realm=\"contoso.com\"",
            "<< 101 Progress Report",
            "ms-diagnostics: 12006;reason=\"Trying next hop\"",
            "<< 504 Server time-out",
            "Operation was unsuccessful.",
            "The calling service did not respond.",
            "lync2010-sip-504-voice-call",
            "<< 480 Temporarily Unavailable",
            "Warning: 391 server.contoso.com",
            "This message was not delivered to",
            "ms-diagnostics-public: 3118",
            "You were removed from the meeting.",
            "application/msrtc-reporterror+xml",
        ] {
            assert!(
                output.contains(expected),
                "missing {expected:?} in\n{output}"
            );
        }
        // The SERVICE body names the INVITE's Call-ID, with the 504 and both
        // diagnostics.
        let call_id = outcome
            .invite_call_id
            .as_deref()
            .expect("the INVITE failed");
        let service = output
            .split(">> SERVICE")
            .skip(1)
            .find(|s| s.contains(&format!("callId=\"{call_id}\"")))
            .unwrap_or_else(|| panic!("no SERVICE body with callId {call_id} in\n{output}"));
        let body = service.split("\n  <<").next().unwrap();
        assert!(body.contains("responseCode=\"504\""), "{body}");
        assert!(body.contains("requestType=\"INVITE\""), "{body}");
        assert!(body.contains("<diagHeader>1007;"), "{body}");
        assert!(body.contains("<diagHeader>12006;"), "{body}");
        let report = outcome
            .reports
            .iter()
            .find(|r| r.call_id == call_id)
            .unwrap();
        assert_eq!(report.response_code, 504);
        // Nothing the SDK sent carries ms-diagnostics: the only ones in the
        // output are the server's (`<<`) and inside report bodies.
        for message in output.split("\n  >> ").skip(1) {
            let head = message.split("\n  <<").next().unwrap();
            assert!(
                !head
                    .lines()
                    .any(|l| l.trim_start().starts_with("ms-diagnostics")),
                "a request carried ms-diagnostics:\n{head}"
            );
        }
    }

    #[tokio::test]
    async fn the_demo_runs_end_to_end_over_tcp() {
        let (outcome, output) = demo(TransportKind::Tcp).await;
        assert_demo(&outcome, &output);
    }

    #[tokio::test]
    async fn the_demo_runs_end_to_end_over_udp() {
        let (outcome, output) = demo(TransportKind::Udp).await;
        assert_demo(&outcome, &output);
    }

    #[tokio::test]
    async fn the_demo_speaks_communicator_2007_when_asked() {
        let (out, buffer) = capture(false);
        let args = DemoArgs {
            set: StringSet::Communicator2007,
            ..DemoArgs::default()
        };
        let outcome = tokio::time::timeout(LIMIT, demo::run(&args, out, Pacing::FAST))
            .await
            .unwrap()
            .unwrap();
        let output = text(&buffer);
        assert!(outcome.ok(), "{output}");
        // Communicator's wording (MS-OCER Appendix E), and its message ids.
        assert!(
            output.contains("[user sees] Call was unsuccessful."),
            "{output}"
        );
        // 10.3.1 lists the 504's ErrorId 1007 as not handled: the generic
        // string, with 1007 as its error id.
        assert!(
            output.contains("(oc2007-generic-voice-call, en-US"),
            "{output}"
        );
        assert!(output.contains("Removed from conference."), "{output}");
        assert!(!output.contains("lync2010-"), "{output}");
    }

    #[tokio::test]
    async fn the_demo_speaks_the_en_xa_pseudo_locale_when_asked() {
        let (out, buffer) = capture(false);
        let Ok(cli::Invocation::Demo(args)) =
            cli::parse(&["--locale".to_owned(), "en-XA".to_owned()])
        else {
            panic!("--locale alone is the demo");
        };
        let outcome = tokio::time::timeout(LIMIT, demo::run(&args, out, Pacing::FAST))
            .await
            .unwrap()
            .unwrap();
        let output = text(&buffer);
        assert!(outcome.ok(), "{output}");
        // Every string the user sees is the pseudo-locale's: none in English.
        assert!(
            output.contains("[user sees] [ǾǾƥḗḗřȧȧŧīīǿǿƞ ẇȧȧş ŭŭƞşŭŭƈƈḗḗşşƒŭŭŀ.]"),
            "{output}"
        );
        assert!(
            output.contains("(lync2010-sip-504-voice-call, en-XA"),
            "{output}"
        );
        assert!(!output.contains("Operation was unsuccessful."), "{output}");
        assert!(
            !output.contains("You were removed from the meeting."),
            "{output}"
        );
        for line in output
            .lines()
            .filter(|l| l.trim_start().starts_with("[user sees]"))
        {
            assert!(
                line.contains("[user sees] ["),
                "a user string that did not go through Fluent: {line}"
            );
        }
    }

    fn server_args(server: &DemoServer, command: Command) -> ServerArgs {
        ServerArgs {
            server: Some(server.tcp_addr().to_string()),
            transport: TransportKind::Tcp,
            auth: ocer::ua::AuthMode::Auto,
            user: "sip:alice@contoso.com".into(),
            auth_user: None,
            password: Some(Account::default().password),
            tls_ca: None,
            tls_name: None,
            dns_server: None,
            set: StringSet::Lync2010,
            locales: Vec::new(),
            locales_dir: None,
            report: true,
            json: true,
            command: Some(command),
        }
    }

    /// Runs one command against a fresh demo server; the outcome and the
    /// JSON lines, each parsed.
    async fn one_shot(
        command: Command,
        edit: impl FnOnce(&mut ServerArgs),
    ) -> (Outcome, Vec<Value>) {
        let (server, _wire) = DemoServer::start(Account::default(), Pacing::FAST)
            .await
            .unwrap();
        let mut args = server_args(&server, command);
        edit(&mut args);
        let outcome = run_json(&args).await;
        server.shutdown().await;
        outcome
    }

    /// Runs `args`' one-shot command with JSON output: the outcome and the
    /// JSON lines, each parsed.
    pub(super) async fn run_json(args: &ServerArgs) -> (Outcome, Vec<Value>) {
        let (out, buffer) = capture(true);
        let command = args.command.clone().unwrap();
        let outcome = tokio::time::timeout(LIMIT, session::one_shot(args, &command, &out))
            .await
            .expect("the command finishes");
        let lines = text(&buffer)
            .lines()
            .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
            .collect();
        (outcome, lines)
    }

    pub(super) fn events<'a>(lines: &'a [Value], name: &str) -> Vec<&'a Value> {
        lines.iter().filter(|l| l["event"] == name).collect()
    }

    fn call(target: &str) -> Command {
        Command::Call {
            target: target.into(),
            mode: Mode::Voice,
            action: Action::Call,
            hold: Duration::ZERO,
        }
    }

    #[tokio::test]
    async fn one_shot_call_that_fails_exits_1_with_json_events() {
        let (outcome, lines) = one_shot(call("sip:bob@contoso.com"), |_| {}).await;
        assert_eq!(outcome, Outcome::Failed);
        assert_eq!(outcome.code(), 1);
        assert_eq!(lines.first().unwrap()["event"], "command");
        let done = lines.last().unwrap();
        assert_eq!(
            (done["event"].as_str(), done["exitCode"].as_u64()),
            (Some("done"), Some(1))
        );

        let registered = events(&lines, "registration");
        assert!(
            registered.iter().any(|r| r["state"] == "registered"),
            "{lines:?}"
        );
        let progress = events(&lines, "progress");
        let report = progress
            .iter()
            .find(|p| p["status"] == 101)
            .expect("the 101");
        assert_eq!(report["diagnostics"][0]["errorId"], 12006);
        assert_eq!(report["diagnostics"][0]["reason"], "Trying next hop");

        let failed = events(&lines, "failed");
        assert_eq!(failed.len(), 1, "{lines:?}");
        let failure = &failed[0]["failure"];
        assert_eq!(
            (failed[0]["mode"].as_str(), failed[0]["action"].as_str()),
            (Some("voice"), Some("call"))
        );
        assert_eq!(failure["kind"], "rejected");
        assert_eq!(failure["status"], 504);
        assert_eq!(failure["display"]["code"], "SipStatus");
        assert_eq!(failure["display"]["subcode"], "504");
        assert_eq!(failure["display"]["message"], "Operation was unsuccessful.");
        let call_id = failed[0]["callId"].as_str().unwrap();
        assert!(events(&lines, "report-queued")
            .iter()
            .any(|r| r["callId"] == call_id));
        assert_eq!(events(&lines, "report-sent").len(), 1, "{lines:?}");
    }

    #[tokio::test]
    async fn one_shot_call_that_is_answered_exits_0() {
        let (outcome, lines) = one_shot(call("sip:echo@contoso.com"), |_| {}).await;
        assert_eq!(outcome, Outcome::Succeeded, "{lines:?}");
        assert_eq!(events(&lines, "established").len(), 1);
        assert!(events(&lines, "failed").is_empty());
        assert_eq!(lines.last().unwrap()["exitCode"], 0);
    }

    #[tokio::test]
    async fn one_shot_messages() {
        let im = |to: &str| Command::Im {
            target: to.into(),
            text: "hello".into(),
        };
        let (outcome, lines) = one_shot(im("sip:bob@contoso.com"), |_| {}).await;
        assert_eq!(outcome, Outcome::Failed);
        let failed = events(&lines, "failed");
        assert_eq!(failed[0]["failure"]["status"], 480);
        assert_eq!(failed[0]["mode"], "im");

        let (outcome, lines) = one_shot(im("sip:echo@contoso.com"), |_| {}).await;
        assert_eq!(outcome, Outcome::Succeeded, "{lines:?}");

        // Without reporting, the failure sends no report.
        let (outcome, lines) = one_shot(im("sip:bob@contoso.com"), |a| a.report = false).await;
        assert_eq!(outcome, Outcome::Failed);
        assert!(events(&lines, "report-queued").is_empty(), "{lines:?}");
    }

    #[tokio::test]
    async fn one_shot_with_a_wrong_password_fails_to_register() {
        let (outcome, lines) =
            one_shot(Command::Register, |a| a.password = Some("wrong".into())).await;
        assert_eq!(outcome, Outcome::Failed);
        let failed = events(&lines, "registration");
        assert!(failed.iter().any(|r| r["state"] == "failed"), "{lines:?}");

        let (outcome, _) = one_shot(Command::Register, |_| {}).await;
        assert_eq!(outcome, Outcome::Succeeded);
    }

    #[tokio::test]
    async fn one_shot_with_an_unreadable_ca_file_is_a_bad_argument() {
        let (outcome, lines) = one_shot(Command::Register, |a| {
            a.transport = TransportKind::Tls;
            a.tls_ca = Some("/nonexistent/ca.pem".into());
        })
        .await;
        assert_eq!(outcome, Outcome::BadArgument);
        assert_eq!(outcome.code(), 2);
        assert_eq!(lines[0]["event"], "error");
        assert!(lines[0]["message"].as_str().unwrap().contains("--tls-ca"));
    }

    #[tokio::test]
    async fn one_shot_text_output_shows_what_the_user_sees() {
        let (server, _wire) = DemoServer::start(Account::default(), Pacing::FAST)
            .await
            .unwrap();
        let mut args = server_args(&server, call("sip:bob@contoso.com"));
        args.json = false;
        let (out, buffer) = capture(false);
        let command = args.command.clone().unwrap();
        let outcome = tokio::time::timeout(LIMIT, session::one_shot(&args, &command, &out))
            .await
            .unwrap();
        server.shutdown().await;
        let output = text(&buffer);
        assert_eq!(outcome, Outcome::Failed);
        assert!(
            output.contains("[user sees] Operation was unsuccessful."),
            "{output}"
        );
        assert!(
            output.contains("ms-diagnostics: 12006 \"Trying next hop\""),
            "{output}"
        );
        assert!(output.ends_with("call: failed\n"), "{output}");
    }

    #[tokio::test]
    async fn interactive_commands_from_a_script() {
        let (server, _wire) = DemoServer::start(Account::default(), Pacing::FAST)
            .await
            .unwrap();
        let mut args = server_args(&server, Command::Register);
        args.command = None;
        let (out, buffer) = capture(true);
        let script: &[u8] =
            b"register\n\ncall sip:bob@contoso.com\nim sip:bob@contoso.com hi there\nbogus\n";
        let outcome = tokio::time::timeout(
            LIMIT,
            interactive::run_with(&args, &out, script, interactive::QUIT_WAIT),
        )
        .await
        .expect("the script finishes");
        server.shutdown().await;
        assert_eq!(outcome, Outcome::Succeeded);
        let lines: Vec<Value> = text(&buffer)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let failed = events(&lines, "failed");
        let modes: Vec<_> = failed.iter().map(|f| f["mode"].as_str().unwrap()).collect();
        assert!(
            modes.contains(&"voice") && modes.contains(&"im"),
            "{lines:?}"
        );
        let errors = events(&lines, "error");
        assert!(errors
            .iter()
            .any(|e| e["message"].as_str().unwrap().contains("unknown command")));
        assert!(events(&lines, "registration")
            .iter()
            .any(|r| r["state"] == "unregistered"));
    }

    /// Runs `script` in interactive mode against a demo server paced by
    /// `pacing`; the text output.
    async fn interactive_text(
        script: &'static [u8],
        pacing: Pacing,
        quit_wait: Duration,
    ) -> String {
        let (server, _wire) = DemoServer::start(Account::default(), pacing).await.unwrap();
        let mut args = server_args(&server, Command::Register);
        args.command = None;
        args.json = false;
        let (out, buffer) = capture(false);
        let outcome =
            tokio::time::timeout(LIMIT, interactive::run_with(&args, &out, script, quit_wait))
                .await
                .expect("the script finishes");
        server.shutdown().await;
        assert_eq!(outcome, Outcome::Succeeded);
        text(&buffer)
    }

    #[tokio::test]
    async fn interactive_mode_signs_in_first_so_a_first_call_is_reported() {
        let output = interactive_text(
            b"call sip:bob@contoso.com\n",
            Pacing::FAST,
            interactive::QUIT_WAIT,
        )
        .await;
        let registered = output
            .find("registered")
            .unwrap_or_else(|| panic!("{output}"));
        let call = output
            .find("call sip:bob@contoso.com")
            .unwrap_or_else(|| panic!("{output}"));
        assert!(registered < call, "sign-in comes first:\n{output}");
        assert!(
            output.contains("[user sees] Operation was unsuccessful."),
            "{output}"
        );
        assert!(
            output.contains("report") && output.contains("sent"),
            "the failure was reported:\n{output}"
        );
    }

    #[tokio::test]
    async fn interactive_commands_run_in_order() {
        let output = interactive_text(
            b"im sip:echo@contoso.com first\nim sip:bob@contoso.com second\nim sip:echo@contoso.com third\n",
            Pacing::FAST,
            interactive::QUIT_WAIT,
        )
        .await;
        let delivered: Vec<usize> = output
            .match_indices("[im]        delivered")
            .map(|(i, _)| i)
            .collect();
        let failed = output
            .find("This message was not delivered")
            .unwrap_or_else(|| panic!("{output}"));
        assert_eq!(delivered.len(), 2, "{output}");
        assert!(
            delivered[0] < failed && failed < delivered[1],
            "in order:\n{output}"
        );
    }

    #[tokio::test]
    async fn quit_waits_bounded_and_says_what_it_cancelled() {
        // bob's call rings and is never answered within the test.
        let ringing = Pacing {
            progress: Duration::from_millis(20),
            final_response: Duration::from_secs(120),
            removal: Duration::from_secs(120),
        };
        let output = interactive_text(
            b"call sip:bob@contoso.com\nim sip:echo@contoso.com later\nquit\n",
            ringing,
            Duration::from_millis(800),
        )
        .await;
        assert!(
            output.contains("cancelled call sip:bob@contoso.com (still running 0.8 s after quit)"),
            "{output}"
        );
        assert!(output.contains("did not run: im"), "{output}");
        assert!(!output.contains("[im]        delivered"), "{output}");
    }
}

/// The softphone against a Lync-like pool someone else wrote: the pyspnego
/// registrar (NTLM under MS-SIPAE, `tests/peers/lync_registrar.py`) behind
/// stunnel, found by DNS (dnsmasq serving `_sipinternaltls._tcp`).
#[cfg(test)]
mod pool_tests {
    use std::time::Duration;

    use ocer::display::{Action, Mode, StringSet};
    use ocer::ua::transport::TransportKind;
    use ocer::ua::AuthMode;
    use ocer_interop::dnsmasq::Dnsmasq;
    use ocer_interop::lync_peer::{count, LyncPeer, LyncPeerConfig};
    use ocer_interop::stunnel::{Stunnel, StunnelConfig, TestCa};
    use serde_json::Value;

    use super::tests::{events, run_json};
    use crate::cli::{Command, ServerArgs};
    use crate::session::Outcome;

    /// The pool: the registrar, stunnel in front with a test CA's
    /// certificate for `localhost`, and dnsmasq naming it as contoso.com's
    /// `_sipinternaltls._tcp` pool. Dropping it stops all three.
    struct Pool {
        peer: LyncPeer,
        _stunnel: Stunnel,
        dns: Dnsmasq,
        _dir: tempfile::TempDir,
        ca_file: std::path::PathBuf,
    }

    fn pool() -> Pool {
        let peer = LyncPeer::start(&LyncPeerConfig::default()).unwrap_or_else(|e| panic!("{e}"));
        let ca = TestCa::generate().unwrap_or_else(|e| panic!("{e}"));
        let dir = tempfile::tempdir().unwrap();
        let ca_file = dir.path().join("ca.pem");
        std::fs::write(&ca_file, ca.ca_cert_pem()).unwrap();
        let stunnel = Stunnel::start(peer.addr(), &ca, &StunnelConfig::default())
            .unwrap_or_else(|e| panic!("{e}"));
        let dns = Dnsmasq::lync_tls_pool(stunnel.addr().port()).unwrap_or_else(|e| panic!("{e}"));
        Pool {
            peer,
            _stunnel: stunnel,
            dns,
            _dir: dir,
            ca_file,
        }
    }

    /// `softphone --user sip:alice@contoso.com --auth-user CONTOSO\alice
    /// --password … --tls-ca ca.pem --tls-name localhost --dns-server … --json
    /// COMMAND`: no `--server`, so the pool is discovered.
    async fn run(pool: &Pool, password: &str, command: Command) -> (Outcome, Vec<Value>) {
        let args = ServerArgs {
            server: None,
            transport: TransportKind::Tls,
            auth: AuthMode::Auto,
            user: "sip:alice@contoso.com".into(),
            auth_user: Some("CONTOSO\\alice".into()),
            password: Some(password.into()),
            tls_ca: Some(pool.ca_file.clone()),
            tls_name: Some("localhost".into()),
            dns_server: Some(pool.dns.addr()),
            set: StringSet::Lync2010,
            locales: Vec::new(),
            locales_dir: None,
            report: true,
            json: true,
            command: Some(command),
        };
        run_json(&args).await
    }

    /// Issue 15's "done when": signed in over TLS to a pool found by SRV, the
    /// §4.1 call fails with the registrar's 504, and its report is accepted
    /// in a SERVICE whose signature the registrar verified.
    #[tokio::test]
    async fn discovers_the_pool_signs_in_with_ntlm_and_its_report_is_accepted() {
        let pool = pool();
        let call = Command::Call {
            target: "sip:bob@contoso.com".into(),
            mode: Mode::Voice,
            action: Action::Call,
            hold: Duration::ZERO,
        };
        let (outcome, lines) = run(&pool, "secret", call).await;
        assert_eq!(outcome, Outcome::Failed, "{lines:#?}");
        assert!(
            events(&lines, "registration")
                .iter()
                .any(|r| r["state"] == "registered"),
            "{lines:#?}"
        );
        let failed = events(&lines, "failed");
        assert_eq!(failed.len(), 1, "{lines:#?}");
        assert_eq!(failed[0]["failure"]["status"], 504, "{lines:#?}");
        assert_eq!(events(&lines, "report-sent").len(), 1, "{lines:#?}");
        pool.peer.assert_signed_in_with_ntlm();
    }

    /// A wrong password: the registrar's NTLM check fails, the REGISTER ends
    /// with 401, and the user sees Lync 2010's sign-in string.
    #[tokio::test]
    async fn a_wrong_password_shows_lync_2010_s_sign_in_string() {
        let pool = pool();
        let (outcome, lines) = run(&pool, "wrong", Command::Register).await;
        assert_eq!(outcome, Outcome::Failed, "{lines:#?}");
        let failed: Vec<_> = events(&lines, "registration")
            .into_iter()
            .filter(|r| r["state"] == "failed")
            .collect();
        assert_eq!(failed.len(), 1, "{lines:#?}");
        let display = &failed[0]["failure"]["display"];
        assert_eq!(
            display["debugInfo"]["messageId"], "lync2010-sip-401-other-sign-in",
            "{lines:#?}"
        );
        assert!(
            display["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("Cannot sign in. You may have entered")),
            "{lines:#?}"
        );
        let v = pool.peer.verdicts();
        assert_eq!(
            count(&v, r#""event": "authenticate", "ok": false"#),
            1,
            "{}",
            v.join("\n")
        );
    }
}
