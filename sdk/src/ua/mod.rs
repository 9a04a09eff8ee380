//! The async user agent (feature `ua`).

mod agent;
pub mod driver;
pub mod locales;
pub mod outbox;
pub mod transport;

pub use crate::sip::TimerConfig;
pub use agent::{
    windows_error, Call, CallCanceller, ClientErrorReport, Failure, FailureKind, LocalFailure,
    OutboxLocation, PendingCall, RegistrationState, UaError, UaEvent, UaEvents, UserAgent,
    UserAgentBuilder,
};
