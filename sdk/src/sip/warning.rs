//! The `Warning` header (RFC 3261 §20.43).

/// A warn-code (three digits). Open newtype.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WarnCode(pub u16);

/// Who added the warning: `hostport` or a `pseudonym` token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WarnAgent {
    /// A host with an optional port.
    HostPort {
        /// Host name, IPv4 or bracketed IPv6 literal, verbatim.
        host: String,
        /// Port, if given.
        port: Option<u16>,
    },
    /// A pseudonym (a token that is not a host).
    Pseudonym(String),
}

/// One warning-value of a `Warning` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// The warn-code.
    pub code: WarnCode,
    /// The warn-agent.
    pub agent: WarnAgent,
    /// The warn-text, unquoted and unescaped.
    pub text: String,
}
