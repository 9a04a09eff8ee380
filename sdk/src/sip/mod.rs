//! SIP values, sans-IO: status codes, `Warning`, `Retry-After`, request identity,
//! whole messages and their framing on streams and datagrams, and client and
//! server transactions ([`transaction`]).
//!
//! Nothing in this module reads a clock, a socket or a file.

mod framing;
mod identity;
pub(crate) mod lex;
mod message;
mod retry_after;
mod status;
pub mod transaction;
mod warning;

pub use framing::*;
pub use identity::*;
pub use message::*;
pub use retry_after::*;
pub use status::*;
pub use transaction::{
    incoming_request_disposition, response_for, ClientTransaction, Disposition, Reliability,
    ServerTransaction, TimerConfig, TransactionError, TransactionEvent, TransportFailure,
    TransportFailureKind,
};
pub use warning::*;
