//! Interactive mode: commands typed one per line on stdin, events printed
//! as they come — a call's progress reports show while it rings, and a
//! command can be typed meanwhile (`hangup` cancels a call still ringing).

use std::time::Duration;

use ocer::display::Mode;
use ocer::ua::{Call, CallCanceller, Failure, UaEvent, UserAgent};
use tokio::io::{AsyncBufRead, AsyncBufReadExt};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::cli::{parse_command, Command, ServerArgs};
use crate::output::{labelled, Output};
use crate::session::{self, sdp_offer, Outcome};

/// The commands, for `help` and the banner.
const HELP: &str = "\
commands: register | call URI [--mode M] [--action A] | im URI TEXT | join URI
          | share URI | hangup | quit";

/// An operation that ran in the background, and how it ended (a
/// registration's end shows in its events).
enum Done {
    Call(Result<Call, Failure>),
    Message(Result<(), Failure>),
    Hangup(Result<(), Failure>),
}

/// The call of this session: ringing, or up.
enum CallState {
    Idle,
    Ringing(CallCanceller),
    Up(Call),
}

/// Reads commands from stdin until `quit` or end of input.
pub(crate) async fn run(args: &ServerArgs, out: &Output) -> Outcome {
    let stdin = tokio::io::BufReader::new(tokio::io::stdin());
    run_with(args, out, stdin).await
}

/// Reads commands from `input` until `quit` or its end.
pub(crate) async fn run_with(
    args: &ServerArgs,
    out: &Output,
    input: impl AsyncBufRead + Unpin,
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
    let (finished, mut done) = mpsc::unbounded_channel::<Done>();
    let mut tasks = JoinSet::new();
    let mut call = CallState::Idle;
    loop {
        tokio::select! {
            biased;
            event = events.recv() => match event {
                Some(event) => {
                    out.event(&event);
                    if let (UaEvent::Ended { call_id, .. }, CallState::Up(up)) = (&event, &call) {
                        if up.call_id() == call_id {
                            call = CallState::Idle;
                        }
                    }
                }
                None => break,
            },
            Some(result) = done.recv() => on_done(result, &mut call, out),
            line = lines.next_line(), if input_open => {
                let line = match line {
                    Ok(Some(line)) => line,
                    // End of input is `quit`, once what was started is
                    // over: `echo "call sip:…" | softphone …` sees the call through.
                    Ok(None) | Err(_) => {
                        input_open = false;
                        if tasks.is_empty() {
                            break;
                        }
                        continue;
                    }
                };
                let words: Vec<String> = line.split_whitespace().map(str::to_owned).collect();
                if words.is_empty() {
                    continue;
                }
                let command = match parse_command(&words) {
                    Ok(command) => command,
                    Err(message) => {
                        session::report_error(out, &message);
                        continue;
                    }
                };
                if command == Command::Quit {
                    break;
                }
                start(&ua, &command, &mut call, &mut tasks, &finished, out).await;
            }
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {
                if !input_open && tasks.is_empty() {
                    break;
                }
            }
        }
    }
    tasks.abort_all();
    session::while_printing(&mut events, out, ua.shutdown()).await;
    session::print_until(&mut events, out, Duration::from_secs(2), |_| false).await;
    Outcome::Succeeded
}

/// Starts `command` in the background (its result comes back as a
/// [`Done`]); refuses what makes no sense in the current call state.
async fn start(
    ua: &UserAgent,
    command: &Command,
    call: &mut CallState,
    tasks: &mut JoinSet<()>,
    finished: &mpsc::UnboundedSender<Done>,
    out: &Output,
) {
    let finished = finished.clone();
    match command {
        Command::Help => out.say(HELP),
        Command::Register => {
            let ua = ua.clone();
            tasks.spawn(async move {
                // Success or failure, the registration events say it.
                let _ = ua.register().await;
            });
        }
        Command::Im { target, text } => {
            let (ua, target, text) = (ua.clone(), target.clone(), text.clone());
            tasks.spawn(async move {
                let _ = finished.send(Done::Message(ua.send_message(&target, &text).await));
            });
        }
        Command::Call {
            target,
            mode,
            action,
            ..
        } => {
            if !matches!(call, CallState::Idle) {
                session::report_error(out, "one call at a time: hangup first");
                return;
            }
            let sdp = (*mode != Mode::Im).then(sdp_offer);
            match ua.start_call(target, sdp, *mode, *action).await {
                Ok(pending) => {
                    *call = CallState::Ringing(pending.canceller());
                    out.say(labelled(
                        "call",
                        &format!("{} {target} ({mode}, {action}) …", command.name()),
                    ));
                    tasks.spawn(async move {
                        let _ = finished.send(Done::Call(pending.established().await));
                    });
                }
                Err(failure) => out.say(labelled("failed", &failure.to_string())),
            }
        }
        Command::Hangup => match std::mem::replace(call, CallState::Idle) {
            CallState::Idle => session::report_error(out, "no call to hang up"),
            CallState::Ringing(canceller) => {
                if !canceller.cancel() {
                    session::report_error(out, "the call could not be cancelled any more");
                }
            }
            CallState::Up(up) => {
                tasks.spawn(async move {
                    let _ = finished.send(Done::Hangup(up.hangup().await));
                });
            }
        },
        Command::Quit => {}
    }
}

/// Updates the call state when a background operation ends; failures were
/// printed by their events already.
fn on_done(result: Done, call: &mut CallState, out: &Output) {
    match result {
        Done::Call(Ok(up)) => *call = CallState::Up(up),
        Done::Call(Err(_)) => *call = CallState::Idle,
        Done::Message(Ok(())) => out.say(labelled("im", "delivered")),
        Done::Hangup(Ok(())) => out.say(labelled("call", "hung up")),
        Done::Message(Err(_)) | Done::Hangup(Err(_)) => {}
    }
}
