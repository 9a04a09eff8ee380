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
//!   [`DisplayError`], also as UCWA-shaped JSON;
//! - look-ups for what other Microsoft clients show an administrator, each a
//!   data file traced to its seed: [`PhoneEditionStatus`] (the Phone Edition's
//!   `(0x2ee2/0x0)` pair), [`EasStatus`] (Exchange ActiveSync status codes per
//!   command) and [`UcwaError`] (UCWA 2.0 error bodies in JSON or XML, which
//!   also reads a [`DisplayError`]'s JSON back).
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
mod eas;
mod error;
mod ids;
mod index;
mod localizer;
mod phone;
mod priority;
mod ucwa;
mod unhandled;
mod windows;

pub use context::{Action, Context, Mode, StringSet, UnknownName};
pub use eas::{eas_status, eas_statuses, EasStatus};
pub use error::DisplayError;
pub use ids::{Category, Cause, CauseOrigin, MessageKey};
pub use index::StringIndex;
pub use localizer::{
    en_us_langid, Isolation, LocaleChain, LocaleError, LocaleSource, Localizer, Placeholders,
    Rendered,
};
pub use phone::{
    phone_edition_rows, PhoneEditionRow, PhoneEditionStatus, PhoneField, PhoneStatusError,
};
pub use priority::{causes, resolve, resolve_progress, Resolution};
pub use ucwa::{ucwa_errors, UcwaError, UcwaErrorInfo, UcwaFormat, UcwaParseError};
pub use unhandled::{is_listed_unhandled, listed_unhandled};
pub use unic_langid::LanguageIdentifier;
pub use windows::{windows_errors, WinError, WinErrorFamily, WinErrorInfo};
