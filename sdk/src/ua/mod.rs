//! The async user agent (feature `ua`).

pub mod locales;
pub mod outbox;
