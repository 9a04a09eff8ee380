//! The ErrorId of a diagnostics header.

/// An MS-OCER ErrorId (an unsigned 32-bit integer). Open newtype: unknown
/// values are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ErrorId(pub u32);
