//! What can go wrong around a transaction: a request or response we were
//! handed cannot be used ([`TransactionError`]), or the transport under the
//! transaction failed ([`TransportFailure`]).

use crate::sip::IdentityError;
use std::fmt;

/// Why a transaction cannot be created, or a response cannot be sent on one.
/// The message is normally our own, so these point at a bug in whoever built it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TransactionError {
    /// A request was expected.
    #[error("the message is a response, not a request")]
    NotARequest,
    /// A response was expected.
    #[error("the message is a request, not a response")]
    NotAResponse,
    /// The request has no Via header.
    #[error("the request has no Via header")]
    MissingVia,
    /// The top Via has no `branch` parameter, or it does not start with the
    /// RFC 3261 magic cookie `z9hG4bK` (§8.1.1.7): without it the branch does
    /// not identify the transaction.
    #[error("the top Via has no branch starting with z9hG4bK")]
    MissingBranch,
    /// From, To, Call-ID or CSeq is missing or unreadable.
    #[error(transparent)]
    Identity(#[from] IdentityError),
    /// The CSeq method differs from the request line's method (RFC 3261 §8.1.1.5).
    #[error("CSeq method {cseq} differs from the request method {request}")]
    MethodMismatch {
        /// The request line's method.
        request: String,
        /// The CSeq header's method.
        cseq: String,
    },
    /// ACK never has a client transaction of its own (RFC 3261 §17): the ACK
    /// for a non-2xx final is sent by the INVITE transaction, the ACK for a 2xx
    /// by the transaction user.
    #[error("ACK has no transaction of its own")]
    AckHasNoTransaction,
    /// INVITE server transactions (RFC 3261 §17.2.1) are not provided; the
    /// server side here answers non-INVITE requests only.
    #[error("INVITE server transactions are not supported")]
    InviteServerTransaction,
    /// A status code outside 100–699.
    #[error("status code {0} is outside 100-699")]
    InvalidStatus(u16),
    /// The server transaction already sent its final response.
    #[error("a final response was already sent")]
    AlreadyAnswered,
    /// The timer values cannot drive retransmissions: T1 must be above zero
    /// and T2 at least T1.
    #[error("invalid timers: T1 must be above zero and T2 at least T1")]
    InvalidTimers,
}

/// What kind of transport failure ended a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportFailureKind {
    /// The peer refused the connection.
    ConnectionRefused,
    /// No route to the host or network.
    Unreachable,
    /// Connecting (or a TLS handshake) took too long.
    TimedOut,
    /// The peer reset or aborted the connection.
    ConnectionReset,
    /// The peer closed the connection while the transaction was pending.
    ConnectionClosed,
    /// The TLS handshake failed for a reason other than the certificate.
    Tls,
    /// The server's certificate was rejected (unknown issuer, wrong name,
    /// expired, ...).
    Certificate,
    /// The peer sent bytes that cannot be framed as SIP messages, so the
    /// connection had to be closed (see `sip::framing`).
    Framing,
    /// The request could not be sent.
    Send,
    /// The message is larger than one UDP datagram can carry, and no
    /// connection-oriented transport to the target could take it.
    TooLarge,
    /// Name resolution failed.
    Resolve,
    /// Anything else.
    Other,
}

impl TransportFailureKind {
    /// A stable lower-case name, for logs and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ConnectionRefused => "connection refused",
            Self::Unreachable => "unreachable",
            Self::TimedOut => "timed out",
            Self::ConnectionReset => "connection reset",
            Self::ConnectionClosed => "connection closed",
            Self::Tls => "TLS failure",
            Self::Certificate => "certificate rejected",
            Self::Framing => "unframeable data",
            Self::Send => "send failed",
            Self::TooLarge => "too large for a datagram",
            Self::Resolve => "name resolution failed",
            Self::Other => "transport failure",
        }
    }
}

impl fmt::Display for TransportFailureKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A transport failure, as a value: what kind, the raw OS error code when the
/// operating system reported one (so the display layer can map it to a Windows
/// error), and a human-readable message. The driver builds it from an
/// `io::Error` or a TLS error; it is cloneable so every transaction on a failed
/// connection gets its own copy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind}: {message}")]
pub struct TransportFailure {
    /// What failed.
    pub kind: TransportFailureKind,
    /// The raw OS error code (`errno`, or a `WSA*` code on Windows), if any.
    pub os_error: Option<i32>,
    /// What the failing layer said.
    pub message: String,
}

impl TransportFailure {
    /// A failure without an OS error code.
    pub fn new(kind: TransportFailureKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            os_error: None,
            message: message.into(),
        }
    }

    /// Describes an `io::Error`: its kind mapped to a [`TransportFailureKind`],
    /// its raw OS code and its text. (A pure conversion: nothing is read or
    /// written.)
    pub fn from_io(error: &std::io::Error) -> Self {
        use std::io::ErrorKind as K;
        let kind = match error.kind() {
            K::ConnectionRefused => TransportFailureKind::ConnectionRefused,
            K::HostUnreachable | K::NetworkUnreachable | K::AddrNotAvailable => {
                TransportFailureKind::Unreachable
            }
            K::TimedOut => TransportFailureKind::TimedOut,
            K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe => {
                TransportFailureKind::ConnectionReset
            }
            K::UnexpectedEof | K::NotConnected => TransportFailureKind::ConnectionClosed,
            _ => TransportFailureKind::Other,
        };
        Self {
            kind,
            os_error: error.raw_os_error(),
            message: error.to_string(),
        }
    }
}

impl From<&std::io::Error> for TransportFailure {
    fn from(error: &std::io::Error) -> Self {
        Self::from_io(error)
    }
}
