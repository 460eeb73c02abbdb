//! URL rules: redirect URIs (stricter than AM, SPEC §3) and informational URLs. Both start
//! from [`parse_canonical`], so what is checked here is exactly the string that is stored.

use super::types::ApplicationType;
use crate::uri::{parse_canonical, shown};
use std::fmt;
use std::net::IpAddr;
use url::{Host, Url};

/// Schemes that can run code or read local files when a browser follows them.
const DANGEROUS_SCHEMES: &[&str] = &["javascript", "data", "vbscript", "file"];

/// Checks one redirect URI; the error says what is wrong with it.
pub(crate) fn check_redirect_uri(raw: &str, app: ApplicationType) -> Result<(), String> {
    let url = parse_canonical(raw)?;
    // Quoted for a message only when there is one: accepted URIs allocate nothing here.
    let raw = Quoted(raw);
    if url.fragment().is_some() {
        return Err(format!("{raw} must not contain a fragment"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!("{raw} must not contain user information"));
    }
    let scheme = url.scheme();
    if DANGEROUS_SCHEMES.contains(&scheme) {
        return Err(format!("{raw} uses the forbidden scheme {scheme:?}"));
    }
    match (scheme, app) {
        ("https", _) => Ok(()),
        ("http", _) if is_loopback(&url) => Ok(()),
        ("http", ApplicationType::Web) => Err(format!(
            "{raw} must use https (http is allowed only on a loopback host)"
        )),
        ("http", ApplicationType::Native) => Err(format!(
            "{raw}: native clients may use http only on a loopback host (RFC 8252 §7.3)"
        )),
        (_, ApplicationType::Native) if scheme.contains('.') => Ok(()),
        (_, ApplicationType::Native) => Err(format!(
            "{raw}: a private-use scheme must contain a period, e.g. com.example.app (RFC 8252 §7.1)"
        )),
        (_, ApplicationType::Web) => Err(format!(
            "{raw}: web clients must use https (or http on a loopback host)"
        )),
    }
}

/// Checks a URL that is shown to users or fetched: absolute http(s), no fragment.
pub(crate) fn check_web_url(raw: &str) -> Result<(), String> {
    let url = parse_canonical(raw)?;
    let raw = Quoted(raw);
    if !matches!(url.scheme(), "https" | "http") {
        return Err(format!("{raw} must be an http or https URL"));
    }
    if url.host().is_none() {
        return Err(format!("{raw} has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!("{raw} must not contain user information"));
    }
    Ok(())
}

/// A URI as error messages show it (`shown`), formatted only when a message is made.
#[derive(Clone, Copy)]
struct Quoted<'a>(&'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&shown(self.0))
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ApplicationType::{Native, Web};

    #[test]
    fn redirect_uri_table() {
        let cases: &[(&str, ApplicationType, bool, &str)] = &[
            (
                "https://client.example.com/callback",
                Web,
                true,
                "https web",
            ),
            ("http://127.0.0.1:8080/cb", Web, true, "http loopback v4"),
            ("http://[::1]/cb", Web, true, "http loopback v6"),
            ("http://localhost/cb", Native, true, "http localhost native"),
            (
                "http://client.example.com/cb",
                Web,
                false,
                "http non-loopback",
            ),
            ("https://client.example.com/cb#frag", Web, false, "fragment"),
            (
                "https://client.example.com/cb#",
                Web,
                false,
                "empty fragment",
            ),
            (
                "https://user:pw@client.example.com/cb",
                Web,
                false,
                "userinfo",
            ),
            ("javascript:alert(1)", Native, false, "javascript"),
            ("data:text/html,hi", Native, false, "data"),
            ("file:///etc/passwd", Native, false, "file"),
            ("vbscript:x", Native, false, "vbscript"),
            ("com.example.app:/cb", Native, true, "private-use scheme"),
            ("myapp:/cb", Native, false, "private-use without dot"),
            ("com.example.app:/cb", Web, false, "private-use on web"),
            ("/relative/path", Web, false, "relative"),
            ("", Web, false, "empty"),
        ];
        for (uri, app, ok, why) in cases {
            assert_eq!(check_redirect_uri(uri, *app).is_ok(), *ok, "{why}: {uri}");
        }
    }

    #[test]
    fn web_urls_must_be_http_or_https() {
        assert!(check_web_url("https://client.example.com/").is_ok());
        assert!(check_web_url("javascript:alert(1)").is_err());
        assert!(check_web_url("not a url").is_err());
    }
}
