//! How an operation fails: [`Failure`], with what the user sees.
//!
//! Every operation knows its (mode, action), so whatever ended it — a final
//! response, no final response, a broken transport — goes through the
//! display rule ([`Localizer::display`]) to the string the user sees. How
//! the transaction ended is the record's [`Ending`]; display maps a transport
//! failure to the Windows error a Windows client would have met
//! ([`WinError::from_transport`]) and a timeout to RFC 3261 §8.1.3.1's 408.

use std::fmt;
use std::sync::Arc;

use super::schemes::UnsupportedAuthentication;
use crate::diag::{Ending, ObservedDiagnostic, TransactionRecord};
use crate::display::{
    Action, Context, DisplayError, LocaleChain, Localizer, Mode, Placeholders, StringSet, WinError,
};
use crate::sip::{StatusCode, TransportFailure};

/// Why an operation failed, and what the user sees for it.
#[derive(Debug, Clone)]
pub struct Failure {
    /// What the user sees (the display rule over `record` and `windows`);
    /// `None` for a local failure, where no transaction ran.
    pub display: Option<DisplayError>,
    /// Everything the transaction received: every response and its
    /// diagnostics. `None` when no transaction ran.
    pub record: Option<TransactionRecord>,
    /// The Windows error display mapped the record's transport failure to,
    /// if it was one ([`WinError::from_transport`]).
    pub windows: Option<WinError>,
    /// What ended the operation: a summary of the record's
    /// [`Ending`] ([`FailureKind::of`]), or a local failure.
    pub kind: FailureKind,
}

/// What ended a failed operation.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FailureKind {
    /// A final response of 300 or more.
    Rejected(StatusCode),
    /// No final response before the transaction timer fired.
    Timeout,
    /// The transport failed (connect refused, reset, TLS, …).
    Transport(TransportFailure),
    /// A 401 / 407 offered only authentication schemes this client does not
    /// implement (NTLM, Kerberos, TLS-DSK …); the request was not sent again.
    UnsupportedAuthentication(UnsupportedAuthentication),
    /// Nothing was sent, or the user agent ended it itself.
    Local(LocalFailure),
}

impl FailureKind {
    /// The summary of a failed transaction's ending; `None` when it did not
    /// fail (a 2xx, still open) — a cancel is [`LocalFailure::Cancelled`].
    pub fn of(ending: &Ending) -> Option<FailureKind> {
        match ending {
            Ending::Final(response) if response.status.0 >= 300 => {
                Some(FailureKind::Rejected(response.status))
            }
            Ending::Final(_) | Ending::Open => None,
            Ending::Timeout => Some(FailureKind::Timeout),
            Ending::Transport(failure) => Some(FailureKind::Transport(failure.clone())),
            Ending::Cancelled(_) => Some(FailureKind::Local(LocalFailure::Cancelled)),
        }
    }
}

/// Failures on this side, with no server involved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LocalFailure {
    /// The target is not a SIP URI the user agent can send to.
    #[error("{0:?} is not a SIP URI")]
    InvalidUri(String),
    /// The request could not be built or was refused before sending (a bug,
    /// or a value from the app the SDK may not send).
    #[error("request refused: {0}")]
    Refused(String),
    /// The user cancelled the call before it was answered.
    #[error("the call was cancelled")]
    Cancelled,
    /// The call was not answered within the ring timeout
    /// ([`UserAgentBuilder::ring_timeout`](super::UserAgentBuilder::ring_timeout)):
    /// the user agent cancelled it.
    #[error("no answer within {0:?}; the call was cancelled")]
    NoAnswer(std::time::Duration),
    /// The user agent has shut down.
    #[error("the user agent has shut down")]
    ShutDown,
}

impl Failure {
    /// A failure with no transaction behind it.
    pub fn local(failure: LocalFailure) -> Self {
        Self {
            display: None,
            record: None,
            windows: None,
            kind: FailureKind::Local(failure),
        }
    }

    /// The final status, if a final response came.
    pub fn status(&self) -> Option<StatusCode> {
        match &self.kind {
            FailureKind::Rejected(status) => Some(*status),
            _ => None,
        }
    }
}

impl fmt::Display for Failure {
    /// The technical cause first, so that logging the error keeps it: the
    /// final status and reason, the diagnostics header that decides what the
    /// user sees (`504 Server time-out, ms-diagnostics 1007 "Temporarily cannot
    /// route"`), or the transport error and its Windows code; then the string
    /// the user was shown, which stays whole in [`Failure::display`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            FailureKind::Rejected(status) => {
                let reason = self
                    .record
                    .as_ref()
                    .and_then(|r| r.final_response())
                    .map_or("", |r| r.reason_phrase.as_str());
                write!(f, "{}", status.0)?;
                if !reason.is_empty() {
                    write!(f, " {reason}")?;
                }
            }
            FailureKind::UnsupportedAuthentication(unsupported) => write!(f, "{unsupported}")?,
            FailureKind::Timeout => f.write_str("no final response (timeout)")?,
            FailureKind::Transport(failure) => {
                write!(f, "transport failure: {failure}")?;
                if let Some(windows) = self.windows {
                    write!(f, " (Windows error {windows})")?;
                }
            }
            FailureKind::Local(local) => write!(f, "{local}")?,
        }
        if let Some(diagnostic) = self
            .record
            .as_ref()
            .and_then(|r| r.diagnostics_by_priority().next())
        {
            f.write_str(", ")?;
            write_diagnostic(f, diagnostic)?;
        }
        if let Some(display) = &self.display {
            let headline = display.headline();
            if !headline.is_empty() {
                write!(f, "; the user sees \"{headline}\"")?;
            }
        }
        Ok(())
    }
}

/// `ms-diagnostics 1007 "Temporarily cannot route"`; a value that did not
/// parse as received (its first 80 characters).
fn write_diagnostic(f: &mut fmt::Formatter<'_>, diagnostic: &ObservedDiagnostic) -> fmt::Result {
    write!(f, "{}", diagnostic.kind)?;
    match &diagnostic.parsed {
        Ok(header) => {
            write!(f, " {}", header.error_id)?;
            if let Some(reason) = &header.reason {
                write!(f, " \"{reason}\"")?;
            }
            Ok(())
        }
        Err(_) => {
            let raw: String = diagnostic.raw.chars().take(80).collect();
            write!(f, " (unparsed) {raw:?}")
        }
    }
}

impl std::error::Error for Failure {}

/// What turns records into what the user sees: the localizer, the user's
/// locale chain, the string set and the client's name.
#[derive(Debug, Clone)]
pub(crate) struct Presenter {
    pub(crate) localizer: Arc<Localizer>,
    pub(crate) chain: LocaleChain,
    pub(crate) set: StringSet,
    pub(crate) client: String,
}

impl Presenter {
    /// The failure of a transaction that ran: `record` is what it received
    /// and how it ended, `kind` its summary; `user` fills `$user` (the other
    /// party).
    pub(crate) fn failure(
        &self,
        record: TransactionRecord,
        kind: FailureKind,
        mode: Mode,
        action: Action,
        user: &str,
    ) -> Failure {
        let windows = match &record.ending {
            Ending::Transport(failure) => WinError::from_transport(failure),
            _ => None,
        };
        let display = self.display(&record, None, mode, action, user);
        Failure {
            display,
            record: Some(record),
            windows,
            kind,
        }
    }

    /// What the user sees while a request is in progress for one progress
    /// report, if it has a string in (mode, action).
    pub(crate) fn progress(
        &self,
        diagnostic: &ObservedDiagnostic,
        mode: Mode,
        action: Action,
        user: &str,
    ) -> Option<DisplayError> {
        let placeholders = Placeholders {
            user,
            client: &self.client,
            feature: "",
        };
        self.localizer.progress(
            &self.chain,
            diagnostic,
            Context::new(self.set, mode, action),
            &placeholders,
        )
    }

    /// What the user sees for `record` in (mode, action), if anything failed.
    pub(crate) fn display(
        &self,
        record: &TransactionRecord,
        windows: Option<WinError>,
        mode: Mode,
        action: Action,
        user: &str,
    ) -> Option<DisplayError> {
        let placeholders = Placeholders {
            user,
            client: &self.client,
            feature: "",
        };
        self.localizer.display(
            &self.chain,
            record,
            windows,
            Context::new(self.set, mode, action),
            &placeholders,
        )
    }
}
