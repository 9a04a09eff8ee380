//! The demo: the softphone against its embedded server (`demo_server.rs`),
//! step by step, printing the messages on the wire (`>>` to the server,
//! `<<` from it), the user agent's events, and what a Lync 2010 (or
//! Communicator 2007) user would see.

use std::future::Future;
use std::time::Duration;

use ocer::display::{Action, Mode, StringSet};
use ocer::report::ErrorReport;
use ocer::sip::transaction::cseq_of;
use ocer::sip::Name;
use ocer::sip::RequestIdentity;
use ocer::ua::transport::{Target, TransportKind};
use ocer::ua::{RegistrationState, UaEvent, UaEvents, UserAgent};
use tokio::time::Instant;

use crate::cli::DemoArgs;
use crate::demo_server::{Account, DemoServer, Pacing, Wire, WireLog};
use crate::output::{report_of, Output};
use crate::session::sdp_offer;

/// The user of the demo.
const AOR: &str = "sip:alice@contoso.com";
/// The person she calls and writes to: the server fails both.
const BOB: &str = "sip:bob@contoso.com";
/// The meeting she joins: the server removes her from it.
const MEETING: &str = "sip:bob@contoso.com;gruu;opaque=app:conf:focus:id:7QH3X2PR";
/// The instant message.
const TEXT: &str = "Are you free for lunch?";

/// The longest any one step may take before the demo gives up on it.
const STEP_LIMIT: Duration = Duration::from_secs(20);

/// What the demo saw, for its exit code and for tests.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    /// The Call-ID of the INVITE the server failed with 504.
    pub(crate) invite_call_id: Option<String>,
    /// The Call-ID of the MESSAGE the server refused with 480.
    pub(crate) message_call_id: Option<String>,
    /// The reportError documents the server received, in order.
    pub(crate) reports: Vec<ErrorReport<'static>>,
    /// Steps that did not go as scripted.
    pub(crate) problems: Vec<String>,
}

impl Outcome {
    /// Whether every step went as scripted and the server received a
    /// report for both failures.
    pub(crate) fn ok(&self) -> bool {
        let reported = |call_id: &Option<String>, status: u32| {
            call_id.as_ref().is_some_and(|id| {
                self.reports
                    .iter()
                    .any(|r| r.call_id == id.as_str() && r.response_code == status)
            })
        };
        self.problems.is_empty()
            && reported(&self.invite_call_id, 504)
            && reported(&self.message_call_id, 480)
    }
}

/// Everything printed so far, for the steps' end conditions.
#[derive(Default)]
struct Seen {
    events: Vec<UaEvent>,
    wire: Vec<Wire>,
}

impl Seen {
    /// Whether the report for the request `call_id` was sent, dropped, or
    /// reporting was suspended after it was queued.
    fn report_settled(&self, call_id: &str) -> bool {
        let mut watch = crate::session::ReportWatch::new(call_id);
        self.events.iter().any(|e| watch.settled_by(e))
    }

    fn failed_call_id(&self, mode: Mode) -> Option<String> {
        self.events.iter().find_map(|e| match e {
            UaEvent::Failed {
                call_id, mode: m, ..
            } if *m == mode => Some(call_id.clone()),
            _ => None,
        })
    }

    /// Whether the server has received a final response to its own
    /// request `method` in the dialog `call_id`.
    fn server_answered(&self, method: &str, call_id: &str) -> bool {
        self.wire.iter().any(|w| {
            w.inbound
                && w.message.status().is_some_and(|s| s.as_u16() >= 200)
                && cseq_of(&w.message).is_some_and(|(_, m)| m == method)
                && w.message.header_value(&Name::CALL_ID).map(str::trim) == Some(call_id)
        })
    }

    /// Whether the server has received `method` in the dialog or
    /// transaction `call_id`.
    fn server_got(&self, method: &str, call_id: &str) -> bool {
        self.wire.iter().any(|w| {
            w.inbound
                && w.message.method().map(ToString::to_string).as_deref() == Some(method)
                && RequestIdentity::from_request(&w.message).is_ok_and(|id| id.call_id == call_id)
        })
    }
}

/// The walkthrough: the user agent, the server's wire log, the printer.
struct Demo {
    events: UaEvents,
    wire: WireLog,
    out: Output,
    seen: Seen,
    outcome: Outcome,
}

impl Demo {
    /// Runs `operation` while printing the wire log (first, so a message
    /// shows before what the user agent made of it) and the events, until
    /// the operation is over and `settled` holds; at most [`STEP_LIMIT`].
    async fn step<T>(
        &mut self,
        name: &str,
        operation: impl Future<Output = T>,
        settled: impl Fn(&Seen) -> bool,
    ) -> Option<T> {
        tokio::pin!(operation);
        let deadline = Instant::now() + STEP_LIMIT;
        let mut result = None;
        let mut events_open = true;
        while result.is_none() || !settled(&self.seen) {
            tokio::select! {
                biased;
                Some(wire) = self.wire.recv() => {
                    self.out.wire(&wire);
                    self.seen.wire.push(wire);
                }
                event = self.events.recv(), if events_open => match event {
                    Some(event) => {
                        self.out.event(&event);
                        self.seen.events.push(event);
                    }
                    None => events_open = false,
                },
                done = &mut operation, if result.is_none() => result = Some(done),
                () = tokio::time::sleep_until(deadline) => {
                    let problem = format!("{name}: not over after {} s", STEP_LIMIT.as_secs());
                    self.out.say(format!("  (gave up: {problem})"));
                    self.outcome.problems.push(problem);
                    break;
                }
            }
        }
        result
    }

    /// Prints what is already in the logs, waiting at most `quiet` for more.
    async fn drain(&mut self, quiet: Duration) {
        loop {
            tokio::select! {
                biased;
                Some(wire) = self.wire.recv() => {
                    self.out.wire(&wire);
                    self.seen.wire.push(wire);
                }
                Some(event) = self.events.recv() => {
                    self.out.event(&event);
                    self.seen.events.push(event);
                }
                () = tokio::time::sleep(quiet) => return,
            }
        }
    }

    fn heading(&self, text: &str) {
        self.out.say(format!("\n== {text}"));
    }

    fn problem(&mut self, text: String) {
        self.out.say(format!("  (unexpected: {text})"));
        self.outcome.problems.push(text);
    }
}

/// Runs the demo against a fresh embedded server; prints to `out`.
pub(crate) async fn run(args: &DemoArgs, out: Output, pacing: Pacing) -> Result<Outcome, String> {
    let started = Instant::now();
    let account = Account::default();
    let (server, wire) = DemoServer::start(account.clone(), pacing)
        .await
        .map_err(|e| format!("the demo server did not start: {e}"))?;
    let addr = match args.transport {
        TransportKind::Udp => server.udp_addr(),
        _ => server.tcp_addr(),
    };
    out.say(format!(
        "ocer softphone demo: an embedded Lync-style server on {addr} ({}), scripted like\n\
         MS-OCER §4.1. You are {AOR} (digest user \"{}\", password \"{}\");\n\
         `>>` is a message to the server, `<<` one from it; [user sees] is what\n\
         {} shows.",
        args.transport,
        account.user,
        account.password,
        match args.set {
            StringSet::Communicator2007 => "Office Communicator 2007",
            _ => "Lync 2010",
        }
    ));
    let mut builder = UserAgent::builder(AOR, Target::new(args.transport, addr))
        .credentials(account.user.clone(), account.password.clone())
        .display_name("Alice")
        .string_set(args.set);
    if !args.locales.is_empty() {
        builder = builder.locales(args.locales.clone());
    }
    let localizer = ocer_examples::locales::localizer(
        args.locales_dir.as_deref(),
        ocer::display::Isolation::Off,
    )?;
    builder = builder.localizer(std::sync::Arc::new(localizer));
    let (ua, events) = builder
        .build()
        .await
        .map_err(|e| format!("the user agent did not start: {e}"))?;
    let mut demo = Demo {
        events,
        wire,
        out,
        seen: Seen::default(),
        outcome: Outcome::default(),
    };

    demo.heading("1. Sign in: REGISTER, answered with a digest challenge, then 200");
    let registered = demo
        .step("register", ua.register(), |seen| {
            seen.events.iter().any(|e| {
                matches!(
                    e,
                    UaEvent::Registration(RegistrationState::Registered { .. })
                )
            })
        })
        .await;
    if let Some(Err(failure)) = registered {
        demo.problem(format!("registration failed: {failure}"));
    }

    demo.heading(&format!(
        "2. Call {BOB}: 100, 101 Progress Report (12006), 504 (1007)"
    ));
    let called = demo
        .step(
            "call",
            ua.call(BOB, Some(sdp_offer()), Mode::Voice, Action::Call),
            |seen| {
                seen.failed_call_id(Mode::Voice)
                    .is_some_and(|id| seen.server_got("ACK", &id) && seen.report_settled(&id))
            },
        )
        .await;
    demo.outcome.invite_call_id = demo.seen.failed_call_id(Mode::Voice);
    if let Some(Ok(call)) = called {
        demo.problem("the call was answered".into());
        let _ = call.hangup().await;
    }

    demo.heading(&format!(
        "3. Instant message to {BOB}: 480 with Warning 391"
    ));
    let sent = demo
        .step("im", ua.send_message(BOB, TEXT), |seen| {
            seen.failed_call_id(Mode::Im)
                .is_some_and(|id| seen.report_settled(&id))
        })
        .await;
    demo.outcome.message_call_id = demo.seen.failed_call_id(Mode::Im);
    if let Some(Ok(())) = sent {
        demo.problem("the message was delivered".into());
    }

    demo.heading("4. Join a meeting: 200, then the server's BYE with 3118");
    let joined = demo
        .step(
            "join",
            ua.join(MEETING, Some(sdp_offer()), Action::Join),
            |seen| {
                seen.events.iter().any(|e| match e {
                    UaEvent::Ended {
                        call_id,
                        by_server: true,
                        ..
                    } => seen.server_answered("BYE", call_id),
                    _ => false,
                })
            },
        )
        .await;
    if let Some(Err(failure)) = joined {
        demo.problem(format!("the join failed: {failure}"));
    }

    demo.heading("5. Sign out: hang up what is up, unregister, stop");
    demo.step("sign out", ua.shutdown(), |_| true).await;
    demo.drain(Duration::from_millis(200)).await;
    server.shutdown().await;

    demo.heading("What the server received: one reportError document per failure");
    let reports: Vec<ErrorReport<'static>> = demo
        .seen
        .wire
        .iter()
        .filter(|w| w.inbound)
        .filter_map(|w| report_of(&w.message))
        .collect();
    for report in &reports {
        demo.out.say(format!(
            "  {} {} → {}  callId {}\n      diagHeader {}\n      progressReport {}",
            report.request_type,
            report.to_uri.as_deref().unwrap_or_default(),
            report.response_code,
            report.call_id,
            list(report.diag_headers.iter().map(|d| error_id_of(d))),
            list(report.progress_reports.iter().map(|d| error_id_of(d))),
        ));
    }
    demo.outcome.reports = reports;
    let outcome = demo.outcome;
    demo.out.say(format!(
        "\n{} in {:.1} s. Against a real pool: softphone --server HOST:PORT --transport tls \
         --user sip:you@example.com --password …  (softphone --help)",
        if outcome.ok() {
            "Done"
        } else {
            "Done, with problems"
        },
        started.elapsed().as_secs_f64()
    ));
    Ok(outcome)
}

/// The ErrorId at the start of a diagnostics value.
fn error_id_of(value: &str) -> String {
    value
        .trim_start()
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap_or_default()
        .to_owned()
}

fn list(items: impl Iterator<Item = String>) -> String {
    let items: Vec<String> = items.collect();
    if items.is_empty() {
        "(none)".to_owned()
    } else {
        items.join(", ")
    }
}
