//! `ocer_ua`: the user agent — register, call, IM, join, share — with every
//! failure resolved to what the user sees and reported to the server.
//!
//! The SDK's user agent is async; C is not. Each `ocer_ua` owns a tokio
//! multi-thread runtime (two worker threads, "ocer-ua") that runs it, and the
//! entry points wait on it (`block_on`) for as long as their operation takes.
//! Events go from the agent's stream, through a task on that runtime, to one
//! plain thread ("ocer-ua-events") that calls the app's callback: plain, so
//! that the callback may call back into the API (a runtime thread could not
//! block on the runtime).

use std::cell::Cell;
use std::ffi::c_void;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::Duration;

use bytes::Bytes;
use ocer::display::LanguageIdentifier;
use ocer::display::Mode;
use ocer::report::client_errors::ClientError;
use ocer::sip::TimerConfig;
use ocer::ua::transport::{Target, TransportKind};
use ocer::ua::{AuthMode, ClientErrorReport, OutboxLocation, PendingCall, UaEvent, UserAgent};
use tokio::runtime::Runtime;

use crate::event::{ocer_event_callback, Delivery};
use crate::guard::{guard, guard_free};
use crate::localizer::{
    action_in, mode_in, ocer_action, ocer_mode, ocer_string_set, set_in, OCER_STRING_SET_LYNC2010,
};
use crate::ptr::{self, ocer_str, Object};
use crate::result::{ocer_result, Failure};

/// The transport to the server: `OCER_TRANSPORT_UDP`, `OCER_TRANSPORT_TCP` or `OCER_TRANSPORT_TLS`.
pub type ocer_transport = u32;
/// UDP: one socket; requests are retransmitted.
pub const OCER_TRANSPORT_UDP: ocer_transport = 0;
/// TCP: one connection, opened on the first request.
pub const OCER_TRANSPORT_TCP: ocer_transport = 1;
/// TLS over TCP (rustls), the server's certificate verified against
/// `tls_ca_file` (or the system's roots) for `tls_server_name`.
pub const OCER_TRANSPORT_TLS: ocer_transport = 2;

/// How the user agent answers a 401/407: `OCER_AUTH_AUTO`, `OCER_AUTH_NTLM`
/// or `OCER_AUTH_DIGEST`.
pub type ocer_auth_mode = u32;
/// Whatever the server offers, NTLM (MS-SIPAE) preferred over digest:
/// Lync Server 2010 and later refuse digest.
pub const OCER_AUTH_AUTO: ocer_auth_mode = 0;
/// MS-SIPAE NTLM only: the security association signs every request
/// and every response is checked; a challenge offering only digest fails.
pub const OCER_AUTH_NTLM: ocer_auth_mode = 1;
/// Digest (RFC 7616 / 8760) only.
pub const OCER_AUTH_DIGEST: ocer_auth_mode = 2;

/// A buffer of this many bytes always holds a Call-ID and its NUL.
pub const OCER_UA_CALL_ID_CAPACITY: usize = 64;

/// How long `ocer_ua_free` lets the runtime's threads finish.
const SHUTDOWN_LIMIT: Duration = Duration::from_secs(10);

/// What a user agent is made from. Fill it with `ocer_ua_config_default`,
/// set `aor` (and `server`, unless the pool is to be found by DNS), change
/// what you need. Its strings are borrowed for the `ocer_ua_new` call only.
///
/// Fields are only ever appended at the end: code written for an older
/// header keeps compiling and meaning the same (a program must still be
/// rebuilt, as the struct grows). Always start from
/// `ocer_ua_config_default`, never from a zeroed struct of your own (0 is
/// not every field's default).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ocer_ua_config {
    /// The user's address of record, e.g. "sip:alice@contoso.com". Required.
    pub aor: ocer_str,
    /// Where every request goes (the pool or proxy): "host:port", e.g.
    /// `"10.0.0.5:5060"` or `"[::1]:5060"`; a host name is resolved once, by
    /// `ocer_ua_new`.
    ///
    /// `{NULL, 0}` (or empty): the pool is discovered by DNS from the AOR's
    /// domain, by `ocer_ua_new`, as Lync clients do (RFC 3263 with Lync's
    /// records: SRV `_sipinternaltls._tcp`, `_sipinternal._tcp`, `_sip._tls`,
    /// then the hosts `sipinternal.` and `sip.` on 5061 over TLS), asking
    /// the system's DNS or `dns_server`. The targets found are tried in
    /// order (RFC 3263 §4.3: the next on a transport failure or a REGISTER's
    /// 503 without Retry-After), each with its own transport (`transport` is
    /// ignored), and over TLS the certificate is checked
    /// against the SRV target's host name (unless `tls_server_name` is set).
    /// Nothing found is `OCER_RESULT_UA_NOT_DISCOVERED`.
    pub server: ocer_str,
    /// UDP, TCP or TLS, with `server`.
    pub transport: ocer_transport,
    /// The user name for a 401/407: for NTLM `"DOMAIN\\user"` or a UPN
    /// (`"alice@contoso.com"`), for digest the digest user; `{NULL, 0}` for
    /// none (a 401/407 then fails).
    pub user: ocer_str,
    /// The password, used when `user` is set.
    pub password: ocer_str,
    /// Which client's strings the user sees. Default Lync 2010.
    pub string_set: ocer_string_set,
    /// Whether failures are reported to the server (SERVICE with a
    /// reportError document, MS-OCER §3.1.5). Default true.
    pub reporting: bool,
    /// SIP timer T1 in milliseconds (RFC 3261 §17: the first retransmission
    /// interval; 64·T1 is how long a request may stay unanswered). Default
    /// 500; at least 1 and at most 4000 (T2).
    pub t1_ms: u32,
    /// TLS: a PEM file of the CA certificates to trust instead of the
    /// system's roots; `{NULL, 0}` for the system's.
    pub tls_ca_file: ocer_str,
    /// TLS: the name the server's certificate must carry; `{NULL, 0}` for the
    /// host part of `server`.
    pub tls_server_name: ocer_str,
    /// The user's languages, best first, as BCP 47 tags separated by commas
    /// (`"fr-FR,de-DE"`); `{NULL, 0}` for en-US. A language ocer has no
    /// strings for falls back to en-US.
    pub locales: ocer_str,
    /// The client's name, for the `<client name>` in the strings the user
    /// sees; `{NULL, 0}` for "ocer".
    pub client_name: ocer_str,
    /// A directory for the durable outbox: reports wait there until the
    /// server takes them, across restarts (one file per report, per
    /// account); `{NULL, 0}` keeps them in memory, lost at `ocer_ua_free`.
    pub outbox_dir: ocer_str,
    /// Which authentication answers a 401/407 (see `ocer_auth_mode`).
    /// Default `OCER_AUTH_AUTO`.
    pub auth: ocer_auth_mode,
    /// Discovery only (`server` absent): the DNS server to ask, as an
    /// address and port (`"10.0.0.53:53"`, `"[::1]:53"`); `{NULL, 0}` for
    /// the system's (`/etc/resolv.conf`).
    pub dns_server: ocer_str,
}

/// Fills `*config_out` with the defaults: no AOR (set it), no server (the
/// pool is discovered by DNS unless you set one), UDP, no credentials, Lync
/// 2010 strings, reporting on, T1 500 ms, the system's TLS roots, en-US,
/// client name "ocer", reports kept in memory, NTLM preferred, the system's
/// DNS.
///
/// # Safety
///
/// `config_out` is valid for writing an `ocer_ua_config`.
#[no_mangle]
pub unsafe extern "C" fn ocer_ua_config_default(config_out: *mut ocer_ua_config) -> ocer_result {
    guard(|| {
        // SAFETY: the caller's contract for config_out.
        let out = unsafe { ptr::out(config_out, "config_out") }?;
        out.put(ocer_ua_config {
            aor: ocer_str::NONE,
            server: ocer_str::NONE,
            transport: OCER_TRANSPORT_UDP,
            user: ocer_str::NONE,
            password: ocer_str::NONE,
            string_set: OCER_STRING_SET_LYNC2010,
            reporting: true,
            t1_ms: 500,
            tls_ca_file: ocer_str::NONE,
            tls_server_name: ocer_str::NONE,
            locales: ocer_str::NONE,
            client_name: ocer_str::NONE,
            outbox_dir: ocer_str::NONE,
            auth: OCER_AUTH_AUTO,
            dns_server: ocer_str::NONE,
        });
        Ok(())
    })
}

/// A running user agent.
///
/// Made by `ocer_ua_new`; free it with `ocer_ua_free`, which shuts it down.
///
/// Thread-safety: every function but `ocer_ua_free` may be called from any
/// number of threads at once (each blocks its own thread), including from
/// the event callback; `ocer_ua_free` once, when no other call is running,
/// and never from the callback. The functions that block refuse to run on a
/// thread that runs a tokio runtime (`OCER_RESULT_UA_IN_RUNTIME`).
pub struct ocer_ua {
    _private: [u8; 0],
}

pub(crate) struct UaObject {
    runtime: Option<Runtime>,
    agent: UserAgent,
    events: Option<JoinHandle<()>>,
    /// Names this agent's event thread (see `EVENT_THREAD_OF`).
    serial: u64,
}

/// The next `UaObject::serial`; 0 is never given.
static NEXT_SERIAL: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// On an event thread, the serial of its agent; elsewhere 0. A plain
    /// `Cell` rather than `std::thread::current()`, which would allocate a
    /// handle on the app's thread that is never freed.
    static EVENT_THREAD_OF: Cell<u64> = const { Cell::new(0) };
}

impl Object for ocer_ua {
    type Rust = UaObject;
}

/// Blocking on a runtime from a thread that runs one would stall it (tokio
/// panics instead): refused before anything starts.
fn not_in_runtime() -> Result<(), Failure> {
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(Failure::new(
            ocer_result::OCER_RESULT_UA_IN_RUNTIME,
            "called on a thread that runs a tokio runtime",
        ));
    }
    Ok(())
}

impl UaObject {
    fn runtime(&self) -> Result<&Runtime, Failure> {
        not_in_runtime()?;
        self.runtime.as_ref().ok_or_else(|| {
            Failure::new(
                ocer_result::OCER_RESULT_UA_SHUT_DOWN,
                "the user agent has shut down",
            )
        })
    }

    /// Shuts the agent down (hang up, cancel, unregister, stop reporting),
    /// waits for the callback to have seen every event, then stops the
    /// runtime and its threads.
    fn close(mut self) {
        let Some(runtime) = self.runtime.take() else {
            return;
        };
        runtime.block_on(self.agent.shutdown());
        // The shutdown ended the agent's event stream, so the forwarding task
        // ends and the event thread runs out of events. From the callback
        // itself (forbidden, but not worth a deadlock) it is not joined.
        if let Some(events) = self.events.take() {
            if EVENT_THREAD_OF.with(Cell::get) != self.serial {
                let _ = events.join();
            }
        }
        drop(self.agent);
        runtime.shutdown_timeout(SHUTDOWN_LIMIT);
    }
}

/// Where the user agent's requests go: `server`, or a pool DNS will find.
enum Destination {
    /// `server`, resolved.
    Given(Target),
    /// No `server`: discovered from this domain by asking this name server
    /// (`None`: the system's), the certificate name overridden when set.
    Discover {
        domain: String,
        name_server: Option<SocketAddr>,
        server_name: Option<String>,
    },
}

impl Destination {
    /// The targets in the order to try them (RFC 3263 §4.3): discovery runs
    /// on `runtime` (DNS is asynchronous); a given `server` is a list of one.
    fn resolve(self, runtime: &Runtime) -> Result<Vec<Target>, Failure> {
        let (domain, name_server, server_name) = match self {
            Destination::Given(target) => return Ok(vec![target]),
            Destination::Discover {
                domain,
                name_server,
                server_name,
            } => (domain, name_server, server_name),
        };
        let targets = runtime.block_on(async {
            let resolver = ocer::ua::discovery::resolver(name_server)?;
            ocer::ua::discovery::discover(&resolver, &domain).await
        })?;
        // `discover` fails rather than return no target; an empty list is
        // the same verdict.
        if targets.is_empty() {
            return Err(Failure::new(
                ocer_result::OCER_RESULT_UA_NOT_DISCOVERED,
                format!("no SIP server found for {domain}"),
            ));
        }
        Ok(targets
            .into_iter()
            .map(|target| match &server_name {
                Some(name) if target.kind == TransportKind::Tls => {
                    target.with_server_name(name.clone())
                }
                _ => target,
            })
            .collect())
    }
}

/// The domain of an AOR (`sip:alice@contoso.com;transport=tls` →
/// `contoso.com`), where discovery starts.
fn domain_of(aor: &str) -> Option<&str> {
    let (_, host) = aor.rsplit_once('@')?;
    let host = host.split([';', '?', '>']).next().unwrap_or(host);
    // A port after the host (an IPv6 literal has no domain to discover).
    let host = host.split(':').next().unwrap_or(host);
    (!host.is_empty()).then_some(host)
}

fn destination_of(config: &ocer_ua_config, aor: &str) -> Result<Destination, Failure> {
    // SAFETY: ocer_ua_new's contract: the config's strings are (ptr, len) pairs.
    let server = unsafe { ptr::ocer_str_in(config.server, "config.server") }?;
    // SAFETY: as above.
    let dns = unsafe { ptr::ocer_str_in(config.dns_server, "config.dns_server") }?;
    if !server.is_empty() {
        return target_of(config, server).map(Destination::Given);
    }
    let domain = domain_of(aor).ok_or_else(|| {
        Failure::new(
            ocer_result::OCER_RESULT_UA_INVALID_AOR,
            format!("{aor:?}: no domain to discover the server from"),
        )
    })?;
    let name_server = if dns.is_empty() {
        None
    } else {
        Some(dns.parse::<SocketAddr>().map_err(|e| {
            Failure::invalid(format!(
                "config.dns_server {dns:?}: {e} (an address and port)"
            ))
        })?)
    };
    // SAFETY: as above.
    let name = unsafe { ptr::ocer_str_in(config.tls_server_name, "config.tls_server_name") }?;
    Ok(Destination::Discover {
        domain: domain.to_owned(),
        name_server,
        server_name: (!name.is_empty()).then(|| name.to_owned()),
    })
}

fn target_of(config: &ocer_ua_config, server: &str) -> Result<Target, Failure> {
    let kind = match config.transport {
        OCER_TRANSPORT_UDP => TransportKind::Udp,
        OCER_TRANSPORT_TCP => TransportKind::Tcp,
        OCER_TRANSPORT_TLS => TransportKind::Tls,
        other => return Err(Failure::invalid(format!("unknown ocer_transport {other}"))),
    };
    let addr: SocketAddr = server
        .to_socket_addrs()
        .map_err(|e| Failure::invalid(format!("config.server {server:?}: {e}")))?
        .next()
        .ok_or_else(|| Failure::invalid(format!("config.server {server:?}: no address")))?;
    let target = Target::new(kind, addr);
    if kind != TransportKind::Tls {
        return Ok(target);
    }
    // SAFETY: as above.
    let name = unsafe { ptr::ocer_str_in(config.tls_server_name, "config.tls_server_name") }?;
    let name = if name.is_empty() {
        // "host:port" or "[v6]:port": the host part.
        let host = server.rsplit_once(':').map_or(server, |(host, _)| host);
        host.trim_start_matches('[').trim_end_matches(']')
    } else {
        name
    };
    Ok(target.with_server_name(name))
}

/// The TLS client configuration for `config`: its CA file's certificates,
/// or `None` for the SDK's default (the system's roots).
fn tls_of(config: &ocer_ua_config) -> Result<Option<Arc<rustls::ClientConfig>>, Failure> {
    use rustls::pki_types::pem::PemObject as _;
    use rustls::pki_types::CertificateDer;
    // SAFETY: ocer_ua_new's contract: the config's strings are (ptr, len) pairs.
    let path = unsafe { ptr::ocer_str_in(config.tls_ca_file, "config.tls_ca_file") }?;
    if path.is_empty() {
        return Ok(None);
    }
    let bad =
        |e: &dyn std::fmt::Display| Failure::invalid(format!("config.tls_ca_file {path:?}: {e}"));
    let mut roots = rustls::RootCertStore::empty();
    for certificate in CertificateDer::pem_file_iter(path).map_err(|e| bad(&e))? {
        roots
            .add(certificate.map_err(|e| bad(&e))?)
            .map_err(|e| bad(&e))?;
    }
    if roots.is_empty() {
        return Err(bad(&"no certificate in the file"));
    }
    let tls = ocer::ua::transport::tls::client_config_with_roots(roots).map_err(|e| bad(&e))?;
    Ok(Some(Arc::new(tls)))
}

/// The languages of `config.locales`, best first.
fn locales_of(config: &ocer_ua_config) -> Result<Vec<LanguageIdentifier>, Failure> {
    // SAFETY: ocer_ua_new's contract: the config's strings are (ptr, len) pairs.
    let tags = unsafe { ptr::ocer_str_in(config.locales, "config.locales") }?;
    tags.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|tag| {
            tag.parse::<LanguageIdentifier>()
                .map_err(|e| Failure::invalid(format!("config.locales: {tag:?}: {e}")))
        })
        .collect()
}

fn auth_in(mode: ocer_auth_mode) -> Result<AuthMode, Failure> {
    match mode {
        OCER_AUTH_AUTO => Ok(AuthMode::Auto),
        OCER_AUTH_NTLM => Ok(AuthMode::Ntlm),
        OCER_AUTH_DIGEST => Ok(AuthMode::Digest),
        other => Err(Failure::invalid(format!("unknown ocer_auth_mode {other}"))),
    }
}

fn timers_of(config: &ocer_ua_config) -> Result<TimerConfig, Failure> {
    let t1 = Duration::from_millis(u64::from(config.t1_ms));
    let timers = TimerConfig {
        t1,
        ..TimerConfig::default()
    };
    if config.t1_ms == 0 || timers.validate().is_err() {
        return Err(Failure::invalid(format!(
            "config.t1_ms {} is not between 1 and {}",
            config.t1_ms,
            TimerConfig::DEFAULT_T2.as_millis()
        )));
    }
    Ok(timers)
}

/// Starts a user agent: its runtime, its socket (UDP binds now; TCP connects
/// on the first request), its reporter and its event thread. Nothing is sent
/// until `ocer_ua_register` or another request.
///
/// `callback` receives every event with `userdata` (see
/// `ocer_event_callback`); NULL drops them.
///
/// Without `config.server` the pool is first discovered by DNS (see
/// `ocer_ua_config.server`): this call then waits for the DNS answers.
///
/// Errors: `OCER_RESULT_UA_INVALID_AOR`, `OCER_RESULT_INVALID_ARGUMENT` (a
/// constant, the server or DNS server address, T1),
/// `OCER_RESULT_UA_NOT_DISCOVERED`, `OCER_RESULT_UA_NO_RESOLVER`,
/// `OCER_RESULT_UA_START_FAILED`.
///
/// # Safety
///
/// `config` is valid for reading, with valid `(ptr, len)` strings; `userdata`
/// may be used by `callback` on the event thread until `ocer_ua_free`
/// returns; `ua_out` is valid for writing.
#[no_mangle]
pub unsafe extern "C" fn ocer_ua_new(
    config: *const ocer_ua_config,
    callback: ocer_event_callback,
    userdata: *mut c_void,
    ua_out: *mut *mut ocer_ua,
) -> ocer_result {
    guard(|| {
        // SAFETY: the caller's contract for ua_out.
        let out = unsafe { ptr::out(ua_out, "ua_out") }?;
        // SAFETY: the caller's contract for config.
        let config = unsafe { ptr::opt_in(config) }.ok_or_else(|| Failure::null("config"))?;
        // SAFETY: the caller's contract for the config's strings.
        let aor = unsafe { ptr::ocer_str_in(config.aor, "config.aor") }?;
        // SAFETY: as above.
        let user = unsafe { ptr::ocer_str_in(config.user, "config.user") }?;
        // SAFETY: as above.
        let password = unsafe { ptr::ocer_str_in(config.password, "config.password") }?;
        let destination = destination_of(config, aor)?;
        let auth = auth_in(config.auth)?;
        let timers = timers_of(config)?;
        let set = set_in(config.string_set)?;
        let tls = tls_of(config)?;
        let locales = locales_of(config)?;
        // SAFETY: as above.
        let client_name = unsafe { ptr::ocer_str_in(config.client_name, "config.client_name") }?;
        // SAFETY: as above.
        let outbox_dir = unsafe { ptr::ocer_str_in(config.outbox_dir, "config.outbox_dir") }?;
        not_in_runtime()?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("ocer-ua")
            .enable_all()
            .build()
            .map_err(|e| {
                Failure::new(
                    ocer_result::OCER_RESULT_UA_START_FAILED,
                    format!("cannot start the runtime: {e}"),
                )
            })?;
        let targets = destination.resolve(&runtime)?;
        let Some(target) = targets.first().cloned() else {
            return Err(Failure::new(
                ocer_result::OCER_RESULT_UA_NOT_DISCOVERED,
                "no SIP server to use",
            ));
        };

        // Without `.localizer`: the SDK's en-US default, shared by the agents
        // alive together and freed with the last (valgrind sees nothing left).
        let mut builder = UserAgent::builder(aor, target)
            .targets(targets)
            .auth_mode(auth)
            .string_set(set)
            .reporting(config.reporting)
            .timers(timers)
            .locales(locales);
        if !user.is_empty() {
            builder = builder.credentials(user, password);
        }
        if let Some(tls) = tls {
            builder = builder.tls_config(tls);
        }
        if !client_name.is_empty() {
            builder = builder.client_name(client_name);
        }
        if !outbox_dir.is_empty() {
            builder = builder.outbox(OutboxLocation::Disk(outbox_dir.into()));
        }
        let (agent, mut events) = runtime.block_on(builder.build())?;

        let (tx, rx) = mpsc::channel::<UaEvent>();
        runtime.spawn(async move {
            while let Some(event) = events.recv().await {
                if tx.send(event).is_err() {
                    break;
                }
            }
        });
        let delivery = Delivery::new(callback, userdata);
        let serial = NEXT_SERIAL.fetch_add(1, Ordering::Relaxed);
        let thread = std::thread::Builder::new()
            .name("ocer-ua-events".to_owned())
            .spawn(move || {
                EVENT_THREAD_OF.with(|of| of.set(serial));
                for event in rx {
                    delivery.deliver(&event);
                }
            });
        let thread = match thread {
            Ok(thread) => thread,
            Err(e) => {
                runtime.block_on(agent.shutdown());
                return Err(Failure::new(
                    ocer_result::OCER_RESULT_UA_START_FAILED,
                    format!("cannot start the event thread: {e}"),
                ));
            }
        };
        out.put(ptr::into_raw(UaObject {
            serial,
            events: Some(thread),
            runtime: Some(runtime),
            agent,
        }));
        Ok(())
    })
}

/// Runs `body` with the user agent behind `ua`.
///
/// # Safety
///
/// `ua` is NULL or a live `ocer_ua`.
unsafe fn with_ua(
    ua: *const ocer_ua,
    body: impl FnOnce(&UaObject, &Runtime) -> Result<(), Failure>,
) -> ocer_result {
    guard(|| {
        // SAFETY: the caller's contract for ua.
        let ua = unsafe { ptr::borrow(ua, "ua") }?;
        body(ua, ua.runtime()?)
    })
}

/// Registers (REGISTER; a 401/407 is answered once with the credentials) and
/// waits for the outcome. On success the registration is refreshed in the
/// background and queued reports may be sent. The events
/// `OCER_EVENT_REGISTERING` then `OCER_EVENT_REGISTERED` or
/// `OCER_EVENT_REGISTRATION_FAILED` (with what the user sees) tell the same.
///
/// Errors: `OCER_RESULT_UA_REJECTED`, `_TIMEOUT`, `_TRANSPORT`, `_REFUSED`,
/// `_SHUT_DOWN`.
///
/// # Safety
///
/// `ua` is NULL or a live `ocer_ua`.
#[no_mangle]
pub unsafe extern "C" fn ocer_ua_register(ua: *const ocer_ua) -> ocer_result {
    // SAFETY: the caller's contract for ua.
    unsafe { with_ua(ua, |ua, rt| Ok(rt.block_on(ua.agent.register())?)) }
}

/// Unregisters (REGISTER with `Expires: 0`) and ends the login session;
/// does nothing when not registered.
///
/// # Safety
///
/// `ua` is NULL or a live `ocer_ua`.
#[no_mangle]
pub unsafe extern "C" fn ocer_ua_unregister(ua: *const ocer_ua) -> ocer_result {
    // SAFETY: the caller's contract for ua.
    unsafe { with_ua(ua, |ua, rt| Ok(rt.block_on(ua.agent.unregister())?)) }
}

/// Sends the INVITE and writes the call's Call-ID, NUL-terminated; the rest
/// is events named by that Call-ID.
///
/// # Safety
///
/// As for `ocer_ua_call`.
#[allow(clippy::too_many_arguments)]
unsafe fn start(
    ua: *const ocer_ua,
    target_ptr: *const u8,
    target_len: usize,
    sdp_ptr: *const u8,
    sdp_len: usize,
    mode: Result<Mode, Failure>,
    action: ocer_action,
    call_id_out: *mut u8,
    capacity: usize,
    call_id_len_out: *mut usize,
) -> ocer_result {
    guard(|| {
        // SAFETY: the caller's contract for call_id_len_out.
        let len_out = unsafe { ptr::out(call_id_len_out, "call_id_len_out") }?;
        // SAFETY: the caller's contract for call_id_out and capacity.
        let buf = unsafe { ptr::array_out(call_id_out, capacity, "call_id_out") }?;
        if buf.len() < OCER_UA_CALL_ID_CAPACITY {
            return Err(Failure::new(
                ocer_result::OCER_RESULT_INSUFFICIENT_SIZE,
                format!(
                    "call_id_out has room for {} bytes: pass OCER_UA_CALL_ID_CAPACITY ({OCER_UA_CALL_ID_CAPACITY})",
                    buf.len()
                ),
            ));
        }
        // SAFETY: the caller's contract for the target.
        let target = unsafe { ptr::str_in(target_ptr, target_len, "target") }?;
        // SAFETY: the caller's contract for the SDP.
        let sdp = unsafe { ptr::bytes_in(sdp_ptr, sdp_len, "sdp") }?;
        let sdp = (!sdp.is_empty()).then(|| Bytes::copy_from_slice(sdp));
        let (mode, action) = (mode?, action_in(action)?);
        // SAFETY: the caller's contract for ua.
        let ua = unsafe { ptr::borrow(ua, "ua") }?;
        let rt = ua.runtime()?;
        let pending: PendingCall = rt.block_on(ua.agent.start_call(target, sdp, mode, action))?;
        let call_id = pending.call_id().to_owned();
        // The call runs on in its own task; its outcome comes as events, and
        // the agent keeps it for ocer_ua_hangup.
        drop(pending);
        if let Err(too_small) = ptr::bytes_out_len(buf, len_out, call_id.as_bytes()) {
            ua.agent.cancel(&call_id);
            return Err(too_small);
        }
        Ok(())
    })
}

/// Calls `target` (a SIP URI, e.g. "sip:bob@contoso.com") in `mode`, doing
/// `action`, with the SDP offer `(sdp_ptr, sdp_len)` (length 0: none).
///
/// Returns once the INVITE is sent, with its Call-ID in `call_id_out`
/// (NUL-terminated, length in `*call_id_len_out`), which must have room for
/// `OCER_UA_CALL_ID_CAPACITY` bytes (else `OCER_RESULT_INSUFFICIENT_SIZE`
/// and nothing is sent). What follows comes as events with that Call-ID:
/// `OCER_EVENT_PROGRESS`, then `OCER_EVENT_ESTABLISHED` or
/// `OCER_EVENT_FAILED` with what the user sees.
///
/// Errors: `OCER_RESULT_UA_INVALID_TARGET`, `_REFUSED`, `_TRANSPORT` (the
/// connection could not be opened), `_SHUT_DOWN`, `OCER_RESULT_INVALID_ARGUMENT`.
///
/// # Safety
///
/// `ua` is NULL or a live `ocer_ua`; the strings are valid `(ptr, len)`
/// pairs; `call_id_out` is NULL or valid for writing `capacity` bytes;
/// `call_id_len_out` is valid for writing.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn ocer_ua_call(
    ua: *const ocer_ua,
    target_ptr: *const u8,
    target_len: usize,
    sdp_ptr: *const u8,
    sdp_len: usize,
    mode: ocer_mode,
    action: ocer_action,
    call_id_out: *mut u8,
    capacity: usize,
    call_id_len_out: *mut usize,
) -> ocer_result {
    // SAFETY: the caller's contract is start's.
    unsafe {
        start(
            ua,
            target_ptr,
            target_len,
            sdp_ptr,
            sdp_len,
            mode_in(mode),
            action,
            call_id_out,
            capacity,
            call_id_len_out,
        )
    }
}

/// Joins a conference: `ocer_ua_call` to its focus URI (e.g.
/// "sip:bob@contoso.com;gruu;opaque=app:conf:focus:id:X") in Conference
/// mode.
///
/// # Safety
///
/// As for `ocer_ua_call`.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn ocer_ua_join(
    ua: *const ocer_ua,
    conference_ptr: *const u8,
    conference_len: usize,
    sdp_ptr: *const u8,
    sdp_len: usize,
    action: ocer_action,
    call_id_out: *mut u8,
    capacity: usize,
    call_id_len_out: *mut usize,
) -> ocer_result {
    // SAFETY: the caller's contract is start's.
    unsafe {
        start(
            ua,
            conference_ptr,
            conference_len,
            sdp_ptr,
            sdp_len,
            Ok(Mode::Conference),
            action,
            call_id_out,
            capacity,
            call_id_len_out,
        )
    }
}

/// Starts sharing with `target`: `ocer_ua_call` with the sharing SDP in
/// Sharing mode.
///
/// # Safety
///
/// As for `ocer_ua_call`.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn ocer_ua_share(
    ua: *const ocer_ua,
    target_ptr: *const u8,
    target_len: usize,
    sdp_ptr: *const u8,
    sdp_len: usize,
    action: ocer_action,
    call_id_out: *mut u8,
    capacity: usize,
    call_id_len_out: *mut usize,
) -> ocer_result {
    // SAFETY: the caller's contract is start's.
    unsafe {
        start(
            ua,
            target_ptr,
            target_len,
            sdp_ptr,
            sdp_len,
            Ok(Mode::Sharing),
            action,
            call_id_out,
            capacity,
            call_id_len_out,
        )
    }
}

/// Ends the call `call_id`: an established call is hung up (BYE, waiting
/// for its answer), one still ringing is cancelled (CANCEL). Either way
/// `OCER_EVENT_ENDED` follows.
///
/// Errors: `OCER_RESULT_NOT_FOUND` (no such call, or it has ended), and
/// those of the BYE (`OCER_RESULT_UA_REJECTED`, …).
///
/// # Safety
///
/// `ua` is NULL or a live `ocer_ua`; the Call-ID is a valid `(ptr, len)`
/// pair.
#[no_mangle]
pub unsafe extern "C" fn ocer_ua_hangup(
    ua: *const ocer_ua,
    call_id_ptr: *const u8,
    call_id_len: usize,
) -> ocer_result {
    let body = |ua: &UaObject, rt: &Runtime| {
        // SAFETY: the caller's contract for the Call-ID.
        let call_id = unsafe { ptr::str_in(call_id_ptr, call_id_len, "call_id") }?;
        if let Some(call) = ua.agent.established_call(call_id) {
            return Ok(rt.block_on(call.hangup())?);
        }
        if ua.agent.cancel(call_id) {
            return Ok(());
        }
        Err(Failure::new(
            ocer_result::OCER_RESULT_NOT_FOUND,
            format!("no call {call_id:?}"),
        ))
    };
    // SAFETY: the caller's contract for ua.
    unsafe { with_ua(ua, body) }
}

/// Sends an instant message (MESSAGE, `text/plain; charset=UTF-8`) to
/// `target` in IM mode and waits for the outcome; a failure also comes as
/// `OCER_EVENT_FAILED` with what the user sees.
///
/// # Safety
///
/// `ua` is NULL or a live `ocer_ua`; the strings are valid `(ptr, len)`
/// pairs.
#[no_mangle]
pub unsafe extern "C" fn ocer_ua_send_im(
    ua: *const ocer_ua,
    target_ptr: *const u8,
    target_len: usize,
    text_ptr: *const u8,
    text_len: usize,
) -> ocer_result {
    let body = |ua: &UaObject, rt: &Runtime| {
        // SAFETY: the caller's contract for the strings.
        let target = unsafe { ptr::str_in(target_ptr, target_len, "target") }?;
        // SAFETY: as above.
        let text = unsafe { ptr::str_in(text_ptr, text_len, "text") }?;
        Ok(rt.block_on(ua.agent.send_message(target, text))?)
    };
    // SAFETY: the caller's contract for ua.
    unsafe { with_ua(ua, body) }
}

/// Reports an error the app detected itself (MS-OCER §7.26): `error_id` is
/// one of the client ErrorIds (51000–52999, `ocer_catalog_*` lists them),
/// `call_id` the Call-ID of the SIP request it concerns (`{NULL, 0}`: a
/// Call-ID of its own), `request_type` the method of the request that failed
/// (a SIP method, or the HTTP method of the app's call to Exchange, e.g.
/// "POST"; required, 1–33 token characters), `response_code` the status it
/// received (SIP or HTTP; 0: none).
/// The report goes to the outbox like any other (`OCER_EVENT_REPORT_QUEUED`
/// names it) and is sent once registered.
///
/// Errors: `OCER_RESULT_UA_NOT_A_CLIENT_ERROR`, `OCER_RESULT_UA_REPORTING_OFF`,
/// `OCER_RESULT_INVALID_ARGUMENT` (`request_type` empty or not a method).
///
/// # Safety
///
/// `ua` is NULL or a live `ocer_ua`; the strings are valid `(ptr, len)`
/// pairs.
#[no_mangle]
pub unsafe extern "C" fn ocer_ua_report_client_error(
    ua: *const ocer_ua,
    error_id: u32,
    call_id: ocer_str,
    request_type: ocer_str,
    response_code: u32,
) -> ocer_result {
    let body = |ua: &UaObject, rt: &Runtime| {
        // SAFETY: the caller's contract for the strings.
        let call_id = unsafe { ptr::ocer_str_in(call_id, "call_id") }?;
        // SAFETY: as above.
        let request_type = unsafe { ptr::ocer_str_in(request_type, "request_type") }?;
        let error = ClientError::ALL
            .iter()
            .find(|e| e.id.0 == error_id)
            .copied()
            .ok_or_else(|| {
                Failure::new(
                    ocer_result::OCER_RESULT_UA_NOT_A_CLIENT_ERROR,
                    format!("{error_id} is not a client error (51000-52999) ocer knows"),
                )
            })?;
        let mut report = ClientErrorReport::new(error, request_type, response_code);
        if !call_id.is_empty() {
            report.call_id = Some(call_id.to_owned());
        }
        Ok(rt.block_on(ua.agent.report_client_error(report))?)
    };
    // SAFETY: the caller's contract for ua.
    unsafe { with_ua(ua, body) }
}

/// Shuts the user agent down and frees it: hangs up established calls,
/// cancels ringing ones, unregisters, stops the reporter (reports not sent
/// wait in `outbox_dir` for the next run, or are lost when the outbox is in
/// memory), delivers the last events, then
/// joins the event thread and the runtime's threads. When it returns the
/// callback is no longer called. NULL is a no-op.
///
/// # Safety
///
/// `ua` is NULL or a live `ocer_ua`, not used after this call, with no other
/// call on it running; not called from the event callback.
#[no_mangle]
pub unsafe extern "C" fn ocer_ua_free(ua: *mut ocer_ua) {
    guard_free(|| {
        // SAFETY: the caller's contract for ua.
        if let Some(ua) = unsafe { ptr::take(ua) } {
            // On a runtime's thread, blocking (and dropping a runtime) is not
            // allowed: the shutdown runs on a thread of its own.
            if not_in_runtime().is_ok() {
                ua.close();
            } else {
                std::thread::scope(|s| {
                    s.spawn(|| ua.close());
                });
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    fn config(server: &'static str) -> ocer_ua_config {
        let mut c = std::mem::MaybeUninit::uninit();
        // SAFETY: c is valid for writing.
        let r = unsafe { ocer_ua_config_default(c.as_mut_ptr()) };
        assert_eq!(r, ocer_result::OCER_RESULT_OK);
        // SAFETY: written by the call above.
        let mut c = unsafe { c.assume_init() };
        c.aor = ocer_str::of("sip:alice@contoso.com");
        c.server = ocer_str::of(server);
        c.t1_ms = 20;
        c
    }

    unsafe extern "C" fn count(userdata: *mut c_void, event: *const crate::event::ocer_event) {
        // SAFETY: the test passes an Arc<Mutex<Vec<u32>>> it keeps alive.
        let seen = unsafe { &*userdata.cast::<Mutex<Vec<u32>>>() };
        // SAFETY: valid during the call.
        seen.lock().unwrap().push(unsafe { (*event).kind });
    }

    #[test]
    fn a_bad_config_is_refused_before_anything_starts() {
        let mut ua: *mut ocer_ua = std::ptr::null_mut();
        let mut c = config("127.0.0.1:9");
        c.transport = 7;
        // SAFETY: valid pointers.
        let r = unsafe { ocer_ua_new(&c, None, std::ptr::null_mut(), &mut ua) };
        assert_eq!(r, ocer_result::OCER_RESULT_INVALID_ARGUMENT);
        let mut c = config("not an address");
        // SAFETY: valid pointers.
        let r = unsafe { ocer_ua_new(&c, None, std::ptr::null_mut(), &mut ua) };
        assert_eq!(r, ocer_result::OCER_RESULT_INVALID_ARGUMENT);
        c = config("127.0.0.1:9");
        c.t1_ms = 0;
        // SAFETY: valid pointers.
        let r = unsafe { ocer_ua_new(&c, None, std::ptr::null_mut(), &mut ua) };
        assert_eq!(r, ocer_result::OCER_RESULT_INVALID_ARGUMENT);
        c = config("127.0.0.1:9");
        c.aor = ocer_str::of("alice");
        // SAFETY: valid pointers.
        let r = unsafe { ocer_ua_new(&c, None, std::ptr::null_mut(), &mut ua) };
        assert_eq!(r, ocer_result::OCER_RESULT_UA_INVALID_AOR);
        assert!(ua.is_null());
    }

    #[test]
    fn the_auth_mode_and_the_dns_server_are_checked_before_anything_starts() {
        let mut ua: *mut ocer_ua = std::ptr::null_mut();
        let mut c = config("127.0.0.1:9");
        c.auth = 3;
        // SAFETY: valid pointers.
        let r = unsafe { ocer_ua_new(&c, None, std::ptr::null_mut(), &mut ua) };
        assert_eq!(r, ocer_result::OCER_RESULT_INVALID_ARGUMENT);
        // Without a server the DNS server must be an address: a name would
        // need a resolver to find the resolver.
        c = config("");
        c.dns_server = ocer_str::of("dns.contoso.com:53");
        // SAFETY: valid pointers.
        let r = unsafe { ocer_ua_new(&c, None, std::ptr::null_mut(), &mut ua) };
        assert_eq!(r, ocer_result::OCER_RESULT_INVALID_ARGUMENT);
        c = config("");
        c.aor = ocer_str::of("sip:alice@");
        // SAFETY: valid pointers.
        let r = unsafe { ocer_ua_new(&c, None, std::ptr::null_mut(), &mut ua) };
        assert_eq!(r, ocer_result::OCER_RESULT_UA_INVALID_AOR);
        assert!(ua.is_null());
        for (mode, expected) in [
            (OCER_AUTH_AUTO, AuthMode::Auto),
            (OCER_AUTH_NTLM, AuthMode::Ntlm),
            (OCER_AUTH_DIGEST, AuthMode::Digest),
        ] {
            assert_eq!(auth_in(mode).ok(), Some(expected));
        }
    }

    #[test]
    fn discovery_starts_from_the_aors_domain() {
        for (aor, domain) in [
            ("sip:alice@contoso.com", Some("contoso.com")),
            ("sip:alice@contoso.com;transport=tls", Some("contoso.com")),
            ("sip:alice@contoso.com:5061", Some("contoso.com")),
            ("<sip:alice@contoso.com>", Some("contoso.com")),
            ("sip:alice@", None),
            ("sip:contoso.com", None),
        ] {
            assert_eq!(domain_of(aor), domain, "{aor}");
        }
    }

    #[test]
    fn blocking_calls_are_refused_inside_a_runtime() {
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let server: &'static str =
            Box::leak(socket.local_addr().unwrap().to_string().into_boxed_str());
        let mut ua: *mut ocer_ua = std::ptr::null_mut();
        // SAFETY: valid pointers.
        let r = unsafe { ocer_ua_new(&config(server), None, std::ptr::null_mut(), &mut ua) };
        assert_eq!(r, ocer_result::OCER_RESULT_OK);
        let ua = ua as usize;
        let outer = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        outer.block_on(async move {
            let ua = ua as *mut ocer_ua;
            // SAFETY: a live agent.
            let r = unsafe { ocer_ua_register(ua) };
            assert_eq!(r, ocer_result::OCER_RESULT_UA_IN_RUNTIME);
            let mut again: *mut ocer_ua = std::ptr::null_mut();
            // SAFETY: valid pointers.
            let r = unsafe { ocer_ua_new(&config(server), None, std::ptr::null_mut(), &mut again) };
            assert_eq!(r, ocer_result::OCER_RESULT_UA_IN_RUNTIME);
            // SAFETY: a live agent, freed once: on a thread of its own.
            unsafe { ocer_ua_free(ua) };
        });
    }

    /// A REGISTER to a port nobody answers on, over UDP, times out after
    /// 64·T1; the events say so (and that the failure was queued for
    /// reporting), and free joins everything.
    #[test]
    fn an_unanswered_register_times_out_and_free_is_clean() {
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let server: &'static str =
            Box::leak(socket.local_addr().unwrap().to_string().into_boxed_str());
        let seen = Arc::new(Mutex::new(Vec::<u32>::new()));
        let mut ua: *mut ocer_ua = std::ptr::null_mut();
        // SAFETY: valid pointers; `seen` outlives the agent.
        let r = unsafe {
            ocer_ua_new(
                &config(server),
                Some(count),
                Arc::as_ptr(&seen).cast_mut().cast(),
                &mut ua,
            )
        };
        assert_eq!(r, ocer_result::OCER_RESULT_OK);
        // SAFETY: a live agent.
        let r = unsafe { ocer_ua_register(ua) };
        assert_eq!(r, ocer_result::OCER_RESULT_UA_TIMEOUT);
        let mut buf = [0u8; 8];
        let mut len = 0;
        // SAFETY: a live agent; the buffer is too small, so nothing is sent.
        let r = unsafe {
            ocer_ua_call(
                ua,
                b"sip:bob@contoso.com".as_ptr(),
                19,
                std::ptr::null(),
                0,
                crate::localizer::OCER_MODE_VOICE,
                crate::localizer::OCER_ACTION_CALL,
                buf.as_mut_ptr(),
                buf.len(),
                &mut len,
            )
        };
        assert_eq!(r, ocer_result::OCER_RESULT_INSUFFICIENT_SIZE);
        // SAFETY: a live agent, freed once.
        unsafe { ocer_ua_free(ua) };
        assert_eq!(
            seen.lock().unwrap().as_slice(),
            [
                crate::event::OCER_EVENT_REGISTERING,
                crate::event::OCER_EVENT_REGISTRATION_FAILED,
                crate::event::OCER_EVENT_REPORT_QUEUED,
            ]
        );
        // SAFETY: NULL is a no-op.
        unsafe { ocer_ua_free(std::ptr::null_mut()) };
        // SAFETY: NULL is reported.
        let r = unsafe { ocer_ua_register(std::ptr::null()) };
        assert_eq!(r, ocer_result::OCER_RESULT_NULL_PARAMETER);
    }
}
