//! Finding the pool from the user's SIP domain: RFC 3263 with the DNS
//! records Lync clients look up, in the order they look them up:
//!
//! 1. SRV `_sipinternaltls._tcp.<domain>` (TLS),
//! 2. SRV `_sipinternal._tcp.<domain>` (TCP),
//! 3. SRV `_sip._tls.<domain>` (TLS),
//! 4. A/AAAA `sipinternal.<domain>`, then `sip.<domain>`, TLS on 5061.
//!
//! Within an SRV answer, targets go by priority, then weight (RFC 2782:
//! weighted random among equal priorities). The result is an ordered list of
//! [`Target`]s, each TLS one naming the SRV target host, which its certificate
//! is checked against (RFC 3263 §4.1 / RFC 5922). Trying them in turn (RFC
//! 3263 §4.3) is the driver's: give the list to
//! `UserAgentBuilder::targets` (or `DriverConfig::alternates`).

use std::net::SocketAddr;

use hickory_resolver::config::{NameServerConfig, ResolverConfig, ResolverOpts};
use hickory_resolver::name_server::TokioConnectionProvider;
use hickory_resolver::proto::xfer::Protocol;
use hickory_resolver::TokioResolver;

use super::transport::{Target, TransportKind};

/// One DNS question of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Query {
    /// An SRV name and the transport its targets speak.
    Srv(String, TransportKind),
    /// A host name, its transport and port.
    Host(String, TransportKind, u16),
}

/// The questions for `domain`, in Lync's order.
pub fn plan(domain: &str) -> Vec<Query> {
    let d = domain.trim_end_matches('.');
    vec![
        Query::Srv(format!("_sipinternaltls._tcp.{d}."), TransportKind::Tls),
        Query::Srv(format!("_sipinternal._tcp.{d}."), TransportKind::Tcp),
        Query::Srv(format!("_sip._tls.{d}."), TransportKind::Tls),
        Query::Host(format!("sipinternal.{d}."), TransportKind::Tls, 5061),
        Query::Host(format!("sip.{d}."), TransportKind::Tls, 5061),
    ]
}

/// An SRV record's fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SrvRecord {
    /// Priority (lower first).
    pub priority: u16,
    /// Weight among equal priorities.
    pub weight: u16,
    /// Port.
    pub port: u16,
    /// Target host.
    pub target: String,
}

/// Orders SRV records (RFC 2782): by priority; within one, a weighted
/// random order drawn with `random` (a value in `0..=total weight` each time).
pub fn order_srv(
    mut records: Vec<SrvRecord>,
    mut random: impl FnMut(u32) -> u32,
) -> Vec<SrvRecord> {
    // "." as target: the service is decidedly not available here.
    records.retain(|r| r.target != "." && !r.target.is_empty());
    records.sort_by_key(|r| r.priority);
    let mut out = Vec::with_capacity(records.len());
    while !records.is_empty() {
        let priority = records[0].priority;
        let end = records
            .iter()
            .position(|r| r.priority != priority)
            .unwrap_or(records.len());
        let mut group: Vec<SrvRecord> = records.drain(..end).collect();
        // Zero weights first, as RFC 2782 asks, so they get a small chance.
        group.sort_by_key(|r| r.weight);
        while !group.is_empty() {
            let total: u32 = group.iter().map(|r| u32::from(r.weight)).sum();
            let pick = random(total);
            let mut running = 0;
            let index = group
                .iter()
                .position(|r| {
                    running += u32::from(r.weight);
                    running >= pick
                })
                .unwrap_or(0);
            out.push(group.remove(index));
        }
    }
    out
}

/// Why discovery found nothing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DiscoveryError {
    /// The system resolver configuration could not be read.
    #[error("DNS resolver: {0}")]
    Resolver(String),
    /// No record of the plan gave an address; every failure, in order.
    #[error("no SIP server found for {domain}: {}", failures.join("; "))]
    NotFound {
        /// The domain.
        domain: String,
        /// What each question got.
        failures: Vec<String>,
    },
}

/// A resolver: the system's, or one aimed at a given name server (tests, or
/// an app that knows its DNS).
pub fn resolver(name_server: Option<SocketAddr>) -> Result<TokioResolver, DiscoveryError> {
    match name_server {
        Some(addr) => {
            let mut config = ResolverConfig::new();
            config.add_name_server(NameServerConfig::new(addr, Protocol::Udp));
            let mut opts = ResolverOpts::default();
            opts.attempts = 1;
            opts.timeout = std::time::Duration::from_secs(2);
            Ok(
                TokioResolver::builder_with_config(config, TokioConnectionProvider::default())
                    .with_options(opts)
                    .build(),
            )
        }
        None => TokioResolver::builder_tokio()
            .map(|b| b.build())
            .map_err(|e| DiscoveryError::Resolver(e.to_string())),
    }
}

/// The targets for `domain`, in the order to try them.
pub async fn discover(
    resolver: &TokioResolver,
    domain: &str,
) -> Result<Vec<Target>, DiscoveryError> {
    let mut targets = Vec::new();
    let mut failures = Vec::new();
    for query in plan(domain) {
        match query {
            Query::Srv(name, kind) => match resolver.srv_lookup(name.as_str()).await {
                Ok(lookup) => {
                    let records = lookup
                        .iter()
                        .map(|srv| SrvRecord {
                            priority: srv.priority(),
                            weight: srv.weight(),
                            port: srv.port(),
                            target: srv.target().to_utf8(),
                        })
                        .collect();
                    for record in order_srv(records, |total| {
                        (super::ids::random_u64() % (u64::from(total) + 1)) as u32
                    }) {
                        hosts(
                            resolver,
                            &record.target,
                            kind,
                            record.port,
                            &mut targets,
                            &mut failures,
                        )
                        .await;
                    }
                }
                Err(error) => failures.push(format!("SRV {name}: {error}")),
            },
            Query::Host(name, kind, port) => {
                hosts(resolver, &name, kind, port, &mut targets, &mut failures).await;
            }
        }
    }
    if targets.is_empty() {
        return Err(DiscoveryError::NotFound {
            domain: domain.to_owned(),
            failures,
        });
    }
    tracing::info!(domain, ?targets, "discovered");
    Ok(targets)
}

async fn hosts(
    resolver: &TokioResolver,
    host: &str,
    kind: TransportKind,
    port: u16,
    targets: &mut Vec<Target>,
    failures: &mut Vec<String>,
) {
    match resolver.lookup_ip(host).await {
        Ok(ips) => {
            let server_name = host.trim_end_matches('.').to_owned();
            for ip in ips.iter() {
                let target = Target::new(kind, SocketAddr::new(ip, port))
                    .with_server_name(server_name.clone());
                if !targets.contains(&target) {
                    targets.push(target);
                }
            }
        }
        Err(error) => failures.push(format!("A/AAAA {host}: {error}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plan_is_lyncs_order() {
        let p = plan("contoso.com");
        assert_eq!(
            p[0],
            Query::Srv(
                "_sipinternaltls._tcp.contoso.com.".into(),
                TransportKind::Tls
            )
        );
        assert_eq!(
            p[1],
            Query::Srv("_sipinternal._tcp.contoso.com.".into(), TransportKind::Tcp)
        );
        assert_eq!(
            p[2],
            Query::Srv("_sip._tls.contoso.com.".into(), TransportKind::Tls)
        );
        assert_eq!(
            p[3],
            Query::Host("sipinternal.contoso.com.".into(), TransportKind::Tls, 5061)
        );
        assert_eq!(
            p[4],
            Query::Host("sip.contoso.com.".into(), TransportKind::Tls, 5061)
        );
    }

    fn rec(priority: u16, weight: u16, target: &str) -> SrvRecord {
        SrvRecord {
            priority,
            weight,
            port: 5061,
            target: target.into(),
        }
    }

    #[test]
    fn srv_priority_then_weight() {
        let records = vec![
            rec(20, 0, "c"),
            rec(10, 10, "a"),
            rec(10, 90, "b"),
            rec(0, 0, "."),
        ];
        // Always the top of the range: the heaviest-last record wins first.
        let ordered = order_srv(records.clone(), |total| total);
        let names: Vec<&str> = ordered.iter().map(|r| r.target.as_str()).collect();
        assert_eq!(names, ["b", "a", "c"]);
        // Always 1: the first record with weight reaching it.
        let ordered = order_srv(records, |_| 1);
        let names: Vec<&str> = ordered.iter().map(|r| r.target.as_str()).collect();
        assert_eq!(names, ["a", "b", "c"]);
    }
}
