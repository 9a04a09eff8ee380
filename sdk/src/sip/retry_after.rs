//! The `Retry-After` header (RFC 3261 §20.33).

/// A parsed `Retry-After` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryAfter {
    /// delta-seconds.
    pub seconds: u32,
    /// The comment, without its outer parentheses.
    pub comment: Option<String>,
    /// The `duration` parameter, in seconds.
    pub duration: Option<u32>,
    /// Other parameters in order: (name, value).
    pub params: Vec<(String, Option<String>)>,
}
