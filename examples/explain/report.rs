//! `explain --report`: the reportError document (MS-OCER §2.2.2) the SDK would
//! send for a saved SIP trace of a failed transaction.

use std::fmt::Write as _;

use ocer::diag::Ending;
use ocer::report::{encode, ErrorReport, ReportLimits};
use ocer::sip::{TransportFailure, TransportFailureKind};

use crate::display::record_of;

pub(crate) const USAGE: &str = "\
       explain --report [--aor AOR] [--transport-error] [TRACE]

--report reads a saved SIP trace of one failed transaction (the request, then
its responses; as a file or on stdin) and prints the application/
msrtc-reporterror+xml body the SDK would send for it, exactly, after the
§2.2.2 size limits; what the limits cut is said on stderr. AOR is the reporting
user's address of record (default: the request's From URI). A trace without a
final response is reported as a timeout, or with --transport-error as a
transport failure: with the last provisional code it received as responseCode
(0 if none), and no diagHeader (MS-OCER §2.2.2: the code received).";

/// What `--report` was asked for.
pub(crate) struct ReportArgs {
    aor: Option<String>,
    /// How a trace without a final response ended.
    transport_error: bool,
    /// A file; `None` = stdin.
    pub(crate) trace: Option<String>,
}

/// `None` when `args` are for another use of `explain`.
pub(crate) fn parse_args(args: &[String]) -> Option<Result<ReportArgs, String>> {
    if args.first().map(String::as_str) != Some("--report") {
        return None;
    }
    let mut out = ReportArgs {
        aor: None,
        transport_error: false,
        trace: None,
    };
    let mut rest = args.iter().skip(1);
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--aor" => match rest.next() {
                Some(aor) => out.aor = Some(aor.clone()),
                None => return Some(Err("--aor takes an address of record".into())),
            },
            "--transport-error" => out.transport_error = true,
            flag if flag.starts_with("--") => return Some(Err(format!("unknown option {flag}"))),
            path if out.trace.is_none() => out.trace = Some(path.to_owned()),
            _ => return Some(Err("--report takes one trace".into())),
        }
    }
    Some(Ok(out))
}

/// The document for `trace`, and notes for stderr.
pub(crate) fn report(args: &ReportArgs, trace: &[u8]) -> Result<(String, String), String> {
    let (mut record, skipped) = record_of(trace)?;
    let mut notes = String::new();
    for note in skipped {
        let _ = writeln!(notes, "note: {note}");
    }
    let aor = args.aor.as_deref().unwrap_or(&record.identity.from_uri);
    let aor = aor.to_owned();
    if !record.ending.is_ended() {
        record.ending = if args.transport_error {
            Ending::Transport(TransportFailure::new(
                TransportFailureKind::Other,
                "--transport-error",
            ))
        } else {
            Ending::Timeout
        };
        let _ = writeln!(
            notes,
            "note: no final response; reported as a {} with the code received",
            record.ending.id()
        );
    }
    let report = ErrorReport::from_record(&record, &aor).map_err(|e| e.to_string())?;
    let encoded = encode(report, &ReportLimits::default())
        .map_err(|e| format!("the report cannot be sent: {e}"))?;
    if !encoded.cuts.is_empty() {
        let _ = writeln!(notes, "note: cut to the limits: {:?}", encoded.cuts);
    }
    Ok((encoded.body, notes))
}

#[cfg(test)]
mod tests {
    use super::*;

    const INVITE: &str = include_str!("../../sdk/tests/fixtures/ms-ocer-4.1/invite.sip");
    const TRYING: &str = include_str!("../../sdk/tests/fixtures/ms-ocer-4.1/100.sip");
    const PROGRESS: &str = include_str!("../../sdk/tests/fixtures/ms-ocer-4.1/101.sip");
    const TIMEOUT: &str = include_str!("../../sdk/tests/fixtures/ms-ocer-4.1/504.sip");

    fn args(list: &[&str]) -> ReportArgs {
        let list: Vec<String> = list.iter().map(|s| (*s).to_owned()).collect();
        match parse_args(&list) {
            Some(Ok(a)) => a,
            _ => panic!("not a report command: {list:?}"),
        }
    }

    #[test]
    fn the_spec_4_1_trace_gives_the_spec_4_1_document() {
        let trace = [INVITE, TRYING, PROGRESS, TIMEOUT].concat();
        let (body, notes) = report(&args(&["--report", "t.sip"]), trace.as_bytes()).unwrap();
        assert_eq!(notes, "");
        let doc = ErrorReport::parse(body.as_bytes()).unwrap();
        assert_eq!(doc.call_id, "f5290007af32443f8a82daa76c934880");
        assert_eq!(doc.response_code, 504);
        assert_eq!(doc.request_type, "INVITE");
        assert_eq!(doc.from_uri, None, "the reporter is the caller");
        assert_eq!(
            doc.to_tag.as_deref(),
            Some("66643C5C12E2A03D937F1045F8E8484F")
        );
        assert!(doc.diag_headers[0].starts_with("1007;"));
        assert!(doc.progress_reports[0].starts_with("12006;"));

        let (body, _) = report(
            &args(&["--report", "--aor", "sip:helpdesk@contoso.com"]),
            trace.as_bytes(),
        )
        .unwrap();
        assert!(body.contains("fromUri=\"sip:alice@contoso.com\""));
    }

    #[test]
    fn unanswered_and_successful_traces() {
        let trace = [INVITE, TRYING, PROGRESS].concat();
        let (body, notes) = report(&args(&["--report"]), trace.as_bytes()).unwrap();
        assert!(body.contains("responseCode=\"101\""), "{body}");
        assert!(!body.contains("<diagHeader>529"), "{body}");
        assert!(notes.contains("timeout"), "{notes}");
        let (body, notes) =
            report(&args(&["--report", "--transport-error"]), trace.as_bytes()).unwrap();
        assert!(body.contains("responseCode=\"101\""), "{body}");
        assert!(notes.contains("transport"), "{notes}");

        let ok = TIMEOUT.replace("504 Server time-out", "200 OK");
        let err = report(
            &args(&["--report"]),
            [INVITE, ok.as_str()].concat().as_bytes(),
        )
        .unwrap_err();
        assert!(err.contains("succeeded"), "{err}");
    }

    #[test]
    fn bad_arguments() {
        let list = |l: &[&str]| l.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert!(parse_args(&list(&["--resolve"])).is_none());
        assert!(matches!(
            parse_args(&list(&["--report", "--aor"])),
            Some(Err(_))
        ));
        assert!(matches!(
            parse_args(&list(&["--report", "a", "b"])),
            Some(Err(_))
        ));
        assert!(matches!(
            parse_args(&list(&["--report", "--bogus"])),
            Some(Err(_))
        ));
    }
}
