//! MS-OCER client error reporting, sans-IO.
pub mod client_errors;
mod document;
mod limits;
mod xml;

pub use document::*;
pub use limits::*;
