//! What the `sipp_agent_*` tests share: a SIPp server over UDP, TCP or TLS
//! (stunnel in front of SIPp), a `UserAgent` pointed at it, its events read
//! with time limits, and the checks made on SIPp's side once it has exited.
//!
//! The `agent_*.xml` scenarios route each new Call-ID by method and end a
//! call with each transaction, so SIPp runs with `-deadcall_wait 0` (a later
//! transaction on the same Call-ID, such as the unregister, starts a new
//! call) and a generous `-m`; it exits when the unregister of
//! `UserAgent::shutdown` has been answered (`stop_gracefully`).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use ocer::ua::transport::{Target, TransportKind};
use ocer::ua::{UaEvent, UserAgent, UserAgentBuilder};
use ocer_interop::message_log::Direction;
use ocer_interop::sipp::{Scenario, SippConfig, SippLogs, SippPeer};
use ocer_interop::stunnel::{Stunnel, StunnelConfig, TestCa};
use ocer_interop::Transport;

// What `Server::agent` hands out, for the tests' glob import.
pub use crate::events::Events;
use crate::timers::{sipp_agent_timers, test_retry_policy};
use crate::tls::trusting;

/// The longest one step may take: a request and its answer, SIPp's exit.
pub const STEP: Duration = crate::LIMIT;

/// How long the tests watch for a SERVICE that must not come: a wrong retry
/// would come within [`test_retry_policy`]'s backoff (60 to 200 ms).
pub const QUIET: Duration = Duration::from_millis(400);

/// The user the tests register.
pub const AOR: &str = "sip:alice@contoso.com";

/// The callee of the tests' calls and messages.
pub const BOB: &str = "sip:bob@contoso.com";

/// How the user agent reaches SIPp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    /// UDP straight to SIPp.
    Udp,
    /// TCP straight to SIPp.
    Tcp,
    /// TLS to stunnel, which speaks TCP to SIPp.
    Tls,
}

/// SIPp playing a scenario, stunnel in front of it for TLS, and how the
/// user agent reaches them. Dropping it kills both.
pub struct Server {
    /// Declared before `sipp`: stunnel goes first.
    stunnel: Option<Stunnel>,
    sipp: SippPeer,
    target: Target,
    tls: Option<Arc<rustls::ClientConfig>>,
}

impl Server {
    /// Starts SIPp playing `xml` (labelled `name`), reached over `wire`.
    pub fn start(name: &str, xml: &str, wire: Wire) -> Self {
        let transport = match wire {
            Wire::Udp => Transport::Udp,
            Wire::Tcp | Wire::Tls => Transport::Tcp,
        };
        // Every REGISTER, INVITE, MESSAGE and SERVICE is a call of its own:
        // a test makes a handful; -m only bounds a runaway client.
        let mut config = SippConfig::new(transport, 40);
        config.run_limit = Duration::from_secs(30);
        config.extra_args = vec!["-deadcall_wait".to_owned(), "0".to_owned()];
        let sipp =
            SippPeer::start(&Scenario::new(name, xml), &config).unwrap_or_else(|e| panic!("{e}"));
        match wire {
            Wire::Udp => Self {
                target: Target::new(TransportKind::Udp, sipp.addr()),
                stunnel: None,
                sipp,
                tls: None,
            },
            Wire::Tcp => Self {
                target: Target::new(TransportKind::Tcp, sipp.addr()),
                stunnel: None,
                sipp,
                tls: None,
            },
            Wire::Tls => {
                let ca = TestCa::generate().unwrap_or_else(|e| panic!("{e}"));
                let stunnel = Stunnel::start(
                    sipp.addr(),
                    &ca,
                    &StunnelConfig {
                        run_limit: Duration::from_secs(30),
                        ..StunnelConfig::default()
                    },
                )
                .unwrap_or_else(|e| panic!("{e}"));
                let target =
                    Target::new(TransportKind::Tls, stunnel.addr()).with_server_name("localhost");
                Self {
                    target,
                    stunnel: Some(stunnel),
                    sipp,
                    tls: Some(trusting(&ca)),
                }
            }
        }
    }

    /// Where the user agent sends (SIPp, or stunnel in front of it).
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// A user agent for [`AOR`] aimed at this server, with the tests'
    /// timers and retry policy, configured further by `configure`.
    pub async fn agent(
        &self,
        configure: impl FnOnce(UserAgentBuilder) -> UserAgentBuilder,
    ) -> (UserAgent, Events) {
        let mut builder = UserAgent::builder(AOR, self.target.clone())
            .display_name("Alice")
            .timers(sipp_agent_timers())
            .retry_policy(test_retry_policy())
            .register_expires(Duration::from_secs(3600));
        if let Some(tls) = &self.tls {
            builder = builder.tls_config(tls.clone());
        }
        let (ua, events) = configure(builder)
            .build()
            .await
            .unwrap_or_else(|e| panic!("the user agent starts: {e}"));
        (ua, Events::new(events))
    }

    /// Shuts `ua` down (it unregisters, which stops SIPp), reads the rest of
    /// its events, waits for SIPp to exit and checks that every call played
    /// through, that nothing SIPp received carried a diagnostics header, and
    /// that SIPp dropped nothing for arriving after the unregister.
    pub async fn finish(self, ua: UserAgent, events: Events) -> (SippLogs, Vec<UaEvent>) {
        let (logs, seen, _) = self.finish_with_stunnel_log(ua, events).await;
        (logs, seen)
    }

    /// [`finish`](Self::finish), and stunnel's log (empty without TLS), read
    /// once SIPp has exited, so that it has the connection's closing line
    /// with the bytes stunnel passed each way.
    pub async fn finish_with_stunnel_log(
        self,
        ua: UserAgent,
        mut events: Events,
    ) -> (SippLogs, Vec<UaEvent>, String) {
        tokio::time::timeout(STEP, ua.shutdown())
            .await
            .unwrap_or_else(|_| panic!("shutdown within {STEP:?}; events: {:#?}", events.seen));
        events.drain().await;
        let Self { stunnel, sipp, .. } = self;
        let logs =
            tokio::task::spawn_blocking(move || sipp.wait(STEP).and_then(|run| run.into_success()))
                .await
                .expect("the waiting thread")
                .unwrap_or_else(|e| panic!("{e}\nuser agent events: {:#?}", events.seen));
        let stunnel_log = stunnel.as_ref().map(Stunnel::logs).unwrap_or_default();
        drop(stunnel);
        assert_no_diagnostics_from_the_agent(&logs);
        let log = logs.message_log();
        assert_eq!(
            log.discarded().count(),
            0,
            "SIPp received requests after the unregister\n{logs}"
        );
        (logs, events.seen, stunnel_log)
    }
}

/// An SDP offer for the tests' calls (the SDK carries it, SIPp ignores it).
pub fn sdp_offer() -> Bytes {
    Bytes::from_static(
        b"v=0\r\n\
          o=alice 2890844526 2890844526 IN IP4 127.0.0.1\r\n\
          s=-\r\n\
          c=IN IP4 127.0.0.1\r\n\
          t=0 0\r\n\
          m=audio 49170 RTP/AVP 0\r\n\
          a=rtpmap:0 PCMU/8000\r\n",
    )
}

/// Fails if any message SIPp received from the user agent (a request, or a
/// response such as its 200 to a BYE) carries `ms-diagnostics` or
/// `ms-diagnostics-public`: a client never sends them.
pub fn assert_no_diagnostics_from_the_agent(logs: &SippLogs) {
    let log = logs.message_log();
    let received: Vec<_> = log
        .entries()
        .iter()
        .filter(|e| e.direction == Direction::Received)
        .collect();
    assert!(!received.is_empty(), "SIPp received nothing\n{logs}");
    for entry in received {
        let carried: Vec<_> = entry
            .headers()
            .filter(|(name, _)| {
                name.eq_ignore_ascii_case("ms-diagnostics")
                    || name.eq_ignore_ascii_case("ms-diagnostics-public")
            })
            .collect();
        assert!(
            carried.is_empty(),
            "the user agent sent {carried:?} in\n{}",
            entry.message
        );
    }
}

/// How many requests with `method` SIPp received.
pub fn received(logs: &SippLogs, method: &str) -> usize {
    logs.message_log()
        .received_requests()
        .filter(|e| e.method() == Some(method))
        .count()
}
