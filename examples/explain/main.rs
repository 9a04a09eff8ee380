//! `explain`: decode what a Lync / Skype for Business server (or another
//! Microsoft client) said, for an administrator.
//!
//! Give it, as arguments or on stdin, one of:
//! - an `ms-diagnostics` / `ms-diagnostics-public` header (with or without its name),
//! - a SIP status line (`SIP/2.0 504 Server time-out`) or a bare status code,
//! - a `Warning` header value,
//! - a whole SIP message (a request or a response), or a whole trace of many
//!   (text capture or pcap; `trace.rs`), grouped by transaction,
//! - a Windows / Winsock / WinInet code or name or HRESULT (`10060`,
//!   `WSAETIMEDOUT`, `0x80072EFD`),
//! - the Phone Edition's update status pair (`(0x2ee2/0x0)`),
//! - a UCWA error body (JSON or XML) or the SDK's own `DisplayError` JSON,
//! - with `--eas-command CMD`, an Exchange ActiveSync status number.
//!
//! It prints the parsed fields and, for every ErrorId, the entries of both server
//! catalogs (MS-OCER Appendix B, Lync Server 2010; Appendix C, OCS 2007/R2).
//! `--json` prints the same as one JSON value. Bad input gives one line on
//! stderr and exit code 2.
//!
//! `explain --dump-strings` and `explain --resolve` show the display strings of
//! MS-OCER Appendix D / E and what a user would see for a saved transaction
//! (see `display.rs`). `explain --report` prints the reportError document the SDK
//! would send for a saved trace of a failed transaction (see `report.rs`).
//!
//! Whole messages copied from the MS-OCER PDF have lines wrapped where the page
//! ended, not where the header did; `explain` folds such a line into the header
//! before it and says so.

use std::fmt::Write as _;
use std::io::{Read as _, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory as _, Parser};

mod display;
mod lookup;
mod report;
mod trace;

use ocer::diag::{Catalog, DiagnosticsHeader, Direction, ErrorId, HeaderKind, ParamValue};
use ocer::display::{
    Action, Context, Isolation, LanguageIdentifier, Localizer, Mode, StringSet, WinError,
};
use ocer::sip::{parse_warning_values, FramingLimits, RetryAfter, SipMessage, StatusCode};
use serde_json::{json, Value};

/// Decode ms-diagnostics, SIP statuses, Warning values, whole SIP traces
/// (text or pcap), Windows/Winsock/WinInet codes and HRESULTs, Phone Edition
/// status pairs, UCWA error bodies and Exchange ActiveSync statuses.
#[derive(Debug, Parser)]
#[command(
    name = "explain",
    version,
    after_help = "\
INPUT is read from the arguments, or from stdin without them. Examples:
  explain 'ms-diagnostics: 1007;reason=\"Temporarily cannot route\"'
  explain 504            explain 10060          explain 0x80072EFD
  explain '(0x2ee2/0x0)' explain --eas-command Sync 8
  explain < error-body.json
  explain --trace capture.pcap --json
  explain --resolve --set lync2010 --mode voice trace.sip
  explain --report trace.sip"
)]
pub(crate) struct Cli {
    /// What to explain (joined with spaces); a trace FILE for --trace, --resolve, --report.
    #[arg(value_name = "INPUT")]
    input: Vec<String>,

    /// Print one JSON value instead of text.
    #[arg(long, global = true)]
    json: bool,

    /// Preferred locale of the display strings, repeatable or comma-separated
    /// (en-US built in; en-XA, the pseudo-locale, shipped).
    #[arg(long, value_name = "TAG", value_delimiter = ',')]
    locale: Vec<LanguageIdentifier>,

    /// A directory of an app's own locales (`<tag>/lync2010.ftl`, ...).
    #[arg(long, value_name = "DIR")]
    locales_dir: Option<PathBuf>,

    /// Read INPUT as an Exchange ActiveSync status of this command (Sync, Ping, ...).
    #[arg(long, value_name = "COMMAND", conflicts_with_all = ["resolve", "report", "trace", "dump_strings"])]
    eas_command: Option<String>,

    /// Decode a whole trace FILE (text capture or pcap/pcapng), grouped by transaction.
    #[arg(long, conflicts_with_all = ["resolve", "report", "dump_strings"])]
    trace: bool,

    /// Print every string of a set as TSV (lync2010 or communicator2007).
    #[arg(long, value_name = "SET", conflicts_with_all = ["resolve", "report"])]
    dump_strings: Option<StringSet>,

    /// What a user would see for the saved transaction in FILE (or stdin).
    #[arg(long, requires_all = ["set", "mode"], conflicts_with = "report")]
    resolve: bool,

    /// The reportError document the SDK would send for the trace in FILE (or stdin).
    #[arg(long)]
    report: bool,

    /// Whose strings: lync2010 or communicator2007 (oc2007).
    #[arg(long, value_name = "SET")]
    set: Option<StringSet>,

    /// The user's mode: im, voice, conference, sharing, application-sharing, other.
    #[arg(long, value_name = "MODE")]
    mode: Option<Mode>,

    /// The user's action (send-message, call, join, ...; locales/README.md).
    #[arg(long, value_name = "ACTION", requires = "resolve")]
    action: Option<Action>,

    /// --resolve: the other person's name in the strings.
    #[arg(long, value_name = "NAME", requires = "resolve")]
    user: Option<String>,

    /// --resolve: the client's name in the strings.
    #[arg(long, value_name = "NAME", requires = "resolve")]
    client: Option<String>,

    /// --resolve: the sharing feature in the strings.
    #[arg(long, value_name = "NAME", requires = "resolve")]
    feature: Option<String>,

    /// --resolve: a Windows error the transport saw (decimal, 0x, name, HRESULT).
    #[arg(long, value_name = "CODE", requires = "resolve", value_parser = parse_win_error)]
    windows_error: Option<WinError>,

    /// --report: the reporting user's address of record (default: the request's From).
    #[arg(long, value_name = "AOR", requires = "report")]
    aor: Option<String>,

    /// --report: a trace without final response ended in a transport failure, not a timeout.
    #[arg(long, requires = "report")]
    transport_error: bool,

    /// Print a completion script for this shell (bash, zsh, fish, elvish, powershell).
    #[arg(long, value_name = "SHELL", exclusive = true)]
    completions: Option<clap_complete::Shell>,
}

fn parse_win_error(text: &str) -> Result<WinError, String> {
    WinError::parse(text)
        .ok_or_else(|| format!("not a Windows error code, name or HRESULT: {text:?}"))
}

/// What `main` does with the result of a mode.
enum Outcome {
    /// Print this on stdout, exit 0.
    Out(String),
    /// Print notes on stderr, then this on stdout.
    OutWithNotes(String, String),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return clap_error(&e),
    };
    match run(&cli) {
        Ok(Outcome::Out(text)) => write_out(&text, ""),
        Ok(Outcome::OutWithNotes(text, notes)) => write_out(&text, &notes),
        Err(message) => {
            let _ = writeln!(
                std::io::stderr(),
                "explain: {message}\nsee `explain --help`"
            );
            ExitCode::from(2)
        }
    }
}

/// `--help` and `--version` print in full; a refused command line prints
/// clap's first line and where to look, not the whole usage.
fn clap_error(e: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        return write_out(&e.render().to_string(), "");
    }
    let rendered = e.render().to_string();
    let first = rendered
        .lines()
        .next()
        .unwrap_or("bad arguments")
        .trim_start_matches("error: ");
    let _ = writeln!(std::io::stderr(), "explain: {first}\nsee `explain --help`");
    ExitCode::from(2)
}

/// Writes without panicking: a closed pipe (`explain … | head -1`) ends the
/// program quietly with success, as `cat` and `grep` do.
fn write_out(text: &str, notes: &str) -> ExitCode {
    if !notes.is_empty() {
        let _ = std::io::stderr().write_all(notes.as_bytes());
    }
    write_to(&mut std::io::stdout().lock(), text)
}

/// [`write_out`] into any writer.
fn write_to(out: &mut impl std::io::Write, text: &str) -> ExitCode {
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "explain: cannot write: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The localizer with the shipped pseudo-locale and `--locales-dir`.
fn localizer(cli: &Cli) -> Result<Localizer, String> {
    ocer_examples::locales::localizer(cli.locales_dir.as_deref(), Isolation::Off)
}

/// Reads the trace named by INPUT, or stdin.
fn read_trace(cli: &Cli) -> Result<Vec<u8>, String> {
    match cli.input.as_slice() {
        [] => {
            let mut buf = Vec::new();
            std::io::stdin()
                .read_to_end(&mut buf)
                .map_err(|e| format!("cannot read stdin: {e}"))?;
            Ok(buf)
        }
        [path] => std::fs::read(path).map_err(|e| format!("cannot read {path}: {e}")),
        _ => Err("only one trace file".into()),
    }
}

pub(crate) fn resolve_args(cli: &Cli) -> Result<display::ResolveArgs, String> {
    let set = cli.set.ok_or("--resolve needs --set")?;
    let mode = cli.mode.ok_or("--resolve needs --mode")?;
    let placeholders = ocer::display::Placeholders::SPEC;
    Ok(display::ResolveArgs {
        context: Context::new(set, mode, cli.action.unwrap_or(mode.primary_action())),
        user: cli
            .user
            .clone()
            .unwrap_or_else(|| placeholders.user.to_owned()),
        client: cli
            .client
            .clone()
            .unwrap_or_else(|| placeholders.client.to_owned()),
        feature: cli
            .feature
            .clone()
            .unwrap_or_else(|| placeholders.feature.to_owned()),
        windows: cli.windows_error,
        json: cli.json,
        localizer: localizer(cli)?,
        locales: cli.locale.clone(),
    })
}

pub(crate) fn report_args(cli: &Cli) -> report::ReportArgs {
    report::ReportArgs {
        aor: cli.aor.clone(),
        transport_error: cli.transport_error,
    }
}

fn run(cli: &Cli) -> Result<Outcome, String> {
    if let Some(shell) = cli.completions {
        let mut out = Vec::new();
        clap_complete::generate(shell, &mut Cli::command(), "explain", &mut out);
        return Ok(Outcome::Out(String::from_utf8_lossy(&out).into_owned()));
    }
    if let Some(set) = cli.dump_strings {
        if !cli.input.is_empty() {
            return Err("--dump-strings takes no INPUT".into());
        }
        let localizer = localizer(cli)?;
        return Ok(Outcome::Out(display::dump_strings(
            set,
            &localizer,
            &cli.locale,
        )));
    }
    if cli.resolve {
        let args = resolve_args(cli)?;
        return display::resolve(&args, &read_trace(cli)?).map(Outcome::Out);
    }
    if cli.report {
        let (body, notes) = report::report(&report_args(cli), &read_trace(cli)?)?;
        return Ok(Outcome::OutWithNotes(body + "\n", notes));
    }
    if cli.set.is_some() && !cli.trace && cli.mode.is_none() && cli.input.is_empty() {
        return Err("--set is for --resolve or --trace".into());
    }
    let bytes = if cli.trace {
        read_trace(cli)?
    } else if cli.input.is_empty() {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .map_err(|e| format!("cannot read stdin: {e}"))?;
        buf
    } else {
        cli.input.join(" ").into_bytes()
    };
    let (text, json) = explain_any(cli, &bytes)?;
    Ok(Outcome::Out(if cli.json {
        serde_json::to_string_pretty(&json).unwrap_or_default() + "\n"
    } else {
        text
    }))
}

/// The single-input modes and whole traces, as text and JSON.
fn explain_any(cli: &Cli, bytes: &[u8]) -> Result<(String, Value), String> {
    let text = String::from_utf8_lossy(bytes);
    let starts = text.lines().filter(|l| trace::is_start_line(l)).count()
        + text
            .lines()
            .filter(|l| l.starts_with("Start-Line: "))
            .count();
    if cli.trace || trace::is_pcap(bytes) || starts > 1 {
        let localizer = localizer(cli)?;
        let chain = localizer.negotiate(&cli.locale);
        let args = trace::TraceArgs {
            set: cli.set.unwrap_or(StringSet::Lync2010),
            mode: cli.mode,
            localizer: &localizer,
            chain: &chain,
        };
        return trace::explain_trace(bytes, &args);
    }
    if let Some(command) = &cli.eas_command {
        let e = lookup::eas(command, &text)?;
        return Ok((e.text, e.json));
    }
    explain(&text)
}

/// Decides what `input` is and explains it: text, and the same as JSON.
fn explain(input: &str) -> Result<(String, Value), String> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err("no input".into());
    }
    let first_line = trimmed.lines().next().unwrap_or_default().trim();
    let is_multiline = trimmed.lines().nth(1).is_some();
    let mut out = String::new();

    if trimmed.starts_with(['{', '<']) || trimmed.starts_with("\"code\"") {
        let e = lookup::ucwa(trimmed)?;
        return Ok((e.text, e.json));
    }
    if lookup::looks_like_phone_pair(trimmed) {
        let e = lookup::phone(trimmed)?;
        return Ok((e.text, e.json));
    }
    if let Some((name, value)) = split_header(trimmed) {
        if let Some(kind) = HeaderKind::from_name(name) {
            let json = explain_diag(&mut out, kind, value)?;
            return Ok((out, json));
        }
        if name.eq_ignore_ascii_case("Warning") {
            let json = explain_warning(&mut out, value)?;
            return Ok((out, json));
        }
        if name.eq_ignore_ascii_case("Retry-After") {
            let json = explain_retry_after(&mut out, value)?;
            return Ok((out, json));
        }
    }
    if (is_multiline || looks_like_request_line(first_line)) && is_start_line(first_line) {
        let json = explain_message(&mut out, trimmed)?;
        return Ok((out, json));
    }
    if let Some(rest) = first_line.strip_prefix("SIP/2.0 ") {
        let json = explain_status(&mut out, rest)?;
        return Ok((out, json));
    }
    if first_line.len() == 3 && first_line.bytes().all(|b| b.is_ascii_digit()) {
        let json = explain_status(&mut out, first_line)?;
        return Ok((out, json));
    }
    let windows = lookup::windows(trimmed);
    let is_number = trimmed.bytes().all(|b| b.is_ascii_digit());
    if is_number {
        // `10060` is an ErrorId and a Winsock code: every reading, labelled.
        if let Some(w) = windows {
            let mut readings = Vec::new();
            if let Ok(header) = DiagnosticsHeader::parse(HeaderKind::Private, trimmed) {
                out.push_str("reading 1: an ms-diagnostics ErrorId\n");
                readings.push(write_diag(&mut out, &header));
                out.push_str("\nreading 2: a Windows error\n");
            }
            out.push_str(&w.text);
            readings.push(w.json);
            return Ok((out, json!({"kind": "readings", "readings": readings})));
        }
    }
    if let Some(w) = windows.filter(|_| !is_number) {
        return Ok((w.text, w.json));
    }
    if trimmed.starts_with(|c: char| c.is_ascii_digit()) {
        // `391 host "text"` is a Warning; `1007;reason=...` is a diagnostics value.
        if let Ok(warnings) = parse_warning_values(trimmed) {
            if !warnings.is_empty() {
                let json = explain_warning(&mut out, trimmed)?;
                return Ok((out, json));
            }
        }
        let json = explain_diag(&mut out, HeaderKind::Private, trimmed)?;
        return Ok((out, json));
    }
    Err(format!("cannot tell what this is: {first_line:?}"))
}

/// `Name: value` when the text starts with a header name.
fn split_header(text: &str) -> Option<(&str, &str)> {
    let (name, value) = text.split_once(':')?;
    let name = name.trim_end();
    let is_token = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b));
    is_token.then_some((name, value.trim()))
}

fn is_start_line(line: &str) -> bool {
    line.starts_with("SIP/2.0 ") || looks_like_request_line(line)
}

fn looks_like_request_line(line: &str) -> bool {
    line.ends_with(" SIP/2.0") && line.split(' ').count() == 3
}

fn explain_diag(out: &mut String, kind: HeaderKind, value: &str) -> Result<Value, String> {
    let header = DiagnosticsHeader::parse(kind, value)
        .map_err(|e| format!("bad {} value: {e}", kind.name()))?;
    Ok(write_diag(out, &header))
}

fn write_diag(out: &mut String, header: &DiagnosticsHeader) -> Value {
    let params: serde_json::Map<String, Value> = header
        .params
        .iter()
        .map(|p| {
            let v = match &p.value {
                Some(ParamValue::Quoted(v)) | Some(ParamValue::Token(v)) => {
                    Value::from(v.to_string())
                }
                None => Value::Null,
            };
            (p.name.to_string(), v)
        })
        .collect();
    let _ = writeln!(out, "{}", header.kind.name());
    let _ = writeln!(out, "  ErrorId  {}", header.error_id);
    if let Some(reason) = &header.reason {
        let _ = writeln!(out, "  reason   {reason:?}");
    }
    if let Some(source) = &header.source {
        let _ = writeln!(out, "  source   {source:?}");
    }
    let width = header
        .params
        .iter()
        .map(|p| p.name.len())
        .max()
        .unwrap_or(0)
        .max(8);
    for param in &header.params {
        match &param.value {
            Some(ParamValue::Quoted(v)) => {
                let _ = writeln!(out, "  {:<width$} {v:?}", param.name);
            }
            Some(ParamValue::Token(v)) => {
                let _ = writeln!(out, "  {:<width$} {v}", param.name);
            }
            None => {
                let _ = writeln!(out, "  {}", param.name);
            }
        }
    }
    match header.setup_time() {
        Some(Ok(t)) => {
            let _ = writeln!(out, "  (Setup_time: call set-up took {} ms)", t.0);
        }
        Some(Err(e)) => {
            let _ = writeln!(out, "  (Setup_time is not valid: {e})");
        }
        None => {}
    }
    if header.source_on_public() {
        let _ = writeln!(
            out,
            "  note: an ms-diagnostics-public header must not carry `source` (MS-OCER 2.2.1.2)"
        );
    }
    let catalogs = write_catalogs(out, header.error_id);
    json!({
        "kind": "diagnostics",
        "header": header.kind.name(),
        "errorId": header.error_id.0,
        "reason": header.reason.as_deref(),
        "source": header.source.as_deref(),
        "params": params,
        "catalogs": catalogs,
    })
}

fn write_catalogs(out: &mut String, id: ErrorId) -> Vec<Value> {
    let mut found = Vec::new();
    for catalog in Catalog::ALL {
        let name = catalog_name(catalog);
        let entries = catalog.lookup(id);
        if entries.is_empty() {
            match catalog.component_of(id) {
                Some(range) => {
                    let _ = writeln!(
                        out,
                        "  {name}: ErrorId {id} is not listed; it is in the range of {} \
                         ({}–{}, MS-OCER {})",
                        range.component, range.low, range.high, range.section
                    );
                    found.push(json!({"catalog": name, "listed": false, "section": range.section, "component": range.component}));
                }
                None => {
                    let _ = writeln!(
                        out,
                        "  {name}: unknown ErrorId {id} (in no component's range)"
                    );
                }
            }
            continue;
        }
        for entry in entries {
            let direction = match entry.direction {
                Direction::Request => "request",
                Direction::Response => "response",
            };
            let _ = writeln!(
                out,
                "  {name}: {} {} — {:?} ({} in a {direction}; spec line {})",
                entry.section,
                entry.component,
                entry.reason,
                entry.header.as_str(),
                entry.spec_line
            );
            found.push(json!({
                "catalog": name, "listed": true, "section": entry.section,
                "component": entry.component, "reason": entry.reason,
                "header": entry.header.as_str(), "direction": direction, "specLine": entry.spec_line,
            }));
        }
    }
    found
}

fn catalog_name(catalog: Catalog) -> &'static str {
    match catalog {
        Catalog::LyncServer2010 => "Lync Server 2010",
        Catalog::Ocs2007 => "OCS 2007/R2",
    }
}

fn explain_status(out: &mut String, rest: &str) -> Result<Value, String> {
    let (code, phrase) = rest.trim().split_once(' ').unwrap_or((rest.trim(), ""));
    let code: u16 = code
        .parse()
        .ok()
        .filter(|c| (100..=699).contains(c))
        .ok_or_else(|| format!("not a SIP status code: {code:?}"))?;
    Ok(write_status(out, StatusCode(code), phrase))
}

fn write_status(out: &mut String, status: StatusCode, phrase: &str) -> Value {
    let _ = writeln!(out, "SIP status {}", status.0);
    let _ = writeln!(out, "  class    {:?}", status.class());
    match status.reason_phrase() {
        Some(standard) => {
            let _ = writeln!(out, "  standard reason phrase {standard:?}");
        }
        None => {
            let _ = writeln!(
                out,
                "  not a standard code (RFC 3261 §21 does not define it)"
            );
        }
    }
    if !phrase.is_empty() {
        let _ = writeln!(out, "  received reason phrase {phrase:?}");
    }
    if let Some(meaning) = status.meaning() {
        let _ = writeln!(out, "  meaning  {meaning}");
    }
    json!({
        "kind": "sip-status",
        "status": status.0,
        "class": format!("{:?}", status.class()),
        "standardReasonPhrase": status.reason_phrase(),
        "receivedReasonPhrase": (!phrase.is_empty()).then_some(phrase),
        "meaning": status.meaning(),
    })
}

fn explain_warning(out: &mut String, value: &str) -> Result<Value, String> {
    let warnings = parse_warning_values(value).map_err(|e| format!("bad Warning value: {e}"))?;
    let mut list = Vec::new();
    for w in warnings {
        let _ = writeln!(out, "Warning {} from {}: \"{}\"", w.code.0, w.agent, w.text);
        if let Some(d) = w.code.description() {
            let _ = writeln!(out, "  meaning  {d}");
        }
        list.push(json!({
            "code": w.code.0,
            "agent": w.agent.to_string(),
            "text": w.text,
            "meaning": w.code.description(),
        }));
    }
    Ok(json!({"kind": "warning", "warnings": list}))
}

fn explain_retry_after(out: &mut String, value: &str) -> Result<Value, String> {
    let ra = RetryAfter::parse(value).map_err(|e| format!("bad Retry-After value: {e}"))?;
    let _ = writeln!(out, "Retry-After: wait {} s before retrying", ra.seconds);
    if let Some(d) = ra.duration {
        let _ = writeln!(out, "  available for {d} s after that");
    }
    if let Some(c) = &ra.comment {
        let _ = writeln!(out, "  comment {c:?}");
    }
    Ok(
        json!({"kind": "retry-after", "seconds": ra.seconds, "duration": ra.duration, "comment": ra.comment}),
    )
}

fn explain_message(out: &mut String, text: &str) -> Result<Value, String> {
    let (bytes, notes) = repair_spec_text(text);
    let message = SipMessage::parse(&bytes, &FramingLimits::default())
        .map_err(|e| format!("bad SIP message: {e}"))?;
    for note in &notes {
        let _ = writeln!(out, "note: {note}");
    }
    let mut json = serde_json::Map::new();
    json.insert("kind".into(), "sip-message".into());
    json.insert("notes".into(), notes.clone().into());
    if let Some(status) = message.status() {
        let s = write_status(out, status, message.reason_phrase().unwrap_or_default());
        json.insert("status".into(), s);
    } else if let Some(method) = message.method() {
        let _ = writeln!(out, "SIP request {method}");
        json.insert("method".into(), method.to_string().into());
    }
    let mut headers = serde_json::Map::new();
    for name in ["From", "To", "Call-ID", "CSeq", "Content-Type"] {
        for value in message.header_values(&name.into()) {
            let _ = writeln!(out, "  {name:<8} {value}");
            headers.insert(name.into(), value.into());
        }
    }
    json.insert("headers".into(), headers.into());
    let mut diagnostics = Vec::new();
    let mut warnings = Vec::new();
    let mut retry_after = Vec::new();
    let mut found = false;
    for (kind, name) in [
        (HeaderKind::Private, "ms-diagnostics"),
        (HeaderKind::Public, "ms-diagnostics-public"),
    ] {
        for value in message.header_values(&name.into()) {
            found = true;
            out.push('\n');
            match DiagnosticsHeader::parse(kind, value) {
                Ok(header) => diagnostics.push(write_diag(out, &header)),
                Err(e) => {
                    let _ = writeln!(out, "{name}: does not parse ({e}): {value:?}");
                }
            }
        }
    }
    if !found {
        let _ = writeln!(out, "\n(no ms-diagnostics or ms-diagnostics-public header)");
    }
    for value in message.header_values(&"Warning".into()) {
        out.push('\n');
        match explain_warning(out, value) {
            Ok(w) => warnings.push(w),
            Err(e) => {
                let _ = writeln!(out, "Warning: {e}");
            }
        }
    }
    for value in message.header_values(&"Retry-After".into()) {
        out.push('\n');
        match explain_retry_after(out, value) {
            Ok(r) => retry_after.push(r),
            Err(e) => {
                let _ = writeln!(out, "Retry-After: {e}");
            }
        }
    }
    json.insert("diagnostics".into(), diagnostics.into());
    json.insert("warnings".into(), warnings.into());
    json.insert("retryAfter".into(), retry_after.into());
    Ok(json.into())
}

/// Makes a message copied from text (a PDF, an e-mail, a log) valid SIP: CRLF line
/// ends; a header-section line that is neither a header nor folded is a wrapped line
/// of the header before it, so it is folded into it; a missing or unreadable
/// Content-Length is set to the body's length. Each repair is reported.
pub(crate) fn repair_spec_text(text: &str) -> (Vec<u8>, Vec<String>) {
    let mut notes = Vec::new();
    let normalized = text.replace("\r\n", "\n");
    let (head, body) = match normalized.split_once("\n\n") {
        Some((h, b)) => (h.to_owned(), b.to_owned()),
        None => (normalized.trim_end_matches('\n').to_owned(), String::new()),
    };
    let mut lines: Vec<String> = Vec::new();
    for (i, line) in head.lines().enumerate() {
        let is_continuation = line.starts_with([' ', '\t']);
        if i > 0 && !is_continuation && split_header(line).is_none() {
            notes.push(format!(
                "line {} is not a header; folded into the one before",
                i + 1
            ));
            lines.push(format!(" {line}"));
        } else {
            lines.push(line.to_owned());
        }
    }
    let content_length_ok = lines.iter().any(|l| {
        split_header(l).is_some_and(|(n, v)| {
            (n.eq_ignore_ascii_case("Content-Length") || n == "l") && v.parse::<usize>().is_ok()
        })
    });
    if !content_length_ok {
        lines.retain(|l| {
            !split_header(l)
                .is_some_and(|(n, _)| n.eq_ignore_ascii_case("Content-Length") || n == "l")
        });
        lines.push(format!("Content-Length: {}", body.len()));
        notes.push(format!(
            "Content-Length missing or not a number; set to {}",
            body.len()
        ));
    }
    let mut out = lines.join("\r\n");
    out.push_str("\r\n\r\n");
    out.push_str(&body);
    (out.into_bytes(), notes)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC_504: &str = include_str!("../../sdk/tests/fixtures/ms-ocer-4.1/504.sip");

    #[test]
    fn decodes_the_spec_4_1_final_response() {
        let out = explain(SPEC_504).unwrap().0;
        assert!(out.contains("SIP status 504"), "{out}");
        assert!(out.contains("ErrorId  1007"), "{out}");
        assert!(out.contains("\"Temporarily cannot route\""), "{out}");
        assert!(out.contains("Lync Server 2010: 7.2 SipStack"), "{out}");
        assert!(out.contains("OCS 2007/R2: 8.2 SipStack"), "{out}");
    }

    #[test]
    fn repairs_pdf_wrapped_lines_of_the_spec_text() {
        let pdf = "SIP/2.0 504 Server time-out\n\
                   Call-ID: f5290007af32443f8a82daa76c934880\n\
                   CSeq: 1 INVITE\n\
                   ms-diagnostics: 1007; reason=\"Temporarily cannot\n\
                   route\";source=\"server.contoso.com\";ErrorType=\"Connect Attempt\n\
                   Failure\"\n\
                   Content-Length: 0\n";
        let out = explain(pdf).unwrap().0;
        assert!(out.contains("note: line 5 is not a header"), "{out}");
        assert!(
            out.contains("ErrorType \"Connect Attempt Failure\""),
            "{out}"
        );
    }

    #[test]
    fn single_values_are_recognised() {
        assert!(explain(
            "ms-diagnostics-public: 3027;reason=\" User not allowed in closed conference\""
        )
        .unwrap()
        .0
        .contains("ms-diagnostics-public\n  ErrorId  3027"));
        assert!(explain("1003;reason=\"User does not exist\"")
            .unwrap()
            .0
            .contains("ErrorId  1003"));
        assert!(explain("SIP/2.0 480 Temporarily Unavailable")
            .unwrap()
            .0
            .contains("SIP status 480"));
        assert!(explain("486").unwrap().0.contains("SIP status 486"));
        assert!(explain("391 lync.contoso.com \"Do not disturb\"")
            .unwrap()
            .0
            .contains("Warning 391"));
        assert!(explain("Retry-After: 30").unwrap().0.contains("wait 30 s"));
    }

    #[test]
    fn unknown_ids_say_so_plainly() {
        let out = explain("ms-diagnostics: 999999;reason=\"x\"").unwrap().0;
        assert!(out.contains("unknown ErrorId 999999"), "{out}");
    }

    #[test]
    fn bad_input_is_an_error() {
        assert!(explain("").is_err());
        assert!(explain("hello there").is_err());
        assert!(explain("ms-diagnostics: 99999999999;reason=\"x\"").is_err());
        assert!(explain("SIP/2.0 99 Odd").is_err());
    }

    fn cli(args: &[&str]) -> Cli {
        Cli::try_parse_from(std::iter::once("explain").chain(args.iter().copied())).unwrap()
    }

    fn run_text(args: &[&str]) -> String {
        match run(&cli(args)).unwrap() {
            Outcome::Out(t) | Outcome::OutWithNotes(t, _) => t,
        }
    }

    #[test]
    fn seed_000_phone_edition_pairs() {
        let out = run_text(&["(0x2ee2/0x0)"]);
        assert!(
            out.contains("WinInet 12002 ERROR_INTERNET_TIMEOUT: a problem contacting"),
            "{out}"
        );
        assert!(out.contains("source   seed 000, line 24"), "{out}");
        let out = run_text(&["(0x80072efd/0x1f4)"]);
        assert!(
            out.contains("WinInet 12029 ERROR_INTERNET_CANNOT_CONNECT"),
            "{out}"
        );
        assert!(
            out.contains("HTTP 500 Internal Server Error: the server was contacted"),
            "{out}"
        );
        let json: Value = serde_json::from_str(&run_text(&["--json", "(0x00/0)"])).unwrap();
        assert_eq!(json["normal"], true);
        assert!(run(&cli(&["(0xzz/0)"])).is_err());
    }

    #[test]
    fn windows_codes_show_every_reading() {
        let out = run_text(&["10060"]);
        assert!(
            out.contains("reading 1: an ms-diagnostics ErrorId"),
            "{out}"
        );
        assert!(out.contains("OCS mediation server"), "{out}");
        assert!(
            out.contains("reading 2: a Windows error\nWinsock error 10060 (0x274C) WSAETIMEDOUT"),
            "{out}"
        );
        for input in ["WSAETIMEDOUT", "0x8007274C", "0x274C"] {
            let out = run_text(&[input]);
            assert!(
                out.starts_with("Winsock error 10060 (0x274C) WSAETIMEDOUT"),
                "{input}: {out}"
            );
            assert!(out.contains("HRESULT  0x8007274C"), "{out}");
        }
        let out = run_text(&["12029"]);
        assert!(
            out.contains("WinInet error 12029 (0x2EFD) ERROR_INTERNET_CANNOT_CONNECT"),
            "{out}"
        );
        let json: Value = serde_json::from_str(&run_text(&["--json", "10060"])).unwrap();
        assert_eq!(json["readings"][0]["kind"], "diagnostics");
        assert_eq!(json["readings"][1]["name"], "WSAETIMEDOUT");
    }

    #[test]
    fn seed_004_ucwa_bodies_and_display_errors() {
        let out = run_text(&["{\"code\":\"Conflict\",\"subcode\":\"AlreadyExists\",\"message\":\"The requested resource already exists.\"}"]);
        assert!(
            out.starts_with(
                "a UCWA 2.0 error body (JSON)\n  code     Conflict\n  subcode  AlreadyExists\n"
            ),
            "{out}"
        );
        assert!(out.contains("(seed 004, line 61)"), "{out}");
        let out = run_text(&[
            "<reason code=\"Gone\" subcode=\"Brand-new\"><message>m</message></reason>",
        ]);
        assert!(out.contains("(XML)"), "{out}");
        assert!(out.contains("unknown subcode: ignore it"), "{out}");
        let out = run_text(&["{\"code\":\"SipStatus\",\"subcode\":\"504\",\"message\":\"Operation was unsuccessful.\",\"debugInfo\":{\"messageId\":\"lync2010-sip-504-voice-call\",\"handled\":true}}"]);
        assert!(out.starts_with("an ocer DisplayError (JSON)"), "{out}");
        assert!(
            out.contains("debugInfo messageId = lync2010-sip-504-voice-call"),
            "{out}"
        );
        assert!(run(&cli(&["{\"message\":\"no code\"}"])).is_err());
    }

    #[test]
    fn seed_003_activesync_status_per_command() {
        let out = run_text(&["--eas-command", "Sync", "8"]);
        assert!(out.starts_with("Exchange ActiveSync Sync status 8\n  meaning  Object not found.\n  source   seed 003, line 41\n"), "{out}");
        assert!(out.contains("(for Search: Too Complex)"), "{out}");
        let json: Value =
            serde_json::from_str(&run_text(&["--json", "--eas-command", "ping", "7"])).unwrap();
        assert_eq!(json["command"], "Ping");
        assert!(run(&cli(&["--eas-command", "Provision", "1"])).is_err());
        assert!(run(&cli(&["--eas-command", "Sync", "x"])).is_err());
    }

    #[test]
    fn warnings_print_as_text_not_debug() {
        let out = run_text(&["Warning: 399 lync.contoso.com:5061 \"Call rejected\""]);
        assert!(
            out.starts_with("Warning 399 from lync.contoso.com:5061: \"Call rejected\""),
            "{out}"
        );
        assert!(!out.contains("HostPort"), "{out}");
    }

    #[test]
    fn every_mode_has_json() {
        for args in [
            &["--json", "504"][..],
            &["--json", "ms-diagnostics: 1007;reason=\"x\""],
            &["--json", "391 h \"t\""],
            &["--json", "Retry-After: 30"],
            &["--json", "WSAECONNRESET"],
        ] {
            let out = run_text(args);
            let v: Value =
                serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: {e}\n{out}"));
            assert!(v["kind"].is_string(), "{args:?}: {v}");
        }
        let v: Value = serde_json::from_str(&run_text(&["--json", SPEC_504])).unwrap();
        assert_eq!(v["diagnostics"][0]["errorId"], 1007);
    }

    #[test]
    fn refused_command_lines_are_errors_not_panics() {
        for bad in [
            &["--resolve", "--mode", "voice"][..],
            &["--resolve", "--set", "lync2010", "--mode", "video"],
            &["--bogus"],
            &["--aor", "x"],
            &["--dump-strings", "lync2013"],
            &[
                "--windows-error",
                "nope",
                "--resolve",
                "--set",
                "lync2010",
                "--mode",
                "voice",
            ],
        ] {
            let args = std::iter::once("explain").chain(bad.iter().copied());
            assert!(Cli::try_parse_from(args).is_err(), "{bad:?}");
        }
        assert!(run(&cli(&[
            "--resolve",
            "--set",
            "lync2010",
            "--mode",
            "voice",
            "a",
            "b"
        ]))
        .is_err());
        Cli::command().debug_assert();
    }

    #[test]
    fn completions_are_generated() {
        let out = run_text(&["--completions", "bash"]);
        assert!(
            out.contains("--eas-command"),
            "{}",
            &out[..200.min(out.len())]
        );
    }

    #[test]
    fn a_closed_pipe_ends_quietly() {
        struct Closed;
        impl std::io::Write for Closed {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::ErrorKind::BrokenPipe.into())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        assert_eq!(write_to(&mut Closed, "x"), ExitCode::SUCCESS);
        let mut buf = Vec::new();
        assert_eq!(write_to(&mut buf, "x"), ExitCode::SUCCESS);
        assert_eq!(buf, b"x");
    }
}
