//! Per-transaction collection of diagnostics.
