//! `ocer_result`: what every call returns, and the Rust errors behind it.

use ocer::diag::{CollectorError, DiagParseError};
use ocer::display::LocaleError;
use ocer::report::{LimitError, NotReportable};
use ocer::sip::{FrameError, IdentityError};

use crate::ptr::ocer_str;

/// The result of a call. `OCER_RESULT_OK` is 0; every other value is a failure
/// whose details `ocer_last_error_message` gives on the calling thread.
///
/// The list is append-only: a code keeps its number and meaning forever, and
/// the number of a code that is ever withdrawn is never given to another.
/// Codes are grouped by hundreds: 1–99 the calling convention, 100–199 SIP
/// messages, 200–299 diagnostics headers, 300–399 the collector, 400–499 the
/// localizer, 500–599 reports, 600–699 the retry policy, 1000–1999 the user
/// agent. Treat a code you do not know as a failure.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ocer_result {
    /// Success.
    OCER_RESULT_OK = 0,
    /// A panic inside the SDK was caught at the entry point: a bug in ocer.
    /// The objects passed to the call should only be freed afterwards.
    OCER_RESULT_PANIC = 1,
    /// A pointer parameter that must not be NULL was NULL.
    OCER_RESULT_NULL_PARAMETER = 2,
    /// A string parameter is not UTF-8.
    OCER_RESULT_INVALID_UTF8 = 3,
    /// A parameter is outside what the function accepts (an unknown constant,
    /// an impossible length, a malformed struct).
    OCER_RESULT_INVALID_ARGUMENT = 4,
    /// A caller-provided buffer or array is too small; the required size was
    /// reported.
    OCER_RESULT_INSUFFICIENT_SIZE = 5,
    /// An index is not below the count of items.
    OCER_RESULT_INDEX_OUT_OF_RANGE = 6,
    /// What was asked for does not exist.
    OCER_RESULT_NOT_FOUND = 7,
    /// A time in milliseconds cannot be represented on this platform.
    OCER_RESULT_TIME_OUT_OF_RANGE = 8,
    /// The transaction did not fail (a final status below 300): there is no
    /// error to show or report.
    OCER_RESULT_NOT_A_FAILURE = 9,
    /// Bytes are not one SIP message within the limits (the sender's fault).
    OCER_RESULT_SIP_MALFORMED = 100,
    /// A request lacks a usable From, To, Call-ID or CSeq, or is a response.
    OCER_RESULT_SIP_REQUEST_IDENTITY = 101,
    /// A diagnostics header value does not parse (MS-OCER §2.2.1).
    OCER_RESULT_DIAG_MALFORMED = 200,
    /// A request was given as a response, or a response as a request.
    OCER_RESULT_COLLECTOR_WRONG_MESSAGE_KIND = 300,
    /// The message's Call-ID or CSeq is not this transaction's.
    OCER_RESULT_COLLECTOR_NOT_THIS_TRANSACTION = 301,
    /// A server request that is neither BYE nor CANCEL.
    OCER_RESULT_COLLECTOR_NOT_BYE_OR_CANCEL = 302,
    /// The collector refused the message for another reason.
    OCER_RESULT_COLLECTOR_REFUSED = 303,
    /// A locale name is not a BCP 47 language tag.
    OCER_RESULT_LOCALE_INVALID_TAG = 400,
    /// en-US is built in and cannot be replaced.
    OCER_RESULT_LOCALE_REFERENCE = 401,
    /// This locale already has this string set.
    OCER_RESULT_LOCALE_DUPLICATE = 402,
    /// The FTL text has problems; the last error message lists them.
    OCER_RESULT_LOCALE_INVALID = 403,
    /// The locale was refused for another reason.
    OCER_RESULT_LOCALE_REFUSED = 404,
    /// The record does not say how the transaction ended: tell the
    /// collector (`ocer_collector_observe_timeout`,
    /// `ocer_collector_observe_transport_failure`) before finishing it.
    /// (501 is retired.)
    OCER_RESULT_REPORT_NOT_ENDED = 500,
    /// A required field (Call-ID, method) alone breaks its §2.2.2 limit.
    OCER_RESULT_REPORT_REQUIRED_TOO_LONG = 502,
    /// The report's required parts alone exceed the body limit.
    OCER_RESULT_REPORT_REQUIRED_EXCEED_BODY = 503,
    /// The report cannot be built for another reason.
    OCER_RESULT_REPORT_REFUSED = 504,
    /// The user cancelled the request: nothing to report.
    OCER_RESULT_REPORT_CANCELLED = 505,
    /// The address of record is not a SIP URI with a user part.
    OCER_RESULT_UA_INVALID_AOR = 1000,
    /// The user agent could not start (its runtime, socket or outbox).
    OCER_RESULT_UA_START_FAILED = 1001,
    /// The server answered with a final response of 300 or more; the
    /// event `OCER_EVENT_FAILED` (or `OCER_EVENT_REGISTRATION_FAILED`) has what
    /// the user sees.
    OCER_RESULT_UA_REJECTED = 1002,
    /// No final response came before the transaction timer fired.
    OCER_RESULT_UA_TIMEOUT = 1003,
    /// The transport failed (connection refused, reset, …).
    OCER_RESULT_UA_TRANSPORT = 1004,
    /// The target is not a SIP URI the user agent can send to.
    OCER_RESULT_UA_INVALID_TARGET = 1005,
    /// The request was refused before it was sent (a value the SDK may not
    /// send, e.g. a header injected through a URI).
    OCER_RESULT_UA_REFUSED = 1006,
    /// The call was cancelled before it was answered.
    OCER_RESULT_UA_CANCELLED = 1007,
    /// The user agent has shut down.
    OCER_RESULT_UA_SHUT_DOWN = 1008,
    /// The operation failed for another reason.
    OCER_RESULT_UA_FAILED = 1009,
    /// A blocking `ocer_ua_*` function was called on a thread that runs a
    /// tokio runtime, which it would stall.
    OCER_RESULT_UA_IN_RUNTIME = 1010,
    /// The server asked for authentication schemes this client does not
    /// implement (only Kerberos or TLS-DSK offered); the request was
    /// not sent again. The failure's detail names the schemes.
    OCER_RESULT_UA_UNSUPPORTED_AUTH = 1011,
    /// `ocer_ua_report_client_error`: the ErrorId is not a client error the
    /// SDK knows (MS-OCER §7.26, 51000–52999).
    OCER_RESULT_UA_NOT_A_CLIENT_ERROR = 1012,
    /// `ocer_ua_report_client_error`: reporting is off for this user agent.
    OCER_RESULT_UA_REPORTING_OFF = 1013,
    /// `ocer_ua_new` without a server: DNS discovery (RFC 3263 with Lync's
    /// SRV records) found no SIP server for the AOR's domain. The failure's
    /// detail lists what each DNS question got.
    OCER_RESULT_UA_NOT_DISCOVERED = 1014,
    /// `ocer_ua_new` without a server or `dns_server`: the system's DNS
    /// configuration (`/etc/resolv.conf`) could not be read.
    OCER_RESULT_UA_NO_RESOLVER = 1015,
}

impl ocer_result {
    /// Every code, for `ocer_result_describe` and the tests.
    pub(crate) const ALL: [ocer_result; 43] = [
        Self::OCER_RESULT_OK,
        Self::OCER_RESULT_PANIC,
        Self::OCER_RESULT_NULL_PARAMETER,
        Self::OCER_RESULT_INVALID_UTF8,
        Self::OCER_RESULT_INVALID_ARGUMENT,
        Self::OCER_RESULT_INSUFFICIENT_SIZE,
        Self::OCER_RESULT_INDEX_OUT_OF_RANGE,
        Self::OCER_RESULT_NOT_FOUND,
        Self::OCER_RESULT_TIME_OUT_OF_RANGE,
        Self::OCER_RESULT_NOT_A_FAILURE,
        Self::OCER_RESULT_SIP_MALFORMED,
        Self::OCER_RESULT_SIP_REQUEST_IDENTITY,
        Self::OCER_RESULT_DIAG_MALFORMED,
        Self::OCER_RESULT_COLLECTOR_WRONG_MESSAGE_KIND,
        Self::OCER_RESULT_COLLECTOR_NOT_THIS_TRANSACTION,
        Self::OCER_RESULT_COLLECTOR_NOT_BYE_OR_CANCEL,
        Self::OCER_RESULT_COLLECTOR_REFUSED,
        Self::OCER_RESULT_LOCALE_INVALID_TAG,
        Self::OCER_RESULT_LOCALE_REFERENCE,
        Self::OCER_RESULT_LOCALE_DUPLICATE,
        Self::OCER_RESULT_LOCALE_INVALID,
        Self::OCER_RESULT_LOCALE_REFUSED,
        Self::OCER_RESULT_REPORT_NOT_ENDED,
        Self::OCER_RESULT_REPORT_REQUIRED_TOO_LONG,
        Self::OCER_RESULT_REPORT_REQUIRED_EXCEED_BODY,
        Self::OCER_RESULT_REPORT_REFUSED,
        Self::OCER_RESULT_REPORT_CANCELLED,
        Self::OCER_RESULT_UA_INVALID_AOR,
        Self::OCER_RESULT_UA_START_FAILED,
        Self::OCER_RESULT_UA_REJECTED,
        Self::OCER_RESULT_UA_TIMEOUT,
        Self::OCER_RESULT_UA_TRANSPORT,
        Self::OCER_RESULT_UA_INVALID_TARGET,
        Self::OCER_RESULT_UA_REFUSED,
        Self::OCER_RESULT_UA_CANCELLED,
        Self::OCER_RESULT_UA_SHUT_DOWN,
        Self::OCER_RESULT_UA_FAILED,
        Self::OCER_RESULT_UA_IN_RUNTIME,
        Self::OCER_RESULT_UA_UNSUPPORTED_AUTH,
        Self::OCER_RESULT_UA_NOT_A_CLIENT_ERROR,
        Self::OCER_RESULT_UA_REPORTING_OFF,
        Self::OCER_RESULT_UA_NOT_DISCOVERED,
        Self::OCER_RESULT_UA_NO_RESOLVER,
    ];

    /// One line on what the code means.
    pub(crate) const fn describe(self) -> &'static str {
        match self {
            Self::OCER_RESULT_OK => "success",
            Self::OCER_RESULT_PANIC => "a panic inside ocer was caught (a bug in ocer)",
            Self::OCER_RESULT_NULL_PARAMETER => "a required pointer parameter was NULL",
            Self::OCER_RESULT_INVALID_UTF8 => "a string parameter is not UTF-8",
            Self::OCER_RESULT_INVALID_ARGUMENT => {
                "a parameter is outside what the function accepts"
            }
            Self::OCER_RESULT_INSUFFICIENT_SIZE => "a caller-provided buffer or array is too small",
            Self::OCER_RESULT_INDEX_OUT_OF_RANGE => "an index is not below the count of items",
            Self::OCER_RESULT_NOT_FOUND => "what was asked for does not exist",
            Self::OCER_RESULT_TIME_OUT_OF_RANGE => "a time cannot be represented on this platform",
            Self::OCER_RESULT_NOT_A_FAILURE => {
                "the transaction did not fail: nothing to show or report"
            }
            Self::OCER_RESULT_SIP_MALFORMED => {
                "the bytes are not one SIP message within the limits"
            }
            Self::OCER_RESULT_SIP_REQUEST_IDENTITY => {
                "the request lacks a usable From, To, Call-ID or CSeq"
            }
            Self::OCER_RESULT_DIAG_MALFORMED => "the diagnostics header value does not parse",
            Self::OCER_RESULT_COLLECTOR_WRONG_MESSAGE_KIND => {
                "a request was given as a response, or a response as a request"
            }
            Self::OCER_RESULT_COLLECTOR_NOT_THIS_TRANSACTION => {
                "the message does not belong to this transaction"
            }
            Self::OCER_RESULT_COLLECTOR_NOT_BYE_OR_CANCEL => {
                "the server request is neither BYE nor CANCEL"
            }
            Self::OCER_RESULT_COLLECTOR_REFUSED => "the collector refused the message",
            Self::OCER_RESULT_LOCALE_INVALID_TAG => "the locale is not a BCP 47 language tag",
            Self::OCER_RESULT_LOCALE_REFERENCE => "en-US is built in and cannot be replaced",
            Self::OCER_RESULT_LOCALE_DUPLICATE => "this locale already has this string set",
            Self::OCER_RESULT_LOCALE_INVALID => "the FTL text has problems",
            Self::OCER_RESULT_LOCALE_REFUSED => "the locale was refused",
            Self::OCER_RESULT_REPORT_NOT_ENDED => {
                "the record does not say how the transaction ended"
            }
            Self::OCER_RESULT_REPORT_CANCELLED => "the request was cancelled: nothing to report",
            Self::OCER_RESULT_REPORT_REQUIRED_TOO_LONG => {
                "a required report field alone breaks its limit"
            }
            Self::OCER_RESULT_REPORT_REQUIRED_EXCEED_BODY => {
                "the report's required parts exceed the body limit"
            }
            Self::OCER_RESULT_REPORT_REFUSED => "the report cannot be built",
            Self::OCER_RESULT_UA_INVALID_AOR => {
                "the address of record is not a SIP URI with a user part"
            }
            Self::OCER_RESULT_UA_START_FAILED => "the user agent could not start",
            Self::OCER_RESULT_UA_REJECTED => "the server rejected the request",
            Self::OCER_RESULT_UA_TIMEOUT => "no final response came in time",
            Self::OCER_RESULT_UA_TRANSPORT => "the transport failed",
            Self::OCER_RESULT_UA_INVALID_TARGET => {
                "the target is not a SIP URI the user agent can send to"
            }
            Self::OCER_RESULT_UA_REFUSED => "the request was refused before it was sent",
            Self::OCER_RESULT_UA_CANCELLED => "the call was cancelled",
            Self::OCER_RESULT_UA_SHUT_DOWN => "the user agent has shut down",
            Self::OCER_RESULT_UA_FAILED => "the operation failed",
            Self::OCER_RESULT_UA_IN_RUNTIME => {
                "a blocking call was made on a thread that runs a tokio runtime"
            }
            Self::OCER_RESULT_UA_UNSUPPORTED_AUTH => {
                "the server offers only authentication schemes this client does not support"
            }
            Self::OCER_RESULT_UA_NOT_A_CLIENT_ERROR => "the ErrorId is not a known client error",
            Self::OCER_RESULT_UA_REPORTING_OFF => "reporting is off for this user agent",
            Self::OCER_RESULT_UA_NOT_DISCOVERED => {
                "DNS discovery found no SIP server for the domain"
            }
            Self::OCER_RESULT_UA_NO_RESOLVER => "no DNS resolver to discover the server with",
        }
    }
}

/// A short English description of a result code; static, never freed. An
/// unknown code gives "unknown result code". Takes the code as an integer so
/// that any value C passes is valid.
#[no_mangle]
pub extern "C" fn ocer_result_describe(result: u32) -> ocer_str {
    let text = std::panic::catch_unwind(|| {
        ocer_result::ALL
            .iter()
            .find(|r| **r as u32 == result)
            .map_or("unknown result code", |r| r.describe())
    })
    .unwrap_or("unknown result code");
    ocer_str::of(text)
}

/// A failed call: its code, and the detail for `ocer_last_error_message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    pub(crate) code: ocer_result,
    pub(crate) detail: String,
}

impl Failure {
    pub(crate) fn new(code: ocer_result, detail: impl Into<String>) -> Failure {
        Failure {
            code,
            detail: detail.into(),
        }
    }

    pub(crate) fn null(what: &'static str) -> Failure {
        Failure::new(
            ocer_result::OCER_RESULT_NULL_PARAMETER,
            format!("{what} is NULL"),
        )
    }

    pub(crate) fn invalid(detail: impl Into<String>) -> Failure {
        Failure::new(ocer_result::OCER_RESULT_INVALID_ARGUMENT, detail)
    }

    /// Prefixes the detail with what the input was.
    pub(crate) fn context(mut self, what: &str) -> Failure {
        self.detail = format!("{what}: {}", self.detail);
        self
    }
}

impl From<FrameError> for Failure {
    fn from(e: FrameError) -> Self {
        Failure::new(ocer_result::OCER_RESULT_SIP_MALFORMED, e.to_string())
    }
}

impl From<IdentityError> for Failure {
    fn from(e: IdentityError) -> Self {
        Failure::new(ocer_result::OCER_RESULT_SIP_REQUEST_IDENTITY, e.to_string())
    }
}

impl From<DiagParseError> for Failure {
    fn from(e: DiagParseError) -> Self {
        Failure::new(ocer_result::OCER_RESULT_DIAG_MALFORMED, e.to_string())
    }
}

impl From<CollectorError> for Failure {
    fn from(e: CollectorError) -> Self {
        let code = match &e {
            CollectorError::WrongMessageKind { .. } => {
                ocer_result::OCER_RESULT_COLLECTOR_WRONG_MESSAGE_KIND
            }
            CollectorError::NotThisTransaction(_) => {
                ocer_result::OCER_RESULT_COLLECTOR_NOT_THIS_TRANSACTION
            }
            CollectorError::NotByeOrCancel(_) => {
                ocer_result::OCER_RESULT_COLLECTOR_NOT_BYE_OR_CANCEL
            }
            _ => ocer_result::OCER_RESULT_COLLECTOR_REFUSED,
        };
        Failure::new(code, e.to_string())
    }
}

impl From<LocaleError> for Failure {
    fn from(e: LocaleError) -> Self {
        let code = match &e {
            LocaleError::ReferenceLocale { .. } => ocer_result::OCER_RESULT_LOCALE_REFERENCE,
            LocaleError::Duplicate { .. } => ocer_result::OCER_RESULT_LOCALE_DUPLICATE,
            LocaleError::Invalid { .. } => ocer_result::OCER_RESULT_LOCALE_INVALID,
            _ => ocer_result::OCER_RESULT_LOCALE_REFUSED,
        };
        // A translator needs every problem, not the first one the summary names.
        let detail = match &e {
            LocaleError::Invalid { problems, .. } => format!("{e}\n{}", problems.join("\n")),
            _ => e.to_string(),
        };
        Failure::new(code, detail)
    }
}

impl From<NotReportable> for Failure {
    fn from(e: NotReportable) -> Self {
        let code = match e {
            NotReportable::Succeeded(_) => ocer_result::OCER_RESULT_NOT_A_FAILURE,
            NotReportable::NotEnded => ocer_result::OCER_RESULT_REPORT_NOT_ENDED,
            NotReportable::Cancelled => ocer_result::OCER_RESULT_REPORT_CANCELLED,
            _ => ocer_result::OCER_RESULT_REPORT_REFUSED,
        };
        Failure::new(code, e.to_string())
    }
}

impl From<LimitError> for Failure {
    fn from(e: LimitError) -> Self {
        let code = match e {
            LimitError::RequiredTooLong { .. } => ocer_result::OCER_RESULT_REPORT_REQUIRED_TOO_LONG,
            LimitError::RequiredExceedBody { .. } => {
                ocer_result::OCER_RESULT_REPORT_REQUIRED_EXCEED_BODY
            }
            _ => ocer_result::OCER_RESULT_REPORT_REFUSED,
        };
        Failure::new(code, e.to_string())
    }
}

impl From<ocer::ua::UaError> for Failure {
    fn from(e: ocer::ua::UaError) -> Self {
        let code = match &e {
            ocer::ua::UaError::InvalidAor(_) => ocer_result::OCER_RESULT_UA_INVALID_AOR,
            ocer::ua::UaError::ShutDown => ocer_result::OCER_RESULT_UA_SHUT_DOWN,
            ocer::ua::UaError::NotAClientErrorId(_) => {
                ocer_result::OCER_RESULT_UA_NOT_A_CLIENT_ERROR
            }
            ocer::ua::UaError::ReportingOff => ocer_result::OCER_RESULT_UA_REPORTING_OFF,
            ocer::ua::UaError::InvalidRequestType(_) => ocer_result::OCER_RESULT_INVALID_ARGUMENT,
            _ => ocer_result::OCER_RESULT_UA_START_FAILED,
        };
        Failure::new(code, e.to_string())
    }
}

impl From<ocer::ua::discovery::DiscoveryError> for Failure {
    fn from(e: ocer::ua::discovery::DiscoveryError) -> Self {
        use ocer::ua::discovery::DiscoveryError;
        let code = match &e {
            DiscoveryError::NotFound { .. } => ocer_result::OCER_RESULT_UA_NOT_DISCOVERED,
            DiscoveryError::Resolver(_) => ocer_result::OCER_RESULT_UA_NO_RESOLVER,
            // A kind of failure added later: still a discovery that found nothing.
            _ => ocer_result::OCER_RESULT_UA_NOT_DISCOVERED,
        };
        Failure::new(code, e.to_string())
    }
}

impl From<ocer::ua::Failure> for Failure {
    fn from(f: ocer::ua::Failure) -> Self {
        use ocer::ua::{FailureKind, LocalFailure};
        let code = match &f.kind {
            FailureKind::Rejected(_) => ocer_result::OCER_RESULT_UA_REJECTED,
            FailureKind::Timeout => ocer_result::OCER_RESULT_UA_TIMEOUT,
            FailureKind::Transport(_) => ocer_result::OCER_RESULT_UA_TRANSPORT,
            FailureKind::UnsupportedAuthentication(_) => {
                ocer_result::OCER_RESULT_UA_UNSUPPORTED_AUTH
            }
            FailureKind::Local(LocalFailure::InvalidUri(_)) => {
                ocer_result::OCER_RESULT_UA_INVALID_TARGET
            }
            FailureKind::Local(LocalFailure::Refused(_)) => ocer_result::OCER_RESULT_UA_REFUSED,
            FailureKind::Local(LocalFailure::Cancelled) => ocer_result::OCER_RESULT_UA_CANCELLED,
            FailureKind::Local(LocalFailure::ShutDown) => ocer_result::OCER_RESULT_UA_SHUT_DOWN,
            _ => ocer_result::OCER_RESULT_UA_FAILED,
        };
        // The technical cause, then what the user sees: a log line.
        let detail = f.to_string();
        Failure::new(code, detail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_described() {
        let mut seen = std::collections::HashSet::new();
        for r in ocer_result::ALL {
            assert!(seen.insert(r as u32), "{r:?} is numbered twice");
            let d = ocer_result_describe(r as u32);
            // SAFETY: describe returns a static string's view.
            let text = unsafe { std::slice::from_raw_parts(d.ptr, d.len) };
            assert_eq!(text, r.describe().as_bytes());
        }
        let d = ocer_result_describe(999_999);
        assert_eq!(d.len, "unknown result code".len());
    }

    /// The numbers are the ABI: this list is the contract, and changing a line
    /// of it is the mistake the test exists to catch.
    #[test]
    fn numbers_never_change() {
        let expected: [(ocer_result, u32); 43] = [
            (ocer_result::OCER_RESULT_OK, 0),
            (ocer_result::OCER_RESULT_PANIC, 1),
            (ocer_result::OCER_RESULT_NULL_PARAMETER, 2),
            (ocer_result::OCER_RESULT_INVALID_UTF8, 3),
            (ocer_result::OCER_RESULT_INVALID_ARGUMENT, 4),
            (ocer_result::OCER_RESULT_INSUFFICIENT_SIZE, 5),
            (ocer_result::OCER_RESULT_INDEX_OUT_OF_RANGE, 6),
            (ocer_result::OCER_RESULT_NOT_FOUND, 7),
            (ocer_result::OCER_RESULT_TIME_OUT_OF_RANGE, 8),
            (ocer_result::OCER_RESULT_NOT_A_FAILURE, 9),
            (ocer_result::OCER_RESULT_SIP_MALFORMED, 100),
            (ocer_result::OCER_RESULT_SIP_REQUEST_IDENTITY, 101),
            (ocer_result::OCER_RESULT_DIAG_MALFORMED, 200),
            (ocer_result::OCER_RESULT_COLLECTOR_WRONG_MESSAGE_KIND, 300),
            (ocer_result::OCER_RESULT_COLLECTOR_NOT_THIS_TRANSACTION, 301),
            (ocer_result::OCER_RESULT_COLLECTOR_NOT_BYE_OR_CANCEL, 302),
            (ocer_result::OCER_RESULT_COLLECTOR_REFUSED, 303),
            (ocer_result::OCER_RESULT_LOCALE_INVALID_TAG, 400),
            (ocer_result::OCER_RESULT_LOCALE_REFERENCE, 401),
            (ocer_result::OCER_RESULT_LOCALE_DUPLICATE, 402),
            (ocer_result::OCER_RESULT_LOCALE_INVALID, 403),
            (ocer_result::OCER_RESULT_LOCALE_REFUSED, 404),
            (ocer_result::OCER_RESULT_REPORT_NOT_ENDED, 500),
            (ocer_result::OCER_RESULT_REPORT_REQUIRED_TOO_LONG, 502),
            (ocer_result::OCER_RESULT_REPORT_REQUIRED_EXCEED_BODY, 503),
            (ocer_result::OCER_RESULT_REPORT_REFUSED, 504),
            (ocer_result::OCER_RESULT_REPORT_CANCELLED, 505),
            (ocer_result::OCER_RESULT_UA_INVALID_AOR, 1000),
            (ocer_result::OCER_RESULT_UA_START_FAILED, 1001),
            (ocer_result::OCER_RESULT_UA_REJECTED, 1002),
            (ocer_result::OCER_RESULT_UA_TIMEOUT, 1003),
            (ocer_result::OCER_RESULT_UA_TRANSPORT, 1004),
            (ocer_result::OCER_RESULT_UA_INVALID_TARGET, 1005),
            (ocer_result::OCER_RESULT_UA_REFUSED, 1006),
            (ocer_result::OCER_RESULT_UA_CANCELLED, 1007),
            (ocer_result::OCER_RESULT_UA_SHUT_DOWN, 1008),
            (ocer_result::OCER_RESULT_UA_FAILED, 1009),
            (ocer_result::OCER_RESULT_UA_IN_RUNTIME, 1010),
            (ocer_result::OCER_RESULT_UA_UNSUPPORTED_AUTH, 1011),
            (ocer_result::OCER_RESULT_UA_NOT_A_CLIENT_ERROR, 1012),
            (ocer_result::OCER_RESULT_UA_REPORTING_OFF, 1013),
            (ocer_result::OCER_RESULT_UA_NOT_DISCOVERED, 1014),
            (ocer_result::OCER_RESULT_UA_NO_RESOLVER, 1015),
        ];
        for (code, number) in expected {
            assert_eq!(code as u32, number, "{code:?}");
        }
        assert_eq!(expected.len(), ocer_result::ALL.len());
    }
}
