//! Instant messages: MESSAGE (RFC 3428), `text/plain; charset=UTF-8`, in
//! IM mode, action send-message.

use std::sync::Arc;

use bytes::Bytes;
use ezk_sip_types::Method;

use super::exchange::transact_authenticated;
use super::failure::Failure;
use super::request::{name_addr, new_call_id, new_tag, parse_uri, user_of, RequestSpec};
use super::Inner;
use crate::display::{Action, Mode};

/// The Content-Type of an instant message.
pub(crate) const TEXT_PLAIN_UTF8: &str = "text/plain; charset=UTF-8";

/// [`UserAgent::send_message`](super::UserAgent::send_message).
pub(crate) async fn send(inner: &Arc<Inner>, target: &str, text: &str) -> Result<(), Failure> {
    parse_uri(target).map_err(Failure::local)?;
    let call_id = new_call_id();
    let from = inner.new_from(&new_tag());
    let to = name_addr(None, target);
    let body = Bytes::copy_from_slice(text.as_bytes());
    let mut auth = inner.new_auth();
    let (exchanged, _) = transact_authenticated(&inner.driver, &mut auth, 1, |cseq| {
        RequestSpec {
            method: Method::MESSAGE,
            uri: target,
            from: &from,
            to: &to,
            call_id: &call_id,
            cseq,
            contact: None,
            routes: &[],
            user_agent: inner.user_agent.as_deref(),
            extra: &[],
            content_type: Some(TEXT_PLAIN_UTF8),
            body: body.clone(),
        }
        .build()
    })
    .await
    .map_err(Failure::local)?;
    let Some(kind) = exchanged.failure_kind() else {
        return Ok(());
    };
    let (mode, action) = (Mode::Im, Action::SendMessage);
    let failure = inner
        .presenter
        .failure(exchanged.record(), kind, mode, action, user_of(target));
    inner.fail(&call_id, mode, action, &failure);
    Err(failure)
}
