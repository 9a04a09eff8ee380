//! Per-transaction collection of diagnostics (MS-OCER §1.3, §3.1).
//!
//! A server may send several responses for one request: provisional ones
//! (`100 Trying`, `101 Progress Report`, `18x`), then a final one. Each may carry an
//! `ms-diagnostics` or `ms-diagnostics-public` header, and so may a BYE or CANCEL
//! the server sends later in the dialog. The [`Collector`] watches one
//! transaction, in arrival order, and keeps every one of those headers with the
//! status it came on and when it came, so that the display rule (which string the
//! user sees) and the reportError document (what is uploaded) work from the same
//! complete record.
//!
//! The collector is sans-IO: the caller passes the message and `now`.
//!
//! ```
//! use std::time::{Duration, Instant};
//! use ocer::diag::{Collector, CollectorLimits};
//! use ocer::sip::{FramingLimits, RequestIdentity, SipMessage};
//!
//! let invite = SipMessage::parse(b"INVITE sip:bob@contoso.com SIP/2.0\r\n\
//!     Via: SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bK1\r\n\
//!     From: <sip:alice@contoso.com>;tag=a1\r\n\
//!     To: <sip:bob@contoso.com>\r\n\
//!     Call-ID: c1\r\n\
//!     CSeq: 1 INVITE\r\n\
//!     Content-Length: 0\r\n\r\n", &FramingLimits::default())?;
//! let start = Instant::now();
//! let mut collector = Collector::new(
//!     RequestIdentity::from_request(&invite)?, start, CollectorLimits::default());
//!
//! let busy = SipMessage::parse(b"SIP/2.0 486 Busy Here\r\n\
//!     From: <sip:alice@contoso.com>;tag=a1\r\n\
//!     To: <sip:bob@contoso.com>;tag=b2\r\n\
//!     Call-ID: c1\r\n\
//!     CSeq: 1 INVITE\r\n\
//!     ms-diagnostics: 4005;reason=\"Destination URI either not enabled for SIP or does not exist\"\r\n\
//!     Content-Length: 0\r\n\r\n", &FramingLimits::default())?;
//! collector.observe_response(&busy, start + Duration::from_millis(40))?;
//!
//! let record = collector.finish();
//! assert_eq!(record.final_status().map(|s| s.0), Some(486));
//! assert_eq!(record.identity.to_tag.as_deref(), Some("b2"));
//! assert_eq!(record.final_diagnostics().next().and_then(|d| d.error_id()).map(|id| id.0), Some(4005));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::time::{Duration, Instant};

use ezk_sip_types::header::typed::{CSeq, CallID};
use ezk_sip_types::{Method, Name};
use tracing::debug;

use super::{DiagParseError, DiagnosticsHeader, ErrorId, HeaderKind};
use crate::sip::{
    parse_warning_values, to_tag_of, RequestIdentity, RetryAfter, SipMessage, StatusCode,
    TransportFailure, Warning,
};

/// The header name of `ms-diagnostics` (§2.2.1.1).
pub const MS_DIAGNOSTICS: &str = "ms-diagnostics";
/// The header name of `ms-diagnostics-public` (§2.2.1.2).
pub const MS_DIAGNOSTICS_PUBLIC: &str = "ms-diagnostics-public";

/// The largest diagHeader the report document may carry (MS-OCER §2.2.2: "MUST NOT
/// be longer than 65,535 characters"). Nothing longer is worth keeping: it could
/// never be reported.
pub const MAX_DIAG_HEADER_CHARS: usize = 65_535;

/// What one [`TransactionRecord`] may hold, so a hostile or broken server cannot make
/// the client grow without bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CollectorLimits {
    /// Diagnostics kept from provisional responses; later ones are counted in
    /// [`Dropped::progress_reports`]. The earliest are kept because the first hops
    /// usually explain the failure that follows.
    pub max_progress_reports: usize,
    /// Provisional responses kept (status and time), diagnostics or not.
    pub max_provisional_responses: usize,
    /// Server-sent requests (BYE, CANCEL) kept.
    pub max_server_requests: usize,
    /// Characters kept of one diagnostics header value; capped at
    /// [`MAX_DIAG_HEADER_CHARS`] whatever is set here.
    pub max_diag_header_chars: usize,
}

impl Default for CollectorLimits {
    /// Generous for Lync: a failed call through a PSTN gateway shows a handful of
    /// `101 Progress Report`s (one per hop or route tried).
    fn default() -> Self {
        Self {
            max_progress_reports: 32,
            max_provisional_responses: 32,
            max_server_requests: 4,
            max_diag_header_chars: MAX_DIAG_HEADER_CHARS,
        }
    }
}

/// Where a diagnostics header was seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiagOrigin {
    /// On a provisional (1xx) response: a progress report.
    Provisional(StatusCode),
    /// On the final response.
    Final(StatusCode),
    /// On a request the server sent for this dialog (`BYE`, `CANCEL`).
    ServerRequest(String),
}

/// One `ms-diagnostics` or `ms-diagnostics-public` header as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservedDiagnostic {
    /// Which of the two headers.
    pub kind: HeaderKind,
    /// What message it came on.
    pub origin: DiagOrigin,
    /// When it came, from the start of the transaction.
    pub at: Duration,
    /// The header value exactly as received (up to the length limit): this is what
    /// a report carries, byte for byte.
    pub raw: String,
    /// Whether `raw` was cut to the limit.
    pub truncated: bool,
    /// The parsed value, or why it did not parse. Kept apart from `raw` so that a
    /// header a server got wrong is still reported.
    pub parsed: Result<DiagnosticsHeader, DiagParseError>,
}

impl ObservedDiagnostic {
    fn new(kind: HeaderKind, origin: DiagOrigin, at: Duration, value: &str, limit: usize) -> Self {
        let (raw, truncated) = truncate_chars(value, limit);
        let mut parsed = DiagnosticsHeader::parse(kind, raw);
        match &mut parsed {
            // The parser sizes `params` for speed; a record is kept, so it is
            // sized for memory (DESIGN.md §6: ≤ 4 KiB per record).
            Ok(header) => header.params.shrink_to_fit(),
            Err(error) => debug!(?kind, %error, "diagnostics header does not parse; kept raw"),
        }
        Self {
            kind,
            origin,
            at,
            raw: raw.to_owned(),
            truncated,
            parsed,
        }
    }

    /// The ErrorId, if the header parsed.
    pub fn error_id(&self) -> Option<ErrorId> {
        self.parsed.as_ref().ok().map(|h| h.error_id)
    }
}

/// A provisional response: its status and when it came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvisionalResponse {
    /// The status, 100–199.
    pub status: StatusCode,
    /// The reason phrase as received.
    pub reason_phrase: String,
    /// When it came, from the start of the transaction.
    pub at: Duration,
}

/// A header of the final response that is kept raw because it did not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MalformedHeader {
    /// The header name (`Warning`, `Retry-After`).
    pub name: &'static str,
    /// The value as received.
    pub raw: String,
    /// Why it did not parse.
    pub error: String,
}

/// The final response (≥ 200) of the transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FinalResponse {
    /// The status.
    pub status: StatusCode,
    /// The reason phrase as received.
    pub reason_phrase: String,
    /// When it came, from the start of the transaction.
    pub at: Duration,
    /// Its diagnostics headers: `ms-diagnostics` values first, then
    /// `ms-diagnostics-public`, each in header order. The spec allows one of each
    /// kind; more are kept too.
    pub diagnostics: Vec<ObservedDiagnostic>,
    /// Its `Warning` values, in order.
    pub warnings: Vec<Warning>,
    /// Its `Retry-After`, if any.
    pub retry_after: Option<RetryAfter>,
    /// `Warning` / `Retry-After` values that did not parse.
    pub malformed: Vec<MalformedHeader>,
}

/// A request the server sent in the dialog of this transaction (`BYE`, `CANCEL`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerRequest {
    /// The method.
    pub method: String,
    /// When it came, from the start of the transaction.
    pub at: Duration,
    /// Its diagnostics headers.
    pub diagnostics: Vec<ObservedDiagnostic>,
}

/// What a [`Collector`] saw but did not keep, so that nothing is lost silently.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Dropped {
    /// Progress-report diagnostics beyond [`CollectorLimits::max_progress_reports`].
    pub progress_reports: u32,
    /// Provisional responses beyond [`CollectorLimits::max_provisional_responses`].
    pub provisional_responses: u32,
    /// Server requests beyond [`CollectorLimits::max_server_requests`].
    pub server_requests: u32,
    /// Diagnostics header values cut to [`CollectorLimits::max_diag_header_chars`].
    pub truncated_headers: u32,
    /// Responses that arrived after the final one (retransmissions, forks).
    pub responses_after_final: u32,
}

/// How a transaction ended: the one value display, reporting and the user
/// agent read it from (like quinn-proto's `State::Closed { reason }`).
///
/// RFC 3261 §8.1.3.1 tells a client to *treat* a timeout as 408 and a
/// transport error as 503; those codes were never received, so they are not
/// stored here: display maps a transport failure to the Windows error a
/// Windows client would have met (`display::WinError::from_transport`), and
/// the report says what was received (MS-OCER §2.2.2 `responseCode`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Ending {
    /// Not ended (yet): the collector is still running, or it was finished
    /// without being told how the transaction ended.
    Open,
    /// A final response came.
    Final(FinalResponse),
    /// No final response before the transaction timer fired (RFC 3261
    /// §17.1.1.2 timer B, §17.1.2.2 timer F).
    Timeout,
    /// The transport failed before a final response (connection refused or
    /// reset, TLS handshake, a malformed final response): what failed and the
    /// OS error, if the operating system reported one.
    Transport(TransportFailure),
    /// The user cancelled the request (CANCEL for an INVITE); the final
    /// response that followed (usually `487 Request Terminated`), if one came.
    Cancelled(Option<FinalResponse>),
}

impl Ending {
    /// The final response, if one came (also after a cancel).
    pub fn final_response(&self) -> Option<&FinalResponse> {
        match self {
            Ending::Final(response) | Ending::Cancelled(Some(response)) => Some(response),
            _ => None,
        }
    }

    /// Whether the transaction has ended.
    pub fn is_ended(&self) -> bool {
        !matches!(self, Ending::Open)
    }

    /// A stable kebab-case name: `open`, `final`, `timeout`, `transport`,
    /// `cancelled`.
    pub const fn id(&self) -> &'static str {
        match self {
            Ending::Open => "open",
            Ending::Final(_) => "final",
            Ending::Timeout => "timeout",
            Ending::Transport(_) => "transport",
            Ending::Cancelled(_) => "cancelled",
        }
    }
}

/// Everything one transaction received that matters for error display and
/// reporting, and how it ended. Produced by [`Collector::finish`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionRecord {
    /// The request; `to_tag` is filled from the responses.
    pub identity: RequestIdentity,
    /// Provisional responses in arrival order.
    pub provisional: Vec<ProvisionalResponse>,
    /// Diagnostics of provisional responses (progress reports), in arrival order.
    pub progress: Vec<ObservedDiagnostic>,
    /// How the transaction ended; the final response, if one came, is in
    /// [`Ending::Final`] (see [`TransactionRecord::final_response`]).
    pub ending: Ending,
    /// Requests the server sent in the dialog, in arrival order.
    pub server_requests: Vec<ServerRequest>,
    /// What was seen and not kept.
    pub dropped: Dropped,
}

impl TransactionRecord {
    /// The final response, if one came.
    pub fn final_response(&self) -> Option<&FinalResponse> {
        self.ending.final_response()
    }

    /// The final status, if a final response came.
    pub fn final_status(&self) -> Option<StatusCode> {
        self.final_response().map(|f| f.status)
    }

    /// The last provisional status received, if any: what a transaction that
    /// got no final response did receive (MS-OCER §2.2.2 `responseCode`).
    pub fn last_provisional_status(&self) -> Option<StatusCode> {
        self.provisional.last().map(|p| p.status)
    }

    /// Whether the transaction failed: a final status of 300 or more, or no final
    /// response at all. A cancelled request is not a failure: the user ended it.
    pub fn is_failure(&self) -> bool {
        match &self.ending {
            Ending::Cancelled(_) => false,
            _ => self.final_status().is_none_or(|s| s.0 >= 300),
        }
    }

    /// The final response's diagnostics headers.
    pub fn final_diagnostics(&self) -> impl Iterator<Item = &ObservedDiagnostic> + '_ {
        self.final_response()
            .into_iter()
            .flat_map(|f| f.diagnostics.iter())
    }

    /// Every diagnostics header in the order MS-OCER 9.1.1 / 10.1.1 consults them:
    /// the final response's first, then the progress reports, latest first, then
    /// those of server-sent BYE / CANCEL, latest first.
    pub fn diagnostics_by_priority(&self) -> impl Iterator<Item = &ObservedDiagnostic> + '_ {
        self.final_diagnostics()
            .chain(self.progress.iter().rev())
            .chain(
                self.server_requests
                    .iter()
                    .rev()
                    .flat_map(|r| r.diagnostics.iter()),
            )
    }

    /// The final response's `Warning` values.
    pub fn warnings(&self) -> &[Warning] {
        self.final_response().map_or(&[], |f| f.warnings.as_slice())
    }
}

/// Why a message was not taken by a [`Collector`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CollectorError {
    /// A request was passed to `observe_response`, or a response to
    /// `observe_server_request`.
    #[error("expected a SIP {expected}, got the other kind")]
    WrongMessageKind {
        /// "response" or "request".
        expected: &'static str,
    },
    /// The message's Call-ID or CSeq does not belong to this transaction.
    #[error("message does not belong to this transaction ({0})")]
    NotThisTransaction(&'static str),
    /// A server request that carries no report-worthy meaning for a transaction
    /// (only BYE and CANCEL carry diagnostics, MS-OCER §2.2.1).
    #[error("server request {0} is not BYE or CANCEL")]
    NotByeOrCancel(String),
}

/// Collects the diagnostics of one client transaction. See the module docs.
#[derive(Debug, Clone)]
pub struct Collector {
    record: TransactionRecord,
    started: Instant,
    limits: CollectorLimits,
}

impl Collector {
    /// Starts collecting for the request `identity`, sent at `started`.
    pub fn new(identity: RequestIdentity, started: Instant, limits: CollectorLimits) -> Self {
        Self {
            record: TransactionRecord {
                identity,
                provisional: Vec::new(),
                progress: Vec::new(),
                ending: Ending::Open,
                server_requests: Vec::new(),
                dropped: Dropped::default(),
            },
            started,
            limits,
        }
    }

    /// The record so far.
    pub fn record(&self) -> &TransactionRecord {
        &self.record
    }

    /// Whether the final response has been observed.
    pub fn has_final(&self) -> bool {
        self.record.final_response().is_some()
    }

    /// The transaction timer fired before a final response. Ignored once the
    /// transaction has ended.
    pub fn observe_timeout(&mut self) {
        self.end_unanswered(Ending::Timeout);
    }

    /// The transport failed before a final response. Ignored once the
    /// transaction has ended.
    pub fn observe_transport_failure(&mut self, failure: TransportFailure) {
        self.end_unanswered(Ending::Transport(failure));
    }

    /// The user cancelled the request. A final response that came, or comes
    /// later (the `487` to a cancelled INVITE), is kept in
    /// [`Ending::Cancelled`]; a timeout or transport failure already recorded
    /// is not overwritten.
    pub fn observe_cancel(&mut self) {
        let ending = std::mem::replace(&mut self.record.ending, Ending::Open);
        self.record.ending = match ending {
            Ending::Open => Ending::Cancelled(None),
            Ending::Final(response) => Ending::Cancelled(Some(response)),
            other => other,
        };
    }

    fn end_unanswered(&mut self, ending: Ending) {
        if !self.record.ending.is_ended() {
            self.record.ending = ending;
        }
    }

    /// Observes one response to the request, in arrival order.
    ///
    /// A response with another Call-ID, CSeq number or CSeq method is refused, so
    /// a caller routing by branch cannot mix transactions up unnoticed.
    pub fn observe_response(
        &mut self,
        response: &SipMessage,
        now: Instant,
    ) -> Result<(), CollectorError> {
        let Some(status) = response.status() else {
            return Err(CollectorError::WrongMessageKind {
                expected: "response",
            });
        };
        self.check_belongs(response)?;
        let at = now.saturating_duration_since(self.started);

        if self.record.final_response().is_some() {
            // A retransmitted final or a 2xx from another fork: the transaction's
            // outcome is already decided; count it rather than rewrite history.
            self.record.dropped.responses_after_final =
                self.record.dropped.responses_after_final.saturating_add(1);
            return Ok(());
        }
        if let Some(tag) = to_tag_of(response) {
            self.record.identity.to_tag = Some(tag);
        }
        let reason_phrase = response.reason_phrase().unwrap_or_default().to_owned();

        if status.0 < 200 {
            if self.record.provisional.len() < self.limits.max_provisional_responses {
                self.record.provisional.push(ProvisionalResponse {
                    status,
                    reason_phrase,
                    at,
                });
            } else {
                self.record.dropped.provisional_responses =
                    self.record.dropped.provisional_responses.saturating_add(1);
            }
            let mut diagnostics =
                self.diagnostics_of(response, DiagOrigin::Provisional(status), at);
            // A 1xx with both headers is one progress report: the public
            // header is a redacted copy of the private one (MS-OCER §2.2.1.2,
            // §5.1), so the private one stands for both, as on a final
            // response's diagHeader.
            if diagnostics.iter().any(|d| d.kind == HeaderKind::Private) {
                diagnostics.retain(|d| d.kind == HeaderKind::Private);
            }
            for diag in diagnostics {
                if self.record.progress.len() < self.limits.max_progress_reports {
                    self.record.progress.push(diag);
                } else {
                    self.record.dropped.progress_reports =
                        self.record.dropped.progress_reports.saturating_add(1);
                }
            }
            return Ok(());
        }

        let diagnostics = self.diagnostics_of(response, DiagOrigin::Final(status), at);
        let mut malformed = Vec::new();
        let mut warnings = Vec::new();
        for raw in response.header_values(&Name::WARNING) {
            match parse_warning_values(raw) {
                Ok(values) => warnings.extend(values),
                Err(error) => malformed.push(MalformedHeader {
                    name: "Warning",
                    raw: raw.to_owned(),
                    error: error.to_string(),
                }),
            }
        }
        let mut retry_after = None;
        if let Some(raw) = response.header_values(&Name::RETRY_AFTER).next() {
            match RetryAfter::parse(raw) {
                Ok(value) => retry_after = Some(value),
                Err(error) => malformed.push(MalformedHeader {
                    name: "Retry-After",
                    raw: raw.to_owned(),
                    error: error.to_string(),
                }),
            }
        }
        warnings.shrink_to_fit();
        malformed.shrink_to_fit();
        let response = FinalResponse {
            status,
            reason_phrase,
            at,
            diagnostics,
            warnings,
            retry_after,
            malformed,
        };
        self.record.ending = match self.record.ending {
            Ending::Cancelled(None) => Ending::Cancelled(Some(response)),
            _ => Ending::Final(response),
        };
        Ok(())
    }

    /// Observes a request the server sent in this transaction's dialog: a `BYE`
    /// (the call was ended by the server) or a `CANCEL`. Only the Call-ID is
    /// checked: such a request has its own CSeq.
    pub fn observe_server_request(
        &mut self,
        request: &SipMessage,
        now: Instant,
    ) -> Result<(), CollectorError> {
        let Some(method) = request.method() else {
            return Err(CollectorError::WrongMessageKind {
                expected: "request",
            });
        };
        // Method names are case-sensitive (RFC 3261 §7.1).
        if *method != Method::BYE && *method != Method::CANCEL {
            return Err(CollectorError::NotByeOrCancel(method.to_string()));
        }
        self.check_call_id(request)?;
        let method = method.to_string();
        let at = now.saturating_duration_since(self.started);
        if self.record.server_requests.len() >= self.limits.max_server_requests {
            self.record.dropped.server_requests =
                self.record.dropped.server_requests.saturating_add(1);
            return Ok(());
        }
        let diagnostics =
            self.diagnostics_of(request, DiagOrigin::ServerRequest(method.clone()), at);
        self.record.server_requests.push(ServerRequest {
            method,
            at,
            diagnostics,
        });
        Ok(())
    }

    /// Ends collection and gives the record.
    ///
    /// Its vectors grew by pushes (to 4 elements, then doubling); a finished
    /// record no longer grows, so they give back the unused room, which was
    /// most of an ObservedDiagnostic-sized block each (DESIGN.md §6: ≤ 4 KiB
    /// per record).
    pub fn finish(mut self) -> TransactionRecord {
        let r = &mut self.record;
        r.provisional.shrink_to_fit();
        r.progress.shrink_to_fit();
        r.server_requests.shrink_to_fit();
        self.record
    }

    fn check_call_id(&self, message: &SipMessage) -> Result<(), CollectorError> {
        match message.headers.get_named::<CallID>() {
            Ok(call_id) if call_id.0.as_str() == self.record.identity.call_id => Ok(()),
            Ok(_) => Err(CollectorError::NotThisTransaction("Call-ID differs")),
            Err(_) => Err(CollectorError::NotThisTransaction("no valid Call-ID")),
        }
    }

    fn check_belongs(&self, response: &SipMessage) -> Result<(), CollectorError> {
        self.check_call_id(response)?;
        let identity = &self.record.identity;
        match response.headers.get_named::<CSeq>() {
            Ok(cseq)
                if cseq.cseq == identity.cseq && cseq.method.to_string() == identity.method =>
            {
                Ok(())
            }
            Ok(_) => Err(CollectorError::NotThisTransaction("CSeq differs")),
            Err(_) => Err(CollectorError::NotThisTransaction("no valid CSeq")),
        }
    }

    fn diagnostics_of(
        &mut self,
        message: &SipMessage,
        origin: DiagOrigin,
        at: Duration,
    ) -> Vec<ObservedDiagnostic> {
        let limit = self.limits.max_diag_header_chars.min(MAX_DIAG_HEADER_CHARS);
        let private = Name::custom(MS_DIAGNOSTICS, &[MS_DIAGNOSTICS]);
        let public = Name::custom(MS_DIAGNOSTICS_PUBLIC, &[MS_DIAGNOSTICS_PUBLIC]);
        let mut out = Vec::new();
        for (kind, name) in [
            (HeaderKind::Private, &private),
            (HeaderKind::Public, &public),
        ] {
            for value in message.header_values(name) {
                let diag = ObservedDiagnostic::new(kind, origin.clone(), at, value, limit);
                if diag.truncated {
                    self.record.dropped.truncated_headers =
                        self.record.dropped.truncated_headers.saturating_add(1);
                }
                out.push(diag);
            }
        }
        // Usually one header: not the four a first push makes room for.
        out.shrink_to_fit();
        out
    }
}

/// Cuts `value` to at most `limit` characters, at a character boundary.
fn truncate_chars(value: &str, limit: usize) -> (&str, bool) {
    match value.char_indices().nth(limit) {
        Some((cut, _)) => (&value[..cut], true),
        None => (value, false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::FramingLimits;

    const INVITE: &[u8] = include_bytes!("../../tests/fixtures/ms-ocer-4.1/invite.sip");
    const TRYING: &[u8] = include_bytes!("../../tests/fixtures/ms-ocer-4.1/100.sip");
    const PROGRESS: &[u8] = include_bytes!("../../tests/fixtures/ms-ocer-4.1/101.sip");
    const TIMEOUT: &[u8] = include_bytes!("../../tests/fixtures/ms-ocer-4.1/504.sip");

    fn parse(bytes: &[u8]) -> SipMessage {
        // Room for the 70,000 two-byte characters of the truncation test.
        let limits = FramingLimits {
            max_header_bytes: 1 << 20,
            ..FramingLimits::default()
        };
        SipMessage::parse(bytes, &limits).expect("fixture parses")
    }

    /// A response to the 4.1 INVITE with the given status line and extra headers.
    fn response(status_line: &str, extra: &[&str]) -> SipMessage {
        let mut text = format!("SIP/2.0 {status_line}\r\n");
        text.push_str("Via: SIP/2.0/TLS 192.168.66.91:49541;branch=z9hG4bKocer41\r\n");
        text.push_str("From: <sip:alice@contoso.com>;tag=d1efe7a825\r\n");
        text.push_str("To: <sip:bob@contoso.com;user=phone>;tag=t9\r\n");
        text.push_str("Call-ID: f5290007af32443f8a82daa76c934880\r\n");
        text.push_str("CSeq: 1 INVITE\r\n");
        for line in extra {
            text.push_str(line);
            text.push_str("\r\n");
        }
        text.push_str("Content-Length: 0\r\n\r\n");
        parse(text.as_bytes())
    }

    fn collector(limits: CollectorLimits) -> (Collector, Instant) {
        let start = Instant::now();
        let identity = RequestIdentity::from_request(&parse(INVITE)).expect("identity");
        (Collector::new(identity, start, limits), start)
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn spec_4_1_flow_keeps_one_progress_report_and_the_final_diagnostics_in_order() {
        let (mut c, start) = collector(CollectorLimits::default());
        c.observe_response(&parse(TRYING), start + ms(5)).unwrap();
        c.observe_response(&parse(PROGRESS), start + ms(900))
            .unwrap();
        c.observe_response(&parse(TIMEOUT), start + ms(20_000))
            .unwrap();
        let r = c.finish();

        assert_eq!(
            r.provisional
                .iter()
                .map(|p| (p.status.0, p.at))
                .collect::<Vec<_>>(),
            vec![(100, ms(5)), (101, ms(900))]
        );
        assert_eq!(r.progress.len(), 1);
        let progress = &r.progress[0];
        assert_eq!(progress.origin, DiagOrigin::Provisional(StatusCode(101)));
        assert_eq!(progress.kind, HeaderKind::Private);
        assert_eq!(progress.error_id(), Some(ErrorId(12006)));
        assert_eq!(progress.at, ms(900));
        assert!(progress.raw.starts_with("12006;reason=\"Trying next hop\""));
        assert!(progress.raw.ends_with("appName=\"OutboundRouting\""));

        let fin = r.final_response().unwrap();
        assert_eq!(
            (fin.status.0, fin.reason_phrase.as_str(), fin.at),
            (504, "Server time-out", ms(20_000))
        );
        assert_eq!(fin.diagnostics.len(), 1);
        assert_eq!(
            fin.diagnostics[0].origin,
            DiagOrigin::Final(StatusCode(504))
        );
        let parsed = fin.diagnostics[0].parsed.as_ref().unwrap();
        assert_eq!(parsed.error_id, ErrorId(1007));
        assert_eq!(parsed.reason.as_deref(), Some("Temporarily cannot route"));
        assert_eq!(parsed.source.as_deref(), Some("server.contoso.com"));

        assert_eq!(
            r.identity.to_tag.as_deref(),
            Some("66643C5C12E2A03D937F1045F8E8484F")
        );
        assert!(r.is_failure());
        assert_eq!(
            r.diagnostics_by_priority()
                .map(|d| d.error_id())
                .collect::<Vec<_>>(),
            vec![Some(ErrorId(1007)), Some(ErrorId(12006))]
        );
        assert_eq!(r.dropped, Dropped::default());
    }

    #[test]
    fn progress_reports_beyond_the_cap_are_counted_not_kept() {
        let limits = CollectorLimits {
            max_progress_reports: 2,
            max_provisional_responses: 3,
            ..CollectorLimits::default()
        };
        let (mut c, start) = collector(limits);
        for i in 0..5u64 {
            let diag = format!("ms-diagnostics: {};reason=\"hop {i}\"", 12000 + i);
            c.observe_response(&response("101 Progress Report", &[&diag]), start + ms(i))
                .unwrap();
        }
        let r = c.finish();
        assert_eq!(
            r.progress.iter().map(|d| d.error_id()).collect::<Vec<_>>(),
            vec![Some(ErrorId(12000)), Some(ErrorId(12001))]
        );
        assert_eq!(r.provisional.len(), 3);
        assert_eq!(r.dropped.progress_reports, 3);
        assert_eq!(r.dropped.provisional_responses, 2);
        // Without a final response the transaction counts as failed.
        assert!(r.is_failure());
        assert_eq!(r.final_status(), None);
    }

    #[test]
    fn a_diag_header_longer_than_the_spec_limit_is_cut_at_a_character_boundary() {
        let (mut c, start) = collector(CollectorLimits::default());
        // 'é' is two bytes: the cut must land between characters, not bytes.
        let reason = "é".repeat(70_000);
        let header = format!("ms-diagnostics: 1;reason=\"{reason}\"");
        c.observe_response(&response("503 Service Unavailable", &[&header]), start)
            .unwrap();
        let r = c.finish();
        let diag = &r.final_diagnostics().next().unwrap();
        assert!(diag.truncated);
        assert_eq!(diag.raw.chars().count(), MAX_DIAG_HEADER_CHARS);
        assert!(diag.parsed.is_err(), "the cut removed the closing quote");
        assert_eq!(r.dropped.truncated_headers, 1);

        let limits = CollectorLimits {
            max_diag_header_chars: 10,
            ..CollectorLimits::default()
        };
        let (mut c, start) = collector(limits);
        c.observe_response(
            &response(
                "480 Temporarily Unavailable",
                &["ms-diagnostics: 1;reason=\"0123456789\""],
            ),
            start,
        )
        .unwrap();
        assert_eq!(
            c.record().final_diagnostics().next().unwrap().raw,
            "1;reason=\""
        );
    }

    #[test]
    fn a_limit_above_the_spec_maximum_is_capped() {
        let limits = CollectorLimits {
            max_diag_header_chars: usize::MAX,
            ..CollectorLimits::default()
        };
        let (mut c, start) = collector(limits);
        let header = format!(
            "ms-diagnostics: 1;reason=\"{}\"",
            "x".repeat(MAX_DIAG_HEADER_CHARS)
        );
        c.observe_response(&response("500 Server Internal Error", &[&header]), start)
            .unwrap();
        assert_eq!(
            c.record().final_diagnostics().next().unwrap().raw.len(),
            MAX_DIAG_HEADER_CHARS
        );
    }

    #[test]
    fn messages_of_other_transactions_are_refused() {
        let (mut c, start) = collector(CollectorLimits::default());
        let other_call = parse(
            b"SIP/2.0 486 Busy Here\r\nCall-ID: other\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
        );
        assert_eq!(
            c.observe_response(&other_call, start),
            Err(CollectorError::NotThisTransaction("Call-ID differs"))
        );
        let cancel_response = parse(
            b"SIP/2.0 200 OK\r\nCall-ID: f5290007af32443f8a82daa76c934880\r\nCSeq: 1 CANCEL\r\nContent-Length: 0\r\n\r\n",
        );
        assert_eq!(
            c.observe_response(&cancel_response, start),
            Err(CollectorError::NotThisTransaction("CSeq differs"))
        );
        assert_eq!(
            c.observe_response(&parse(INVITE), start),
            Err(CollectorError::WrongMessageKind {
                expected: "response"
            })
        );
        assert!(!c.has_final());
    }

    #[test]
    fn responses_after_the_final_are_counted_and_do_not_change_the_outcome() {
        let (mut c, start) = collector(CollectorLimits::default());
        c.observe_response(
            &response("486 Busy Here", &["ms-diagnostics: 4005;reason=\"a\""]),
            start,
        )
        .unwrap();
        c.observe_response(&response("200 OK", &[]), start + ms(1))
            .unwrap();
        let r = c.finish();
        assert_eq!(r.final_status(), Some(StatusCode(486)));
        assert_eq!(r.dropped.responses_after_final, 1);
    }

    #[test]
    fn warnings_retry_after_and_malformed_values_are_kept() {
        let (mut c, start) = collector(CollectorLimits::default());
        c.observe_response(
            &response(
                "503 Service Unavailable",
                &[
                    "Warning: 391 lync.contoso.com \"Do not disturb\", 370 proxy:5061 \"busy\"",
                    "Warning: not a warning",
                    "Retry-After: 120 (busy);duration=60",
                ],
            ),
            start,
        )
        .unwrap();
        let r = c.finish();
        assert_eq!(
            r.warnings().iter().map(|w| w.code.0).collect::<Vec<_>>(),
            vec![391, 370]
        );
        let fin = r.final_response().unwrap();
        assert_eq!(
            fin.retry_after.as_ref().map(|ra| (ra.seconds, ra.duration)),
            Some((120, Some(60)))
        );
        assert_eq!(fin.malformed.len(), 1);
        assert_eq!(
            (fin.malformed[0].name, fin.malformed[0].raw.as_str()),
            ("Warning", "not a warning")
        );
        assert!(fin.diagnostics.is_empty());
    }

    #[test]
    fn public_and_private_headers_and_unparsable_ones_are_all_kept() {
        let (mut c, start) = collector(CollectorLimits::default());
        c.observe_response(
            &response(
                "403 Forbidden",
                &[
                    "ms-diagnostics-public: 3027;reason=\" User not allowed in closed conference\"",
                    "ms-diagnostics: not-a-number;reason=\"x\"",
                ],
            ),
            start,
        )
        .unwrap();
        let r = c.finish();
        let kinds: Vec<_> = r
            .final_diagnostics()
            .map(|d| (d.kind, d.error_id()))
            .collect();
        assert_eq!(
            kinds,
            vec![
                (HeaderKind::Private, None),
                (HeaderKind::Public, Some(ErrorId(3027)))
            ]
        );
        assert_eq!(
            r.final_diagnostics().next().unwrap().raw,
            "not-a-number;reason=\"x\""
        );
    }

    /// A 1xx with both `ms-diagnostics` and `ms-diagnostics-public` is one
    /// progress report (the public header is a redacted copy, §2.2.1.2 and
    /// §5.1), so the report carries one `progressReport` for it; a 1xx with
    /// only the public header is one too.
    #[test]
    fn spec_2_2_1_2_a_1xx_with_both_headers_is_one_progress_report() {
        let (mut c, start) = collector(CollectorLimits::default());
        c.observe_response(
            &response(
                "101 Progress Report",
                &[
                    "ms-diagnostics: 12006;reason=\"Trying next hop\";source=\"fe.contoso.com\"",
                    "ms-diagnostics-public: 12006;reason=\"Trying next hop\"",
                ],
            ),
            start + ms(10),
        )
        .unwrap();
        c.observe_response(
            &response(
                "183 Session Progress",
                &["ms-diagnostics-public: 25001;reason=\"Call may take longer\""],
            ),
            start + ms(20),
        )
        .unwrap();
        c.observe_response(&response("486 Busy Here", &[]), start + ms(30))
            .unwrap();
        let r = c.finish();
        let progress: Vec<_> = r
            .progress
            .iter()
            .map(|d| (d.origin.clone(), d.kind, d.error_id()))
            .collect();
        assert_eq!(
            progress,
            vec![
                (
                    DiagOrigin::Provisional(StatusCode(101)),
                    HeaderKind::Private,
                    Some(ErrorId(12006))
                ),
                (
                    DiagOrigin::Provisional(StatusCode(183)),
                    HeaderKind::Public,
                    Some(ErrorId(25001))
                ),
            ]
        );
        let report = crate::report::ErrorReport::from_record(&r, "sip:alice@contoso.com").unwrap();
        assert_eq!(
            report.progress_reports,
            vec![
                "12006;reason=\"Trying next hop\";source=\"fe.contoso.com\"",
                "25001;reason=\"Call may take longer\"",
            ]
        );
    }

    #[test]
    fn server_bye_and_cancel_diagnostics_are_recorded_after_the_transaction() {
        let (mut c, start) = collector(CollectorLimits {
            max_server_requests: 1,
            ..CollectorLimits::default()
        });
        c.observe_response(&response("200 OK", &[]), start).unwrap();
        let bye = parse(
            b"BYE sip:alice@192.168.66.91:49541 SIP/2.0\r\n\
              From: <sip:bob@contoso.com;user=phone>;tag=t9\r\n\
              To: <sip:alice@contoso.com>;tag=d1efe7a825\r\n\
              Call-ID: f5290007af32443f8a82daa76c934880\r\n\
              CSeq: 7 BYE\r\n\
              ms-diagnostics-public: 4141;reason=\"User disabled\"\r\n\
              Content-Length: 0\r\n\r\n",
        );
        c.observe_server_request(&bye, start + ms(60_000)).unwrap();
        c.observe_server_request(&bye, start + ms(60_001)).unwrap();
        let options = parse(
            b"OPTIONS sip:alice@contoso.com SIP/2.0\r\nCall-ID: f5290007af32443f8a82daa76c934880\r\nCSeq: 8 OPTIONS\r\nContent-Length: 0\r\n\r\n",
        );
        assert_eq!(
            c.observe_server_request(&options, start),
            Err(CollectorError::NotByeOrCancel("OPTIONS".into()))
        );
        let r = c.finish();
        assert!(!r.is_failure());
        assert_eq!(r.server_requests.len(), 1);
        let bye = &r.server_requests[0];
        assert_eq!((bye.method.as_str(), bye.at), ("BYE", ms(60_000)));
        assert_eq!(
            bye.diagnostics[0].origin,
            DiagOrigin::ServerRequest("BYE".into())
        );
        assert_eq!(bye.diagnostics[0].error_id(), Some(ErrorId(4141)));
        assert_eq!(r.dropped.server_requests, 1);
        assert_eq!(r.diagnostics_by_priority().count(), 1);
    }
}
