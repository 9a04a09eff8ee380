//! Support code for interop tests.
