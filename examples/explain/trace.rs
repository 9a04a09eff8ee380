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
use ocer::display::{Context, DisplayError, Localizer, LocaleChain, Mode, Placeholders, StringSet};
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
        let request = self.request.as_ref().ok_or("the capture lacks the request")?;
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
            (src.to_string(), dst.to_string(), *ip.get(9)?, ip.get(ihl..end)?)
        }
        6 => {
            let src = std::net::Ipv6Addr::from(<[u8; 16]>::try_from(ip.get(8..24)?).ok()?);
            let dst = std::net::Ipv6Addr::from(<[u8; 16]>::try_from(ip.get(24..40)?).ok()?);
            let len = usize::from(u16::from_be_bytes([*ip.get(4)?, *ip.get(5)?]));
            let end = (40 + len).min(ip.len());
            (format!("[{src}]"), format!("[{dst}]"), *ip.get(6)?, ip.get(40..end)?)
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
        let call_id = m.header_value(&"Call-ID".into()).or_else(|| m.header_value(&"i".into()));
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

/// The user's mode for a request method, when a trace does not say.
fn mode_of(method: &str) -> Mode {
    match method {
        "INVITE" => Mode::Voice,
        "MESSAGE" => Mode::Im,
        _ => Mode::Other,
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
                .is_some_and(|c| c.trim().eq_ignore_ascii_case("application/msrtc-reporterror+xml"));
            if is_report {
                if let Ok(doc) = ErrorReport::parse(&r.message.body) {
                    reports.push((r.at.clone(), doc));
                }
            }
        }
    }
    let mut text = String::new();
    let _ = writeln!(text, "{count} messages, {} transactions", transactions.len());
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
            t.request.as_ref().map(|r| format!(", {}", r.at)).unwrap_or_default()
        );
        let _ = writeln!(
            text,
            "  responses {}",
            if statuses.is_empty() { "none".into() } else { statuses.join(", ") }
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
                                h.reason.as_deref().map(|r| format!(" {r:?}")).unwrap_or_default(),
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
                    let mode = args.mode.unwrap_or_else(|| mode_of(&t.method));
                    let shown: Option<DisplayError> = args.localizer.display(
                        args.chain,
                        &record,
                        None,
                        Context::primary(args.set, mode),
                        &Placeholders::SPEC,
                    );
                    match &shown {
                        Some(e) => {
                            let _ = writeln!(text, "  user saw  {}", e.headline());
                            let _ = writeln!(text, "            ({}, {})", e.message_id, e.locale);
                            shown_json = serde_json::to_value(e).unwrap_or(Value::Null);
                        }
                        None if t.final_status().is_none() => {
                            let _ = writeln!(text, "  user saw  (no final response in the capture)");
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
            .filter(|(_, r)| r.call_id == t.call_id && r.request_type.eq_ignore_ascii_case(&t.method))
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
