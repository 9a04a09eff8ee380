//! Loading display-string locales from a directory (IO, so it lives here and
//! not in the sans-IO `display` module).
//!
//! The layout is the repository's `locales/`: one directory per locale, named
//! by its language tag, holding `lync2010.ftl` and/or `communicator2007.ftl`:
//!
//! ```text
//! locales/
//!   de/lync2010.ftl
//!   de/communicator2007.ftl
//!   pt-BR/lync2010.ftl
//! ```
//!
//! `en-US/` is skipped (en-US is built into the SDK and is the reference),
//! as are files and hidden entries, so the repository's own `locales/` can be
//! pointed at directly.

use std::io;
use std::path::{Path, PathBuf};

use crate::display::{
    en_us_langid, Isolation, LanguageIdentifier, LocaleError, LocaleSource, Localizer, StringSet,
};

/// Why a locale directory could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LocaleDirError {
    /// Reading the directory or a file failed.
    #[error("{path}: {source}", path = path.display())]
    Io {
        /// What was being read.
        path: PathBuf,
        /// Why it failed.
        source: io::Error,
    },
    /// A directory's name is not a language tag (or not UTF-8).
    #[error("{path}: directory name is not a language tag", path = path.display())]
    NotALocale {
        /// The directory.
        path: PathBuf,
    },
    /// A file was read but refused by the localizer.
    #[error(transparent)]
    Locale(#[from] LocaleError),
}

/// Reads every locale under `dir`, in directory-name order (see the module
/// docs for the layout). Blocking: call it at start-up, or from a blocking
/// task.
pub fn read_locale_dir(dir: &Path) -> Result<Vec<LocaleSource>, LocaleDirError> {
    let io_error = |path: &Path| {
        let path = path.to_owned();
        move |source| LocaleDirError::Io { path, source }
    };
    let mut locales: Vec<(String, PathBuf)> = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io_error(dir))? {
        let entry = entry.map_err(io_error(dir))?;
        let path = entry.path();
        if !entry.file_type().map_err(io_error(&path))?.is_dir() {
            continue;
        }
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            return Err(LocaleDirError::NotALocale { path });
        };
        if !name.starts_with('.') {
            locales.push((name, path));
        }
    }
    locales.sort();
    let en_us = en_us_langid();
    let mut sources = Vec::new();
    for (name, path) in locales {
        let locale: LanguageIdentifier = name
            .parse()
            .map_err(|_| LocaleDirError::NotALocale { path: path.clone() })?;
        if locale == en_us {
            continue;
        }
        for set in StringSet::ALL {
            let file = path.join(set.file_name());
            match std::fs::read_to_string(&file) {
                Ok(ftl) => sources.push(LocaleSource {
                    locale: locale.clone(),
                    set,
                    ftl,
                }),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(source) => return Err(LocaleDirError::Io { path: file, source }),
            }
        }
    }
    Ok(sources)
}

/// A [`Localizer`] with en-US and every locale under `dir`.
pub fn localizer_from_dir(dir: &Path, isolation: Isolation) -> Result<Localizer, LocaleDirError> {
    Ok(Localizer::new(isolation).with_locales(read_locale_dir(dir)?)?)
}
