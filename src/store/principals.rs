//! Who a token is, kept in memory: every API request and console socket names a token, and
//! reading it (token, user, inbox memberships: three statements) on every request was a good
//! part of each request's cost. A principal read once is answered from here until its token
//! expires, until anything that could change it is written, or for `MAX_AGE` at most.
//!
//! Every write that can change what a token opens (a token deleted or revoked, a password set,
//! a role or a disabled flag changed, an inbox membership added or removed, an inbox deleted, a
//! profile or an invitation's account) forgets the whole cache once it has committed
//! (`write_access` in the engines' SQL), so in this process a revocation holds from the answer
//! that reports it. `MAX_AGE` bounds what this process cannot hear of: a change made by the
//! command line or by another node of a cluster on the same database holds here within it.
//!
//! A read that raced with a change is not kept (see remembered.rs).

use std::time::Duration;

use super::remembered::Remembered;
use super::{Principal, TOKEN_TOUCH_EVERY_MS};
use crate::domain::Millis;

/// How long a principal is answered without a read; what another process changed holds here
/// within this.
pub const MAX_AGE: Duration = Duration::from_secs(2);

/// The most tokens remembered: a flood of distinct valid tokens cannot grow memory past it.
const CAPACITY: usize = 10_000;

pub(crate) struct PrincipalCache {
    entries: Remembered<Vec<u8>, Entry>,
}

struct Entry {
    principal: Principal,
    token_expires_at: Option<Millis>,
}

impl Default for PrincipalCache {
    fn default() -> Self {
        PrincipalCache {
            entries: Remembered::new(MAX_AGE, CAPACITY),
        }
    }
}

impl PrincipalCache {
    /// The generation a read starts in; hand it to [`PrincipalCache::keep`] with what it read.
    pub fn generation(&self) -> u64 {
        self.entries.generation()
    }

    /// The principal of the token with this hash, when it is remembered and still good at
    /// `now`. When its last use is old enough to be noted again, this answer carries the old
    /// time (so its request notes the use) and the next ones the new, so that a burst of
    /// requests notes it once.
    pub fn get(&self, hash: &[u8], now: Millis) -> Option<Principal> {
        self.entries.answer(hash, |entry| {
            if entry.token_expires_at.is_some_and(|at| at <= now) {
                return None;
            }
            let principal = entry.principal.clone();
            if principal
                .token_last_used_at
                .is_none_or(|at| now - at >= TOKEN_TOUCH_EVERY_MS)
            {
                entry.principal.token_last_used_at = Some(now);
            }
            Some(principal)
        })
    }

    /// Remembers what a read that started in `generation` found, unless something was forgotten
    /// since (then what it read may be what was just changed).
    pub fn keep(
        &self,
        hash: &[u8],
        principal: &Principal,
        token_expires_at: Option<Millis>,
        generation: u64,
    ) {
        let entry = Entry {
            principal: principal.clone(),
            token_expires_at,
        };
        self.entries.keep(hash.to_vec(), entry, generation);
    }

    /// Forgets every principal: called after each committed write that may change one.
    pub fn forget_all(&self) {
        self.entries.forget_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Role, User};

    impl PrincipalCache {
        fn len(&self) -> usize {
            self.entries.len()
        }

        fn is_empty(&self) -> bool {
            self.len() == 0
        }
    }

    fn principal(last_used: Option<Millis>) -> Principal {
        Principal {
            user: User {
                id: 7,
                workspace_id: 1,
                email: "ana@acme.test".into(),
                name: "Ana".into(),
                role: Role::Agent,
                created_at: 0,
                disabled: false,
                invited: false,
            },
            token_id: 3,
            token_last_used_at: last_used,
            member_inboxes: vec![2],
        }
    }

    #[test]
    fn a_kept_principal_is_answered_until_its_token_expires() {
        let cache = PrincipalCache::default();
        let generation = cache.generation();
        cache.keep(b"h", &principal(Some(1_000)), Some(5_000), generation);
        assert_eq!(cache.get(b"h", 2_000).unwrap().user.id, 7);
        assert!(cache.get(b"h", 5_000).is_none(), "expired at 5000");
        assert!(cache.get(b"h", 2_000).is_none(), "and gone");
        assert!(cache.get(b"other", 2_000).is_none());
    }

    #[test]
    fn a_read_that_raced_with_a_change_is_not_kept() {
        let cache = PrincipalCache::default();
        let started = cache.generation();
        cache.forget_all();
        cache.keep(b"h", &principal(None), None, started);
        assert!(cache.is_empty());
        cache.keep(b"h", &principal(None), None, cache.generation());
        assert_eq!(cache.len(), 1);
        cache.forget_all();
        assert!(cache.get(b"h", 0).is_none());
    }

    #[test]
    fn a_burst_notes_a_token_use_once() {
        let cache = PrincipalCache::default();
        let now = 10 * TOKEN_TOUCH_EVERY_MS;
        cache.keep(b"h", &principal(Some(0)), None, cache.generation());
        let first = cache.get(b"h", now).unwrap();
        assert_eq!(
            first.token_last_used_at,
            Some(0),
            "this request notes the use"
        );
        let second = cache.get(b"h", now + 1).unwrap();
        assert_eq!(
            second.token_last_used_at,
            Some(now),
            "the next ones need not"
        );
    }

    #[test]
    fn memory_stays_bounded() {
        let cache = PrincipalCache::default();
        for i in 0..CAPACITY + 10 {
            cache.keep(&i.to_be_bytes(), &principal(None), None, cache.generation());
        }
        assert!(cache.len() <= CAPACITY);
    }
}
