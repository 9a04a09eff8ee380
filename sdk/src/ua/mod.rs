//! The async user agent (feature `ua`).
