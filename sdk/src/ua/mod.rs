//! The async user agent (feature `ua`).

pub mod driver;
pub mod locales;
pub mod outbox;
pub mod transport;
