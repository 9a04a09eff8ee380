//! `explain --dump-strings` and `explain --resolve`: the display strings of
//! MS-OCER Appendix D / E, and what a user would see for a saved transaction.

use std::fmt::Write as _;

use ocer::diag::TransactionRecord;
use ocer::display::{
    causes, Context, DisplayError, Localizer, Placeholders, StringIndex, StringSet, WinError,
};
use ocer::sip::{frame_stream, Framed, FramingLimits};

use crate::trace::{transactions, Captured};

/// What `--resolve` was asked for (from the command line, `main.rs`).
pub(crate) struct ResolveArgs {
    pub(crate) context: Context,
    pub(crate) user: String,
    pub(crate) client: String,
    pub(crate) feature: String,
    pub(crate) windows: Option<WinError>,
    pub(crate) json: bool,
    pub(crate) localizer: Localizer,
    pub(crate) locales: Vec<ocer::display::LanguageIdentifier>,
}

/// One TSV row per message of `set`, in spec order, after a header row.
pub(crate) fn dump_strings(
    set: StringSet,
    localizer: &Localizer,
    locales: &[ocer::display::LanguageIdentifier],
) -> String {
    let chain = localizer.negotiate(locales);
    let mut out = String::from("category\tmode\taction\tcode\tmessage\tinfo\tmessage_id\n");
    for key in StringIndex::en_us().messages(set) {
        let Some(shown) = localizer.render(
            &chain,
            &key,
            Placeholders::SPEC_ERROR_ID,
            &Placeholders::SPEC,
        ) else {
            continue;
        };
        let code = key.cause.map(|c| c.code().to_string()).unwrap_or_default();
        let _ = writeln!(
            out,
            "{}\t{}\t{}\t{code}\t{}\t{}\t{key}",
            key.category(),
            key.mode,
            key.action,
            shown.message.unwrap_or_default(),
            shown.info.unwrap_or_default(),
        );
    }
    out
}

/// Reads a trace of one transaction: the first message is its request, then
/// its responses and any request the server sent in the dialog (BYE,
/// CANCEL). A 401/407 answered by a later request of the same dialog and
/// method is the digest challenge, not the failure: the record is of the
/// request that answered it (issue 16). Returns the record and notes on
/// skipped messages.
pub(crate) fn record_of(trace: &[u8]) -> Result<(TransactionRecord, Vec<String>), String> {
    // A trace saved from a log may have lost its CRs; SIP needs them.
    let owned;
    let mut rest: &[u8] = if trace.contains(&b'\r') {
        trace
    } else {
        owned = String::from_utf8_lossy(trace)
            .replace('\n', "\r\n")
            .into_bytes();
        &owned
    };
    let limits = FramingLimits::default();
    let mut messages = Vec::new();
    while !rest.iter().all(u8::is_ascii_whitespace) {
        let n = messages.len() + 1;
        match frame_stream(rest, &limits) {
            Framed::Message { message, consumed } => {
                messages.push(Captured {
                    message,
                    at: format!("message {n}"),
                });
                rest = rest.get(consumed..).unwrap_or_default();
            }
            Framed::KeepAlive { consumed } => rest = rest.get(consumed..).unwrap_or_default(),
            Framed::Incomplete => return Err(format!("message {n} is cut off")),
            Framed::Error { error, .. } => return Err(format!("message {n}: {error}")),
        }
    }
    let first = messages.first().ok_or("the trace is empty")?;
    if !first.message.is_request() {
        return Err("message 1 is not the request: it is a response".into());
    }
    let (mut transactions, mut notes) = transactions(messages);
    let mut chosen = 0;
    while let Some(t) = transactions.get(chosen) {
        let later = transactions.get(chosen + 1..).unwrap_or_default();
        if !t.is_answered_challenge(later) {
            break;
        }
        let (call_id, method, cseq) = (t.call_id.clone(), t.method.clone(), t.cseq);
        notes.push(format!(
            "CSeq {cseq} {method} was a {} challenge, answered: the transaction is the retry",
            t.final_status().unwrap_or_default()
        ));
        chosen = match transactions
            .iter()
            .position(|x| x.call_id == call_id && x.method == method && x.cseq > cseq)
        {
            Some(i) => i,
            None => break,
        };
    }
    let t = transactions.remove(chosen);
    // The server's own requests in this dialog (a BYE with ms-diagnostics).
    let server_requests: Vec<Captured> = transactions
        .into_iter()
        .skip(chosen)
        .filter(|x| x.call_id == t.call_id && x.method != t.method)
        .filter_map(|x| x.request)
        .collect();
    let (record, skipped) = t.record_with(&server_requests)?;
    notes.extend(skipped);
    Ok((record, notes))
}

/// What `--resolve` prints for a trace.
pub(crate) fn resolve(args: &ResolveArgs, trace: &[u8]) -> Result<String, String> {
    let (mut record, notes) = record_of(trace)?;
    if !record.ending.is_ended() {
        // A saved trace that stops before a final response timed out, unless
        // a Windows error says the transport failed.
        record.ending = match args.windows {
            Some(_) => ocer::diag::Ending::Transport(ocer::sip::TransportFailure::new(
                ocer::sip::TransportFailureKind::Other,
                "--windows-error",
            )),
            None => ocer::diag::Ending::Timeout,
        };
    }
    let localizer = &args.localizer;
    let chain = localizer.negotiate(&args.locales);
    let placeholders = Placeholders {
        user: &args.user,
        client: &args.client,
        feature: &args.feature,
    };
    let shown = localizer.display(&chain, &record, args.windows, args.context, &placeholders);
    if args.json {
        return Ok(shown.map_or_else(|| "null\n".to_owned(), |e| e.to_json() + "\n"));
    }
    let mut out = String::new();
    for note in notes {
        let _ = writeln!(out, "note: {note}");
    }
    let id = &record.identity;
    let _ = writeln!(
        out,
        "request   {} (Call-ID {}, CSeq {})",
        id.method, id.call_id, id.cseq
    );
    let statuses: Vec<String> = record
        .provisional
        .iter()
        .map(|p| p.status.0)
        .chain(record.final_status().map(|s| s.0))
        .map(|s| s.to_string())
        .collect();
    let _ = writeln!(
        out,
        "responses {}",
        if statuses.is_empty() {
            "none".to_owned()
        } else {
            statuses.join(", ")
        }
    );
    let Context { set, mode, action } = args.context;
    let _ = writeln!(out, "context   {set} {mode} {action}");
    write_walk(&mut out, &record, args);
    match shown {
        None => {
            let _ = writeln!(out, "shown     nothing: the transaction succeeded");
        }
        Some(e) => write_shown(&mut out, &e),
    }
    Ok(out)
}

/// The priority walk, cause by cause, up to the one shown.
fn write_walk(out: &mut String, record: &TransactionRecord, args: &ResolveArgs) {
    let Context { set, mode, action } = args.context;
    let index = args.localizer.index();
    let mut label = "priority";
    for (cause, origin) in causes(record, args.windows) {
        match index.pick(set, Some(cause), mode, action) {
            Some(key) => {
                let _ = writeln!(out, "{label:<9} {cause} ({}): {key}", origin.id());
                return;
            }
            None => {
                let listed = match cause {
                    ocer::display::Cause::MsDiagnostic(id) => {
                        ocer::display::is_listed_unhandled(set, id)
                    }
                    _ => false,
                };
                if listed {
                    let _ = writeln!(
                        out,
                        "{label:<9} {cause} ({}): listed as not handled ({}): generic string",
                        origin.id(),
                        match set {
                            StringSet::Lync2010 => "9.3.2",
                            StringSet::Communicator2007 => "10.3.1",
                        }
                    );
                    return;
                }
                let _ = writeln!(
                    out,
                    "{label:<9} {cause} ({}): no {set} string in {mode} mode",
                    origin.id()
                );
            }
        }
        label = "";
    }
}

fn write_shown(out: &mut String, e: &DisplayError) {
    match &e.message {
        Some(message) => {
            let _ = writeln!(out, "shown     {message}");
        }
        None => {
            let _ = writeln!(
                out,
                "shown     (no summary string; the IM area shows the info)"
            );
        }
    }
    if let Some(info) = &e.info {
        let _ = writeln!(out, "info      {info}");
    }
    let kind = if e.is_generic() {
        format!("generic string, $errorId = {}", e.cause.code())
    } else {
        "handled".to_owned()
    };
    let _ = writeln!(out, "message   {} ({}, {kind})", e.message_id, e.locale);
    let _ = writeln!(out, "json      {}", e.to_json());
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC_ROWS: &str = include_str!("../../locales/spec-rows.tsv");
    const INVITE: &str = include_str!("../../sdk/tests/fixtures/ms-ocer-4.1/invite.sip");
    const TRYING: &str = include_str!("../../sdk/tests/fixtures/ms-ocer-4.1/100.sip");
    const PROGRESS: &str = include_str!("../../sdk/tests/fixtures/ms-ocer-4.1/101.sip");
    const TIMEOUT: &str = include_str!("../../sdk/tests/fixtures/ms-ocer-4.1/504.sip");

    fn cli(list: &[&str]) -> Result<crate::Cli, clap::Error> {
        use clap::Parser as _;
        crate::Cli::try_parse_from(std::iter::once("explain").chain(list.iter().copied()))
    }

    fn resolve_args(list: &[&str]) -> ResolveArgs {
        let cli = cli(list).unwrap();
        assert!(cli.resolve);
        crate::resolve_args(&cli).unwrap()
    }

    fn en_us() -> Localizer {
        Localizer::new(ocer::display::Isolation::Off)
    }

    #[test]
    fn the_dump_prints_every_spec_row() {
        for (name, set, product) in [
            ("lync2010", StringSet::Lync2010, "Lync"),
            (
                "communicator2007",
                StringSet::Communicator2007,
                "Communicator",
            ),
        ] {
            assert_eq!(
                cli(&["--dump-strings", name]).unwrap().dump_strings,
                Some(set)
            );
            let dump = dump_strings(set, &en_us(), &[]);
            let mut lines = dump.lines();
            assert_eq!(
                lines.next(),
                Some("category\tmode\taction\tcode\tmessage\tinfo\tmessage_id")
            );
            let dumped: Vec<Vec<&str>> = lines.map(|l| l.split('\t').collect()).collect();
            let spec: Vec<Vec<&str>> = SPEC_ROWS
                .lines()
                .skip(1)
                .map(|l| l.split('\t').collect())
                .filter(|c: &Vec<&str>| c[0] == set.id() && !c[5].is_empty())
                .collect();
            assert_eq!(dumped.len(), spec.len(), "{name}: one row per message");
            for (d, s) in dumped.iter().zip(&spec) {
                // category, mode, action, code, message, info, id
                assert_eq!(
                    [d[0], d[1], d[2], d[3], d[6]],
                    [s[1], s[3], s[4], s[2], s[5]]
                );
                assert_eq!(d[4], s[6].replace("<product name>", product), "{}", s[5]);
                assert_eq!(d[5], s[7].replace("<product name>", product), "{}", s[5]);
            }
        }
        let lync = dump_strings(StringSet::Lync2010, &en_us(), &[]);
        assert!(lync.contains("[user name] is in another call."));
        assert!(lync.contains("reference error identifier [error ID] (source ID 243)"));
        assert!(cli(&["--dump-strings", "lync2013"]).is_err());
        assert!(cli(&["--dump-strings"]).is_err());
    }

    #[test]
    fn resolve_the_spec_4_1_trace() {
        let trace = [INVITE, TRYING, PROGRESS, TIMEOUT].concat();
        let a = resolve_args(&[
            "--resolve",
            "--set",
            "lync2010",
            "--mode",
            "voice",
            "--action",
            "call",
        ]);
        let out = resolve(&a, trace.as_bytes()).unwrap();
        assert_eq!(
            out,
            "request   INVITE (Call-ID f5290007af32443f8a82daa76c934880, CSeq 1)\n\
             responses 100, 101, 504\n\
             context   lync2010 voice call\n\
             priority  msdiag 1007 (final-response): no lync2010 string in voice mode\n\
            \x20         sip 504 (final-response): lync2010-sip-504-voice-call\n\
             shown     Operation was unsuccessful.\n\
             info      The calling service did not respond. Wait and then try again. If the problem continues, \
             contact your support team with this information.\n\
             message   lync2010-sip-504-voice-call (en-US, handled)\n\
             json      {\"code\":\"SipStatus\",\"subcode\":\"504\",\"message\":\"Operation was unsuccessful.\",\
             \"debugInfo\":{\"info\":\"The calling service did not respond. Wait and then try again. If the problem \
             continues, contact your support team with this information.\",\"messageId\":\"lync2010-sip-504-voice-call\",\
             \"handled\":true,\"origin\":\"final-response\",\"locale\":\"en-US\",\"set\":\"lync2010\",\"mode\":\"voice\",\
             \"action\":\"call\"}}\n"
        );
        // Sharing: 1007 has a string there.
        let a = resolve_args(&[
            "--resolve",
            "--set",
            "lync2010",
            "--mode",
            "sharing",
            "--json",
        ]);
        let out = resolve(&a, trace.as_bytes()).unwrap();
        assert!(
            out.starts_with("{\"code\":\"MsDiagnostics\",\"subcode\":\"1007\""),
            "{out}"
        );
        // Communicator has no conference string for 1007, 12006 or 504.
        let a = resolve_args(&[
            "--resolve",
            "--set",
            "oc2007",
            "--mode",
            "conference",
            "--user",
            "Bob",
        ]);
        let out = resolve(&a, trace.as_bytes()).unwrap();
        assert!(
            out.contains(
                "message   oc2007-generic-conference-join (en-US, generic string, $errorId = 1007)"
            ),
            "{out}"
        );
    }

    #[test]
    fn a_trace_with_lf_line_ends_and_a_windows_error() {
        let trace = INVITE.replace("\r\n", "\n");
        let a = resolve_args(&[
            "--resolve",
            "--set",
            "lync2010",
            "--mode",
            "conference",
            "--windows-error",
            "WSAECONNABORTED",
        ]);
        let out = resolve(&a, trace.as_bytes()).unwrap();
        assert!(out.contains("responses none\n"), "{out}");
        assert!(
            out.contains(
                "priority  windows 10053 (transport): lync2010-windows-10053-conference-join"
            ),
            "{out}"
        );
        assert!(
            out.contains("shown     Cannot connect to the online meeting."),
            "{out}"
        );
    }

    #[test]
    fn success_and_bad_input() {
        let ok = TIMEOUT.replace("504 Server time-out", "200 OK");
        let trace = [INVITE, ok.as_str()].concat();
        let a = resolve_args(&["--resolve", "--set", "lync2010", "--mode", "voice"]);
        assert!(resolve(&a, trace.as_bytes())
            .unwrap()
            .ends_with("shown     nothing: the transaction succeeded\n"));
        assert!(resolve(
            &resolve_args(&[
                "--resolve",
                "--set",
                "lync2010",
                "--mode",
                "voice",
                "--json"
            ]),
            trace.as_bytes()
        )
        .unwrap()
        .starts_with("null"));
        assert!(resolve(&a, b"").is_err());
        assert!(
            resolve(&a, TIMEOUT.as_bytes()).is_err(),
            "the first message must be the request"
        );
        assert!(resolve(&a, &INVITE.as_bytes()[..40]).is_err());
        for bad in [
            &["--resolve", "--mode", "voice"][..],
            &["--resolve", "--set", "lync2010"],
            &["--resolve", "--set", "lync2010", "--mode", "video"],
            &[
                "--resolve",
                "--set",
                "lync2010",
                "--mode",
                "voice",
                "--bogus",
            ],
            &[
                "--resolve",
                "--set",
                "lync2010",
                "--mode",
                "voice",
                "a",
                "b",
            ],
            &[
                "--resolve",
                "--set",
                "lync2010",
                "--mode",
                "voice",
                "--windows-error",
                "nope",
            ],
        ] {
            let refused = match cli(bad) {
                Err(_) => true,
                Ok(c) => crate::run(&c).is_err(),
            };
            assert!(refused, "{bad:?}");
        }
        assert_eq!(WinError::parse("0x2745"), Some(WinError(10053)));
        assert_eq!(WinError::parse("10054"), Some(WinError::WSAECONNRESET));
    }

    #[test]
    fn an_answered_challenge_is_not_the_failure() {
        // INVITE → 407, INVITE (CSeq 2) → 100, 101, 504: the user saw the 504.
        let flow = crate::trace::tests::challenged_flow();
        let trace = flow[..6].concat();
        let a = resolve_args(&["--resolve", "--set", "lync2010", "--mode", "voice"]);
        let out = resolve(&a, trace.as_bytes()).unwrap();
        assert!(
            out.contains(
                "note: CSeq 1 INVITE was a 407 challenge, answered: the transaction is the retry"
            ),
            "{out}"
        );
        assert!(
            out.contains("(Call-ID f5290007af32443f8a82daa76c934880, CSeq 2)"),
            "{out}"
        );
        assert!(out.contains("responses 100, 101, 504\n"), "{out}");
        assert!(
            out.contains("shown     Operation was unsuccessful."),
            "{out}"
        );
        // A challenge nobody answered is the failure.
        let out = resolve(&a, flow[..2].concat().as_bytes()).unwrap();
        assert!(out.contains("responses 407\n"), "{out}");
    }

    #[test]
    fn en_xa_strings_with_locale() {
        let cli = cli(&[
            "--resolve",
            "--set",
            "lync2010",
            "--mode",
            "voice",
            "--locale",
            "en-XA",
        ])
        .unwrap();
        let a = crate::resolve_args(&cli).unwrap();
        let trace = [INVITE, TRYING, PROGRESS, TIMEOUT].concat();
        let out = resolve(&a, trace.as_bytes()).unwrap();
        assert!(
            out.contains("shown     [ǾǾƥḗḗřȧȧŧīīǿǿƞ ẇȧȧş ŭŭƞşŭŭƈƈḗḗşşƒŭŭŀ.]"),
            "{out}"
        );
        assert!(out.contains("(en-XA, handled)"), "{out}");
    }
}
