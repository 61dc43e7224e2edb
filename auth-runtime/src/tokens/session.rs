//! The token operations of [`AuthState`], per backend strategy.

use uuid::Uuid;

use crate::config::{BackendSpec, Strategy};
use crate::error::ApiError;
use crate::state::AuthState;
use crate::tokens::{generate_token, is_plausible_token, TokenStore};

impl AuthState {
    fn stateful_store(&self, backend: &BackendSpec) -> Result<&dyn TokenStore, ApiError> {
        self.token_store(backend.strategy).ok_or_else(|| {
            // `build` refuses a stateful backend without its store; reaching this means the
            // router and the state come from different configurations.
            let problem = format!(
                "backend {:?} uses the `{}` strategy but the AuthState has no token store for it",
                backend.name,
                backend.strategy.as_str()
            );
            tracing::error!("{problem}");
            ApiError::Internal(problem)
        })
    }

    /// A new credential of `backend` for `user_id`: a signed JWT for the `jwt` strategy, an
    /// opaque token written to the token store for `database` and `redis`.
    ///
    /// Issuing, reading and destroying a credential (the example of
    /// [`read_token`](Self::read_token) and [`destroy_token`](Self::destroy_token) too):
    ///
    /// ```
    /// use axum_users_runtime::{AuthConfig, AuthState, BackendKind, BackendSpec, CookieSpec};
    /// use axum_users_runtime::{MemoryStore, MemoryTokenStore, Strategy};
    /// # struct Auth;
    /// # impl AuthConfig for Auth {
    /// #     const BACKENDS: &'static [BackendSpec] = &[BackendSpec {
    /// #         name: "db", kind: BackendKind::Jwt, strategy: Strategy::Database,
    /// #         lifetime: 3600, cookie: CookieSpec::DEFAULT,
    /// #     }];
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), axum_users_runtime::ApiError> {
    /// let state = AuthState::builder::<Auth>()
    ///     .secret("an example secret of at least 32 bytes!")
    ///     .store(MemoryStore::new())
    ///     .database_tokens(MemoryTokenStore::new())
    ///     .build()
    ///     .unwrap();
    /// let backend = *state.backend("db").unwrap();
    /// let id = uuid::Uuid::new_v4();
    /// let token = state.issue_token(&backend, id).await?;
    /// assert_eq!(state.read_token(&backend, &token).await?, Some(id));
    /// state.destroy_token(&backend, &token).await?; // logout
    /// assert_eq!(state.read_token(&backend, &token).await?, None);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn issue_token(
        &self,
        backend: &BackendSpec,
        user_id: Uuid,
    ) -> Result<String, ApiError> {
        match backend.strategy {
            Strategy::Jwt => self
                .keys()
                .access_token(user_id, backend.lifetime)
                .map_err(|err| {
                    tracing::error!(error = %err, "could not sign an access token");
                    ApiError::Unavailable
                }),
            Strategy::Database | Strategy::Redis => {
                let token = generate_token();
                self.stateful_store(backend)?
                    .write(&token, user_id, backend.lifetime)
                    .await?;
                Ok(token)
            }
        }
    }

    /// The user a credential of `backend` names: `Ok(None)` when it is invalid, expired,
    /// revoked or malformed (the next backend may try), `Err` (503) when the store fails.
    ///
    /// Example: see [`issue_token`](Self::issue_token).
    pub async fn read_token(
        &self,
        backend: &BackendSpec,
        token: &str,
    ) -> Result<Option<Uuid>, ApiError> {
        match backend.strategy {
            Strategy::Jwt => Ok(self.keys().read_access_token(token, self.leeway())),
            Strategy::Database | Strategy::Redis => {
                if !is_plausible_token(token) {
                    return Ok(None);
                }
                Ok(self
                    .stateful_store(backend)?
                    .read(token, backend.lifetime)
                    .await?)
            }
        }
    }

    /// Destroys a credential of `backend` (logout); nothing to do for the `jwt` strategy.
    ///
    /// Example: see [`issue_token`](Self::issue_token).
    pub async fn destroy_token(&self, backend: &BackendSpec, token: &str) -> Result<(), ApiError> {
        if backend.strategy.is_stateful() && is_plausible_token(token) {
            self.stateful_store(backend)?.destroy(token).await?;
        }
        Ok(())
    }

    /// Logs `user_id` out everywhere: deletes every token of every stateful strategy (the
    /// `accesstoken` rows, the Redis keys) and returns how many were deleted. JWTs are stateless:
    /// they stay valid until they expire. Password changes and resets call it.
    ///
    /// ```
    /// use axum_users_runtime::{AuthConfig, AuthState, BackendKind, BackendSpec, CookieSpec};
    /// use axum_users_runtime::{MemoryStore, MemoryTokenStore, Strategy};
    ///
    /// struct Auth;
    /// impl AuthConfig for Auth {
    ///     const BACKENDS: &'static [BackendSpec] = &[BackendSpec {
    ///         name: "db",
    ///         kind: BackendKind::Jwt,
    ///         strategy: Strategy::Database,
    ///         lifetime: 3600,
    ///         cookie: CookieSpec::DEFAULT,
    ///     }];
    /// }
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let state = AuthState::builder::<Auth>()
    ///     .secret("an example secret of at least 32 bytes!")
    ///     .store(MemoryStore::new())
    ///     .database_tokens(MemoryTokenStore::new())
    ///     .build()
    ///     .unwrap();
    /// let user = uuid::Uuid::new_v4();
    /// let backend = &state.backends()[0];
    /// let token = state.issue_token(backend, user).await.unwrap();
    /// assert_eq!(state.read_token(backend, &token).await.unwrap(), Some(user));
    /// assert_eq!(state.logout_everywhere(user).await.unwrap(), 1);
    /// assert_eq!(state.read_token(backend, &token).await.unwrap(), None);
    /// # });
    /// ```
    pub async fn logout_everywhere(&self, user_id: Uuid) -> Result<u64, ApiError> {
        let mut removed = 0;
        for strategy in [Strategy::Database, Strategy::Redis] {
            if let Some(store) = self.token_store(strategy) {
                removed += store.destroy_all(user_id).await?;
            }
        }
        Ok(removed)
    }
}
