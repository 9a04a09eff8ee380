//! The look-ups beyond SIP: Windows / Winsock / WinInet codes and HRESULTs,
//! the Phone Edition's status pair, UCWA error bodies and Exchange
//! ActiveSync status codes. The data and the parsing are the SDK's
//! (`ocer::display`); this prints them, as text or as JSON.

use std::fmt::Write as _;

use ocer::display::{eas_status, EasStatus, PhoneEditionStatus, UcwaError, UcwaFormat, WinError};
use serde_json::{json, Value};

/// One explanation: the text and the same facts as JSON.
pub(crate) struct Explained {
    pub(crate) text: String,
    pub(crate) json: Value,
}

/// Every catalogued Windows reading of `input` (a number, a name, an
/// HRESULT), or `None` when it is none.
pub(crate) fn windows(input: &str) -> Option<Explained> {
    let code = WinError::parse(input)?;
    let info = code.info()?;
    let mut text = String::new();
    let _ = writeln!(
        text,
        "{} error {} (0x{:X}) {}",
        code.family().name(),
        code.0,
        code.0,
        info.name
    );
    let _ = writeln!(text, "  meaning  {}", info.meaning);
    if let Some(hr) = code.to_hresult() {
        let _ = writeln!(text, "  HRESULT  0x{hr:08X} (HRESULT_FROM_WIN32)");
    }
    let source = match info.source_line {
        Some(line) => format!("{}, line {line}", info.source),
        None => info.source.to_owned(),
    };
    let _ = writeln!(text, "  source   {source}");
    let json = json!({
        "kind": "windows-error",
        "family": code.family().name(),
        "code": code.0,
        "hex": format!("0x{:X}", code.0),
        "name": info.name,
        "meaning": info.meaning,
        "hresult": code.to_hresult().map(|h| format!("0x{h:08X}")),
        "source": info.source,
        "sourceLine": info.source_line,
    });
    Some(Explained { text, json })
}

/// Does `input` look like a Phone Edition pair: `(X/Y)`?
pub(crate) fn looks_like_phone_pair(input: &str) -> bool {
    let t = input.trim();
    t.starts_with('(') && t.ends_with(')') && t.contains('/')
}

/// The Phone Edition's "Last Update Status" pair.
pub(crate) fn phone(input: &str) -> Result<Explained, String> {
    let status = PhoneEditionStatus::parse(input).map_err(|e| e.to_string())?;
    let mut text = String::new();
    let _ = writeln!(
        text,
        "Phone Edition update status {status} (seed 000: WinInet error / HTTP status)"
    );
    if status.is_normal() {
        let _ = writeln!(text, "  normal: the phone updated (the seed's (0x00/0))");
    }
    let mut fields = Vec::new();
    if status.wininet.0 != 0 {
        let w = status.wininet;
        let _ = writeln!(
            text,
            "  WinInet {} {}: a problem contacting the Update Server",
            w.0,
            w.name().unwrap_or("(not catalogued)")
        );
        if let Some(m) = w.meaning() {
            let _ = writeln!(text, "    meaning  {m}");
        }
        if let Some(row) = status.wininet_row() {
            let _ = writeln!(text, "    check    {}", row.check);
            let _ = writeln!(text, "    source   seed 000, line {}", row.source_line);
        }
        fields.push(json!({
            "field": "wininet", "code": w.0, "name": w.name(), "meaning": w.meaning(),
            "check": status.wininet_row().map(|r| r.check),
            "sourceLine": status.wininet_row().map(|r| r.source_line),
        }));
    }
    if status.http != 0 {
        let row = status.http_row();
        let _ = writeln!(
            text,
            "  HTTP {} {}: the server was contacted but failed the request",
            status.http,
            row.map_or("(not in the seed's list)", |r| r.name)
        );
        if let Some(row) = row {
            let _ = writeln!(text, "    meaning  {}", row.summary());
            let _ = writeln!(text, "    check    {}", row.check);
            let _ = writeln!(text, "    source   seed 000, line {}", row.source_line);
        }
        fields.push(json!({
            "field": "http", "code": status.http, "name": row.map(|r| r.name),
            "meaning": row.map(|r| r.summary()), "check": row.map(|r| r.check),
            "sourceLine": row.map(|r| r.source_line),
        }));
    }
    let json = json!({
        "kind": "phone-edition-status",
        "status": status.to_string(),
        "normal": status.is_normal(),
        "fields": fields,
    });
    Ok(Explained { text, json })
}

/// A UCWA error body (JSON or XML), or a `DisplayError`'s JSON.
pub(crate) fn ucwa(input: &str) -> Result<Explained, String> {
    let e = UcwaError::parse(input).map_err(|e| format!("bad UCWA error body: {e}"))?;
    let mut text = String::new();
    let format = match e.format {
        UcwaFormat::Json => "JSON",
        UcwaFormat::Xml => "XML",
    };
    let whose = if e.is_display_error() {
        "an ocer DisplayError"
    } else {
        "a UCWA 2.0 error body"
    };
    let _ = writeln!(text, "{whose} ({format})");
    let _ = writeln!(text, "  code     {}", e.code);
    let known = e.known();
    match &e.subcode {
        Some(s) => {
            let _ = writeln!(text, "  subcode  {s}");
        }
        None => {
            let _ = writeln!(text, "  subcode  (none)");
        }
    }
    match known {
        Some(k) => {
            let _ = writeln!(
                text,
                "  known    {}: {} (seed 004, line {})",
                k.name, k.meaning, k.source_line
            );
        }
        None if e.subcode.is_some() => {
            let _ = writeln!(
                text,
                "  note     unknown subcode: ignore it, as the UCWA contract says (seed 004, line 69)"
            );
        }
        None => {}
    }
    if let Some(m) = &e.message {
        let _ = writeln!(text, "  message  {m}");
    }
    if let Some(l) = &e.link {
        let _ = writeln!(text, "  link     {l}");
    }
    for (k, v) in &e.parameters {
        let _ = writeln!(text, "  parameter {k} = {v}");
    }
    for (k, v) in &e.debug_info {
        let _ = writeln!(text, "  debugInfo {k} = {v}");
    }
    let pairs = |list: &[(String, String)]| -> Value {
        list.iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect::<serde_json::Map<_, _>>()
            .into()
    };
    let json = json!({
        "kind": if e.is_display_error() { "display-error" } else { "ucwa-error" },
        "format": format.to_ascii_lowercase(),
        "code": e.code,
        "subcode": e.subcode,
        "message": e.message,
        "link": e.link,
        "parameters": pairs(&e.parameters),
        "debugInfo": pairs(&e.debug_info),
        "known": known.map(|k| json!({"name": k.name, "meaning": k.meaning, "sourceLine": k.source_line})),
        "ignorable": known.is_none(),
    });
    Ok(Explained { text, json })
}

/// An Exchange ActiveSync status of `command`.
pub(crate) fn eas(command: &str, input: &str) -> Result<Explained, String> {
    let commands = EasStatus::commands();
    if !commands.iter().any(|c| c.eq_ignore_ascii_case(command)) {
        return Err(format!(
            "unknown ActiveSync command {command:?} (known: {})",
            commands.join(", ")
        ));
    }
    let status: u16 = input
        .trim()
        .parse()
        .map_err(|_| format!("not an ActiveSync status number: {:?}", input.trim()))?;
    let row = eas_status(command, status);
    let mut text = String::new();
    match row {
        Some(r) => {
            let _ = writeln!(
                text,
                "Exchange ActiveSync {} status {}",
                r.command, r.status
            );
            let _ = writeln!(text, "  meaning  {}", r.meaning);
            let _ = writeln!(text, "  source   seed 003, line {}", r.source_line);
        }
        None => {
            let _ = writeln!(
                text,
                "Exchange ActiveSync {command} status {status}: not in the seed's table for {command}"
            );
        }
    }
    // The same number for the other commands: the point of the per-command table.
    let others: Vec<&EasStatus> = commands
        .iter()
        .filter(|c| !c.eq_ignore_ascii_case(command))
        .filter_map(|c| eas_status(c, status))
        .collect();
    for o in &others {
        let _ = writeln!(text, "  (for {}: {})", o.command, o.meaning);
    }
    let json = json!({
        "kind": "eas-status",
        "command": row.map_or(command, |r| r.command),
        "status": status,
        "meaning": row.map(|r| r.meaning),
        "sourceLine": row.map(|r| r.source_line),
        "otherCommands": others.iter().map(|o| json!({"command": o.command, "meaning": o.meaning})).collect::<Vec<_>>(),
    });
    Ok(Explained { text, json })
}
