//! What changes with every heartbeat (when each runner last beat, the capacity its agent
//! reported), kept in memory: discovery reads it on every request and agents write it
//! every few seconds, which through SQLite's one writer would queue each behind the
//! other. It is written to the store in batches ([`LiveRunners::persist`]), so that a
//! restarted gateway starts from what it last knew.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use time::OffsetDateTime;

use crate::capacity::Capacity;
use crate::mutex::lock;
use crate::store::{self, Store, runners};

/// One runner's live state.
#[derive(Clone, Debug, Default)]
pub struct LiveRunner {
    pub last_heartbeat_at: Option<OffsetDateTime>,
    /// Shared: a heartbeat that reports the same capacity keeps the same allocation.
    pub capacity: Option<Arc<Capacity>>,
}

/// Every runner's live state, by runner UUID. Cheap to clone: clones share it.
#[derive(Clone, Default)]
pub struct LiveRunners {
    runners: Arc<RwLock<HashMap<String, LiveRunner>>>,
    /// Runners changed since the last `persist`, and whether their capacity did.
    changed: Arc<std::sync::Mutex<HashMap<String, bool>>>,
}

impl LiveRunners {
    /// What the store last had, at start-up.
    pub fn load(connection: &rusqlite::Connection) -> store::Result<LiveRunners> {
        let runners = runners::live_state(connection)?
            .into_iter()
            .map(|(uuid, (last_heartbeat_at, capacity))| {
                let capacity = capacity.map(Arc::new);
                (
                    uuid,
                    LiveRunner {
                        last_heartbeat_at,
                        capacity,
                    },
                )
            })
            .collect();
        Ok(LiveRunners {
            runners: Arc::new(RwLock::new(runners)),
            changed: Arc::default(),
        })
    }

    pub fn get(&self, uuid: &str) -> LiveRunner {
        self.read(|runners| runners.get(uuid).cloned().unwrap_or_default())
    }

    /// Runs `look` with every runner's live state, under one read lock (for reading many).
    pub fn read<T>(&self, look: impl FnOnce(&HashMap<String, LiveRunner>) -> T) -> T {
        let runners = self.runners.read().unwrap_or_else(|p| p.into_inner());
        look(&runners)
    }

    /// A heartbeat at `at` reporting `capacity`.
    pub fn beat(&self, uuid: &str, at: OffsetDateTime, capacity: &Capacity) {
        let capacity_changed;
        {
            let mut runners = self.runners.write().unwrap_or_else(|p| p.into_inner());
            let runner = runners.entry(uuid.to_owned()).or_default();
            runner.last_heartbeat_at = Some(at);
            capacity_changed = runner.capacity.as_deref() != Some(capacity);
            if capacity_changed {
                runner.capacity = Some(Arc::new(capacity.clone()));
            }
        }
        *lock(&self.changed).entry(uuid.to_owned()).or_default() |= capacity_changed;
    }

    /// Capacity declared by configuration (already in the store), before any heartbeat.
    pub fn declare(&self, uuid: &str, capacity: &Capacity) {
        let mut runners = self.runners.write().unwrap_or_else(|p| p.into_inner());
        runners.entry(uuid.to_owned()).or_default().capacity = Some(Arc::new(capacity.clone()));
    }

    /// A deleted runner.
    pub fn forget(&self, uuid: &str) {
        self.runners
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(uuid);
        lock(&self.changed).remove(uuid);
    }

    /// Writes the heartbeats since the last call to the store, in one transaction. The
    /// capacity is written only where it changed.
    pub async fn persist(&self, store: &Store) -> anyhow::Result<usize> {
        let changed: HashMap<String, bool> = std::mem::take(&mut *lock(&self.changed));
        if changed.is_empty() {
            return Ok(0);
        }
        let beats: Vec<_> = self.read(|runners| {
            changed
                .iter()
                .filter_map(|(uuid, capacity_changed)| {
                    let runner = runners.get(uuid)?;
                    let capacity = capacity_changed
                        .then(|| runner.capacity.as_deref().cloned())
                        .flatten();
                    Some((uuid.clone(), runner.last_heartbeat_at?, capacity))
                })
                .collect()
        });
        let count = beats.len();
        store
            .run(move |connection| runners::record_heartbeats(connection, &beats))
            .await
            .map_err(|e| e.context("persisting heartbeats"))?;
        Ok(count)
    }

    /// The UUIDs of every runner with live state (for tests of `forget`).
    #[cfg(test)]
    fn known(&self) -> std::collections::HashSet<String> {
        self.read(|runners| runners.keys().cloned().collect())
    }
}

/// Persists heartbeats every `every` until the process ends; a failure is logged and
/// the changes are kept in memory (the next heartbeats carry them again).
pub fn persist_periodically(live: LiveRunners, store: Store, every: std::time::Duration) {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(every).await;
            if let Err(error) = live.persist(&store).await {
                tracing::warn!("{error:#}");
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heartbeats_share_an_unchanged_capacity_and_mark_what_changed() {
        let live = LiveRunners::default();
        let capacity = Capacity {
            cpu_millicores: 4000,
            ..Capacity::default()
        };
        let at = OffsetDateTime::now_utc();
        live.beat("a", at, &capacity);
        let first = live.get("a").capacity.unwrap();
        live.beat("a", at, &capacity);
        assert!(Arc::ptr_eq(&first, &live.get("a").capacity.unwrap()));
        assert_eq!(lock(&live.changed).get("a"), Some(&true));

        live.forget("a");
        assert!(live.known().is_empty());
        assert!(lock(&live.changed).is_empty());
    }
}
