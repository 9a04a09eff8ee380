//! The async user agent (feature `ua`): the only IO of the crate.
//!
//! - [`UserAgent`]: what an app embeds — register, call, IM, conference
//!   join, sharing, with every failure resolved to what the user sees
//!   ([`Failure`]) and reported to the server automatically. Built with
//!   [`UserAgent::builder`]; tells the app what happens through [`UaEvents`].
//! - [`driver`]: the task that owns the sockets and timers and runs the
//!   sans-IO transactions; [`transport`]: UDP, TCP and TLS.
//! - [`outbox`]: the durable store of error reports; [`locales`]: loading
//!   display strings from a directory.

mod agent;
mod clock;
pub mod discovery;
pub mod driver;
pub mod ids;
pub mod locales;
pub mod outbox;
pub mod transport;
pub mod wire;

pub use agent::{
    AuthMode, Call, CallCanceller, CallEvent, ClientErrorReport, Failure, FailureKind,
    LocalFailure, OutboxLocation, PendingCall, RegistrationState, ReportDropReason, UaError,
    UaEvent, UaEvents, UnsupportedAuthentication, UserAgent, UserAgentBuilder,
    DEFAULT_EVENT_CAPACITY,
};
pub use driver::SharedDriver;
