//! MS-OCER §2.2.1 diagnostics, sans-IO: ErrorIds, the `ms-diagnostics` /
//! `ms-diagnostics-public` header, the ErrorId catalogs, and the per-transaction
//! collector.

mod catalog;
mod collector;
mod error_id;
mod header;

pub use catalog::{lookup_all, Catalog, CatalogEntry, CatalogHeader, ComponentRange, Direction};
pub use collector::{
    Collector, CollectorError, CollectorLimits, DiagOrigin, Dropped, Ending, FinalResponse,
    MalformedHeader, ObservedDiagnostic, ProvisionalResponse, ServerRequest, TransactionRecord,
    MAX_DIAG_HEADER_CHARS, MS_DIAGNOSTICS, MS_DIAGNOSTICS_PUBLIC,
};
pub use error_id::ErrorId;
pub use header::{
    CompactString, DiagParseError, DiagnosticsHeader, HeaderKind, Param, ParamValue, SetupTime,
};
