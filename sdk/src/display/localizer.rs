//! Fluent bundles for the display strings: en-US built in, more locales from
//! the host, negotiation, per-message fallback.
//!
//! - **en-US** (`locales/en-US/*.ftl`) is embedded in the binary and is the
//!   reference: it decides which strings exist (the priority rule picks its
//!   most specific id against en-US, see [`StringIndex`]).
//! - **Other locales** are supplied by the host as FTL text
//!   ([`LocaleSource`]); reading them from a directory is IO and lives in
//!   `ocer::ua::locales` (feature `ua`). A locale may translate any subset of
//!   the messages, of one set or both.
//! - **Negotiation** ([`Localizer::negotiate`]) orders the available locales
//!   for the user's preferences with `fluent-langneg`'s filtering strategy and
//!   always ends the chain with en-US.
//! - **Per-message fallback**: the chosen message is formatted by the first
//!   locale in the chain that has it and formats it without error; en-US has
//!   every message.
//!
//! # Bidi isolation
//!
//! Fluent can wrap each placeable (`{ $user }`) in Unicode isolation marks
//! (U+2068 … U+2069) so that a right-to-left name cannot reorder the sentence
//! around it. Turn it **on** ([`Isolation::On`]) for text that a user interface
//! renders with the Unicode bidi algorithm: any UI, and always when a
//! right-to-left locale or user names in right-to-left scripts are possible.
//! Turn it **off** ([`Isolation::Off`]) for text that goes to logs, reports,
//! JSON, terminals and tests, where the invisible marks would only get in the
//! way of reading and comparing.

use std::sync::Arc;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource};
use fluent_langneg::{negotiate_languages, parse_accepted_languages, NegotiationStrategy};
use fluent_syntax::ast;
use tracing::debug;
use unic_langid::LanguageIdentifier;

use super::context::{Context, StringSet};
use super::error::DisplayError;
use super::ids::MessageKey;
use super::index::{en_us, Slot, StringIndex, INFO_ATTRIBUTE};
use super::priority::{resolve, Resolution};
use super::windows::WinError;
use crate::diag::{ObservedDiagnostic, TransactionRecord};

type Bundle = FluentBundle<Arc<FluentResource>>;

/// Whether placeables are wrapped in bidi isolation marks (module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isolation {
    /// Wrap them: text for a user interface.
    On,
    /// Don't: text for logs, reports, terminals and tests.
    Off,
}

/// The values of the placeholders the strings use.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Placeholders<'a> {
    /// `$user`, the spec's `[user name]`: the other person's display name.
    pub user: &'a str,
    /// `$client`, the spec's `[client name]`: the client's own name.
    pub client: &'a str,
    /// `$feature`, Communicator's `%3` (10.2.3, 408 ApplicationSharing): the
    /// sharing feature that did not start, e.g. "Desktop sharing".
    pub feature: &'a str,
}

impl Placeholders<'static> {
    /// The spec's own placeholder texts (`[user name]`, `[client name]`,
    /// `%3`): what `explain --dump-strings` and the spec-row tests render.
    pub const SPEC: Placeholders<'static> = Placeholders {
        user: "[user name]",
        client: "[client name]",
        feature: "%3",
    };

    /// What the spec prints for `[error ID]`.
    pub const SPEC_ERROR_ID: &'static str = "[error ID]";
}

/// FTL text of one string set in one locale, supplied by the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocaleSource {
    /// The locale, e.g. `de-DE`.
    pub locale: LanguageIdentifier,
    /// Which file this is (`lync2010.ftl` or `communicator2007.ftl`).
    pub set: StringSet,
    /// The FTL text.
    pub ftl: String,
}

/// Why a host-supplied locale was refused. Refusing the whole file (rather
/// than using what parses) keeps a translator's mistake from silently
/// showing English, or a broken sentence, to users.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LocaleError {
    /// en-US is built in; it is the reference every other locale is checked
    /// against and cannot be replaced.
    #[error("{locale}/{file}: en-US is built in and cannot be replaced", file = set.file_name())]
    ReferenceLocale {
        /// The locale given.
        locale: String,
        /// The file.
        set: StringSet,
    },
    /// This locale already has this file.
    #[error("{locale}/{file}: already added", file = set.file_name())]
    Duplicate {
        /// The locale.
        locale: String,
        /// The file.
        set: StringSet,
    },
    /// The file has problems; all of them are listed.
    #[error("{locale}/{file}: {n} problem(s), first: {first}", file = set.file_name(), n = problems.len(), first = problems.first().map_or("", String::as_str))]
    Invalid {
        /// The locale.
        locale: String,
        /// The file.
        set: StringSet,
        /// One line per problem: FTL syntax errors (with the byte range),
        /// ids that are not en-US messages of this set, messages whose shape
        /// (value, `.info`) differs from en-US, messages that do not format.
        problems: Vec<String>,
    },
}

/// A formatted message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The value: the primary string. `None` for Communicator's IM and
    /// sharing rows, which have only `.info`.
    pub message: Option<String>,
    /// The `.info` attribute: the secondary string, if the message has one.
    pub info: Option<String>,
    /// The locale that formatted it.
    pub locale: LanguageIdentifier,
}

/// The user's locales, in order, as indices into one [`Localizer`]; always
/// ends with en-US. Made by [`Localizer::negotiate`]; use it with the
/// localizer that made it (other indices are skipped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocaleChain {
    order: Vec<usize>,
}

struct Locale {
    langid: LanguageIdentifier,
    bundles: [Option<Bundle>; 2],
    /// By slot: whether this locale has the message.
    present: Vec<bool>,
}

/// The display strings in every locale the host supplied, plus en-US.
/// `Send + Sync`: build once, share (e.g. in an `Arc`).
pub struct Localizer {
    isolation: Isolation,
    /// `locales[0]` is en-US.
    locales: Vec<Locale>,
    langids: Vec<LanguageIdentifier>,
}

impl std::fmt::Debug for Localizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Localizer")
            .field("isolation", &self.isolation)
            .field("locales", &self.langids)
            .finish_non_exhaustive()
    }
}

/// `en-US`.
pub fn en_us_langid() -> LanguageIdentifier {
    // A constant that parses; the default ("und") is never reached.
    "en-US".parse().unwrap_or_default()
}

const EN_US_INDEX: usize = 0;

const ARG_USER: &str = "user";
const ARG_CLIENT: &str = "client";
const ARG_FEATURE: &str = "feature";
const ARG_ERROR_ID: &str = "errorId";

impl Localizer {
    /// A localizer with en-US only.
    pub fn new(isolation: Isolation) -> Localizer {
        let en = en_us();
        let langid = en_us_langid();
        let bundles = StringSet::ALL.map(|set| {
            let mut bundle = Bundle::new_concurrent(vec![langid.clone()]);
            bundle.set_use_isolating(isolation == Isolation::On);
            // The embedded files have distinct ids (a test proves it), so
            // this cannot fail; were it to, the index would still say which
            // messages the bundle lacks.
            if let Some(resource) = en.resources.get(set.index()) {
                let _ = bundle.add_resource(Arc::clone(resource));
            }
            Some(bundle)
        });
        let present = en
            .index
            .entries()
            .iter()
            .map(|e| {
                bundles
                    .get(e.key.set.index())
                    .and_then(Option::as_ref)
                    .is_some_and(|b| b.has_message(&e.id))
            })
            .collect();
        Localizer {
            isolation,
            locales: vec![Locale {
                langid: langid.clone(),
                bundles,
                present,
            }],
            langids: vec![langid],
        }
    }

    /// Adds one file of one locale, after checking it against en-US (see
    /// [`LocaleError`]).
    pub fn add_locale(&mut self, source: LocaleSource) -> Result<(), LocaleError> {
        let LocaleSource { locale, set, ftl } = source;
        let name = locale.to_string();
        if self.langids.get(EN_US_INDEX) == Some(&locale) {
            return Err(LocaleError::ReferenceLocale { locale: name, set });
        }
        let position = self.langids.iter().position(|l| *l == locale);
        if let Some(i) = position {
            if self
                .locales
                .get(i)
                .is_some_and(|l| l.bundles[set.index()].is_some())
            {
                return Err(LocaleError::Duplicate { locale: name, set });
            }
        }
        let index = StringIndex::en_us();
        let mut problems = Vec::new();
        let resource = match FluentResource::try_new(ftl) {
            Ok(resource) => resource,
            Err((resource, errors)) => {
                problems.extend(
                    errors
                        .iter()
                        .map(|e| format!("syntax error at bytes {:?}: {}", e.pos, e.kind)),
                );
                resource
            }
        };
        let mut slots: Vec<Slot> = Vec::new();
        for entry in resource.entries() {
            let ast::Entry::Message(message) = entry else {
                continue;
            };
            let id = message.id.name;
            let Some(slot) = index
                .slot_of_id(id)
                .filter(|s| index.key(*s).is_some_and(|k| k.set == set))
            else {
                problems.push(format!(
                    "`{id}` is not an en-US message of {}",
                    set.file_name()
                ));
                continue;
            };
            if let Some(reference) = index.entry(slot) {
                let has_info = message
                    .attributes
                    .iter()
                    .any(|a| a.id.name == INFO_ATTRIBUTE);
                let others = message
                    .attributes
                    .iter()
                    .filter(|a| a.id.name != INFO_ATTRIBUTE)
                    .count();
                if message.value.is_some() != reference.has_value
                    || has_info != reference.has_info
                    || others > 0
                {
                    problems.push(format!(
                        "`{id}` must have {} and {} like en-US, and no other attribute",
                        if reference.has_value {
                            "a value"
                        } else {
                            "no value"
                        },
                        if reference.has_info {
                            "an .info"
                        } else {
                            "no .info"
                        },
                    ));
                }
            }
            slots.push(slot);
        }
        let mut bundle = Bundle::new_concurrent(vec![locale.clone()]);
        bundle.set_use_isolating(self.isolation == Isolation::On);
        if let Err(errors) = bundle.add_resource(Arc::new(resource)) {
            problems.extend(errors.iter().map(|e| format!("{e}")));
        }
        // Format every message once with stand-in values: a missing term, an
        // unknown variable or a bad reference shows here, not in front of a user.
        let args = arguments(&Placeholders::SPEC, "0");
        for slot in &slots {
            let Some(entry) = index.entry(*slot) else {
                continue;
            };
            let Some(message) = bundle.get_message(&entry.id) else {
                continue;
            };
            let mut errors = Vec::new();
            if let Some(value) = message.value() {
                let _ = bundle.format_pattern(value, Some(&args), &mut errors);
            }
            for attribute in message.attributes() {
                let _ = bundle.format_pattern(attribute.value(), Some(&args), &mut errors);
            }
            if let Some(error) = errors.first() {
                problems.push(format!("`{}` does not format: {error}", entry.id));
            }
        }
        if !problems.is_empty() {
            return Err(LocaleError::Invalid {
                locale: name,
                set,
                problems,
            });
        }

        let i = match position {
            Some(i) => i,
            None => {
                self.locales.push(Locale {
                    langid: locale.clone(),
                    bundles: [None, None],
                    present: vec![false; index.len()],
                });
                self.langids.push(locale);
                self.locales.len() - 1
            }
        };
        if let Some(target) = self.locales.get_mut(i) {
            for slot in slots {
                if let Some(p) = target.present.get_mut(usize::from(slot)) {
                    *p = true;
                }
            }
            target.bundles[set.index()] = Some(bundle);
        }
        Ok(())
    }

    /// [`Localizer::add_locale`] for each source, in order.
    pub fn with_locales(
        mut self,
        sources: impl IntoIterator<Item = LocaleSource>,
    ) -> Result<Localizer, LocaleError> {
        for source in sources {
            self.add_locale(source)?;
        }
        Ok(self)
    }

    /// Whether placeables are isolated.
    pub fn isolation(&self) -> Isolation {
        self.isolation
    }

    /// The locales available, en-US first.
    pub fn locales(&self) -> &[LanguageIdentifier] {
        &self.langids
    }

    /// Which en-US strings exist (the priority rule's index).
    pub fn index(&self) -> &'static StringIndex {
        StringIndex::en_us()
    }

    /// The user's locale chain: the available locales that match `requested`
    /// (most preferred first; `fluent-langneg` filtering, so `de-AT` finds
    /// `de` and `de-DE`), then en-US.
    pub fn negotiate(&self, requested: &[LanguageIdentifier]) -> LocaleChain {
        let default = self.langids.get(EN_US_INDEX);
        let chosen = negotiate_languages(
            requested,
            &self.langids,
            default,
            NegotiationStrategy::Filtering,
        );
        let mut order: Vec<usize> = chosen
            .into_iter()
            .filter_map(|l| self.langids.iter().position(|a| a == l))
            .collect();
        if !order.contains(&EN_US_INDEX) {
            order.push(EN_US_INDEX);
        }
        LocaleChain { order }
    }

    /// [`Localizer::negotiate`] for an HTTP `Accept-Language`-style list
    /// (`de-DE, fr;q=0.5`); entries that are not language tags are ignored.
    pub fn negotiate_accept_language(&self, accept_language: &str) -> LocaleChain {
        self.negotiate(&parse_accepted_languages(accept_language))
    }

    /// The chain's locales, in order.
    pub fn chain_locales<'a>(
        &'a self,
        chain: &'a LocaleChain,
    ) -> impl Iterator<Item = &'a LanguageIdentifier> + 'a {
        chain.order.iter().filter_map(|i| self.langids.get(*i))
    }

    /// What the user sees for `record` (and the transport's Windows error, if
    /// any) in `context`, formatted in `chain`; `None` when nothing failed.
    /// The priority rule is [`resolve`](super::resolve).
    pub fn display(
        &self,
        chain: &LocaleChain,
        record: &TransactionRecord,
        windows: Option<WinError>,
        context: Context,
        placeholders: &Placeholders<'_>,
    ) -> Option<DisplayError> {
        let resolution = resolve(StringIndex::en_us(), record, windows, context)?;
        self.display_resolution(chain, &resolution, context, placeholders)
    }

    /// What the user sees while a request is in progress, for one progress
    /// report (a diagnostics header of a 1xx): its string in `context`, if
    /// the set has one ([`resolve_progress`](super::resolve_progress)).
    pub fn progress(
        &self,
        chain: &LocaleChain,
        diagnostic: &ObservedDiagnostic,
        context: Context,
        placeholders: &Placeholders<'_>,
    ) -> Option<DisplayError> {
        let resolution = super::resolve_progress(StringIndex::en_us(), diagnostic, context)?;
        self.display_resolution(chain, &resolution, context, placeholders)
    }

    /// Formats a [`Resolution`] the priority rule made: `$errorId` is its
    /// cause's code.
    pub fn display_resolution(
        &self,
        chain: &LocaleChain,
        resolution: &Resolution,
        context: Context,
        placeholders: &Placeholders<'_>,
    ) -> Option<DisplayError> {
        let mut digits = [0u8; 10];
        let error_id = decimal(resolution.cause.code(), &mut digits);
        let args = arguments(placeholders, error_id);
        let (message, info, locale) =
            self.format_slot(chain, resolution.key.set, resolution.slot, &args)?;
        Some(DisplayError {
            set: context.set,
            mode: context.mode,
            action: context.action,
            cause: resolution.cause,
            origin: resolution.origin,
            message,
            info,
            message_id: resolution.key,
            locale: self.langids.get(locale).cloned().unwrap_or_default(),
        })
    }

    /// Formats one message with `$errorId = error_id`; `None` if en-US has no
    /// such message.
    pub fn render(
        &self,
        chain: &LocaleChain,
        key: &MessageKey,
        error_id: &str,
        placeholders: &Placeholders<'_>,
    ) -> Option<Rendered> {
        let slot = StringIndex::en_us().slot_of_id(&key.id())?;
        let args = arguments(placeholders, error_id);
        let (message, info, locale) = self.format_slot(chain, key.set, slot, &args)?;
        Some(Rendered {
            message,
            info,
            locale: self.langids.get(locale).cloned().unwrap_or_default(),
        })
    }

    /// The first locale of the chain that has the message and formats it
    /// cleanly; en-US's result in any case.
    fn format_slot(
        &self,
        chain: &LocaleChain,
        set: StringSet,
        slot: Slot,
        args: &FluentArgs<'_>,
    ) -> Option<(Option<String>, Option<String>, usize)> {
        let entry = StringIndex::en_us().entry(slot)?;
        let fallback = chain
            .order
            .iter()
            .copied()
            .chain(std::iter::once(EN_US_INDEX));
        for i in fallback {
            let Some(locale) = self.locales.get(i) else {
                continue;
            };
            if !locale
                .present
                .get(usize::from(slot))
                .copied()
                .unwrap_or(false)
            {
                continue;
            }
            let Some(bundle) = locale.bundles.get(set.index()).and_then(Option::as_ref) else {
                continue;
            };
            let Some(message) = bundle.get_message(&entry.id) else {
                continue;
            };
            let mut errors = Vec::new();
            let value = message.value().map(|p| {
                bundle
                    .format_pattern(p, Some(args), &mut errors)
                    .into_owned()
            });
            let info = message.get_attribute(INFO_ATTRIBUTE).map(|a| {
                bundle
                    .format_pattern(a.value(), Some(args), &mut errors)
                    .into_owned()
            });
            if errors.is_empty() || i == EN_US_INDEX {
                return Some((value, info, i));
            }
            debug!(id = %entry.id, locale = %locale.langid, ?errors, "message does not format; next locale");
        }
        None
    }
}

fn arguments<'a>(placeholders: &Placeholders<'a>, error_id: &'a str) -> FluentArgs<'a> {
    let mut args = FluentArgs::with_capacity(4);
    args.set(ARG_USER, placeholders.user);
    args.set(ARG_CLIENT, placeholders.client);
    args.set(ARG_FEATURE, placeholders.feature);
    args.set(ARG_ERROR_ID, error_id);
    args
}

/// `n` in decimal, without allocating.
fn decimal(mut n: u32, buf: &mut [u8; 10]) -> &str {
    let mut start = buf.len();
    loop {
        start -= 1;
        buf[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    std::str::from_utf8(&buf[start..]).unwrap_or("0")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_writes_every_width() {
        let mut buf = [0u8; 10];
        for n in [0, 7, 10, 486, 10053, 99_999, u32::MAX] {
            assert_eq!(decimal(n, &mut buf), n.to_string());
        }
    }

    #[test]
    fn en_us_parses() {
        assert_eq!(en_us_langid().to_string(), "en-US");
    }

    #[test]
    fn the_localizer_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Localizer>();
    }
}
