//! What can be read, byte-wise, of a message that did not parse: enough to
//! tell which client transaction it was meant for, so that a malformed final
//! response fails its transaction at once instead of leaving it to time out.

/// The parts of a malformed message that identify its transaction.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct MalformedHint {
    /// The status code, if the start line is a readable status line.
    pub(crate) status: Option<u16>,
    /// Whether the start line looks like a request (`METHOD uri SIP/2.0`).
    pub(crate) is_request: bool,
    /// The `branch` parameter of the first `Via` value.
    pub(crate) branch: Option<String>,
    /// The method of `CSeq`.
    pub(crate) cseq_method: Option<String>,
}

impl MalformedHint {
    /// Reads what it can of `bytes` (the message, or as much of it as has
    /// arrived). Never fails: an unreadable part is `None`.
    pub(crate) fn inspect(bytes: &[u8]) -> Self {
        let head_end = bytes
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .unwrap_or(bytes.len());
        let head = String::from_utf8_lossy(bytes.get(..head_end).unwrap_or_default());
        let mut lines = head.split('\n').map(|l| l.trim_end_matches('\r'));
        let start = lines
            .by_ref()
            .find(|l| !l.trim().is_empty())
            .unwrap_or_default();
        let mut hint = Self::default();
        if let Some(rest) = start.strip_prefix("SIP/2.0 ") {
            hint.status = rest
                .get(..3)
                .filter(|code| code.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|code| code.parse().ok());
        } else {
            hint.is_request = start.trim_end().ends_with("SIP/2.0");
        }
        for line in lines {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let name = name.trim();
            if hint.branch.is_none()
                && (name.eq_ignore_ascii_case("via") || name.eq_ignore_ascii_case("v"))
            {
                hint.branch = Some(branch_of(value).unwrap_or_default()).filter(|b| !b.is_empty());
            } else if hint.cseq_method.is_none() && name.eq_ignore_ascii_case("cseq") {
                hint.cseq_method = value.split_whitespace().nth(1).map(str::to_owned);
            }
        }
        hint
    }
}

/// The `branch` parameter of the first value of a `Via` header value.
fn branch_of(via: &str) -> Option<String> {
    let first = via.split(',').next()?;
    first.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("branch")
            .then(|| value.trim().to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reads_a_response_with_a_bad_byte() {
        let bytes = b"SIP/2.0 504 Server time-out\r\n\
            Via: SIP/2.0/TCP 127.0.0.1:5;rport;branch=z9hG4bKabc, SIP/2.0/TCP x;branch=other\r\n\
            X-Bad: caf\xe9\r\nCSeq: 7 INVITE\r\nContent-Length: 0\r\n\r\n";
        let hint = MalformedHint::inspect(bytes);
        assert_eq!(
            hint,
            MalformedHint {
                status: Some(504),
                is_request: false,
                branch: Some("z9hG4bKabc".into()),
                cseq_method: Some("INVITE".into()),
            }
        );
    }

    #[test]
    fn reads_requests_compact_via_and_partial_heads() {
        let hint = MalformedHint::inspect(
            b"\r\nBYE sip:a SIP/2.0\r\nv: SIP/2.0/UDP h ; BRANCH = z9hG4bKq\r\nCSeq: 2",
        );
        assert!(hint.is_request);
        assert_eq!(hint.status, None);
        assert_eq!(hint.branch.as_deref(), Some("z9hG4bKq"));
        assert_eq!(hint.cseq_method, None);
        assert_eq!(MalformedHint::inspect(b""), MalformedHint::default());
        let bad_status = MalformedHint::inspect(b"SIP/2.0 5x4 Oops\r\nVia: SIP/2.0/TCP h\r\n\r\n");
        assert_eq!((bad_status.status, bad_status.branch), (None, None));
    }

    proptest! {
        #[test]
        fn never_panics(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
            let _ = MalformedHint::inspect(&bytes);
        }
    }
}
