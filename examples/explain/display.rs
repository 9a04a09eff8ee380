//! `explain --dump-strings` and `explain --resolve`: the display strings of
//! MS-OCER Appendix D / E, and what a user would see for a saved transaction.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use ocer::diag::{Collector, CollectorLimits, TransactionRecord};
use ocer::display::{
    causes, Action, Context, DisplayError, Isolation, Localizer, Mode, Placeholders, StringIndex,
    StringSet, WinError,
};
use ocer::sip::{frame_stream, Framed, FramingLimits, RequestIdentity};

pub(crate) const USAGE: &str = "\
       explain --dump-strings lync2010|communicator2007
       explain --resolve --set SET --mode MODE --action ACTION
               [--user NAME] [--client NAME] [--feature NAME]
               [--windows-error CODE] [--json] [TRACE]

--dump-strings prints every string of a set as TSV, one row per (category,
mode, action, code), placeholders shown as the spec writes them.
--resolve reads a saved SIP trace of one transaction (the request, then its
responses, and any BYE/CANCEL the server sent; as a file or on stdin) and
prints the string a user would see and why. SET is lync2010 or
communicator2007 (oc2007); MODE one of im, voice, conference, sharing,
application-sharing, other; ACTION one of send-message, start-conversation,
add-participant, call, transfer, add-video, park, join, in-session, share,
invite-share, answer-share, share-content, any (locales/README.md).
--windows-error takes a decimal or 0x code or a name (WSAECONNABORTED).";

/// What the command line asked for, if it is one of these two commands.
pub(crate) enum Command {
    /// `--dump-strings SET`.
    Dump(StringSet),
    /// `--resolve ...`.
    Resolve(ResolveArgs),
}

pub(crate) struct ResolveArgs {
    context: Context,
    user: String,
    client: String,
    feature: String,
    windows: Option<WinError>,
    json: bool,
    /// A file; `None` = stdin.
    pub(crate) trace: Option<String>,
}

/// `None` when `args` are for the other uses of `explain`.
pub(crate) fn parse_args(args: &[String]) -> Option<Result<Command, String>> {
    match args.first().map(String::as_str) {
        Some("--dump-strings") => Some(match args {
            [_, set] => set.parse().map(Command::Dump).map_err(|e| e.to_string()),
            _ => Err("--dump-strings takes one string set".into()),
        }),
        Some("--resolve") => {
            Some(parse_resolve(args.get(1..).unwrap_or_default()).map(Command::Resolve))
        }
        _ => None,
    }
}

fn parse_resolve(args: &[String]) -> Result<ResolveArgs, String> {
    let (mut set, mut mode, mut action) = (None, None, None);
    let placeholders = Placeholders::SPEC;
    let mut out = ResolveArgs {
        context: Context::primary(StringSet::Lync2010, Mode::Other),
        user: placeholders.user.to_owned(),
        client: placeholders.client.to_owned(),
        feature: placeholders.feature.to_owned(),
        windows: None,
        json: false,
        trace: None,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match arg.as_str() {
            "--set" => {
                set = Some(
                    value("--set")?
                        .parse::<StringSet>()
                        .map_err(|e| e.to_string())?,
                )
            }
            "--mode" => {
                mode = Some(
                    value("--mode")?
                        .parse::<Mode>()
                        .map_err(|e| e.to_string())?,
                )
            }
            "--action" => {
                action = Some(
                    value("--action")?
                        .parse::<Action>()
                        .map_err(|e| e.to_string())?,
                )
            }
            "--user" => out.user = value("--user")?,
            "--client" => out.client = value("--client")?,
            "--feature" => out.feature = value("--feature")?,
            "--windows-error" => out.windows = Some(parse_win_error(&value("--windows-error")?)?),
            "--json" => out.json = true,
            flag if flag.starts_with("--") => return Err(format!("unknown option {flag}")),
            file if out.trace.is_none() => out.trace = Some(file.to_owned()),
            extra => return Err(format!("only one trace file, got also {extra:?}")),
        }
    }
    let set = set.ok_or("--resolve needs --set")?;
    let mode = mode.ok_or("--resolve needs --mode")?;
    out.context = Context::new(set, mode, action.unwrap_or(mode.primary_action()));
    Ok(out)
}

fn parse_win_error(text: &str) -> Result<WinError, String> {
    let number = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    };
    number
        .map(WinError)
        .or_else(|| {
            ocer::display::windows_errors()
                .iter()
                .find(|e| e.name.eq_ignore_ascii_case(text))
                .map(|e| e.code)
        })
        .ok_or_else(|| format!("not a Windows error code or name: {text:?}"))
}

/// One TSV row per message of `set`, in spec order, after a header row.
pub(crate) fn dump_strings(set: StringSet) -> String {
    let localizer = Localizer::new(Isolation::Off);
    let chain = localizer.negotiate(&[]);
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

/// Reads a trace: the first message is the request, the rest its responses
/// and server requests. Returns the record and notes on skipped messages.
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
        match frame_stream(rest, &limits) {
            Framed::Message { message, consumed } => {
                messages.push(message);
                rest = rest.get(consumed..).unwrap_or_default();
            }
            Framed::KeepAlive { consumed } => rest = rest.get(consumed..).unwrap_or_default(),
            Framed::Incomplete => return Err(format!("message {} is cut off", messages.len() + 1)),
            Framed::Error { error, .. } => {
                return Err(format!("message {}: {error}", messages.len() + 1))
            }
        }
    }
    let mut messages = messages.into_iter();
    let request = messages.next().ok_or("the trace is empty")?;
    let identity = RequestIdentity::from_request(&request)
        .map_err(|e| format!("message 1 is not the request: {e}"))?;
    // A saved trace has no times; the record only needs their order.
    let start = Instant::now();
    let mut collector = Collector::new(identity, start, CollectorLimits::default());
    let mut notes = Vec::new();
    for (i, message) in messages.enumerate() {
        let at = start + Duration::from_millis(i as u64 + 1);
        let result = if message.is_request() {
            collector.observe_server_request(&message, at)
        } else {
            collector.observe_response(&message, at)
        };
        if let Err(e) = result {
            notes.push(format!("message {} skipped: {e}", i + 2));
        }
    }
    Ok((collector.finish(), notes))
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
    let localizer = Localizer::new(Isolation::Off);
    let chain = localizer.negotiate(&[]);
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
    let index = StringIndex::en_us();
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

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    fn resolve_args(list: &[&str]) -> ResolveArgs {
        match parse_args(&args(list)) {
            Some(Ok(Command::Resolve(a))) => a,
            _ => panic!("not a resolve command: {list:?}"),
        }
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
            let Some(Ok(Command::Dump(parsed))) = parse_args(&args(&["--dump-strings", name]))
            else {
                panic!("{name}");
            };
            assert_eq!(parsed, set);
            let dump = dump_strings(set);
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
        assert!(dump_strings(StringSet::Lync2010).contains("[user name] is in another call."));
        assert!(dump_strings(StringSet::Lync2010)
            .contains("reference error identifier [error ID] (source ID 243)"));
        assert!(matches!(
            parse_args(&args(&["--dump-strings", "lync2013"])),
            Some(Err(_))
        ));
        assert!(matches!(
            parse_args(&args(&["--dump-strings"])),
            Some(Err(_))
        ));
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
            "t.sip",
        ]);
        assert_eq!(a.trace.as_deref(), Some("t.sip"));
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
            assert!(matches!(parse_args(&args(bad)), Some(Err(_))), "{bad:?}");
        }
        assert!(parse_args(&args(&["486"])).is_none());
        assert_eq!(parse_win_error("0x2745"), Ok(WinError(10053)));
        assert_eq!(parse_win_error("10054"), Ok(WinError::WSAECONNRESET));
    }
}
