//! SIP values, sans-IO: status codes, `Warning`, `Retry-After`, `ms-keep-alive`,
//! request identity,
//! whole messages and their framing on streams and datagrams, and client and
//! server transactions ([`transaction`]).
//!
//! Nothing in this module reads a clock, a socket or a file.
//!
//! A [`SipMessage`] is made of `ezk-sip-types` values: its [`MessageLine`]
//! ([`RequestLine`] with a [`Method`] and a [`SipUri`], or [`StatusLine`]), its
//! [`Headers`], looked up by [`Name`]. They are re-exported here, their one
//! path in ocer, so that an app builds and reads messages without depending on
//! `ezk-sip-types` itself (and at the same version). A status line's code is
//! `ezk-sip-types`' own; [`StatusCode`] converts from and to it with `From`.

mod framing;
mod identity;
mod keep_alive;
pub(crate) mod lex;
mod message;
mod retry_after;
mod status;
pub mod transaction;
mod warning;

pub use framing::{frame_stream, parse_datagram, FrameError, Framed, FramingLimits, StreamScan};
pub use identity::{to_tag_of, IdentityError, RequestIdentity};
pub use keep_alive::{KeepAliveError, KeepAliveErrorReason, KeepAliveRole, MsKeepAlive};
pub use message::SipMessage;
pub use retry_after::{RetryAfter, RetryAfterError, RetryAfterErrorReason};
pub use status::{StatusClass, StatusCode};
pub use transaction::{
    incoming_request_disposition, response_for, ClientTransaction, Disposition, Reliability,
    ServerTransaction, TimerConfig, TransactionError, TransactionEvent, TransportFailure,
    TransportFailureKind,
};
pub use warning::{
    parse_warning_values, WarnAgent, WarnCode, Warning, WarningError, WarningErrorReason,
};

// The `ezk-sip-types` types of `SipMessage`'s fields and methods, at their one
// path in ocer (see the module docs).
pub use ezk_sip_types::msg::{MessageLine, RequestLine, StatusLine};
pub use ezk_sip_types::uri::SipUri;
pub use ezk_sip_types::{Headers, Method, Name};
