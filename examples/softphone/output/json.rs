//! `--json`: every event as one JSON object on its own line, for scripts.
//!
//! Every object has an `event` field (kebab-case); what the user sees is the
//! SDK's UCWA-shaped [`DisplayError`] JSON (`code`, `subcode`, `message`,
//! `debugInfo`), unchanged. The softphone's own lines are `command` (what
//! is about to run), `done` (how it went, with the exit code) and `error`.

use ocer::diag::ObservedDiagnostic;
use ocer::display::DisplayError;
use ocer::ua::{Failure, FailureKind, RegistrationState, UaEvent};
use serde_json::{json, Value};

/// The object for one user agent event.
pub(crate) fn event(event: &UaEvent) -> Value {
    match event {
        UaEvent::Registration(state) => {
            let mut value = json!({"event": "registration"});
            match state {
                RegistrationState::Registering => value["state"] = json!("registering"),
                RegistrationState::Registered { expires } => {
                    value["state"] = json!("registered");
                    value["expiresSeconds"] = json!(expires.as_secs());
                }
                RegistrationState::Failed(failure_) => {
                    value["state"] = json!("failed");
                    value["failure"] = failure(failure_);
                }
                RegistrationState::Unregistered => value["state"] = json!("unregistered"),
                other => value["state"] = json!(format!("{other:?}")),
            }
            value
        }
        UaEvent::Progress {
            call_id,
            status,
            reason,
            diagnostics,
            display,
        } => {
            let mut value = json!({
                "event": "progress",
                "callId": call_id,
                "status": status.as_u16(),
                "reason": reason,
                "diagnostics": diagnostics.iter().map(diagnostic).collect::<Vec<_>>(),
            });
            if let Some(display) = display {
                value["display"] = json!(display.headline());
            }
            value
        }
        UaEvent::Established { call_id } => json!({"event": "established", "callId": call_id}),
        UaEvent::Failed {
            call_id,
            mode,
            action,
            failure: failure_,
        } => json!({
            "event": "failed",
            "callId": call_id,
            "mode": mode.id(),
            "action": action.id(),
            "failure": failure(failure_),
        }),
        UaEvent::Ended {
            call_id,
            by_server,
            display: shown,
            diagnostics,
        } => json!({
            "event": "ended",
            "callId": call_id,
            "byServer": by_server,
            "display": shown.as_ref().map_or(Value::Null, display),
            "diagnostics": diagnostics.iter().map(diagnostic).collect::<Vec<_>>(),
        }),
        UaEvent::ReportQueued { report_id, call_id } => {
            json!({"event": "report-queued", "reportId": report_id.to_string(), "callId": call_id})
        }
        UaEvent::ReportSent { report_id } => {
            json!({"event": "report-sent", "reportId": report_id.to_string()})
        }
        UaEvent::ReportDropped { report_id, why } => json!({
            "event": "report-dropped",
            "reportId": report_id.map(|id| id.to_string()).unwrap_or_default(),
            "why": why.to_string(),
        }),
        UaEvent::ReportingSuspended { why } => {
            json!({"event": "reporting-suspended", "why": why.to_string()})
        }
        UaEvent::TargetFailed(failed) => json!({
            "event": "target-failed",
            "target": super::target_text(&failed.target),
            "why": super::failover_cause(&failed.cause),
            "next": super::target_text(&failed.next),
        }),
        UaEvent::ConnectionLost { target, failure } => json!({
            "event": "connection-lost",
            "target": super::target_text(target),
            "why": failure.to_string(),
        }),
        other => json!({"event": "other", "debug": format!("{other:?}")}),
    }
}

/// A failure: how it ended, the headline, and what the user sees.
pub(crate) fn failure(failure: &Failure) -> Value {
    let (kind, detail) = match &failure.kind {
        FailureKind::Rejected(status) => ("rejected", json!(status.as_u16())),
        FailureKind::Timeout => ("timeout", Value::Null),
        FailureKind::Transport(transport) => ("transport", json!(transport.to_string())),
        FailureKind::Local(local) => ("local", json!(local.to_string())),
        other => ("other", json!(format!("{other:?}"))),
    };
    let mut value = json!({
        "kind": kind,
        "headline": failure
            .display
            .as_ref()
            .map(|d| d.headline().to_owned())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| failure.to_string()),
        "cause": failure.to_string(),
        "display": failure.display.as_ref().map_or(Value::Null, display),
    });
    match kind {
        "rejected" => {
            value["status"] = detail;
            if let Some(reason) = failure
                .record
                .as_ref()
                .and_then(|r| r.final_response())
                .map(|r| r.reason_phrase.as_str())
            {
                value["reason"] = json!(reason);
            }
        }
        "timeout" => {}
        _ => value["detail"] = detail,
    }
    if let Some(windows) = failure.windows {
        value["windowsError"] = json!(windows.0);
    }
    if let Some(record) = &failure.record {
        value["request"] = json!({
            "method": record.identity.method,
            "callId": record.identity.call_id,
            "toUri": record.identity.to_uri,
        });
    }
    value
}

/// What the user sees: the SDK's own JSON form.
pub(crate) fn display(display: &DisplayError) -> Value {
    // DisplayError is `Serialize`: a struct of strings, so this cannot fail;
    // were it to, the headline still says what the user saw.
    serde_json::to_value(display).unwrap_or_else(|_| json!(display.headline()))
}

/// One diagnostics header, raw and parsed.
pub(crate) fn diagnostic(diag: &ObservedDiagnostic) -> Value {
    let mut value = json!({"header": diag.kind.name(), "raw": diag.raw});
    if let Ok(header) = &diag.parsed {
        value["errorId"] = json!(header.error_id.0);
        if let Some(reason) = &header.reason {
            value["reason"] = json!(reason.as_str());
        }
        if let Some(source) = &header.source {
            value["source"] = json!(source.as_str());
        }
    }
    value
}
