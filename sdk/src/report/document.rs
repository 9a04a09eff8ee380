//! The `application/msrtc-reporterror+xml` document (MS-OCER §2.2.2, Appendix A):
//! its model, how it is built from a [`TransactionRecord`], the writer and the
//! reader.
//!
//! # What goes into a report, and why
//!
//! - `fromUri` is written only when the failed request's From URI differs from
//!   the reporting user's address of record. §2.2.2 says the server then uses the
//!   From URI of the SERVICE request, which is that AOR; the §4.1 example omits
//!   it for that reason; and Appendix A's schema does not declare the attribute,
//!   so a server that validates strictly accepts the document only without it.
//!   The reader accepts it, because §2.2.2 defines it.
//! - The error's `diagHeader`s are the final response's `ms-diagnostics` values;
//!   when it has none, its `ms-diagnostics-public` values. §2.2.2 names "the
//!   ms-diagnostics header of the SIP response", and a public header on the same
//!   response is a redacted copy of it (§5.1) that the document could not even
//!   tell apart: `diagHeader` carries no header name.
//! - `progressReports` is always written (the schema requires it), with one
//!   `progressReport` per diagnostics header of a provisional response, in
//!   arrival order, whichever of the two headers it was.
//! - A diagnostics value is sent as received except for line folding: a fold
//!   (`CRLF` plus white space, RFC 3261 §7.3.1) is SIP framing, equivalent to one
//!   SP, and is sent as one SP.
//! - `responseCode` is the code received (§2.2.2: "the SIP response code
//!   received from the SIP server (2) for the SIP request"). A transaction that
//!   got no final response (a timeout, a transport failure: the record's
//!   [`Ending`]) is reported with the last provisional code it did receive
//!   (`100`, `101`, `180` …), and with `0` when nothing at all came: Appendix A
//!   declares the attribute `use="required"` and `xs:unsignedInt`, and `0` is no
//!   SIP code, so it cannot be read as one. Neither RFC 3261 §8.1.3.1's *treated
//!   as* 408 / 503 (never received) nor an ErrorId §7.26 does not list is
//!   invented: such a report has no `diagHeader`, and its progress reports say
//!   what the server did send.
//!
//! # Writer
//!
//! [`ErrorReport::to_xml`] writes compact XML (no declaration, no indentation:
//! UTF-8 is XML's default, and whitespace between elements means nothing to the
//! server but costs bytes against the size limits), with the attributes in the
//! order of the §4.1 example. Values are escaped by [`super::xml`]'s rules;
//! characters XML 1.0 cannot carry are replaced with U+FFFD and counted.
//! The writer does not apply the §2.2.2 size limits: [`super::encode`] does.
//!
//! # Reader
//!
//! [`ErrorReport::parse`] (quick-xml) accepts exactly what Appendix A allows, plus
//! `fromUri`: elements and attributes of other namespaces where the schema has
//! `xs:any` / `xs:anyAttribute namespace="##other"` are skipped, and everything
//! the schema forbids is a [`DocumentError`].

use std::borrow::Cow;

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;
use quick_xml::XmlVersion;

use super::xml::{escape_into, escaped_len, is_xml_char, Context};
use crate::diag::{Ending, HeaderKind, ObservedDiagnostic, TransactionRecord};

/// The XML namespace of the document (Appendix A `targetNamespace`).
pub const NAMESPACE: &str = "http://schemas.microsoft.com/2006/09/sip/error-reporting";

/// The MIME type of the document (§3.1.4.1).
pub const CONTENT_TYPE: &str = "application/msrtc-reporterror+xml";

/// One reportError document: the `error` element's attributes and elements.
///
/// Strings borrow from the [`TransactionRecord`] they were built from where
/// they can ([`ErrorReport::from_record`] allocates no string), so building a
/// document is cheap; [`ErrorReport::into_owned`] detaches it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ErrorReport<'a> {
    /// `fromUri`: the From URI of the failed request; optional.
    pub from_uri: Option<Cow<'a, str>>,
    /// `toUri`: the To URI of the failed request; optional.
    pub to_uri: Option<Cow<'a, str>>,
    /// `callId`: the Call-ID of the failed request; required.
    pub call_id: Cow<'a, str>,
    /// `fromTag`; optional.
    pub from_tag: Option<Cow<'a, str>>,
    /// `toTag`; optional.
    pub to_tag: Option<Cow<'a, str>>,
    /// `requestType`: the method of the failed request; required.
    pub request_type: Cow<'a, str>,
    /// `contentType`: the failed request's Content-Type; optional.
    pub content_type: Option<Cow<'a, str>>,
    /// `responseCode`: the SIP status the request got; required.
    pub response_code: u32,
    /// `diagHeader`s of the final response, in order.
    pub diag_headers: Vec<Cow<'a, str>>,
    /// The `diagHeader` of each `progressReport`, in arrival order.
    pub progress_reports: Vec<Cow<'a, str>>,
}

/// Why a [`TransactionRecord`] makes no report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NotReportable {
    /// The transaction succeeded (a final status below 300).
    #[error("the request succeeded with {0}; only failures are reported")]
    Succeeded(u16),
    /// The record does not say how the transaction ended
    /// ([`Ending::Open`]): it is still running, or the caller did not tell
    /// the collector.
    #[error("the transaction has not ended")]
    NotEnded,
    /// The user cancelled the request: nothing to report.
    #[error("the request was cancelled")]
    Cancelled,
}

/// A written document: the XML and how many characters had to be replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Xml {
    /// The document, UTF-8.
    pub text: String,
    /// Characters XML 1.0 cannot carry that were written as U+FFFD.
    pub replaced_chars: u32,
}

impl<'a> ErrorReport<'a> {
    /// The report of a failed transaction, for the user whose address of
    /// record is `reporter_aor` (the From URI of the SERVICE request that will
    /// carry it): a final response of 300 or more, a timeout or a transport
    /// failure (the record's [`Ending`]). See the module docs for what goes in.
    pub fn from_record(
        record: &'a TransactionRecord,
        reporter_aor: &str,
    ) -> Result<Self, NotReportable> {
        let final_response = match &record.ending {
            Ending::Open => return Err(NotReportable::NotEnded),
            Ending::Cancelled(_) => return Err(NotReportable::Cancelled),
            Ending::Final(response) if response.status.0 < 300 => {
                return Err(NotReportable::Succeeded(response.status.0))
            }
            Ending::Final(response) => Some(response),
            Ending::Timeout | Ending::Transport(_) => None,
        };
        let mut report = Self::identity_of(record, reporter_aor);
        let Some(final_response) = final_response else {
            // What was received, if anything (see the module docs).
            report.response_code = record
                .last_provisional_status()
                .map_or(0, |s| u32::from(s.0));
            return Ok(report);
        };
        report.response_code = u32::from(final_response.status.0);
        let diagnostics = &final_response.diagnostics;
        let kind = if diagnostics.iter().any(|d| d.kind == HeaderKind::Private) {
            HeaderKind::Private
        } else {
            HeaderKind::Public
        };
        report.diag_headers = diagnostics
            .iter()
            .filter(|d| d.kind == kind)
            .map(unfolded)
            .collect();
        Ok(report)
    }

    fn identity_of(record: &'a TransactionRecord, reporter_aor: &str) -> Self {
        let id = &record.identity;
        let non_empty = |s: &'a str| (!s.is_empty()).then_some(Cow::Borrowed(s));
        ErrorReport {
            // URIs compare case-insensitively here: a report that names the
            // reporter twice is only longer, one that drops a different From
            // would be wrong, and Lync user names are case-insensitive.
            from_uri: (!id.from_uri.eq_ignore_ascii_case(reporter_aor))
                .then_some(())
                .and_then(|()| non_empty(&id.from_uri)),
            to_uri: non_empty(&id.to_uri),
            call_id: Cow::Borrowed(&id.call_id),
            from_tag: id.from_tag.as_deref().and_then(non_empty),
            to_tag: id.to_tag.as_deref().and_then(non_empty),
            request_type: Cow::Borrowed(&id.method),
            content_type: id.content_type.as_deref().and_then(non_empty),
            response_code: 0,
            diag_headers: Vec::new(),
            progress_reports: record.progress.iter().map(unfolded).collect(),
        }
    }

    /// A copy that borrows nothing.
    pub fn into_owned(self) -> ErrorReport<'static> {
        let own = |c: Cow<'a, str>| Cow::Owned(c.into_owned());
        ErrorReport {
            from_uri: self.from_uri.map(own),
            to_uri: self.to_uri.map(own),
            call_id: own(self.call_id),
            from_tag: self.from_tag.map(own),
            to_tag: self.to_tag.map(own),
            request_type: own(self.request_type),
            content_type: self.content_type.map(own),
            response_code: self.response_code,
            diag_headers: self.diag_headers.into_iter().map(own).collect(),
            progress_reports: self.progress_reports.into_iter().map(own).collect(),
        }
    }

    /// The attributes in the order they are written, with their names.
    pub(crate) fn attributes(&self) -> [(&'static str, Option<&str>); 7] {
        [
            ("fromUri", self.from_uri.as_deref()),
            ("toUri", self.to_uri.as_deref()),
            ("callId", Some(&self.call_id)),
            ("fromTag", self.from_tag.as_deref()),
            ("toTag", self.to_tag.as_deref()),
            ("contentType", self.content_type.as_deref()),
            ("requestType", Some(&self.request_type)),
        ]
    }

    /// The exact byte length of [`ErrorReport::to_xml`]'s output, computed
    /// without writing it.
    pub fn xml_len(&self) -> usize {
        let attributes: usize = self
            .attributes()
            .iter()
            .filter_map(|(name, value)| value.map(|v| attribute_len(name, v)))
            .sum();
        let diag: usize = self.diag_headers.iter().map(|d| diag_header_len(d)).sum();
        let progress: usize = self
            .progress_reports
            .iter()
            .map(|d| progress_report_len(d))
            .sum();
        FIXED_LEN
            + attribute_len("responseCode", "")
            + decimal_len(self.response_code)
            + attributes
            + diag
            + progress
    }

    /// A bound on [`ErrorReport::xml_len`] that reads only the values' lengths:
    /// no escape is longer than six times what it replaces (`"` → `&quot;`).
    pub(crate) fn xml_len_upper_bound(&self) -> usize {
        let attributes: usize = self
            .attributes()
            .iter()
            .filter_map(|(name, value)| value.map(|v| name.len() + 4 + 6 * v.len()))
            .sum();
        let diag: usize = self
            .diag_headers
            .iter()
            .map(|d| DIAG_HEADER_TAGS + 6 * d.len())
            .sum();
        let progress: usize = self
            .progress_reports
            .iter()
            .map(|d| PROGRESS_REPORT_TAGS + 6 * d.len())
            .sum();
        FIXED_LEN + attribute_len("responseCode", "") + 10 + attributes + diag + progress
    }

    /// Writes the document. Never fails: every string is escaped, and characters
    /// XML cannot carry are replaced (and counted in [`Xml::replaced_chars`]).
    pub fn to_xml(&self) -> Xml {
        // An estimate, not xml_len(): sizing exactly would scan every value
        // once more, and escapes are rare.
        let values: usize = self
            .attributes()
            .iter()
            .filter_map(|(_, v)| v.map(str::len))
            .sum::<usize>()
            + self.diag_headers.iter().map(|d| d.len()).sum::<usize>()
            + self.progress_reports.iter().map(|d| d.len()).sum::<usize>();
        let mut text = String::with_capacity(
            FIXED_LEN
                + 64
                + values
                + 12 * 7
                + DIAG_HEADER_TAGS * self.diag_headers.len()
                + PROGRESS_REPORT_TAGS * self.progress_reports.len(),
        );
        let mut replaced = 0u32;
        text.push_str(ROOT_OPEN);
        text.push_str("<error");
        for (name, value) in self.attributes() {
            let Some(value) = value else { continue };
            if name == "requestType" {
                // §4.1's order puts responseCode between contentType and requestType.
                push_response_code(&mut text, self.response_code);
            }
            text.push(' ');
            text.push_str(name);
            text.push_str("=\"");
            replaced = replaced.saturating_add(escape_into(&mut text, value, Context::Attribute));
            text.push('"');
        }
        text.push('>');
        for diag in &self.diag_headers {
            text.push_str("<diagHeader>");
            replaced = replaced.saturating_add(escape_into(&mut text, diag, Context::Text));
            text.push_str("</diagHeader>");
        }
        text.push_str("<progressReports>");
        for diag in &self.progress_reports {
            text.push_str("<progressReport><diagHeader>");
            replaced = replaced.saturating_add(escape_into(&mut text, diag, Context::Text));
            text.push_str("</diagHeader></progressReport>");
        }
        text.push_str("</progressReports></error></reportError>");
        Xml {
            text,
            replaced_chars: replaced,
        }
    }
}

const ROOT_OPEN: &str =
    "<reportError xmlns=\"http://schemas.microsoft.com/2006/09/sip/error-reporting\">";
/// Everything of the document that does not depend on its values.
const FIXED_LEN: usize = ROOT_OPEN.len()
    + "<error>".len()
    + "<progressReports></progressReports></error></reportError>".len();
const DIAG_HEADER_TAGS: usize = "<diagHeader></diagHeader>".len();
const PROGRESS_REPORT_TAGS: usize = "<progressReport></progressReport>".len() + DIAG_HEADER_TAGS;

fn push_response_code(text: &mut String, code: u32) {
    use std::fmt::Write as _;
    // Writing into a String cannot fail.
    let _ = write!(text, " responseCode=\"{code}\"");
}

/// ` name="value"` once escaped.
pub(crate) fn attribute_len(name: &str, value: &str) -> usize {
    name.len() + 4 + escaped_len(value, Context::Attribute)
}

/// `<diagHeader>value</diagHeader>` once escaped.
pub(crate) fn diag_header_len(value: &str) -> usize {
    DIAG_HEADER_TAGS + escaped_len(value, Context::Text)
}

/// `<progressReport><diagHeader>value</diagHeader></progressReport>` once escaped.
pub(crate) fn progress_report_len(value: &str) -> usize {
    PROGRESS_REPORT_TAGS + escaped_len(value, Context::Text)
}

fn decimal_len(mut n: u32) -> usize {
    let mut len = 1;
    while n >= 10 {
        n /= 10;
        len += 1;
    }
    len
}

/// The value of an observed header with each line fold replaced by one SP.
fn unfolded(diag: &ObservedDiagnostic) -> Cow<'_, str> {
    unfold(&diag.raw)
}

/// Replaces each line fold with one SP (the rule of `sip::lex`). Borrowed
/// when there is none.
pub(crate) fn unfold(raw: &str) -> Cow<'_, str> {
    crate::sip::lex::unfold(raw)
}

/// Why a document was refused by [`ErrorReport::parse`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DocumentError {
    /// The body is not UTF-8.
    #[error("the document is not UTF-8")]
    NotUtf8,
    /// The body is not well-formed XML.
    #[error("malformed XML at byte {position}: {message}")]
    Xml {
        /// Byte offset where the reader stopped.
        position: u64,
        /// quick-xml's description.
        message: String,
    },
    /// A document type declaration: the format has none, and refusing it
    /// keeps entity tricks out.
    #[error("a DOCTYPE is not allowed")]
    DocType,
    /// No root element.
    #[error("the document has no root element")]
    Empty,
    /// The root element is not `reportError` of the error-reporting namespace.
    #[error(
        "the root element is {name:?} in namespace {namespace:?}, not reportError in {NAMESPACE}"
    )]
    WrongRoot {
        /// Its local name.
        name: String,
        /// Its namespace, if it has one.
        namespace: Option<String>,
    },
    /// An element the schema does not allow there: unknown, in no namespace,
    /// out of sequence, or repeated.
    #[error("element {name:?} is not allowed in {parent}")]
    UnexpectedElement {
        /// The enclosing element.
        parent: &'static str,
        /// The element's local name.
        name: String,
    },
    /// A required element is missing.
    #[error("{parent} lacks its {name} element")]
    MissingElement {
        /// The enclosing element.
        parent: &'static str,
        /// The missing element.
        name: &'static str,
    },
    /// An attribute the schema does not allow (unqualified and unknown, or in the
    /// error-reporting namespace).
    #[error("attribute {name:?} is not allowed on {element}")]
    UnexpectedAttribute {
        /// The element.
        element: &'static str,
        /// The attribute's name as written.
        name: String,
    },
    /// A required attribute of `error` is missing.
    #[error("error lacks its required {0} attribute")]
    MissingAttribute(&'static str),
    /// `responseCode` is not an `xs:unsignedInt`.
    #[error("responseCode {0:?} is not an unsigned 32-bit integer")]
    BadResponseCode(String),
    /// Character data where the schema allows only elements.
    #[error("text is not allowed directly in {0}")]
    UnexpectedText(&'static str),
    /// A value holds a character XML 1.0 does not allow.
    #[error("{0} holds a character XML 1.0 does not allow")]
    IllegalChar(&'static str),
    /// Something other than comments or processing instructions after the root.
    #[error("content after the root element")]
    TrailingContent,
}

impl DocumentError {
    fn xml(position: u64, error: impl std::fmt::Display) -> Self {
        DocumentError::Xml {
            position,
            message: error.to_string(),
        }
    }
}

impl ErrorReport<'static> {
    /// Reads a document (a SERVICE body), accepting what Appendix A allows.
    /// A UTF-8 byte order mark is skipped.
    pub fn parse(body: &[u8]) -> Result<ErrorReport<'static>, DocumentError> {
        let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
        let text = std::str::from_utf8(body).map_err(|_| DocumentError::NotUtf8)?;
        Parser::new(text).document()
    }
}

/// A child element, classified by namespace.
enum Child<'i> {
    /// An element of the error-reporting namespace: its local name.
    Ours(String, BytesStart<'i>),
    /// An element of another namespace (`##other`): skipped.
    Foreign(BytesStart<'i>),
    /// The parent's end tag.
    End,
}

struct Parser<'i> {
    reader: NsReader<&'i [u8]>,
}

impl<'i> Parser<'i> {
    fn new(text: &'i str) -> Self {
        let mut reader = NsReader::from_str(text);
        let config = reader.config_mut();
        config.expand_empty_elements = true;
        config.check_end_names = true;
        config.check_comments = true;
        Self { reader }
    }

    fn position(&self) -> u64 {
        self.reader.buffer_position()
    }

    fn event(&mut self) -> Result<(Namespace, Event<'i>), DocumentError> {
        match self.reader.read_resolved_event() {
            Ok((ns, event)) => Ok((Namespace::of(ns)?, event)),
            Err(e) => Err(DocumentError::xml(self.position(), e)),
        }
    }

    fn document(mut self) -> Result<ErrorReport<'static>, DocumentError> {
        let root = loop {
            match self.event()? {
                (_, Event::Decl(_) | Event::Comment(_) | Event::PI(_)) => {}
                (_, Event::Text(t)) if is_blank(&t) => {}
                (_, Event::DocType(_)) => return Err(DocumentError::DocType),
                (ns, Event::Start(start)) => {
                    let name = local_name(&start);
                    if ns != Namespace::Ours || name != "reportError" {
                        return Err(DocumentError::WrongRoot {
                            name,
                            namespace: match ns {
                                Namespace::Ours => Some(NAMESPACE.to_owned()),
                                Namespace::Other(uri) => Some(uri),
                                Namespace::None => None,
                            },
                        });
                    }
                    break start;
                }
                (_, Event::Eof) => return Err(DocumentError::Empty),
                (_, _) => return Err(DocumentError::UnexpectedText("the prolog")),
            }
        };
        self.foreign_attributes_only(&root, "reportError")?;

        let mut report = None;
        loop {
            match self.child("reportError")? {
                Child::Ours(name, start) if name == "error" && report.is_none() => {
                    report = Some(self.error(&start)?);
                }
                Child::Ours(name, _) => {
                    return Err(DocumentError::UnexpectedElement {
                        parent: "reportError",
                        name,
                    })
                }
                // xs:any comes after `error` in the sequence.
                Child::Foreign(start) if report.is_some() => self.skip(&start)?,
                Child::Foreign(start) => {
                    return Err(DocumentError::UnexpectedElement {
                        parent: "reportError",
                        name: local_name(&start),
                    })
                }
                Child::End => break,
            }
        }
        let report = report.ok_or(DocumentError::MissingElement {
            parent: "reportError",
            name: "error",
        })?;

        loop {
            match self.event()? {
                (_, Event::Comment(_) | Event::PI(_)) => {}
                (_, Event::Text(t)) if is_blank(&t) => {}
                (_, Event::Eof) => return Ok(report),
                (_, _) => return Err(DocumentError::TrailingContent),
            }
        }
    }

    fn error(&mut self, start: &BytesStart<'_>) -> Result<ErrorReport<'static>, DocumentError> {
        let mut report = ErrorReport::default();
        let mut call_id = None;
        let mut request_type = None;
        let mut response_code = None;
        for attribute in start.attributes() {
            let attribute = attribute.map_err(|e| DocumentError::xml(self.position(), e))?;
            if attribute.key.as_namespace_binding().is_some() {
                continue;
            }
            let (ns, local) = self.reader.resolver().resolve_attribute(attribute.key);
            match Namespace::of(ns)? {
                Namespace::Other(_) => continue,
                Namespace::Ours => {
                    return Err(DocumentError::UnexpectedAttribute {
                        element: "error",
                        name: String::from_utf8_lossy(attribute.key.as_ref()).into_owned(),
                    })
                }
                Namespace::None => {}
            }
            let name = String::from_utf8_lossy(local.as_ref()).into_owned();
            let slot: &mut Option<Cow<'static, str>> = match name.as_str() {
                "fromUri" => &mut report.from_uri,
                "toUri" => &mut report.to_uri,
                "callId" => &mut call_id,
                "fromTag" => &mut report.from_tag,
                "toTag" => &mut report.to_tag,
                "requestType" => &mut request_type,
                "contentType" => &mut report.content_type,
                "responseCode" => &mut response_code,
                _ => {
                    return Err(DocumentError::UnexpectedAttribute {
                        element: "error",
                        name,
                    })
                }
            };
            let value = attribute
                .normalized_value(XmlVersion::Implicit1_0)
                .map_err(|e| DocumentError::xml(self.position(), e))?;
            if !value.chars().all(is_xml_char) {
                return Err(DocumentError::IllegalChar("an attribute of error"));
            }
            *slot = Some(Cow::Owned(value.into_owned()));
        }
        report.call_id = call_id.ok_or(DocumentError::MissingAttribute("callId"))?;
        report.request_type = request_type.ok_or(DocumentError::MissingAttribute("requestType"))?;
        let code = response_code.ok_or(DocumentError::MissingAttribute("responseCode"))?;
        report.response_code = parse_unsigned_int(&code)
            .ok_or_else(|| DocumentError::BadResponseCode(code.into_owned()))?;

        // Sequence: diagHeader*, progressReports, ##other*.
        let mut progress = None;
        loop {
            match self.child("error")? {
                Child::Ours(name, start) if name == "diagHeader" && progress.is_none() => {
                    self.foreign_attributes_only(&start, "diagHeader")?;
                    report
                        .diag_headers
                        .push(Cow::Owned(self.text("diagHeader")?));
                }
                Child::Ours(name, start) if name == "progressReports" && progress.is_none() => {
                    progress = Some(self.progress_reports(&start)?);
                }
                Child::Ours(name, _) => {
                    return Err(DocumentError::UnexpectedElement {
                        parent: "error",
                        name,
                    })
                }
                Child::Foreign(start) if progress.is_some() => self.skip(&start)?,
                Child::Foreign(start) => {
                    return Err(DocumentError::UnexpectedElement {
                        parent: "error",
                        name: local_name(&start),
                    })
                }
                Child::End => break,
            }
        }
        report.progress_reports = progress.ok_or(DocumentError::MissingElement {
            parent: "error",
            name: "progressReports",
        })?;
        Ok(report)
    }

    fn progress_reports(
        &mut self,
        start: &BytesStart<'_>,
    ) -> Result<Vec<Cow<'static, str>>, DocumentError> {
        self.foreign_attributes_only(start, "progressReports")?;
        let mut reports = Vec::new();
        let mut foreign_seen = false;
        loop {
            match self.child("progressReports")? {
                Child::Ours(name, start) if name == "progressReport" && !foreign_seen => {
                    reports.push(self.progress_report(&start)?);
                }
                Child::Ours(name, _) => {
                    return Err(DocumentError::UnexpectedElement {
                        parent: "progressReports",
                        name,
                    })
                }
                Child::Foreign(start) => {
                    foreign_seen = true;
                    self.skip(&start)?;
                }
                Child::End => return Ok(reports),
            }
        }
    }

    fn progress_report(
        &mut self,
        start: &BytesStart<'_>,
    ) -> Result<Cow<'static, str>, DocumentError> {
        self.foreign_attributes_only(start, "progressReport")?;
        let mut diag = None;
        loop {
            match self.child("progressReport")? {
                Child::Ours(name, start) if name == "diagHeader" && diag.is_none() => {
                    self.foreign_attributes_only(&start, "diagHeader")?;
                    diag = Some(Cow::Owned(self.text("diagHeader")?));
                }
                Child::Ours(name, _) => {
                    return Err(DocumentError::UnexpectedElement {
                        parent: "progressReport",
                        name,
                    })
                }
                Child::Foreign(start) if diag.is_some() => self.skip(&start)?,
                Child::Foreign(start) => {
                    return Err(DocumentError::UnexpectedElement {
                        parent: "progressReport",
                        name: local_name(&start),
                    })
                }
                Child::End => break,
            }
        }
        diag.ok_or(DocumentError::MissingElement {
            parent: "progressReport",
            name: "diagHeader",
        })
    }

    /// The next child element of `parent`, skipping white space, comments and
    /// processing instructions.
    fn child(&mut self, parent: &'static str) -> Result<Child<'i>, DocumentError> {
        loop {
            match self.event()? {
                (_, Event::Comment(_) | Event::PI(_)) => {}
                (_, Event::Text(t)) if is_blank(&t) => {}
                (Namespace::Ours, Event::Start(start)) => {
                    return Ok(Child::Ours(local_name(&start), start))
                }
                (Namespace::Other(_), Event::Start(start)) => return Ok(Child::Foreign(start)),
                // ##other excludes "no namespace".
                (Namespace::None, Event::Start(start)) => {
                    return Err(DocumentError::UnexpectedElement {
                        parent,
                        name: local_name(&start),
                    })
                }
                (_, Event::End(_)) => return Ok(Child::End),
                (_, Event::Eof) => {
                    return Err(DocumentError::xml(
                        self.position(),
                        "unexpected end of document",
                    ))
                }
                (_, _) => return Err(DocumentError::UnexpectedText(parent)),
            }
        }
    }

    /// The character data of a simple-content element, up to its end tag.
    fn text(&mut self, element: &'static str) -> Result<String, DocumentError> {
        let mut out = String::new();
        loop {
            let position = self.position();
            let event = self
                .reader
                .read_event()
                .map_err(|e| DocumentError::xml(position, e))?;
            match event {
                Event::Text(t) => out.push_str(
                    &t.xml10_content()
                        .map_err(|e| DocumentError::xml(position, e))?,
                ),
                Event::CData(c) => out.push_str(
                    &c.xml10_content()
                        .map_err(|e| DocumentError::xml(position, e))?,
                ),
                Event::GeneralRef(r) => match r
                    .resolve_char_ref()
                    .map_err(|e| DocumentError::xml(position, e))?
                {
                    Some(c) => out.push(c),
                    None => {
                        let name = r.decode().map_err(|e| DocumentError::xml(position, e))?;
                        let c = match name.as_ref() {
                            "amp" => '&',
                            "lt" => '<',
                            "gt" => '>',
                            "quot" => '"',
                            "apos" => '\'',
                            other => {
                                return Err(DocumentError::xml(
                                    position,
                                    format!("unknown entity &{other};"),
                                ))
                            }
                        };
                        out.push(c);
                    }
                },
                Event::Comment(_) | Event::PI(_) => {}
                Event::End(_) => break,
                Event::Start(start) => {
                    return Err(DocumentError::UnexpectedElement {
                        parent: element,
                        name: local_name(&start),
                    })
                }
                _ => return Err(DocumentError::xml(position, "unexpected end of document")),
            }
        }
        if !out.chars().all(is_xml_char) {
            return Err(DocumentError::IllegalChar(element));
        }
        Ok(out)
    }

    /// Checks that `start` carries only namespace declarations and attributes of
    /// other namespaces (`xs:anyAttribute namespace="##other"`).
    fn foreign_attributes_only(
        &self,
        start: &BytesStart<'_>,
        element: &'static str,
    ) -> Result<(), DocumentError> {
        for attribute in start.attributes() {
            let attribute = attribute.map_err(|e| DocumentError::xml(self.position(), e))?;
            if attribute.key.as_namespace_binding().is_some() {
                continue;
            }
            let (ns, _) = self.reader.resolver().resolve_attribute(attribute.key);
            if !matches!(Namespace::of(ns)?, Namespace::Other(_)) {
                return Err(DocumentError::UnexpectedAttribute {
                    element,
                    name: String::from_utf8_lossy(attribute.key.as_ref()).into_owned(),
                });
            }
        }
        Ok(())
    }

    /// Skips a foreign element (processContents="lax": only well-formedness).
    fn skip(&mut self, start: &BytesStart<'_>) -> Result<(), DocumentError> {
        self.reader
            .read_to_end(start.name())
            .map(|_| ())
            .map_err(|e| DocumentError::xml(self.position(), e))
    }
}

/// An element's or attribute's namespace.
#[derive(Debug, PartialEq, Eq)]
enum Namespace {
    /// The error-reporting namespace.
    Ours,
    /// Another namespace.
    Other(String),
    /// No namespace.
    None,
}

impl Namespace {
    fn of(ns: ResolveResult<'_>) -> Result<Self, DocumentError> {
        match ns {
            ResolveResult::Bound(uri) if uri.as_ref() == NAMESPACE.as_bytes() => {
                Ok(Namespace::Ours)
            }
            ResolveResult::Bound(uri) => Ok(Namespace::Other(
                String::from_utf8_lossy(uri.as_ref()).into_owned(),
            )),
            ResolveResult::Unbound => Ok(Namespace::None),
            ResolveResult::Unknown(prefix) => Err(DocumentError::Xml {
                position: 0,
                message: format!(
                    "undeclared namespace prefix {:?}",
                    String::from_utf8_lossy(&prefix)
                ),
            }),
        }
    }
}

fn local_name(start: &BytesStart<'_>) -> String {
    String::from_utf8_lossy(start.local_name().as_ref()).into_owned()
}

fn is_blank(text: &[u8]) -> bool {
    text.iter()
        .all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
}

/// `xs:unsignedInt` lexical form, after whitespace collapse: an optional `+`
/// and decimal digits; zero may also be written with `-`.
fn parse_unsigned_int(text: &str) -> Option<u32> {
    let text = text.trim_matches([' ', '\t', '\r', '\n']);
    let (negative, digits) = match text.as_bytes().first() {
        Some(b'+') => (false, text.get(1..)?),
        Some(b'-') => (true, text.get(1..)?),
        _ => (false, text),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let digits = digits.trim_start_matches('0');
    if digits.is_empty() {
        return Some(0);
    }
    if negative {
        return None;
    }
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::{Collector, CollectorLimits, DiagnosticsHeader, ErrorId};
    use crate::sip::{FramingLimits, RequestIdentity, SipMessage};
    use proptest::prelude::*;
    use std::time::{Duration, Instant};

    const INVITE: &[u8] = include_bytes!("../../tests/fixtures/ms-ocer-4.1/invite.sip");
    const TRYING: &[u8] = include_bytes!("../../tests/fixtures/ms-ocer-4.1/100.sip");
    const PROGRESS: &[u8] = include_bytes!("../../tests/fixtures/ms-ocer-4.1/101.sip");
    const TIMEOUT: &[u8] = include_bytes!("../../tests/fixtures/ms-ocer-4.1/504.sip");
    const ALICE: &str = "sip:alice@contoso.com";

    fn parse_sip(bytes: &[u8]) -> SipMessage {
        SipMessage::parse(bytes, &FramingLimits::default()).unwrap()
    }

    fn spec_4_1_record() -> TransactionRecord {
        let start = Instant::now();
        let identity = RequestIdentity::from_request(&parse_sip(INVITE)).unwrap();
        let mut c = Collector::new(identity, start, CollectorLimits::default());
        for (i, msg) in [TRYING, PROGRESS, TIMEOUT].into_iter().enumerate() {
            c.observe_response(
                &parse_sip(msg),
                start + Duration::from_millis(i as u64 * 100),
            )
            .unwrap();
        }
        c.finish()
    }

    /// The §4.1 report body (seed lines 722–738) with the PDF's damage undone:
    /// `</pre>` removed, the wrapped diagHeader joined, the look-alike fromTag
    /// `dlefe7a825` read as the INVITE's `d1efe7a825` (see the fixtures'
    /// README), and the `progressReports` the page break cut off restored from
    /// the 101 as §2.2.2's example shows it.
    const SPEC_4_1_BODY: &str = r#"<reportError xmlns="http://schemas.microsoft.com/2006/09/sip/error-reporting">
    <error toUri="sip:bob@contoso.com;user=phone"
           callId="f5290007af32443f8a82daa76c934880"
           fromTag="d1efe7a825"
           toTag="66643C5C12E2A03D937F1045F8E8484F"
           contentType="application/sdp;call-type=audiovideo"
           responseCode="504"
           requestType="INVITE">
        <diagHeader>1007;reason="Temporarily cannot route"; source="server.contoso.com"; ErrorType="Connect Attempt Failure";WinsockFailureDescription="The peer actively refused the connection attempt";WinsockFailureCode="274D(WSAECONNREFUSED)";Peer="gateway.contoso.com"</diagHeader>
        <progressReports>
            <progressReport>
                <diagHeader>12006;reason="Trying next hop";source="red-lsapf-01.exchange.corp.contoso.com";PhoneUsage="CN={44924569-8F42-48AD-B926-78F11B418D7E},CN=Phone Route Usages,CN=RTC Service,CN=Contoso,CN=System,DC=contoso,DC=com";PhoneRoute="RedLocalRoute";Gateway="gateway.contoso.com:5061";appName="OutboundRouting"</diagHeader>
            </progressReport>
        </progressReports>
    </error>
</reportError>"#;

    /// The §2.2.2 example body (seed lines 432–450), `</pre>` removed.
    const SPEC_2_2_2_BODY: &str = r#"<reportError xmlns="http://schemas.microsoft.com/2006/09/sip/error-reporting">
    <error toUri="sip:user@contoso.com"
          callId="5ec5a21ab8bb4960b98de162f45cd204"
          fromTag="823bb11e1a"
           toTag="4F230FC472C24AD1255468D8C334D8FE"
           contentType="application/sdp;call-type=audiovideo"
           responseCode="408"
           requestType="INVITE">
        <diagHeader>10000;reason="Gateway returned a SIP failure code"
        </diagHeader>
        <progressReports>
            <progressReport>
                <diagHeader>12006;reason="Trying next hop";appName="OutboundRouting"
                </diagHeader>
            </progressReport>
        </progressReports>
    </error>
</reportError>"#;

    fn diag(value: &str) -> DiagnosticsHeader {
        DiagnosticsHeader::parse(HeaderKind::Private, value).unwrap()
    }

    /// The parts of a diagnostics value a reader interprets; white space around
    /// `;` and a trailing space in a quoted value are the PDF's, not the server's.
    type Meaning = (
        ErrorId,
        Option<String>,
        Option<String>,
        Vec<(String, String)>,
    );

    fn meaning(d: &DiagnosticsHeader) -> Meaning {
        (
            d.error_id,
            d.reason.as_deref().map(str::to_owned),
            d.source.as_deref().map(str::to_owned),
            d.params
                .iter()
                .map(|p| {
                    (
                        p.name.to_string(),
                        p.value_str().unwrap_or("").trim().to_owned(),
                    )
                })
                .collect(),
        )
    }

    fn assert_same_meaning(a: &ErrorReport<'_>, b: &ErrorReport<'_>) {
        assert_eq!(a.from_uri, b.from_uri, "fromUri");
        assert_eq!(a.to_uri, b.to_uri, "toUri");
        assert_eq!(a.call_id, b.call_id, "callId");
        assert_eq!(a.from_tag, b.from_tag, "fromTag");
        assert_eq!(a.to_tag, b.to_tag, "toTag");
        assert_eq!(a.request_type, b.request_type, "requestType");
        assert_eq!(a.content_type, b.content_type, "contentType");
        assert_eq!(a.response_code, b.response_code, "responseCode");
        let m = |v: &[Cow<'_, str>]| v.iter().map(|d| meaning(&diag(d))).collect::<Vec<_>>();
        assert_eq!(m(&a.diag_headers), m(&b.diag_headers), "diagHeader");
        assert_eq!(
            m(&a.progress_reports),
            m(&b.progress_reports),
            "progressReports"
        );
    }

    #[test]
    fn spec_4_1_report_equals_the_spec_body_field_by_field_and_reads_back() {
        let record = spec_4_1_record();
        let report = ErrorReport::from_record(&record, ALICE).unwrap();
        let spec = ErrorReport::parse(SPEC_4_1_BODY.as_bytes()).unwrap();
        assert_same_meaning(&report, &spec);

        // Byte for byte what the 504 and the 101 carried, folds read as one SP.
        assert_eq!(
            report.diag_headers,
            vec![concat!(
                "1007; reason=\"Temporarily cannot route\";source=\"server.contoso.com\";",
                "ErrorType=\"Connect Attempt Failure\"; WinsockFailureDescription=\"The peer actively ",
                "refused the connection attempt\";WinsockFailureCode=\"274D(WSAECONNREFUSED)\";",
                "Peer=\"gateway.contoso.com \""
            )]
        );
        assert_eq!(report.progress_reports.len(), 1);
        assert!(report.progress_reports[0]
            .starts_with("12006;reason=\"Trying next hop\";source=\"red-lsapf-01."));
        assert!(
            matches!(report.call_id, Cow::Borrowed(_)),
            "no copy of the record's strings"
        );

        let xml = report.to_xml();
        assert_eq!(xml.replaced_chars, 0);
        assert_eq!(xml.text.len(), report.xml_len());
        assert!(xml.text.starts_with(
            "<reportError xmlns=\"http://schemas.microsoft.com/2006/09/sip/error-reporting\"><error \
             toUri=\"sip:bob@contoso.com;user=phone\" callId=\"f5290007af32443f8a82daa76c934880\" \
             fromTag=\"d1efe7a825\" toTag=\"66643C5C12E2A03D937F1045F8E8484F\" \
             contentType=\"application/sdp;call-type=audiovideo\" responseCode=\"504\" requestType=\"INVITE\">\
             <diagHeader>1007; reason=\"Temporarily cannot route\";source="
        ));
        let back = ErrorReport::parse(xml.text.as_bytes()).unwrap();
        assert_eq!(back, report.clone().into_owned());
    }

    #[test]
    fn spec_2_2_2_example_reads() {
        let r = ErrorReport::parse(SPEC_2_2_2_BODY.as_bytes()).unwrap();
        assert_eq!(r.to_uri.as_deref(), Some("sip:user@contoso.com"));
        assert_eq!(r.call_id, "5ec5a21ab8bb4960b98de162f45cd204");
        assert_eq!(r.response_code, 408);
        assert_eq!(r.request_type, "INVITE");
        assert_eq!(r.from_uri, None);
        // xs:string keeps white space: the newline and indentation stay.
        assert_eq!(
            r.diag_headers,
            vec!["10000;reason=\"Gateway returned a SIP failure code\"\n        "]
        );
        assert_eq!(
            diag(r.progress_reports[0].trim_end()).error_id,
            ErrorId(12006)
        );
    }

    #[test]
    fn from_uri_is_written_only_when_it_is_not_the_reporter() {
        let record = spec_4_1_record();
        assert_eq!(
            ErrorReport::from_record(&record, "SIP:Alice@Contoso.com")
                .unwrap()
                .from_uri,
            None
        );
        let other = ErrorReport::from_record(&record, "sip:carol@contoso.com").unwrap();
        assert_eq!(other.from_uri.as_deref(), Some(ALICE));
        let xml = other.to_xml().text;
        assert!(xml.contains("<error fromUri=\"sip:alice@contoso.com\" toUri="));
        assert_eq!(
            ErrorReport::parse(xml.as_bytes())
                .unwrap()
                .from_uri
                .as_deref(),
            Some(ALICE)
        );
    }

    #[test]
    fn private_diagnostics_win_and_public_ones_stand_in() {
        let mut record = spec_4_1_record();
        let Ending::Final(fin) = &mut record.ending else {
            panic!("4.1 has a final response")
        };
        let mut public = fin.diagnostics[0].clone();
        public.kind = HeaderKind::Public;
        public.raw = "1007;reason=\"Temporarily cannot route\"".into();
        fin.diagnostics.push(public);
        let r = ErrorReport::from_record(&record, ALICE).unwrap();
        assert_eq!(r.diag_headers.len(), 1);
        assert!(r.diag_headers[0].contains("server.contoso.com"));

        if let Ending::Final(fin) = &mut record.ending {
            fin.diagnostics.remove(0);
        }
        let r = ErrorReport::from_record(&record, ALICE).unwrap();
        assert_eq!(
            r.diag_headers,
            vec!["1007;reason=\"Temporarily cannot route\""]
        );

        if let Ending::Final(fin) = &mut record.ending {
            fin.diagnostics.clear();
        }
        record.progress.clear();
        let r = ErrorReport::from_record(&record, ALICE).unwrap();
        assert!(r.diag_headers.is_empty());
        let xml = r.to_xml().text;
        assert!(xml.ends_with(
            "requestType=\"INVITE\"><progressReports></progressReports></error></reportError>"
        ));
        assert_eq!(ErrorReport::parse(xml.as_bytes()).unwrap(), r.into_owned());
    }

    #[test]
    fn spec_2_2_2_response_code_is_the_code_received() {
        let mut record = spec_4_1_record();
        let Ending::Final(fin) = &mut record.ending else {
            panic!("4.1 has a final response")
        };
        fin.status = crate::sip::StatusCode(200);
        let fin = fin.clone();
        assert_eq!(
            ErrorReport::from_record(&record, ALICE),
            Err(NotReportable::Succeeded(200))
        );
        record.ending = Ending::Cancelled(Some(fin));
        assert_eq!(
            ErrorReport::from_record(&record, ALICE),
            Err(NotReportable::Cancelled)
        );
        record.ending = Ending::Open;
        assert_eq!(
            ErrorReport::from_record(&record, ALICE),
            Err(NotReportable::NotEnded)
        );

        // A timeout after 100 and 101: the 101 is what was received; no
        // invented 408, no diagHeader of an id §7.26 does not list.
        record.ending = Ending::Timeout;
        let r = ErrorReport::from_record(&record, ALICE).unwrap();
        assert_eq!(r.response_code, 101);
        assert!(r.diag_headers.is_empty());
        assert_eq!(r.progress_reports.len(), 1, "what did come is reported");
        let xml = r.to_xml().text;
        assert!(xml.contains("responseCode=\"101\""), "{xml}");
        assert!(
            !xml.contains("responseCode=\"408\"") && !xml.contains("<diagHeader>529"),
            "{xml}"
        );

        // A transport failure before anything came: 0, not 503.
        record.ending = Ending::Transport(crate::sip::TransportFailure::new(
            crate::sip::TransportFailureKind::Tls,
            "handshake failure",
        ));
        record.provisional.clear();
        record.progress.clear();
        let r = ErrorReport::from_record(&record, ALICE).unwrap();
        assert_eq!(r.response_code, 0);
        assert!(r.diag_headers.is_empty());
        assert_eq!(
            ErrorReport::parse(r.to_xml().text.as_bytes()).unwrap(),
            r.into_owned()
        );
    }

    #[test]
    fn unfold_replaces_each_fold_with_one_space() {
        assert_eq!(unfold("a;b"), Cow::Borrowed("a;b"));
        assert_eq!(
            unfold("1; reason=\"x\r\n y\"  \r\n\t;z"),
            "1; reason=\"x y\" ;z"
        );
        assert_eq!(unfold("a\n b"), "a b");
    }

    const INJECTION: &str = "q\"'<tag attr=\"x\">&amp;&#1;]]>\u{0}\u{1}\u{8}\u{B}\u{C}\u{1F}\t\n\r\u{7F}\u{85}\u{FFFE}\u{FFFF}é日本😀\u{202E}";

    #[test]
    fn every_field_survives_markup_control_characters_and_non_ascii() {
        let v = || Cow::Borrowed(INJECTION);
        let report = ErrorReport {
            from_uri: Some(v()),
            to_uri: Some(v()),
            call_id: v(),
            from_tag: Some(v()),
            to_tag: Some(v()),
            request_type: v(),
            content_type: Some(v()),
            response_code: u32::MAX,
            diag_headers: vec![v(), v()],
            progress_reports: vec![v()],
        };
        let xml = report.to_xml();
        let illegal = INJECTION.chars().filter(|&c| !is_xml_char(c)).count();
        assert_eq!(illegal, 8);
        assert_eq!(xml.replaced_chars as usize, illegal * 10, "ten fields");
        assert_eq!(xml.text.len(), report.xml_len());
        assert!(!xml.text.contains("<tag"));
        let clean: String = INJECTION
            .chars()
            .map(|c| if is_xml_char(c) { c } else { '\u{FFFD}' })
            .collect();
        let back = ErrorReport::parse(xml.text.as_bytes()).unwrap();
        let c = || Cow::<str>::Owned(clean.clone());
        assert_eq!(
            back,
            ErrorReport {
                from_uri: Some(c()),
                to_uri: Some(c()),
                call_id: c(),
                from_tag: Some(c()),
                to_tag: Some(c()),
                request_type: c(),
                content_type: Some(c()),
                response_code: u32::MAX,
                diag_headers: vec![c(), c()],
                progress_reports: vec![c()],
            }
        );
    }

    fn doc(error_attrs: &str, inner: &str) -> String {
        format!(
            r#"<reportError xmlns="{NAMESPACE}" xmlns:x="urn:example:ext"><error {error_attrs}>{inner}</error></reportError>"#
        )
    }
    const REQUIRED: &str = r#"callId="c" requestType="INVITE" responseCode="504""#;

    fn read(xml: &str) -> Result<ErrorReport<'static>, DocumentError> {
        ErrorReport::parse(xml.as_bytes())
    }

    #[test]
    fn other_namespaces_are_skipped_where_the_schema_has_any() {
        let xml = format!(
            r#"<?xml version="1.0" encoding="utf-8"?>
            <!-- a comment --><?pi data?>
            <r:reportError xmlns:r="{NAMESPACE}" xmlns:x="urn:example:ext" x:a="1">
              <r:error {} x:b="2">
                <r:diagHeader x:c="3">1;reason=<![CDATA["<cdata>"]]> &amp; &#x41;&#66;</r:diagHeader>
                <r:progressReports x:d="4">
                  <r:progressReport x:e="5"><r:diagHeader>2</r:diagHeader><x:after><r:error/></x:after></r:progressReport>
                  <x:ext>any <deep>content</deep></x:ext>
                </r:progressReports>
                <x:ext/>
              </r:error>
              <x:ext x:f="6"/>
            </r:reportError>
            <!-- trailing comment -->"#,
            REQUIRED
        );
        let r = read(&xml).unwrap();
        assert_eq!(r.diag_headers, vec!["1;reason=\"<cdata>\" & AB"]);
        assert_eq!(r.progress_reports, vec!["2"]);
        assert_eq!(
            (r.call_id.as_ref(), r.request_type.as_ref(), r.response_code),
            ("c", "INVITE", 504)
        );
        // An empty progressReports, written either way.
        assert!(read(&doc(REQUIRED, "<progressReports/>"))
            .unwrap()
            .progress_reports
            .is_empty());
    }

    #[test]
    fn response_code_is_an_xs_unsigned_int() {
        for (text, code) in [
            ("504", 504),
            (" +0504 ", 504),
            ("-0", 0),
            ("4294967295", u32::MAX),
            ("0", 0),
        ] {
            let attrs = format!(r#"callId="c" requestType="BYE" responseCode="{text}""#);
            assert_eq!(
                read(&doc(&attrs, "<progressReports/>"))
                    .unwrap()
                    .response_code,
                code,
                "{text:?}"
            );
        }
        for text in ["", "abc", "-1", "4294967296", "5 04", "0x1F", "+", "١٢"] {
            let attrs = format!(r#"callId="c" requestType="BYE" responseCode="{text}""#);
            assert_eq!(
                read(&doc(&attrs, "<progressReports/>")),
                Err(DocumentError::BadResponseCode(text.to_owned())),
                "{text:?}"
            );
        }
    }

    #[test]
    fn what_the_schema_forbids_is_refused_with_its_reason() {
        use DocumentError as E;
        let pr = "<progressReports/>";
        let unexpected = |parent, name: &str| E::UnexpectedElement {
            parent,
            name: name.to_owned(),
        };
        let cases: Vec<(String, DocumentError)> = vec![
            (doc(r#"requestType="A" responseCode="1""#, pr), E::MissingAttribute("callId")),
            (doc(r#"callId="c" responseCode="1""#, pr), E::MissingAttribute("requestType")),
            (doc(r#"callId="c" requestType="A""#, pr), E::MissingAttribute("responseCode")),
            (doc(REQUIRED, ""), E::MissingElement { parent: "error", name: "progressReports" }),
            (doc(REQUIRED, "<diagHeader>1</diagHeader>"), E::MissingElement { parent: "error", name: "progressReports" }),
            (doc(REQUIRED, "<progressReports/><progressReports/>"), unexpected("error", "progressReports")),
            (doc(REQUIRED, "<progressReports/><diagHeader>1</diagHeader>"), unexpected("error", "diagHeader")),
            (doc(REQUIRED, "<x:ext/><progressReports/>"), unexpected("error", "ext")),
            (doc(REQUIRED, "<unknown/><progressReports/>"), unexpected("error", "unknown")),
            (doc(REQUIRED, r#"<progressReports/><y xmlns=""/>"#), unexpected("error", "y")),
            (doc(REQUIRED, "<progressReports><progressReport/></progressReports>"), E::MissingElement { parent: "progressReport", name: "diagHeader" }),
            (
                doc(REQUIRED, "<progressReports><progressReport><diagHeader>1</diagHeader><diagHeader>2</diagHeader></progressReport></progressReports>"),
                unexpected("progressReport", "diagHeader"),
            ),
            (doc(REQUIRED, "<progressReports><x:e/><progressReport><diagHeader>1</diagHeader></progressReport></progressReports>"), unexpected("progressReports", "progressReport")),
            (doc(REQUIRED, "<progressReports><diagHeader>1</diagHeader></progressReports>"), unexpected("progressReports", "diagHeader")),
            (doc(REQUIRED, "<diagHeader>1<b/></diagHeader><progressReports/>"), unexpected("diagHeader", "b")),
            (doc(REQUIRED, "text<progressReports/>"), E::UnexpectedText("error")),
            (doc(REQUIRED, "<diagHeader>&#1;</diagHeader><progressReports/>"), E::IllegalChar("diagHeader")),
            (doc(&format!(r#"{REQUIRED} toUri="&#xFFFE;""#), pr), E::IllegalChar("an attribute of error")),
            (doc(&format!(r#"{REQUIRED} bogus="1""#), pr), E::UnexpectedAttribute { element: "error", name: "bogus".into() }),
            (
                format!(r#"<r:reportError xmlns:r="{NAMESPACE}"><r:error {REQUIRED} r:callId="d"><r:progressReports/></r:error></r:reportError>"#),
                E::UnexpectedAttribute { element: "error", name: "r:callId".into() },
            ),
            (doc(REQUIRED, r#"<progressReports a="1"/>"#), E::UnexpectedAttribute { element: "progressReports", name: "a".into() }),
            (
                format!(r#"<reportError xmlns="{NAMESPACE}" version="2"><error {REQUIRED}>{pr}</error></reportError>"#),
                E::UnexpectedAttribute { element: "reportError", name: "version".into() },
            ),
            (format!(r#"<reportError xmlns="{NAMESPACE}"/>"#), E::MissingElement { parent: "reportError", name: "error" }),
            (
                format!(r#"<reportError xmlns="{NAMESPACE}"><error {REQUIRED}>{pr}</error><error {REQUIRED}>{pr}</error></reportError>"#),
                unexpected("reportError", "error"),
            ),
            (
                format!(r#"<reportError xmlns="urn:wrong"><error {REQUIRED}>{pr}</error></reportError>"#),
                E::WrongRoot { name: "reportError".into(), namespace: Some("urn:wrong".into()) },
            ),
            (
                format!(r#"<reportError><error {REQUIRED}>{pr}</error></reportError>"#),
                E::WrongRoot { name: "reportError".into(), namespace: None },
            ),
            (format!(r#"<error xmlns="{NAMESPACE}" {REQUIRED}>{pr}</error>"#), E::WrongRoot { name: "error".into(), namespace: Some(NAMESPACE.into()) }),
            (format!("{}<more/>", doc(REQUIRED, pr)), E::TrailingContent),
            (format!("{}text", doc(REQUIRED, pr)), E::TrailingContent),
            (format!("<!DOCTYPE r [<!ENTITY e \"x\">]>{}", doc(REQUIRED, pr)), E::DocType),
            ("".to_owned(), E::Empty),
            ("  <!-- only a comment -->".to_owned(), E::Empty),
        ];
        for (xml, expected) in cases {
            assert_eq!(read(&xml), Err(expected), "{xml}");
        }
        assert_eq!(ErrorReport::parse(b"\xFF<reportError/>"), Err(E::NotUtf8));
        for malformed in [
            doc(REQUIRED, "<progressReports>"),
            doc(&format!(r#"{REQUIRED} callId="again""#), pr),
            doc(
                REQUIRED,
                "<diagHeader>&bogus;</diagHeader><progressReports/>",
            ),
            doc(REQUIRED, "<q:e/><progressReports/>"),
            format!(
                r#"<reportError xmlns="{NAMESPACE}"><error {REQUIRED}>{pr}</wrong></reportError>"#
            ),
        ] {
            assert!(
                matches!(read(&malformed), Err(E::Xml { .. })),
                "{malformed}: {:?}",
                read(&malformed)
            );
        }
    }

    #[test]
    fn a_byte_order_mark_is_skipped() {
        let xml = format!("\u{FEFF}{}", doc(REQUIRED, "<progressReports/>"));
        assert_eq!(read(&xml).unwrap().call_id, "c");
    }

    fn arb_text() -> impl Strategy<Value = String> {
        prop_oneof![
            "[ -~]{0,20}",
            any::<String>(),
            "[\"'<>&\t\r\n\u{0}-\u{1f}é日😀\u{fffe}\u{ffff}]{0,12}",
        ]
    }

    fn arb_report() -> impl Strategy<Value = ErrorReport<'static>> {
        let opt = || proptest::option::of(arb_text().prop_map(Cow::Owned));
        (
            (opt(), opt(), arb_text(), opt(), opt()),
            (arb_text(), opt(), any::<u32>()),
            (
                proptest::collection::vec(arb_text(), 0..3),
                proptest::collection::vec(arb_text(), 0..3),
            ),
        )
            .prop_map(
                |(
                    (from_uri, to_uri, call_id, from_tag, to_tag),
                    (request_type, content_type, response_code),
                    (d, p),
                )| {
                    ErrorReport {
                        from_uri,
                        to_uri,
                        call_id: Cow::Owned(call_id),
                        from_tag,
                        to_tag,
                        request_type: Cow::Owned(request_type),
                        content_type,
                        response_code,
                        diag_headers: d.into_iter().map(Cow::Owned).collect(),
                        progress_reports: p.into_iter().map(Cow::Owned).collect(),
                    }
                },
            )
    }

    fn cleaned(s: &str) -> Cow<'static, str> {
        Cow::Owned(
            s.chars()
                .map(|c| if is_xml_char(c) { c } else { '\u{FFFD}' })
                .collect(),
        )
    }

    proptest! {
        #[test]
        fn write_then_read_gives_the_report_back(report in arb_report()) {
            let xml = report.to_xml();
            prop_assert_eq!(xml.text.len(), report.xml_len());
            prop_assert!(report.xml_len_upper_bound() >= xml.text.len());
            let back = ErrorReport::parse(xml.text.as_bytes()).unwrap();
            let c = |o: &Option<Cow<'_, str>>| o.as_deref().map(cleaned);
            let expected = ErrorReport {
                from_uri: c(&report.from_uri),
                to_uri: c(&report.to_uri),
                call_id: cleaned(&report.call_id),
                from_tag: c(&report.from_tag),
                to_tag: c(&report.to_tag),
                request_type: cleaned(&report.request_type),
                content_type: c(&report.content_type),
                response_code: report.response_code,
                diag_headers: report.diag_headers.iter().map(|d| cleaned(d)).collect(),
                progress_reports: report.progress_reports.iter().map(|d| cleaned(d)).collect(),
            };
            prop_assert_eq!(back, expected);
        }

        #[test]
        fn the_reader_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = ErrorReport::parse(&bytes);
        }

        #[test]
        fn the_reader_never_panics_on_near_documents(
            cut in 0usize..400,
            junk in "[<>/=\"&;# a-z:]{0,8}",
        ) {
            let mut xml = doc(REQUIRED, "<diagHeader>1</diagHeader><progressReports><progressReport><diagHeader>2</diagHeader></progressReport></progressReports>");
            let at = cut.min(xml.len());
            xml.insert_str(at, &junk);
            let _ = read(&xml);
        }
    }
}
