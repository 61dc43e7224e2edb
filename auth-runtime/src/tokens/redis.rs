//! [`RedisTokenStore`]: the `redis` strategy, in fastapi-users' `RedisStrategy` layout.

use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use async_trait::async_trait;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, FromRedisValue};
use uuid::Uuid;

use crate::error::StoreError;
use crate::tokens::TokenStore;

/// The key prefix fastapi-users' `RedisStrategy` uses by default.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use axum_users_runtime::{RedisTokenStore, DEFAULT_REDIS_KEY_PREFIX};
///
/// let tokens = RedisTokenStore::connect_lazy("redis://127.0.0.1:6379").unwrap();
/// assert_eq!(tokens.prefix(), DEFAULT_REDIS_KEY_PREFIX);
/// # });
/// ```
pub const DEFAULT_REDIS_KEY_PREFIX: &str = "fastapi_users_token:";

/// How long one Redis command may take, connecting included, before it fails with a
/// [`StoreError`] (and the request answers 503). Change it with
/// [`RedisTokenStore::with_timeout`] (example there).
pub const DEFAULT_REDIS_TIMEOUT: Duration = Duration::from_secs(2);

/// How many keys one `SCAN` step of [`RedisTokenStore::destroy_all`] asks for.
const SCAN_COUNT: u64 = 1000;

/// Opaque tokens in Redis, exactly as fastapi-users' `RedisStrategy` keeps them, so that an
/// axum-users service and a fastapi-users service can share one Redis (and each other's
/// tokens):
///
/// - login: `SET <prefix><token> <user id> EX <lifetime>` (the id lowercase and hyphenated);
/// - every authenticated request: `GET <prefix><token>`, the value parsed as a UUID (a value
///   that is not one, or a key of another type, is an unknown token, not an error);
/// - logout: `DEL <prefix><token>`.
///
/// The prefix is `fastapi_users_token:` unless [`with_prefix`](Self::with_prefix) says
/// otherwise. Redis' TTL is the token's lifetime: the `lifetime` passed to
/// [`read`](TokenStore::read) is not consulted.
///
/// Failures are bounded: the connection (a [`ConnectionManager`], which reconnects by itself)
/// times out connecting and answering after 2 s and retries once, and every command has an
/// overall deadline ([`with_timeout`](Self::with_timeout), default 2 s). A Redis outage
/// therefore turns into a [`StoreError`] — a 503 `{"detail": "SERVICE_UNAVAILABLE"}` — within
/// a few seconds, never into a hung request or a 401, and service resumes on its own once Redis
/// answers again. A connection whose command timed out is replaced, so a silently dead TCP
/// connection (a network partition, a failed-over host) is not reused.
///
/// ```no_run
/// use axum_users_runtime::{AuthConfig, AuthState, BackendKind, BackendSpec, CookieSpec};
/// use axum_users_runtime::{MemoryStore, RedisTokenStore, Strategy};
///
/// struct Auth;
/// impl AuthConfig for Auth {
///     const BACKENDS: &'static [BackendSpec] = &[BackendSpec {
///         name: "cookie",
///         kind: BackendKind::Cookie,
///         strategy: Strategy::Redis,
///         lifetime: 3600,
///         cookie: CookieSpec::DEFAULT,
///     }];
/// }
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let tokens = RedisTokenStore::connect("redis://127.0.0.1:6379").await?;
/// let state = AuthState::builder::<Auth>()
///     .secret("an example secret of at least 32 bytes!")
///     .store(MemoryStore::new())
///     .redis_tokens(tokens)
///     .build()?;
/// # let _ = state;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct RedisTokenStore {
    connection: Arc<Connection>,
    prefix: Arc<str>,
    timeout: Duration,
}

/// The connection manager in use, and how to make a new one.
struct Connection {
    /// `None` for [`RedisTokenStore::from_manager`]: the manager is never replaced.
    client: Option<Client>,
    config: ConnectionManagerConfig,
    /// A generation number (bumped on every replacement) and the manager.
    current: RwLock<(u64, ConnectionManager)>,
}

impl Connection {
    fn get(&self) -> (u64, ConnectionManager) {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Replaces the manager of `generation` with a new one that connects on first use, unless
    /// another command already replaced it.
    fn replace(&self, generation: u64) {
        let Some(client) = &self.client else { return };
        let mut current = self.current.write().unwrap_or_else(PoisonError::into_inner);
        if current.0 != generation {
            return;
        }
        match ConnectionManager::new_lazy_with_config(client.clone(), self.config.clone()) {
            Ok(manager) => {
                tracing::warn!(
                    "a Redis command timed out; the next command opens a new connection"
                );
                *current = (generation + 1, manager);
            }
            Err(err) => tracing::error!(error = %err, "could not replace the Redis connection"),
        }
    }
}

impl fmt::Debug for RedisTokenStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("RedisTokenStore");
        self.debug_connection(&mut debug);
        debug.field("prefix", &self.prefix).finish_non_exhaustive()
    }
}

impl RedisTokenStore {
    /// The connection's part of a `Debug` output: the address only (the URL may carry a
    /// password) and the deadline. Shared with `RedisRateLimiter`, which runs its commands
    /// through a `RedisTokenStore`'s connection.
    pub(crate) fn debug_connection(&self, debug: &mut fmt::DebugStruct<'_, '_>) {
        if let Some(client) = &self.connection.client {
            debug.field("addr", &client.get_connection_info().addr().to_string());
        }
        debug.field("timeout", &self.timeout);
    }
}

impl RedisTokenStore {
    /// The connection settings [`connect`](Self::connect) uses: connection and response
    /// timeouts of 2 s, one retry after 100–500 ms. Start from them to build a manager of your
    /// own for [`from_manager`](Self::from_manager).
    ///
    /// ```
    /// let config = axum_users_runtime::RedisTokenStore::manager_config();
    /// assert_eq!(config.number_of_retries(), 1);
    /// assert_eq!(config.response_timeout(), Some(std::time::Duration::from_secs(2)));
    /// ```
    pub fn manager_config() -> ConnectionManagerConfig {
        ConnectionManagerConfig::new()
            .set_connection_timeout(Some(DEFAULT_REDIS_TIMEOUT))
            .set_response_timeout(Some(DEFAULT_REDIS_TIMEOUT))
            .set_number_of_retries(1)
            .set_min_delay(Duration::from_millis(100))
            .set_max_delay(Duration::from_millis(500))
    }

    /// Connects to the Redis at `url` (`redis://[:password@]host[:port][/db]`, `rediss://` when
    /// the redis crate's TLS features are enabled) and checks that it answers `PING`. Fails —
    /// within a few seconds — when the URL is invalid or the server does not answer, so that a
    /// service does not start without its token store.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), axum_users_runtime::StoreError> {
    /// let tokens = axum_users_runtime::RedisTokenStore::connect("redis://127.0.0.1:6379").await?;
    /// # let _ = tokens;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let client = open(url)?;
        let addr = client.get_connection_info().addr().to_string();
        let config = Self::manager_config();
        let manager = ConnectionManager::new_with_config(client.clone(), config.clone())
            .await
            .map_err(|err| {
                StoreError::new(format!("could not connect to Redis at {addr}: {err}"))
            })?;
        let store = Self::with_connection(Some(client), config, manager);
        store
            .run::<String>("PING", &redis::cmd("PING"))
            .await
            .map_err(|err| {
                StoreError::new(format!("Redis at {addr} does not answer PING: {err}"))
            })?;
        Ok(store)
    }

    /// Like [`connect`](Self::connect), but without any I/O: the first command connects. For a
    /// service that must start while Redis is down (requests needing it answer 503 until it is
    /// back). Fails only on an invalid URL.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let tokens = axum_users_runtime::RedisTokenStore::connect_lazy("redis://127.0.0.1:1").unwrap();
    /// assert_eq!(tokens.prefix(), "fastapi_users_token:");
    /// assert!(axum_users_runtime::RedisTokenStore::connect_lazy("http://nope").is_err());
    /// # });
    /// ```
    pub fn connect_lazy(url: &str) -> Result<Self, StoreError> {
        let client = open(url)?;
        let config = Self::manager_config();
        let manager = ConnectionManager::new_lazy_with_config(client.clone(), config.clone())
            .map_err(|err| StoreError::new(format!("invalid Redis configuration: {err}")))?;
        Ok(Self::with_connection(Some(client), config, manager))
    }

    /// A store over a connection manager of the application's own (e.g. shared with its
    /// caches). Its reconnection and timeout settings apply as configured (see
    /// [`manager_config`](Self::manager_config)); the per-command deadline of
    /// [`with_timeout`](Self::with_timeout) applies too, but a timed-out connection is not
    /// replaced.
    ///
    /// ```no_run
    /// use axum_users_runtime::RedisTokenStore;
    ///
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let client = redis::Client::open("redis://127.0.0.1:6379")?;
    /// let manager = redis::aio::ConnectionManager::new_with_config(
    ///     client,
    ///     RedisTokenStore::manager_config(),
    /// )
    /// .await?;
    /// let tokens = RedisTokenStore::from_manager(manager).with_prefix("myapp_token:");
    /// # let _ = tokens;
    /// # Ok(())
    /// # }
    /// ```
    pub fn from_manager(manager: ConnectionManager) -> Self {
        Self::with_connection(None, ConnectionManagerConfig::new(), manager)
    }

    fn with_connection(
        client: Option<Client>,
        config: ConnectionManagerConfig,
        manager: ConnectionManager,
    ) -> Self {
        RedisTokenStore {
            connection: Arc::new(Connection {
                client,
                config,
                current: RwLock::new((0, manager)),
            }),
            prefix: Arc::from(DEFAULT_REDIS_KEY_PREFIX),
            timeout: DEFAULT_REDIS_TIMEOUT,
        }
    }

    /// Uses `prefix` instead of `fastapi_users_token:` (fastapi-users' `key_prefix`). Give the
    /// same prefix to every service that shares the tokens.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let tokens = axum_users_runtime::RedisTokenStore::connect_lazy("redis://127.0.0.1:6379")
    ///     .unwrap()
    ///     .with_prefix("myapp_token:");
    /// assert_eq!(tokens.prefix(), "myapp_token:");
    /// assert_eq!(tokens.key("abc"), "myapp_token:abc");
    /// # });
    /// ```
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = Arc::from(prefix.into());
        self
    }

    /// The deadline of one Redis command, waiting for a connection included (default 2 s).
    /// A command that misses it fails with a [`StoreError`] (503).
    ///
    /// ```
    /// use std::time::Duration;
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let tokens = axum_users_runtime::RedisTokenStore::connect_lazy("redis://127.0.0.1:6379")
    ///     .unwrap()
    ///     .with_timeout(Duration::from_millis(500));
    /// # let _ = tokens;
    /// # });
    /// ```
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The key prefix. Example: see [`with_prefix`](Self::with_prefix).
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The Redis key of `token`: the prefix followed by the token. Example: see
    /// [`with_prefix`](Self::with_prefix).
    pub fn key(&self, token: &str) -> String {
        format!("{}{token}", self.prefix)
    }

    /// Runs `cmd` within the deadline, replacing a connection that timed out; `name` names it
    /// in errors.
    pub(crate) async fn run<T: FromRedisValue>(
        &self,
        name: &str,
        cmd: &redis::Cmd,
    ) -> Result<T, StoreError> {
        self.query(name, cmd)
            .await
            .map_err(Failure::into_store_error)
    }

    /// [`run`](Self::run), keeping Redis' own error for the caller to inspect.
    async fn query<T: FromRedisValue>(&self, name: &str, cmd: &redis::Cmd) -> Result<T, Failure> {
        let (generation, mut manager) = self.connection.get();
        match tokio::time::timeout(self.timeout, cmd.query_async::<T>(&mut manager)).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(err)) => {
                if err.is_timeout() {
                    self.connection.replace(generation);
                }
                Err(Failure::Redis(name.to_owned(), err))
            }
            Err(_) => {
                self.connection.replace(generation);
                Err(Failure::Deadline(name.to_owned(), self.timeout))
            }
        }
    }
}

/// Why a command failed.
enum Failure {
    /// Redis (or the connection) answered an error.
    Redis(String, redis::RedisError),
    /// No answer within the deadline.
    Deadline(String, Duration),
}

impl Failure {
    fn into_store_error(self) -> StoreError {
        match self {
            Failure::Redis(name, err) => StoreError::new(format!("Redis {name} failed: {err}")),
            Failure::Deadline(name, timeout) => {
                StoreError::new(format!("Redis {name} did not answer within {timeout:?}"))
            }
        }
    }
}

fn open(url: &str) -> Result<Client, StoreError> {
    Client::open(url).map_err(|err| StoreError::new(format!("invalid Redis URL: {err}")))
}

/// The user a stored value names: a UUID in text (fastapi-users writes `str(user.id)`).
fn parse_user(value: &[u8]) -> Option<Uuid> {
    std::str::from_utf8(value)
        .ok()
        .and_then(|text| Uuid::parse_str(text).ok())
}

/// `text` with the glob characters of `SCAN MATCH` escaped.
fn glob_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

#[async_trait]
impl TokenStore for RedisTokenStore {
    /// `SET <prefix><token> <user id> EX <lifetime>`. A lifetime of 0 is refused (Redis has no
    /// "expire now"; a token that never expires is not what was asked for).
    async fn write(&self, token: &str, user: Uuid, lifetime: u64) -> Result<(), StoreError> {
        if lifetime == 0 {
            return Err(StoreError::new(
                "a Redis token needs a lifetime of at least one second",
            ));
        }
        let mut cmd = redis::cmd("SET");
        cmd.arg(self.key(token))
            .arg(user.hyphenated().to_string())
            .arg("EX")
            .arg(lifetime);
        self.run::<()>("SET", &cmd).await
    }

    /// `GET <prefix><token>`; Redis' TTL is the lifetime, so `lifetime` is not consulted. A value
    /// that is not a UUID, or a key that is not a string, is an unknown token.
    async fn read(&self, token: &str, _lifetime: u64) -> Result<Option<Uuid>, StoreError> {
        let mut cmd = redis::cmd("GET");
        cmd.arg(self.key(token));
        match self.query::<Option<Vec<u8>>>("GET", &cmd).await {
            Ok(value) => Ok(value.as_deref().and_then(parse_user)),
            Err(Failure::Redis(_, err)) if err.code() == Some("WRONGTYPE") => Ok(None),
            Err(failure) => Err(failure.into_store_error()),
        }
    }

    /// `DEL <prefix><token>`.
    async fn destroy(&self, token: &str) -> Result<(), StoreError> {
        let mut cmd = redis::cmd("DEL");
        cmd.arg(self.key(token));
        self.run::<u64>("DEL", &cmd).await.map(drop)
    }

    /// Deletes every token of `user`. fastapi-users' layout has no per-user index, so this walks
    /// the whole prefix: `SCAN <cursor> MATCH <prefix>* COUNT 1000`, `MGET` of each batch, and
    /// `DEL` of the keys whose value is `user`'s id. It therefore also finds the tokens a
    /// fastapi-users process sharing the Redis wrote, but costs O(all tokens under the prefix)
    /// round trips and work on the server — one per thousand keys — on every password change,
    /// reset and user deletion. Redis stays responsive meanwhile (SCAN does not block it). Each
    /// command has its own deadline.
    async fn destroy_all(&self, user: Uuid) -> Result<u64, StoreError> {
        let pattern = format!("{}*", glob_escape(&self.prefix));
        let mut cursor: u64 = 0;
        let mut removed = 0;
        loop {
            let mut scan = redis::cmd("SCAN");
            scan.arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(SCAN_COUNT);
            let (next, keys): (u64, Vec<Vec<u8>>) = self.run("SCAN", &scan).await?;
            if !keys.is_empty() {
                let mut mget = redis::cmd("MGET");
                mget.arg(&keys);
                let values: Vec<Option<Vec<u8>>> = self.run("MGET", &mget).await?;
                let mine: Vec<&Vec<u8>> = keys
                    .iter()
                    .zip(&values)
                    .filter(|(_, value)| value.as_deref().and_then(parse_user) == Some(user))
                    .map(|(key, _)| key)
                    .collect();
                if !mine.is_empty() {
                    let mut del = redis::cmd("DEL");
                    del.arg(mine);
                    removed += self.run::<u64>("DEL", &del).await?;
                }
            }
            cursor = next;
            if cursor == 0 {
                return Ok(removed);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_escape_leaves_plain_prefixes_alone() {
        assert_eq!(glob_escape("fastapi_users_token:"), "fastapi_users_token:");
        assert_eq!(glob_escape("a*b?[c]\\"), "a\\*b\\?\\[c\\]\\\\");
    }

    #[test]
    fn parse_user_accepts_uuids_only() {
        let id = Uuid::new_v4();
        assert_eq!(parse_user(id.hyphenated().to_string().as_bytes()), Some(id));
        assert_eq!(parse_user(b"not a uuid"), None);
        assert_eq!(parse_user(&[0xff, 0xfe]), None);
        assert_eq!(parse_user(b""), None);
    }
}
