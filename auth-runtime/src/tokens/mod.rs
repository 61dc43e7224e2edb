//! Stateful token strategies: opaque tokens kept in a [`TokenStore`] (the `database` and `redis`
//! strategies of fastapi-users), so that logout and password changes revoke them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::RngCore as _;
use uuid::Uuid;

use crate::error::StoreError;

#[cfg(feature = "redis")]
mod redis;
mod session;

#[cfg(feature = "redis")]
pub use self::redis::{RedisTokenStore, DEFAULT_REDIS_KEY_PREFIX, DEFAULT_REDIS_TIMEOUT};

/// The longest opaque token looked up in a store; longer credentials are refused without a
/// round trip (fastapi-users' tokens are 43 characters).
///
/// ```
/// use axum_users_runtime::{is_plausible_token, MAX_OPAQUE_TOKEN_LEN};
///
/// assert!(!is_plausible_token(&"a".repeat(MAX_OPAQUE_TOKEN_LEN + 1)));
/// ```
pub const MAX_OPAQUE_TOKEN_LEN: usize = 128;

/// A new opaque token: 32 random bytes, URL-safe base64 without padding (43 characters), as
/// Python's `secrets.token_urlsafe()` makes them.
///
/// ```
/// let token = axum_users_runtime::generate_token();
/// assert_eq!(token.len(), 43);
/// assert!(axum_users_runtime::is_plausible_token(&token));
/// ```
pub fn generate_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Whether `token` could be an opaque token (1 to [`MAX_OPAQUE_TOKEN_LEN`] URL-safe base64
/// characters). Anything else is refused before the store is asked.
///
/// ```
/// assert!(axum_users_runtime::is_plausible_token("abc-_XYZ09"));
/// assert!(!axum_users_runtime::is_plausible_token("a.b.c"));
/// assert!(!axum_users_runtime::is_plausible_token(""));
/// ```
pub fn is_plausible_token(token: &str) -> bool {
    !token.is_empty()
        && token.len() <= MAX_OPAQUE_TOKEN_LEN
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Where the opaque tokens of a stateful strategy live: the `accesstoken` table of a SQL store
/// (`database` strategy) or Redis (`redis` strategy).
///
/// Every method reports a failure of the store as a [`StoreError`], which the routes and guards
/// answer with 503 — never with 401.
///
/// ```
/// use axum_users_runtime::{MemoryTokenStore, TokenStore};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let store = MemoryTokenStore::new();
/// let user = uuid::Uuid::new_v4();
/// store.write("tok", user, 3600).await.unwrap();
/// assert_eq!(store.read("tok", 3600).await.unwrap(), Some(user));
/// assert_eq!(store.destroy_all(user).await.unwrap(), 1);
/// assert_eq!(store.read("tok", 3600).await.unwrap(), None);
/// # });
/// ```
#[async_trait]
pub trait TokenStore: Send + Sync + 'static {
    /// Stores `token` for `user`, valid for `lifetime` seconds from now.
    async fn write(&self, token: &str, user: Uuid, lifetime: u64) -> Result<(), StoreError>;
    /// The user of `token`, if it exists and was written less than `lifetime` seconds ago.
    async fn read(&self, token: &str, lifetime: u64) -> Result<Option<Uuid>, StoreError>;
    /// Removes `token` (nothing happens when it does not exist).
    async fn destroy(&self, token: &str) -> Result<(), StoreError>;
    /// Removes every token of `user` ("log out everywhere"); returns how many were removed.
    async fn destroy_all(&self, user: Uuid) -> Result<u64, StoreError>;
}

#[async_trait]
impl<T: TokenStore + ?Sized> TokenStore for Arc<T> {
    async fn write(&self, token: &str, user: Uuid, lifetime: u64) -> Result<(), StoreError> {
        (**self).write(token, user, lifetime).await
    }
    async fn read(&self, token: &str, lifetime: u64) -> Result<Option<Uuid>, StoreError> {
        (**self).read(token, lifetime).await
    }
    async fn destroy(&self, token: &str) -> Result<(), StoreError> {
        (**self).destroy(token).await
    }
    async fn destroy_all(&self, user: Uuid) -> Result<u64, StoreError> {
        (**self).destroy_all(user).await
    }
}

/// An in-process [`TokenStore`] for tests and single-process prototypes. Clones share tokens.
///
/// ```
/// let store = axum_users_runtime::MemoryTokenStore::new();
/// assert_eq!(store.len(), 0);
/// ```
#[derive(Clone, Default)]
pub struct MemoryTokenStore {
    tokens: Arc<Mutex<HashMap<String, (Uuid, Instant)>>>,
}

impl MemoryTokenStore {
    /// An empty store. Example: see [`MemoryTokenStore`].
    pub fn new() -> Self {
        Self::default()
    }

    /// How many tokens are stored (expired ones included until they are read), with
    /// [`is_empty`](Self::is_empty):
    ///
    /// ```
    /// use axum_users_runtime::{MemoryTokenStore, TokenStore};
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let store = MemoryTokenStore::new();
    /// assert!(store.is_empty());
    /// store.write("opaque-token", uuid::Uuid::new_v4(), 3600).await.unwrap();
    /// assert_eq!(store.len(), 1);
    /// store.destroy("opaque-token").await.unwrap();
    /// assert!(store.is_empty());
    /// # });
    /// ```
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no token is stored. Example: see [`len`](Self::len).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Uuid, Instant)>> {
        self.tokens.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait]
impl TokenStore for MemoryTokenStore {
    async fn write(&self, token: &str, user: Uuid, _lifetime: u64) -> Result<(), StoreError> {
        self.lock().insert(token.to_owned(), (user, Instant::now()));
        Ok(())
    }

    async fn read(&self, token: &str, lifetime: u64) -> Result<Option<Uuid>, StoreError> {
        let mut tokens = self.lock();
        match tokens.get(token) {
            Some((user, created)) if created.elapsed() < Duration::from_secs(lifetime) => {
                Ok(Some(*user))
            }
            Some(_) => {
                tokens.remove(token);
                Ok(None)
            }
            None => Ok(None),
        }
    }

    async fn destroy(&self, token: &str) -> Result<(), StoreError> {
        self.lock().remove(token);
        Ok(())
    }

    async fn destroy_all(&self, user: Uuid) -> Result<u64, StoreError> {
        let mut tokens = self.lock();
        let before = tokens.len();
        tokens.retain(|_, (owner, _)| *owner != user);
        Ok((before - tokens.len()) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{AuthConfig, BackendKind, BackendSpec, CookieSpec, Strategy};
    use crate::error::ConfigError;
    use crate::state::AuthState;
    use crate::store::MemoryStore;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    struct Stateful;
    impl AuthConfig for Stateful {
        const BACKENDS: &'static [BackendSpec] = &[
            BackendSpec {
                name: "bearer",
                kind: BackendKind::Jwt,
                strategy: Strategy::Database,
                lifetime: 60,
                cookie: CookieSpec::DEFAULT,
            },
            BackendSpec {
                name: "session",
                kind: BackendKind::Cookie,
                strategy: Strategy::Jwt,
                lifetime: 60,
                cookie: CookieSpec::DEFAULT,
            },
        ];
    }

    fn builder() -> crate::state::AuthStateBuilder {
        AuthState::builder::<Stateful>()
            .secret(SECRET)
            .store(MemoryStore::new())
    }

    #[test]
    fn a_stateful_backend_needs_its_store() {
        let err = builder().build().unwrap_err();
        assert!(matches!(
            err,
            ConfigError::MissingTokenStore {
                backend: "bearer",
                strategy: "database",
                method: "database_tokens"
            }
        ));
        assert!(err.to_string().contains("call `.database_tokens(..)`"));

        let err = builder()
            .database_tokens(MemoryTokenStore::new())
            .strategy("session", Strategy::Redis)
            .build()
            .unwrap_err();
        assert!(err.to_string().contains("`.redis_tokens(..)`"), "{err}");
    }

    #[test]
    fn strategy_override_must_name_a_backend() {
        let err = builder()
            .database_tokens(MemoryTokenStore::new())
            .strategy("nope", Strategy::Jwt)
            .build()
            .unwrap_err();
        assert!(matches!(err, ConfigError::UnknownBackend { ref backend } if backend == "nope"));
    }

    #[tokio::test]
    async fn override_switches_the_strategy() {
        let redis = MemoryTokenStore::new();
        let state = builder()
            .database_tokens(MemoryTokenStore::new())
            .redis_tokens(redis.clone())
            .strategy("session", Strategy::Redis)
            .build()
            .unwrap();
        let session = *state.backend("session").unwrap();
        assert_eq!(session.strategy, Strategy::Redis);
        let user = Uuid::new_v4();
        let token = state.issue_token(&session, user).await.unwrap();
        assert_eq!(token.len(), 43);
        assert_eq!(redis.len(), 1);
        assert_eq!(
            state.read_token(&session, &token).await.unwrap(),
            Some(user)
        );
        // A JWT is not an opaque token: refused without asking the store.
        assert_eq!(state.read_token(&session, "a.b.c").await.unwrap(), None);
        state.destroy_token(&session, &token).await.unwrap();
        assert!(redis.is_empty());
    }

    #[tokio::test]
    async fn memory_tokens_expire_after_their_lifetime() {
        let store = MemoryTokenStore::new();
        let user = Uuid::new_v4();
        store.write("t", user, 0).await.unwrap();
        assert_eq!(store.read("t", 0).await.unwrap(), None);
        assert!(store.is_empty(), "an expired token is dropped when read");
    }

    #[test]
    fn generated_tokens_differ() {
        let a = generate_token();
        assert_ne!(a, generate_token());
        assert!(is_plausible_token(&a));
        assert!(!is_plausible_token(&"a".repeat(MAX_OPAQUE_TOKEN_LEN + 1)));
    }
}
