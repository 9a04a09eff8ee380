//! Interop: pool discovery (`ocer::ua::discovery`, RFC 3263 with Lync's SRV
//! records) against dnsmasq (Debian package `dnsmasq-base`) serving a test
//! zone on loopback: SRV priority and order, TLS targets named by their SRV
//! host, the A-record fallback, and a domain with nothing; and a user agent
//! signing in through the discovered list when its first pool is down (RFC
//! 3263 §4.3), against SIPp.
//!
//! Needs `dnsmasq` and `sipp`: run `scripts/install-test-deps`.

#![allow(clippy::expect_used, clippy::panic)]

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use ocer_interop::dnsmasq::Dnsmasq;

use ocer::ua::discovery::{discover, resolver, DiscoveryError};
use ocer::ua::transport::{Target, TransportKind};

fn tls(addr: &str, host: &str) -> Target {
    Target::new(TransportKind::Tls, addr.parse().expect("addr")).with_server_name(host)
}

#[tokio::test]
async fn lync_srv_records_in_order_then_the_a_fallback() {
    let dns = Dnsmasq::start(&[
        // Two pools for _sipinternaltls: priority 10 before 20.
        "--srv-host=_sipinternaltls._tcp.contoso.test,pool2.contoso.test,5062,20,0",
        "--srv-host=_sipinternaltls._tcp.contoso.test,pool1.contoso.test,5061,10,50",
        "--srv-host=_sipinternal._tcp.contoso.test,pool3.contoso.test,5060,0,0",
        "--host-record=pool1.contoso.test,127.0.0.11",
        "--host-record=pool2.contoso.test,127.0.0.12",
        "--host-record=pool3.contoso.test,127.0.0.13",
        "--host-record=sip.contoso.test,127.0.0.14",
    ])
    .expect("dnsmasq starts (scripts/install-test-deps installs it)");
    let resolver = resolver(Some(dns.addr())).expect("a resolver");
    let targets =
        tokio::time::timeout(Duration::from_secs(30), discover(&resolver, "contoso.test"))
            .await
            .expect("discovery ends")
            .expect("targets");
    assert_eq!(
        targets,
        vec![
            tls("127.0.0.11:5061", "pool1.contoso.test"),
            tls("127.0.0.12:5062", "pool2.contoso.test"),
            Target::new(TransportKind::Tcp, "127.0.0.13:5060".parse().expect("addr"))
                .with_server_name("pool3.contoso.test"),
            tls("127.0.0.14:5061", "sip.contoso.test"),
        ]
    );
}

#[tokio::test]
async fn a_domain_without_records_says_what_was_asked() {
    let dns = Dnsmasq::start(&["--host-record=unrelated.contoso.test,127.0.0.20"])
        .expect("dnsmasq starts (scripts/install-test-deps installs it)");
    let resolver = resolver(Some(dns.addr())).expect("a resolver");
    let error = tokio::time::timeout(Duration::from_secs(30), discover(&resolver, "empty.test"))
        .await
        .expect("discovery ends")
        .expect_err("nothing found");
    let DiscoveryError::NotFound { failures, .. } = &error else {
        panic!("{error}");
    };
    assert_eq!(failures.len(), 5, "{failures:?}");
    assert!(
        failures[0].contains("_sipinternaltls._tcp.empty.test"),
        "{failures:?}"
    );
    assert!(failures[4].contains("sip.empty.test"), "{failures:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_discovered_list_fails_over_from_a_pool_that_is_down() {
    use ocer::ua::UaEvent;
    use ocer_test_support::sipp::agent::{received, Server, Wire};

    // Priority 10 is a port nothing listens on; priority 20 is SIPp.
    let down = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let server = Server::start(
        "agent_register_digest",
        include_str!("../sipp/agent_register_digest.xml"),
        Wire::Tcp,
    );
    let up = server.target().addr.port();
    let dns = Dnsmasq::start(&[
        &format!("--srv-host=_sipinternal._tcp.contoso.test,pool1.contoso.test,{down},10,0"),
        &format!("--srv-host=_sipinternal._tcp.contoso.test,pool2.contoso.test,{up},20,0"),
        "--host-record=pool1.contoso.test,127.0.0.1",
        "--host-record=pool2.contoso.test,127.0.0.1",
    ])
    .expect("dnsmasq starts (scripts/install-test-deps installs it)");
    let resolver = resolver(Some(dns.addr())).expect("a resolver");
    let targets =
        tokio::time::timeout(Duration::from_secs(30), discover(&resolver, "contoso.test"))
            .await
            .expect("discovery ends")
            .expect("targets");
    let pool = |port: u16, host: &str| {
        Target::new(
            TransportKind::Tcp,
            SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
        )
        .with_server_name(host)
    };
    assert_eq!(
        targets,
        vec![
            pool(down, "pool1.contoso.test"),
            pool(up, "pool2.contoso.test")
        ]
    );

    let (ua, mut events) = server
        .agent(|b| b.credentials("alice", "secret").targets(targets))
        .await;
    tokio::time::timeout(ocer_test_support::sipp::agent::STEP, ua.register())
        .await
        .expect("register resolves")
        .unwrap_or_else(|failure| panic!("register failed: {failure}; {:#?}", events.seen));
    let failed = events
        .wait_for("the failed pool", |event| match event {
            UaEvent::TargetFailed(failure) => Some(failure.clone()),
            _ => None,
        })
        .await;
    assert_eq!(failed.target, pool(down, "pool1.contoso.test"));
    let (logs, _) = server.finish(ua, events).await;
    assert!(received(&logs, "REGISTER") >= 3, "{logs}");
}

/// Dropping the harness stops dnsmasq itself, not only the `timeout`
/// supervising it: its port is free again (before, every test left a
/// dnsmasq running).
#[test]
fn dropping_the_harness_stops_dnsmasq() {
    let dns = Dnsmasq::start(&["--host-record=pool.contoso.com,127.0.0.1"])
        .unwrap_or_else(|e| panic!("{e}"));
    let addr = dns.addr();
    assert!(
        std::net::UdpSocket::bind(addr).is_err(),
        "dnsmasq holds {addr}"
    );
    drop(dns);
    assert!(
        std::net::UdpSocket::bind(addr).is_ok(),
        "dnsmasq still holds {addr} after the drop"
    );
}
