//! MS-OCER client error reporting, sans-IO.
pub mod client_errors;
mod document;
mod limits;
mod retry;
mod xml;

pub use document::*;
pub use limits::*;
pub use retry::*;
