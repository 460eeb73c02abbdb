//! HAProxy's runtime API (one command per connection on the admin socket) and the realm map
//! file it loads at start.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// At most this much of an answer is read (a `show servers state` of a few hundred servers).
const MAX_ANSWER_BYTES: u64 = 4 * 1024 * 1024;

/// Realm names and backend names go into runtime API commands, where spaces and `;` have a
/// meaning: only these characters pass.
pub fn check_word(what: &str, word: &str) -> Result<(), String> {
    let plain = !word.is_empty()
        && word.len() <= 128
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    if plain {
        Ok(())
    } else {
        Err(format!(
            "{what} {word:?} must be 1-128 of A-Z a-z 0-9 - _ ."
        ))
    }
}

/// HAProxy's admin socket.
pub struct RuntimeApi {
    socket: PathBuf,
}

impl RuntimeApi {
    pub fn new(socket: &Path) -> Self {
        Self {
            socket: socket.to_owned(),
        }
    }

    /// Sends one command and answers HAProxy's reply.
    pub fn command(&self, line: &str) -> Result<String, String> {
        let fail = |e: std::io::Error| format!("HAProxy socket {}: {e}", self.socket.display());
        let mut stream = UnixStream::connect(&self.socket).map_err(fail)?;
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .map_err(fail)?;
        stream
            .set_write_timeout(Some(Duration::from_secs(5)))
            .map_err(fail)?;
        stream
            .write_all(format!("{line}\n").as_bytes())
            .map_err(fail)?;
        let mut answer = String::new();
        stream
            .take(MAX_ANSWER_BYTES)
            .read_to_string(&mut answer)
            .map_err(fail)?;
        Ok(answer)
    }

    /// Points `realm` at `backend` in the loaded map (`set map`, or `add map` for a new entry).
    pub fn set_realm(&self, map: &Path, realm: &str, backend: &str) -> Result<(), String> {
        check_word("realm", realm)?;
        check_word("backend", backend)?;
        let map = map_name(map)?;
        let answer = self.command(&format!("set map {map} {realm} {backend}"))?;
        if answer.trim().is_empty() {
            return Ok(());
        }
        if !answer.to_ascii_lowercase().contains("not found") {
            return Err(format!("set map {realm}: {}", answer.trim()));
        }
        let answer = self.command(&format!("add map {map} {realm} {backend}"))?;
        if answer.trim().is_empty() {
            Ok(())
        } else {
            Err(format!("add map {realm}: {}", answer.trim()))
        }
    }

    /// Removes `realm` from the loaded map (it falls back to placement by hash).
    pub fn remove_realm(&self, map: &Path, realm: &str) -> Result<(), String> {
        check_word("realm", realm)?;
        let answer = self.command(&format!("del map {} {realm}", map_name(map)?))?;
        if answer.trim().is_empty() || answer.to_ascii_lowercase().contains("not found") {
            Ok(())
        } else {
            Err(format!("del map {realm}: {}", answer.trim()))
        }
    }

    /// The backend with exactly one server, at `host:port`: a node's own backend.
    pub fn backend_of(&self, host: &str, port: u16) -> Result<String, String> {
        let state = self.command("show servers state")?;
        let mut columns: Vec<&str> = Vec::new();
        let mut servers: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
        for line in state.lines() {
            if let Some(header) = line.strip_prefix("# ") {
                columns = header.split_whitespace().collect();
                continue;
            }
            let fields: Vec<&str> = line.split_whitespace().collect();
            let field = |name: &str| {
                columns
                    .iter()
                    .position(|c| *c == name)
                    .and_then(|i| fields.get(i))
                    .map(|s| (*s).to_owned())
            };
            if let (Some(backend), Some(addr), Some(srv_port)) =
                (field("be_name"), field("srv_addr"), field("srv_port"))
            {
                servers.entry(backend).or_default().push((addr, srv_port));
            }
        }
        let wanted = (host.to_owned(), port.to_string());
        let matching: Vec<&String> = servers
            .iter()
            .filter(|(_, list)| list.len() == 1 && list.first() == Some(&wanted))
            .map(|(backend, _)| backend)
            .collect();
        match matching.as_slice() {
            [backend] => Ok((*backend).clone()),
            [] => Err(format!(
                "no HAProxy backend has exactly one server at {host}:{port} (use --to-backend)"
            )),
            _ => Err(format!(
                "several HAProxy backends serve {host}:{port} (use --to-backend)"
            )),
        }
    }
}

fn map_name(map: &Path) -> Result<String, String> {
    let name = map.to_string_lossy().into_owned();
    if name.contains(char::is_whitespace) || name.contains(';') {
        return Err(format!(
            "the map path {name:?} must not contain spaces or ';'"
        ));
    }
    Ok(name)
}

/// The map file: `realm backend` per line; `#` comments and blank lines are dropped on rewrite.
pub fn read_map(path: &Path) -> Result<BTreeMap<String, String>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    let mut map = BTreeMap::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut words = line.split_whitespace();
        if let (Some(realm), Some(backend)) = (words.next(), words.next()) {
            map.insert(realm.to_owned(), backend.to_owned());
        }
    }
    Ok(map)
}

/// Rewrites the map file atomically (a temporary file renamed over it).
pub fn write_map(path: &Path, map: &BTreeMap<String, String>) -> Result<(), String> {
    let mut text = String::from("# realm backend (written by dynreg realm; HAProxy loads it)\n");
    for (realm, backend) in map {
        text.push_str(&format!("{realm} {backend}\n"));
    }
    let temporary = path.with_extension("tmp");
    std::fs::write(&temporary, text)
        .and_then(|()| std::fs::rename(&temporary, path))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_with_spaces_or_semicolons_never_reach_the_socket() {
        assert!(check_word("realm", "load-12.eu_1").is_ok());
        for bad in ["", "a b", "a;show stat", "a\nb", "é"] {
            assert!(check_word("realm", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_map_file_round_trips_and_ignores_comments() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("realms.map");
        std::fs::write(&path, "# comment\n\nalpha node1\nbeta  node2\n").unwrap();
        let mut map = read_map(&path).unwrap();
        assert_eq!(map.get("beta").map(String::as_str), Some("node2"));
        map.insert("alpha".into(), "node3".into());
        write_map(&path, &map).unwrap();
        let again = read_map(&path).unwrap();
        assert_eq!(again, map);
        assert!(read_map(&dir.path().join("missing.map"))
            .unwrap()
            .is_empty());
    }
}
