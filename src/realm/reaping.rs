//! Reaping: dynamic clients nobody has used for a while are removed, when the realm enables
//! it. Use (a token issued, a registration access token accepted) is noted in memory and
//! written in one batch per minute, so a token request costs no disk write; the realm actor
//! reaps page by page, so other writes of the realm interleave with a long run.

use super::actor::RealmActor;
use super::error::RealmError;
use super::handle::RealmHandle;
use super::messages::{ReapPage, ReapedPage};
use super::record::{client_key, usage_key, ClientOrigin, ClientRecord, CLIENT_PREFIX};
use super::state::snapshot;
use crate::store::BatchOp;
use crate::time::now_unix;
use actix::{AsyncContext, Context, Handler, Message};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// How often noted uses are written.
const USAGE_FLUSH_INTERVAL: Duration = Duration::from_secs(60);
/// Noted uses that make the tracker ask for an early write.
const USAGE_FLUSH_AT: usize = 10_000;
/// Noted uses beyond which further ones wait for that write (memory bound).
const MAX_PENDING_USES: usize = 50_000;
/// How often a realm with reaping enabled reaps.
const REAP_INTERVAL: Duration = Duration::from_secs(3600);
/// Clients examined per actor message.
const REAP_PAGE: usize = 256;
/// Client ids a reaping report lists (the count covers all).
const MAX_REAP_LISTED: usize = 1000;

/// What a reaping run found (and removed, unless it was a dry run).
#[derive(Debug)]
pub struct ReapReport {
    pub dry_run: bool,
    pub as_of: u64,
    pub unused_for_seconds: u64,
    /// How many clients the run found.
    pub count: usize,
    /// The first of them (at most 1000), in id order.
    pub client_ids: Vec<String>,
}

/// Last uses of clients not yet written, shared by the realm's handles and its actor.
#[derive(Default)]
pub(crate) struct UsageTracker {
    pending: Mutex<HashMap<String, u64>>,
}

impl UsageTracker {
    /// Notes that `client_id` was used at `now`; true when the actor should write soon.
    pub(crate) fn touch(&self, client_id: &str, now: u64) -> bool {
        let Ok(mut pending) = self.pending.lock() else {
            return false;
        };
        if let Some(last) = pending.get_mut(client_id) {
            *last = now.max(*last);
            return false;
        }
        if pending.len() >= MAX_PENDING_USES {
            return false;
        }
        pending.insert(client_id.to_owned(), now);
        // Asked once, when the threshold is crossed; the periodic write is the fallback.
        pending.len() == USAGE_FLUSH_AT
    }

    fn drain(&self) -> HashMap<String, u64> {
        self.pending
            .lock()
            .map(|mut pending| std::mem::take(&mut *pending))
            .unwrap_or_default()
    }

    fn is_pending(&self, client_id: &str) -> bool {
        self.pending
            .lock()
            .map(|pending| pending.contains_key(client_id))
            .unwrap_or(false)
    }
}

/// Write the noted uses now.
#[derive(Message)]
#[rtype(result = "()")]
pub(crate) struct FlushUsage;

/// One page of a periodic reaping run; the next page is queued behind other messages.
#[derive(Message)]
#[rtype(result = "()")]
struct ReapStep {
    after: Option<String>,
    as_of: u64,
    reaped: usize,
}

impl RealmActor {
    /// Starts the periodic usage writes and reaping runs.
    pub(super) fn schedule_housekeeping(&self, ctx: &mut Context<Self>) {
        ctx.run_interval(USAGE_FLUSH_INTERVAL, |actor, _| actor.write_usage());
        ctx.run_interval(REAP_INTERVAL, |actor, ctx| {
            if snapshot(actor.shared()).settings.policy.reaping.enabled {
                ctx.notify(ReapStep {
                    after: None,
                    as_of: now_unix(),
                    reaped: 0,
                });
            }
        });
    }

    /// Writes the noted uses of clients that still exist, in one batch. Not awaited for
    /// durability: a crash loses at most a minute of use times, which only delays reaping.
    pub(super) fn write_usage(&self) {
        // A fenced realm is being copied: use times wait in memory until it opens again.
        if self.writable().is_err() {
            return;
        }
        let uses = self.usage().drain();
        if uses.is_empty() {
            return;
        }
        let mut ops = Vec::with_capacity(uses.len());
        for (client_id, at) in uses {
            if matches!(self.tree().contains(&client_key(&client_id)), Ok(true)) {
                if let Ok(op) = BatchOp::put(usage_key(&client_id), &at) {
                    ops.push(op);
                }
            }
        }
        if let Err(e) = self.tree().apply(ops) {
            log::error!("realm={} writing client use times failed: {e}", self.name());
        }
    }

    fn reap_page(&mut self, msg: &ReapPage) -> Result<ReapedPage, RealmError> {
        if !msg.dry_run {
            self.writable()?;
        }
        if msg.after.is_none() {
            // A run starts from the latest use times.
            self.write_usage();
        }
        let page =
            self.tree()
                .page::<ClientRecord>(CLIENT_PREFIX, msg.after.as_deref(), REAP_PAGE)?;
        let next = (page.len() == REAP_PAGE)
            .then(|| page.last().map(|(id, _)| id.clone()))
            .flatten();
        let mut client_ids = Vec::new();
        for (client_id, record) in page {
            if record.origin != ClientOrigin::Dynamic || self.usage().is_pending(&client_id) {
                continue;
            }
            let used: u64 = self.tree().get(&usage_key(&client_id))?.unwrap_or(0);
            let last = used.max(record.profile.client_id_issued_at);
            if msg.as_of.saturating_sub(last) >= msg.unused_for {
                client_ids.push(client_id);
            }
        }
        if !msg.dry_run && !client_ids.is_empty() {
            let mut ops = Vec::with_capacity(2 * client_ids.len() + 1);
            for client_id in &client_ids {
                ops.push(BatchOp::Remove {
                    key: client_key(client_id),
                });
                ops.push(BatchOp::Remove {
                    key: usage_key(client_id),
                });
            }
            self.remove_dynamic(ops, client_ids.len() as u64)?;
        }
        Ok(ReapedPage { client_ids, next })
    }
}

impl RealmHandle {
    /// Notes a use of the client for reaping (written in a batch, not per use).
    pub(crate) fn note_use(&self, client_id: &str) {
        if self.context.usage.touch(client_id, now_unix()) {
            self.addr.do_send(FlushUsage);
        }
    }

    /// A reaping run as of `as_of` (default now): the dynamic clients unused for the realm's
    /// `unused_for_seconds`, removed unless `dry_run`. A real run needs reaping enabled. The
    /// actor handles one page per message, so the realm's other writes interleave.
    pub async fn reap(&self, dry_run: bool, as_of: Option<u64>) -> Result<ReapReport, RealmError> {
        let reaping = self.snapshot().settings.policy.reaping;
        if !dry_run && !reaping.enabled {
            return Err(RealmError::InvalidRequest(
                "reaping is not enabled in this realm (registration_policy.reaping.enabled); \
                 a dry run shows what it would remove"
                    .into(),
            ));
        }
        let as_of = as_of.unwrap_or_else(now_unix);
        let mut report = ReapReport {
            dry_run,
            as_of,
            unused_for_seconds: reaping.unused_for_seconds,
            count: 0,
            client_ids: Vec::new(),
        };
        let mut after = None;
        loop {
            let page = self
                .addr
                .send(ReapPage {
                    after,
                    as_of,
                    unused_for: reaping.unused_for_seconds,
                    dry_run,
                })
                .await??;
            report.count += page.client_ids.len();
            let room = MAX_REAP_LISTED.saturating_sub(report.client_ids.len());
            report
                .client_ids
                .extend(page.client_ids.into_iter().take(room));
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        if !dry_run && report.count > 0 {
            self.reader.flush().await?;
            log::info!("realm={} reaped {} unused clients", self.name, report.count);
        }
        Ok(report)
    }
}

impl Handler<FlushUsage> for RealmActor {
    type Result = ();

    fn handle(&mut self, _: FlushUsage, _: &mut Context<Self>) {
        self.write_usage();
    }
}

impl Handler<ReapPage> for RealmActor {
    type Result = Result<ReapedPage, RealmError>;

    fn handle(&mut self, msg: ReapPage, _: &mut Context<Self>) -> Self::Result {
        self.reap_page(&msg)
    }
}

impl Handler<ReapStep> for RealmActor {
    type Result = ();

    fn handle(&mut self, msg: ReapStep, ctx: &mut Context<Self>) {
        let reaping = snapshot(self.shared()).settings.policy.reaping;
        if !reaping.enabled {
            return;
        }
        let page = ReapPage {
            after: msg.after,
            as_of: msg.as_of,
            unused_for: reaping.unused_for_seconds,
            dry_run: false,
        };
        match self.reap_page(&page) {
            Ok(done) => {
                let reaped = msg.reaped + done.client_ids.len();
                match done.next {
                    Some(after) => ctx.notify(ReapStep {
                        after: Some(after),
                        as_of: msg.as_of,
                        reaped,
                    }),
                    None if reaped > 0 => {
                        log::info!("realm={} reaped {reaped} unused clients", self.name())
                    }
                    None => {}
                }
            }
            Err(e) => log::error!("realm={} reaping failed: {e}", self.name()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uses_are_noted_once_per_client_with_the_latest_time() {
        let tracker = UsageTracker::default();
        assert!(!tracker.touch("a", 10));
        assert!(!tracker.touch("a", 5));
        assert!(tracker.is_pending("a"));
        let drained = tracker.drain();
        assert_eq!(drained.get("a"), Some(&10));
        assert!(!tracker.is_pending("a"));
    }

    #[test]
    fn the_tracker_asks_for_a_write_when_it_fills_and_stays_bounded() {
        let tracker = UsageTracker::default();
        let mut asked = false;
        for i in 0..(MAX_PENDING_USES + 10) {
            asked |= tracker.touch(&i.to_string(), 1);
        }
        assert!(asked);
        assert_eq!(tracker.drain().len(), MAX_PENDING_USES);
    }
}
