//! Request lists as last read: served from memory until this process commits a write, so
//! the pages, badges and the API, which ask the same questions many times between changes,
//! read the database once.

use std::sync::Arc;

use crate::domain::Request;
use crate::error::AppResult;
use crate::service::Portal;
use crate::store::RequestFilter;

/// Request lists read since the store's last commit, by filter.
#[derive(Default)]
pub(in crate::service) struct ListCache {
    commits: u64,
    lists: std::collections::HashMap<String, (std::time::Instant, Arc<Vec<Request>>)>,
    /// Requests held over all lists.
    held: usize,
}

/// Requests kept in all cached lists together, at most (a few megabytes); the cache starts
/// over beyond.
const LIST_CACHE_MAX: usize = 20_000;

impl Portal {
    /// A page of requests, read once and then served from memory until this process commits
    /// a write (pages, badges and the API ask the same questions many times between changes).
    /// Exact on SQLite, where this process makes every change; on PostgreSQL, where other
    /// replicas write too, a list is believed for one second at most.
    pub(crate) async fn list_requests_cached(&self, f: &RequestFilter) -> AppResult<Vec<Request>> {
        let key = format!("{f:?}");
        let commits = self.store.commits();
        let fresh_for =
            (self.store.backend() != "sqlite").then_some(std::time::Duration::from_secs(1));
        {
            let cache = self.lists.lock().unwrap_or_else(|e| e.into_inner());
            if cache.commits == commits
                && let Some((at, list)) = cache.lists.get(&key)
                && fresh_for.is_none_or(|f| at.elapsed() < f)
            {
                return Ok(list.as_ref().clone());
            }
        }
        // The count is taken before the read: a commit during it makes the entry stale at once.
        let list = self.store.list_requests(f).await?;
        let mut cache = self.lists.lock().unwrap_or_else(|e| e.into_inner());
        if cache.commits != commits || cache.held + list.len() > LIST_CACHE_MAX {
            cache.lists.clear();
            cache.held = 0;
            cache.commits = commits;
        }
        cache.held += list.len();
        if let Some((_, old)) = cache
            .lists
            .insert(key, (std::time::Instant::now(), Arc::new(list.clone())))
        {
            cache.held -= old.len();
        }
        Ok(list)
    }
}
