//! Fetching JWK sets from `jwks_uri` without opening a door into the private network.
//!
//! SPEC §5: https only (unless insecure fetch is allowed), no redirects, 5 s timeout, 256 KiB
//! cap, and no private, loopback, link-local or special-use targets. The address check runs in
//! the resolver, on the very addresses the connection then uses, so a DNS answer that changes
//! between check and connect (DNS rebinding) cannot slip through.

use moka::future::Cache;
use serde_json::Value;
use std::io::Read;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(5);
const MAX_BYTES: u64 = 256 * 1024;
/// Most keys in any JWK set: a client's, a publisher's, registered or fetched. An assertion or
/// statement without `kid` is tried against each usable key, so this bounds the cost of one
/// verification.
pub const MAX_JWKS_KEYS: usize = 16;
/// Bound on cached sets, so registering many `jwks_uri`s cannot exhaust memory.
const MAX_CACHED: u64 = 10_000;
/// No fetched set is reused longer than this, whatever a client's `jwks_cache_timeout` says.
const MAX_CACHE_AGE: Duration = Duration::from_secs(24 * 3600);

/// Why keys could not be fetched; safe to show to the client that registered the URI.
#[derive(Debug, Clone, thiserror::Error)]
#[error("cannot fetch the JWK set from jwks_uri: {0}")]
pub struct FetchError(pub String);

/// How long a fetched set may be reused (the client's or publisher's settings).
#[derive(Debug, Clone, Copy)]
pub struct CachePolicy {
    pub timeout_ms: u64,
    /// After an unknown `kid`, at most one refetch per this interval.
    pub miss_cache_ms: u64,
}

struct Cached {
    jwks: Arc<Value>,
    fetched_at: Instant,
}

impl Cached {
    /// Whether this set may answer a request under `policy` looking for `kid`.
    fn usable(&self, policy: CachePolicy, kid: Option<&str>) -> bool {
        let age = self.fetched_at.elapsed();
        if age > Duration::from_millis(policy.timeout_ms) {
            return false;
        }
        kid.is_none_or(|kid| has_kid(&self.jwks, kid))
            || age < Duration::from_millis(policy.miss_cache_ms)
    }
}

/// The shared fetcher with its cache.
pub struct JwksFetcher {
    agent: ureq::Agent,
    allow_insecure: bool,
    /// Fetched sets by URL. Concurrent misses on one URL share a single fetch; past
    /// `MAX_CACHED` sets the least used are evicted (losing one only costs a refetch).
    cache: Cache<String, Arc<Cached>>,
}

impl JwksFetcher {
    pub fn new(allow_insecure: bool) -> Result<Self, FetchError> {
        let tls = native_tls::TlsConnector::new().map_err(|e| FetchError(e.to_string()))?;
        let agent = ureq::AgentBuilder::new()
            .timeout(TIMEOUT)
            .redirects(0)
            .tls_connector(Arc::new(tls))
            .resolver(GuardedResolver { allow_insecure })
            .user_agent("dynreg")
            .build();
        Ok(Self {
            agent,
            allow_insecure,
            cache: Cache::builder()
                .max_capacity(MAX_CACHED)
                .time_to_live(MAX_CACHE_AGE)
                .build(),
        })
    }

    /// The JWK set at `url`, from the cache when fresh. When `kid` is given and not in the
    /// cached set, refetches if the last fetch is older than the miss-cache interval.
    pub async fn get(
        self: &Arc<Self>,
        url: &str,
        policy: CachePolicy,
        kid: Option<&str>,
    ) -> Result<Arc<Value>, FetchError> {
        if let Some(entry) = self.cache.get(url).await {
            if entry.usable(policy, kid) {
                return Ok(Arc::clone(&entry.jwks));
            }
            self.cache.invalidate(url).await;
        }
        let fetcher = Arc::clone(self);
        let owned_url = url.to_owned();
        let entry = self
            .cache
            .try_get_with(url.to_owned(), async move {
                let jwks = tokio::task::spawn_blocking(move || fetcher.fetch(&owned_url))
                    .await
                    .map_err(|e| FetchError(format!("fetch task failed: {e}")))??;
                Ok::<_, FetchError>(Arc::new(Cached {
                    jwks: Arc::new(jwks),
                    fetched_at: Instant::now(),
                }))
            })
            .await
            .map_err(|shared: Arc<FetchError>| FetchError::clone(&shared))?;
        Ok(Arc::clone(&entry.jwks))
    }

    fn fetch(&self, url: &str) -> Result<Value, FetchError> {
        let parsed = url::Url::parse(url).map_err(|_| FetchError("not a URL".into()))?;
        match parsed.scheme() {
            "https" => {}
            "http" if self.allow_insecure => {}
            _ => return Err(FetchError("only https URLs are fetched".into())),
        }
        let response = self.agent.get(url).call().map_err(|e| match e {
            ureq::Error::Status(code, _) => FetchError(format!("the server answered {code}")),
            ureq::Error::Transport(t) => FetchError(t.to_string()),
        })?;
        if response.status() != 200 {
            return Err(FetchError(format!(
                "the server answered {}",
                response.status()
            )));
        }
        let mut body = Vec::new();
        response
            .into_reader()
            .take(MAX_BYTES + 1)
            .read_to_end(&mut body)
            .map_err(|e| FetchError(format!("reading the body failed: {e}")))?;
        if body.len() as u64 > MAX_BYTES {
            return Err(FetchError(format!("the JWK set exceeds {MAX_BYTES} bytes")));
        }
        let jwks: Value =
            serde_json::from_slice(&body).map_err(|_| FetchError("the body is not JSON".into()))?;
        match jwks.get("keys").and_then(Value::as_array) {
            None => return Err(FetchError("the body is not a JWK set".into())),
            Some(keys) if keys.len() > MAX_JWKS_KEYS => {
                return Err(FetchError(format!(
                    "the JWK set has more than {MAX_JWKS_KEYS} keys"
                )))
            }
            Some(_) => {}
        }
        Ok(jwks)
    }
}

fn has_kid(jwks: &Value, kid: &str) -> bool {
    jwks.get("keys")
        .and_then(Value::as_array)
        .is_some_and(|keys| {
            keys.iter()
                .any(|k| k.get("kid").and_then(Value::as_str) == Some(kid))
        })
}

/// Resolves names and drops every address the server must not reach.
struct GuardedResolver {
    allow_insecure: bool,
}

impl ureq::Resolver for GuardedResolver {
    fn resolve(&self, netloc: &str) -> std::io::Result<Vec<SocketAddr>> {
        let resolved: Vec<SocketAddr> = netloc.to_socket_addrs()?.collect();
        if self.allow_insecure {
            return Ok(resolved);
        }
        let allowed: Vec<SocketAddr> = resolved
            .into_iter()
            .filter(|addr| is_public(addr.ip()))
            .collect();
        if allowed.is_empty() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                format!("{netloc} resolves only to private, loopback or special-use addresses"),
            ));
        }
        Ok(allowed)
    }
}

/// Whether an address is an ordinary public unicast address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || a >= 240
                || (a == 100 && (64..128).contains(&b))
                || (a == 198 && (b == 18 || b == 19))
                || (a == 192 && b == 0))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments().first().copied().unwrap_or(0);
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || first == 0x2001 && v6.segments().get(1) == Some(&0x0db8)
                || first == 0x0064)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_use_addresses_are_not_public() {
        for blocked in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::",
            "198.18.0.1",
            "192.0.0.8",
        ] {
            assert!(!is_public(blocked.parse().unwrap()), "{blocked}");
        }
        for allowed in ["93.184.216.34", "8.8.8.8", "2606:4700::1111"] {
            assert!(is_public(allowed.parse().unwrap()), "{allowed}");
        }
    }

    #[test]
    fn resolver_refuses_loopback_unless_insecure() {
        let guarded = GuardedResolver {
            allow_insecure: false,
        };
        assert!(ureq::Resolver::resolve(&guarded, "127.0.0.1:443").is_err());
        assert!(ureq::Resolver::resolve(&guarded, "localhost:443").is_err());
        let open = GuardedResolver {
            allow_insecure: true,
        };
        assert!(ureq::Resolver::resolve(&open, "127.0.0.1:443").is_ok());
    }
}
