//! SIPp as the server, on loopback: [`agent`] for the user-agent tests
//! (`sipp_agent_*`, with stunnel in front of SIPp for TLS), [`driver`] for the
//! driver tests (`sipp_ua_*`). The processes are run by ocer-interop.

pub mod agent;
pub mod driver;
