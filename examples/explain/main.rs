//! `explain`: decode what a Lync / Skype for Business server said.
//!
//! Give it, as an argument or on stdin, one of:
//! - an `ms-diagnostics` / `ms-diagnostics-public` header (with or without its name),
//! - a SIP status line (`SIP/2.0 504 Server time-out`) or a bare status code,
//! - a `Warning` header value,
//! - a whole SIP message (a request or a response).
//!
//! It prints the parsed fields and, for every ErrorId, the entries of both server
//! catalogs (MS-OCER Appendix B, Lync Server 2010; Appendix C, OCS 2007/R2).
//! Bad input gives a message on stderr and exit code 2.
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
use std::io::Read as _;
use std::process::ExitCode;

mod display;
mod report;

use ocer::diag::{Catalog, DiagnosticsHeader, Direction, ErrorId, HeaderKind, ParamValue};
use ocer::sip::{parse_warning_values, FramingLimits, RetryAfter, SipMessage, StatusCode};

const USAGE: &str = "\
usage: explain [INPUT]
       explain < message.sip
{display}
{report}

INPUT is an ms-diagnostics header, a SIP status line or code, a Warning value, or a
whole SIP message. Without INPUT, it is read from stdin.";

fn usage() -> String {
    USAGE
        .replace("{display}", display::USAGE)
        .replace("{report}", report::USAGE)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("{}", usage());
        return ExitCode::SUCCESS;
    }
    if let Some(command) = display::parse_args(&args) {
        return run_display(command);
    }
    if let Some(command) = report::parse_args(&args) {
        return run_report(command);
    }
    let input = if args.is_empty() {
        let mut buf = String::new();
        if let Err(e) = std::io::stdin().read_to_string(&mut buf) {
            eprintln!("explain: cannot read stdin: {e}");
            return ExitCode::from(2);
        }
        buf
    } else {
        args.join(" ")
    };
    match explain(&input) {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("explain: {message}\n\n{}", usage());
            ExitCode::from(2)
        }
    }
}

fn run_display(command: Result<display::Command, String>) -> ExitCode {
    let result = command.and_then(|command| match command {
        display::Command::Dump(set) => Ok(display::dump_strings(set)),
        display::Command::Resolve(args) => {
            let trace = match &args.trace {
                Some(path) => std::fs::read(path).map_err(|e| format!("cannot read {path}: {e}")),
                None => {
                    let mut buf = Vec::new();
                    std::io::stdin()
                        .read_to_end(&mut buf)
                        .map(|_| buf)
                        .map_err(|e| format!("cannot read stdin: {e}"))
                }
            };
            trace.and_then(|trace| display::resolve(&args, &trace))
        }
    });
    match result {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("explain: {message}\n\n{}", usage());
            ExitCode::from(2)
        }
    }
}

fn run_report(command: Result<report::ReportArgs, String>) -> ExitCode {
    let result = command.and_then(|args| {
        let trace = match &args.trace {
            Some(path) => std::fs::read(path).map_err(|e| format!("cannot read {path}: {e}")),
            None => {
                let mut buf = Vec::new();
                std::io::stdin()
                    .read_to_end(&mut buf)
                    .map(|_| buf)
                    .map_err(|e| format!("cannot read stdin: {e}"))
            }
        };
        trace.and_then(|trace| report::report(&args, &trace))
    });
    match result {
        Ok((body, notes)) => {
            eprint!("{notes}");
            println!("{body}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("explain: {message}\n\n{}", usage());
            ExitCode::from(2)
        }
    }
}

/// Decides what `input` is and explains it.
fn explain(input: &str) -> Result<String, String> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err("no input".into());
    }
    let first_line = trimmed.lines().next().unwrap_or_default().trim();
    let is_multiline = trimmed.lines().nth(1).is_some();
    let mut out = String::new();

    if let Some((name, value)) = split_header(trimmed) {
        if let Some(kind) = HeaderKind::from_name(name) {
            explain_diag(&mut out, kind, value)?;
            return Ok(out);
        }
        if name.eq_ignore_ascii_case("Warning") {
            explain_warning(&mut out, value)?;
            return Ok(out);
        }
        if name.eq_ignore_ascii_case("Retry-After") {
            explain_retry_after(&mut out, value)?;
            return Ok(out);
        }
    }
    if (is_multiline || looks_like_request_line(first_line)) && is_start_line(first_line) {
        explain_message(&mut out, trimmed)?;
        return Ok(out);
    }
    if let Some(rest) = first_line.strip_prefix("SIP/2.0 ") {
        explain_status(&mut out, rest)?;
        return Ok(out);
    }
    if first_line.len() == 3 && first_line.bytes().all(|b| b.is_ascii_digit()) {
        explain_status(&mut out, first_line)?;
        return Ok(out);
    }
    if trimmed.starts_with(|c: char| c.is_ascii_digit()) {
        // `391 host "text"` is a Warning; `1007;reason=...` is a diagnostics value.
        if let Ok(warnings) = parse_warning_values(trimmed) {
            if !warnings.is_empty() {
                explain_warning(&mut out, trimmed)?;
                return Ok(out);
            }
        }
        explain_diag(&mut out, HeaderKind::Private, trimmed)?;
        return Ok(out);
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

fn explain_diag(out: &mut String, kind: HeaderKind, value: &str) -> Result<(), String> {
    let header = DiagnosticsHeader::parse(kind, value)
        .map_err(|e| format!("bad {} value: {e}", kind.name()))?;
    write_diag(out, &header);
    Ok(())
}

fn write_diag(out: &mut String, header: &DiagnosticsHeader) {
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
    write_catalogs(out, header.error_id);
}

fn write_catalogs(out: &mut String, id: ErrorId) {
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
        }
    }
}

fn catalog_name(catalog: Catalog) -> &'static str {
    match catalog {
        Catalog::LyncServer2010 => "Lync Server 2010",
        Catalog::Ocs2007 => "OCS 2007/R2",
    }
}

fn explain_status(out: &mut String, rest: &str) -> Result<(), String> {
    let (code, phrase) = rest.trim().split_once(' ').unwrap_or((rest.trim(), ""));
    let code: u16 = code
        .parse()
        .ok()
        .filter(|c| (100..=699).contains(c))
        .ok_or_else(|| format!("not a SIP status code: {code:?}"))?;
    write_status(out, StatusCode(code), phrase);
    Ok(())
}

fn write_status(out: &mut String, status: StatusCode, phrase: &str) {
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
}

fn explain_warning(out: &mut String, value: &str) -> Result<(), String> {
    let warnings = parse_warning_values(value).map_err(|e| format!("bad Warning value: {e}"))?;
    for w in warnings {
        let _ = writeln!(out, "Warning {} from {:?}: {:?}", w.code.0, w.agent, w.text);
    }
    Ok(())
}

fn explain_retry_after(out: &mut String, value: &str) -> Result<(), String> {
    let ra = RetryAfter::parse(value).map_err(|e| format!("bad Retry-After value: {e}"))?;
    let _ = writeln!(out, "Retry-After: wait {} s before retrying", ra.seconds);
    if let Some(d) = ra.duration {
        let _ = writeln!(out, "  available for {d} s after that");
    }
    if let Some(c) = &ra.comment {
        let _ = writeln!(out, "  comment {c:?}");
    }
    Ok(())
}

fn explain_message(out: &mut String, text: &str) -> Result<(), String> {
    let (bytes, notes) = repair_spec_text(text);
    let message = SipMessage::parse(&bytes, &FramingLimits::default())
        .map_err(|e| format!("bad SIP message: {e}"))?;
    for note in notes {
        let _ = writeln!(out, "note: {note}");
    }
    if let Some(status) = message.status() {
        write_status(out, status, message.reason_phrase().unwrap_or_default());
    } else if let Some(method) = message.method() {
        let _ = writeln!(out, "SIP request {method}");
    }
    for name in ["From", "To", "Call-ID", "CSeq", "Content-Type"] {
        for value in message.header_values(&name.into()) {
            let _ = writeln!(out, "  {name:<8} {value}");
        }
    }
    let mut found = false;
    for (kind, name) in [
        (HeaderKind::Private, "ms-diagnostics"),
        (HeaderKind::Public, "ms-diagnostics-public"),
    ] {
        for value in message.header_values(&name.into()) {
            found = true;
            out.push('\n');
            match DiagnosticsHeader::parse(kind, value) {
                Ok(header) => write_diag(out, &header),
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
        if let Err(e) = explain_warning(out, value) {
            let _ = writeln!(out, "Warning: {e}");
        }
    }
    for value in message.header_values(&"Retry-After".into()) {
        out.push('\n');
        if let Err(e) = explain_retry_after(out, value) {
            let _ = writeln!(out, "Retry-After: {e}");
        }
    }
    Ok(())
}

/// Makes a message copied from text (a PDF, an e-mail, a log) valid SIP: CRLF line
/// ends; a header-section line that is neither a header nor folded is a wrapped line
/// of the header before it, so it is folded into it; a missing or unreadable
/// Content-Length is set to the body's length. Each repair is reported.
fn repair_spec_text(text: &str) -> (Vec<u8>, Vec<String>) {
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
        let out = explain(SPEC_504).unwrap();
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
        let out = explain(pdf).unwrap();
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
        .contains("ms-diagnostics-public\n  ErrorId  3027"));
        assert!(explain("1003;reason=\"User does not exist\"")
            .unwrap()
            .contains("ErrorId  1003"));
        assert!(explain("SIP/2.0 480 Temporarily Unavailable")
            .unwrap()
            .contains("SIP status 480"));
        assert!(explain("486").unwrap().contains("SIP status 486"));
        assert!(explain("391 lync.contoso.com \"Do not disturb\"")
            .unwrap()
            .contains("Warning 391"));
        assert!(explain("Retry-After: 30").unwrap().contains("wait 30 s"));
    }

    #[test]
    fn unknown_ids_say_so_plainly() {
        let out = explain("ms-diagnostics: 999999;reason=\"x\"").unwrap();
        assert!(out.contains("unknown ErrorId 999999"), "{out}");
    }

    #[test]
    fn bad_input_is_an_error() {
        assert!(explain("").is_err());
        assert!(explain("hello there").is_err());
        assert!(explain("ms-diagnostics: 99999999999;reason=\"x\"").is_err());
        assert!(explain("SIP/2.0 99 Odd").is_err());
    }
}
