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
//! How the SDK picks an id:
//!
//! 1. an error §7.26 lists uses the spec's id and reason string
//!    ([`CANNOT_CONNECT_TO_EXCHANGE`] …);
//! 2. an error the spec does not list uses an id of ocer's own block,
//!    52900–52999 ([`OCER_BLOCK`]): inside the §7.26 range, so a server files it
//!    with client reports, and at its far end, away from 52169–52171, because
//!    Microsoft's clients used unpublished ids of the same range and a collision
//!    would make a report mean something else;
//! 3. nothing outside 51000–52999 is ever used for a client-detected error.
//!
//! Every id below says which of the two it is ([`ClientErrorOrigin`]).

use std::fmt::Write as _;
use std::ops::RangeInclusive;

use crate::diag::ErrorId;

/// The range §7.26 reserves for client-reported ErrorIds.
pub const CLIENT_RANGE: RangeInclusive<u32> =
    ErrorId::CLIENT_REPORTED_MIN.0..=ErrorId::CLIENT_REPORTED_MAX.0;

/// The block of [`CLIENT_RANGE`] that ocer uses for errors the spec does not list.
pub const OCER_BLOCK: RangeInclusive<u32> = 52900..=52999;

/// 52169 "Cannot connect to Exchange Server." (§7.26).
pub const CANNOT_CONNECT_TO_EXCHANGE: ErrorId = ErrorId(52169);
/// 52170 "Cannot get the contacts from the Exchange Server." (§7.26).
pub const CANNOT_GET_EXCHANGE_CONTACTS: ErrorId = ErrorId(52170);
/// 52171 "Cannot get user's contacts from the Exchange Server and there is no
/// cache available, user sees an empty contacts list." (§7.26).
pub const EXCHANGE_CONTACTS_UNAVAILABLE_NO_CACHE: ErrorId = ErrorId(52171);
/// 52900, ocer's own: no final response came before the transaction timer
/// fired (RFC 3261 §17.1.1.2 timer B, §17.1.2.2 timer F). Reported with
/// responseCode 408, as RFC 3261 §8.1.3.1 says a timeout is to be treated.
pub const NO_FINAL_RESPONSE: ErrorId = ErrorId(52900);
/// 52901, ocer's own: the transport failed (connection refused or reset, TLS
/// handshake failure) before a final response came. Reported with
/// responseCode 503, as RFC 3261 §8.1.3.1 says a fatal transport error is to
/// be treated.
pub const TRANSPORT_FAILURE: ErrorId = ErrorId(52901);

/// Where a client ErrorId comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClientErrorOrigin {
    /// Listed in MS-OCER §7.26.
    Spec,
    /// ocer's own, from [`OCER_BLOCK`].
    Ocer,
}

/// A client-detected error: its id and reason string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientError {
    /// The ErrorId, inside [`CLIENT_RANGE`].
    pub id: ErrorId,
    /// The reason string: the spec's for [`ClientErrorOrigin::Spec`].
    pub reason: &'static str,
    /// Whether the spec lists it or ocer chose it.
    pub origin: ClientErrorOrigin,
}

impl ClientError {
    /// Every client error the SDK knows, ascending by id.
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
        ClientError {
            id: NO_FINAL_RESPONSE,
            reason: "No final response before the transaction timed out.",
            origin: ClientErrorOrigin::Ocer,
        },
        ClientError {
            id: TRANSPORT_FAILURE,
            reason: "The transport failed before a final response.",
            origin: ClientErrorOrigin::Ocer,
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
    fn every_id_is_in_the_client_range_and_ours_are_in_our_block() {
        for e in ClientError::ALL {
            assert!(CLIENT_RANGE.contains(&e.id.0), "{e:?}");
            assert!(e.id.is_client_reported(), "{e:?}");
            assert_eq!(
                OCER_BLOCK.contains(&e.id.0),
                e.origin == ClientErrorOrigin::Ocer,
                "{e:?}"
            );
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
