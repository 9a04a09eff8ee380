//! The SIP trace and the spans a user's subscriber sees (issue 16, item 6;
//! issue 12, item 6): every message sent and received under `ocer::wire`,
//! with credentials masked; each inside its `sip.transaction` span (method,
//! Call-ID, branch); each report's attempt inside `ocer.report` (report id).
//! Captured with a `tracing-subscriber` layer on the test's thread (the
//! runtime is current-thread, so the user agent's tasks run there too).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::sync::{Arc, Mutex};

use ocer::display::{Action, Mode};
use ocer::ua::{UaEvent, UserAgent};
use ocer_test_support::prelude::*;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

type Fields = BTreeMap<String, String>;

/// One event: its target, fields, and the spans it was in (innermost first).
#[derive(Debug, Clone)]
struct Captured {
    target: String,
    fields: Fields,
    spans: Vec<(String, Fields)>,
}

impl Captured {
    fn span(&self, name: &str) -> Option<&Fields> {
        self.spans.iter().find(|(n, _)| n == name).map(|(_, f)| f)
    }
}

#[derive(Default)]
struct Visitor(Fields);

impl Visit for Visitor {
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<Captured>>>);

impl<S: Subscriber + for<'a> LookupSpan<'a>> tracing_subscriber::Layer<S> for Capture {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut visitor = Visitor::default();
        attrs.record(&mut visitor);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(visitor.0);
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut visitor = Visitor::default();
        event.record(&mut visitor);
        let spans = ctx
            .event_scope(event)
            .map(|scope| {
                scope
                    .map(|span| {
                        let fields = span
                            .extensions()
                            .get::<Fields>()
                            .cloned()
                            .unwrap_or_default();
                        (span.name().to_owned(), fields)
                    })
                    .collect()
            })
            .unwrap_or_default();
        self.0.lock().unwrap().push(Captured {
            target: event.metadata().target().to_owned(),
            fields: visitor.0,
            spans,
        });
    }
}

const D1007: &str =
    "ms-diagnostics: 1007;reason=\"Temporarily cannot route\";source=\"server.contoso.com\"\r\n";

#[tokio::test]
async fn the_wire_trace_masks_credentials_and_sits_in_transaction_and_report_spans() {
    let capture = Capture::default();
    let _default =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(capture.clone()));

    let mut server = Server::bind(TransportKind::Tcp).await;
    let (ua, mut events) = UserAgent::builder("sip:alice@contoso.com", server.target())
        .credentials("alice", "secret")
        .timers(fast_timers())
        .build()
        .await
        .unwrap();
    let registering = tokio::spawn({
        let ua = ua.clone();
        async move { ua.register().await }
    });
    let register = server.expect("REGISTER").await;
    server
        .reply(
            &register,
            "401 Unauthorized",
            "WWW-Authenticate: Digest realm=\"contoso.com\", nonce=\"abc\", algorithm=MD5\r\n",
        )
        .await;
    let answered = server.expect("REGISTER").await;
    let authorization = header(&answered, "Authorization").unwrap().to_owned();
    let secret_response = authorization
        .split("response=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .to_owned();
    server.reply(&answered, "200 OK", "").await;
    registering.await.unwrap().expect("registered");

    let calling = tokio::spawn({
        let ua = ua.clone();
        async move {
            ua.call("sip:bob@contoso.com", None, Mode::Voice, Action::Call)
                .await
        }
    });
    let invite = server.expect("INVITE").await;
    server.reply(&invite, "504 Server time-out", D1007).await;
    server.expect("ACK").await;
    calling.await.unwrap().expect_err("504");
    let service = server.expect("SERVICE").await;
    server.reply(&service, "200 OK", "").await;
    let (sent, _) = until(&mut events, |e| matches!(e, UaEvent::ReportSent { .. })).await;
    let UaEvent::ReportSent { report_id } = sent else {
        unreachable!()
    };
    ua.shutdown().await;

    let captured = capture.0.lock().unwrap().clone();
    let wire: Vec<&Captured> = captured
        .iter()
        .filter(|c| c.target == "ocer::wire")
        .collect();
    let message = |c: &Captured| c.fields.get("message").cloned().unwrap_or_default();

    // Every message, both ways, and never the digest response.
    let sent_register = wire
        .iter()
        .find(|c| {
            c.fields.get("direction").map(String::as_str) == Some("sent")
                && message(c).starts_with("REGISTER ")
                && message(c).contains("Authorization: Digest")
        })
        .expect("the answered REGISTER in the trace");
    assert!(
        message(sent_register).contains("response=\"***\""),
        "{}",
        message(sent_register)
    );
    assert!(message(sent_register).contains("username=\"alice\""));
    for c in &wire {
        assert!(
            !message(c).contains(&secret_response),
            "credentials in the trace: {}",
            message(c)
        );
        assert!(!message(c).contains("secret"), "{}", message(c));
    }
    for (direction, start) in [
        ("received", "SIP/2.0 401 Unauthorized"),
        ("sent", "INVITE sip:bob@contoso.com"),
        ("received", "SIP/2.0 504 Server time-out"),
        ("sent", "SERVICE sip:alice@contoso.com"),
        ("received", "SIP/2.0 200 OK"),
    ] {
        assert!(
            wire.iter().any(
                |c| c.fields.get("direction").map(String::as_str) == Some(direction)
                    && message(c).starts_with(start)
            ),
            "{direction} {start} not in the trace"
        );
    }

    // A sent request is inside its transaction's span.
    let invite_sent = wire
        .iter()
        .find(|c| message(c).starts_with("INVITE "))
        .unwrap();
    let span = invite_sent
        .span("sip.transaction")
        .expect("in a transaction span");
    assert_eq!(span.get("method").map(String::as_str), Some("INVITE"));
    assert_eq!(
        span.get("call_id").map(String::as_str),
        header(&invite, "Call-ID")
    );
    assert_eq!(span.get("branch"), branch(&invite).as_ref());

    // The report's attempt and verdict are inside its span.
    let in_report: Vec<&Captured> = captured
        .iter()
        .filter(|c| {
            c.span("ocer.report").and_then(|f| f.get("report_id")) == Some(&report_id.to_string())
        })
        .collect();
    assert!(
        !in_report.is_empty(),
        "no event in the span of report {report_id}"
    );
}
