//! [`AuthState`]: everything the generated routes and the guards need at run time.

use std::sync::Arc;

use crate::config::{AuthConfig, BackendKind, BackendSpec, SameSite, Strategy};
use crate::error::{ApiError, ConfigError};
use crate::fields::{Field, FieldSchema, UserFields};
use crate::jwt::JwtKeys;
use crate::mailer::Mailer;
use crate::manager::{DefaultUserManager, UserManager};
use crate::password::PasswordHasher;
use crate::store::{CreateError, UserStore};
use crate::tokens::TokenStore;
use crate::user::User;
use crate::validation::normalize_email;

/// The run-time side of an [`AuthConfig`]: keys, store, password hasher and hooks.
///
/// Cheap to clone. Put it in the router's state (directly, or inside the application's own
/// state with `FromRef`): the generated routes and the guards require `AuthState: FromRef<S>`,
/// so forgetting it is a compile error.
///
/// ```
/// use axum_users_runtime::{
///     AuthConfig, AuthState, BackendKind, BackendSpec, CookieSpec, MemoryStore, Strategy,
/// };
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
/// let weak = AuthState::builder::<Auth>().secret("short").store(MemoryStore::new()).build();
/// assert!(weak.unwrap_err().to_string().contains("at least 32 bytes"));
///
/// let state = AuthState::builder::<Auth>()
///     .secret("an example secret of at least 32 bytes!")
///     .store(MemoryStore::new())
///     .build()
///     .unwrap();
/// assert_eq!(state.backends()[0].name, "jwt");
/// ```
#[derive(Clone)]
pub struct AuthState {
    inner: Arc<Inner>,
}

struct Inner {
    backends: Vec<BackendSpec>,
    keys: JwtKeys,
    reset_keys: JwtKeys,
    verify_keys: JwtKeys,
    requires_verification: bool,
    reset_lifetime: u64,
    verify_lifetime: u64,
    mailer: Option<Arc<dyn Mailer>>,
    verify_on_register: bool,
    fields: FieldSchema,
    store: Arc<dyn UserStore>,
    database_tokens: Option<Arc<dyn TokenStore>>,
    redis_tokens: Option<Arc<dyn TokenStore>>,
    hasher: PasswordHasher,
    manager: Arc<dyn UserManager>,
    leeway: u64,
}

impl std::fmt::Debug for AuthState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthState")
            .field("backends", &self.inner.backends)
            .field("keys", &self.inner.keys)
            .field("hasher", &self.inner.hasher)
            .field("leeway", &self.inner.leeway)
            .finish_non_exhaustive()
    }
}

/// Builds an [`AuthState`]; see [`AuthState::builder`].
#[must_use]
pub struct AuthStateBuilder {
    backends: &'static [BackendSpec],
    requires_verification: bool,
    reset_lifetime: u64,
    verify_lifetime: u64,
    reset_secret: Option<Vec<u8>>,
    verification_secret: Option<Vec<u8>>,
    mailer: Option<Arc<dyn Mailer>>,
    verify_on_register: bool,
    fields: FieldSchema,
    cookie_secure: Option<bool>,
    secret: Option<Vec<u8>>,
    keys: Option<JwtKeys>,
    store: Option<Arc<dyn UserStore>>,
    database_tokens: Option<Arc<dyn TokenStore>>,
    redis_tokens: Option<Arc<dyn TokenStore>>,
    strategies: Vec<(String, Strategy)>,
    hasher: Option<PasswordHasher>,
    manager: Arc<dyn UserManager>,
    leeway: u64,
}

impl AuthStateBuilder {
    /// HS256 secret (at least 32 bytes; [`build`](Self::build) refuses a shorter one).
    pub fn secret(mut self, secret: impl AsRef<[u8]>) -> Self {
        self.secret = Some(secret.as_ref().to_vec());
        self
    }

    /// Secret of password-reset tokens (HS256, at least 32 bytes; default: the HS256 secret).
    pub fn reset_secret(mut self, secret: impl AsRef<[u8]>) -> Self {
        self.reset_secret = Some(secret.as_ref().to_vec());
        self
    }

    /// Secret of e-mail verification tokens (HS256, at least 32 bytes; default: the HS256
    /// secret).
    pub fn verification_secret(mut self, secret: impl AsRef<[u8]>) -> Self {
        self.verification_secret = Some(secret.as_ref().to_vec());
        self
    }

    /// Sends the reset message on `POST /auth/forgot-password` and the verification message on
    /// `POST /auth/request-verify-token` (after the `on_after_*` hook).
    pub fn mailer(mut self, mailer: impl Mailer) -> Self {
        self.mailer = Some(Arc::new(mailer));
        self
    }

    /// Like [`mailer`](Self::mailer), for a mailer chosen at run time.
    pub fn shared_mailer(mut self, mailer: Arc<dyn Mailer>) -> Self {
        self.mailer = Some(mailer);
        self
    }

    /// Also starts verification (token, `on_after_request_verify`, message) right after each
    /// registration (default: off, as in fastapi-users).
    pub fn verify_on_register(mut self, on: bool) -> Self {
        self.verify_on_register = on;
        self
    }

    /// The application's custom user fields: registration and `PATCH` accept them, the user
    /// JSON returns them. Give the same list to the SQL store (`SqliteStore::with_fields`).
    pub fn user_fields<F: UserFields>(mut self) -> Self {
        self.fields = FieldSchema::of::<F>();
        self
    }

    /// Other keys, e.g. RS256/ES256 from PEM files ([`JwtKeys::from_pem`]).
    pub fn jwt_keys(mut self, keys: JwtKeys) -> Self {
        self.keys = Some(keys);
        self
    }

    /// The user store.
    pub fn store(mut self, store: impl UserStore) -> Self {
        self.store = Some(Arc::new(store));
        self
    }

    /// Where the `database` strategy keeps its tokens: the `accesstoken` table of a SQL store
    /// (`SqliteStore`, `PgStore`; usually a clone of the user store).
    pub fn database_tokens(mut self, tokens: impl TokenStore) -> Self {
        self.database_tokens = Some(Arc::new(tokens));
        self
    }

    /// Where the `redis` strategy keeps its tokens (`RedisTokenStore`).
    pub fn redis_tokens(mut self, tokens: impl TokenStore) -> Self {
        self.redis_tokens = Some(Arc::new(tokens));
        self
    }

    /// Overrides the strategy the derive declared for backend `name`, e.g. to switch a cookie
    /// backend to Redis when a Redis URL is configured. [`build`](Self::build) refuses a name
    /// that is not declared.
    pub fn strategy(mut self, name: &str, strategy: Strategy) -> Self {
        self.strategies.push((name.to_owned(), strategy));
        self
    }

    /// The password hasher (default: argon2id with fastapi-users' parameters).
    pub fn password_hasher(mut self, hasher: PasswordHasher) -> Self {
        self.hasher = Some(hasher);
        self
    }

    /// The application's hooks and password policy.
    pub fn manager(mut self, manager: impl UserManager) -> Self {
        self.manager = Arc::new(manager);
        self
    }

    /// Overrides the `secure` attribute of every cookie backend, e.g. `false` for plain-http
    /// development (read from `AUTH_COOKIE_SECURE` by the examples). Refused by
    /// [`build`](Self::build) for a `same_site = none` backend.
    pub fn cookie_secure(mut self, secure: bool) -> Self {
        self.cookie_secure = Some(secure);
        self
    }

    /// Clock tolerance, in seconds, when checking `exp` (default 0).
    pub fn leeway(mut self, seconds: u64) -> Self {
        self.leeway = seconds;
        self
    }

    /// Checks the configuration: a secret shorter than 32 bytes, a missing store or an
    /// unmatched key pair is an error, and the service must not start.
    pub fn build(self) -> Result<AuthState, ConfigError> {
        if self.backends.is_empty() {
            return Err(ConfigError::NoBackend);
        }
        if let Some(field) = self
            .fields
            .fields
            .iter()
            .find(|f| !Field::is_valid_name(f.name))
        {
            return Err(ConfigError::InvalidField { name: field.name });
        }
        let keys = match (self.keys, &self.secret) {
            (Some(keys), _) => keys,
            (None, Some(secret)) => JwtKeys::hs256(secret)?,
            (None, None) => return Err(ConfigError::MissingSecret),
        };
        // Reset and verification tokens are HS256, as in fastapi-users.
        let purpose_keys =
            |own: Option<Vec<u8>>, what: &'static str| match own.or(self.secret.clone()) {
                Some(secret) => JwtKeys::hs256(secret),
                None => Err(ConfigError::MissingPurposeSecret { what }),
            };
        let reset_keys = purpose_keys(self.reset_secret, "reset_secret")?;
        let verify_keys = purpose_keys(self.verification_secret, "verification_secret")?;
        let mut backends = self.backends.to_vec();
        for (name, strategy) in &self.strategies {
            let backend = backends
                .iter_mut()
                .find(|b| b.name == name)
                .ok_or_else(|| ConfigError::UnknownBackend {
                    backend: name.clone(),
                })?;
            backend.strategy = *strategy;
        }
        for backend in &backends {
            let (missing, method) = match backend.strategy {
                Strategy::Jwt => (false, ""),
                Strategy::Database => (self.database_tokens.is_none(), "database_tokens"),
                Strategy::Redis => (self.redis_tokens.is_none(), "redis_tokens"),
            };
            if missing {
                return Err(ConfigError::MissingTokenStore {
                    backend: backend.name,
                    strategy: backend.strategy.as_str(),
                    method,
                });
            }
        }
        if let Some(secure) = self.cookie_secure {
            for backend in backends
                .iter_mut()
                .filter(|b| b.kind == BackendKind::Cookie)
            {
                if !secure && backend.cookie.same_site == SameSite::None {
                    return Err(ConfigError::InsecureSameSiteNone {
                        backend: backend.name,
                    });
                }
                backend.cookie.secure = secure;
            }
        }
        Ok(AuthState {
            inner: Arc::new(Inner {
                backends,
                keys,
                reset_keys,
                verify_keys,
                requires_verification: self.requires_verification,
                reset_lifetime: self.reset_lifetime,
                verify_lifetime: self.verify_lifetime,
                mailer: self.mailer,
                verify_on_register: self.verify_on_register,
                fields: self.fields,
                store: self.store.ok_or(ConfigError::MissingStore)?,
                database_tokens: self.database_tokens,
                redis_tokens: self.redis_tokens,
                hasher: self.hasher.unwrap_or_default(),
                manager: self.manager,
                leeway: self.leeway,
            }),
        })
    }
}

/// A user to create with [`AuthState::create_user`].
#[derive(Debug, Clone)]
pub struct NewUser {
    /// E-mail address; validated, domain lower-cased.
    pub email: String,
    /// Clear-text password; checked by the password policy, then hashed.
    pub password: String,
    /// Default `true`.
    pub is_active: bool,
    /// Default `false`.
    pub is_superuser: bool,
    /// Default `false`.
    pub is_verified: bool,
    /// Custom fields ([`UserFields`](crate::UserFields)); checked against the declared ones.
    pub fields: serde_json::Map<String, serde_json::Value>,
}

impl NewUser {
    /// An active, unverified, non-superuser user.
    pub fn new(email: impl Into<String>, password: impl Into<String>) -> Self {
        NewUser {
            email: email.into(),
            password: password.into(),
            is_active: true,
            is_superuser: false,
            is_verified: false,
            fields: serde_json::Map::new(),
        }
    }
}

impl AuthState {
    /// Starts a builder for the backends of `C`.
    pub fn builder<C: AuthConfig>() -> AuthStateBuilder {
        AuthStateBuilder {
            backends: C::BACKENDS,
            requires_verification: C::REQUIRES_VERIFICATION,
            reset_lifetime: C::RESET_TOKEN_LIFETIME,
            verify_lifetime: C::VERIFY_TOKEN_LIFETIME,
            reset_secret: None,
            verification_secret: None,
            mailer: None,
            verify_on_register: false,
            fields: FieldSchema::NONE,
            cookie_secure: None,
            secret: None,
            keys: None,
            store: None,
            database_tokens: None,
            redis_tokens: None,
            strategies: Vec::new(),
            hasher: None,
            manager: Arc::new(DefaultUserManager),
            leeway: 0,
        }
    }

    /// The declared backends, in order.
    pub fn backends(&self) -> &[BackendSpec] {
        &self.inner.backends
    }

    /// The backend called `name`.
    pub fn backend(&self, name: &str) -> Option<&BackendSpec> {
        self.inner.backends.iter().find(|b| b.name == name)
    }

    /// The token keys.
    pub fn keys(&self) -> &JwtKeys {
        &self.inner.keys
    }

    /// Keys of password-reset tokens.
    pub fn reset_keys(&self) -> &JwtKeys {
        &self.inner.reset_keys
    }

    /// Keys of e-mail verification tokens.
    pub fn verify_keys(&self) -> &JwtKeys {
        &self.inner.verify_keys
    }

    /// Whether login and the `/users` routes require verified users.
    pub fn requires_verification(&self) -> bool {
        self.inner.requires_verification
    }

    /// Lifetime of reset tokens, in seconds.
    pub fn reset_lifetime(&self) -> u64 {
        self.inner.reset_lifetime
    }

    /// Lifetime of verification tokens, in seconds.
    pub fn verify_lifetime(&self) -> u64 {
        self.inner.verify_lifetime
    }

    /// The mailer, if one is configured.
    pub fn mailer(&self) -> Option<&dyn Mailer> {
        self.inner.mailer.as_deref()
    }

    /// Whether registration starts verification.
    pub fn verifies_on_register(&self) -> bool {
        self.inner.verify_on_register
    }

    /// The user store.
    pub fn store(&self) -> &dyn UserStore {
        &*self.inner.store
    }

    /// The token store of a stateful strategy (`None` for [`Strategy::Jwt`]).
    pub fn token_store(&self, strategy: Strategy) -> Option<&dyn TokenStore> {
        match strategy {
            Strategy::Jwt => None,
            Strategy::Database => self.inner.database_tokens.as_deref(),
            Strategy::Redis => self.inner.redis_tokens.as_deref(),
        }
    }

    /// The password hasher.
    pub fn hasher(&self) -> &PasswordHasher {
        &self.inner.hasher
    }

    /// The application's hooks.
    pub fn manager(&self) -> &dyn UserManager {
        &*self.inner.manager
    }

    /// Clock tolerance for `exp`, in seconds.
    pub fn leeway(&self) -> u64 {
        self.inner.leeway
    }

    /// Creates a user as registration does (e-mail syntax, password policy, uniqueness), with
    /// the flags of `new` — e.g. to bootstrap a superuser at start.
    ///
    /// Errors are the registration answers: 422 for a bad e-mail,
    /// `REGISTER_INVALID_PASSWORD`, `REGISTER_USER_ALREADY_EXISTS`, 503.
    pub async fn create_user(&self, new: NewUser) -> Result<User, ApiError> {
        let email = normalize_email(&new.email).map_err(|issue| {
            ApiError::Validation(vec![issue.at(&["body", "email"], &new.email)])
        })?;
        let mut issues = Vec::new();
        let mut new = new;
        new.fields = self.field_schema().read(&new.fields, true, &mut issues);
        if !issues.is_empty() {
            return Err(ApiError::Validation(issues));
        }
        self.create_validated(email, new).await
    }

    /// The declared custom fields.
    pub(crate) fn field_schema(&self) -> &FieldSchema {
        &self.inner.fields
    }

    pub(crate) async fn create_validated(
        &self,
        email: String,
        new: NewUser,
    ) -> Result<User, ApiError> {
        self.field_schema()
            .check_with_type(&serde_json::Map::new(), &new.fields)?;
        if let Err(invalid) = self
            .manager()
            .validate_password(&new.password, &email)
            .await
        {
            return Err(ApiError::CodeReason {
                code: "REGISTER_INVALID_PASSWORD",
                reason: invalid.reason,
            });
        }
        if self.store().get_by_email(&email).await?.is_some() {
            return Err(ApiError::bad_request("REGISTER_USER_ALREADY_EXISTS"));
        }
        let hashed = self.hasher().hash(&new.password).await?;
        let mut user = User::new(email, hashed);
        user.is_active = new.is_active;
        user.is_superuser = new.is_superuser;
        user.is_verified = new.is_verified;
        user.fields = new.fields;
        match self.store().create(user).await {
            Ok(user) => Ok(user),
            Err(CreateError::AlreadyExists) => {
                Err(ApiError::bad_request("REGISTER_USER_ALREADY_EXISTS"))
            }
            Err(CreateError::Store(err)) => Err(err.into()),
        }
    }

    /// Checks an e-mail and password: the user when they match (active or not), `None`
    /// otherwise. An unknown e-mail still costs one hash; a legacy or outdated hash is upgraded.
    pub async fn check_credentials(
        &self,
        email: &str,
        password: &str,
    ) -> Result<Option<User>, ApiError> {
        let Some(mut user) = self.store().get_by_email(email).await? else {
            self.hasher().burn(password).await?;
            return Ok(None);
        };
        let (ok, upgraded) = self
            .hasher()
            .verify_and_update(password, &user.hashed_password)
            .await?;
        if !ok {
            return Ok(None);
        }
        if let Some(hash) = upgraded {
            let previous = std::mem::replace(&mut user.hashed_password, hash);
            if let Err(err) = self.store().update(&user).await {
                tracing::warn!(error = %err, "could not store the upgraded password hash; keeping the old one");
                user.hashed_password = previous;
            }
        }
        Ok(Some(user))
    }
}
