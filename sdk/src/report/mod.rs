//! MS-OCER client error reporting, sans-IO.
pub mod client_errors;
mod document;
mod limits;
mod outgoing;
pub mod redact;
mod retry;
mod service;
mod xml;

pub use document::*;
pub use limits::*;
pub use outgoing::*;
pub use retry::*;
pub use service::*;
