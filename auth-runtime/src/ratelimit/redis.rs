//! [`RedisRateLimiter`]: counters in Redis, shared by every instance of a service.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use redis::aio::ConnectionManager;

use super::{digest, window, Decision, RateLimiter};
use crate::config::Rate;
use crate::error::StoreError;
use crate::tokens::RedisTokenStore;

/// The key prefix of [`RedisRateLimiter`] by default.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use axum_users_runtime::{RedisRateLimiter, DEFAULT_RATE_LIMIT_PREFIX};
///
/// let limiter = RedisRateLimiter::connect_lazy("redis://127.0.0.1:6379").unwrap();
/// assert_eq!(limiter.prefix(), DEFAULT_RATE_LIMIT_PREFIX);
/// # });
/// ```
pub const DEFAULT_RATE_LIMIT_PREFIX: &str = "axum_users:";

/// One round trip per hit: count, start the window on the first event (or repair a counter that
/// lost its expiry, so that nothing is ever locked for good), answer the count and the
/// milliseconds left.
const HIT: &str = r"
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if count == 1 or ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
";

/// Takes one event back, never below zero and never creating a key.
const UNDO: &str = r"
local value = redis.call('GET', KEYS[1])
if value then
  local count = tonumber(value)
  if count and count > 0 then
    redis.call('DECR', KEYS[1])
  end
end
return 0
";

/// [`RateLimiter`] counters in Redis, so that every instance of a service sharing the Redis
/// counts together (an attacker spreading attempts over instances meets the same limits).
///
/// Each counter is one string key, `<prefix>ratelimit:<limit>:<hex SHA-256 of the subject>`
/// (prefix `axum_users:` unless [`with_prefix`](Self::with_prefix) says otherwise): no e-mail
/// or client address is stored in clear. A hit is one atomic Lua script (`INCR`, `PEXPIRE` on
/// the window's first event); the key expires with its window.
///
/// Failures are bounded as in [`RedisTokenStore`]: the connection times out connecting and
/// answering after 2 s and retries once, and every command has an overall deadline
/// ([`with_timeout`](Self::with_timeout), default 2 s). A limiter that fails makes the limited
/// routes answer 503: they fail closed.
///
/// ```no_run
/// use axum_users_runtime::{AuthConfig, AuthState, BackendKind, BackendSpec, CookieSpec};
/// use axum_users_runtime::{MemoryStore, RedisRateLimiter, Strategy};
///
/// struct Auth;
/// impl AuthConfig for Auth {
///     const BACKENDS: &'static [BackendSpec] = &[BackendSpec {
///         name: "jwt",
///         kind: BackendKind::Jwt,
///         strategy: Strategy::Jwt,
///         lifetime: 3600,
///         cookie: CookieSpec::DEFAULT,
///     }];
/// }
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let limiter = RedisRateLimiter::connect("redis://127.0.0.1:6379").await?;
/// let state = AuthState::builder::<Auth>()
///     .secret("an example secret of at least 32 bytes!")
///     .store(MemoryStore::new())
///     .rate_limiter(limiter)
///     .build()?;
/// # let _ = state;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct RedisRateLimiter {
    /// The connection (reconnection, deadline) of a token store; its key prefix is unused.
    redis: RedisTokenStore,
    prefix: Arc<str>,
}

impl fmt::Debug for RedisRateLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("RedisRateLimiter");
        self.redis.debug_connection(&mut debug);
        debug.field("prefix", &self.prefix).finish_non_exhaustive()
    }
}

impl RedisRateLimiter {
    /// Connects to the Redis at `url` and checks that it answers `PING`; fails within a few
    /// seconds when it does not, so that a service does not start without its limiter.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), axum_users_runtime::StoreError> {
    /// let limiter = axum_users_runtime::RedisRateLimiter::connect("redis://127.0.0.1:6379").await?;
    /// # let _ = limiter;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        RedisTokenStore::connect(url).await.map(Self::over)
    }

    /// Like [`connect`](Self::connect), without any I/O: the first hit connects (limited
    /// routes answer 503 until Redis answers). Fails only on an invalid URL.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// use axum_users_runtime::RedisRateLimiter;
    ///
    /// let limiter = RedisRateLimiter::connect_lazy("redis://127.0.0.1:1").unwrap();
    /// assert_eq!(limiter.prefix(), "axum_users:");
    /// assert!(RedisRateLimiter::connect_lazy("http://nope").is_err());
    /// # });
    /// ```
    pub fn connect_lazy(url: &str) -> Result<Self, StoreError> {
        RedisTokenStore::connect_lazy(url).map(Self::over)
    }

    /// A limiter over a connection manager of the application's own (e.g. the one its
    /// `RedisTokenStore` uses); its settings apply as configured, a timed-out connection is not
    /// replaced.
    ///
    /// ```no_run
    /// use axum_users_runtime::{RedisRateLimiter, RedisTokenStore};
    ///
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let client = redis::Client::open("redis://127.0.0.1:6379")?;
    /// let manager = redis::aio::ConnectionManager::new_with_config(
    ///     client,
    ///     RedisTokenStore::manager_config(),
    /// )
    /// .await?;
    /// let limiter = RedisRateLimiter::from_manager(manager).with_prefix("myapp:");
    /// # let _ = limiter;
    /// # Ok(())
    /// # }
    /// ```
    pub fn from_manager(manager: ConnectionManager) -> Self {
        Self::over(RedisTokenStore::from_manager(manager))
    }

    fn over(redis: RedisTokenStore) -> Self {
        RedisRateLimiter {
            redis,
            prefix: Arc::from(DEFAULT_RATE_LIMIT_PREFIX),
        }
    }

    /// Uses `prefix` instead of `axum_users:`. Give the same prefix to every instance that
    /// shares the counters.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let limiter = axum_users_runtime::RedisRateLimiter::connect_lazy("redis://127.0.0.1:6379")
    ///     .unwrap()
    ///     .with_prefix("myapp:");
    /// assert_eq!(limiter.prefix(), "myapp:");
    /// # });
    /// ```
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = Arc::from(prefix.into());
        self
    }

    /// The deadline of one Redis command, waiting for a connection included (default 2 s).
    ///
    /// ```
    /// use std::time::Duration;
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let limiter = axum_users_runtime::RedisRateLimiter::connect_lazy("redis://127.0.0.1:6379")
    ///     .unwrap()
    ///     .with_timeout(Duration::from_millis(500));
    /// # let _ = limiter;
    /// # });
    /// ```
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.redis = self.redis.with_timeout(timeout);
        self
    }

    /// The key prefix. Example: see [`with_prefix`](Self::with_prefix).
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The Redis key of a counter: `<prefix>ratelimit:<limit>:<hex SHA-256 of subject>`.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let limiter = axum_users_runtime::RedisRateLimiter::connect_lazy("redis://127.0.0.1:6379")
    ///     .unwrap();
    /// assert_eq!(
    ///     limiter.key("login_account", "abc"),
    ///     "axum_users:ratelimit:login_account:\
    ///      ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    /// );
    /// # });
    /// ```
    pub fn key(&self, limit: &str, subject: &str) -> String {
        let mut key = format!("{}ratelimit:{limit}:", self.prefix);
        for byte in digest(subject) {
            key.push(char::from(HEX[usize::from(byte >> 4)]));
            key.push(char::from(HEX[usize::from(byte & 0xf)]));
        }
        key
    }

    fn script(&self, script: &str, limit: &str, subject: &str) -> redis::Cmd {
        let mut cmd = redis::cmd("EVAL");
        cmd.arg(script).arg(1).arg(self.key(limit, subject));
        cmd
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

#[async_trait]
impl RateLimiter for RedisRateLimiter {
    async fn hit(&self, limit: &str, subject: &str, rate: Rate) -> Result<Decision, StoreError> {
        let window_ms = u64::try_from(window(rate).as_millis()).unwrap_or(u64::MAX);
        let mut cmd = self.script(HIT, limit, subject);
        cmd.arg(window_ms);
        let (count, ttl_ms): (i64, i64) = self.redis.run("rate limit EVAL", &cmd).await?;
        let count = u64::try_from(count).unwrap_or(0);
        let remaining = Duration::from_millis(u64::try_from(ttl_ms).unwrap_or(0));
        Ok(Decision::new(count, rate.max, remaining))
    }

    async fn undo(&self, limit: &str, subject: &str) -> Result<(), StoreError> {
        let cmd = self.script(UNDO, limit, subject);
        self.redis
            .run::<i64>("rate limit EVAL", &cmd)
            .await
            .map(drop)
    }

    async fn clear(&self, limit: &str, subject: &str) -> Result<(), StoreError> {
        let mut cmd = redis::cmd("DEL");
        cmd.arg(self.key(limit, subject));
        self.redis
            .run::<i64>("rate limit DEL", &cmd)
            .await
            .map(drop)
    }
}
