//! RFC 7523 §3 replay protection for `private_key_jwt`: each `(client_id, jti)` is accepted
//! once while its assertion could still verify.
//!
//! Bounded in every direction: an entry is a 32-byte hash whatever the `jti`'s length, it is
//! dropped once its assertion has expired (assertions live at most ten minutes, see
//! `jose::MAX_ASSERTION_LIFETIME_SECONDS`), forgetting is amortized O(log n) through a heap
//! ordered by expiry (no scan of the whole set), and the number of live entries is capped.
//! When the cap is reached new assertions are refused rather than old entries evicted: an
//! evicted entry would let its assertion be replayed, and a TTL cache that evicts or declines
//! to admit under pressure (as `moka`'s TinyLFU does) cannot promise "used once".
//!
//! Each client also has a share of the cap: a client with its own key that sends fresh
//! assertions as fast as it can is refused once it holds [`MAX_REMEMBERED_PER_CLIENT`] live
//! entries, while other clients keep being served. Per-client counts are kept up to date as
//! entries are added and forgotten, so the check is O(1).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::Mutex;

/// Live assertions remembered per realm. At ~100 bytes an entry this is ~10 MiB, enough for
/// 150 new assertions a second, sustained, at the longest assertion lifetime.
pub const MAX_REMEMBERED_ASSERTIONS: usize = 100_000;

/// Live assertions remembered per client: 2 % of the realm's cap, so it takes 50 clients to
/// fill it. Enough for 3 new assertions a second at the longest assertion lifetime (11 min
/// with skew), or 16 a second with one-minute assertions.
pub const MAX_REMEMBERED_PER_CLIENT: usize = MAX_REMEMBERED_ASSERTIONS / 50;

/// Why an assertion was not recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplayRefusal {
    /// The `jti` was already used by this client.
    Replayed,
    /// The cache is full of live assertions; the caller should retry later.
    Full,
    /// This client already holds its share of the cache; it should retry later.
    ClientShareFull,
}

type Fingerprint = [u8; 32];

/// Whose entry it is: the first half of SHA-256 of the client id. Entries taken back from a
/// realm export carry no owner ([`Owner::Unknown`]) and count only against the realm's cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Owner {
    Client([u8; 16]),
    Unknown,
}

#[derive(Default)]
struct Seen {
    /// Fingerprint → the time after which it may be forgotten.
    forget_after: HashMap<Fingerprint, u64>,
    /// The same entries ordered by that time, earliest first, with their owner.
    by_expiry: BinaryHeap<Reverse<(u64, Fingerprint, Owner)>>,
    /// Live entries per client (clients without any are absent).
    per_client: HashMap<Owner, usize>,
}

impl Seen {
    /// Forgets every entry whose time has passed: O(log n) each, never a scan.
    fn forget_expired(&mut self, now: u64) {
        while let Some(Reverse((expiry, old, owner))) = self.by_expiry.peek().copied() {
            if expiry > now {
                break;
            }
            self.by_expiry.pop();
            self.forget_after.remove(&old);
            if let Some(count) = self.per_client.get_mut(&owner) {
                *count -= 1;
                if *count == 0 {
                    self.per_client.remove(&owner);
                }
            }
        }
    }

    fn add(&mut self, fingerprint: Fingerprint, owner: Owner, forget_after: u64) {
        if self
            .forget_after
            .insert(fingerprint, forget_after)
            .is_none()
        {
            self.by_expiry
                .push(Reverse((forget_after, fingerprint, owner)));
            *self.per_client.entry(owner).or_default() += 1;
        }
    }
}

/// The `jti`s a realm has accepted and that could still be replayed.
pub struct ReplayCache {
    seen: Mutex<Seen>,
    capacity: usize,
    per_client_capacity: usize,
}

impl ReplayCache {
    pub fn new(capacity: usize, per_client_capacity: usize) -> Self {
        Self {
            seen: Mutex::new(Seen::default()),
            capacity,
            per_client_capacity,
        }
    }

    /// Records `jti` of `client_id`, remembered until `forget_after` (the assertion's `exp`
    /// plus clock skew), or refuses it. `now` drives the forgetting of expired entries.
    pub fn remember(
        &self,
        client_id: &str,
        jti: &str,
        forget_after: u64,
        now: u64,
    ) -> Result<(), ReplayRefusal> {
        let fingerprint = fingerprint(client_id, jti);
        let owner = owner(client_id);
        let mut seen = self.seen.lock().map_err(|_| ReplayRefusal::Full)?;
        seen.forget_expired(now);
        if seen.forget_after.contains_key(&fingerprint) {
            return Err(ReplayRefusal::Replayed);
        }
        if seen.per_client.get(&owner).copied().unwrap_or(0) >= self.per_client_capacity {
            return Err(ReplayRefusal::ClientShareFull);
        }
        if seen.forget_after.len() >= self.capacity {
            return Err(ReplayRefusal::Full);
        }
        seen.add(fingerprint, owner, forget_after);
        Ok(())
    }

    /// Every remembered entry, as (hex fingerprint, time after which it may be forgotten):
    /// what a realm export carries so that a moved realm keeps refusing used assertions.
    pub fn entries(&self) -> Vec<(String, u64)> {
        let Ok(seen) = self.seen.lock() else {
            return Vec::new();
        };
        seen.forget_after
            .iter()
            .map(|(fingerprint, until)| (hex(fingerprint), *until))
            .collect()
    }

    /// Takes back entries from [`Self::entries`]; expired, malformed or over-capacity ones
    /// are skipped.
    pub fn restore(&self, entries: impl IntoIterator<Item = (String, u64)>, now: u64) {
        let Ok(mut seen) = self.seen.lock() else {
            return;
        };
        for (text, until) in entries {
            if until <= now || seen.forget_after.len() >= self.capacity {
                continue;
            }
            let Some(fingerprint) = unhex(&text) else {
                continue;
            };
            seen.add(fingerprint, Owner::Unknown, until);
        }
    }

    /// How many assertions are remembered.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.seen.lock().map(|s| s.forget_after.len()).unwrap_or(0)
    }
}

/// SHA-256 of the client id and the `jti`, length-prefixed so no two pairs collide by
/// concatenation.
fn fingerprint(client_id: &str, jti: &str) -> Fingerprint {
    let mut hasher = openssl::sha::Sha256::new();
    hasher.update(&(client_id.len() as u64).to_be_bytes());
    hasher.update(client_id.as_bytes());
    hasher.update(jti.as_bytes());
    hasher.finish()
}

fn owner(client_id: &str) -> Owner {
    let digest = crate::secret::sha256(client_id.as_bytes());
    let mut half = [0u8; 16];
    half.copy_from_slice(&digest[..16]);
    Owner::Client(half)
}

fn hex(fingerprint: &Fingerprint) -> String {
    fingerprint.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Fingerprint> {
    let mut out = [0u8; 32];
    if text.len() != 64 {
        return None;
    }
    for (slot, pair) in out.iter_mut().zip(text.as_bytes().chunks(2)) {
        let pair = std::str::from_utf8(pair).ok()?;
        *slot = u8::from_str_radix(pair, 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_jti_is_accepted_once_per_client_while_live() {
        let cache = ReplayCache::new(10, 10);
        assert_eq!(cache.remember("a", "j", 200, 100), Ok(()));
        assert_eq!(
            cache.remember("a", "j", 200, 150),
            Err(ReplayRefusal::Replayed)
        );
        assert_eq!(cache.remember("b", "j", 200, 150), Ok(()), "other client");
        assert_eq!(
            cache.remember("a", "j", 300, 200),
            Ok(()),
            "forgotten after"
        );
    }

    #[test]
    fn expired_entries_make_room_and_a_full_cache_refuses_instead_of_evicting() {
        let cache = ReplayCache::new(2, 10);
        cache.remember("a", "1", 110, 100).unwrap();
        cache.remember("a", "2", 500, 100).unwrap();
        assert_eq!(cache.remember("a", "3", 500, 105), Err(ReplayRefusal::Full));
        assert_eq!(
            cache.remember("a", "2", 500, 105),
            Err(ReplayRefusal::Replayed)
        );
        assert_eq!(cache.remember("a", "3", 500, 110), Ok(()), "1 expired");
        assert_eq!(cache.len(), 2);
    }

    #[test]
    fn entries_survive_an_export_and_restore() {
        let cache = ReplayCache::new(10, 10);
        cache.remember("a", "j", 500, 100).unwrap();
        let moved = ReplayCache::new(10, 10);
        moved.restore(cache.entries(), 150);
        assert_eq!(
            moved.remember("a", "j", 500, 150),
            Err(ReplayRefusal::Replayed)
        );
        moved.restore([("zz".to_owned(), 900)], 150);
        assert_eq!(moved.len(), 1, "malformed entries are skipped");
    }

    #[test]
    fn a_client_that_fills_its_share_is_refused_alone() {
        let cache = ReplayCache::new(10, 3);
        for jti in ["1", "2", "3"] {
            cache.remember("greedy", jti, 500, 100).unwrap();
        }
        assert_eq!(
            cache.remember("greedy", "4", 500, 100),
            Err(ReplayRefusal::ClientShareFull)
        );
        assert_eq!(
            cache.remember("greedy", "3", 500, 100),
            Err(ReplayRefusal::Replayed),
            "a replay is still named as one"
        );
        assert_eq!(cache.remember("other", "1", 500, 100), Ok(()));
        assert_eq!(cache.remember("other", "2", 500, 100), Ok(()));
        assert_eq!(cache.len(), 5);
    }

    #[test]
    fn a_share_frees_up_as_its_entries_expire() {
        let cache = ReplayCache::new(10, 2);
        cache.remember("a", "1", 110, 100).unwrap();
        cache.remember("a", "2", 120, 100).unwrap();
        assert_eq!(
            cache.remember("a", "3", 500, 105),
            Err(ReplayRefusal::ClientShareFull)
        );
        assert_eq!(cache.remember("a", "3", 500, 110), Ok(()), "1 expired");
        assert_eq!(
            cache.remember("a", "4", 500, 115),
            Err(ReplayRefusal::ClientShareFull)
        );
        assert_eq!(cache.remember("a", "4", 500, 120), Ok(()), "2 expired");
        assert_eq!(
            cache.seen.lock().unwrap().per_client.get(&owner("a")),
            Some(&2),
            "the count follows the entries"
        );
    }

    #[test]
    fn restored_entries_count_against_the_realm_cap_but_no_client_share() {
        let cache = ReplayCache::new(3, 1);
        cache.remember("a", "j", 500, 100).unwrap();
        let moved = ReplayCache::new(3, 1);
        moved.restore(cache.entries(), 150);
        assert_eq!(
            moved.remember("a", "j", 500, 150),
            Err(ReplayRefusal::Replayed)
        );
        assert_eq!(
            moved.remember("a", "k", 500, 150),
            Ok(()),
            "a's share is free"
        );
        assert_eq!(moved.remember("b", "k", 500, 150), Ok(()));
        assert_eq!(
            moved.remember("c", "k", 500, 150),
            Err(ReplayRefusal::Full),
            "the realm cap still holds"
        );
    }
}
