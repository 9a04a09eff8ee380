//! The ErrorId of a diagnostics header.

use std::fmt;
use std::str::FromStr;

use super::DiagParseError;

/// An MS-OCER ErrorId (an unsigned 32-bit integer). Open newtype: unknown
/// values are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ErrorId(pub u32);

impl ErrorId {
    /// 1007 "Temporarily cannot route." (§7.2 SipStack); the ErrorId of the
    /// §2.2.1.1 and §4.1 examples.
    pub const TEMPORARILY_CANNOT_ROUTE: ErrorId = ErrorId(1007);

    /// 2019 "Report error service is not available." (§7.3). A 503 to an error
    /// report that carries it means: do not retry reporting during this login
    /// session (§3.1.5).
    pub const REPORT_ERROR_SERVICE_UNAVAILABLE: ErrorId = ErrorId(2019);

    /// 3027 "User not allowed in closed conference." (§7.4 Conferencing); the
    /// ErrorId of the §2.2.1.2 `ms-diagnostics-public` example.
    pub const USER_NOT_ALLOWED_IN_CLOSED_CONFERENCE: ErrorId = ErrorId(3027);

    /// 10000 "Gateway returned a SIP failure code." (§7.10 OCS mediation
    /// server); the final-response ErrorId of the §3.1.4 report example.
    pub const GATEWAY_RETURNED_SIP_FAILURE_CODE: ErrorId = ErrorId(10000);

    /// 12006 "Trying next hop." (§7.11 VoIP outbound routing); sent in
    /// `101 Progress Report` responses (§4.1).
    pub const TRYING_NEXT_HOP: ErrorId = ErrorId(12006);

    /// Lowest ErrorId of the SIP-enabled endpoint (client) range, §7.26.
    pub const CLIENT_REPORTED_MIN: ErrorId = ErrorId(51000);

    /// Highest ErrorId of the SIP-enabled endpoint (client) range, §7.26.
    pub const CLIENT_REPORTED_MAX: ErrorId = ErrorId(52999);

    /// Whether this id is in the range §7.26 reserves for errors that the
    /// client itself reports ("numbered 51000 – 52999"), as opposed to ids a
    /// server put into a diagnostics header.
    pub const fn is_client_reported(self) -> bool {
        self.0 >= Self::CLIENT_REPORTED_MIN.0 && self.0 <= Self::CLIENT_REPORTED_MAX.0
    }

    /// The numeric value.
    pub const fn get(self) -> u32 {
        self.0
    }
}

impl fmt::Display for ErrorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl From<u32> for ErrorId {
    fn from(value: u32) -> Self {
        ErrorId(value)
    }
}

impl From<ErrorId> for u32 {
    fn from(value: ErrorId) -> Self {
        value.0
    }
}

impl FromStr for ErrorId {
    type Err = DiagParseError;

    /// Decimal digits only (the header's `1*DIGIT`): no sign, no whitespace.
    /// Leading zeros are accepted because the value, not the spelling, is
    /// what the spec constrains ("within unsigned integer range").
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bytes = s.as_bytes();
        let (value, end) = parse_digits(bytes, 0)?;
        if end < bytes.len() {
            return Err(DiagParseError::InvalidErrorId { at: end });
        }
        Ok(value)
    }
}

/// Reads `1*DIGIT` starting at `start`; returns the id and the index of the
/// first byte after the digits. Shared with the header parser so both agree
/// on range and error positions.
pub(super) fn parse_digits(bytes: &[u8], start: usize) -> Result<(ErrorId, usize), DiagParseError> {
    let mut value: u32 = 0;
    let mut i = start;
    let mut overflow = false;
    while let Some(&b) = bytes.get(i) {
        if !b.is_ascii_digit() {
            break;
        }
        // Keep scanning after overflow so the error is about the whole
        // number, not about a "non-digit" in its middle.
        match value
            .checked_mul(10)
            .and_then(|v| v.checked_add(u32::from(b - b'0')))
        {
            Some(v) => value = v,
            None => overflow = true,
        }
        i += 1;
    }
    if i == start {
        return Err(DiagParseError::MissingErrorId { at: start });
    }
    if overflow {
        return Err(DiagParseError::ErrorIdOutOfRange { at: start });
    }
    Ok((ErrorId(value), i))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_decimal() {
        assert_eq!("1007".parse::<ErrorId>(), Ok(ErrorId(1007)));
        assert_eq!("0".parse::<ErrorId>(), Ok(ErrorId(0)));
        assert_eq!("007".parse::<ErrorId>(), Ok(ErrorId(7)));
        assert_eq!("4294967295".parse::<ErrorId>(), Ok(ErrorId(u32::MAX)));
    }

    #[test]
    fn rejects_out_of_range() {
        assert_eq!(
            "4294967296".parse::<ErrorId>(),
            Err(DiagParseError::ErrorIdOutOfRange { at: 0 })
        );
        assert_eq!(
            "99999999999999999999999".parse::<ErrorId>(),
            Err(DiagParseError::ErrorIdOutOfRange { at: 0 })
        );
    }

    #[test]
    fn rejects_non_digits() {
        assert_eq!(
            "".parse::<ErrorId>(),
            Err(DiagParseError::MissingErrorId { at: 0 })
        );
        assert_eq!(
            "+1".parse::<ErrorId>(),
            Err(DiagParseError::MissingErrorId { at: 0 })
        );
        assert_eq!(
            " 1".parse::<ErrorId>(),
            Err(DiagParseError::MissingErrorId { at: 0 })
        );
        assert_eq!(
            "12a".parse::<ErrorId>(),
            Err(DiagParseError::InvalidErrorId { at: 2 })
        );
        assert_eq!(
            "1 ".parse::<ErrorId>(),
            Err(DiagParseError::InvalidErrorId { at: 1 })
        );
        assert_eq!(
            "١٢".parse::<ErrorId>(),
            Err(DiagParseError::MissingErrorId { at: 0 })
        );
    }

    #[test]
    fn client_range_is_inclusive() {
        assert!(!ErrorId(50999).is_client_reported());
        assert!(ErrorId(51000).is_client_reported());
        assert!(ErrorId(52001).is_client_reported());
        assert!(ErrorId(52999).is_client_reported());
        assert!(!ErrorId(53000).is_client_reported());
        assert!(!ErrorId::REPORT_ERROR_SERVICE_UNAVAILABLE.is_client_reported());
    }

    #[test]
    fn conversions() {
        assert_eq!(
            ErrorId::from(2019u32),
            ErrorId::REPORT_ERROR_SERVICE_UNAVAILABLE
        );
        assert_eq!(u32::from(ErrorId(12006)), 12006);
        assert_eq!(ErrorId::TRYING_NEXT_HOP.get(), 12006);
        assert_eq!(ErrorId(52001).to_string(), "52001");
    }

    proptest! {
        #[test]
        fn display_parse_round_trip(n in any::<u32>()) {
            prop_assert_eq!(ErrorId(n).to_string().parse::<ErrorId>(), Ok(ErrorId(n)));
        }

        #[test]
        fn from_str_never_panics(s in any::<String>()) {
            let _ = s.parse::<ErrorId>();
        }
    }
}
