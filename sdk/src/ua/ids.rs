//! The one generator of the identifiers the user agent puts on the wire:
//! `branch` and `tag` parameters, Call-IDs, and the seeds of report retry
//! jitter. Every one is drawn from the operating system's random source
//! (`getrandom`), so two processes, two runs or two user agents in one
//! process never collide in practice and a peer cannot guess the next one.
//!
//! The formatting of a Call-ID and a tag is sans-IO
//! ([`crate::report::call_id_from`], [`crate::report::tag_from`]): an app
//! with its own SIP stack formats its own random numbers the same way.

use crate::report::{call_id_from, tag_from};
use crate::sip::transaction::BRANCH_MAGIC_COOKIE;

/// 64 random bits from the operating system.
///
/// `getrandom` fails only where the OS has no random source at all; rather
/// than refuse to place a call there, the bits then come from the standard
/// library's per-process random hash keys over a counter (unique within the
/// process, still hard to guess), and the failure is logged.
pub fn random_u64() -> u64 {
    match getrandom::u64() {
        Ok(n) => n,
        Err(error) => {
            use std::collections::hash_map::RandomState;
            use std::hash::BuildHasher;
            use std::sync::atomic::{AtomicU64, Ordering};
            use std::sync::OnceLock;

            static KEYS: OnceLock<RandomState> = OnceLock::new();
            static COUNTER: AtomicU64 = AtomicU64::new(0);
            tracing::error!(%error, "no OS random source; ids from hashed counter");
            let count = COUNTER.fetch_add(1, Ordering::Relaxed);
            KEYS.get_or_init(RandomState::new).hash_one(count)
        }
    }
}

/// A fresh `branch` parameter: the RFC 3261 §8.1.1.7 magic cookie and 128
/// random bits.
pub fn new_branch() -> String {
    format!(
        "{BRANCH_MAGIC_COOKIE}{:016x}{:016x}",
        random_u64(),
        random_u64()
    )
}

/// A fresh `tag` parameter (RFC 3261 §19.3: at least 32 random bits): 40
/// bits as 10 lowercase hex digits, as Lync writes them.
pub fn new_tag() -> String {
    tag_from(random_u64())
}

/// A fresh Call-ID: 128 random bits as 32 lowercase hex digits, as Lync
/// writes them.
pub fn new_call_id() -> String {
    call_id_from((u128::from(random_u64()) << 64) | u128::from(random_u64()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn branches_are_fresh_and_carry_the_cookie() {
        let a = new_branch();
        let b = new_branch();
        assert_ne!(a, b);
        assert!(a.starts_with(BRANCH_MAGIC_COOKIE));
        assert_eq!(a.len(), BRANCH_MAGIC_COOKIE.len() + 32);
        assert!(a[BRANCH_MAGIC_COOKIE.len()..]
            .bytes()
            .all(|c| c.is_ascii_hexdigit()));
    }

    #[test]
    fn tags_and_call_ids_have_lyncs_shape_and_do_not_repeat() {
        let tags: HashSet<String> = (0..1000).map(|_| new_tag()).collect();
        let call_ids: HashSet<String> = (0..1000).map(|_| new_call_id()).collect();
        assert_eq!((tags.len(), call_ids.len()), (1000, 1000));
        for t in &tags {
            assert_eq!(t.len(), 10);
            assert!(t.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')));
        }
        for c in &call_ids {
            assert_eq!(c.len(), 32);
            assert!(c.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')));
        }
    }
}
