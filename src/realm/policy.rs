//! Registration policy settings of a realm (`oauth2_provider.registration_policy`): quotas,
//! rate limits, reaping of unused clients, registration-token rotation, the strict token mode
//! and CORS. Every default keeps the behaviour of a realm without the section.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// At most this many CORS origins per realm.
pub const MAX_CORS_ORIGINS: usize = 100;
/// Ninety days: the default idle time after which an enabled reaper removes a client.
const DEFAULT_UNUSED_FOR_SECONDS: u64 = 90 * 86_400;

/// How `PUT B/register` treats the registration access token (RFC 7592 §2.2).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenRotation {
    /// Each update answers a new token; the presented one stops working at once.
    #[default]
    Rotate,
    /// Each update answers a new token; the presented one keeps working until the new one
    /// has been used once, so a client whose update response was lost is not locked out.
    RotateWithGrace,
    /// Updates keep the token (the response carries none, RFC 7592 §2.2 allows it).
    Never,
}

impl TokenRotation {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rotate => "rotate",
            Self::RotateWithGrace => "rotate_with_grace",
            Self::Never => "never",
        }
    }
}

/// A token bucket's shape: up to `burst` registrations at once, then one per
/// `refill_seconds`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    pub burst: u32,
    pub refill_seconds: u64,
}

/// Removal of dynamic clients nobody has used for a while.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reaping {
    #[serde(default)]
    pub enabled: bool,
    /// Idle time after which a dynamic client goes: no token issued to it and no use of its
    /// registration access token for this long (counted from registration when never used).
    #[serde(default = "default_unused_for_seconds")]
    pub unused_for_seconds: u64,
}

fn default_unused_for_seconds() -> u64 {
    DEFAULT_UNUSED_FOR_SECONDS
}

impl Default for Reaping {
    fn default() -> Self {
        Self {
            enabled: false,
            unused_for_seconds: DEFAULT_UNUSED_FOR_SECONDS,
        }
    }
}

/// The `registration_policy` section of the provider settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistrationPolicySettings {
    /// Most dynamic clients the realm may hold; `None`: no limit.
    #[serde(default)]
    pub max_dynamic_clients: Option<u64>,
    /// Registrations per client IP address; `None`: not limited.
    #[serde(default)]
    pub rate_limit_per_ip: Option<RateLimit>,
    /// Registrations per `software_id`; `None`: not limited.
    #[serde(default)]
    pub rate_limit_per_software_id: Option<RateLimit>,
    #[serde(default)]
    pub reaping: Reaping,
    #[serde(default)]
    pub registration_token_rotation: TokenRotation,
    /// Every registration with an access token needs the realm's registration scope (not
    /// only those that set `client_uri`, `logo_uri` or `policy_uri`).
    #[serde(default)]
    pub require_registration_scope: bool,
    /// Origins (`scheme://host[:port]`, or `*`) browsers may call `register`, discovery and
    /// `jwk_uri` from.
    #[serde(default)]
    pub cors_allowed_origins: Vec<String>,
}

impl RegistrationPolicySettings {
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }

    /// Checks the section; the error names the field.
    pub fn check(&self) -> Result<(), String> {
        for (name, limit) in [
            ("rate_limit_per_ip", &self.rate_limit_per_ip),
            (
                "rate_limit_per_software_id",
                &self.rate_limit_per_software_id,
            ),
        ] {
            if let Some(limit) = limit {
                if limit.burst == 0 || limit.refill_seconds == 0 {
                    return Err(format!(
                        "registration_policy.{name}: burst and refill_seconds must be positive"
                    ));
                }
            }
        }
        if self.reaping.unused_for_seconds == 0 {
            return Err("registration_policy.reaping.unused_for_seconds must be positive".into());
        }
        if self.cors_allowed_origins.len() > MAX_CORS_ORIGINS {
            return Err(format!(
                "registration_policy.cors_allowed_origins: at most {MAX_CORS_ORIGINS} origins"
            ));
        }
        if let Some(bad) = self.cors_allowed_origins.iter().find(|o| !is_origin(o)) {
            return Err(format!(
                "registration_policy.cors_allowed_origins: {bad:?} is not an origin \
                 (scheme://host[:port], or *)"
            ));
        }
        Ok(())
    }

    /// Whether a browser page from `origin` may call the realm's CORS-enabled endpoints.
    pub fn allows_origin(&self, origin: &str) -> bool {
        self.cors_allowed_origins
            .iter()
            .any(|allowed| allowed == "*" || allowed.eq_ignore_ascii_case(origin))
    }

    /// What discovery publishes about the policy (`registration_policy`).
    pub fn discovery(&self, open_registration: bool) -> Value {
        json!({
            "open_registration": open_registration,
            "initial_access_tokens_supported": true,
            "require_registration_scope": self.require_registration_scope,
            "registration_token_rotation": self.registration_token_rotation.as_str(),
            "max_dynamic_clients": self.max_dynamic_clients,
            "rate_limit_per_ip": self.rate_limit_per_ip,
            "rate_limit_per_software_id": self.rate_limit_per_software_id,
            "reaping": self.reaping,
            "cors_allowed_origins": self.cors_allowed_origins,
        })
    }
}

/// An origin as browsers send it: `http` or `https`, a host, an optional port, nothing else.
fn is_origin(candidate: &str) -> bool {
    if candidate == "*" {
        return true;
    }
    let Ok(url) = url::Url::parse(candidate) else {
        return false;
    };
    matches!(url.scheme(), "http" | "https")
        && url.host_str().is_some()
        && url.username().is_empty()
        && url.password().is_none()
        && url.query().is_none()
        && url.fragment().is_none()
        && url.path() == "/"
        && !candidate.ends_with('/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_change_nothing() {
        let policy: RegistrationPolicySettings = serde_json::from_str("{}").unwrap();
        assert_eq!(policy, RegistrationPolicySettings::default());
        assert_eq!(policy.registration_token_rotation, TokenRotation::Rotate);
        assert!(!policy.reaping.enabled);
        assert!(policy.cors_allowed_origins.is_empty());
        assert!(!policy.allows_origin("https://app.example"));
        assert!(policy.check().is_ok());
    }

    #[test]
    fn origins_must_be_bare_scheme_host_and_port() {
        let with = |origin: &str| RegistrationPolicySettings {
            cors_allowed_origins: vec![origin.to_owned()],
            ..Default::default()
        };
        for good in ["https://app.example", "http://localhost:3000", "*"] {
            assert!(with(good).check().is_ok(), "{good}");
        }
        for bad in [
            "app.example",
            "https://app.example/",
            "https://app.example/path",
            "ftp://app.example",
            "https://user@app.example",
        ] {
            assert!(with(bad).check().is_err(), "{bad}");
        }
        assert!(with("https://App.example").allows_origin("https://app.example"));
        assert!(with("*").allows_origin("https://any.example"));
    }

    #[test]
    fn zero_rates_and_idle_times_are_refused() {
        let policy = RegistrationPolicySettings {
            rate_limit_per_ip: Some(RateLimit {
                burst: 0,
                refill_seconds: 1,
            }),
            ..Default::default()
        };
        assert!(policy.check().unwrap_err().contains("rate_limit_per_ip"));
        let policy = RegistrationPolicySettings {
            reaping: Reaping {
                enabled: true,
                unused_for_seconds: 0,
            },
            ..Default::default()
        };
        assert!(policy.check().is_err());
    }
}
