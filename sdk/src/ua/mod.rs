//! The async user agent (feature `ua`).

pub mod outbox;
