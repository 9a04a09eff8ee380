//! A whole trace: every SIP message of a text capture (sngrep or `tcpdump -A`
//! style text, a Lync / Skype server `.log` with `Start-Line:` records, or
//! messages simply one after the other) or of a pcap / pcapng capture (via
//! the `pcap-file` crate; UDP datagrams and TCP segments over Ethernet,
//! Linux SLL, raw IP or BSD loopback), grouped by transaction: the request,
//! its responses, their diagnostics, what the user saw and what was reported.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use ocer::diag::{Collector, CollectorLimits, DiagnosticsHeader, HeaderKind, TransactionRecord};
use ocer::display::{
    Action, Context, DisplayError, LocaleChain, Localizer, Mode, Placeholders, StringSet,
};
use ocer::report::ErrorReport;
use ocer::sip::{frame_stream, Framed, FramingLimits, RequestIdentity, SipMessage};
use serde_json::{json, Value};

/// A message of the capture, and where it was found.
pub(crate) struct Captured {
    pub(crate) message: SipMessage,
    pub(crate) at: String,
}

/// One transaction: the request (when the capture has it) and what answered.
pub(crate) struct Transaction {
    pub(crate) call_id: String,
    pub(crate) cseq: u32,
    pub(crate) method: String,
    pub(crate) request: Option<Captured>,
    pub(crate) responses: Vec<Captured>,
}

impl Transaction {
    /// The final status, if any response was final.
    pub(crate) fn final_status(&self) -> Option<u16> {
        self.responses
            .iter()
            .filter_map(|r| r.message.status())
            .map(|s| s.0)
            .rfind(|s| *s >= 200)
    }

    /// A 401/407 answered by a later request of the same dialog and method
    /// (the digest retry): not the transaction's failure.
    pub(crate) fn is_answered_challenge(&self, later: &[Transaction]) -> bool {
        matches!(self.final_status(), Some(401 | 407))
            && later
                .iter()
                .any(|t| t.call_id == self.call_id && t.method == self.method && t.cseq > self.cseq)
    }

    /// The record the SDK would have collected (needs the request).
    pub(crate) fn record(&self) -> Result<(TransactionRecord, Vec<String>), String> {
        self.record_with(&[])
    }

    /// [`Transaction::record`], with requests the server sent in the dialog
    /// after it (a BYE ending a conference), which the collector also keeps.
    pub(crate) fn record_with(
        &self,
        server_requests: &[Captured],
    ) -> Result<(TransactionRecord, Vec<String>), String> {
        let request = self
            .request
            .as_ref()
            .ok_or("the capture lacks the request")?;
        let identity = RequestIdentity::from_request(&request.message)
            .map_err(|e| format!("the request does not identify its transaction: {e}"))?;
        // A capture's own times do not matter; the record needs their order.
        let start = Instant::now();
        let mut collector = Collector::new(identity, start, CollectorLimits::default());
        let mut notes = Vec::new();
        for (i, r) in self.responses.iter().enumerate() {
            let at = start + Duration::from_millis(i as u64 + 1);
            if let Err(e) = collector.observe_response(&r.message, at) {
                notes.push(format!("{} skipped: {e}", r.at));
            }
        }
        let after = self.responses.len() as u64;
        for (i, r) in server_requests.iter().enumerate() {
            let at = start + Duration::from_millis(after + i as u64 + 1);
            if let Err(e) = collector.observe_server_request(&r.message, at) {
                notes.push(format!("{} skipped: {e}", r.at));
            }
        }
        Ok((collector.finish(), notes))
    }
}

const PCAP_MAGICS: [[u8; 4]; 4] = [
    [0xd4, 0xc3, 0xb2, 0xa1],
    [0xa1, 0xb2, 0xc3, 0xd4],
    [0x4d, 0x3c, 0xb2, 0xa1],
    [0xa1, 0xb2, 0x3c, 0x4d],
];
const PCAPNG_MAGIC: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];

/// Whether `bytes` are a pcap or pcapng file.
pub(crate) fn is_pcap(bytes: &[u8]) -> bool {
    bytes
        .get(..4)
        .is_some_and(|m| PCAP_MAGICS.iter().any(|p| p == m) || m == PCAPNG_MAGIC)
}

/// Every SIP message of a capture, in order, with notes on what was skipped.
pub(crate) fn messages(bytes: &[u8]) -> Result<(Vec<Captured>, Vec<String>), String> {
    if is_pcap(bytes) {
        pcap_messages(bytes)
    } else {
        Ok(text_messages(&String::from_utf8_lossy(bytes)))
    }
}

/// Does this line start a SIP message (`SIP/2.0 200 OK`, `INVITE sip:… SIP/2.0`)?
pub(crate) fn is_start_line(line: &str) -> bool {
    let line = line.trim_end();
    if let Some(rest) = line.strip_prefix("SIP/2.0 ") {
        return rest.len() >= 3 && rest.bytes().take(3).all(|b| b.is_ascii_digit());
    }
    let mut words = line.split(' ');
    matches!(
        (words.next(), words.next(), words.next(), words.next()),
        (Some(m), Some(uri), Some("SIP/2.0"), None)
            if !m.is_empty() && m.bytes().all(|b| b.is_ascii_uppercase()) && uri.contains(':')
    )
}

/// Splits a text capture into messages: a message starts at a start line
/// (or a Lync log's `Start-Line:` field) and ends at the next one, at a
/// Lync `$$end_record`, or at a capture tool's header line; its body is what
/// Content-Length says (missing: up to the next message).
pub(crate) fn text_messages(text: &str) -> (Vec<Captured>, Vec<String>) {
    let text = text.replace("\r\n", "\n");
    let lines: Vec<&str> = text.split('\n').collect();
    let mut starts: Vec<(usize, String)> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let l = line.trim_start_matches(['\u{feff}']);
        if is_start_line(l) {
            starts.push((i, l.trim_end().to_owned()));
        } else if let Some(s) = l.strip_prefix("Start-Line: ") {
            if is_start_line(s) {
                starts.push((i, s.trim_end().to_owned()));
            }
        }
    }
    let mut out = Vec::new();
    let mut notes = Vec::new();
    for (k, (i, start)) in starts.iter().enumerate() {
        let end = starts.get(k + 1).map_or(lines.len(), |(j, _)| *j);
        let mut chunk = vec![start.clone()];
        let mut in_body = false;
        for line in lines.get(i + 1..end).unwrap_or_default() {
            if line.starts_with("$$end_record") {
                break;
            }
            if !in_body && line.trim().is_empty() {
                in_body = true;
            }
            chunk.push((*line).to_owned());
        }
        // Capture tools' lines between messages (sngrep's `2024/01/01 ... ->`,
        // a Lync record's `TL_INFO(...)` heading) sit after the body.
        while chunk
            .last()
            .is_some_and(|l| l.trim().is_empty() || is_capture_header(l))
        {
            chunk.pop();
        }
        let (bytes, _) = crate::repair_spec_text(&chunk.join("\n"));
        match SipMessage::parse(&bytes, &FramingLimits::default()) {
            Ok(message) => out.push(Captured {
                message,
                at: format!("line {}", i + 1),
            }),
            Err(e) => notes.push(format!("line {}: not a SIP message ({e})", i + 1)),
        }
    }
    (out, notes)
}

/// The heading lines capture tools put between messages.
fn is_capture_header(line: &str) -> bool {
    let l = line.trim();
    l.starts_with("TL_")
        || l.starts_with("Trace-Correlation-Id:")
        || l.starts_with("Instance-Id:")
        || l.starts_with("Direction:")
        || l.starts_with("Peer:")
        || l.starts_with("Message-Type:")
        || l.starts_with("$$begin_record")
        || (l.contains(" -> ") && l.bytes().next().is_some_and(|b| b.is_ascii_digit()))
        || l.starts_with("U ")
        || l.starts_with("T ")
        || l == "#"
}

/// The SIP messages of a pcap / pcapng capture.
fn pcap_messages(bytes: &[u8]) -> Result<(Vec<Captured>, Vec<String>), String> {
    let mut packets: Vec<(u32, Vec<u8>)> = Vec::new();
    if bytes.get(..4) == Some(&PCAPNG_MAGIC[..]) {
        use pcap_file::pcapng::{Block, PcapNgReader};
        let mut reader = PcapNgReader::new(bytes).map_err(|e| format!("bad pcapng: {e}"))?;
        while let Some(block) = reader.next_block() {
            let block = block.map_err(|e| format!("bad pcapng block: {e}"))?;
            if let Block::EnhancedPacket(p) = block {
                let p = p.into_owned();
                let link = reader
                    .packet_interface(&p)
                    .map_or(1, |i| u32::from(i.linktype));
                packets.push((link, p.data.into_owned()));
            }
        }
    } else {
        use pcap_file::pcap::PcapReader;
        let mut reader = PcapReader::new(bytes).map_err(|e| format!("bad pcap: {e}"))?;
        let link = u32::from(reader.header().datalink);
        while let Some(packet) = reader.next_packet() {
            let packet = packet.map_err(|e| format!("bad pcap packet: {e}"))?;
            packets.push((link, packet.data.into_owned()));
        }
    }
    let mut out = Vec::new();
    let mut notes = Vec::new();
    // TCP: segments of one direction appended in capture order, framed as a stream.
    let mut streams: HashMap<String, (usize, Vec<u8>)> = HashMap::new();
    let limits = FramingLimits::default();
    for (n, (link, data)) in packets.iter().enumerate() {
        let n = n + 1;
        let Some((flow, proto, payload)) = transport_payload(*link, data) else {
            continue;
        };
        if payload.is_empty() {
            continue;
        }
        match proto {
            Proto::Udp => match SipMessage::parse(payload, &limits) {
                Ok(message) => out.push(Captured {
                    message,
                    at: format!("packet {n} (UDP {flow})"),
                }),
                Err(e) => {
                    if payload.iter().any(|b| !b.is_ascii_whitespace()) {
                        notes.push(format!("packet {n}: UDP {flow} is not SIP ({e})"));
                    }
                }
            },
            Proto::Tcp => {
                let (first, buffer) = streams.entry(flow.clone()).or_insert((n, Vec::new()));
                if buffer.is_empty() {
                    *first = n;
                }
                buffer.extend_from_slice(payload);
                loop {
                    match frame_stream(buffer, &limits) {
                        Framed::Message { message, consumed } => {
                            out.push(Captured {
                                message,
                                at: format!("packet {first} (TCP {flow})"),
                            });
                            buffer.drain(..consumed.min(buffer.len()));
                            *first = n;
                        }
                        Framed::KeepAlive { consumed } => {
                            buffer.drain(..consumed.min(buffer.len()));
                        }
                        Framed::Incomplete => break,
                        Framed::Error { error, .. } => {
                            notes.push(format!("packet {n}: TCP {flow} is not SIP ({error})"));
                            buffer.clear();
                            break;
                        }
                    }
                }
            }
        }
    }
    for (flow, (first, buffer)) in streams {
        if buffer.iter().any(|b| !b.is_ascii_whitespace()) {
            notes.push(format!("packet {first}: TCP {flow} ends inside a message"));
        }
    }
    Ok((out, notes))
}

enum Proto {
    Udp,
    Tcp,
}

/// `src -> dst`, the protocol and the payload of an IP packet on `link`.
fn transport_payload(link: u32, data: &[u8]) -> Option<(String, Proto, &[u8])> {
    let ip = match link {
        // Ethernet (with 802.1Q tags skipped).
        1 => {
            let mut off = 12;
            let mut ethertype = u16::from_be_bytes([*data.get(off)?, *data.get(off + 1)?]);
            while ethertype == 0x8100 || ethertype == 0x88a8 {
                off += 4;
                ethertype = u16::from_be_bytes([*data.get(off)?, *data.get(off + 1)?]);
            }
            data.get(off + 2..)?
        }
        // BSD loopback: a 4-byte address family.
        0 => data.get(4..)?,
        // Linux cooked capture (SLL).
        113 => data.get(16..)?,
        // Raw IP.
        101 | 228 | 229 => data,
        _ => return None,
    };
    let version = ip.first()? >> 4;
    let (src, dst, proto, rest) = match version {
        4 => {
            let ihl = usize::from(ip.first()? & 0x0f) * 4;
            let total = usize::from(u16::from_be_bytes([*ip.get(2)?, *ip.get(3)?]));
            let src = std::net::Ipv4Addr::from(<[u8; 4]>::try_from(ip.get(12..16)?).ok()?);
            let dst = std::net::Ipv4Addr::from(<[u8; 4]>::try_from(ip.get(16..20)?).ok()?);
            let end = total.min(ip.len());
            (
                src.to_string(),
                dst.to_string(),
                *ip.get(9)?,
                ip.get(ihl..end)?,
            )
        }
        6 => {
            let src = std::net::Ipv6Addr::from(<[u8; 16]>::try_from(ip.get(8..24)?).ok()?);
            let dst = std::net::Ipv6Addr::from(<[u8; 16]>::try_from(ip.get(24..40)?).ok()?);
            let len = usize::from(u16::from_be_bytes([*ip.get(4)?, *ip.get(5)?]));
            let end = (40 + len).min(ip.len());
            (
                format!("[{src}]"),
                format!("[{dst}]"),
                *ip.get(6)?,
                ip.get(40..end)?,
            )
        }
        _ => return None,
    };
    let port = |b: &[u8], i: usize| Some(u16::from_be_bytes([*b.get(i)?, *b.get(i + 1)?]));
    let (sp, dp) = (port(rest, 0)?, port(rest, 2)?);
    let flow = format!("{src}:{sp} -> {dst}:{dp}");
    match proto {
        17 => Some((flow, Proto::Udp, rest.get(8..)?)),
        6 => {
            let offset = usize::from(rest.get(12)? >> 4) * 4;
            Some((flow, Proto::Tcp, rest.get(offset..)?))
        }
        _ => None,
    }
}

/// Groups messages by transaction (Call-ID, CSeq number, CSeq method; an ACK
/// to a non-2xx belongs to its INVITE), in order of first appearance.
pub(crate) fn transactions(messages: Vec<Captured>) -> (Vec<Transaction>, Vec<String>) {
    let mut out: Vec<Transaction> = Vec::new();
    let mut notes = Vec::new();
    for captured in messages {
        let m = &captured.message;
        let call_id = m
            .header_value(&"Call-ID".into())
            .or_else(|| m.header_value(&"i".into()));
        let cseq = m.header_value(&"CSeq".into());
        let (Some(call_id), Some(cseq)) = (call_id, cseq) else {
            notes.push(format!("{}: no Call-ID or CSeq; skipped", captured.at));
            continue;
        };
        let mut parts = cseq.split_whitespace();
        let (Some(Ok(number)), Some(method)) = (parts.next().map(str::parse::<u32>), parts.next())
        else {
            notes.push(format!("{}: bad CSeq {cseq:?}; skipped", captured.at));
            continue;
        };
        let method = if method == "ACK" { "INVITE" } else { method };
        let (call_id, method) = (call_id.trim().to_owned(), method.to_owned());
        let i = out
            .iter()
            .position(|t| t.call_id == call_id && t.cseq == number && t.method == method);
        let t = match i {
            Some(i) => &mut out[i],
            None => {
                out.push(Transaction {
                    call_id,
                    cseq: number,
                    method,
                    request: None,
                    responses: Vec::new(),
                });
                let last = out.len() - 1;
                &mut out[last]
            }
        };
        if m.is_request() {
            let is_ack = m.method().is_some_and(|x| x.to_string() == "ACK");
            if t.request.is_none() && !is_ack {
                t.request = Some(captured);
            }
        } else {
            t.responses.push(captured);
        }
    }
    (out, notes)
}

/// What the user was doing, from a request method, when a trace does not say:
/// the mode's primary action, and signing in for a REGISTER.
fn context_of(set: StringSet, method: &str) -> Context {
    match method {
        "INVITE" => Context::primary(set, Mode::Voice),
        "MESSAGE" => Context::primary(set, Mode::Im),
        "REGISTER" => Context::new(set, Mode::Other, Action::SignIn),
        _ => Context::primary(set, Mode::Other),
    }
}

/// What `explain` prints for a whole trace.
pub(crate) struct TraceArgs<'a> {
    pub(crate) set: StringSet,
    pub(crate) mode: Option<Mode>,
    pub(crate) localizer: &'a Localizer,
    pub(crate) chain: &'a LocaleChain,
}

/// Explains every transaction of a capture: text and JSON.
pub(crate) fn explain_trace(bytes: &[u8], args: &TraceArgs<'_>) -> Result<(String, Value), String> {
    let (messages, mut notes) = messages(bytes)?;
    if messages.is_empty() {
        return Err("no SIP message in the capture".into());
    }
    let count = messages.len();
    let (transactions, more) = transactions(messages);
    notes.extend(more);
    // reportError documents in the capture, by the Call-ID they report on.
    let mut reports: Vec<(String, ErrorReport<'static>)> = Vec::new();
    for t in &transactions {
        if let Some(r) = &t.request {
            let is_report = r
                .message
                .header_value(&"Content-Type".into())
                .is_some_and(|c| {
                    c.trim()
                        .eq_ignore_ascii_case("application/msrtc-reporterror+xml")
                });
            if is_report {
                if let Ok(doc) = ErrorReport::parse(&r.message.body) {
                    reports.push((r.at.clone(), doc));
                }
            }
        }
    }
    let mut text = String::new();
    let plural = |n: usize, one: &str, many: &str| {
        if n == 1 {
            format!("{n} {one}")
        } else {
            format!("{n} {many}")
        }
    };
    let _ = writeln!(
        text,
        "{}, {}",
        plural(count, "message", "messages"),
        plural(transactions.len(), "transaction", "transactions")
    );
    for note in &notes {
        let _ = writeln!(text, "note: {note}");
    }
    let mut items = Vec::new();
    for (k, t) in transactions.iter().enumerate() {
        let later = transactions.get(k + 1..).unwrap_or_default();
        let statuses: Vec<String> = t
            .responses
            .iter()
            .filter_map(|r| r.message.status())
            .map(|s| s.0.to_string())
            .collect();
        let _ = writeln!(
            text,
            "\n#{} {} (Call-ID {}, CSeq {}){}",
            k + 1,
            t.method,
            t.call_id,
            t.cseq,
            t.request
                .as_ref()
                .map(|r| format!(", {}", r.at))
                .unwrap_or_default()
        );
        let _ = writeln!(
            text,
            "  responses {}",
            if statuses.is_empty() {
                "none".into()
            } else {
                statuses.join(", ")
            }
        );
        let mut diags = Vec::new();
        for c in t.request.iter().chain(&t.responses) {
            for (kind, name) in [
                (HeaderKind::Private, "ms-diagnostics"),
                (HeaderKind::Public, "ms-diagnostics-public"),
            ] {
                for value in c.message.header_values(&name.into()) {
                    match DiagnosticsHeader::parse(kind, value) {
                        Ok(h) => {
                            let _ = writeln!(
                                text,
                                "  {name} {}{} ({})",
                                h.error_id,
                                h.reason
                                    .as_deref()
                                    .map(|r| format!(" {r:?}"))
                                    .unwrap_or_default(),
                                c.at
                            );
                            diags.push(json!({"header": name, "errorId": h.error_id.0, "reason": h.reason.as_deref(), "at": c.at}));
                        }
                        Err(e) => {
                            let _ = writeln!(text, "  {name} does not parse ({e}) ({})", c.at);
                        }
                    }
                }
            }
        }
        let mut shown_json = Value::Null;
        let challenge = t.is_answered_challenge(later);
        if challenge {
            let _ = writeln!(
                text,
                "  user saw  nothing: a {} digest challenge, answered by the next request",
                t.final_status().unwrap_or_default()
            );
        } else if t.method == "ACK" || t.method == "CANCEL" {
        } else {
            match t.record() {
                Ok((record, skipped)) => {
                    for s in skipped {
                        let _ = writeln!(text, "  note: {s}");
                    }
                    let context = match args.mode {
                        Some(mode) => Context::primary(args.set, mode),
                        None => context_of(args.set, &t.method),
                    };
                    let shown: Option<DisplayError> = args.localizer.display(
                        args.chain,
                        &record,
                        None,
                        context,
                        &Placeholders::SPEC,
                    );
                    match &shown {
                        Some(e) => {
                            let _ = writeln!(text, "  user saw  {}", e.headline());
                            let _ = writeln!(text, "            ({}, {})", e.message_id, e.locale);
                            shown_json = serde_json::to_value(e).unwrap_or(Value::Null);
                        }
                        None if t.final_status().is_none() => {
                            let _ =
                                writeln!(text, "  user saw  (no final response in the capture)");
                        }
                        None => {
                            let _ = writeln!(text, "  user saw  nothing: it succeeded");
                        }
                    }
                }
                Err(e) => {
                    let _ = writeln!(text, "  user saw  (cannot tell: {e})");
                }
            }
        }
        let reported: Vec<&(String, ErrorReport<'static>)> = reports
            .iter()
            .filter(|(_, r)| {
                r.call_id == t.call_id && r.request_type.eq_ignore_ascii_case(&t.method)
            })
            .collect();
        for (at, r) in &reported {
            let _ = writeln!(
                text,
                "  reported  responseCode {} with {} diagHeader(s), in the SERVICE at {at}",
                r.response_code,
                r.diag_headers.len()
            );
        }
        if reported.is_empty() && t.final_status().is_some_and(|s| s >= 300) && !challenge {
            let _ = writeln!(text, "  reported  no reportError for it in the capture");
        }
        items.push(json!({
            "method": t.method,
            "callId": t.call_id,
            "cseq": t.cseq,
            "at": t.request.as_ref().map(|r| r.at.clone()),
            "responses": t.responses.iter().filter_map(|r| r.message.status()).map(|s| s.0).collect::<Vec<_>>(),
            "diagnostics": diags,
            "answeredChallenge": challenge,
            "shown": shown_json,
            "reported": reported.iter().map(|(at, r)| json!({"at": at, "responseCode": r.response_code, "diagHeaders": r.diag_headers})).collect::<Vec<_>>(),
        }));
    }
    let json = json!({"kind": "trace", "messages": count, "notes": notes, "transactions": items});
    Ok((text, json))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use ocer::display::Isolation;

    const INVITE: &str = include_str!("../../sdk/tests/fixtures/ms-ocer-4.1/invite.sip");
    const TRYING: &str = include_str!("../../sdk/tests/fixtures/ms-ocer-4.1/100.sip");
    const PROGRESS: &str = include_str!("../../sdk/tests/fixtures/ms-ocer-4.1/101.sip");
    const TIMEOUT: &str = include_str!("../../sdk/tests/fixtures/ms-ocer-4.1/504.sip");

    /// The spec's 4.1 flow after a 407 challenge: INVITE CSeq 1 → 407, then
    /// the same INVITE as CSeq 2 → 100, 101, 504; and the SERVICE that reports it.
    pub(crate) fn challenged_flow() -> Vec<String> {
        let challenge = TIMEOUT
            .replace("504 Server time-out", "407 Proxy Authentication Required")
            .lines()
            .filter(|l| !l.to_ascii_lowercase().starts_with("ms-diagnostics"))
            .collect::<Vec<_>>()
            .join("\r\n");
        let retry = |m: &str| m.replace("CSeq: 1 INVITE", "CSeq: 2 INVITE");
        let service_body = {
            let trace = [
                retry(INVITE),
                retry(TRYING),
                retry(PROGRESS),
                retry(TIMEOUT),
            ]
            .concat();
            let args = crate::report::ReportArgs {
                aor: None,
                transport_error: false,
            };
            crate::report::report(&args, trace.as_bytes()).unwrap().0
        };
        let service = format!(
            "SERVICE sip:alice@contoso.com SIP/2.0\r\nVia: SIP/2.0/TLS 192.168.66.91:49541;branch=z9hG4bKsvc\r\n\
             From: <sip:alice@contoso.com>;tag=aa\r\nTo: <sip:alice@contoso.com>\r\nCall-ID: svc1\r\nCSeq: 1 SERVICE\r\n\
             Content-Type: application/msrtc-reporterror+xml\r\nContent-Length: {}\r\n\r\n{service_body}",
            service_body.len()
        );
        let service_ok = "SIP/2.0 200 OK\r\nVia: SIP/2.0/TLS 192.168.66.91:49541;branch=z9hG4bKsvc\r\n\
             From: <sip:alice@contoso.com>;tag=aa\r\nTo: <sip:alice@contoso.com>;tag=bb\r\nCall-ID: svc1\r\nCSeq: 1 SERVICE\r\n\
             Content-Length: 0\r\n\r\n"
            .to_owned();
        let challenge = format!("{}\r\n", challenge.trim_end_matches(['\r', '\n']));
        let challenge = if challenge.contains("\r\n\r\n") {
            challenge
        } else {
            format!("{challenge}\r\n")
        };
        vec![
            INVITE.to_owned(),
            challenge,
            retry(INVITE),
            retry(TRYING),
            retry(PROGRESS),
            retry(TIMEOUT),
            service,
            service_ok,
        ]
    }

    fn explain(bytes: &[u8]) -> (String, Value) {
        let localizer = Localizer::new(Isolation::Off);
        let chain = localizer.negotiate(&[]);
        let args = TraceArgs {
            set: StringSet::Lync2010,
            mode: None,
            localizer: &localizer,
            chain: &chain,
        };
        explain_trace(bytes, &args).unwrap()
    }

    fn assert_flow(text: &str, json: &Value) {
        assert!(text.starts_with("8 messages, 3 transactions\n"), "{text}");
        assert!(
            text.contains("#1 INVITE (Call-ID f5290007af32443f8a82daa76c934880, CSeq 1)"),
            "{text}"
        );
        assert!(
            text.contains(
                "user saw  nothing: a 407 digest challenge, answered by the next request"
            ),
            "{text}"
        );
        assert!(
            text.contains("#2 INVITE (Call-ID f5290007af32443f8a82daa76c934880, CSeq 2)"),
            "{text}"
        );
        assert!(text.contains("  responses 100, 101, 504\n"), "{text}");
        assert!(
            text.contains("  ms-diagnostics 1007 \"Temporarily cannot route\""),
            "{text}"
        );
        assert!(
            text.contains("  ms-diagnostics 12006 \"Trying next hop\""),
            "{text}"
        );
        assert!(
            text.contains("  user saw  Operation was unsuccessful.\n"),
            "{text}"
        );
        assert!(
            text.contains("  reported  responseCode 504 with 1 diagHeader(s), in the SERVICE at"),
            "{text}"
        );
        assert!(text.contains("#3 SERVICE (Call-ID svc1, CSeq 1)"), "{text}");
        let t = &json["transactions"];
        assert_eq!(t[0]["answeredChallenge"], true);
        assert_eq!(t[1]["shown"]["subcode"], "504");
        assert_eq!(t[1]["reported"][0]["responseCode"], 504);
        assert_eq!(t[2]["shown"], Value::Null);
    }

    #[test]
    fn a_sngrep_style_text_capture_decodes_every_transaction() {
        let mut capture = String::new();
        for (i, m) in challenged_flow().iter().enumerate() {
            capture.push_str(&format!(
                "2024/05/02 10:00:0{i}.000000 192.168.66.91:49541 -> 10.0.0.1:5061\n"
            ));
            capture.push_str(&m.replace("\r\n", "\n"));
            capture.push('\n');
        }
        let (text, json) = explain(capture.as_bytes());
        assert_flow(&text, &json);
    }

    #[test]
    fn a_lync_server_log_decodes_every_transaction() {
        let mut capture = String::new();
        for (i, m) in challenged_flow().iter().enumerate() {
            capture.push_str(&format!(
                "TL_INFO(TF_PROTOCOL) [0]1AD8.1BC4::05/02/2024-10:00:0{i}.213.0000c8c5 (SIPStack,SIPAdminLog::TraceProtocolRecord:SIPAdminLog.cpp(125))$$begin_record\n\
                 Trace-Correlation-Id: 1582395584\nInstance-Id: 000003AF\nDirection: outgoing\nPeer: 10.0.0.1:5061\n\
                 Message-Type: {}\nStart-Line: ",
                if m.starts_with("SIP/2.0") { "response" } else { "request" }
            ));
            capture.push_str(&m.replace("\r\n", "\n"));
            capture.push_str("\n$$end_record\n");
        }
        let (text, json) = explain(capture.as_bytes());
        assert_flow(&text, &json);
    }

    /// Ethernet + IPv4 + UDP/TCP frames around `payload`.
    fn frame(proto: u8, payload: &[u8], seq: u32) -> Vec<u8> {
        let l4_len = if proto == 17 { 8 } else { 20 };
        let total = 20 + l4_len + payload.len();
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&[0x08, 0x00]);
        f.extend_from_slice(&[
            0x45,
            0,
            (total >> 8) as u8,
            total as u8,
            0,
            0,
            0,
            0,
            64,
            proto,
            0,
            0,
        ]);
        f.extend_from_slice(&[192, 168, 66, 91, 10, 0, 0, 1]);
        f.extend_from_slice(&49541u16.to_be_bytes());
        f.extend_from_slice(&5060u16.to_be_bytes());
        if proto == 17 {
            f.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
            f.extend_from_slice(&[0, 0]);
        } else {
            f.extend_from_slice(&seq.to_be_bytes());
            f.extend_from_slice(&[0, 0, 0, 0, 0x50, 0x18, 0xff, 0xff, 0, 0, 0, 0]);
        }
        f.extend_from_slice(payload);
        f
    }

    fn pcap(frames: &[Vec<u8>]) -> Vec<u8> {
        use pcap_file::pcap::{PcapPacket, PcapWriter};
        let mut writer = PcapWriter::new(Vec::new()).unwrap();
        for (i, f) in frames.iter().enumerate() {
            let packet = PcapPacket::new(Duration::from_millis(i as u64), f.len() as u32, f);
            writer.write_packet(&packet).unwrap();
        }
        writer.into_writer()
    }

    #[test]
    fn a_pcap_over_udp_decodes_every_transaction() {
        let frames: Vec<Vec<u8>> = challenged_flow()
            .iter()
            .map(|m| frame(17, m.as_bytes(), 0))
            .collect();
        let bytes = pcap(&frames);
        assert!(is_pcap(&bytes));
        let (text, json) = explain(&bytes);
        assert_flow(&text, &json);
        assert!(
            text.contains("packet 3 (UDP 192.168.66.91:49541 -> 10.0.0.1:5060)"),
            "{text}"
        );
    }

    #[test]
    fn a_pcap_over_tcp_reassembles_split_messages() {
        // The whole stream cut at arbitrary points, one segment each.
        let stream = challenged_flow().concat().into_bytes();
        let frames: Vec<Vec<u8>> = stream
            .chunks(700)
            .enumerate()
            .map(|(i, c)| frame(6, c, i as u32))
            .collect();
        let (text, json) = explain(&pcap(&frames));
        assert_flow(&text, &json);
        // A capture cut inside a message says so.
        let (text, _) = explain(&pcap(&frames[..frames.len() - 1]));
        assert!(text.contains("ends inside a message"), "{text}");
    }

    #[test]
    fn garbage_is_refused_not_a_panic() {
        let localizer = Localizer::new(Isolation::Off);
        let chain = localizer.negotiate(&[]);
        let args = TraceArgs {
            set: StringSet::Lync2010,
            mode: None,
            localizer: &localizer,
            chain: &chain,
        };
        assert!(explain_trace(b"hello", &args).is_err());
        let mut bad = pcap(&[frame(17, b"x", 0)]);
        bad.truncate(30);
        assert!(explain_trace(&bad, &args).is_err(), "a cut pcap record");
        // Truncated frames and non-IP links are skipped quietly.
        for n in 0..60 {
            let f = frame(17, TRYING.as_bytes(), 0);
            let _ = transport_payload(1, &f[..n.min(f.len())]);
            let _ = transport_payload(113, &f[..n.min(f.len())]);
        }
    }
}
