//! `dynreg realm move`: fence → export → import → verify → switch the map → mark moved.
//! Until the map is switched, any failure rolls back: the copy on the target is deleted, the
//! map entry restored, and the source unfenced.

use super::admin::{summary, Node};
use super::haproxy::{check_word, read_map, write_map, RuntimeApi};
use super::MoveOptions;
use awc::http::{Method, StatusCode};
use std::time::{Duration, Instant};

/// What the operator reads after a move.
struct Moved {
    clients: usize,
    /// From the fence until the map pointed at the target: how long writes were refused.
    fence: Duration,
    export_bytes: usize,
}

pub async fn run(options: &MoveOptions) -> Result<(), String> {
    check_word("realm", &options.realm)?;
    let token = options.admin.resolve()?;
    let source = Node::new(&options.from, &token);
    let target = Node::new(&options.to, &token);
    let haproxy = RuntimeApi::new(&options.haproxy_socket);
    let backend = match &options.to_backend {
        Some(backend) => backend.clone(),
        None => {
            let url = url::Url::parse(&options.to).map_err(|e| format!("--to: {e}"))?;
            let host = url.host_str().ok_or("--to has no host")?;
            let port = url.port_or_known_default().ok_or("--to has no port")?;
            haproxy.backend_of(host, port)?
        }
    };
    check_word("backend", &backend)?;
    let moved = move_realm(options, &source, &target, &haproxy, &backend).await?;
    println!(
        "moved realm={} from={} to={} backend={} clients={} export_bytes={} fence_ms={}",
        options.realm,
        source.url(),
        target.url(),
        backend,
        moved.clients,
        moved.export_bytes,
        moved.fence.as_millis()
    );
    Ok(())
}

async fn move_realm(
    options: &MoveOptions,
    source: &Node,
    target: &Node,
    haproxy: &RuntimeApi,
    backend: &str,
) -> Result<Moved, String> {
    let realm = &options.realm;
    let path = |what: &str| format!("/admin/realms/{realm}{what}");
    let fenced_at = Instant::now();
    source
        .expect(Method::POST, &path("/fence"), None, StatusCode::NO_CONTENT)
        .await?;
    let mut undo = Undo::default();
    let copied = copy(options, source, target, haproxy, backend, &mut undo).await;
    let (clients, export_bytes) = match copied {
        Ok(copied) => copied,
        Err(why) => {
            let rollback = undo.roll_back(options, source, target, haproxy).await;
            return Err(match rollback {
                Ok(()) => format!("{why} (rolled back: the realm stays on the source, unfenced)"),
                Err(also) => format!("{why}; ROLLBACK FAILED: {also}"),
            });
        }
    };
    let fence = fenced_at.elapsed();
    // The target serves the realm now; the source answers 421 for stragglers until it
    // deletes its copy. A failure here leaves the source fenced, which is safe.
    let moved = format!("{}?grace_seconds={}", path("/moved"), options.grace_seconds);
    if let Err(why) = source
        .expect(Method::POST, &moved, None, StatusCode::NO_CONTENT)
        .await
    {
        eprintln!(
            "realm {realm} moved, but the source was not marked moved (it stays fenced): {why}"
        );
    }
    Ok(Moved {
        clients,
        fence,
        export_bytes,
    })
}

/// What a failed move must undo.
#[derive(Default)]
struct Undo {
    imported: bool,
    /// The map entry before the switch (`None`: the realm was not in the map), once switched.
    switched_from: Option<Option<String>>,
}

impl Undo {
    async fn roll_back(
        &self,
        options: &MoveOptions,
        source: &Node,
        target: &Node,
        haproxy: &RuntimeApi,
    ) -> Result<(), String> {
        let realm = &options.realm;
        let mut failures = Vec::new();
        if let Some(previous) = &self.switched_from {
            let restored = match previous {
                Some(backend) => haproxy.set_realm(&options.map, realm, backend),
                None => haproxy.remove_realm(&options.map, realm),
            }
            .and_then(|()| {
                let mut map = read_map(&options.map)?;
                match previous {
                    Some(backend) => map.insert(realm.clone(), backend.clone()),
                    None => map.remove(realm),
                };
                write_map(&options.map, &map)
            });
            failures.extend(restored.err());
        }
        if self.imported {
            let deleted = target
                .call(Method::DELETE, &format!("/admin/realms/{realm}"), None)
                .await;
            // The delete leaves a tombstone on the target; the realm never lived there.
            let forgotten = target
                .call(Method::DELETE, &format!("/admin/tombstones/{realm}"), None)
                .await;
            failures.extend(deleted.err());
            failures.extend(forgotten.err());
        }
        let unfenced = source
            .expect(
                Method::DELETE,
                &format!("/admin/realms/{realm}/fence"),
                None,
                StatusCode::NO_CONTENT,
            )
            .await;
        failures.extend(unfenced.err());
        if failures.is_empty() {
            Ok(())
        } else {
            Err(failures.join("; "))
        }
    }
}

/// Export → import → verify → switch; answers the client count and the export's size.
async fn copy(
    options: &MoveOptions,
    source: &Node,
    target: &Node,
    haproxy: &RuntimeApi,
    backend: &str,
    undo: &mut Undo,
) -> Result<(usize, usize), String> {
    let realm = &options.realm;
    let export = source
        .expect(
            Method::GET,
            &format!("/admin/realms/{realm}/export?include_secrets=true"),
            None,
            StatusCode::OK,
        )
        .await?;
    let exported = summary(&export)?;
    let export_bytes = export.len();
    let (status, answer) = target
        .call(
            Method::POST,
            &format!("/admin/realms/{realm}/import"),
            Some(export),
        )
        .await?;
    if status != StatusCode::CREATED {
        return Err(format!(
            "import on {} answered {status}: {}",
            target.url(),
            String::from_utf8_lossy(&answer)
        ));
    }
    undo.imported = true;
    let imported = summary(&answer)?;
    if imported != exported {
        return Err(format!(
            "verification failed: the source exported {} clients (digest {}), the target \
             holds {} (digest {})",
            exported.clients, exported.digest, imported.clients, imported.digest
        ));
    }
    let mut map = read_map(&options.map)?;
    let previous = map.insert(realm.clone(), backend.to_owned());
    undo.switched_from = Some(previous);
    haproxy.set_realm(&options.map, realm, backend)?;
    write_map(&options.map, &map)?;
    Ok((imported.clients, export_bytes))
}
