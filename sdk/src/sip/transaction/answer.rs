//! How a user agent answers a request the server sends it: which status
//! ([`incoming_request_disposition`]) and the response itself
//! ([`response_for`], RFC 3261 §8.2.6).
//!
//! | request | dialog (or pending INVITE) exists | no dialog |
//! |---|---|---|
//! | `BYE` | 200 OK | 481 Call/Transaction Does Not Exist |
//! | `CANCEL` | 200 OK to the CANCEL, then 487 Request Terminated to the INVITE it cancels ([`Disposition::CancelPending`]) | 481 |
//! | `NOTIFY` | 200 OK | 481 (RFC 6665 §4.1.3: no matching subscription) |
//! | `OPTIONS` | 200 OK, with `Allow` | 200 OK, with `Allow` |
//! | `BENOTIFY` | never answered: it is Lync's "best-effort NOTIFY", defined to get no response ([`Disposition::NoResponse`]) | never answered |
//! | `ACK` | never answered (RFC 3261 §17: ACK has no response) | never answered |
//! | `INVITE`, `REGISTER`, `SUBSCRIBE`, `PUBLISH`, `MESSAGE`, `INFO`, `REFER`, `UPDATE`, `PRACK`, `SERVICE` | 405 Method Not Allowed, with `Allow` (we know the method but do not accept it, §8.2.1) | 405 |
//! | any other method | 501 Not Implemented (§21.5.2: method not recognised) | 501 |
//! | CSeq missing, or its method differs from the request's | 400 Bad Request | 400 |

use super::key::cseq_of;
use crate::sip::{to_tag_of, SipMessage, StatusCode};
use bytes::Bytes;
use ezk_sip_types::msg::{MessageLine, StatusLine};
use ezk_sip_types::Name;

/// The methods this user agent accepts from a server, as the `Allow` header
/// lists them (on 405 responses and OPTIONS answers).
pub const ALLOWED_METHODS: &[&str] = &["ACK", "BYE", "CANCEL", "OPTIONS", "NOTIFY", "BENOTIFY"];

/// Methods we recognise but do not accept from a server (405, not 501).
const KNOWN_REFUSED: &[&str] = &[
    "INVITE",
    "REGISTER",
    "SUBSCRIBE",
    "PUBLISH",
    "MESSAGE",
    "INFO",
    "REFER",
    "UPDATE",
    "PRACK",
    "SERVICE",
];

/// What to do with a request the server sent (see the module's table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Disposition {
    /// Answer with this status (build it with [`response_for`]).
    Respond(StatusCode),
    /// A CANCEL for an INVITE still pending: answer the CANCEL with 200 OK,
    /// then the INVITE with 487 Request Terminated (RFC 3261 §9.2).
    CancelPending,
    /// Send nothing: BENOTIFY (no response, by definition) and ACK.
    NoResponse,
}

/// Decides how to answer `request` (see the module's table).
///
/// `dialog_exists` says whether the request matches state the user agent
/// holds: for BYE and NOTIFY, a dialog (subscription) with that Call-ID and
/// tags; for CANCEL, an INVITE server transaction it cancels that has not sent
/// its final response yet. Other methods ignore it.
pub fn incoming_request_disposition(request: &SipMessage, dialog_exists: bool) -> Disposition {
    let Some(method) = request.method() else {
        return Disposition::NoResponse;
    };
    let method = method.to_string();
    if method == "ACK" || method == "BENOTIFY" {
        return Disposition::NoResponse;
    }
    // The request line's method comes through ezk, which is lenient about
    // case and trailing characters; the CSeq must agree with it exactly.
    if cseq_of(request).map(|(_, m)| m) != Some(method.as_str()) {
        return Disposition::Respond(StatusCode::BAD_REQUEST);
    }
    let if_dialog = |status| {
        if dialog_exists {
            status
        } else {
            StatusCode::CALL_OR_TRANSACTION_DOES_NOT_EXIST
        }
    };
    match method.as_str() {
        "BYE" | "NOTIFY" => Disposition::Respond(if_dialog(StatusCode::OK)),
        "CANCEL" if dialog_exists => Disposition::CancelPending,
        "CANCEL" => Disposition::Respond(StatusCode::CALL_OR_TRANSACTION_DOES_NOT_EXIST),
        "OPTIONS" => Disposition::Respond(StatusCode::OK),
        m if KNOWN_REFUSED.contains(&m) => Disposition::Respond(StatusCode::METHOD_NOT_ALLOWED),
        _ => Disposition::Respond(StatusCode::NOT_IMPLEMENTED),
    }
}

/// Builds the response to `request` with `status` (RFC 3261 §8.2.6): the
/// standard reason phrase; every Via in order, From, To, Call-ID and CSeq
/// copied; `to_tag` added to To when the request's To has none (except on
/// 100 Trying, which keeps Timestamp instead, §8.2.6.1); `Allow` on 405 and
/// on 2xx to OPTIONS; no body, `Content-Length: 0`.
pub fn response_for(request: &SipMessage, status: StatusCode, to_tag: Option<&str>) -> SipMessage {
    let line = format!(
        "SIP/2.0 {} {}",
        status.as_u16(),
        status.reason_phrase().unwrap_or("")
    )
    .trim_end()
    .parse::<StatusLine>()
    .unwrap_or(StatusLine {
        code: status.into(),
        reason: None,
    });
    let mut headers = ezk_sip_types::Headers::new();
    for via in request.header_values(&Name::VIA) {
        headers.insert(Name::VIA, via);
    }
    if let Some(from) = request.header_value(&Name::FROM) {
        headers.insert(Name::FROM, from);
    }
    if let Some(to) = request.header_value(&Name::TO) {
        match to_tag {
            Some(tag) if status != StatusCode::TRYING && to_tag_of(request).is_none() => {
                headers.insert(Name::TO, format!("{};tag={tag}", to.trim_end()));
            }
            _ => headers.insert(Name::TO, to),
        }
    }
    for name in [Name::CALL_ID, Name::CSEQ] {
        if let Some(value) = request.header_value(&name) {
            headers.insert(name, value);
        }
    }
    if status == StatusCode::TRYING {
        for timestamp in request.header_values(&Name::TIMESTAMP) {
            headers.insert(Name::TIMESTAMP, timestamp);
        }
    }
    let options = request.method().map(ToString::to_string).as_deref() == Some("OPTIONS");
    if status == StatusCode::METHOD_NOT_ALLOWED || (options && status.is_success()) {
        headers.insert(Name::ALLOW, ALLOWED_METHODS.join(", "));
    }
    headers.insert(Name::CONTENT_LENGTH, "0");
    SipMessage {
        line: MessageLine::Response(line),
        headers,
        body: Bytes::new(),
    }
}
