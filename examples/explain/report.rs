//! `explain --report`: the reportError document (MS-OCER §2.2.2) the SDK would
//! send for a saved SIP trace of a failed transaction.

use std::fmt::Write as _;

use ocer::diag::Ending;
use ocer::report::{encode, ErrorReport, ReportLimits};
use ocer::sip::{TransportFailure, TransportFailureKind};

use crate::display::record_of;

/// What `--report` was asked for (from the command line, `main.rs`).
pub(crate) struct ReportArgs {
    pub(crate) aor: Option<String>,
    /// How a trace without a final response ended: a transport failure
    /// (`--transport-error`), else a timeout.
    pub(crate) transport_error: bool,
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
    let encoded = encode(report, &ReportLimits::default(), &aor)
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
        use clap::Parser as _;
        let cli =
            crate::Cli::try_parse_from(std::iter::once("explain").chain(list.iter().copied()))
                .unwrap();
        assert!(cli.report);
        crate::report_args(&cli)
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
        use clap::Parser as _;
        let parse = |l: &[&str]| {
            crate::Cli::try_parse_from(std::iter::once("explain").chain(l.iter().copied()))
        };
        assert!(parse(&["--report", "--aor"]).is_err());
        assert!(parse(&["--report", "--bogus"]).is_err());
        assert!(parse(&["--transport-error"]).is_err(), "only with --report");
    }
}
