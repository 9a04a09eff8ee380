//! Requests the server sends: a BYE (or CANCEL) for an established call
//! ends it ([`end_by_server`]) and is answered 200; everything else the
//! driver answers as [`incoming_request_disposition`](crate::sip::incoming_request_disposition)
//! says for a user agent without that dialog.

use std::sync::Weak;

use ezk_sip_types::Method;

use super::call::end_by_server;
use super::Inner;
use crate::ua::driver::IncomingRequests;

/// Follows `requests` until the driver stops. Holds the agent weakly, so
/// that dropping every handle stops the driver and so this task.
pub(crate) fn spawn(inner: Weak<Inner>, mut requests: IncomingRequests) {
    tokio::spawn(async move {
        while let Some(request) = requests.recv().await {
            let Some(agent) = inner.upgrade() else { return };
            let method = request.request().method().cloned();
            let ours = match &method {
                Some(m) if *m == Method::BYE || *m == Method::CANCEL => {
                    end_by_server(&agent, request.request())
                }
                _ => false,
            };
            tracing::debug!(?method, ours, "request from the server");
            request.answer(ours);
        }
    });
}
