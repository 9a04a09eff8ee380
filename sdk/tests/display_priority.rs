//! The priority rule (MS-OCER 9.1.1 / 10.1.1) end to end: SIP text →
//! collector → `TransactionRecord` → resolve → formatted en-US string.

#![allow(clippy::unwrap_used, clippy::panic, clippy::expect_used)]

use std::io;
use std::time::{Duration, Instant};

use ocer::diag::{Collector, CollectorLimits, TransactionRecord};
use ocer::display::{
    causes, resolve, Action, Cause, CauseOrigin, Context, DisplayError, Isolation, Localizer, Mode,
    Placeholders, StringIndex, StringSet, WinError,
};
use ocer::sip::{FramingLimits, RequestIdentity, SipMessage, StatusCode, WarnCode};

const CALL_ID: &str = "7f3e0c1a9b";

fn parse(text: &str) -> SipMessage {
    SipMessage::parse(text.as_bytes(), &FramingLimits::default())
        .unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn invite() -> SipMessage {
    parse(&format!(
        "INVITE sip:bob@contoso.com SIP/2.0\r\n\
         Via: SIP/2.0/TLS 192.0.2.10:5061;branch=z9hG4bKdisplay\r\n\
         From: <sip:alice@contoso.com>;tag=a1\r\n\
         To: <sip:bob@contoso.com>\r\n\
         Call-ID: {CALL_ID}\r\n\
         CSeq: 1 INVITE\r\n\
         Content-Length: 0\r\n\r\n"
    ))
}

fn response(status_line: &str, extra: &[&str]) -> SipMessage {
    let mut text = format!(
        "SIP/2.0 {status_line}\r\n\
         Via: SIP/2.0/TLS 192.0.2.10:5061;branch=z9hG4bKdisplay\r\n\
         From: <sip:alice@contoso.com>;tag=a1\r\n\
         To: <sip:bob@contoso.com>;tag=b2\r\n\
         Call-ID: {CALL_ID}\r\n\
         CSeq: 1 INVITE\r\n"
    );
    for line in extra {
        text.push_str(line);
        text.push_str("\r\n");
    }
    text.push_str("Content-Length: 0\r\n\r\n");
    parse(&text)
}

fn server_bye(extra: &[&str]) -> SipMessage {
    let mut text = format!(
        "BYE sip:alice@192.0.2.10:5061 SIP/2.0\r\n\
         Via: SIP/2.0/TLS 192.0.2.1:5061;branch=z9hG4bKbye\r\n\
         From: <sip:bob@contoso.com>;tag=b2\r\n\
         To: <sip:alice@contoso.com>;tag=a1\r\n\
         Call-ID: {CALL_ID}\r\n\
         CSeq: 5 BYE\r\n"
    );
    for line in extra {
        text.push_str(line);
        text.push_str("\r\n");
    }
    text.push_str("Content-Length: 0\r\n\r\n");
    parse(&text)
}

/// A record of the INVITE with these responses, then these server requests.
fn record(responses: &[SipMessage], server_requests: &[SipMessage]) -> TransactionRecord {
    let start = Instant::now();
    let identity = RequestIdentity::from_request(&invite()).unwrap();
    let mut collector = Collector::new(identity, start, CollectorLimits::default());
    let mut at = start;
    for r in responses {
        at += Duration::from_millis(100);
        collector.observe_response(r, at).unwrap();
    }
    for r in server_requests {
        at += Duration::from_millis(100);
        collector.observe_server_request(r, at).unwrap();
    }
    collector.finish()
}

fn failed(status_line: &str, extra: &[&str]) -> TransactionRecord {
    record(&[response(status_line, extra)], &[])
}

const LYNC: StringSet = StringSet::Lync2010;
const OC: StringSet = StringSet::Communicator2007;

fn show(
    record: &TransactionRecord,
    windows: Option<WinError>,
    set: StringSet,
    mode: Mode,
    action: Action,
) -> DisplayError {
    try_show(record, windows, set, mode, action).expect("something is shown")
}

fn try_show(
    record: &TransactionRecord,
    windows: Option<WinError>,
    set: StringSet,
    mode: Mode,
    action: Action,
) -> Option<DisplayError> {
    let localizer = Localizer::new(Isolation::Off);
    let chain = localizer.negotiate(&[]);
    let who = Placeholders {
        user: "Bob",
        client: "Lync",
        feature: "Desktop sharing",
    };
    localizer.display(
        &chain,
        record,
        windows,
        Context::new(set, mode, action),
        &who,
    )
}

#[test]
fn ms_diagnostic_beats_the_sip_code() {
    // 486 has its own voice string ("Bob is in another call."), but the
    // ms-diagnostic comes first.
    let r = failed(
        "486 Busy Here",
        &["ms-diagnostics: 1003;reason=\"User does not exist\""],
    );
    let e = show(&r, None, LYNC, Mode::Voice, Action::Call);
    assert_eq!(e.message_id.to_string(), "lync2010-msdiag-1003-voice-call");
    assert_eq!(e.message.as_deref(), Some("Cannot locate Bob."));
    assert_eq!(
        e.info.as_deref(),
        Some("There may be an error in the address. Check the address and then try again.")
    );
    assert_eq!(
        (e.cause, e.origin),
        (
            Cause::MsDiagnostic(ocer::diag::ErrorId(1003)),
            CauseOrigin::FinalResponse
        )
    );
    assert!(!e.is_generic());

    // Without the header, the SIP code's string.
    let e = show(
        &failed("486 Busy Here", &[]),
        None,
        LYNC,
        Mode::Voice,
        Action::Call,
    );
    assert_eq!(e.message_id.to_string(), "lync2010-sip-486-voice-call");
    assert_eq!(e.message.as_deref(), Some("Bob is in another call."));
}

#[test]
fn an_ms_diagnostic_not_handled_for_the_mode_falls_through_to_the_sip_code() {
    // MS-OCER 4.1: 101 with 12006, then 504 with 1007. Lync shows 1007 only in
    // sharing mode, so a voice call shows the 504's string.
    let r = record(
        &[
            response("100 Trying", &[]),
            response(
                "101 Progress Report",
                &["ms-diagnostics: 12006;reason=\"Trying next hop\""],
            ),
            response(
                "504 Server time-out",
                &["ms-diagnostics: 1007;reason=\"Temporarily cannot route\""],
            ),
        ],
        &[],
    );
    let e = show(&r, None, LYNC, Mode::Voice, Action::Call);
    assert_eq!(e.message_id.to_string(), "lync2010-sip-504-voice-call");
    assert_eq!(e.message.as_deref(), Some("Operation was unsuccessful."));
    assert_eq!(e.cause, Cause::SipStatus(StatusCode(504)));

    // In sharing mode the same 1007 has a string and wins.
    let e = show(&r, None, LYNC, Mode::Sharing, Action::Share);
    assert_eq!(
        e.message_id.to_string(),
        "lync2010-msdiag-1007-sharing-share"
    );

    // The walk, in priority order.
    let walked: Vec<String> = causes(&r, None)
        .map(|(c, o)| format!("{c} {}", o.id()))
        .collect();
    assert_eq!(
        walked,
        [
            "msdiag 1007 final-response",
            "sip 504 final-response",
            "msdiag 12006 progress-report"
        ]
    );
}

#[test]
fn warning_391_wins_only_when_no_ms_diagnostic_or_sip_string_applies() {
    let dnd = "Warning: 391 lync.contoso.com \"Do not disturb\"";
    // A SIP status Lync has no voice string for, and an ErrorId neither
    // handled nor listed as not handled: the Warning's string.
    let r = failed("499 Odd", &["ms-diagnostics: 99999;reason=\"x\"", dnd]);
    let e = show(&r, None, LYNC, Mode::Voice, Action::Call);
    assert_eq!(e.message_id.to_string(), "lync2010-warning-391-voice-call");
    assert_eq!(e.message.as_deref(), Some("Bob is set to Do Not Disturb."));
    assert_eq!(e.cause, Cause::Warning(WarnCode(391)));

    // A SIP status with a voice string beats the Warning.
    let e = show(
        &failed("480 Temporarily Unavailable", &[dnd]),
        None,
        LYNC,
        Mode::Voice,
        Action::Call,
    );
    assert_eq!(e.message_id.to_string(), "lync2010-sip-480-voice-call");

    // A handled ms-diagnostic beats both.
    let r = failed(
        "480 Temporarily Unavailable",
        &["ms-diagnostics: 13002;reason=\"x\"", dnd],
    );
    let e = show(&r, None, LYNC, Mode::Voice, Action::Call);
    assert_eq!(e.message_id.to_string(), "lync2010-msdiag-13002-voice-call");

    // Communicator, IM: 391 writes only into the IM area (no summary string).
    let e = show(
        &failed("499 Odd", &[dnd]),
        None,
        OC,
        Mode::Im,
        Action::SendMessage,
    );
    assert_eq!(
        e.message_id.to_string(),
        "oc2007-warning-391-im-send-message"
    );
    assert_eq!(e.message, None);
    assert_eq!(
        e.headline(),
        "This message was not delivered to Bob because one or more recipients do not want to be disturbed."
    );
}

#[test]
fn windows_10053_in_conference_and_sharing() {
    // The connection to the server broke: no SIP response at all.
    let r = record(&[], &[]);
    let aborted = Some(WinError::WSAECONNABORTED);
    let e = show(&r, aborted, LYNC, Mode::Conference, Action::Join);
    assert_eq!(
        e.message_id.to_string(),
        "lync2010-windows-10053-conference-join"
    );
    assert_eq!(
        e.message.as_deref(),
        Some("Cannot connect to the online meeting.")
    );
    assert_eq!(
        (e.cause, e.origin),
        (Cause::Windows(WinError(10053)), CauseOrigin::Transport)
    );
    let e = show(&r, aborted, LYNC, Mode::Sharing, Action::Share);
    assert_eq!(
        e.message_id.to_string(),
        "lync2010-windows-10053-sharing-share"
    );
    assert_eq!(
        e.message.as_deref(),
        Some("Cannot connect to the application sharing server.")
    );
    let e = show(&r, aborted, OC, Mode::Conference, Action::AddParticipant);
    assert_eq!(
        e.message_id.to_string(),
        "oc2007-windows-10053-conference-join"
    );

    // A Linux (or any) client's io::Error maps to the same code.
    let io_error = io::Error::from(io::ErrorKind::ConnectionAborted);
    let e = show(
        &r,
        WinError::from_io_error(&io_error),
        LYNC,
        Mode::Conference,
        Action::Join,
    );
    assert_eq!(
        e.message_id.to_string(),
        "lync2010-windows-10053-conference-join"
    );

    // In a voice call 10053 has no string: the generic one, with its code.
    let e = show(&r, aborted, LYNC, Mode::Voice, Action::Call);
    assert_eq!(e.message_id.to_string(), "lync2010-generic-voice-call");
    assert!(e
        .info
        .as_deref()
        .unwrap()
        .contains("reference error identifier 10053 (source ID 243)"));

    // Windows errors come last: a SIP status with a string wins.
    let e = show(
        &failed("504 Server time-out", &[]),
        aborted,
        LYNC,
        Mode::Conference,
        Action::Join,
    );
    assert_eq!(e.message_id.to_string(), "lync2010-sip-504-conference-join");
}

#[test]
fn unknown_everything_shows_the_generic_string_with_the_highest_priority_code() {
    // An unhandled ms-diagnostic outranks the SIP code for $errorId.
    let r = record(
        &[
            response(
                "101 Progress Report",
                &["ms-diagnostics: 12006;reason=\"Trying next hop\""],
            ),
            response("499 Odd", &["Warning: 399 proxy \"misc\""]),
        ],
        &[],
    );
    let e = show(
        &r,
        Some(WinError::WSAECONNRESET),
        LYNC,
        Mode::Voice,
        Action::Call,
    );
    assert!(e.is_generic());
    assert_eq!(e.message_id.to_string(), "lync2010-generic-voice-call");
    assert_eq!(
        e.message.as_deref(),
        Some("Call was not completed or has ended.")
    );
    assert_eq!(
        e.info.as_deref(),
        Some(
            "When contacting your support team, reference error identifier 12006 (source ID 243). \
             Troubleshooting information is available online, including best practices for using Lync."
        )
    );
    assert_eq!(
        (e.cause, e.origin),
        (
            Cause::MsDiagnostic(ocer::diag::ErrorId(12006)),
            CauseOrigin::ProgressReport
        )
    );

    // No diagnostics: the SIP code is the highest present.
    let e = show(
        &failed("499 Odd", &["Warning: 399 proxy \"misc\""]),
        None,
        LYNC,
        Mode::Other,
        Action::Any,
    );
    assert_eq!(e.message_id.to_string(), "lync2010-generic-other-any");
    assert_eq!(e.cause, Cause::SipStatus(StatusCode(499)));
    assert!(e.info.as_deref().unwrap().contains("identifier 499 "));

    // The generic string follows the action rule too.
    let e = show(
        &failed("499 Odd", &[]),
        None,
        LYNC,
        Mode::Voice,
        Action::Transfer,
    );
    assert_eq!(e.message_id.to_string(), "lync2010-generic-voice-transfer");
    let e = show(
        &failed("499 Odd", &[]),
        None,
        LYNC,
        Mode::Conference,
        Action::AddParticipant,
    );
    assert_eq!(
        e.message_id.to_string(),
        "lync2010-generic-conference-add-participant"
    );
    assert_eq!(e.message.as_deref(), Some("Bob cannot be reached."));

    // Communicator's own generic strings (not from the spec, 10.3 gives none).
    let e = show(&failed("499 Odd", &[]), None, OC, Mode::Voice, Action::Call);
    assert_eq!(e.message_id.to_string(), "oc2007-generic-voice-call");
    assert!(e.info.as_deref().unwrap().ends_with("(ID: 499)"));

    // Appendix E: Communicator shows sharing in its application-sharing mode.
    let e = show(
        &failed("499 Odd", &[]),
        None,
        OC,
        Mode::Sharing,
        Action::Share,
    );
    assert_eq!(
        e.message_id.to_string(),
        "oc2007-generic-application-sharing-share"
    );
    assert_eq!(e.mode, Mode::Sharing, "the context is kept as asked");
}

#[test]
fn a_timeout_without_any_response_is_408() {
    let mut r = record(&[response("100 Trying", &[])], &[]);
    r.ending = ocer::diag::Ending::Timeout;
    let e = show(&r, None, LYNC, Mode::Voice, Action::Call);
    assert_eq!(e.message_id.to_string(), "lync2010-sip-408-voice-call");
    assert_eq!(e.message.as_deref(), Some("Bob did not answer."));
    assert_eq!(
        (e.cause, e.origin),
        (Cause::SipStatus(StatusCode(408)), CauseOrigin::LocalTimeout)
    );
}

/// Issue 17 item 9: a TLS handshake failure or a final response that could not
/// be framed is a transport failure, shown by the Windows error a Windows
/// client would have met, never as a 408 "did not answer"; the report agrees
/// (responseCode 0, what was received: nothing).
#[test]
fn tls_and_malformed_response_failures_are_not_shown_as_a_timeout() {
    use ocer::sip::{TransportFailure, TransportFailureKind};
    for (kind, win) in [
        (TransportFailureKind::Tls, WinError::SEC_E_ILLEGAL_MESSAGE),
        (
            TransportFailureKind::Certificate,
            WinError::SEC_E_CERT_UNKNOWN,
        ),
        (
            TransportFailureKind::Framing,
            WinError::ERROR_HTTP_INVALID_SERVER_RESPONSE,
        ),
    ] {
        let mut r = record(&[], &[]);
        r.ending = ocer::diag::Ending::Transport(TransportFailure::new(kind, "refused"));
        let found: Vec<_> = causes(&r, None).collect();
        assert!(
            found.contains(&(Cause::Windows(win), CauseOrigin::Transport)),
            "{kind:?}: {found:?}"
        );
        assert!(
            !found
                .iter()
                .any(|(cause, _)| *cause == Cause::SipStatus(StatusCode(408))),
            "{kind:?}: {found:?}"
        );
        let e = show(&r, None, LYNC, Mode::Voice, Action::Call);
        assert!(
            !e.message_id.to_string().contains("-408-"),
            "{kind:?}: {e:?}"
        );
        let report = ocer::report::ErrorReport::from_record(&r, "sip:alice@contoso.com").unwrap();
        assert_eq!(report.response_code, 0, "{kind:?}");
    }
}

#[test]
fn the_latest_progress_report_comes_first() {
    let r = record(
        &[
            response(
                "101 Progress Report",
                &["ms-diagnostics: 1005;reason=\"first hop\""],
            ),
            response(
                "101 Progress Report",
                &["ms-diagnostics: 4009;reason=\"last hop\""],
            ),
            response("499 Odd", &[]),
        ],
        &[],
    );
    let e = show(&r, None, LYNC, Mode::Voice, Action::Call);
    assert_eq!(e.message_id.to_string(), "lync2010-msdiag-4009-voice-call");
    assert_eq!(e.origin, CauseOrigin::ProgressReport);
}

#[test]
fn the_action_falls_back_to_the_modes_primary_action() {
    // Voice 486 has `call` and `transfer` strings, none for `park`.
    let r = failed("486 Busy Here", &[]);
    assert_eq!(
        show(&r, None, LYNC, Mode::Voice, Action::Transfer)
            .message_id
            .to_string(),
        "lync2010-sip-486-voice-transfer"
    );
    let e = show(&r, None, LYNC, Mode::Voice, Action::Park);
    assert_eq!(e.message_id.to_string(), "lync2010-sip-486-voice-call");
    assert_eq!(e.action, Action::Park, "the context is kept as asked");
}

#[test]
fn success_shows_nothing_unless_the_server_ends_the_session() {
    let ok = "200 OK";
    // Diagnostics and Warnings on a 2xx are not errors.
    let r = failed(
        ok,
        &["ms-diagnostics: 1003;reason=\"x\"", "Warning: 391 a \"b\""],
    );
    assert!(try_show(&r, None, LYNC, Mode::Voice, Action::Call).is_none());
    assert_eq!(causes(&r, None).count(), 0);
    assert!(resolve(
        StringIndex::en_us(),
        &r,
        None,
        Context::primary(LYNC, Mode::Voice)
    )
    .is_none());

    // A BYE from the server with diagnostics: the meeting was ended.
    let r = record(
        &[response(ok, &[])],
        &[server_bye(&[
            "ms-diagnostics-public: 3118;reason=\"Removed from conference\"",
        ])],
    );
    let e = show(&r, None, LYNC, Mode::Conference, Action::InSession);
    assert_eq!(
        e.message_id.to_string(),
        "lync2010-msdiag-3118-conference-in-session"
    );
    assert_eq!(
        e.message.as_deref(),
        Some("You were removed from the meeting.")
    );
    assert_eq!(e.origin, CauseOrigin::ServerRequest);

    // A BYE without diagnostics ends a call normally.
    let r = record(&[response(ok, &[])], &[server_bye(&[])]);
    assert!(try_show(&r, None, LYNC, Mode::Voice, Action::Call).is_none());

    // After success, a broken connection still explains itself.
    let r = failed(ok, &[]);
    let e = show(
        &r,
        Some(WinError::WSAECONNABORTED),
        LYNC,
        Mode::Sharing,
        Action::InSession,
    );
    assert_eq!(
        e.message_id.to_string(),
        "lync2010-windows-10053-sharing-share"
    );
}

#[test]
fn unparsable_diagnostics_are_skipped() {
    let r = failed(
        "486 Busy Here",
        &["ms-diagnostics: not-a-number;reason=\"x\""],
    );
    let e = show(&r, None, LYNC, Mode::Voice, Action::Call);
    assert_eq!(e.message_id.to_string(), "lync2010-sip-486-voice-call");
}

#[test]
fn the_pure_rule_and_the_localizer_agree() {
    let r = failed("486 Busy Here", &["ms-diagnostics: 1003;reason=\"x\""]);
    let context = Context::new(LYNC, Mode::Conference, Action::AddParticipant);
    let resolution = resolve(StringIndex::en_us(), &r, None, context).unwrap();
    assert_eq!(
        resolution.key.to_string(),
        "lync2010-msdiag-1003-conference-add-participant"
    );
    assert!(!resolution.is_generic());
    let e = show(&r, None, LYNC, Mode::Conference, Action::AddParticipant);
    assert_eq!(e.message_id, resolution.key);
    assert_eq!(
        e.message.as_deref(),
        Some("Bob cannot be found. Please check the address and try again.")
    );
}

#[test]
fn the_json_form_has_the_ucwa_shape() {
    let r = failed(
        "504 Server time-out",
        &["ms-diagnostics: 1007;reason=\"Temporarily cannot route\""],
    );
    let e = show(&r, None, LYNC, Mode::Voice, Action::Call);
    assert_eq!(
        e.to_json(),
        "{\"code\":\"SipStatus\",\"subcode\":\"504\",\"message\":\"Operation was unsuccessful.\",\
         \"debugInfo\":{\"info\":\"The calling service did not respond. Wait and then try again. If the problem \
         continues, contact your support team with this information.\",\
         \"messageId\":\"lync2010-sip-504-voice-call\",\"handled\":true,\"origin\":\"final-response\",\
         \"locale\":\"en-US\",\"set\":\"lync2010\",\"mode\":\"voice\",\"action\":\"call\"}}"
    );
}

#[test]
fn spec_9_3_2_and_10_3_1_listed_ids_show_the_generic_string_and_stop_the_walk() {
    let dnd = "Warning: 391 lync.contoso.com \"Do not disturb\"";
    for (set, mode, action) in [
        (LYNC, Mode::Voice, Action::Call),
        (OC, Mode::Voice, Action::Call),
    ] {
        for &id in ocer::display::listed_unhandled(set) {
            let diag = format!("ms-diagnostics: {id};reason=\"x\"");
            // 480 and 391 have strings in both sets; the listed id wins.
            let r = failed("480 Temporarily Unavailable", &[&diag, dnd]);
            let e = show(&r, None, set, mode, action);
            assert!(e.message_id.cause.is_none(), "{set} {id}: {}", e.message_id);
            assert_eq!(
                e.cause,
                Cause::MsDiagnostic(ocer::diag::ErrorId(id)),
                "{set} {id}"
            );
        }
    }
}

#[test]
fn spec_9_1_1_a_failed_final_response_outranks_progress_reports() {
    // 101 with ErrorId 5 (a progress string), then 486: Bob is busy.
    let r = record(
        &[
            response("101 Progress Report", &["ms-diagnostics: 5;reason=\"x\""]),
            response("486 Busy Here", &[]),
        ],
        &[],
    );
    let e = show(&r, None, LYNC, Mode::Voice, Action::Call);
    assert_eq!(e.message_id.to_string(), "lync2010-sip-486-voice-call");
    // The progress report has its string as progress.
    let shown = ocer::display::resolve_progress(
        ocer::display::StringIndex::en_us(),
        &r.progress[0],
        ocer::display::Context::new(LYNC, Mode::Voice, Action::Call),
    );
    assert!(shown.is_some());
}

/// Appendix E (Communicator 2007 / R2): its modes are IM, Voice and
/// Conference (10.2.1), plus 10.2.3's `ApplicationSharing` row. A server BYE
/// with 3118 ends a conference with 10.2.2's "Removed from conference."; in
/// a two-party call, where 10.2.2 has no 3118 row and 10.3.1 does not list
/// it, the walk goes on to the generic string with 3118 as its id. A BYE
/// without diagnostics shows nothing.
#[test]
fn spec_10_2_2_a_server_bye_in_communicator_2007() {
    let ok = "200 OK";
    let removed = server_bye(&["ms-diagnostics: 3118;reason=\"Participant removed\""]);
    let r = record(&[response(ok, &[])], std::slice::from_ref(&removed));
    let e = show(&r, None, OC, Mode::Conference, Action::InSession);
    assert_eq!(
        e.message_id.to_string(),
        "oc2007-msdiag-3118-conference-in-session"
    );
    assert_eq!(e.message.as_deref(), Some("Removed from conference."));
    assert_eq!(
        e.info.as_deref(),
        Some("The conference leader has removed you from the conference. Contact the leader for more information.")
    );
    assert_eq!(e.origin, CauseOrigin::ServerRequest);

    let e = show(&r, None, OC, Mode::Voice, Action::InSession);
    assert_eq!(e.message_id.to_string(), "oc2007-generic-voice-call");
    assert_eq!(
        (e.cause, e.origin),
        (
            Cause::MsDiagnostic(ocer::diag::ErrorId(3118)),
            CauseOrigin::ServerRequest
        )
    );
    assert!(e.info.as_deref().unwrap().contains("(ID: 3118)"), "{e:?}");

    // Public diagnostics alone (a remote user's view, §2.2.1.2) are read
    // the same way.
    let public = server_bye(&["ms-diagnostics-public: 3118;reason=\"Participant removed\""]);
    let r = record(&[response(ok, &[])], &[public]);
    let e = show(&r, None, OC, Mode::Conference, Action::InSession);
    assert_eq!(
        e.message_id.to_string(),
        "oc2007-msdiag-3118-conference-in-session"
    );

    let r = record(&[response(ok, &[])], &[server_bye(&[])]);
    assert!(try_show(&r, None, OC, Mode::Conference, Action::InSession).is_none());
}

/// Appendix E has no Sharing mode: Communicator 2007 shows sharing errors
/// in 10.2.3's `ApplicationSharing` row ("%3 could not be started because
/// the application failed to start in time.", %3 the feature), and its
/// generic string otherwise; never a Lync 2010 sharing string.
#[test]
fn spec_10_2_3_share_in_communicator_2007_is_application_sharing() {
    let r = failed("408 Request Timeout", &[]);
    let e = show(&r, None, OC, Mode::Sharing, Action::Share);
    assert_eq!(
        e.message_id.to_string(),
        "oc2007-sip-408-application-sharing-share"
    );
    assert_eq!(
        e.info.as_deref(),
        Some(
            "Desktop sharing could not be started because the application failed to start in time."
        )
    );
    assert_eq!(e.mode, Mode::Sharing, "the context is kept as asked");

    // A Lync 2010-only row (10053 in sharing) is not Communicator's.
    let broken = record(&[], &[]);
    let e = show(
        &broken,
        Some(WinError::WSAECONNABORTED),
        OC,
        Mode::Sharing,
        Action::Share,
    );
    assert_eq!(
        e.message_id.to_string(),
        "oc2007-generic-application-sharing-share"
    );

    // A server BYE ending a sharing session: the generic sharing string.
    let r = record(
        &[response("200 OK", &[])],
        &[server_bye(&[
            "ms-diagnostics: 3118;reason=\"Participant removed\"",
        ])],
    );
    let e = show(&r, None, OC, Mode::Sharing, Action::InSession);
    assert_eq!(
        e.message_id.to_string(),
        "oc2007-generic-application-sharing-share"
    );
}
