//! A user agent for `--server`, and running commands on it: one-shot (for
//! scripts, with an exit code) or one line at a time (`interactive.rs`).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use ocer::display::{Isolation, Mode};
use ocer::ua::outbox::ReportId;
use ocer::ua::transport::{tls, Target, TransportKind};
use ocer::ua::{Failure, UaEvent, UaEvents, UserAgent};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::CertificateDer;
use serde_json::json;
use tokio::time::Instant;

use crate::cli::{Command, ServerArgs};
use crate::output::Output;

/// How long a one-shot command waits, after it failed, for the report of
/// its failure to be sent (or dropped) before the softphone shuts down.
pub(crate) const REPORT_WAIT: Duration = Duration::from_secs(10);

/// While an operation waits this long with nothing to show, a line says so.
pub(crate) const STILL_WAITING: Duration = Duration::from_secs(3);

/// The SDP offer of the softphone's calls: it does signalling only, so an
/// audio stream on the discard port, never sent to.
pub(crate) fn sdp_offer() -> Bytes {
    Bytes::from_static(
        b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=ocer softphone\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9 RTP/AVP 0 8\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n",
    )
}

/// Errors before anything is sent: exit code 2 for what the user gave
/// (a CA file that cannot be read), 1 for the rest.
#[derive(Debug)]
pub(crate) enum SetupError {
    /// A bad argument found late (a file, a name).
    Argument(String),
    /// The server's name did not resolve, or the user agent did not start.
    Start(String),
}

/// Resolves `--server` (or discovers the pool by DNS from the AOR's
/// domain), loads `--tls-ca`, and starts the user agent.
pub(crate) async fn start(args: &ServerArgs) -> Result<(UserAgent, UaEvents), SetupError> {
    let Some(server) = &args.server else {
        let mut targets = discovered(&args.user, args.dns_server).await?;
        // `--tls-name` overrides the SRV target's name the certificate is
        // checked against (a pool whose certificate names something else).
        if let Some(name) = &args.tls_name {
            targets = targets
                .into_iter()
                .map(|t| match t.kind {
                    TransportKind::Tls => t.with_server_name(name.clone()),
                    _ => t,
                })
                .collect();
        }
        return start_at(args, targets).await;
    };
    let addr = resolve(server).await.map_err(SetupError::Start)?;
    let mut target = Target::new(args.transport, addr);
    if args.transport == TransportKind::Tls {
        let name = args
            .tls_name
            .clone()
            .unwrap_or_else(|| args.server_host().to_owned());
        if name.parse::<std::net::IpAddr>().is_err() {
            target = target.with_server_name(name);
        }
    }
    start_at(args, vec![target]).await
}

/// The targets discovery finds for the AOR's domain (RFC 3263 with Lync's
/// records, `ocer::ua::discovery`), in the order to try them: the user
/// agent goes to the next when one is down or answers 503 without
/// Retry-After.
async fn discovered(
    aor: &str,
    dns_server: Option<std::net::SocketAddr>,
) -> Result<Vec<Target>, SetupError> {
    let domain = aor.rsplit_once('@').map_or(aor, |(_, d)| d);
    let domain = domain.split(';').next().unwrap_or(domain);
    let resolver =
        ocer::ua::discovery::resolver(dns_server).map_err(|e| SetupError::Start(e.to_string()))?;
    let targets = ocer::ua::discovery::discover(&resolver, domain)
        .await
        .map_err(|e| SetupError::Start(e.to_string()))?;
    if targets.is_empty() {
        return Err(SetupError::Start(format!(
            "no SIP server found for {domain}"
        )));
    }
    Ok(targets)
}

/// Where the password comes from.
#[derive(Debug, PartialEq, Eq)]
enum PasswordSource {
    /// `--password`, else `OCER_PASSWORD`.
    Given(String),
    /// Neither, and a user at a terminal: ask.
    Prompt,
    /// Neither, and no terminal (a script): no credentials.
    None,
}

/// `--password`, else `OCER_PASSWORD` (kept out of the process list), else
/// a prompt if stdin is a terminal.
fn password_source(
    given: Option<String>,
    env: Option<String>,
    stdin_is_terminal: bool,
) -> PasswordSource {
    match given.or(env) {
        Some(password) => PasswordSource::Given(password),
        None if stdin_is_terminal => PasswordSource::Prompt,
        None => PasswordSource::None,
    }
}

/// Asks for the password on the terminal, without echo; `None` if nothing
/// was typed (or the terminal could not be read).
async fn prompt_password(user: &str) -> Option<String> {
    let prompt = format!("Password for {user}: ");
    let read = tokio::task::spawn_blocking(move || rpassword::prompt_password(prompt)).await;
    match read {
        Ok(Ok(password)) if !password.is_empty() => Some(password),
        Ok(Ok(_)) => None,
        Ok(Err(error)) => {
            eprintln!("no password read: {error}");
            None
        }
        Err(_) => None,
    }
}

async fn start_at(
    args: &ServerArgs,
    targets: Vec<Target>,
) -> Result<(UserAgent, UaEvents), SetupError> {
    let first = targets
        .first()
        .cloned()
        .ok_or_else(|| SetupError::Start("no target".into()))?;
    let mut builder = UserAgent::builder(args.user.clone(), first)
        .targets(targets)
        .auth_mode(args.auth)
        .string_set(args.set)
        .reporting(args.report);
    if !args.locales.is_empty() {
        builder = builder.locales(args.locales.clone());
    }
    // en-XA (shipped) and the app's own locales: every string the user sees
    // comes from these Fluent files.
    let localizer = ocer_examples::locales::localizer(args.locales_dir.as_deref(), Isolation::Off)
        .map_err(SetupError::Argument)?;
    builder = builder.localizer(Arc::new(localizer));
    use std::io::IsTerminal as _;
    let password = match password_source(
        args.password.clone(),
        std::env::var("OCER_PASSWORD").ok(),
        std::io::stdin().is_terminal(),
    ) {
        PasswordSource::Given(password) => Some(password),
        PasswordSource::Prompt => prompt_password(&args.auth_user()).await,
        PasswordSource::None => None,
    };
    if let Some(password) = password {
        builder = builder.credentials(args.auth_user(), password);
    }
    if let Some(path) = &args.tls_ca {
        builder = builder.tls_config(tls_config(path).map_err(SetupError::Argument)?);
    }
    builder
        .build()
        .await
        .map_err(|e| SetupError::Start(format!("the user agent did not start: {e}")))
}

/// `HOST:PORT` to one address (the first the resolver gives).
async fn resolve(server: &str) -> Result<SocketAddr, String> {
    let mut addrs = tokio::net::lookup_host(server)
        .await
        .map_err(|e| format!("cannot resolve {server}: {e}"))?;
    addrs
        .next()
        .ok_or_else(|| format!("{server} resolves to no address"))
}

/// A verifying client configuration that trusts the certificates in a PEM
/// file.
fn tls_config(path: &std::path::Path) -> Result<Arc<rustls::ClientConfig>, String> {
    let shown = path.display();
    let mut roots = rustls::RootCertStore::empty();
    let certificates =
        CertificateDer::pem_file_iter(path).map_err(|e| format!("--tls-ca {shown}: {e}"))?;
    for certificate in certificates {
        let certificate = certificate.map_err(|e| format!("--tls-ca {shown}: {e}"))?;
        roots
            .add(certificate)
            .map_err(|e| format!("--tls-ca {shown}: {e}"))?;
    }
    if roots.is_empty() {
        return Err(format!("--tls-ca {shown}: no certificate in the file"));
    }
    tls::client_config_with_roots(roots)
        .map(Arc::new)
        .map_err(|e| format!("--tls-ca {shown}: {e}"))
}

/// Prints events while `operation` runs; in text mode, says so when the
/// wait gets long. Returns the operation's result.
pub(crate) async fn while_printing<T>(
    events: &mut UaEvents,
    out: &Output,
    operation: impl Future<Output = T>,
) -> T {
    tokio::pin!(operation);
    let started = Instant::now();
    let mut next_note = started + STILL_WAITING;
    let mut events_open = true;
    loop {
        tokio::select! {
            biased;
            event = events.recv(), if events_open => match event {
                Some(event) => out.event(&event),
                None => events_open = false,
            },
            result = &mut operation => return result,
            () = tokio::time::sleep_until(next_note) => {
                out.say(format!("  … waiting ({} s)", started.elapsed().as_secs()));
                next_note += STILL_WAITING;
            }
        }
    }
}

/// Prints events until `done` says an event finished the wait, the stream
/// ends, or `limit` passes. Whether `done` was met.
pub(crate) async fn print_until(
    events: &mut UaEvents,
    out: &Output,
    limit: Duration,
    mut done: impl FnMut(&UaEvent) -> bool,
) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Some(event)) => {
                out.event(&event);
                if done(&event) {
                    return true;
                }
            }
            Ok(None) | Err(_) => return false,
        }
    }
}

/// Tracks the report of one failed request: queued under its Call-ID, then
/// sent or dropped by report id.
#[derive(Debug, Default)]
pub(crate) struct ReportWatch {
    call_id: String,
    report_id: Option<ReportId>,
}

impl ReportWatch {
    /// Watches the report for the request `call_id`.
    pub(crate) fn new(call_id: &str) -> ReportWatch {
        ReportWatch {
            call_id: call_id.to_owned(),
            report_id: None,
        }
    }

    /// Whether `event` settled the report (sent, dropped, or reporting
    /// suspended for the session).
    pub(crate) fn settled_by(&mut self, event: &UaEvent) -> bool {
        match event {
            UaEvent::ReportQueued { report_id, call_id } if *call_id == self.call_id => {
                self.report_id = Some(*report_id);
                false
            }
            UaEvent::ReportSent { report_id } => self.report_id == Some(*report_id),
            UaEvent::ReportDropped { report_id, .. } => {
                self.report_id.is_some() && self.report_id == *report_id
            }
            UaEvent::ReportingSuspended { .. } => self.report_id.is_some(),
            _ => false,
        }
    }
}

/// What a one-shot run ended with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Exit code 0.
    Succeeded,
    /// Exit code 1.
    Failed,
    /// Exit code 2: an argument was bad after all (a CA file that cannot
    /// be read).
    BadArgument,
}

/// Runs one command: register, do it, wait for its report if it failed,
/// shut down (unregistering). Everything is printed to `out`.
pub(crate) async fn one_shot(args: &ServerArgs, command: &Command, out: &Output) -> Outcome {
    let (ua, mut events) = match start(args).await {
        Ok(started) => started,
        Err(error) => {
            let outcome = setup_failed(out, error);
            done(out, command, outcome);
            return outcome;
        }
    };
    out.emit(&json!({"event": "command", "command": command.name(), "server": args.server}));
    let registered = while_printing(&mut events, out, ua.register()).await;
    let outcome = match (registered, command) {
        // The registration event has said why.
        (Err(_), _) => Outcome::Failed,
        (Ok(()), Command::Register) => Outcome::Succeeded,
        (Ok(()), command) => run(&ua, &mut events, out, command, args.report).await,
    };
    while_printing(&mut events, out, ua.shutdown()).await;
    // The stream ends after shutdown: print what is left.
    print_until(&mut events, out, Duration::from_secs(2), |_| false).await;
    done(out, command, outcome);
    outcome
}

/// Says why the user agent did not start; the outcome that goes with it.
pub(crate) fn setup_failed(out: &Output, error: SetupError) -> Outcome {
    match error {
        SetupError::Argument(message) => {
            report_error(out, &message);
            Outcome::BadArgument
        }
        SetupError::Start(message) => {
            report_error(out, &message);
            Outcome::Failed
        }
    }
}

impl Outcome {
    /// The process exit code.
    pub(crate) fn code(self) -> u8 {
        match self {
            Outcome::Succeeded => 0,
            Outcome::Failed => 1,
            Outcome::BadArgument => 2,
        }
    }
}

/// The last line of a one-shot run.
fn done(out: &Output, command: &Command, outcome: Outcome) {
    let ok = outcome == Outcome::Succeeded;
    out.emit(&json!({
        "event": "done",
        "command": command.name(),
        "ok": ok,
        "exitCode": outcome.code(),
    }));
    out.say(if ok {
        format!("{}: done", command.name())
    } else {
        format!("{}: failed", command.name())
    });
}

/// An error before any event: stderr in text mode, an `error` line in
/// JSON mode.
pub(crate) fn report_error(out: &Output, message: &str) {
    if out.is_json() {
        out.emit(&json!({"event": "error", "message": message}));
    } else {
        eprintln!("softphone: {message}");
    }
}

/// One call or message on a registered user agent, until it is over: a
/// call is held for its `hold` and hung up; a failure waits (bounded) for
/// its report.
async fn run(
    ua: &UserAgent,
    events: &mut UaEvents,
    out: &Output,
    command: &Command,
    reporting: bool,
) -> Outcome {
    let failure = match command {
        Command::Call {
            target,
            mode,
            action,
            hold,
        } => {
            out.say(format!("{} {target} ({mode}, {action})", command.name()));
            let sdp = (*mode != Mode::Im).then(sdp_offer);
            match while_printing(events, out, ua.call(target, sdp, *mode, *action)).await {
                Ok(call) => {
                    let call_id = call.call_id().to_owned();
                    // Held until --hold passes or the server ends it.
                    let ended = print_until(events, out, *hold, |event| {
                        matches!(event, UaEvent::Ended { call_id: id, .. } if *id == call_id)
                    })
                    .await;
                    if ended {
                        return Outcome::Succeeded;
                    }
                    match while_printing(events, out, call.hangup()).await {
                        Ok(()) => return Outcome::Succeeded,
                        Err(failure) => failure,
                    }
                }
                Err(failure) => failure,
            }
        }
        Command::Im { target, text } => {
            out.say(format!("im {target}: {text}"));
            match while_printing(events, out, ua.send_message(target, text)).await {
                Ok(()) => {
                    out.say("  [im]          delivered");
                    return Outcome::Succeeded;
                }
                Err(failure) => failure,
            }
        }
        Command::Register | Command::Hangup | Command::Quit | Command::Help => {
            return Outcome::Succeeded
        }
    };
    if reporting {
        wait_for_report(events, out, &failure).await;
    }
    Outcome::Failed
}

/// After a failure: prints events until its report is settled, bounded by
/// [`REPORT_WAIT`].
pub(crate) async fn wait_for_report(events: &mut UaEvents, out: &Output, failure: &Failure) {
    let Some(record) = &failure.record else {
        return;
    };
    let mut watch = ReportWatch::new(&record.identity.call_id);
    print_until(events, out, REPORT_WAIT, |event| watch.settled_by(event)).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_is_given_then_from_the_environment_then_asked_at_a_terminal() {
        let some = |s: &str| Some(s.to_owned());
        assert_eq!(
            password_source(some("flag"), some("env"), true),
            PasswordSource::Given("flag".into())
        );
        assert_eq!(
            password_source(None, some("env"), true),
            PasswordSource::Given("env".into())
        );
        assert_eq!(password_source(None, None, true), PasswordSource::Prompt);
        // A script (no terminal) is never left waiting on a prompt.
        assert_eq!(password_source(None, None, false), PasswordSource::None);
    }
}
