//! What the user sees when something fails: MS-OCER Appendix D (Lync 2010) and
//! Appendix E (Office Communicator 2007 / R2), sans-IO.
//!
//! - [`Context`]: whose strings ([`StringSet`]), the user's [`Mode`] and
//!   [`Action`] — the taxonomy of `locales/README.md`;
//! - [`resolve`]: the priority rule of 9.1.1 / 10.1.1 over a
//!   [`TransactionRecord`](crate::diag::TransactionRecord) and an optional
//!   [`WinError`], giving the [`MessageKey`] of the string to show;
//! - [`WinError`]: Windows socket and WinInet errors, and the one mapping from
//!   [`std::io::Error`] so a Linux or macOS client shows what Windows would;
//! - [`Localizer`]: the Fluent strings (en-US built in, more from the host),
//!   locale negotiation, per-message fallback; its result is a
//!   [`DisplayError`], also as UCWA-shaped JSON.
//!
//! ```
//! use ocer::display::{Action, Cause, Context, Isolation, Localizer, Mode, Placeholders, StringSet};
//! use ocer::display::MessageKey;
//! use ocer::sip::StatusCode;
//!
//! let localizer = Localizer::new(Isolation::Off);
//! let chain = localizer.negotiate(&[]);
//! let key = MessageKey::handled(StringSet::Lync2010, Cause::SipStatus(StatusCode(486)), Mode::Voice, Action::Call);
//! let who = Placeholders { user: "Bob", ..Placeholders::default() };
//! let shown = localizer.render(&chain, &key, "486", &who).expect("en-US has it");
//! assert_eq!(shown.message.as_deref(), Some("Bob is in another call."));
//! ```
//!
//! Nothing here reads a clock, a file or a socket; loading locale files from a
//! directory is in `ua::locales`.

mod context;
mod error;
mod ids;
mod index;
mod localizer;
mod priority;
mod unhandled;
mod windows;

pub use context::{Action, Context, Mode, StringSet, UnknownName};
pub use error::DisplayError;
pub use ids::{Category, Cause, CauseOrigin, MessageKey};
pub use index::StringIndex;
pub use localizer::{
    en_us_langid, Isolation, LocaleChain, LocaleError, LocaleSource, Localizer, Placeholders,
    Rendered,
};
pub use priority::{causes, resolve, resolve_progress, Resolution};
pub use unhandled::{is_listed_unhandled, listed_unhandled};
pub use unic_langid::LanguageIdentifier;
pub use windows::{windows_errors, WinError, WinErrorInfo};
