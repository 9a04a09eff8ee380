//! A `Driver` started for a test.

use std::sync::Arc;

use ocer::sip::TimerConfig;
use ocer::ua::driver::{Driver, DriverConfig, IncomingRequests};
use ocer::ua::transport::Target;

use crate::timers::fast_timers;

/// A driver toward `target` with [`fast_timers`], TLS trusting `tls`.
pub async fn driver(
    target: Target,
    tls: Option<Arc<rustls::ClientConfig>>,
) -> (Driver, IncomingRequests) {
    start(target, tls, fast_timers()).await
}

/// A driver toward `target` with `timers`, TLS trusting `tls`.
pub async fn start(
    target: Target,
    tls: Option<Arc<rustls::ClientConfig>>,
    timers: TimerConfig,
) -> (Driver, IncomingRequests) {
    let mut config = DriverConfig::new(target);
    config.timers = timers;
    config.transport.tls = tls;
    Driver::start(config).await.expect("the driver starts")
}
