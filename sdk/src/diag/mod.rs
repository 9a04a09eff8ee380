//! MS-OCER §2.2.1 diagnostics, sans-IO: ErrorIds, the `ms-diagnostics` /
//! `ms-diagnostics-public` header, the ErrorId catalogs, and the per-transaction
//! collector.

mod catalog;
mod collector;
mod error_id;
mod header;

pub use catalog::*;
pub use collector::*;
pub use error_id::*;
pub use header::*;
