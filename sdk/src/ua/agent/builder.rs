//! Configuring and starting a [`UserAgent`]: [`UserAgentBuilder`].

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

use ezk_sip_auth::{DigestCredentials, DigestUser};
use tokio::sync::mpsc;

use super::events::UaEvents;
use super::failure::Presenter;
use super::reporter::{self, ReporterConfig, Store};
use super::request::{parse_uri, user_part};
use super::{incoming, Calls, Inner, UaError, UserAgent};
use crate::display::{en_us_langid, Isolation, LanguageIdentifier, Localizer, StringSet};
use crate::report::{ReportLimits, RetryPolicy};
use crate::sip::TimerConfig;
use crate::ua::driver::{Driver, DriverConfig, SharedDriver};
use crate::ua::outbox::{
    BeforeReport, DiskOutbox, HookVerdict, MemoryOutbox, Outbox, OutboxLimits,
};
use crate::ua::transport::{Target, TransportConfig};

use super::register::Registration;

/// Where error reports wait until they are sent.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OutboxLocation {
    /// In memory ([`MemoryOutbox`]): lost when the process ends.
    Memory,
    /// On disk in this directory ([`DiskOutbox`]), one per account: reports
    /// survive a crash or restart and are sent at the next login.
    Disk(PathBuf),
}

/// Builds a [`UserAgent`]; every setting but the AOR and the target has a
/// default. Made by [`UserAgent::builder`].
pub struct UserAgentBuilder {
    aor: String,
    target: Target,
    /// The rest of the RFC 3263 list, after `target`.
    alternates: Vec<Target>,
    reconnect_backoff: (Duration, Duration),
    credentials: Option<(String, String)>,
    auth_mode: super::AuthMode,
    display_name: Option<String>,
    transport: TransportConfig,
    string_set: StringSet,
    locales: Vec<LanguageIdentifier>,
    localizer: Option<Arc<Localizer>>,
    outbox: OutboxLocation,
    outbox_limits: OutboxLimits,
    reporting: bool,
    before_report: Option<Box<dyn BeforeReport>>,
    retry_policy: RetryPolicy,
    report_limits: ReportLimits,
    timers: TimerConfig,
    register_expires: Duration,
    ring_timeout: Duration,
    user_agent: Option<String>,
    client_name: String,
    event_capacity: usize,
    /// The driver to join instead of starting one.
    shared: Option<SharedDriver>,
}

impl std::fmt::Debug for UserAgentBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserAgentBuilder")
            .field("aor", &self.aor)
            .field("target", &self.target)
            .field(
                "credentials",
                &self.credentials.as_ref().map(|(user, _)| user),
            )
            .field("string_set", &self.string_set)
            .field("outbox", &self.outbox)
            .field("reporting", &self.reporting)
            .finish_non_exhaustive()
    }
}

impl UserAgentBuilder {
    pub(super) fn new(aor: String, target: Target) -> Self {
        Self {
            aor,
            target,
            alternates: Vec::new(),
            reconnect_backoff: Self::DEFAULT_RECONNECT_BACKOFF,
            credentials: None,
            auth_mode: super::AuthMode::Auto,
            display_name: None,
            transport: TransportConfig::default(),
            string_set: StringSet::Lync2010,
            locales: vec![en_us_langid()],
            localizer: None,
            outbox: OutboxLocation::Memory,
            outbox_limits: OutboxLimits::default(),
            reporting: true,
            before_report: None,
            retry_policy: RetryPolicy::default(),
            report_limits: ReportLimits::default(),
            timers: TimerConfig::default(),
            register_expires: Duration::from_secs(3600),
            ring_timeout: Self::DEFAULT_RING_TIMEOUT,
            user_agent: Some(concat!("ocer/", env!("CARGO_PKG_VERSION")).to_owned()),
            client_name: "ocer".to_owned(),
            event_capacity: super::events::DEFAULT_EVENT_CAPACITY,
            shared: None,
        }
    }

    /// Runs the user agent on `driver`, shared with other user agents (one
    /// socket or connection to the target for all of them: a client farm
    /// facing a proxy), instead of a driver of its own. The driver's
    /// target(s), timers and transport settings are used: the builder's
    /// [`targets`](Self::targets), [`timers`](Self::timers) and transport
    /// settings are not. The Contact's user part is the member's own
    /// ([`Driver::contact_user`]), so that the server's requests for this
    /// user agent reach it. [`UserAgent::shutdown`] takes it off the driver
    /// and leaves the driver running for the others.
    ///
    /// See [`SharedDriver`] for an example.
    pub fn shared_driver(mut self, driver: &SharedDriver) -> Self {
        self.shared = Some(driver.clone());
        self
    }

    /// How many events may wait in [`UaEvents`] for the app before the
    /// oldest are dropped (then [`UaEvent::EventsDropped`](super::UaEvent::EventsDropped)
    /// says how many); at least 1. Default [`DEFAULT_EVENT_CAPACITY`](super::DEFAULT_EVENT_CAPACITY).
    pub fn event_capacity(mut self, capacity: usize) -> Self {
        self.event_capacity = capacity.max(1);
        self
    }

    /// Credentials: for digest (RFC 7616 / 8760, `ezk-sip-auth`) and for
    /// NTLM (`DOMAIN\user` or a UPN user name), for any realm
    /// that challenges. Without them a 401 / 407 is a failure.
    pub fn credentials(mut self, user: impl Into<String>, password: impl Into<String>) -> Self {
        self.credentials = Some((user.into(), password.into()));
        self
    }

    /// Which authentication to use: by default whatever the server offers,
    /// NTLM (MS-SIPAE) preferred over digest.
    pub fn auth_mode(mut self, mode: super::AuthMode) -> Self {
        self.auth_mode = mode;
        self
    }

    /// The user's display name, in From.
    pub fn display_name(mut self, name: impl Into<String>) -> Self {
        self.display_name = Some(name.into());
        self
    }

    /// The TLS client configuration (for a TLS target); default: verify
    /// against the system's roots ([`tls::default_client_config`](crate::ua::transport::tls::default_client_config)).
    pub fn tls_config(mut self, config: Arc<rustls::ClientConfig>) -> Self {
        self.transport.tls = Some(config);
        self
    }

    /// Every transport setting (limits, keep-alive, connect timeout, TLS).
    pub fn transport_config(mut self, config: TransportConfig) -> Self {
        self.transport = config;
        self
    }

    /// Whose strings the user sees; default Lync 2010.
    pub fn string_set(mut self, set: StringSet) -> Self {
        self.string_set = set;
        self
    }

    /// The user's locales, most preferred first; default en-US. Only locales
    /// the localizer has are used (en-US is built in; see
    /// [`localizer`](Self::localizer)).
    pub fn locales(mut self, locales: Vec<LanguageIdentifier>) -> Self {
        self.locales = locales;
        self
    }

    /// The localizer, with the locales the app ships
    /// ([`ua::locales`](crate::ua::locales)); default en-US only, without
    /// bidi isolation marks, one for the whole process: its Fluent bundles
    /// are read-only, so every user agent built without this shares them.
    pub fn localizer(mut self, localizer: Arc<Localizer>) -> Self {
        self.localizer = Some(localizer);
        self
    }

    /// Where reports wait; default in memory.
    pub fn outbox(mut self, location: OutboxLocation) -> Self {
        self.outbox = location;
        self
    }

    /// The outbox's bounds.
    pub fn outbox_limits(mut self, limits: OutboxLimits) -> Self {
        self.outbox_limits = limits;
        self
    }

    /// Whether failed transactions are reported to the server; default on.
    pub fn reporting(mut self, on: bool) -> Self {
        self.reporting = on;
        self
    }

    /// The app's last look at each report before it is stored: redact it
    /// (MS-OCER §5.1) or veto it.
    pub fn before_report(mut self, hook: impl BeforeReport + 'static) -> Self {
        self.before_report = Some(Box::new(hook));
        self
    }

    /// The retry policy for reports.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry_policy = policy;
        self
    }

    /// The size limits of a report.
    pub fn report_limits(mut self, limits: ReportLimits) -> Self {
        self.report_limits = limits;
        self
    }

    /// T1, T2, T4 (RFC 3261 §17).
    pub fn timers(mut self, timers: TimerConfig) -> Self {
        self.timers = timers;
        self
    }

    /// The registration lifetime asked for; default one hour.
    pub fn register_expires(mut self, expires: Duration) -> Self {
        self.register_expires = expires;
        self
    }

    /// How long an outgoing call may go unanswered after its INVITE is out:
    /// then the user agent cancels it (RFC 3261 §9.1; the bound §13.3.1.1's
    /// `Expires` gives the callee's side) and the call fails with
    /// [`LocalFailure::NoAnswer`](super::LocalFailure::NoAnswer). A server
    /// that sends `180 Ringing` and never a final response (or whose final
    /// is lost) would otherwise keep the call pending forever: an INVITE
    /// transaction has no timer once a provisional came. Default
    /// [`DEFAULT_RING_TIMEOUT`](Self::DEFAULT_RING_TIMEOUT).
    pub fn ring_timeout(mut self, timeout: Duration) -> Self {
        self.ring_timeout = timeout;
        self
    }

    /// The targets to try in order (RFC 3263 §4.3), as
    /// [`discovery::discover`](crate::ua::discovery::discover) gives them:
    /// the first replaces the builder's target; on a transport failure, or a
    /// REGISTER's `503` without `Retry-After`, requests go to the next (each
    /// failure is a [`UaEvent::TargetFailed`](super::UaEvent::TargetFailed)).
    /// An empty list changes nothing.
    pub fn targets(mut self, targets: Vec<Target>) -> Self {
        let mut targets = targets.into_iter();
        if let Some(first) = targets.next() {
            self.target = first;
            self.alternates = targets.collect();
        }
        self
    }

    /// After the connection to the server is lost while registered, the
    /// user agent registers again on a new connection: first after `first`,
    /// then after twice the last wait, at most `max`, until it is
    /// registered, a REGISTER is refused for good (not a transport failure,
    /// timeout or 5xx), or the app unregisters. Default
    /// [`DEFAULT_RECONNECT_BACKOFF`](Self::DEFAULT_RECONNECT_BACKOFF).
    pub fn reconnect_backoff(mut self, first: Duration, max: Duration) -> Self {
        self.reconnect_backoff = (first, max.max(first));
        self
    }

    /// The default re-register backoff: 1 s, doubling up to 60 s — a pool
    /// whose front end restarted is not hit by all its users at once.
    pub const DEFAULT_RECONNECT_BACKOFF: (Duration, Duration) =
        (Duration::from_secs(1), Duration::from_secs(60));

    /// The default ring timeout: 180 s, Lync's no-answer time.
    pub const DEFAULT_RING_TIMEOUT: Duration = Duration::from_secs(180);

    /// The `User-Agent` header; default `ocer/<version>`. `None` sends none.
    pub fn user_agent(mut self, value: Option<String>) -> Self {
        self.user_agent = value;
        self
    }

    /// What `[client name]` shows in the strings; default `ocer`.
    pub fn client_name(mut self, name: impl Into<String>) -> Self {
        self.client_name = name.into();
        self
    }

    /// Starts the user agent on the current tokio runtime: the driver (a UDP
    /// socket is bound now; TCP and TLS connect on the first request), the
    /// outbox (a disk outbox is opened and read now), the reporter.
    pub async fn build(self) -> Result<(UserAgent, UaEvents), UaError> {
        parse_uri(&self.aor).map_err(|_| UaError::InvalidAor(self.aor.clone()))?;
        if user_part(&self.aor).is_none() {
            return Err(UaError::InvalidAor(self.aor));
        }
        let outbox: Box<dyn Outbox + Send> = match &self.outbox {
            OutboxLocation::Memory => Box::new(MemoryOutbox::new(self.outbox_limits)),
            OutboxLocation::Disk(dir) => {
                let dir = dir.clone();
                let limits = self.outbox_limits;
                let opened = tokio::task::spawn_blocking(move || {
                    DiskOutbox::open(dir, limits, crate::ua::clock::wall())
                })
                .await
                .map_err(|e| UaError::Internal(e.to_string()))??;
                Box::new(opened)
            }
        };
        let mut config = DriverConfig::new(self.target.clone());
        config.alternates = self.alternates.clone();
        // The hook runs on the driver task, which starts before `Inner`
        // exists; it reaches it through this cell (weakly: `Inner` owns the
        // driver).
        let notice_inner: Arc<OnceLock<std::sync::Weak<Inner>>> = Arc::new(OnceLock::new());
        let hook_inner = Arc::clone(&notice_inner);
        config.notices = Some(crate::ua::driver::NoticeHook(Arc::new(move |notice| {
            if let Some(inner) = hook_inner.get().and_then(std::sync::Weak::upgrade) {
                super::register::on_driver_notice(&inner, notice);
            }
        })));
        config.timers = self.timers;
        config.transport = self.transport;
        let sa = super::auth::SaSlot::default();
        let filter_sa = sa.clone();
        config.response_filter = Some(crate::ua::driver::ResponseFilter(Arc::new(
            move |response| super::exchange::accepted(&filter_sa, response),
        )));
        let (driver, incoming_requests) = match &self.shared {
            Some(shared) => shared.join(
                &self.aor,
                config.response_filter.take(),
                config.notices.take(),
            )?,
            None => Driver::start(config).await?,
        };
        // A shared driver's timers are the ones its transactions run on.
        let timers = if driver.is_shared() {
            driver.timers()
        } else {
            self.timers
        };

        let localizer = self.localizer.unwrap_or_else(default_localizer);
        let chain = localizer.negotiate(&self.locales);
        let login = self.credentials.clone();
        let credentials = self.credentials.map(|(user, password)| {
            let mut credentials = DigestCredentials::new();
            credentials.set_default(DigestUser::new(user, password));
            credentials
        });
        let (events_tx, events) = super::events::event_queue(self.event_capacity);
        let (reporter_tx, reporter_rx) = mpsc::unbounded_channel();
        let inner = Arc::new(Inner {
            driver,
            aor: self.aor,
            display_name: self.display_name,
            credentials,
            login,
            auth_mode: self.auth_mode,
            sa,
            epid: format!("{:010x}", crate::ua::ids::random_u64() & 0xFF_FFFF_FFFF),
            instance: super::auth::new_instance_id(),
            gruu: Mutex::new(None),
            presenter: Presenter {
                localizer,
                chain,
                set: self.string_set,
                client: self.client_name,
            },
            transport: self.target.kind,
            session_on: AtomicBool::new(false),
            wanted: AtomicBool::new(false),
            reconnecting: AtomicBool::new(false),
            reconnect_backoff: self.reconnect_backoff,
            user_agent: self.user_agent,
            register_expires: self.register_expires,
            ring_timeout: self.ring_timeout,
            timers,
            reporting: self.reporting,
            events: Mutex::new(Some(events_tx)),
            reporter: Mutex::new(self.reporting.then_some(reporter_tx)),
            registration: tokio::sync::Mutex::new(Registration::new()),
            calls: Mutex::new(Calls::default()),
        });
        let _ = notice_inner.set(Arc::downgrade(&inner));
        let hook = self.before_report.unwrap_or_else(|| {
            Box::new(|_: &mut crate::report::ErrorReport<'_>| HookVerdict::Send)
        });
        if self.reporting {
            reporter::spawn(
                Arc::downgrade(&inner),
                Store { outbox, hook },
                ReporterConfig {
                    policy: self.retry_policy,
                    limits: self.report_limits,
                },
                reporter_rx,
            );
        }
        incoming::spawn(Arc::downgrade(&inner), incoming_requests);
        Ok((UserAgent { inner }, events))
    }
}

/// The en-US localizer of every user agent built without one. Built once:
/// its bundles weigh tens of KiB, which a process of thousands of user
/// agents (a gateway, a load generator) would otherwise pay for each
/// (BENCHMARKS.md, "Scale"). Held weakly: it lives while a user agent uses
/// it, and is freed with the last one (a process-lifetime copy would show as
/// a leak to the C API's users under valgrind).
fn default_localizer() -> Arc<Localizer> {
    static DEFAULT: Mutex<Weak<Localizer>> = Mutex::new(Weak::new());
    let mut slot = super::lock(&DEFAULT);
    if let Some(localizer) = slot.upgrade() {
        return localizer;
    }
    let localizer = Arc::new(Localizer::new(Isolation::Off));
    *slot = Arc::downgrade(&localizer);
    localizer
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ua::transport::TransportKind;

    /// Thousands of user agents in one process must not each pay for the
    /// en-US bundles: the default localizer is one, shared.
    #[tokio::test]
    async fn user_agents_without_a_localizer_share_the_default_one() {
        let target = Target::new(TransportKind::Udp, ([127, 0, 0, 1], 9).into());
        let build = || async {
            UserAgent::builder("sip:alice@contoso.com", target.clone())
                .reporting(false)
                .build()
                .await
                .map(|(ua, _events)| ua)
        };
        let (Ok(a), Ok(b)) = (build().await, build().await) else {
            panic!("the user agents start");
        };
        assert!(Arc::ptr_eq(
            &a.inner.presenter.localizer,
            &b.inner.presenter.localizer
        ));
        let own = Arc::new(Localizer::new(Isolation::On));
        let c = UserAgent::builder("sip:carol@contoso.com", target.clone())
            .reporting(false)
            .localizer(own.clone())
            .build()
            .await;
        let Ok((c, _events)) = c else {
            panic!("the user agent starts");
        };
        assert!(Arc::ptr_eq(&c.inner.presenter.localizer, &own));
        for ua in [a, b, c] {
            ua.shutdown().await;
        }
    }
}
