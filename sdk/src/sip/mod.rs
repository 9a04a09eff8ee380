//! SIP values, sans-IO: status codes, `Warning`, `Retry-After`, request identity,
//! whole messages and their framing on streams and datagrams.
//!
//! Nothing in this module reads a clock, a socket or a file.

mod framing;
mod identity;
mod lex;
mod message;
mod retry_after;
mod status;
mod warning;

pub use framing::*;
pub use identity::*;
pub use message::*;
pub use retry_after::*;
pub use status::*;
pub use warning::*;
