//! `dynreg realm sync-map`: writes HAProxy's realm map from what each node holds, so every
//! realm is routed to its node explicitly (a realm left to the hash would land on another
//! node when its own is down, and answer 404 there instead of 503).

use super::admin::Node;
use super::haproxy::{check_word, write_map, RuntimeApi};
use super::SyncMapOptions;
use std::collections::BTreeMap;

/// Realms every node has on its own (SPEC: `root` always exists); they are not placed.
const NODE_LOCAL_REALMS: [&str; 1] = ["root"];

pub async fn run(options: &SyncMapOptions) -> Result<(), String> {
    let token = options.admin.resolve()?;
    let mut placement: BTreeMap<String, String> = BTreeMap::new();
    let mut conflicts = Vec::new();
    for node in &options.nodes {
        let (backend, url) = node
            .split_once('=')
            .ok_or_else(|| format!("--node {node:?} must be BACKEND=URL"))?;
        check_word("backend", backend)?;
        for realm in Node::new(url, &token).realms().await? {
            if NODE_LOCAL_REALMS.contains(&realm.as_str()) {
                continue;
            }
            if let Some(other) = placement.insert(realm.clone(), backend.to_owned()) {
                conflicts.push(format!("{realm} on {other} and {backend}"));
            }
        }
    }
    if !conflicts.is_empty() {
        return Err(format!(
            "realms on more than one node (resolve before routing them): {}",
            conflicts.join(", ")
        ));
    }
    write_map(&options.map, &placement)?;
    if let Some(socket) = &options.haproxy_socket {
        let haproxy = RuntimeApi::new(socket);
        for (realm, backend) in &placement {
            haproxy.set_realm(&options.map, realm, backend)?;
        }
    }
    println!(
        "map {}: {} realms placed on {} nodes",
        options.map.display(),
        placement.len(),
        options.nodes.len()
    );
    Ok(())
}
