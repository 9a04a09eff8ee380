//! ErrorIds for errors the client detects itself (MS-OCER §7.26).
//!
//! §7.26 reserves 51000–52999 for "SIP-enabled endpoint report ErrorIds" and
//! lists three of them, all about Exchange. Their Header column says
//! `ms-diagnostics` and their direction column says *Request*: the client puts
//! them in a diagnostics value it sends, and the only request in which a client
//! sends a diagnostics value is the reportError document (a request the SDK sends
//! never carries the header itself, see [`super::finalize_request`]). So a
//! client-detected error is reported as a `diagHeader` whose ErrorId is one of
//! these.
//!
//! The SDK reports only ids §7.26 lists, with the spec's reason strings. It
//! invents none: a timeout or a transport failure — which §7.26 does not list
//! — is reported with what was received and no `diagHeader`
//! ([`ErrorReport::from_record`](super::ErrorReport::from_record)). An app
//! that detects an error of its own may report another id of the range
//! ([`ClientErrorOrigin::App`]); nothing outside 51000–52999 is accepted.

use std::fmt::Write as _;
use std::ops::RangeInclusive;

use crate::diag::ErrorId;

/// The range §7.26 reserves for client-reported ErrorIds.
pub const CLIENT_RANGE: RangeInclusive<u32> =
    ErrorId::CLIENT_REPORTED_MIN.0..=ErrorId::CLIENT_REPORTED_MAX.0;

/// 52169 "Cannot connect to Exchange Server." (§7.26).
pub const CANNOT_CONNECT_TO_EXCHANGE: ErrorId = ErrorId(52169);
/// 52170 "Cannot get the contacts from the Exchange Server." (§7.26).
pub const CANNOT_GET_EXCHANGE_CONTACTS: ErrorId = ErrorId(52170);
/// 52171 "Cannot get user's contacts from the Exchange Server and there is no
/// cache available, user sees an empty contacts list." (§7.26).
pub const EXCHANGE_CONTACTS_UNAVAILABLE_NO_CACHE: ErrorId = ErrorId(52171);
/// Where a client ErrorId comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ClientErrorOrigin {
    /// Listed in MS-OCER §7.26.
    Spec,
    /// Chosen by the app for an error it detected that §7.26 does not list
    /// (inside [`CLIENT_RANGE`]); the SDK itself never uses one.
    App,
}

/// A client-detected error: its id and reason string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientError {
    /// The ErrorId, inside [`CLIENT_RANGE`].
    pub id: ErrorId,
    /// The reason string: the spec's for [`ClientErrorOrigin::Spec`].
    pub reason: &'static str,
    /// Whether the spec lists it or the app chose it.
    pub origin: ClientErrorOrigin,
}

impl ClientError {
    /// Every client error §7.26 lists, ascending by id.
    pub const ALL: &'static [ClientError] = &[
        ClientError {
            id: CANNOT_CONNECT_TO_EXCHANGE,
            reason: "Cannot connect to Exchange Server.",
            origin: ClientErrorOrigin::Spec,
        },
        ClientError {
            id: CANNOT_GET_EXCHANGE_CONTACTS,
            reason: "Cannot get the contacts from the Exchange Server.",
            origin: ClientErrorOrigin::Spec,
        },
        ClientError {
            id: EXCHANGE_CONTACTS_UNAVAILABLE_NO_CACHE,
            reason: "Cannot get user's contacts from the Exchange Server and there is no cache available, user sees an empty contacts list.",
            origin: ClientErrorOrigin::Spec,
        },
    ];

    /// The known client error with this id.
    pub fn lookup(id: ErrorId) -> Option<&'static ClientError> {
        Self::ALL.iter().find(|e| e.id == id)
    }

    /// The diagnostics value a report carries for it:
    /// `52169;reason="Cannot connect to Exchange Server."`.
    ///
    /// There is no `source` parameter: §2.2.1.1's `source` names the server
    /// that generated the error, and here no server did.
    pub fn header_value(&self) -> String {
        let mut out = String::with_capacity(self.reason.len() + 20);
        // Writing into a String cannot fail.
        let _ = write!(out, "{};reason=\"", self.id.0);
        for c in self.reason.chars() {
            if c == '"' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
        out.push('"');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::{DiagnosticsHeader, HeaderKind};

    #[test]
    fn spec_7_26_every_id_is_listed_by_the_spec_and_in_the_client_range() {
        for e in ClientError::ALL {
            assert!(CLIENT_RANGE.contains(&e.id.0), "{e:?}");
            assert!(e.id.is_client_reported(), "{e:?}");
            assert_eq!(e.origin, ClientErrorOrigin::Spec, "{e:?}");
        }
        let ids: Vec<u32> = ClientError::ALL.iter().map(|e| e.id.0).collect();
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(ids, sorted, "ascending and unique");
    }

    #[test]
    fn spec_rows_of_7_26_are_listed_verbatim() {
        let spec: Vec<(u32, &str)> = ClientError::ALL
            .iter()
            .filter(|e| e.origin == ClientErrorOrigin::Spec)
            .map(|e| (e.id.0, e.reason))
            .collect();
        assert_eq!(
            spec,
            vec![
                (52169, "Cannot connect to Exchange Server."),
                (52170, "Cannot get the contacts from the Exchange Server."),
                (
                    52171,
                    "Cannot get user's contacts from the Exchange Server and there is no cache available, user sees an empty contacts list."
                ),
            ]
        );
    }

    #[test]
    fn header_values_parse_back_to_the_id_and_reason() {
        for e in ClientError::ALL {
            let parsed = DiagnosticsHeader::parse(HeaderKind::Private, &e.header_value()).unwrap();
            assert_eq!(parsed.error_id, e.id);
            assert_eq!(parsed.reason.as_deref(), Some(e.reason));
        }
        assert_eq!(
            ClientError::lookup(CANNOT_CONNECT_TO_EXCHANGE)
                .map(ClientError::header_value)
                .as_deref(),
            Some("52169;reason=\"Cannot connect to Exchange Server.\"")
        );
        assert_eq!(ClientError::lookup(ErrorId(52172)), None);
    }
}
