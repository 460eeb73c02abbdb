//! How a [`ClientRecord`] is stored: a compact JSON object with a schema version, apart from
//! the API types, and the reader of every older form (a later change must migrate, never
//! brick a stored realm; `fixtures/stored_clients/` pins the bytes of each version).
//!
//! **Version 1** keeps what was registered (the validated metadata, without the members
//! that hold the default an absent member gets) plus what the server decided. Keys, in the
//! order written; a key is omitted when its value is the one in the last column:
//!
//! | key | value | omitted when |
//! |---|---|---|
//! | `v` | schema version, `1`, always first | never |
//! | `id` | `client_id` | never |
//! | `sec` | `client_secret` | public client |
//! | `iat` | `client_id_issued_at` | never |
//! | `st` | `true`: a static client (admin-defined) | dynamic |
//! | `rat` | SHA-256 of the registration access token (base64url) | none issued |
//! | `prat` | the previous one, under `rotate_with_grace` | none |
//! | `res` | admin-set `allowed_resources` | empty |
//! | `m` | metadata, below | never |
//!
//! Metadata (`m`): `ru` redirect_uris, `am` token_endpoint_auth_method (client_secret_basic),
//! `ct` client_type (the one the auth method implies), `gt` grant_types (authorization_code),
//! `rt` response_types (code), `sc` scopes, `ds` default_scopes, `loc` localized values as
//! `{"client_name#tag": value}` in registration order, `co` contacts, `jwks`, `ju` jwks_uri,
//! `jct` jwks_cache_timeout (3600000), `jmc` jwks_cache_miss_cache_time (60000), `si`
//! sector_identifier_uri, `sub` subject_type (public), `at` application_type (web), `alg`
//! registered algorithms by [`Algorithms`] member name, `dma` default_max_age, `rta`
//! require_auth_time, `acr` default_acr_values, `ilu` initiate_login_uri, `rqu` request_uris,
//! `plr` post_logout_redirect_uris, `blu` backchannel_logout_uri, `bls`
//! backchannel_logout_session_required, `tcb` tls_client_certificate_bound_access_tokens,
//! `par` require_pushed_authorization_requests (all three `false`), `lt` lifetimes as
//! `[authorization_code, access_token, refresh_token, jwt_token]` (all `0`), `swi`
//! software_id, `swv` software_version, `sws` software_statement. Lists: omitted when empty;
//! optional values: when unset.
//!
//! **Version 0** (before the schema had a version): the whole record as serde_json wrote the
//! domain types, `{"profile": {...}, "origin": ..., "registration_token": ..., ...}`,
//! `profile` always first. Read and converted; never written.

use super::record::{ClientOrigin, ClientRecord};
use crate::registration::types::{
    ApplicationType, AuthMethod, ClientKeys, ClientType, LocalizedField, LocalizedValue,
    SubjectType,
};
use crate::registration::{
    Algorithms, ClientMetadata, ClientProfile, Lifetimes, DEFAULT_GRANT_TYPE,
    DEFAULT_JWKS_CACHE_MISS_CACHE_TIME_MS, DEFAULT_JWKS_CACHE_TIMEOUT_MS, DEFAULT_RESPONSE_TYPE,
};
use crate::secret::{Secret, SecretHash};
use serde::de::{self, value::MapAccessDeserializer, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use std::borrow::Cow;
use std::fmt;

/// The schema version this server writes.
pub(crate) const STORED_CLIENT_VERSION: u32 = 1;

impl Serialize for ClientRecord {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        StoredClient::of(self).serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for ClientRecord {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(RecordVisitor)
    }
}

/// The first key of a stored client tells its version.
#[derive(Deserialize)]
#[serde(field_identifier)]
enum FirstKey {
    #[serde(rename = "v")]
    Version,
    /// Version 0 had no version key; its first key was always `profile`.
    #[serde(rename = "profile")]
    LegacyProfile,
}

struct RecordVisitor;

impl<'de> Visitor<'de> for RecordVisitor {
    type Value = ClientRecord;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a stored client record")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ClientRecord, A::Error> {
        match map.next_key::<FirstKey>()? {
            Some(FirstKey::Version) => {
                let version: u32 = map.next_value()?;
                if version != STORED_CLIENT_VERSION {
                    return Err(de::Error::custom(format!(
                        "stored client schema version {version} is unknown to this server \
                         (it reads 0 to {STORED_CLIENT_VERSION}); was it written by a newer one?"
                    )));
                }
                StoredClient::deserialize(MapAccessDeserializer::new(map))?
                    .into_record()
                    .map_err(de::Error::custom)
            }
            Some(FirstKey::LegacyProfile) => {
                let profile: ClientProfile = map.next_value()?;
                let rest = LegacyRest::deserialize(MapAccessDeserializer::new(map))?;
                Ok(rest.into_record(profile))
            }
            None => Err(de::Error::custom("a stored client record is not empty")),
        }
    }
}

/// Version 1. Its `v` is written first as a member (a flattened wrapper cost serde a map
/// serializer per record); the reader takes `v` before it hands the rest to this type.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredClient<'a> {
    #[serde(skip_deserializing)]
    v: u32,
    id: Cow<'a, str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sec: Option<Cow<'a, Secret>>,
    iat: u64,
    #[serde(default, skip_serializing_if = "is_false")]
    st: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rat: Option<SecretHash>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    prat: Option<SecretHash>,
    #[serde(default, skip_serializing_if = "is_empty")]
    res: Cow<'a, [String]>,
    m: StoredMetadata<'a>,
}

impl<'a> StoredClient<'a> {
    fn of(record: &'a ClientRecord) -> Self {
        let profile = &record.profile;
        Self {
            v: STORED_CLIENT_VERSION,
            id: Cow::Borrowed(&profile.client_id),
            sec: profile.client_secret.as_ref().map(Cow::Borrowed),
            iat: profile.client_id_issued_at,
            st: record.origin == ClientOrigin::Static,
            rat: record.registration_token,
            prat: record.previous_registration_token,
            res: Cow::Borrowed(&record.allowed_resources),
            m: StoredMetadata::of(&profile.metadata),
        }
    }

    fn into_record(self) -> Result<ClientRecord, String> {
        Ok(ClientRecord {
            profile: ClientProfile {
                client_id: self.id.into_owned(),
                client_secret: self.sec.map(Cow::into_owned),
                client_id_issued_at: self.iat,
                metadata: self.m.into_metadata()?,
            },
            origin: if self.st {
                ClientOrigin::Static
            } else {
                ClientOrigin::Dynamic
            },
            registration_token: self.rat,
            previous_registration_token: self.prat,
            allowed_resources: self.res.into_owned(),
        })
    }
}

/// Version 1 metadata: [`ClientMetadata`] without its defaults (see the module table).
#[derive(Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct StoredMetadata<'a> {
    #[serde(skip_serializing_if = "is_empty")]
    ru: Cow<'a, [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    am: Option<AuthMethod>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ct: Option<ClientType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    gt: Option<Cow<'a, [String]>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rt: Option<Cow<'a, [String]>>,
    #[serde(skip_serializing_if = "is_empty")]
    sc: Cow<'a, [String]>,
    #[serde(skip_serializing_if = "is_empty")]
    ds: Cow<'a, [String]>,
    #[serde(
        skip_serializing_if = "is_empty",
        serialize_with = "localized::serialize",
        deserialize_with = "localized::deserialize"
    )]
    loc: Cow<'a, [LocalizedValue]>,
    #[serde(skip_serializing_if = "is_empty")]
    co: Cow<'a, [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    jwks: Option<Cow<'a, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ju: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    jct: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    jmc: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    si: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sub: Option<SubjectType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    at: Option<ApplicationType>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "registered_algorithms"
    )]
    alg: Option<Cow<'a, Algorithms>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dma: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rta: Option<bool>,
    #[serde(skip_serializing_if = "is_empty")]
    acr: Cow<'a, [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ilu: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "is_empty")]
    rqu: Cow<'a, [String]>,
    #[serde(skip_serializing_if = "is_empty")]
    plr: Cow<'a, [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    blu: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "is_false")]
    bls: bool,
    #[serde(skip_serializing_if = "is_false")]
    tcb: bool,
    #[serde(skip_serializing_if = "is_false")]
    par: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    lt: Option<[u64; 4]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    swi: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    swv: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sws: Option<Cow<'a, str>>,
}

impl<'a> StoredMetadata<'a> {
    fn of(m: &'a ClientMetadata) -> Self {
        let text = |value: &'a Option<String>| value.as_deref().map(Cow::Borrowed);
        let unless_default = |list: &'a [String], default: &str| {
            (!is_just(list, default)).then_some(Cow::Borrowed(list))
        };
        let l = &m.lifetimes;
        let lifetimes = [
            l.authorization_code_lifetime,
            l.access_token_lifetime,
            l.refresh_token_lifetime,
            l.jwt_token_lifetime,
        ];
        Self {
            ru: Cow::Borrowed(&m.redirect_uris),
            am: (m.token_endpoint_auth_method != AuthMethod::ClientSecretBasic)
                .then_some(m.token_endpoint_auth_method),
            ct: (m.client_type != implied_client_type(m.token_endpoint_auth_method))
                .then_some(m.client_type),
            gt: unless_default(m.grant_types.as_slice(), DEFAULT_GRANT_TYPE),
            rt: unless_default(m.response_types.as_slice(), DEFAULT_RESPONSE_TYPE),
            sc: Cow::Borrowed(&m.scopes),
            ds: Cow::Borrowed(&m.default_scopes),
            loc: Cow::Borrowed(&m.localized),
            co: Cow::Borrowed(&m.contacts),
            jwks: match &m.keys {
                ClientKeys::Jwks(jwks) => Some(Cow::Borrowed(jwks)),
                _ => None,
            },
            ju: match &m.keys {
                ClientKeys::JwksUri(uri) => Some(Cow::Borrowed(uri.as_str())),
                _ => None,
            },
            jct: (m.jwks_cache_timeout != DEFAULT_JWKS_CACHE_TIMEOUT_MS)
                .then_some(m.jwks_cache_timeout),
            jmc: (m.jwks_cache_miss_cache_time != DEFAULT_JWKS_CACHE_MISS_CACHE_TIME_MS)
                .then_some(m.jwks_cache_miss_cache_time),
            si: text(&m.sector_identifier_uri),
            sub: (m.subject_type != SubjectType::Public).then_some(m.subject_type),
            at: (m.application_type != ApplicationType::Web).then_some(m.application_type),
            alg: (m.algorithms != Algorithms::default()).then_some(Cow::Borrowed(&m.algorithms)),
            dma: m.default_max_age,
            rta: m.require_auth_time,
            acr: Cow::Borrowed(&m.default_acr_values),
            ilu: text(&m.initiate_login_uri),
            rqu: Cow::Borrowed(&m.request_uris),
            plr: Cow::Borrowed(&m.post_logout_redirect_uris),
            blu: text(&m.backchannel_logout_uri),
            bls: m.backchannel_logout_session_required,
            tcb: m.tls_client_certificate_bound_access_tokens,
            par: m.require_pushed_authorization_requests,
            lt: (lifetimes != [0; 4]).then_some(lifetimes),
            swi: text(&m.software_id),
            swv: text(&m.software_version),
            sws: text(&m.software_statement),
        }
    }

    fn into_metadata(self) -> Result<ClientMetadata, String> {
        let text = |value: Option<Cow<'_, str>>| value.map(Cow::into_owned);
        let or_just = |list: Option<Cow<'_, [String]>>, default: &str| {
            list.map_or_else(|| vec![default.to_owned()], Cow::into_owned)
        };
        let keys = match (self.jwks, self.ju) {
            (None, None) => ClientKeys::None,
            (Some(jwks), None) => ClientKeys::Jwks(jwks.into_owned()),
            (None, Some(uri)) => ClientKeys::JwksUri(uri.into_owned()),
            (Some(_), Some(_)) => return Err("a stored client has both jwks and ju".into()),
        };
        let auth_method = self.am.unwrap_or(AuthMethod::ClientSecretBasic);
        let [code, access, refresh, jwt] = self.lt.unwrap_or_default();
        Ok(ClientMetadata {
            redirect_uris: self.ru.into_owned(),
            token_endpoint_auth_method: auth_method,
            client_type: self.ct.unwrap_or(implied_client_type(auth_method)),
            grant_types: or_just(self.gt, DEFAULT_GRANT_TYPE),
            response_types: or_just(self.rt, DEFAULT_RESPONSE_TYPE),
            scopes: self.sc.into_owned(),
            default_scopes: self.ds.into_owned(),
            localized: self.loc.into_owned(),
            contacts: self.co.into_owned(),
            keys,
            jwks_cache_timeout: self.jct.unwrap_or(DEFAULT_JWKS_CACHE_TIMEOUT_MS),
            jwks_cache_miss_cache_time: self.jmc.unwrap_or(DEFAULT_JWKS_CACHE_MISS_CACHE_TIME_MS),
            sector_identifier_uri: text(self.si),
            subject_type: self.sub.unwrap_or(SubjectType::Public),
            application_type: self.at.unwrap_or(ApplicationType::Web),
            algorithms: self.alg.map(Cow::into_owned).unwrap_or_default(),
            default_max_age: self.dma,
            require_auth_time: self.rta,
            default_acr_values: self.acr.into_owned(),
            initiate_login_uri: text(self.ilu),
            request_uris: self.rqu.into_owned(),
            post_logout_redirect_uris: self.plr.into_owned(),
            backchannel_logout_uri: text(self.blu),
            backchannel_logout_session_required: self.bls,
            tls_client_certificate_bound_access_tokens: self.tcb,
            require_pushed_authorization_requests: self.par,
            lifetimes: Lifetimes {
                authorization_code_lifetime: code,
                access_token_lifetime: access,
                refresh_token_lifetime: refresh,
                jwt_token_lifetime: jwt,
            },
            software_id: text(self.swi),
            software_version: text(self.swv),
            software_statement: text(self.sws),
        })
    }
}

/// Version 0 after its `profile`.
#[derive(Deserialize)]
struct LegacyRest {
    origin: ClientOrigin,
    registration_token: Option<SecretHash>,
    #[serde(default)]
    allowed_resources: Vec<String>,
    #[serde(default)]
    previous_registration_token: Option<SecretHash>,
}

impl LegacyRest {
    fn into_record(self, profile: ClientProfile) -> ClientRecord {
        ClientRecord {
            profile,
            origin: self.origin,
            registration_token: self.registration_token,
            previous_registration_token: self.previous_registration_token,
            allowed_resources: self.allowed_resources,
        }
    }
}

/// What `validate` gives a client that names no `client_type`.
fn implied_client_type(auth_method: AuthMethod) -> ClientType {
    match auth_method {
        AuthMethod::None => ClientType::Public,
        _ => ClientType::Confidential,
    }
}

fn is_just(list: &[String], only: &str) -> bool {
    matches!(list, [single] if single == only)
}

fn is_empty<T>(list: &[T]) -> bool {
    list.is_empty()
}

fn is_false(value: &bool) -> bool {
    !value
}

/// Only the registered algorithms, by member name (decoded by [`Algorithms`]' own serde).
fn registered_algorithms<S: Serializer>(
    algorithms: &Option<Cow<'_, Algorithms>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let mut map = serializer.serialize_map(None)?;
    if let Some(algorithms) = algorithms {
        for (name, value) in algorithms.members() {
            if let Some(value) = value {
                map.serialize_entry(name, value)?;
            }
        }
    }
    map.end()
}

/// Localized values as one object, `{"client_name": ..., "client_name#ja-jpan-jp": ...}`, in
/// the order they were registered (responses list them in that order).
mod localized {
    use super::*;

    pub(super) fn serialize<S: Serializer>(
        values: &[LocalizedValue],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(values.len()))?;
        for value in values.iter() {
            map.serialize_entry(&value.key(), &value.value)?;
        }
        map.end()
    }

    pub(super) fn deserialize<'de, 'a, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Cow<'a, [LocalizedValue]>, D::Error> {
        deserializer.deserialize_map(LocalizedVisitor)
    }

    struct LocalizedVisitor;

    impl<'de> Visitor<'de> for LocalizedVisitor {
        type Value = Cow<'static, [LocalizedValue]>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an object of localized values")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some((key, value)) = map.next_entry::<String, String>()? {
                let (base, tag) = match key.split_once('#') {
                    Some((base, tag)) => (base, Some(tag.to_owned())),
                    None => (key.as_str(), None),
                };
                let Some(field) = LocalizedField::parse(base) else {
                    let why = format!("{key:?} is not a localizable member");
                    return Err(de::Error::custom(why));
                };
                out.push(LocalizedValue { field, tag, value });
            }
            Ok(Cow::Owned(out))
        }
    }
}
