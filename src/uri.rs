//! One parser for every URI a client or an admin hands us (redirect URIs, `jwks_uri`,
//! `request_uris`, informational URLs, publisher `jwks_uri`s, RFC 8707 resource indicators).
//!
//! Parsers disagree on odd spellings: `https://evil.com\@good.com/cb` is `evil.com` to a WHATWG
//! parser and `good.com` to others; `http://0x7f.0.0.1/` is loopback to one and a name to
//! another; `https:x` and `https:///x` gain an authority when parsed. A value is therefore
//! accepted only when it is already in the form the `url` crate serializes it to (up to the
//! case of scheme and host and the `/` of an empty path), so the string we store and return
//! is exactly the one every later reader parses the same way. Leaf module: depends on nothing
//! in the crate.

use url::Url;

/// Longest URI accepted anywhere, in bytes (browsers and proxies commonly stop near 2 KiB).
pub const MAX_URI_BYTES: usize = 2048;

/// Parses `raw` and accepts it only in canonical spelling; the error says why, without
/// echoing more than a bounded prefix of the value.
pub fn parse_canonical(raw: &str) -> Result<Url, String> {
    if raw.len() > MAX_URI_BYTES {
        return Err(format!("a URI must not exceed {MAX_URI_BYTES} bytes"));
    }
    if let Some(bad) = raw
        .chars()
        .find(|c| c.is_control() || c.is_whitespace() || *c == '\\')
    {
        return Err(format!(
            "{} contains {bad:?} (control characters, whitespace and backslashes are refused)",
            shown(raw)
        ));
    }
    let url = Url::parse(raw).map_err(|_| format!("{} is not an absolute URI", shown(raw)))?;
    if url.has_host() && url.host_str().is_none_or(str::is_empty) {
        return Err(format!("{} has no host", shown(raw)));
    }
    if !reads_as_written(raw, url.as_str()) {
        return Err(format!(
            "{} is not in canonical form (it reads as {}); register it as written there",
            shown(raw),
            shown(url.as_str())
        ));
    }
    Ok(url)
}

/// Whether two URIs, each accepted by [`parse_canonical`], name the same thing: equal up to
/// what that parser lets through (the case of scheme and host, the `/` of an empty path).
/// Cheap when they differ in length by more than that `/`, which is the common case.
pub fn same_canonical(a: &str, b: &str) -> bool {
    a == b || (a.len().abs_diff(b.len()) <= 1 && spelled_canonically(a) == spelled_canonically(b))
}

/// Whether `raw` is spelled as the parser reads it back (`parsed`), up to what
/// `spelled_canonically` forgives. Without allocating when `raw` is exactly `parsed` and has
/// no capital letter (nothing for `spelled_canonically` to lower-case), the common case.
fn reads_as_written(raw: &str, parsed: &str) -> bool {
    (raw == parsed && !raw.bytes().any(|b| b.is_ascii_uppercase()))
        || spelled_canonically(raw) == parsed
}

/// `raw` with the differences that do not change meaning for any parser removed: scheme and
/// host lower-cased, and the `/` of an empty path after an authority added.
fn spelled_canonically(raw: &str) -> String {
    let Some((scheme, rest)) = raw.split_once(':') else {
        return raw.to_owned();
    };
    let scheme = scheme.to_ascii_lowercase();
    let mut out = format!("{scheme}:");
    match rest.strip_prefix("//") {
        Some(after) => {
            let end = after.find(['/', '?', '#']).unwrap_or(after.len());
            let (authority, tail) = after.split_at(end);
            out.push_str("//");
            out.push_str(&authority.to_ascii_lowercase());
            if !tail.starts_with('/') && is_special(&scheme) {
                out.push('/');
            }
            out.push_str(tail);
        }
        None => out.push_str(rest),
    }
    out
}

/// WHATWG "special" schemes, whose empty path serializes as `/`.
fn is_special(scheme: &str) -> bool {
    ["http", "https", "ws", "wss", "ftp", "file"].contains(&scheme)
}

/// At most 100 characters of a value for an error message, debug-quoted.
pub fn shown(value: &str) -> String {
    const SHOWN_CHARS: usize = 100;
    match value.char_indices().nth(SHOWN_CHARS) {
        Some((cut, _)) => format!("{:?}…", value.get(..cut).unwrap_or_default()),
        None => format!("{value:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_uris_are_accepted_as_written() {
        for uri in [
            "https://client.example.com/callback",
            "https://client.example.com/",
            "https://client.example.com",
            "https://Client.Example.COM/cb",
            "HTTPS://client.example.com/cb?x=1",
            "https://client.example.com?x=1",
            "http://127.0.0.1:8080/cb",
            "http://[::1]/cb",
            "http://localhost/cb",
            "com.example.app:/cb",
            "com.example.app:/oauth2redirect/example-provider",
            "https://client.example.com/cb%20x",
            "https://client.example.com/a/b?c=d&e=f#frag",
        ] {
            assert!(
                parse_canonical(uri).is_ok(),
                "{uri}: {:?}",
                parse_canonical(uri)
            );
        }
    }

    #[test]
    fn ambiguous_or_odd_spellings_are_refused() {
        for (uri, why) in [
            ("https://evil.com\\@good.com/cb", "backslash"),
            ("https://b.example.com/cb\r\nSet-Cookie: x=y", "CRLF"),
            ("https://b.example.com/c\0b", "NUL"),
            ("https://b.example.com/c b", "space"),
            ("https://b.example.com/c\tb", "tab"),
            ("https:///b.example.com", "empty authority"),
            ("https:b.example.com", "no authority"),
            ("https:/b.example.com", "one slash"),
            ("http://0x7f.0.0.1/cb", "hex IPv4"),
            ("http://127.1/cb", "short IPv4"),
            ("http://2130706433/cb", "integer IPv4"),
            ("http://0177.0.0.1/cb", "octal IPv4"),
            ("http://[0:0:0:0:0:0:0:1]/cb", "long IPv6"),
            ("https://b.example.com/a/../cb", "dot segments"),
            ("https://b.example.com:443/cb", "default port"),
            ("https://b.example.com:/cb", "empty port"),
            ("https://bücher.example/cb", "non-ASCII host"),
            ("https://b.example.com/ü", "non-ASCII path"),
            ("/relative", "relative"),
            ("", "empty"),
        ] {
            assert!(parse_canonical(uri).is_err(), "{why}: {uri:?}");
        }
    }

    #[test]
    fn canonical_uris_are_the_same_up_to_scheme_and_host_case_and_an_empty_path() {
        for (a, b) in [
            ("https://api.example.com", "https://api.example.com/"),
            ("HTTPS://API.Example.com/", "https://api.example.com"),
            (
                "https://api.example.com/x?q=1",
                "https://API.example.com/x?q=1",
            ),
        ] {
            assert!(same_canonical(a, b), "{a} = {b}");
        }
        for (a, b) in [
            ("https://api.example.com/X", "https://api.example.com/x"),
            ("https://api.example.com/x", "https://api.example.com/x/"),
            ("https://api.example.com/", "http://api.example.com/"),
            (
                "https://api.example.com/?q=A",
                "https://api.example.com/?q=a",
            ),
        ] {
            assert!(!same_canonical(a, b), "{a} ≠ {b}");
        }
    }

    #[test]
    fn long_uris_are_refused_without_being_echoed() {
        let long = format!("https://b.example.com/{}", "a".repeat(MAX_URI_BYTES));
        let error = parse_canonical(&long).unwrap_err();
        assert!(error.len() < 200, "{error}");
        let shown_long = shown(&"é".repeat(500));
        assert!(shown_long.chars().count() < 110, "{shown_long}");
    }
}
