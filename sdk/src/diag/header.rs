//! The `ms-diagnostics` and `ms-diagnostics-public` headers (MS-OCER §2.2.1).

use super::ErrorId;

/// Which of the two diagnostics headers a value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HeaderKind {
    /// `ms-diagnostics` (§2.2.1.1).
    Private,
    /// `ms-diagnostics-public` (§2.2.1.2).
    Public,
}

/// A generic-param value: kept quoted or not, so printing gives it back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamValue {
    /// `token` or `host`.
    Token(String),
    /// `quoted-string`, stored unquoted and unescaped.
    Quoted(String),
}

/// One generic-param: `name[=value]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    /// Name as received (compare with `eq_ignore_ascii_case`).
    pub name: String,
    /// Value, if any.
    pub value: Option<ParamValue>,
}

/// A parsed diagnostics header value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiagnosticsHeader {
    /// Private or public header.
    pub kind: HeaderKind,
    /// The ErrorId.
    pub error_id: ErrorId,
    /// `reason` (unquoted, unescaped).
    pub reason: Option<String>,
    /// `source` (unquoted, unescaped).
    pub source: Option<String>,
    /// Other parameters in arrival order.
    pub params: Vec<Param>,
}

/// Why a diagnostics header value did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DiagParseError {}
