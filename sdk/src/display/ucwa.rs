//! UCWA 2.0 error bodies (seed `004_…`), in JSON or XML, read for people:
//! `code`, `subcode`, `message`, `link`, `parameters`, `debugInfo`. The
//! contract (seed lines 67–69): "The only property that is required in the
//! error body is "code"", and "New subcodes can be introduced at any time.
//! Clients should be designed that that they ignore missing or unknown
//! subcodes." A [`DisplayError`](super::DisplayError)'s JSON is this shape, so
//! [`UcwaError::parse`] reads it back too.
//!
//! The error names the seed lists (its table of synchronous errors, lines
//! 30–45, and the contract's example subcode `AlreadyExists`, line 61) are
//! the data file `sdk/data/ucwa-errors.tsv` (columns `name`, `meaning`,
//! `source_line`; written by `sdk/data/extract_lookups.py`).

use std::sync::OnceLock;

use quick_xml::events::Event;
use quick_xml::Reader;
use serde_json::Value;

const TSV: &str = include_str!("../../data/ucwa-errors.tsv");
const TSV_HEADER: &str = "name\tmeaning\tsource_line";

/// Which syntax a body was in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UcwaFormat {
    /// `application/json`.
    Json,
    /// `application/xml`.
    Xml,
}

/// A UCWA error body. Values that are not strings (numbers, objects) are
/// kept as their JSON text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UcwaError {
    /// The syntax it was read from.
    pub format: UcwaFormat,
    /// `code`: the HTTP-like failure class (`Conflict`), the only required
    /// property.
    pub code: String,
    /// `subcode`, if any; unknown ones are to be ignored.
    pub subcode: Option<String>,
    /// `message`: the reason, localized for the user.
    pub message: Option<String>,
    /// `link`: where to read more (its `href`).
    pub link: Option<String>,
    /// `parameters`: the invalid properties of a 400 Bad Request, in order.
    pub parameters: Vec<(String, String)>,
    /// `debugInfo`: for troubleshooting; "subject to change", log it.
    pub debug_info: Vec<(String, String)>,
}

/// Why a body could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UcwaParseError {
    /// Not JSON.
    #[error("not a JSON error body: {0}")]
    Json(String),
    /// Not well-formed XML.
    #[error("not an XML error body: {0}")]
    Xml(String),
    /// The top level is not an object / element.
    #[error("the body is not an object")]
    NotAnObject,
    /// `code` is missing or empty.
    #[error("no `code`: the UCWA contract requires it")]
    NoCode,
}

/// One row of `sdk/data/ucwa-errors.tsv`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UcwaErrorInfo {
    /// The error name (`ResourceNotFound`).
    pub name: &'static str,
    /// What the seed says it means.
    pub meaning: &'static str,
    /// The line of seed `004_…`.
    pub source_line: u32,
}

/// Every error name the seed lists, in its order.
pub fn ucwa_errors() -> &'static [UcwaErrorInfo] {
    static TABLE: OnceLock<Vec<UcwaErrorInfo>> = OnceLock::new();
    // Our own data, proven to parse by a test; empty rather than a panic.
    TABLE.get_or_init(|| parse_rows(TSV).unwrap_or_default())
}

fn parse_rows(text: &'static str) -> Result<Vec<UcwaErrorInfo>, String> {
    let mut lines = text.lines().enumerate();
    if lines.next().map(|(_, l)| l) != Some(TSV_HEADER) {
        return Err(format!("header must be `{TSV_HEADER}`"));
    }
    lines
        .map(|(i, line)| {
            let cells: Vec<&'static str> = line.split('\t').collect();
            let [name, meaning, source_line] = cells[..] else {
                return Err(format!("line {}: expected 3 cells", i + 1));
            };
            Ok(UcwaErrorInfo {
                name,
                meaning,
                source_line: source_line
                    .parse()
                    .map_err(|_| format!("line {}: bad source_line", i + 1))?,
            })
        })
        .collect()
}

impl UcwaError {
    /// Reads a body in either syntax: XML when it starts with `<`, JSON
    /// otherwise. A JSON body copied without its braces (as the seed's own
    /// sample prints it, `"code": "Conflict", …`) is read as the object.
    pub fn parse(text: &str) -> Result<Self, UcwaParseError> {
        let t = text.trim_start_matches('\u{feff}').trim();
        if t.starts_with('<') {
            Self::from_xml(t)
        } else if t.starts_with('"') {
            Self::from_json(&format!("{{{}}}", t.trim_end_matches(',')))
        } else {
            Self::from_json(t)
        }
    }

    /// Reads a JSON body.
    pub fn from_json(text: &str) -> Result<Self, UcwaParseError> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| UcwaParseError::Json(e.to_string()))?;
        let Value::Object(map) = value else {
            return Err(UcwaParseError::NotAnObject);
        };
        let text_of = |v: &Value| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let get = |name: &str| {
            map.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v)
        };
        let bag = |name: &str| -> Vec<(String, String)> {
            match get(name) {
                Some(Value::Object(m)) => m.iter().map(|(k, v)| (k.clone(), text_of(v))).collect(),
                Some(Value::Array(items)) => items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| match v {
                        Value::Object(m) if m.contains_key("name") => (
                            m.get("name").map(text_of).unwrap_or_default(),
                            m.get("value").map(text_of).unwrap_or_default(),
                        ),
                        other => (i.to_string(), text_of(other)),
                    })
                    .collect(),
                Some(Value::Null) | None => Vec::new(),
                Some(other) => vec![(String::new(), text_of(other))],
            }
        };
        let code = get("code")
            .map(text_of)
            .filter(|c| !c.is_empty())
            .ok_or(UcwaParseError::NoCode)?;
        let link = get("link").map(|v| match v {
            Value::Object(m) => m.get("href").map(text_of).unwrap_or_else(|| v.to_string()),
            other => text_of(other),
        });
        Ok(Self {
            format: UcwaFormat::Json,
            code,
            subcode: get("subcode").filter(|v| !v.is_null()).map(text_of),
            message: get("message").filter(|v| !v.is_null()).map(text_of),
            link,
            parameters: bag("parameters"),
            debug_info: bag("debugInfo"),
        })
    }

    /// Reads an XML body: `<reason code="…" subcode="…">` (or `code` /
    /// `subcode` child elements) with `message`, `link href`, and
    /// `debugInfo` / `parameters` holding `<property name="…">value</property>`
    /// (or `<name>value</name>`) children. Namespaces are not checked.
    pub fn from_xml(text: &str) -> Result<Self, UcwaParseError> {
        let mut reader = Reader::from_str(text);
        reader.config_mut().expand_empty_elements = true;
        let mut out = Self {
            format: UcwaFormat::Xml,
            code: String::new(),
            subcode: None,
            message: None,
            link: None,
            parameters: Vec::new(),
            debug_info: Vec::new(),
        };
        // Element names from the root down, with the `name` attribute of each.
        let mut stack: Vec<(String, Option<String>)> = Vec::new();
        let mut text_buf = String::new();
        let xml = |e: &dyn std::fmt::Display| UcwaParseError::Xml(e.to_string());
        loop {
            match reader.read_event().map_err(|e| xml(&e))? {
                Event::Start(start) => {
                    let local = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
                    let mut name_attr = None;
                    for a in start.attributes() {
                        let a = a.map_err(|e| xml(&e))?;
                        let key = String::from_utf8_lossy(a.key.local_name().as_ref()).into_owned();
                        let value = a
                            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                            .map_err(|e| xml(&e))?
                            .into_owned();
                        match (stack.len(), key.as_str()) {
                            (0, "code") => out.code = value,
                            (0, "subcode") => out.subcode = Some(value),
                            (_, "href") if local == "link" => out.link = Some(value),
                            (_, "name") => name_attr = Some(value),
                            _ => {}
                        }
                    }
                    stack.push((local, name_attr));
                    text_buf.clear();
                }
                Event::Text(t) => {
                    text_buf.push_str(&t.decode().map_err(|e| xml(&e))?);
                }
                Event::CData(c) => {
                    text_buf.push_str(&String::from_utf8_lossy(&c));
                }
                Event::GeneralRef(r) => {
                    if let Some(c) = r.resolve_char_ref().map_err(|e| xml(&e))? {
                        text_buf.push(c);
                    } else {
                        let name = r.decode().map_err(|e| xml(&e))?;
                        text_buf.push(match name.as_ref() {
                            "amp" => '&',
                            "lt" => '<',
                            "gt" => '>',
                            "quot" => '"',
                            "apos" => '\'',
                            other => return Err(xml(&format!("unknown entity &{other};"))),
                        });
                    }
                }
                Event::End(_) => {
                    let Some((local, name_attr)) = stack.pop() else {
                        return Err(UcwaParseError::NotAnObject);
                    };
                    let value = text_buf.trim().to_owned();
                    let parent = stack.last().map(|(n, _)| n.as_str());

                    match (stack.len(), local.as_str()) {
                        (1, "code") => out.code = value,
                        (1, "subcode") => out.subcode = Some(value),
                        (1, "message") => out.message = Some(value),
                        (1, "link") if out.link.is_none() && !value.is_empty() => {
                            out.link = Some(value)
                        }
                        (2, _) => {
                            let key = name_attr.unwrap_or(local);
                            match parent {
                                Some("debugInfo") => out.debug_info.push((key, value)),
                                Some("parameters") => out.parameters.push((key, value)),
                                _ => {}
                            }
                        }
                        _ => {}
                    }

                    text_buf.clear();
                    if stack.is_empty() {
                        break;
                    }
                }
                Event::Eof => return Err(UcwaParseError::NotAnObject),
                _ => {}
            }
        }
        if out.code.is_empty() {
            return Err(UcwaParseError::NoCode);
        }
        Ok(out)
    }

    /// The seed's entry for the subcode (or, without one, the code), if it
    /// lists it. `None` means unknown: the contract says to ignore it.
    pub fn known(&self) -> Option<&'static UcwaErrorInfo> {
        let name = self.subcode.as_deref().unwrap_or(&self.code);
        ucwa_errors().iter().find(|e| e.name == name)
    }

    /// A `debugInfo` value by name.
    pub fn debug(&self, name: &str) -> Option<&str> {
        self.debug_info
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether this is an ocer [`DisplayError`](super::DisplayError)'s JSON
    /// (its `debugInfo` names the message shown).
    pub fn is_display_error(&self) -> bool {
        self.debug("messageId").is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::display::{Action, Cause, CauseOrigin, DisplayError, MessageKey, Mode, StringSet};
    use crate::sip::StatusCode;

    #[test]
    fn the_table_parses() {
        let rows = parse_rows(TSV).unwrap();
        assert_eq!(rows.len(), 17);
        assert_eq!(rows[0].name, "ApplicationNotFound");
        assert_eq!(ucwa_errors().len(), 17);
    }

    #[test]
    fn the_seed_json_sample_reads_without_braces() {
        let sample = " \"code\": \"Conflict\",\n \"subcode\": \"AlreadyExists\",\n \"message\": \"The requested resource already exists. Please wait and try again.\"\n";
        let e = UcwaError::parse(sample).unwrap();
        assert_eq!(e.format, UcwaFormat::Json);
        assert_eq!(e.code, "Conflict");
        assert_eq!(e.subcode.as_deref(), Some("AlreadyExists"));
        assert_eq!(e.known().unwrap().source_line, 61);
        let e = UcwaError::parse(r#"{"code":"Forbidden","subcode":"NewThing","debugInfo":{"errorReportId":42},"parameters":[{"name":"to","value":"x"}],"link":{"href":"https://h/help"}}"#).unwrap();
        assert!(e.known().is_none(), "unknown subcodes are ignorable");
        assert_eq!(e.debug("errorReportId"), Some("42"));
        assert_eq!(e.parameters, [("to".to_owned(), "x".to_owned())]);
        assert_eq!(e.link.as_deref(), Some("https://h/help"));
    }

    #[test]
    fn xml_bodies_read_attributes_and_properties() {
        let xml = r#"<?xml version="1.0" encoding="utf-8"?>
<reason xmlns="http://schemas.microsoft.com/rtc/2012/03/ucwa" code="Conflict" subcode="AlreadyExists">
 <message>The requested resource already exists. Please wait &amp; try again.</message>
 <debugInfo><property name="errorReportId">7</property></debugInfo>
 <parameters />
 <link rel="help" href="https://h/x"/>
</reason>"#;
        let e = UcwaError::parse(xml).unwrap();
        assert_eq!(e.format, UcwaFormat::Xml);
        assert_eq!(e.code, "Conflict");
        assert_eq!(e.subcode.as_deref(), Some("AlreadyExists"));
        assert_eq!(
            e.message.as_deref(),
            Some("The requested resource already exists. Please wait & try again.")
        );
        assert_eq!(e.debug("errorReportId"), Some("7"));
        assert!(e.parameters.is_empty());
        assert_eq!(e.link.as_deref(), Some("https://h/x"));
        let child = "<reason><code>NotFound</code><subcode>ResourceNotFound</subcode></reason>";
        assert_eq!(
            UcwaError::parse(child)
                .unwrap()
                .known()
                .unwrap()
                .source_line,
            40
        );
    }

    #[test]
    fn missing_code_and_garbage_are_refused() {
        // The seed's XML sample has no code: the contract requires one.
        let seed_xml =
            "<reason xmlns=\"\"><message>m</message><debugInfo /><parameters /></reason>";
        assert_eq!(UcwaError::parse(seed_xml), Err(UcwaParseError::NoCode));
        assert_eq!(
            UcwaError::parse("{\"message\":\"m\"}"),
            Err(UcwaParseError::NoCode)
        );
        assert_eq!(UcwaError::parse("[1]"), Err(UcwaParseError::NotAnObject));
        assert!(matches!(
            UcwaError::parse("{"),
            Err(UcwaParseError::Json(_))
        ));
        assert!(UcwaError::parse("<reason>").is_err());
        assert!(matches!(
            UcwaError::parse("<a><b></a>"),
            Err(UcwaParseError::Xml(_))
        ));
    }

    #[test]
    fn a_display_error_reads_back() {
        let shown = DisplayError {
            set: StringSet::Lync2010,
            mode: Mode::Voice,
            action: Action::Call,
            cause: Cause::SipStatus(StatusCode(504)),
            origin: CauseOrigin::FinalResponse,
            message: Some("Operation was unsuccessful.".into()),
            info: Some("Try again.".into()),
            message_id: MessageKey::handled(
                StringSet::Lync2010,
                Cause::SipStatus(StatusCode(504)),
                Mode::Voice,
                Action::Call,
            ),
            locale: "en-US".parse().unwrap(),
        };
        let e = UcwaError::parse(&shown.to_json()).unwrap();
        assert!(e.is_display_error());
        assert_eq!(e.code, "SipStatus");
        assert_eq!(e.subcode.as_deref(), Some("504"));
        assert_eq!(e.message.as_deref(), Some("Operation was unsuccessful."));
        assert_eq!(e.debug("messageId"), Some("lync2010-sip-504-voice-call"));
        assert_eq!(e.debug("handled"), Some("true"));
    }
}
