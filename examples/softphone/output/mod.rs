//! What the softphone prints: the user's view of each event (the string a
//! Lync 2010 or Communicator 2007 client would show), the messages on the
//! wire (demo), and, with `--json`, one JSON object per event
//! ([`json`]).

pub(crate) mod json;

use std::io::Write as _;
use std::sync::{Arc, Mutex, PoisonError};

use ocer::diag::ObservedDiagnostic;
use ocer::display::DisplayError;
use ocer::report::ErrorReport;
use ocer::sip::Name;
use ocer::sip::SipMessage;
use ocer::ua::{Failure, FailureKind, RegistrationState, UaEvent};

use crate::demo_server::{request_uri, Wire};

/// Where output goes: stdout, or a buffer a test reads.
#[derive(Clone)]
pub(crate) enum Sink {
    /// Standard output, flushed per line so progress shows while waiting.
    Stdout,
    /// A shared buffer.
    #[cfg_attr(not(test), allow(dead_code))]
    Capture(Arc<Mutex<String>>),
}

/// The printer: text for people, or JSON lines for scripts.
#[derive(Clone)]
pub(crate) struct Output {
    sink: Sink,
    json: bool,
}

impl Output {
    /// Prints to `sink`; JSON lines when `json`.
    pub(crate) fn new(sink: Sink, json: bool) -> Output {
        Output { sink, json }
    }

    /// Whether this prints JSON.
    pub(crate) fn is_json(&self) -> bool {
        self.json
    }

    /// Writes `text` and a line break (text mode only).
    pub(crate) fn say(&self, text: impl AsRef<str>) {
        if !self.json {
            self.write(text.as_ref());
        }
    }

    /// Writes one JSON object as a line (JSON mode only).
    pub(crate) fn emit(&self, value: &serde_json::Value) {
        if self.json {
            self.write(&value.to_string());
        }
    }

    fn write(&self, text: &str) {
        match &self.sink {
            Sink::Stdout => {
                let mut out = std::io::stdout().lock();
                // A closed stdout (`softphone | head`) ends the output,
                // not the softphone: its exit code still says how the
                // command went.
                let _ = writeln!(out, "{text}");
                let _ = out.flush();
            }
            Sink::Capture(buffer) => {
                let mut buffer = buffer.lock().unwrap_or_else(PoisonError::into_inner);
                buffer.push_str(text);
                buffer.push('\n');
            }
        }
    }

    /// One event of the user agent.
    pub(crate) fn event(&self, event: &UaEvent) {
        if self.json {
            self.emit(&json::event(event));
        } else {
            self.say(event_text(event));
        }
    }

    /// One message the demo server received (`>>`) or sent (`<<`), with the
    /// headers that matter to MS-OCER; a reportError body in full.
    pub(crate) fn wire(&self, wire: &Wire) {
        self.say(wire_text(wire));
    }
}

/// The label column of event lines.
const LABEL_WIDTH: usize = 14;

/// `[label]` padded to the label column, then `text`; continuation lines
/// of `text` are indented to the same column.
pub(crate) fn labelled(label: &str, text: &str) -> String {
    let head = format!("  [{label}]");
    let pad = " ".repeat(LABEL_WIDTH.saturating_sub(head.len()).max(1));
    let indent = " ".repeat(head.len() + pad.len());
    let mut out = String::new();
    for (i, line) in text.lines().enumerate() {
        if i == 0 {
            out.push_str(&head);
            out.push_str(&pad);
        } else {
            out.push('\n');
            out.push_str(&indent);
        }
        out.push_str(line);
    }
    if out.is_empty() {
        out.push_str(&head);
    }
    out
}

/// The text of one event.
pub(crate) fn event_text(event: &UaEvent) -> String {
    match event {
        UaEvent::Registration(RegistrationState::Registering) => {
            labelled("register", "registering …")
        }
        UaEvent::Registration(RegistrationState::Registered { expires }) => labelled(
            "register",
            &format!(
                "registered for {} s (refreshed before then)",
                expires.as_secs()
            ),
        ),
        UaEvent::Registration(RegistrationState::Failed(failure)) => with_user_sees(
            labelled("register", &format!("failed: {}", failure_summary(failure))),
            failure.display.as_ref(),
        ),
        UaEvent::Registration(RegistrationState::Unregistered) => {
            labelled("register", "unregistered")
        }
        UaEvent::Progress {
            status,
            reason,
            diagnostics,
            display,
            ..
        } => {
            let mut text = format!("{} {reason}", status.as_u16());
            for diag in diagnostics {
                text.push('\n');
                text.push_str(&diagnostic_text(diag));
            }
            if let Some(display) = display {
                text.push('\n');
                text.push_str(display.headline());
            }
            labelled("progress", &text)
        }
        UaEvent::Established { call_id } => labelled("call", &format!("established ({call_id})")),
        UaEvent::Failed {
            mode,
            action,
            failure,
            ..
        } => {
            let what = failure
                .record
                .as_ref()
                .map(|r| format!("{} {}", r.identity.method, r.identity.to_uri))
                .unwrap_or_default();
            with_user_sees(
                labelled(
                    "failed",
                    &format!("{what} ({mode}, {action}): {}", failure_summary(failure)),
                ),
                failure.display.as_ref(),
            )
        }
        UaEvent::Ended {
            call_id,
            by_server,
            display,
            diagnostics,
        } => {
            let who = if *by_server { "by the server" } else { "here" };
            let mut text = format!("ended {who} ({call_id})");
            for diag in diagnostics {
                text.push('\n');
                text.push_str(&diagnostic_text(diag));
            }
            with_user_sees(labelled("call", &text), display.as_ref())
        }
        UaEvent::ReportQueued { report_id, call_id } => labelled(
            "report",
            &format!("queued {report_id} (the failed request's Call-ID {call_id})"),
        ),
        UaEvent::ReportSent { report_id } => {
            labelled("report", &format!("sent {report_id}: the server took it"))
        }
        UaEvent::ReportDropped { report_id, why } => {
            let id = report_id.map(|id| id.to_string()).unwrap_or_default();
            labelled("report", &format!("dropped {id}: {why}"))
        }
        UaEvent::ReportingSuspended { why } => labelled(
            "report",
            &format!("suspended for this login session: {why}"),
        ),
        UaEvent::TargetFailed(failed) => labelled(
            "pool",
            &format!(
                "{} failed ({}); trying {}",
                target_text(&failed.target),
                failover_cause(&failed.cause),
                target_text(&failed.next)
            ),
        ),
        UaEvent::ConnectionLost { target, failure } => labelled(
            "pool",
            &format!(
                "connection to {} lost ({failure}); registering again",
                target_text(target)
            ),
        ),
        other => labelled("event", &format!("{other:?}")),
    }
}

/// A target as `tls pool1.contoso.com (192.0.2.1:5061)`.
pub(crate) fn target_text(target: &ocer::ua::transport::Target) -> String {
    match &target.server_name {
        Some(name) => format!("{} {name} ({})", target.kind.uri_param(), target.addr),
        None => format!("{} {}", target.kind.uri_param(), target.addr),
    }
}

/// Why a target was left, in a few words.
pub(crate) fn failover_cause(cause: &ocer::ua::driver::FailoverCause) -> String {
    match cause {
        ocer::ua::driver::FailoverCause::Transport(failure) => failure.to_string(),
        ocer::ua::driver::FailoverCause::Unavailable(response) => {
            format!(
                "{} to REGISTER",
                response.status().map_or(503, |s| s.as_u16())
            )
        }
        other => format!("{other:?}"),
    }
}

/// What ended a failed operation, in a few words.
pub(crate) fn failure_summary(failure: &Failure) -> String {
    match &failure.kind {
        FailureKind::Rejected(status) => {
            let reason = failure
                .record
                .as_ref()
                .and_then(|r| r.final_response())
                .map_or("", |r| r.reason_phrase.as_str());
            format!("{} {reason}", status.as_u16())
                .trim_end()
                .to_owned()
        }
        FailureKind::Timeout => "no final response (timeout)".to_owned(),
        FailureKind::Transport(transport) => match failure.windows {
            Some(windows) => format!("transport failure: {transport}; Windows error {windows}"),
            None => format!("transport failure: {transport}"),
        },
        FailureKind::Local(local) => local.to_string(),
        FailureKind::UnsupportedAuthentication(unsupported) => unsupported.to_string(),
        other => format!("{other:?}"),
    }
}

/// `line`, then what the user sees when there is a string for it.
fn with_user_sees(mut line: String, display: Option<&DisplayError>) -> String {
    if let Some(display) = display {
        line.push('\n');
        line.push_str(&user_sees(display));
    }
    line
}

/// The lines a Lync / Communicator user would see, and which string it is.
pub(crate) fn user_sees(display: &DisplayError) -> String {
    let mut text = String::new();
    for line in [display.message.as_deref(), display.info.as_deref()]
        .into_iter()
        .flatten()
    {
        text.push_str(line);
        text.push('\n');
    }
    let handled = if display.is_generic() {
        format!("the generic string; the first code was {}", display.cause)
    } else {
        format!(
            "for {} on the {}",
            display.cause,
            display.origin.id().replace('-', " ")
        )
    };
    text.push_str(&format!(
        "({}, {}: {handled})",
        display.message_id, display.locale
    ));
    labelled("user sees", &text)
}

/// One diagnostics header: its name, ErrorId and reason.
pub(crate) fn diagnostic_text(diag: &ObservedDiagnostic) -> String {
    match &diag.parsed {
        Ok(header) => {
            let mut text = format!("{}: {}", diag.kind, header.error_id);
            if let Some(reason) = &header.reason {
                text.push_str(&format!(" \"{reason}\""));
            }
            if let Some(source) = &header.source {
                text.push_str(&format!(" from {source}"));
            }
            text
        }
        Err(_) => shorten(&format!("{}: {}", diag.kind, unfold(&diag.raw)), 100),
    }
}

/// Headers shown under a message on the wire, in this order.
const SHOWN_HEADERS: [&str; 8] = [
    "WWW-Authenticate",
    "Authorization",
    "Expires",
    "ms-diagnostics",
    "ms-diagnostics-public",
    "Warning",
    "Retry-After",
    "Content-Type",
];

/// The longest header line shown; longer values end in `…`.
const MAX_HEADER_LINE: usize = 118;

/// The text of one wire-log entry.
pub(crate) fn wire_text(wire: &Wire) -> String {
    let message = &wire.message;
    let arrow = if wire.inbound { ">>" } else { "<<" };
    let mut out = match message.status() {
        Some(status) => format!(
            "  {arrow} {} {}",
            status.as_u16(),
            message.reason_phrase().unwrap_or_default()
        ),
        None => format!(
            "  {arrow} {} {}",
            message
                .method()
                .map(ToString::to_string)
                .unwrap_or_default(),
            request_uri(message)
        ),
    };
    for name in SHOWN_HEADERS {
        let header = Name::from(name);
        for value in message.header_values(&header) {
            let line = format!("       {name}: {}", unfold(value));
            out.push('\n');
            out.push_str(&shorten(&line, MAX_HEADER_LINE));
        }
    }
    if let Some(report) = report_body(message) {
        out.push('\n');
        out.push_str(&xml_lines(&report, "       "));
    } else if !message.body.is_empty() {
        out.push_str(&format!("\n       ({} bytes of body)", message.body.len()));
    }
    out
}

/// The body of a SERVICE request that carries a reportError document.
pub(crate) fn report_body(message: &SipMessage) -> Option<String> {
    let content_type = message.header_value(&Name::CONTENT_TYPE)?;
    if !content_type.trim().starts_with(ocer::report::CONTENT_TYPE) {
        return None;
    }
    Some(String::from_utf8_lossy(&message.body).into_owned())
}

/// The reportError document of a SERVICE request, parsed.
pub(crate) fn report_of(message: &SipMessage) -> Option<ErrorReport<'static>> {
    report_body(message).and_then(|body| ErrorReport::parse(body.as_bytes()).ok())
}

/// A header value with its folded lines joined (RFC 3261 §7.3.1: a fold is
/// equivalent to one space).
pub(crate) fn unfold(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut lines = value.split("\r\n");
    if let Some(first) = lines.next() {
        out.push_str(first);
    }
    for line in lines {
        out.push(' ');
        out.push_str(line.trim_start());
    }
    out
}

/// `text` cut to `max` characters, ending in `…` when cut.
fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// An XML document on one line per element, indented by depth; text stays
/// with its element. For reading, not parsing.
fn xml_lines(xml: &str, indent: &str) -> String {
    let mut out = String::new();
    let mut depth = 0usize;
    for (i, piece) in xml.trim().split("><").enumerate() {
        let mut element = String::with_capacity(piece.len() + 2);
        if i > 0 {
            element.push('<');
        }
        element.push_str(piece);
        if !element.ends_with('>') {
            element.push('>');
        }
        let closing = element.starts_with("</");
        if closing {
            depth = depth.saturating_sub(1);
        }
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(indent);
        out.push_str(&"  ".repeat(depth));
        out.push_str(&unfold(&element));
        let opens = !closing && !element.ends_with("/>") && !element.contains("</");
        if opens && !element.starts_with("<?") {
            depth += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo_server::Transport;
    use ocer::sip::FramingLimits;

    fn wire(inbound: bool, text: &str) -> Wire {
        Wire {
            inbound,
            transport: Transport::Tcp,
            message: SipMessage::parse(
                text.replace('\n', "\r\n").as_bytes(),
                &FramingLimits::default(),
            )
            .unwrap(),
        }
    }

    #[test]
    fn a_response_shows_its_status_and_diagnostics_unfolded_and_cut() {
        let text = wire_text(&wire(
            false,
            "SIP/2.0 504 Server time-out\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\n\
             ms-diagnostics: 1007;reason=\"Temporarily cannot\n route\";source=\"server.contoso.com\";\
             ErrorType=\"Connect Attempt Failure\";WinsockFailureCode=\"274D(WSAECONNREFUSED)\"\n\
             Content-Length: 0\n\n",
        ));
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("  << 504 Server time-out"));
        let diag = lines.next().unwrap();
        assert!(diag.starts_with(
            "       ms-diagnostics: 1007;reason=\"Temporarily cannot route\";source=\"server.contoso.com\""
        ));
        assert!(
            diag.ends_with('…') && diag.chars().count() == MAX_HEADER_LINE,
            "{diag}"
        );
        assert_eq!(lines.next(), None);
    }

    #[test]
    fn a_service_request_shows_its_report_element_by_element() {
        let body = "<reportError xmlns=\"http://schemas.microsoft.com/2006/09/sip/error-reporting\">\
                    <error callId=\"c1\" responseCode=\"504\" requestType=\"INVITE\">\
                    <diagHeader>1007;reason=\"x\"</diagHeader>\
                    <progressReports><progressReport><diagHeader>12006</diagHeader></progressReport></progressReports>\
                    </error></reportError>";
        let text = wire_text(&wire(
            true,
            &format!(
                "SERVICE sip:alice@contoso.com SIP/2.0\nContent-Type: application/msrtc-reporterror+xml\n\
                 Content-Length: {}\n\n{body}",
                body.len()
            ),
        ));
        let expected = [
            "  >> SERVICE sip:alice@contoso.com",
            "       Content-Type: application/msrtc-reporterror+xml",
            "       <reportError xmlns=\"http://schemas.microsoft.com/2006/09/sip/error-reporting\">",
            "         <error callId=\"c1\" responseCode=\"504\" requestType=\"INVITE\">",
            "           <diagHeader>1007;reason=\"x\"</diagHeader>",
            "           <progressReports>",
            "             <progressReport>",
            "               <diagHeader>12006</diagHeader>",
            "             </progressReport>",
            "           </progressReports>",
            "         </error>",
            "       </reportError>",
        ];
        assert_eq!(text.lines().collect::<Vec<_>>(), expected);
    }

    #[test]
    fn the_capture_sink_keeps_text_or_json_only() {
        let buffer = Arc::new(Mutex::new(String::new()));
        let text = Output::new(Sink::Capture(buffer.clone()), false);
        text.say("hello");
        text.emit(&serde_json::json!({"event": "x"}));
        let json = Output::new(Sink::Capture(buffer.clone()), true);
        json.say("not shown");
        json.emit(&serde_json::json!({"event": "y"}));
        assert_eq!(*buffer.lock().unwrap(), "hello\n{\"event\":\"y\"}\n");
    }
}
