//! Token buckets (kept as the generic cell rate algorithm keeps them) for registration rates,
//! keyed by client address or `software_id`, in bounded memory: keys live in two generations,
//! and when the current one is full the older one is dropped. A dropped key starts again with
//! a full bucket, which only an attacker with more keys than the limiter holds could exploit,
//! and such an attacker is not rate-limited by a per-key bucket anyway.

use super::error::RealmError;
use super::policy::RateLimit;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

/// Keys per generation (two generations: at most twice this many buckets per limiter).
const KEYS_PER_GENERATION: usize = 10_000;
/// Longer keys (a `software_id` is the client's choice) are kept as their SHA-256.
const MAX_KEY_BYTES: usize = 64;

/// A bucket as the generic cell rate algorithm keeps it: the moment (milliseconds since the
/// limiter started) at which it would be full again. Integer arithmetic, exact retry times.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    full_at_ms: u64,
}

#[derive(Default)]
struct Generations {
    current: HashMap<String, Bucket>,
    previous: HashMap<String, Bucket>,
}

/// One realm's buckets of one kind.
pub(crate) struct RateLimiter {
    started: Instant,
    buckets: Mutex<Generations>,
}

impl RateLimiter {
    pub(crate) fn new() -> Self {
        Self {
            started: Instant::now(),
            buckets: Mutex::new(Generations::default()),
        }
    }

    /// Takes one registration from `key`'s bucket when the realm sets a `limit`; refused
    /// with the seconds until one is free. `what` says whose rate it is.
    pub(crate) fn admit(
        &self,
        key: &str,
        limit: Option<RateLimit>,
        what: &'static str,
    ) -> Result<(), RealmError> {
        let Some(limit) = limit else {
            return Ok(());
        };
        let hashed;
        let key = if key.len() > MAX_KEY_BYTES {
            hashed = URL_SAFE_NO_PAD.encode(crate::secret::sha256(key.as_bytes()));
            hashed.as_str()
        } else {
            key
        };
        let now_ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let Ok(mut generations) = self.buckets.lock() else {
            // A panicked holder left no consistent buckets: fail open rather than refuse all.
            return Ok(());
        };
        generations
            .take(key, limit, now_ms)
            .map_err(|retry_after| RealmError::RateLimited { what, retry_after })
    }
}

impl Generations {
    fn take(&mut self, key: &str, limit: RateLimit, now_ms: u64) -> Result<(), u64> {
        let interval = limit.refill_seconds.saturating_mul(1000).max(1);
        let capacity = u64::from(limit.burst).saturating_mul(interval);
        let full_at = self
            .current
            .get(key)
            .or_else(|| self.previous.get(key))
            .map_or(now_ms, |bucket| bucket.full_at_ms.max(now_ms));
        // Taking one registration moves the full moment one interval later; the bucket holds
        // `burst` intervals.
        let after_take = full_at.saturating_add(interval);
        let (full_at, outcome) = match after_take.saturating_sub(now_ms).checked_sub(capacity) {
            None | Some(0) => (after_take, Ok(())),
            Some(wait_ms) => (full_at, Err(wait_ms.div_ceil(1000).max(1))),
        };
        if !self.current.contains_key(key) && self.current.len() >= KEYS_PER_GENERATION {
            self.previous = std::mem::take(&mut self.current);
        }
        self.previous.remove(key);
        self.current.insert(
            key.to_owned(),
            Bucket {
                full_at_ms: full_at,
            },
        );
        outcome
    }
}

/// The bucket key of a client address: IPv6 clients by their /64, since one host usually
/// holds a whole /64.
pub(crate) fn address_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let [a, b, c, d, ..] = v6.segments();
                format!("{a:x}:{b:x}:{c:x}:{d:x}::/64")
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO_PER_MINUTE: RateLimit = RateLimit {
        burst: 2,
        refill_seconds: 30,
    };

    #[test]
    fn a_bucket_allows_its_burst_then_says_when_to_retry_and_refills() {
        let mut g = Generations::default();
        assert!(g.take("a", TWO_PER_MINUTE, 0).is_ok());
        assert!(g.take("a", TWO_PER_MINUTE, 0).is_ok());
        assert_eq!(g.take("a", TWO_PER_MINUTE, 0), Err(30));
        assert_eq!(g.take("a", TWO_PER_MINUTE, 20_000), Err(10));
        assert!(g.take("a", TWO_PER_MINUTE, 30_000).is_ok());
        // Another key has its own bucket.
        assert!(g.take("b", TWO_PER_MINUTE, 30_000).is_ok());
    }

    #[test]
    fn memory_stays_bounded_by_two_generations() {
        let mut g = Generations::default();
        for i in 0..(3 * KEYS_PER_GENERATION) {
            let _ = g.take(&i.to_string(), TWO_PER_MINUTE, 0);
        }
        assert!(g.current.len() + g.previous.len() <= 2 * KEYS_PER_GENERATION);
    }

    #[test]
    fn long_keys_are_bounded_and_still_limited_apart() {
        let limiter = RateLimiter::new();
        let one = Some(RateLimit {
            burst: 1,
            refill_seconds: 3600,
        });
        let long_a = "a".repeat(10_000);
        let long_b = "b".repeat(10_000);
        assert!(limiter.admit(&long_a, one, "x").is_ok());
        assert!(matches!(
            limiter.admit(&long_a, one, "x"),
            Err(RealmError::RateLimited {
                retry_after: 3600,
                ..
            })
        ));
        assert!(limiter.admit(&long_b, one, "x").is_ok());
        assert!(limiter.admit(&long_b, None, "x").is_ok(), "no limit set");
        let generations = limiter.buckets.lock().unwrap();
        assert!(generations.current.keys().all(|k| k.len() <= MAX_KEY_BYTES));
    }

    #[test]
    fn ipv6_clients_share_their_64() {
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        assert_eq!(address_key(a), address_key(b));
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        assert_eq!(address_key(mapped), "192.0.2.1");
    }
}
