//! The size limits of MS-OCER §2.2.2, applied before a report is sent so that
//! the server never has reason to answer 413 (§3.1.5), plus the client's own
//! caps on the whole body and on the number of progress reports.
//!
//! # Truncation order
//!
//! Whole optional values are dropped rather than cut, because a cut URI, tag or
//! content type names something that does not exist; only diagnostics values,
//! which are text for people, are cut (at a character boundary). The required
//! `callId`, `requestType` and `responseCode` are never dropped or cut: a report
//! whose required fields alone break a limit is refused with a [`LimitError`].
//!
//! 1. §2.2.2, field by field:
//!    - `requestType` longer than 33 characters: [`LimitError::RequiredTooLong`];
//!    - `contentType` longer than 257 characters: dropped;
//!    - each `diagHeader` longer than 65,535 characters: cut to 65,535;
//!    - `fromUri` + `toUri` + `callId` + `fromTag` + `toTag` longer than 669
//!      characters together, counting for an absent `fromUri` the reporter's
//!      address of record (§2.2.2: "If this attribute is not set, then the From
//!      URI of the service request that carrying this error report will be
//!      used", and the SERVICE's From is that AOR): `toTag` is dropped first,
//!      then `fromTag` (the Call-ID alone finds the call in the server's logs),
//!      then `toUri` (which tells a person whom the call was for), and a real
//!      `fromUri` (someone other than the reporter) last, because without it
//!      the server attributes the failed request to the reporter; if `callId`
//!      alone, or with the reporter's AOR, is longer than 669:
//!      [`LimitError::RequiredTooLong`].
//! 2. More progress reports than [`ReportLimits::max_progress_reports`]: the
//!    latest are dropped, as the collector does, because the first hops usually
//!    explain the failure that follows.
//! 3. A body longer than [`ReportLimits::max_body_bytes`]: progress reports,
//!    latest first; then the final response's extra `diagHeader`s, last first;
//!    then the tail of its first `diagHeader` (dropped if nothing of it fits);
//!    then `contentType`, `toTag`, `fromTag`, `toUri` and last `fromUri` (never
//!    when the reporter's AOR in its place would break the 669 limit); if the
//!    body still does not fit: [`LimitError::RequiredExceedBody`].
//!
//! Characters count as Unicode scalar values (what `xs:string` length counts);
//! the body cap counts bytes of the escaped UTF-8 document.

use std::borrow::Cow;

use super::document::{attribute_len, diag_header_len, progress_report_len, ErrorReport};
use super::xml::{escaped_len, Context};

/// §2.2.2: `requestType` "MUST NOT be longer than 33 characters".
pub const MAX_REQUEST_TYPE_CHARS: usize = 33;
/// §2.2.2: `contentType` "MUST NOT be longer than 257 characters".
pub const MAX_CONTENT_TYPE_CHARS: usize = 257;
/// §2.2.2: each `diagHeader` "MUST NOT be longer than 65,535 characters".
pub const MAX_DIAG_HEADER_CHARS: usize = crate::diag::MAX_DIAG_HEADER_CHARS;
/// §2.2.2: `fromUri`, `toUri`, `callId`, `fromTag` and `toTag` together "MUST NOT
/// be longer than 669 characters".
pub const MAX_IDENTITY_CHARS: usize = 669;

/// The client's own caps, on top of §2.2.2's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportLimits {
    /// The largest body, in bytes, that is sent.
    pub max_body_bytes: usize,
    /// The most progress reports one document carries.
    pub max_progress_reports: usize,
}

impl Default for ReportLimits {
    /// 128 KiB: one diagHeader of the largest size §2.2.2 allows, with room to
    /// spare; 32 progress reports, as many as the collector keeps by default.
    fn default() -> Self {
        Self {
            max_body_bytes: 128 * 1024,
            max_progress_reports: 32,
        }
    }
}

/// A field of the `error` element.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// `fromUri`.
    FromUri,
    /// `toUri`.
    ToUri,
    /// `callId`.
    CallId,
    /// `fromTag`.
    FromTag,
    /// `toTag`.
    ToTag,
    /// `requestType`.
    RequestType,
    /// `contentType`.
    ContentType,
}

/// What [`fit`] and the writer took out of a report. Nothing is cut silently.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cuts {
    /// Optional attributes dropped, in the order they were dropped.
    pub dropped_fields: Vec<Field>,
    /// `diagHeader`s (of the final response or of progress reports) whose tail
    /// was cut.
    pub truncated_diag_headers: u32,
    /// Characters removed by those cuts.
    pub truncated_chars: u64,
    /// Final-response `diagHeader`s dropped whole.
    pub dropped_diag_headers: u32,
    /// Progress reports dropped.
    pub dropped_progress_reports: u32,
    /// Characters XML 1.0 cannot carry, written as U+FFFD.
    pub replaced_chars: u32,
}

impl Cuts {
    /// Whether the report went out whole.
    pub fn is_empty(&self) -> bool {
        *self == Cuts::default()
    }

    fn drop_field<T>(&mut self, slot: &mut Option<T>, field: Field) -> bool {
        if slot.take().is_some() {
            self.dropped_fields.push(field);
            true
        } else {
            false
        }
    }
}

/// Why a report cannot be sent at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LimitError {
    /// A required field alone breaks its §2.2.2 limit.
    #[error("{field:?} is {chars} characters, the limit is {limit}")]
    RequiredTooLong {
        /// [`Field::RequestType`] or [`Field::CallId`].
        field: Field,
        /// Its length; for [`Field::CallId`], with the reporter's address of
        /// record when the report cannot fit without leaving `fromUri` to the
        /// server (which puts that AOR there).
        chars: usize,
        /// The limit.
        limit: usize,
    },
    /// The document's required parts alone are larger than
    /// [`ReportLimits::max_body_bytes`].
    #[error(
        "the required parts of the report take {required_bytes} bytes, the cap is {max_body_bytes}"
    )]
    RequiredExceedBody {
        /// Bytes of the smallest document this report can become.
        required_bytes: usize,
        /// The cap.
        max_body_bytes: usize,
    },
}

/// A report ready to send: the body and what was cut to make it fit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedReport {
    /// The `application/msrtc-reporterror+xml` body.
    pub body: String,
    /// What was cut.
    pub cuts: Cuts,
}

/// Applies the limits (see the module docs) and writes the document.
///
/// `reporter_aor` is the From URI of the SERVICE request that will carry the
/// report (the reporting user's address of record): the server puts it where
/// `fromUri` is absent, so it counts toward the 669-character identity limit.
pub fn encode(
    mut report: ErrorReport<'_>,
    limits: &ReportLimits,
    reporter_aor: &str,
) -> Result<EncodedReport, LimitError> {
    let mut cuts = fit(&mut report, limits, reporter_aor)?;
    let xml = report.to_xml();
    cuts.replaced_chars = xml.replaced_chars;
    Ok(EncodedReport {
        body: xml.text,
        cuts,
    })
}

/// Cuts `report` down to the limits, in the order the module docs give, and says
/// what was cut. `reporter_aor` is the SERVICE's From URI, as for [`encode`].
/// On error `report` may already be partly cut.
pub fn fit(
    report: &mut ErrorReport<'_>,
    limits: &ReportLimits,
    reporter_aor: &str,
) -> Result<Cuts, LimitError> {
    let mut cuts = Cuts::default();

    let chars = char_count(&report.request_type);
    if chars > MAX_REQUEST_TYPE_CHARS {
        return Err(LimitError::RequiredTooLong {
            field: Field::RequestType,
            chars,
            limit: MAX_REQUEST_TYPE_CHARS,
        });
    }
    if report
        .content_type
        .as_ref()
        .is_some_and(|c| c.chars().count() > MAX_CONTENT_TYPE_CHARS)
    {
        cuts.drop_field(&mut report.content_type, Field::ContentType);
    }
    for diag in report
        .diag_headers
        .iter_mut()
        .chain(report.progress_reports.iter_mut())
    {
        let removed = truncate_chars(diag, MAX_DIAG_HEADER_CHARS);
        if removed > 0 {
            cuts.truncated_diag_headers = cuts.truncated_diag_headers.saturating_add(1);
            cuts.truncated_chars = cuts.truncated_chars.saturating_add(removed as u64);
        }
    }
    let aor_chars = char_count(reporter_aor);
    fit_identity(report, aor_chars, &mut cuts)?;

    let excess = report
        .progress_reports
        .len()
        .saturating_sub(limits.max_progress_reports);
    if excess > 0 {
        report
            .progress_reports
            .truncate(limits.max_progress_reports);
        cuts.dropped_progress_reports = saturating_u32(excess);
    }

    fit_body(report, limits.max_body_bytes, aor_chars, &mut cuts)?;
    Ok(cuts)
}

fn fit_identity(
    report: &mut ErrorReport<'_>,
    aor_chars: usize,
    cuts: &mut Cuts,
) -> Result<(), LimitError> {
    let chars = |c: &Option<Cow<'_, str>>| c.as_ref().map_or(0, |s| char_count(s));
    let call_id = char_count(&report.call_id);
    if call_id > MAX_IDENTITY_CHARS {
        return Err(LimitError::RequiredTooLong {
            field: Field::CallId,
            chars: call_id,
            limit: MAX_IDENTITY_CHARS,
        });
    }
    // What the server will hold as the failed request's From: the report's
    // fromUri, or else the SERVICE's From (the reporter's AOR).
    let from = report
        .from_uri
        .as_ref()
        .map_or(aor_chars, |s| char_count(s));
    let mut total =
        call_id + from + chars(&report.to_uri) + chars(&report.from_tag) + chars(&report.to_tag);
    for field in [Field::ToTag, Field::FromTag, Field::ToUri] {
        if total <= MAX_IDENTITY_CHARS {
            return Ok(());
        }
        let slot = match field {
            Field::ToTag => &mut report.to_tag,
            Field::FromTag => &mut report.from_tag,
            _ => &mut report.to_uri,
        };
        total -= chars(slot);
        cuts.drop_field(slot, field);
    }
    if total <= MAX_IDENTITY_CHARS {
        return Ok(());
    }
    // Last resort: a real fromUri gives way to the reporter's AOR, when that
    // fits; the report is then attributed to the reporter.
    if report.from_uri.is_some() && call_id + aor_chars <= MAX_IDENTITY_CHARS {
        cuts.drop_field(&mut report.from_uri, Field::FromUri);
        return Ok(());
    }
    Err(LimitError::RequiredTooLong {
        field: Field::CallId,
        chars: call_id + aor_chars,
        limit: MAX_IDENTITY_CHARS,
    })
}

fn fit_body(
    report: &mut ErrorReport<'_>,
    max: usize,
    aor_chars: usize,
    cuts: &mut Cuts,
) -> Result<(), LimitError> {
    if report.xml_len_upper_bound() <= max {
        return Ok(());
    }
    let mut len = report.xml_len();
    if len <= max {
        return Ok(());
    }
    while len > max {
        let Some(last) = report.progress_reports.pop() else {
            break;
        };
        len -= progress_report_len(&last);
        cuts.dropped_progress_reports = cuts.dropped_progress_reports.saturating_add(1);
    }
    while len > max && report.diag_headers.len() > 1 {
        if let Some(last) = report.diag_headers.pop() {
            len -= diag_header_len(&last);
            cuts.dropped_diag_headers = cuts.dropped_diag_headers.saturating_add(1);
        }
    }
    if len > max {
        if let Some(first) = report.diag_headers.first_mut() {
            let others = len - diag_header_len(first);
            let room = max.saturating_sub(others + diag_header_len(""));
            let keep = prefix_fitting(first, room);
            if keep > 0 {
                let removed = first.get(keep..).map_or(0, |tail| tail.chars().count());
                cut_at(first, keep);
                cuts.truncated_diag_headers = cuts.truncated_diag_headers.saturating_add(1);
                cuts.truncated_chars = cuts.truncated_chars.saturating_add(removed as u64);
                len = others + diag_header_len(first);
            } else {
                report.diag_headers.clear();
                cuts.dropped_diag_headers = cuts.dropped_diag_headers.saturating_add(1);
                len = others;
            }
        }
    }
    for field in [
        Field::ContentType,
        Field::ToTag,
        Field::FromTag,
        Field::ToUri,
        Field::FromUri,
    ] {
        if len <= max {
            break;
        }
        // The identity fields before it are gone: what is left is callId and
        // the From the server will hold, the AOR once fromUri is dropped.
        if field == Field::FromUri && char_count(&report.call_id) + aor_chars > MAX_IDENTITY_CHARS {
            break;
        }
        let slot = match field {
            Field::ContentType => &mut report.content_type,
            Field::FromUri => &mut report.from_uri,
            Field::ToTag => &mut report.to_tag,
            Field::FromTag => &mut report.from_tag,
            _ => &mut report.to_uri,
        };
        if let Some(value) = slot.as_deref() {
            len -= attribute_len(field_name(field), value);
        }
        cuts.drop_field(slot, field);
    }
    if len > max {
        return Err(LimitError::RequiredExceedBody {
            required_bytes: len,
            max_body_bytes: max,
        });
    }
    Ok(())
}

fn field_name(field: Field) -> &'static str {
    match field {
        Field::FromUri => "fromUri",
        Field::ToUri => "toUri",
        Field::CallId => "callId",
        Field::FromTag => "fromTag",
        Field::ToTag => "toTag",
        Field::RequestType => "requestType",
        Field::ContentType => "contentType",
    }
}

/// The byte length of the longest prefix of `value` whose escaped text fits in
/// `room` bytes; always a char boundary.
fn prefix_fitting(value: &str, room: usize) -> usize {
    let mut used = 0;
    for (at, c) in value.char_indices() {
        let mut buf = [0u8; 4];
        used += escaped_len(c.encode_utf8(&mut buf), Context::Text);
        if used > room {
            return at;
        }
    }
    value.len()
}

/// Cuts `value` to its first `at` bytes (`at` is a char boundary).
fn cut_at(value: &mut Cow<'_, str>, at: usize) {
    match value {
        Cow::Borrowed(s) => *s = s.get(..at).unwrap_or(s),
        Cow::Owned(s) => {
            if s.is_char_boundary(at) {
                s.truncate(at);
            }
        }
    }
}

/// Characters in `s`; ASCII (the common case) is counted by its length.
fn char_count(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.chars().count()
    }
}

/// Cuts `value` to at most `limit` characters; returns how many were removed.
fn truncate_chars(value: &mut Cow<'_, str>, limit: usize) -> usize {
    // No more bytes than the limit means no more characters either.
    if value.len() <= limit {
        return 0;
    }
    match value.char_indices().nth(limit) {
        Some((at, _)) => {
            let removed = value.get(at..).map_or(0, |tail| tail.chars().count());
            cut_at(value, at);
            removed
        }
        None => 0,
    }
}

fn saturating_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The reporter, as the SERVICE's From: 21 characters.
    const AOR: &str = "sip:alice@contoso.com";

    fn s(text: &str) -> Cow<'static, str> {
        Cow::Owned(text.to_owned())
    }

    fn base() -> ErrorReport<'static> {
        ErrorReport {
            from_uri: None,
            to_uri: Some(s("sip:bob@contoso.com;user=phone")),
            call_id: s("f5290007af32443f8a82daa76c934880"),
            from_tag: Some(s("d1efe7a825")),
            to_tag: Some(s("66643C5C12E2A03D937F1045F8E8484F")),
            request_type: s("INVITE"),
            content_type: Some(s("application/sdp")),
            response_code: 504,
            diag_headers: vec![s("1007;reason=\"Temporarily cannot route\"")],
            progress_reports: vec![s("12006;reason=\"Trying next hop\"")],
        }
    }

    fn unlimited() -> ReportLimits {
        ReportLimits {
            max_body_bytes: usize::MAX,
            max_progress_reports: usize::MAX,
        }
    }

    #[test]
    fn a_report_within_every_limit_is_untouched() {
        let report = base();
        let encoded = encode(report.clone(), &ReportLimits::default(), AOR).unwrap();
        assert!(encoded.cuts.is_empty());
        assert_eq!(encoded.body, report.to_xml().text);
    }

    #[test]
    fn request_type_at_and_over_33() {
        let mut r = base();
        r.request_type = s(&"X".repeat(33));
        assert!(fit(&mut r, &unlimited(), AOR).unwrap().is_empty());
        // Characters, not bytes: 33 two-byte characters are within the limit.
        r.request_type = s(&"é".repeat(33));
        assert!(fit(&mut r, &unlimited(), AOR).is_ok());
        r.request_type = s(&"X".repeat(34));
        assert_eq!(
            fit(&mut r, &unlimited(), AOR),
            Err(LimitError::RequiredTooLong {
                field: Field::RequestType,
                chars: 34,
                limit: 33
            })
        );
    }

    #[test]
    fn content_type_at_and_over_257() {
        let mut r = base();
        r.content_type = Some(s(&"a".repeat(257)));
        assert!(fit(&mut r, &unlimited(), AOR).unwrap().is_empty());
        r.content_type = Some(s(&"a".repeat(258)));
        let cuts = fit(&mut r, &unlimited(), AOR).unwrap();
        assert_eq!(cuts.dropped_fields, vec![Field::ContentType]);
        assert_eq!(r.content_type, None);
    }

    #[test]
    fn diag_headers_at_and_over_65535_and_a_70000_char_one() {
        let mut r = base();
        r.diag_headers = vec![s(&"d".repeat(65_535))];
        r.progress_reports = vec![s(&"p".repeat(65_535))];
        assert!(fit(&mut r, &unlimited(), AOR).unwrap().is_empty());

        r.diag_headers = vec![s(&"日".repeat(70_000))];
        r.progress_reports = vec![s(&"p".repeat(65_536))];
        let cuts = fit(&mut r, &unlimited(), AOR).unwrap();
        assert_eq!(cuts.truncated_diag_headers, 2);
        assert_eq!(cuts.truncated_chars, 4_465 + 1);
        assert_eq!(r.diag_headers[0].chars().count(), 65_535);
        assert_eq!(r.progress_reports[0].len(), 65_535);

        // With the default 128 KiB cap the 70,000-char header still goes out,
        // cut to the §2.2.2 limit, and the body is within the cap.
        let mut r = base();
        r.diag_headers = vec![s(&"x".repeat(70_000))];
        let encoded = encode(r, &ReportLimits::default(), AOR).unwrap();
        assert_eq!(encoded.cuts.truncated_diag_headers, 1);
        assert!(encoded.body.len() <= ReportLimits::default().max_body_bytes);
        let back = ErrorReport::parse(encoded.body.as_bytes()).unwrap();
        assert_eq!(back.diag_headers[0].len(), 65_535);
    }

    fn identity(
        from_uri: usize,
        to_uri: usize,
        call_id: usize,
        from_tag: usize,
        to_tag: usize,
    ) -> ErrorReport<'static> {
        let opt = |n: usize, c: &str| (n > 0).then(|| s(&c.repeat(n)));
        ErrorReport {
            from_uri: opt(from_uri, "f"),
            to_uri: opt(to_uri, "t"),
            call_id: s(&"c".repeat(call_id)),
            from_tag: opt(from_tag, "g"),
            to_tag: opt(to_tag, "h"),
            ..base()
        }
    }

    #[test]
    fn identity_at_and_over_669_drops_optional_fields_in_order() {
        let mut r = identity(100, 200, 169, 100, 100);
        assert!(
            fit(&mut r, &unlimited(), AOR).unwrap().is_empty(),
            "exactly 669"
        );

        let mut r = identity(100, 200, 169, 100, 101);
        assert_eq!(
            fit(&mut r, &unlimited(), AOR).unwrap().dropped_fields,
            vec![Field::ToTag]
        );
        assert_eq!((r.from_uri.is_some(), r.to_tag.is_none()), (true, true));

        let mut r = identity(0, 200, 169, 150, 151);
        assert_eq!(
            fit(&mut r, &unlimited(), AOR).unwrap().dropped_fields,
            vec![Field::ToTag]
        );

        let mut r = identity(0, 0, 669, 0, 0);
        assert!(fit(&mut r, &unlimited(), "").unwrap().is_empty());
        let mut r = identity(5, 5, 670, 5, 5);
        assert_eq!(
            fit(&mut r, &unlimited(), AOR),
            Err(LimitError::RequiredTooLong {
                field: Field::CallId,
                chars: 670,
                limit: 669
            })
        );
    }

    /// §2.2.2: "If this attribute is not set, then the From URI of the service
    /// request that carrying this error report will be used": an absent
    /// `fromUri` is the reporter's AOR on the server, and counts.
    #[test]
    fn spec_2_2_2_an_absent_from_uri_counts_as_the_reporters_aor() {
        // 649 without fromUri: within 669 only if the AOR were not counted.
        let mut r = identity(0, 200, 249, 100, 100);
        assert_eq!(
            fit(&mut r, &unlimited(), AOR).unwrap().dropped_fields,
            vec![Field::ToTag]
        );
        let mut r = identity(0, 200, 249, 100, 100);
        assert!(fit(&mut r, &unlimited(), "sip:a@b").unwrap().is_empty());

        // The Call-ID and the AOR alone break the limit: no fromUri the
        // server can fill in keeps the report within it.
        let mut r = identity(0, 10, 649, 0, 0);
        assert_eq!(
            fit(&mut r, &unlimited(), AOR),
            Err(LimitError::RequiredTooLong {
                field: Field::CallId,
                chars: 670,
                limit: 669
            })
        );
        let mut r = identity(0, 10, 648, 0, 0);
        assert_eq!(
            fit(&mut r, &unlimited(), AOR).unwrap().dropped_fields,
            vec![Field::ToUri]
        );
    }

    /// A `fromUri` naming someone else goes last: without it the server
    /// attributes the failed request to the reporter.
    #[test]
    fn spec_2_2_2_a_real_from_uri_is_dropped_last() {
        let mut r = identity(1, 501, 169, 1, 1);
        assert_eq!(
            fit(&mut r, &unlimited(), AOR).unwrap().dropped_fields,
            vec![Field::ToTag, Field::FromTag, Field::ToUri]
        );
        assert_eq!(r.from_uri.as_deref(), Some("f"));
        assert_eq!(r.call_id.len(), 169);

        // Only when the rest is gone and it still does not fit does it give
        // way to the (shorter) AOR.
        let mut r = identity(600, 10, 70, 10, 10);
        assert_eq!(
            fit(&mut r, &unlimited(), AOR).unwrap().dropped_fields,
            vec![Field::ToTag, Field::FromTag, Field::ToUri, Field::FromUri]
        );
        // ... and never when the AOR would not fit either.
        let mut r = identity(600, 10, 70, 10, 10);
        assert_eq!(
            fit(&mut r, &unlimited(), &"a".repeat(600)),
            Err(LimitError::RequiredTooLong {
                field: Field::CallId,
                chars: 670,
                limit: 669
            })
        );

        // The body cap drops it last too.
        let mut r = identity(30, 30, 32, 10, 10);
        r.content_type = Some(s("application/sdp"));
        r.diag_headers.clear();
        r.progress_reports.clear();
        let mut floor = r.clone();
        floor.content_type = None;
        floor.to_uri = None;
        floor.from_tag = None;
        floor.to_tag = None;
        let limits = ReportLimits {
            max_body_bytes: floor.xml_len(),
            max_progress_reports: 32,
        };
        let cuts = fit(&mut r, &limits, AOR).unwrap();
        assert_eq!(
            cuts.dropped_fields,
            vec![
                Field::ContentType,
                Field::ToTag,
                Field::FromTag,
                Field::ToUri
            ]
        );
        assert_eq!(r, floor);
    }

    #[test]
    fn a_thousand_progress_reports_are_capped_keeping_the_earliest() {
        let mut r = base();
        r.progress_reports = (0..1000)
            .map(|i| s(&format!("{};reason=\"hop {i}\"", 12000 + i)))
            .collect();
        let limits = ReportLimits::default();
        let encoded = encode(r.clone(), &limits, AOR).unwrap();
        assert_eq!(encoded.cuts.dropped_progress_reports, 968);
        let back = ErrorReport::parse(encoded.body.as_bytes()).unwrap();
        assert_eq!(back.progress_reports.len(), 32);
        assert_eq!(back.progress_reports[31], "12031;reason=\"hop 31\"");

        // Without a count cap, the body cap decides, dropping the latest first.
        let limits = ReportLimits {
            max_body_bytes: 4096,
            max_progress_reports: usize::MAX,
        };
        let encoded = encode(r, &limits, AOR).unwrap();
        assert!(encoded.body.len() <= 4096);
        let back = ErrorReport::parse(encoded.body.as_bytes()).unwrap();
        assert_eq!(
            back.progress_reports.len() + encoded.cuts.dropped_progress_reports as usize,
            1000
        );
        assert!(back.progress_reports.len() > 10);
        assert_eq!(back.progress_reports[0], "12000;reason=\"hop 0\"");
        assert_eq!(back.diag_headers, base().diag_headers);
    }

    #[test]
    fn the_body_cap_cuts_in_the_documented_order() {
        let mut r = base();
        r.diag_headers = vec![s(&"a".repeat(1000)), s(&"b".repeat(100))];
        r.progress_reports = vec![s(&"p".repeat(100)); 3];
        let whole = r.xml_len();

        // Just enough room without the last progress report.
        let limits = |max| ReportLimits {
            max_body_bytes: max,
            max_progress_reports: 32,
        };
        let mut cut = r.clone();
        let cuts = fit(&mut cut, &limits(whole - 1), AOR).unwrap();
        assert_eq!(
            (cuts.dropped_progress_reports, cut.progress_reports.len()),
            (1, 2)
        );

        // No progress reports, no second diagHeader, the first one cut to fit.
        let mut cut = r.clone();
        let cuts = fit(&mut cut, &limits(whole - 700), AOR).unwrap();
        assert_eq!(cuts.dropped_progress_reports, 3);
        assert_eq!(cuts.dropped_diag_headers, 1);
        assert_eq!(cuts.truncated_diag_headers, 1);
        assert_eq!(cut.xml_len(), whole - 700, "the cut fills the room exactly");
        assert_eq!(cut.diag_headers.len(), 1);
        assert_eq!(
            cuts.truncated_chars as usize,
            1000 - cut.diag_headers[0].len()
        );
        assert!(cuts.dropped_fields.is_empty());

        // Then the optional attributes, then an error.
        let mut bare = base();
        bare.diag_headers.clear();
        bare.progress_reports.clear();
        bare.content_type = None;
        bare.to_uri = None;
        bare.from_tag = None;
        bare.to_tag = None;
        let floor = bare.xml_len();
        let mut cut = r.clone();
        let cuts = fit(&mut cut, &limits(floor), AOR).unwrap();
        assert_eq!(
            cuts.dropped_fields,
            vec![
                Field::ContentType,
                Field::ToTag,
                Field::FromTag,
                Field::ToUri
            ]
        );
        assert_eq!(cut, bare);
        let mut cut = r.clone();
        assert_eq!(
            fit(&mut cut, &limits(floor - 1), AOR),
            Err(LimitError::RequiredExceedBody {
                required_bytes: floor,
                max_body_bytes: floor - 1
            })
        );
    }

    #[test]
    fn a_cut_never_splits_an_escape_or_a_character() {
        let mut r = base();
        r.progress_reports.clear();
        r.diag_headers = vec![s(&"&é".repeat(100))];
        let others = r.xml_len() - escaped_len(&r.diag_headers[0], Context::Text);
        for room in 1..20 {
            let mut cut = r.clone();
            let limits = ReportLimits {
                max_body_bytes: others + room,
                max_progress_reports: 32,
            };
            fit(&mut cut, &limits, AOR).unwrap();
            assert!(cut.xml_len() <= others + room);
            let body = cut.to_xml().text;
            let back = ErrorReport::parse(body.as_bytes()).unwrap();
            assert!(back
                .diag_headers
                .iter()
                .all(|d| "&é".repeat(100).starts_with(d.as_ref())));
        }
    }

    proptest! {
        #[test]
        fn encoded_reports_respect_every_limit(
            call_id in 1usize..700,
            other in 0usize..400,
            diag in 0usize..70_000,
            progress in 0usize..50,
            max_body in 500usize..200_000,
            max_progress in 0usize..40,
        ) {
            let mut r = identity(other, other, call_id, other / 2, other / 3);
            r.diag_headers = vec![s(&"<".repeat(diag))];
            r.progress_reports = vec![s("12006;reason=\"x\""); progress];
            let limits = ReportLimits { max_body_bytes: max_body, max_progress_reports: max_progress };
            match encode(r, &limits, AOR) {
                Ok(encoded) => {
                    prop_assert!(encoded.body.len() <= max_body);
                    let back = ErrorReport::parse(encoded.body.as_bytes()).unwrap();
                    prop_assert!(back.progress_reports.len() <= max_progress);
                    prop_assert!(back.diag_headers.iter().all(|d| d.chars().count() <= MAX_DIAG_HEADER_CHARS));
                    let ids = [&back.to_uri, &back.from_tag, &back.to_tag]
                        .iter()
                        .map(|o| o.as_ref().map_or(0, |v| v.chars().count()))
                        .sum::<usize>()
                        + back.from_uri.as_ref().map_or(AOR.len(), |v| v.chars().count())
                        + back.call_id.chars().count();
                    prop_assert!(ids <= MAX_IDENTITY_CHARS);
                    prop_assert_eq!(back.call_id.len(), call_id);
                    prop_assert_eq!(
                        back.progress_reports.len() + encoded.cuts.dropped_progress_reports as usize,
                        progress
                    );
                }
                Err(LimitError::RequiredTooLong { field: Field::CallId, chars, .. }) => {
                    prop_assert!(chars > 669);
                    prop_assert!(call_id > 669 || call_id + AOR.len() > 669);
                }
                Err(LimitError::RequiredExceedBody { required_bytes, .. }) => prop_assert!(required_bytes > max_body),
                Err(other) => prop_assert!(false, "{other:?}"),
            }
        }
    }
}
