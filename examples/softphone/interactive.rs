//! Interactive mode: commands typed (or piped) one per line on stdin. The
//! softphone signs in first, as the one-shot mode does, so a failure of the
//! first `call` is reported. Commands run in order, one at a time: lines
//! typed meanwhile wait their turn, and events print as they come (a call's
//! progress reports show while it rings). `quit` (or the end of input) waits
//! for the running command, at most [`QUIT_WAIT`], cancels it after that,
//! hangs up an established call, says what it cancelled, and unregisters.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ocer::display::Mode;
use ocer::ua::{Call, CallCanceller, Failure, UaEvent, UserAgent};
use tokio::io::{AsyncBufRead, AsyncBufReadExt};
use tokio::time::Instant;

use crate::cli::{parse_command, Command, ServerArgs};
use crate::output::{labelled, Output};
use crate::session::{self, sdp_offer, Outcome, ReportWatch};

/// The commands, for `help` and the banner.
const HELP: &str = "\
commands: register | call URI [--mode M] [--action A] | im URI TEXT | join URI
          | share URI | hangup | quit";

/// How long `quit` waits for the running command before cancelling it.
pub(crate) const QUIT_WAIT: Duration = Duration::from_secs(10);

/// How a running command ended.
enum Done {
    Registered,
    Call(Result<Call, Failure>),
    Message(Result<(), Failure>),
    Hangup(Result<(), Failure>),
}

/// The command that runs now: what it is (for "cancelled …"), its future,
/// and the canceller of a ringing call.
struct Running {
    label: String,
    future: Pin<Box<dyn Future<Output = Done> + Send>>,
    /// A call's canceller, once the INVITE is sent.
    canceller: Arc<Mutex<Option<CallCanceller>>>,
}

/// Reads commands from stdin until `quit` or end of input.
pub(crate) async fn run(args: &ServerArgs, out: &Output) -> Outcome {
    let stdin = tokio::io::BufReader::new(tokio::io::stdin());
    run_with(args, out, stdin, QUIT_WAIT).await
}

/// Reads commands from `input` until `quit` or its end; `quit_wait` bounds
/// how long quitting waits for the running command.
pub(crate) async fn run_with(
    args: &ServerArgs,
    out: &Output,
    input: impl AsyncBufRead + Unpin,
    quit_wait: Duration,
) -> Outcome {
    let (ua, mut events) = match session::start(args).await {
        Ok(started) => started,
        Err(error) => return session::setup_failed(out, error),
    };
    out.say(format!(
        "{} over {} to {}; {HELP}",
        args.user,
        args.transport,
        args.server.as_deref().unwrap_or("the pool found by DNS")
    ));
    let mut lines = input.lines();
    let mut input_open = true;
    let mut queue: VecDeque<Command> = VecDeque::new();
    let mut call: Option<Call> = None;
    // Sign in first, like the one-shot mode: without a login session no
    // report of a later failure is sent.
    let mut running = Some(start(&ua, &Command::Register, &mut call, out));
    let mut quitting: Option<Instant> = None;
    // Reports of failures not yet sent or dropped: quitting waits for them.
    let mut unsettled: Vec<ReportWatch> = Vec::new();
    // The report events so far: a report can be queued (even sent) before
    // its command's result is seen here, so a new watch replays them.
    let mut report_events: Vec<UaEvent> = Vec::new();
    loop {
        if running.is_none() {
            match queue.pop_front() {
                Some(Command::Quit) => break,
                Some(command) => running = Some(start(&ua, &command, &mut call, out)),
                None if quitting.is_some() => break,
                None => {}
            }
            if running.is_none() && !queue.is_empty() {
                continue;
            }
        }
        let deadline = quitting.unwrap_or_else(|| Instant::now() + Duration::from_secs(86_400));
        tokio::select! {
            biased;
            event = events.recv() => match event {
                Some(event) => {
                    out.event(&event);
                    track_reports(&event, &mut unsettled);
                    if matches!(
                        event,
                        UaEvent::ReportQueued { .. }
                            | UaEvent::ReportSent { .. }
                            | UaEvent::ReportDropped { .. }
                            | UaEvent::ReportingSuspended { .. }
                    ) {
                        report_events.push(event.clone());
                    }
                    if let (UaEvent::Ended { call_id, .. }, Some(up)) = (&event, &call) {
                        if up.call_id() == call_id {
                            call = None;
                        }
                    }
                }
                None => break,
            },
            done = async {
                match running.as_mut() {
                    Some(r) => r.future.as_mut().await,
                    None => std::future::pending().await,
                }
            }, if running.is_some() => {
                running = None;
                let failure = match &done {
                    Done::Call(Err(f)) | Done::Message(Err(f)) | Done::Hangup(Err(f)) => Some(f),
                    _ => None,
                };
                if let Some(record) = failure.and_then(|f| f.record.as_ref()).filter(|_| args.report) {
                    let mut watch = ReportWatch::new(&record.identity.call_id);
                    if !report_events.iter().any(|e| watch.settled_by(e)) {
                        unsettled.push(watch);
                    }
                }
                // What the command's own events say comes before the next
                // command's first line.
                session::print_until(&mut events, out, Duration::ZERO, |event| {
                    track_reports(event, &mut unsettled);
                    false
                })
                .await;
                on_done(done, &mut call, out);
            }
            line = lines.next_line(), if input_open => {
                let line = match line {
                    Ok(Some(line)) => line,
                    // End of input is `quit`: `echo "call sip:…" | softphone …`
                    // sees the call through first.
                    Ok(None) | Err(_) => {
                        input_open = false;
                        queue.push_back(Command::Quit);
                        quitting.get_or_insert(Instant::now() + quit_wait);
                        continue;
                    }
                };
                let words: Vec<String> = line.split_whitespace().map(str::to_owned).collect();
                if words.is_empty() {
                    continue;
                }
                match parse_command(&words) {
                    Ok(Command::Help) => out.say(HELP),
                    Ok(command) => {
                        if command == Command::Quit {
                            input_open = false;
                            quitting.get_or_insert(Instant::now() + quit_wait);
                        }
                        queue.push_back(command);
                    }
                    Err(message) => session::report_error(out, &message),
                }
            }
            () = tokio::time::sleep_until(deadline), if quitting.is_some() && running.is_some() => {
                if let Some(r) = running.take() {
                    let canceller = r.canceller.lock().ok().and_then(|mut c| c.take());
                    if let Some(canceller) = canceller {
                        canceller.cancel();
                    }
                    out.say(labelled(
                        "quit",
                        &format!(
                            "cancelled {} (still running {:.1} s after quit)",
                            r.label,
                            quit_wait.as_secs_f32()
                        ),
                    ));
                }
                let dropped: Vec<&str> = queue
                    .iter()
                    .filter(|c| **c != Command::Quit)
                    .map(Command::name)
                    .collect();
                if !dropped.is_empty() {
                    out.say(labelled("quit", &format!("did not run: {}", dropped.join(", "))));
                }
                break;
            }
        }
    }
    if let Some(up) = call.take() {
        let target = up.call_id().to_owned();
        let hung_up = tokio::time::timeout(quit_wait, up.hangup()).await;
        out.say(labelled(
            "quit",
            &match hung_up {
                Ok(Ok(())) => format!("hung up the established call ({target})"),
                _ => format!("cancelled the established call ({target}): no answer to BYE"),
            },
        ));
    }
    drop(running);
    // A failure's report is in flight too: wait for it, bounded.
    if !unsettled.is_empty() {
        let limit = quit_wait.max(session::REPORT_WAIT);
        session::print_until(&mut events, out, limit, |event| {
            track_reports(event, &mut unsettled);
            unsettled.is_empty()
        })
        .await;
        if !unsettled.is_empty() {
            out.say(labelled(
                "quit",
                &format!(
                    "{} report(s) not sent yet; they stay in the outbox",
                    unsettled.len()
                ),
            ));
        }
    }
    session::while_printing(&mut events, out, ua.shutdown()).await;
    session::print_until(&mut events, out, Duration::from_secs(2), |_| false).await;
    Outcome::Succeeded
}

/// Starts `command`; what it needs of the call state is checked here.
fn start(ua: &UserAgent, command: &Command, call: &mut Option<Call>, out: &Output) -> Running {
    let ua = ua.clone();
    let label = command.name().to_owned();
    let ready = |done: Done| Running {
        label: label.clone(),
        future: Box::pin(async move { done }),
        canceller: Arc::default(),
    };
    match command {
        Command::Register => Running {
            label,
            future: Box::pin(async move {
                // Success or failure, the registration events say it.
                let _ = ua.register().await;
                Done::Registered
            }),
            canceller: Arc::default(),
        },
        Command::Im { target, text } => {
            let (target, text) = (target.clone(), text.clone());
            Running {
                label: format!("im {target}"),
                future: Box::pin(
                    async move { Done::Message(ua.send_message(&target, &text).await) },
                ),
                canceller: Arc::default(),
            }
        }
        Command::Call {
            target,
            mode,
            action,
            ..
        } => {
            if call.is_some() {
                session::report_error(out, "one call at a time: hangup first");
                return ready(Done::Registered);
            }
            let (target, mode, action) = (target.clone(), *mode, *action);
            out.say(labelled(
                "call",
                &format!("{} {target} ({mode}, {action}) …", command.name()),
            ));
            let slot: Arc<Mutex<Option<CallCanceller>>> = Arc::default();
            let shared = Arc::clone(&slot);
            Running {
                label: format!("{} {target}", command.name()),
                future: Box::pin(async move {
                    let sdp = (mode != Mode::Im).then(sdp_offer);
                    match ua.start_call(&target, sdp, mode, action).await {
                        Ok(pending) => {
                            if let Ok(mut c) = shared.lock() {
                                *c = Some(pending.canceller());
                            }
                            Done::Call(pending.established().await)
                        }
                        Err(failure) => Done::Call(Err(failure)),
                    }
                }),
                canceller: slot,
            }
        }
        Command::Hangup => match call.take() {
            None => {
                session::report_error(out, "no call to hang up");
                ready(Done::Registered)
            }
            Some(up) => Running {
                label,
                future: Box::pin(async move { Done::Hangup(up.hangup().await) }),
                canceller: Arc::default(),
            },
        },
        Command::Quit | Command::Help => ready(Done::Registered),
    }
}

/// Forgets the reports `event` settled.
fn track_reports(event: &UaEvent, unsettled: &mut Vec<ReportWatch>) {
    unsettled.retain_mut(|watch| !watch.settled_by(event));
}

/// Updates the call state when a command ends; failures were printed by
/// their events already.
fn on_done(result: Done, call: &mut Option<Call>, out: &Output) {
    match result {
        Done::Call(Ok(up)) => *call = Some(up),
        Done::Message(Ok(())) => out.say(labelled("im", "delivered")),
        Done::Hangup(Ok(())) => out.say(labelled("call", "hung up")),
        Done::Registered | Done::Call(Err(_)) | Done::Message(Err(_)) | Done::Hangup(Err(_)) => {}
    }
}
