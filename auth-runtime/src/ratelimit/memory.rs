//! [`MemoryRateLimiter`]: counters in the process.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use sha2::{Digest, Sha256};
use tokio::time::Instant;

use super::{ceil_secs, window, Decision, RateLimiter};
use crate::config::Rate;
use crate::error::StoreError;

/// How many counters a [`MemoryRateLimiter`] keeps at most by default.
///
/// ```
/// use axum_users_runtime::{MemoryRateLimiter, DEFAULT_MAX_KEYS};
///
/// assert_eq!(MemoryRateLimiter::new().max_keys(), DEFAULT_MAX_KEYS);
/// ```
pub const DEFAULT_MAX_KEYS: usize = 100_000;

/// The default [`RateLimiter`]: fixed-window counters in the process's memory.
///
/// Each instance of a service counts for itself; use [`RedisRateLimiter`](crate::RedisRateLimiter)
/// when several share the load. Clones share the counters.
///
/// Memory is bounded: a counter takes about 100 bytes whatever the subject (subjects are kept
/// as SHA-256 digests), and at most `max_keys` counters are kept ([`DEFAULT_MAX_KEYS`], about
/// 10 MB; [`with_max_keys`](Self::with_max_keys)). Counters whose window has ended are swept
/// as the table grows. When the table is full of live counters, a subject that has none yet is
/// refused (429, with the time until the oldest window ends) rather than tracked: the limiter
/// fails closed instead of growing without bound or forgetting the counters of an attack in
/// progress. Subjects already counted are unaffected.
///
/// Time is [`tokio::time::Instant`], so tests can move it with `tokio::time::pause`/`advance`.
///
/// ```
/// use axum_users_runtime::{MemoryRateLimiter, Rate, RateLimiter};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let limiter = MemoryRateLimiter::with_max_keys(1);
/// let rate = Rate::new(5, 60);
/// assert!(limiter.hit("mail_account", "a@example.com", rate).await.unwrap().allowed);
/// // Full: a second subject is refused, the first still counts.
/// assert!(!limiter.hit("mail_account", "b@example.com", rate).await.unwrap().allowed);
/// assert_eq!(limiter.hit("mail_account", "a@example.com", rate).await.unwrap().count, 2);
/// assert_eq!(limiter.len(), 1);
/// # });
/// ```
#[derive(Clone)]
pub struct MemoryRateLimiter {
    table: Arc<Mutex<Table>>,
    max_keys: usize,
}

struct Table {
    entries: HashMap<[u8; 32], Entry>,
    /// Sweep expired counters when the table reaches this size.
    sweep_at: usize,
    /// When full: no sweep before this instant (nothing expires earlier), so that a flood of
    /// new subjects does not cost one full scan each.
    next_sweep: Option<Instant>,
    /// Whether the "full" warning was logged since the table last had room.
    warned_full: bool,
}

struct Entry {
    count: u64,
    reset_at: Instant,
}

/// The smallest size at which the table is swept.
const MIN_SWEEP: usize = 1024;

impl MemoryRateLimiter {
    /// An empty limiter of at most [`DEFAULT_MAX_KEYS`] counters.
    ///
    /// ```
    /// assert!(axum_users_runtime::MemoryRateLimiter::new().is_empty());
    /// ```
    pub fn new() -> Self {
        Self::with_max_keys(DEFAULT_MAX_KEYS)
    }

    /// An empty limiter of at most `max_keys` counters (at least 1).
    ///
    /// ```
    /// let limiter = axum_users_runtime::MemoryRateLimiter::with_max_keys(1_000_000);
    /// assert_eq!(limiter.max_keys(), 1_000_000);
    /// ```
    pub fn with_max_keys(max_keys: usize) -> Self {
        let max_keys = max_keys.max(1);
        MemoryRateLimiter {
            table: Arc::new(Mutex::new(Table {
                entries: HashMap::new(),
                sweep_at: MIN_SWEEP.min(max_keys),
                next_sweep: None,
                warned_full: false,
            })),
            max_keys,
        }
    }

    /// The most counters kept. Example: see [`with_max_keys`](Self::with_max_keys).
    pub fn max_keys(&self) -> usize {
        self.max_keys
    }

    /// How many counters are kept (ended windows included until they are swept).
    ///
    /// ```
    /// assert_eq!(axum_users_runtime::MemoryRateLimiter::new().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// Whether no counter is kept. Example: see [`new`](Self::new).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Default for MemoryRateLimiter {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for MemoryRateLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryRateLimiter")
            .field("keys", &self.len())
            .field("max_keys", &self.max_keys)
            .finish()
    }
}

/// The table key of `(limit, subject)`.
fn key(limit: &str, subject: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    let hash = Sha256::new()
        .chain_update(limit.as_bytes())
        .chain_update([0u8])
        .chain_update(subject.as_bytes())
        .finalize();
    out.copy_from_slice(&hash);
    out
}

impl Table {
    /// Drops the counters whose window has ended; remembers when the next one ends.
    fn sweep(&mut self, now: Instant, max_keys: usize) {
        self.entries.retain(|_, entry| entry.reset_at > now);
        self.next_sweep = self.entries.values().map(|entry| entry.reset_at).min();
        self.sweep_at = (self.entries.len().saturating_mul(2))
            .max(MIN_SWEEP)
            .min(max_keys);
    }
}

#[async_trait]
impl RateLimiter for MemoryRateLimiter {
    async fn hit(&self, limit: &str, subject: &str, rate: Rate) -> Result<Decision, StoreError> {
        let key = key(limit, subject);
        let now = Instant::now();
        let mut table = self.lock();
        if let Some(entry) = table.entries.get_mut(&key) {
            if entry.reset_at <= now {
                entry.count = 0;
                entry.reset_at = now + window(rate);
            }
            entry.count = entry.count.saturating_add(1);
            return Ok(Decision::new(entry.count, rate.max, entry.reset_at - now));
        }
        if table.entries.len() >= table.sweep_at {
            let due = table.next_sweep.is_none_or(|at| at <= now);
            if due || table.entries.len() < self.max_keys {
                table.sweep(now, self.max_keys);
            }
            if table.entries.len() >= self.max_keys {
                if !table.warned_full {
                    table.warned_full = true;
                    tracing::warn!(
                        max_keys = self.max_keys,
                        "rate limiter full: new clients and accounts are refused (429) until \
                         windows end"
                    );
                }
                let wait = table.next_sweep.map_or(window(rate), |at| at - now);
                return Ok(Decision {
                    allowed: false,
                    count: 0,
                    retry_after: ceil_secs(wait),
                });
            }
            table.warned_full = false;
        }
        let reset_at = now + window(rate);
        table.entries.insert(key, Entry { count: 1, reset_at });
        Ok(Decision::new(1, rate.max, reset_at - now))
    }

    async fn undo(&self, limit: &str, subject: &str) -> Result<(), StoreError> {
        let now = Instant::now();
        if let Some(entry) = self.lock().entries.get_mut(&key(limit, subject)) {
            if entry.reset_at > now {
                entry.count = entry.count.saturating_sub(1);
            }
        }
        Ok(())
    }

    async fn clear(&self, limit: &str, subject: &str) -> Result<(), StoreError> {
        self.lock().entries.remove(&key(limit, subject));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const RATE: Rate = Rate::new(3, 60);

    #[tokio::test(start_paused = true)]
    async fn counts_within_a_window_and_starts_over_after_it() {
        let limiter = MemoryRateLimiter::new();
        for count in 1..=3 {
            let d = limiter.hit("l", "s", RATE).await.unwrap();
            assert_eq!((d.allowed, d.count, d.retry_after), (true, count, 60));
        }
        tokio::time::advance(Duration::from_millis(20_500)).await;
        let d = limiter.hit("l", "s", RATE).await.unwrap();
        assert_eq!((d.allowed, d.count, d.retry_after), (false, 4, 40));
        tokio::time::advance(Duration::from_secs(40)).await;
        let d = limiter.hit("l", "s", RATE).await.unwrap();
        assert_eq!((d.allowed, d.count, d.retry_after), (true, 1, 60));
    }

    #[tokio::test(start_paused = true)]
    async fn limits_and_subjects_are_separate() {
        let limiter = MemoryRateLimiter::new();
        let one = Rate::new(1, 60);
        assert!(limiter.hit("a", "x", one).await.unwrap().allowed);
        assert!(limiter.hit("b", "x", one).await.unwrap().allowed);
        assert!(limiter.hit("a", "y", one).await.unwrap().allowed);
        assert!(!limiter.hit("a", "x", one).await.unwrap().allowed);
        // "a" + "\0x" must not be "a\0" + "x".
        assert!(limiter.hit("a\0", "x", one).await.unwrap().allowed);
    }

    #[tokio::test(start_paused = true)]
    async fn undo_and_clear() {
        let limiter = MemoryRateLimiter::new();
        limiter.hit("l", "s", RATE).await.unwrap();
        limiter.hit("l", "s", RATE).await.unwrap();
        limiter.undo("l", "s").await.unwrap();
        assert_eq!(limiter.hit("l", "s", RATE).await.unwrap().count, 2);
        limiter.clear("l", "s").await.unwrap();
        assert_eq!(limiter.hit("l", "s", RATE).await.unwrap().count, 1);
        // Undoing what was never counted is harmless.
        limiter.undo("l", "other").await.unwrap();
        limiter.clear("l", "other").await.unwrap();
        assert_eq!(limiter.len(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_full_table_refuses_new_subjects_until_windows_end() {
        let limiter = MemoryRateLimiter::with_max_keys(3);
        for subject in ["a", "b", "c"] {
            assert!(limiter.hit("l", subject, RATE).await.unwrap().allowed);
        }
        tokio::time::advance(Duration::from_secs(10)).await;
        let refused = limiter.hit("l", "d", RATE).await.unwrap();
        assert_eq!((refused.allowed, refused.count), (false, 0));
        assert_eq!(refused.retry_after, 50);
        assert_eq!(limiter.len(), 3);
        // Known subjects still count.
        assert_eq!(limiter.hit("l", "a", RATE).await.unwrap().count, 2);
        // Once the windows end, the table is swept and new subjects fit.
        tokio::time::advance(Duration::from_secs(50)).await;
        assert!(limiter.hit("l", "d", RATE).await.unwrap().allowed);
        assert_eq!(limiter.len(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn expired_counters_are_swept_as_the_table_grows() {
        let limiter = MemoryRateLimiter::with_max_keys(10_000);
        let short = Rate::new(1, 1);
        for n in 0..MIN_SWEEP {
            limiter.hit("l", &n.to_string(), short).await.unwrap();
        }
        assert_eq!(limiter.len(), MIN_SWEEP);
        tokio::time::advance(Duration::from_secs(2)).await;
        limiter.hit("l", "new", short).await.unwrap();
        assert_eq!(limiter.len(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_zero_window_counts_as_one_second() {
        let limiter = MemoryRateLimiter::new();
        let rate = Rate::new(1, 0);
        assert!(limiter.hit("l", "s", rate).await.unwrap().allowed);
        let d = limiter.hit("l", "s", rate).await.unwrap();
        assert_eq!((d.allowed, d.retry_after), (false, 1));
    }
}
