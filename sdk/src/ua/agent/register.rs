//! Registration (RFC 3261 §10): REGISTER with digest credentials, refresh
//! before expiry, unregister; and the login session it carries.
//!
//! A login session starts when a REGISTER succeeds while not registered and
//! ends on unregister or when a REGISTER (a refresh, or the app's) fails.
//! The reporter sends reports only within a session, with a fresh
//! [`SessionGate`](crate::report::SessionGate) for each one.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::Duration;

use super::auth::Auth;
use ezk_sip_types::{Method, Name};
use tokio::task::AbortHandle;

use super::events::{RegistrationState, UaEvent};
use super::exchange::transact_authenticated;
use super::failure::{Failure, FailureKind, LocalFailure};
use super::reporter::ReporterCommand;
use super::request::{
    header_param, name_addr, new_call_id, new_tag, split_values, uri_in, user_of, RequestSpec,
};
use super::{Inner, NoContact};
use crate::display::{Action, Mode};
use crate::sip::{MsKeepAlive, SipMessage};
use crate::ua::driver::DriverNotice;

/// The state of the registration; one per user agent, behind an async mutex
/// so that REGISTERs never overlap.
pub(crate) struct Registration {
    /// Whether a login session is on.
    registered: bool,
    /// One Call-ID for every REGISTER of this user agent (RFC 3261 §10.2).
    call_id: String,
    from_tag: String,
    cseq: u32,
    /// The digest answers of the registrar, reused by refreshes.
    auth: Option<Auth>,
    refresh: Option<AbortHandle>,
}

impl std::fmt::Debug for Registration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registration")
            .field("registered", &self.registered)
            .field("call_id", &self.call_id)
            .field("cseq", &self.cseq)
            .finish_non_exhaustive()
    }
}

impl Registration {
    pub(crate) fn new() -> Self {
        Self {
            registered: false,
            call_id: new_call_id(),
            from_tag: new_tag(),
            cseq: 0,
            auth: None,
            refresh: None,
        }
    }
}

/// When to refresh a registration granted for `expires`: halfway, and at
/// least a second from now.
pub(crate) fn refresh_after(expires: Duration) -> Duration {
    (expires / 2).max(Duration::from_secs(1))
}

/// The registrar's URI: `sip:` and the AOR's domain (RFC 3261 §10.2).
fn registrar_uri(aor: &str) -> String {
    let user_at_domain = user_of(aor);
    let domain = user_at_domain
        .rsplit_once('@')
        .map_or(user_at_domain, |(_, d)| d);
    let scheme = if aor.starts_with("sips:") {
        "sips"
    } else {
        "sip"
    };
    format!("{scheme}:{domain}")
}

/// What the registrar granted: the `expires` of our Contact in the 2xx,
/// else its `Expires` header, else what was asked.
fn granted(response: &SipMessage, contact: &str, asked: Duration) -> Duration {
    let ours = uri_in(contact);
    let from_contact = response
        .header_values(&Name::CONTACT)
        .flat_map(split_values)
        .find(|value| uri_in(value).eq_ignore_ascii_case(ours))
        .and_then(|value| header_param(value, "expires"))
        .and_then(|v| v.parse::<u64>().ok());
    let from_header = || {
        response
            .header_value(&Name::EXPIRES)
            .and_then(|v| v.trim().parse::<u64>().ok())
    };
    from_contact
        .or_else(from_header)
        .filter(|&secs| secs > 0)
        .map_or(asked, Duration::from_secs)
}

/// The public GRUU (RFC 5627 §5.1 `gruu` parameter) the registrar gave our
/// Contact in a 2xx.
fn gruu_in(response: &SipMessage, contact: &str) -> Option<String> {
    let ours = uri_in(contact);
    response
        .header_values(&Name::CONTACT)
        .flat_map(split_values)
        .find(|value| uri_in(value).eq_ignore_ascii_case(ours))
        .and_then(|value| header_param(value, "gruu"))
        .filter(|gruu| crate::ua::agent::request::parse_uri(gruu).is_ok())
        .map(str::to_owned)
}

/// Why a REGISTER failed, and how its transaction ended (to report it once
/// the login session has ended: a report made while the session is still
/// on would be sent in it).
struct Refused {
    failure: Failure,
}

impl Refused {
    fn local(failure: LocalFailure) -> Self {
        Self {
            failure: Failure::local(failure),
        }
    }

    /// Reports the failed transaction, if one ran.
    fn report(&self, inner: &Inner) {
        if let Some(record) = &self.failure.record {
            inner.report(record);
        }
    }
}

/// One REGISTER (with its challenge answered once) asking for `expires`.
async fn send_register(
    inner: &Inner,
    reg: &mut Registration,
    expires: Duration,
) -> Result<Duration, Refused> {
    let contact = inner.contact().await;
    if reg.auth.is_none() {
        reg.auth = inner.new_auth();
    }
    let uri = registrar_uri(&inner.aor);
    let from = inner.new_from(&reg.from_tag);
    let to = name_addr(None, &inner.aor);
    // RFC 5627 §4.1: `gruu` in Supported and a +sip.instance on the Contact
    // ask for a GRUU (Lync 2010 writes `gruu-10`, MS-SIPAE §4.1).
    let mut extra = vec![
        (Name::EXPIRES, expires.as_secs().to_string()),
        (Name::SUPPORTED, "gruu-10".to_owned()),
    ];
    extra.extend(inner.keep_alive_offer());
    let call_id = reg.call_id.clone();
    let build = |cseq, contact: Option<&str>| {
        RequestSpec {
            method: Method::REGISTER,
            uri: &uri,
            from: &from,
            to: &to,
            call_id: &call_id,
            cseq,
            contact,
            routes: &[],
            user_agent: inner.user_agent.as_deref(),
            extra: &extra,
            content_type: None,
            body: bytes::Bytes::new(),
        }
        .build()
    };
    let contact = match contact {
        Ok(contact) => format!("{contact};+sip.instance=\"<urn:uuid:{}>\"", inner.instance),
        Err(NoContact::ShutDown) => return Err(Refused::local(LocalFailure::ShutDown)),
        Err(NoContact::Transport(failure)) => {
            let request = build(reg.cseq.saturating_add(1), None).map_err(Refused::local)?;
            let failure = inner.unsent(
                &request,
                failure,
                Mode::Other,
                Action::SignIn,
                user_of(&inner.aor),
            );
            return Err(Refused { failure });
        }
    };
    let (exchanged, cseq) = transact_authenticated(
        &inner.driver,
        &mut reg.auth,
        reg.cseq.saturating_add(1),
        |cseq| build(cseq, Some(&contact)),
    )
    .await
    .map_err(Refused::local)?;
    reg.cseq = cseq;
    match (&exchanged.response, exchanged.failure_kind()) {
        (Some(response), None) => {
            if !expires.is_zero() {
                apply_keep_alive(inner, response);
            }
            *super::lock(&inner.gruu) = if expires.is_zero() {
                None
            } else {
                gruu_in(response, &contact)
            };
            Ok(granted(response, &contact, expires))
        }
        (_, kind) => {
            let kind = kind.unwrap_or(super::failure::FailureKind::Timeout);
            let record = exchanged.record();
            let failure = inner.presenter.failure(
                record,
                kind,
                Mode::Other,
                Action::SignIn,
                user_of(&inner.aor),
            );
            Err(Refused { failure })
        }
    }
}

/// The pool's `ms-keep-alive` answer to the REGISTER ([MS-CONMGMT] §2.2.1),
/// if any, sets how often the connection is pinged. One it cannot read
/// leaves the pings as they were.
fn apply_keep_alive(inner: &Inner, response: &SipMessage) {
    let Some(value) = response.header_value(&Name::from(MsKeepAlive::HEADER_NAME)) else {
        return;
    };
    match MsKeepAlive::parse(value) {
        Ok(answer) => {
            let _ = inner.driver.set_keep_alive(answer);
        }
        Err(error) => {
            tracing::warn!(%error, value, "ms-keep-alive not understood; keep-alives unchanged");
        }
    }
}

/// [`UserAgent::register`](super::UserAgent::register).
pub(crate) async fn register(inner: &Arc<Inner>) -> Result<(), Failure> {
    inner.wanted.store(true, Ordering::SeqCst);
    let mut guard = inner.registration.lock().await;
    let reg = &mut *guard;
    if let Some(refresh) = reg.refresh.take() {
        refresh.abort();
    }
    inner.emit(UaEvent::Registration(RegistrationState::Registering));
    match send_register(inner, reg, inner.register_expires).await {
        Ok(expires) => {
            registered(inner, reg, expires);
            reg.refresh = Some(spawn_refresh(Arc::downgrade(inner), expires));
            Ok(())
        }
        Err(refused) => {
            failed(inner, reg, &refused.failure);
            refused.report(inner);
            Err(refused.failure)
        }
    }
}

fn registered(inner: &Inner, reg: &mut Registration, expires: Duration) {
    if !reg.registered {
        reg.registered = true;
        inner.session_on.store(true, Ordering::SeqCst);
        tracing::info!(aor = %inner.aor, ?expires, "registered: a login session starts");
        inner.to_reporter(ReporterCommand::SessionStarted);
    }
    inner.emit(UaEvent::Registration(RegistrationState::Registered {
        expires,
    }));
}

fn failed(inner: &Inner, reg: &mut Registration, failure: &Failure) {
    if reg.registered {
        reg.registered = false;
        inner.session_on.store(false, Ordering::SeqCst);
        tracing::info!(aor = %inner.aor, %failure, "registration failed: the login session ends");
        inner.to_reporter(ReporterCommand::SessionEnded);
    }
    // A new login authenticates anew.
    reg.auth = None;
    inner.sa.clear();
    *super::lock(&inner.gruu) = None;
    inner.emit(UaEvent::Registration(RegistrationState::Failed(
        failure.clone(),
    )));
}

/// Refreshes the registration before it expires, until a refresh fails (or
/// the registration is replaced, unregistered, or the agent is gone).
fn spawn_refresh(inner: Weak<Inner>, mut expires: Duration) -> AbortHandle {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(refresh_after(expires)).await;
            let Some(inner) = inner.upgrade() else { return };
            let mut guard = inner.registration.lock().await;
            let reg = &mut *guard;
            inner.emit(UaEvent::Registration(RegistrationState::Registering));
            // Boxed: the task sleeps for most of the registration, and an
            // idle agent should not hold the REGISTER exchange's state.
            match Box::pin(send_register(&inner, reg, inner.register_expires)).await {
                Ok(granted) => {
                    expires = granted;
                    registered(&inner, reg, granted);
                }
                Err(refused) => {
                    failed(&inner, reg, &refused.failure);
                    refused.report(&inner);
                    reg.refresh = None;
                    return;
                }
            }
        }
    })
    .abort_handle()
}

/// [`UserAgent::unregister`](super::UserAgent::unregister).
pub(crate) async fn unregister(inner: &Arc<Inner>) -> Result<(), Failure> {
    inner.wanted.store(false, Ordering::SeqCst);
    let mut guard = inner.registration.lock().await;
    let reg = &mut *guard;
    if let Some(refresh) = reg.refresh.take() {
        refresh.abort();
    }
    if !reg.registered {
        return Ok(());
    }
    let result = send_register(inner, reg, Duration::ZERO).await;
    reg.registered = false;
    inner.session_on.store(false, Ordering::SeqCst);
    reg.auth = None;
    inner.sa.clear();
    tracing::info!(aor = %inner.aor, "unregistered: the login session ends");
    inner.to_reporter(ReporterCommand::SessionEnded);
    inner.emit(UaEvent::Registration(RegistrationState::Unregistered));
    match result {
        Ok(_) => Ok(()),
        Err(refused) => {
            refused.report(inner);
            Err(refused.failure)
        }
    }
}

/// What the driver did on its own: a failed target is told to the app; a
/// lost connection too, and while a login session is on it starts
/// [`reconnect`]. Runs on the driver task: it only emits and spawns.
pub(crate) fn on_driver_notice(inner: &Arc<Inner>, notice: DriverNotice) {
    match notice {
        DriverNotice::TargetFailed(failure) => inner.emit(UaEvent::TargetFailed(failure)),
        DriverNotice::ConnectionLost { target, failure } => {
            inner.emit(UaEvent::ConnectionLost { target, failure });
            if inner.session_on.load(Ordering::SeqCst)
                && !inner.reconnecting.swap(true, Ordering::SeqCst)
            {
                tokio::spawn(reconnect(Arc::downgrade(inner)));
            }
        }
    }
}

/// Registers again after the connection was lost while registered: the
/// login session ends (its registration, security association and GRUU
/// were the lost connection's), then REGISTER on a new connection, after
/// the backoff's first wait and then doubling waits up to its longest,
/// until it succeeds (a new login session), a REGISTER is refused for good,
/// or the app unregisters or shuts down.
async fn reconnect(weak: Weak<Inner>) {
    let Some((mut delay, max)) = weak.upgrade().map(|inner| inner.reconnect_backoff) else {
        return;
    };
    if let Some(inner) = weak.upgrade() {
        let mut guard = inner.registration.lock().await;
        let reg = &mut *guard;
        if let Some(refresh) = reg.refresh.take() {
            refresh.abort();
        }
        if reg.registered {
            reg.registered = false;
            inner.session_on.store(false, Ordering::SeqCst);
            tracing::info!(aor = %inner.aor, "connection lost: the login session ends");
            inner.to_reporter(ReporterCommand::SessionEnded);
        }
        reg.auth = None;
        inner.sa.clear();
        *super::lock(&inner.gruu) = None;
    }
    loop {
        tokio::time::sleep(delay).await;
        let Some(inner) = weak.upgrade() else { return };
        if !inner.wanted.load(Ordering::SeqCst) {
            inner.reconnecting.store(false, Ordering::SeqCst);
            return;
        }
        let again = match register(&inner).await {
            Ok(()) => false,
            Err(failure) => {
                matches!(
                    failure.kind,
                    FailureKind::Transport(_) | FailureKind::Timeout
                ) || matches!(failure.kind, FailureKind::Rejected(status) if status.0 >= 500)
            }
        };
        if !again {
            inner.reconnecting.store(false, Ordering::SeqCst);
            return;
        }
        delay = (delay * 2).min(max);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::FramingLimits;

    #[test]
    fn registrar_and_refresh() {
        assert_eq!(registrar_uri("sip:alice@contoso.com"), "sip:contoso.com");
        assert_eq!(
            registrar_uri("sips:alice@contoso.com;x=1"),
            "sips:contoso.com"
        );
        assert_eq!(
            refresh_after(Duration::from_secs(3600)),
            Duration::from_secs(1800)
        );
        assert_eq!(
            refresh_after(Duration::from_secs(1)),
            Duration::from_secs(1)
        );
    }

    #[test]
    fn granted_expiry_prefers_our_contact() {
        let ok = SipMessage::parse(
            b"SIP/2.0 200 OK\r\nContact: <sip:other@1.2.3.4>;expires=10, <sip:alice@127.0.0.1:5;transport=tcp>;expires=120\r\n\
              Expires: 300\r\nContent-Length: 0\r\n\r\n",
            &FramingLimits::default(),
        )
        .unwrap();
        let contact = "<sip:alice@127.0.0.1:5;transport=tcp>";
        let asked = Duration::from_secs(3600);
        assert_eq!(granted(&ok, contact, asked), Duration::from_secs(120));
        assert_eq!(granted(&ok, "<sip:x@y>", asked), Duration::from_secs(300));
        let bare = SipMessage::parse(
            b"SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n",
            &FramingLimits::default(),
        )
        .unwrap();
        assert_eq!(granted(&bare, contact, asked), asked);
    }
}
