//! [`AuthState`]: everything the generated routes and the guards need at run time.

use std::sync::Arc;

use crate::client::Cidr;
use crate::config::RateLimits;
use crate::config::{AuthConfig, BackendKind, BackendSpec, SameSite, Strategy};
use crate::csrf::{CsrfPolicy, TrustedOrigin};
use crate::error::{ApiError, ConfigError};
use crate::fields::{Field, FieldSchema, UserFields};
use crate::jwt::JwtKeys;
use crate::limits::BodyLimit;
use crate::mailer::Mailer;
use crate::manager::{DefaultUserManager, UserManager};
use crate::password::PasswordHasher;
use crate::ratelimit::{MemoryRateLimiter, RateLimiter};
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
    rate_limits: RateLimits,
    rate_limiter: Arc<dyn RateLimiter>,
    trusted_proxies: Vec<Cidr>,
    hasher: PasswordHasher,
    manager: Arc<dyn UserManager>,
    leeway: u64,
    body_limit: BodyLimit,
    csrf: CsrfPolicy,
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
///
/// ```
/// # use axum_users_runtime::{AuthConfig, AuthState, BackendKind, BackendSpec, CookieSpec, MemoryStore, Strategy};
/// # struct Auth;
/// # impl AuthConfig for Auth {
/// #     const BACKENDS: &'static [BackendSpec] = &[BackendSpec {
/// #         name: "jwt", kind: BackendKind::Jwt, strategy: Strategy::Jwt,
/// #         lifetime: 3600, cookie: CookieSpec::DEFAULT,
/// #     }];
/// # }
/// use axum_users_runtime::{DefaultUserManager, MemoryTokenStore};
///
/// let state = AuthState::builder::<Auth>()
///     .secret("an example secret of at least 32 bytes!") // required (or `jwt_keys`)
///     .store(MemoryStore::new())                         // required
///     .manager(DefaultUserManager)
///     .strategy("jwt", Strategy::Database)               // needs a token store:
///     .database_tokens(MemoryTokenStore::new())
///     .build()
///     .unwrap();
/// assert_eq!(state.backend("jwt").unwrap().strategy, Strategy::Database);
/// ```
#[must_use]
pub struct AuthStateBuilder {
    backends: &'static [BackendSpec],
    requires_verification: bool,
    reset_lifetime: u64,
    verify_lifetime: u64,
    reset_secret: Option<Vec<u8>>,
    verification_secret: Option<Vec<u8>>,
    previous_secrets: Vec<Vec<u8>>,
    issuer: Option<String>,
    mailer: Option<Arc<dyn Mailer>>,
    verify_on_register: bool,
    fields: FieldSchema,
    cookie_secure: Option<bool>,
    secret: Option<Vec<u8>>,
    keys: Option<JwtKeys>,
    store: Option<Arc<dyn UserStore>>,
    database_tokens: Option<Arc<dyn TokenStore>>,
    redis_tokens: Option<Arc<dyn TokenStore>>,
    rate_limits: RateLimits,
    rate_limiter: Option<Arc<dyn RateLimiter>>,
    trusted_proxies: Vec<String>,
    strategies: Vec<(String, Strategy)>,
    hasher: Option<PasswordHasher>,
    manager: Arc<dyn UserManager>,
    leeway: u64,
    body_limit: BodyLimit,
    trusted_origins: Vec<String>,
}

impl AuthStateBuilder {
    /// HS256 secret (at least 32 bytes; [`build`](Self::build) refuses a shorter one).
    ///
    /// The secrets and keys (the example of [`reset_secret`](Self::reset_secret),
    /// [`verification_secret`](Self::verification_secret) and [`jwt_keys`](Self::jwt_keys)):
    ///
    /// ```
    /// # use axum_users_runtime::{AuthConfig, AuthState, BackendKind, BackendSpec, CookieSpec, MemoryStore, Strategy};
    /// # struct Auth;
    /// # impl AuthConfig for Auth {
    /// #     const BACKENDS: &'static [BackendSpec] = &[BackendSpec {
    /// #         name: "jwt", kind: BackendKind::Jwt, strategy: Strategy::Jwt,
    /// #         lifetime: 3600, cookie: CookieSpec::DEFAULT,
    /// #     }];
    /// # }
    /// use axum_users_runtime::JwtKeys;
    ///
    /// let state = AuthState::builder::<Auth>()
    ///     .secret("an example secret of at least 32 bytes!")
    ///     .reset_secret("a separate secret for reset tokens!!")
    ///     .verification_secret("another one, for verification tokens")
    ///     .store(MemoryStore::new())
    ///     .build()
    ///     .unwrap();
    /// assert_ne!(state.reset_keys().kid(), state.keys().kid());
    /// // Own keys (e.g. from PEM files): the purpose secrets are then required.
    /// let keys = JwtKeys::hs256("an example secret of at least 32 bytes!").unwrap().with_kid("k1").unwrap();
    /// let builder = AuthState::builder::<Auth>().jwt_keys(keys).store(MemoryStore::new());
    /// let builder = builder.reset_secret("a separate secret for reset tokens!!");
    /// let builder = builder.verification_secret("another one, for verification tokens");
    /// assert_eq!(builder.build().unwrap().keys().kid(), "k1");
    /// assert!(AuthState::builder::<Auth>().secret("short").store(MemoryStore::new()).build().is_err());
    /// ```
    pub fn secret(mut self, secret: impl AsRef<[u8]>) -> Self {
        self.secret = Some(secret.as_ref().to_vec());
        self
    }

    /// Secret of password-reset tokens (HS256, at least 32 bytes; default: the HS256 secret).
    /// Example: see [`secret`](Self::secret).
    pub fn reset_secret(mut self, secret: impl AsRef<[u8]>) -> Self {
        self.reset_secret = Some(secret.as_ref().to_vec());
        self
    }

    /// Secret of e-mail verification tokens (HS256, at least 32 bytes; default: the HS256
    /// secret). Example: see [`secret`](Self::secret).
    pub fn verification_secret(mut self, secret: impl AsRef<[u8]>) -> Self {
        self.verification_secret = Some(secret.as_ref().to_vec());
        self
    }

    /// A previous HS256 secret (at least 32 bytes), still accepted for verification so that a
    /// secret can be rotated without logging everyone out: new tokens are signed with
    /// [`secret`](Self::secret) (their header names its `kid`), tokens signed with a previous
    /// secret stay valid until they expire. Repeatable, most recent first. It applies to access
    /// tokens, and to reset and verification tokens whose secret is not set separately.
    ///
    /// ```
    /// # use axum_users_runtime::{AuthConfig, AuthState, BackendKind, BackendSpec, CookieSpec, MemoryStore, Strategy};
    /// # struct Auth;
    /// # impl AuthConfig for Auth {
    /// #     const BACKENDS: &'static [BackendSpec] = &[BackendSpec {
    /// #         name: "jwt", kind: BackendKind::Jwt, strategy: Strategy::Jwt,
    /// #         lifetime: 3600, cookie: CookieSpec::DEFAULT,
    /// #     }];
    /// # }
    /// let old = AuthState::builder::<Auth>()
    ///     .secret("the old secret, of at least 32 bytes")
    ///     .store(MemoryStore::new())
    ///     .build()
    ///     .unwrap();
    /// let id = uuid::Uuid::new_v4();
    /// let old_token = old.keys().access_token(id, 3600).unwrap();
    ///
    /// let rotated = AuthState::builder::<Auth>()
    ///     .secret("the new secret, of at least 32 bytes")
    ///     .previous_secret("the old secret, of at least 32 bytes")
    ///     .store(MemoryStore::new())
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(rotated.keys().read_access_token(&old_token, 0), Some(id));
    /// assert_eq!(rotated.reset_keys().kids().count(), 2);
    ///
    /// let weak = AuthState::builder::<Auth>()
    ///     .secret("the new secret, of at least 32 bytes")
    ///     .previous_secret("short")
    ///     .store(MemoryStore::new())
    ///     .build();
    /// assert!(weak.unwrap_err().to_string().contains("at least 32 bytes"));
    /// ```
    pub fn previous_secret(mut self, secret: impl AsRef<[u8]>) -> Self {
        self.previous_secrets.push(secret.as_ref().to_vec());
        self
    }

    /// The issuer (`iss`) of every token (access, reset, verification), e.g. the service's
    /// URL: new tokens carry it, tokens without it or with another one are refused. Without
    /// it (the default, as in fastapi-users) `iss` is not looked at.
    ///
    /// ```
    /// # use axum_users_runtime::{AuthConfig, AuthState, BackendKind, BackendSpec, CookieSpec, MemoryStore, Strategy};
    /// # struct Auth;
    /// # impl AuthConfig for Auth {
    /// #     const BACKENDS: &'static [BackendSpec] = &[BackendSpec {
    /// #         name: "jwt", kind: BackendKind::Jwt, strategy: Strategy::Jwt,
    /// #         lifetime: 3600, cookie: CookieSpec::DEFAULT,
    /// #     }];
    /// # }
    /// let state = AuthState::builder::<Auth>()
    ///     .secret("an example secret of at least 32 bytes!")
    ///     .issuer("https://auth.example.com")
    ///     .store(MemoryStore::new())
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(state.keys().issuer(), Some("https://auth.example.com"));
    /// assert_eq!(state.verify_keys().issuer(), Some("https://auth.example.com"));
    /// ```
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// Sends the reset message on `POST /auth/forgot-password` and the verification message on
    /// `POST /auth/request-verify-token` (after the `on_after_*` hook). Example: see [`store`](Self::store).
    pub fn mailer(mut self, mailer: impl Mailer) -> Self {
        self.mailer = Some(Arc::new(mailer));
        self
    }

    /// Like [`mailer`](Self::mailer), for a mailer chosen at run time.
    ///
    /// ```
    /// # use axum_users_runtime::{AuthConfig, AuthState, BackendKind, BackendSpec, CookieSpec, MemoryStore, Strategy};
    /// # struct Auth;
    /// # impl AuthConfig for Auth {
    /// #     const BACKENDS: &'static [BackendSpec] = &[BackendSpec {
    /// #         name: "jwt", kind: BackendKind::Jwt, strategy: Strategy::Jwt,
    /// #         lifetime: 3600, cookie: CookieSpec::DEFAULT,
    /// #     }];
    /// # }
    /// use std::sync::Arc;
    /// use axum_users_runtime::{LogMailer, Mailer};
    ///
    /// let mailer: Arc<dyn Mailer> = Arc::new(LogMailer); // e.g. picked by configuration
    /// let state = AuthState::builder::<Auth>()
    ///     .secret("an example secret of at least 32 bytes!")
    ///     .store(MemoryStore::new())
    ///     .shared_mailer(mailer)
    ///     .build()
    ///     .unwrap();
    /// assert!(state.mailer().is_some());
    /// ```
    pub fn shared_mailer(mut self, mailer: Arc<dyn Mailer>) -> Self {
        self.mailer = Some(mailer);
        self
    }

    /// Also starts verification (token, `on_after_request_verify`, message) right after each
    /// registration (default: off, as in fastapi-users). Example: see [`store`](Self::store).
    pub fn verify_on_register(mut self, on: bool) -> Self {
        self.verify_on_register = on;
        self
    }

    /// The application's custom user fields: registration and `PATCH` accept them, the user
    /// JSON returns them. Give the same list to the SQL store (`SqliteStore::with_fields`).
    /// Example: see [`store`](Self::store).
    pub fn user_fields<F: UserFields>(mut self) -> Self {
        self.fields = FieldSchema::of::<F>();
        self
    }

    /// Other keys, e.g. RS256/ES256 from PEM files ([`JwtKeys::from_pem`]), possibly with
    /// previous keys of their own ([`JwtKeys::with_previous`]); the
    /// [`previous_secret`](Self::previous_secret)s are added after them. Example: see [`secret`](Self::secret).
    pub fn jwt_keys(mut self, keys: JwtKeys) -> Self {
        self.keys = Some(keys);
        self
    }

    /// The user store.
    ///
    /// The stores and services, with the other optional settings (the others link here):
    ///
    /// ```
    /// # use axum_users_runtime::{AuthConfig, AuthState, BackendKind, BackendSpec, CookieSpec, MemoryStore, Strategy};
    /// # struct Auth;
    /// # impl AuthConfig for Auth {
    /// #     const BACKENDS: &'static [BackendSpec] = &[BackendSpec {
    /// #         name: "jwt", kind: BackendKind::Jwt, strategy: Strategy::Jwt,
    /// #         lifetime: 3600, cookie: CookieSpec::DEFAULT,
    /// #     }];
    /// # }
    /// use axum_users_runtime::{DefaultUserManager, Field, FieldKind, LogMailer, MemoryRateLimiter};
    /// use axum_users_runtime::{MemoryTokenStore, PasswordHasher, UserFields};
    ///
    /// #[derive(serde::Serialize, serde::Deserialize)]
    /// struct Profile { nickname: Option<String> }
    /// impl UserFields for Profile {
    ///     const FIELDS: &'static [Field] = &[Field::optional("nickname", FieldKind::Text)];
    /// }
    /// let state = AuthState::builder::<Auth>()
    ///     .secret("an example secret of at least 32 bytes!")
    ///     .store(MemoryStore::new())
    ///     .strategy("jwt", Strategy::Database) // switch the backend to stored tokens…
    ///     .database_tokens(MemoryTokenStore::new()) // …kept here
    ///     .password_hasher(PasswordHasher::default().max_concurrency(2))
    ///     .manager(DefaultUserManager)
    ///     .mailer(LogMailer)
    ///     .verify_on_register(true)
    ///     .user_fields::<Profile>()
    ///     .cookie_secure(false)
    ///     .leeway(5)
    ///     .rate_limiter(MemoryRateLimiter::with_max_keys(10_000))
    ///     .build()
    ///     .unwrap();
    /// assert!(state.token_store(Strategy::Database).is_some() && state.verifies_on_register());
    /// assert_eq!(state.backend("jwt").unwrap().strategy, Strategy::Database);
    /// ```
    pub fn store(mut self, store: impl UserStore) -> Self {
        self.store = Some(Arc::new(store));
        self
    }

    /// Where the `database` strategy keeps its tokens: the `accesstoken` table of a SQL store
    /// (`SqliteStore`, `PgStore`; usually a clone of the user store). Example: see [`store`](Self::store).
    pub fn database_tokens(mut self, tokens: impl TokenStore) -> Self {
        self.database_tokens = Some(Arc::new(tokens));
        self
    }

    /// Where the `redis` strategy keeps its tokens (`RedisTokenStore`); it is set like
    /// [`database_tokens`](Self::database_tokens) (example: [`store`](Self::store)).
    pub fn redis_tokens(mut self, tokens: impl TokenStore) -> Self {
        self.redis_tokens = Some(Arc::new(tokens));
        self
    }

    /// Overrides the strategy the derive declared for backend `name`, e.g. to switch a cookie
    /// backend to Redis when a Redis URL is configured. [`build`](Self::build) refuses a name
    /// that is not declared. Example: see [`store`](Self::store).
    pub fn strategy(mut self, name: &str, strategy: Strategy) -> Self {
        self.strategies.push((name.to_owned(), strategy));
        self
    }

    /// The password hasher (default: argon2id with fastapi-users' parameters). Example: see [`store`](Self::store).
    pub fn password_hasher(mut self, hasher: PasswordHasher) -> Self {
        self.hasher = Some(hasher);
        self
    }

    /// The application's hooks and password policy. Example: see [`store`](Self::store).
    pub fn manager(mut self, manager: impl UserManager) -> Self {
        self.manager = Arc::new(manager);
        self
    }

    /// Overrides the `secure` attribute of every cookie backend, e.g. `false` for plain-http
    /// development (read from `AUTH_COOKIE_SECURE` by the examples). Refused by
    /// [`build`](Self::build) for a `same_site = none` backend. Example: see [`store`](Self::store).
    pub fn cookie_secure(mut self, secure: bool) -> Self {
        self.cookie_secure = Some(secure);
        self
    }

    /// Clock tolerance, in seconds, when checking `exp` (default 0). Example: see [`store`](Self::store).
    pub fn leeway(mut self, seconds: u64) -> Self {
        self.leeway = seconds;
        self
    }

    /// The brute-force limits (default: the `AuthConfig`'s, i.e. [`RateLimits::DEFAULT`] unless
    /// the derive says otherwise); [`RateLimits::OFF`] turns them all off, e.g. for a benchmark.
    ///
    /// ```
    /// # use axum_users_runtime::{AuthConfig, AuthState, BackendKind, BackendSpec, CookieSpec, MemoryStore, Strategy};
    /// # struct Auth;
    /// # impl AuthConfig for Auth {
    /// #     const BACKENDS: &'static [BackendSpec] = &[BackendSpec {
    /// #         name: "jwt", kind: BackendKind::Jwt, strategy: Strategy::Jwt,
    /// #         lifetime: 3600, cookie: CookieSpec::DEFAULT,
    /// #     }];
    /// # }
    /// use axum_users_runtime::{Rate, RateLimits};
    ///
    /// let state = AuthState::builder::<Auth>()
    ///     .secret("an example secret of at least 32 bytes!")
    ///     .store(MemoryStore::new())
    ///     .rate_limits(RateLimits { login_per_account: Some(Rate::new(3, 600)), ..RateLimits::DEFAULT })
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(state.rate_limits().login_per_account, Some(Rate::new(3, 600)));
    /// ```
    pub fn rate_limits(mut self, limits: RateLimits) -> Self {
        self.rate_limits = limits;
        self
    }

    /// Where the rate-limit counters live (default: a [`MemoryRateLimiter`] of this state;
    /// [`RedisRateLimiter`](crate::RedisRateLimiter) to share them between instances). Clones
    /// of one limiter given to several states share the counters. Example: see [`store`](Self::store).
    pub fn rate_limiter(mut self, limiter: impl RateLimiter) -> Self {
        self.rate_limiter = Some(Arc::new(limiter));
        self
    }

    /// Like [`rate_limiter`](Self::rate_limiter), for a limiter chosen at run time; set like
    /// [`shared_mailer`](Self::shared_mailer) (example there).
    pub fn shared_rate_limiter(mut self, limiter: Arc<dyn RateLimiter>) -> Self {
        self.rate_limiter = Some(limiter);
        self
    }

    /// Reverse proxies (CIDR networks or single addresses, IPv4 or IPv6) whose
    /// `X-Forwarded-For` is believed: when the socket's peer is one of them, the per-client
    /// limits count the right-most forwarded address that is not itself a trusted proxy (see
    /// [`AuthState::client_ip`]). Default: none; the peer is the client. [`build`](Self::build)
    /// refuses what is not an address or a network.
    ///
    /// ```
    /// # use axum_users_runtime::{AuthConfig, AuthState, BackendKind, BackendSpec, CookieSpec, MemoryStore, Strategy};
    /// # struct Auth;
    /// # impl AuthConfig for Auth {
    /// #     const BACKENDS: &'static [BackendSpec] = &[BackendSpec {
    /// #         name: "jwt", kind: BackendKind::Jwt, strategy: Strategy::Jwt,
    /// #         lifetime: 3600, cookie: CookieSpec::DEFAULT,
    /// #     }];
    /// # }
    /// let builder = || {
    ///     AuthState::builder::<Auth>()
    ///         .secret("an example secret of at least 32 bytes!")
    ///         .store(MemoryStore::new())
    /// };
    /// let state = builder().trusted_proxies(["10.0.0.0/8", "::1"]).build().unwrap();
    /// assert_eq!(state.trusted_proxies()[1].to_string(), "::1/128");
    /// let bad = builder().trusted_proxies(["10.0.0.0/33"]).build();
    /// assert!(bad.unwrap_err().to_string().contains("10.0.0.0/33"));
    /// ```
    pub fn trusted_proxies<I>(mut self, proxies: I) -> Self
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        self.trusted_proxies
            .extend(proxies.into_iter().map(|p| p.as_ref().to_owned()));
        self
    }

    /// Largest body the generated routes read (default 64 KiB,
    /// [`DEFAULT_MAX_BODY_BYTES`](crate::DEFAULT_MAX_BODY_BYTES)); a longer one gets 413
    /// `{"detail": "PAYLOAD_TOO_LARGE"}`.
    ///
    /// ```
    /// # use axum_users_runtime::{AuthConfig, AuthState, BackendKind, BackendSpec, CookieSpec, MemoryStore, Strategy};
    /// # struct Auth;
    /// # impl AuthConfig for Auth {
    /// #     const BACKENDS: &'static [BackendSpec] = &[BackendSpec { name: "jwt", kind: BackendKind::Jwt,
    /// #         strategy: Strategy::Jwt, lifetime: 3600, cookie: CookieSpec::DEFAULT }];
    /// # }
    /// let state = AuthState::builder::<Auth>()
    ///     .secret("an example secret of at least 32 bytes!")
    ///     .store(MemoryStore::new())
    ///     .max_body_bytes(16 * 1024)
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(state.body_limit().max_bytes, 16 * 1024);
    /// ```
    pub fn max_body_bytes(mut self, bytes: usize) -> Self {
        self.body_limit.max_bytes = bytes;
        self
    }

    /// Time a client gets to deliver a body to a generated route (default 10 s,
    /// [`DEFAULT_BODY_TIMEOUT`](crate::DEFAULT_BODY_TIMEOUT)); a slower one gets 408
    /// `{"detail": "REQUEST_TIMEOUT"}`.
    ///
    /// ```
    /// # use axum_users_runtime::{AuthConfig, AuthState, BackendKind, BackendSpec, CookieSpec, MemoryStore, Strategy};
    /// # struct Auth;
    /// # impl AuthConfig for Auth {
    /// #     const BACKENDS: &'static [BackendSpec] = &[BackendSpec { name: "jwt", kind: BackendKind::Jwt,
    /// #         strategy: Strategy::Jwt, lifetime: 3600, cookie: CookieSpec::DEFAULT }];
    /// # }
    /// use std::time::Duration;
    ///
    /// let state = AuthState::builder::<Auth>()
    ///     .secret("an example secret of at least 32 bytes!")
    ///     .store(MemoryStore::new())
    ///     .body_timeout(Duration::from_secs(5))
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(state.body_limit().timeout, Duration::from_secs(5));
    /// ```
    pub fn body_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.body_limit.timeout = timeout;
        self
    }

    /// Adds origins (`scheme://host[:port]`, e.g. a front end on another host or port) from
    /// which cookie-authenticated unsafe requests and cookie logins are accepted, besides the
    /// request's own host (see [`AuthState::check_origin`]). Scheme and host are compared
    /// case-insensitively and a default port (`:443`, `:80`) may be left out;
    /// [`build`](Self::build) refuses anything else (a path, `null`, a wildcard).
    ///
    /// ```
    /// # use axum_users_runtime::{AuthConfig, AuthState, BackendKind, BackendSpec, CookieSpec, MemoryStore, Strategy};
    /// # struct Auth;
    /// # impl AuthConfig for Auth {
    /// #     const BACKENDS: &'static [BackendSpec] = &[BackendSpec {
    /// #         name: "cookie", kind: BackendKind::Cookie, strategy: Strategy::Jwt,
    /// #         lifetime: 3600, cookie: CookieSpec::DEFAULT,
    /// #     }];
    /// # }
    /// let state = AuthState::builder::<Auth>()
    ///     .secret("an example secret of at least 32 bytes!")
    ///     .store(MemoryStore::new())
    ///     .trusted_origins(["https://App.Example.com:443", "http://localhost:5173"])
    ///     .build()
    ///     .unwrap();
    /// let trusted: Vec<&str> = state.trusted_origins().collect();
    /// assert_eq!(trusted, ["https://app.example.com", "http://localhost:5173"]);
    ///
    /// let with_path = AuthState::builder::<Auth>()
    ///     .secret("an example secret of at least 32 bytes!")
    ///     .store(MemoryStore::new())
    ///     .trusted_origins(["https://app.example.com/login"])
    ///     .build();
    /// assert!(with_path.unwrap_err().to_string().contains("invalid trusted origin"));
    /// ```
    pub fn trusted_origins<I>(mut self, origins: I) -> Self
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        self.trusted_origins
            .extend(origins.into_iter().map(|o| o.as_ref().to_owned()));
        self
    }

    /// Checks the configuration: a secret shorter than 32 bytes, a missing store or an
    /// unmatched key pair is an error, and the service must not start. Examples: see
    /// [`AuthStateBuilder`] and [`secret`](Self::secret) (a refused short secret).
    pub fn build(self) -> Result<AuthState, ConfigError> {
        if self.backends.is_empty() {
            return Err(ConfigError::NoBackend);
        }
        let trusted_proxies = self
            .trusted_proxies
            .iter()
            .map(|proxy| {
                proxy
                    .parse::<Cidr>()
                    .map_err(|err| ConfigError::InvalidTrustedProxy {
                        proxy: proxy.clone(),
                        reason: err.to_string(),
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut trusted = Vec::with_capacity(self.trusted_origins.len());
        for origin in &self.trusted_origins {
            let origin = TrustedOrigin::parse(origin)?;
            if !trusted.contains(&origin) {
                trusted.push(origin);
            }
        }
        if let Some(field) = self
            .fields
            .fields
            .iter()
            .find(|f| !Field::is_valid_name(f.name))
        {
            return Err(ConfigError::InvalidField { name: field.name });
        }
        // Previous secrets (rotation) and the issuer apply to every key set made from the
        // main secret or keys.
        let previous = self
            .previous_secrets
            .iter()
            .map(JwtKeys::hs256)
            .collect::<Result<Vec<_>, _>>()?;
        let issuer = self.issuer;
        let finish = |keys: JwtKeys, rotated: bool| -> Result<JwtKeys, ConfigError> {
            let keys = if rotated {
                previous
                    .iter()
                    .try_fold(keys, |keys, old| keys.with_previous(old.clone()))?
            } else {
                keys
            };
            match &issuer {
                Some(issuer) => keys.with_issuer(issuer.as_str()),
                None => Ok(keys),
            }
        };
        let keys = match (self.keys, &self.secret) {
            (Some(keys), _) => finish(keys, true)?,
            (None, Some(secret)) => finish(JwtKeys::hs256(secret)?, true)?,
            (None, None) => return Err(ConfigError::MissingSecret),
        };
        // Reset and verification tokens are HS256, as in fastapi-users.
        let purpose_keys = |own: Option<Vec<u8>>, what: &'static str| match (own, &self.secret) {
            (Some(own), _) => finish(JwtKeys::hs256(own)?, false),
            (None, Some(secret)) => finish(JwtKeys::hs256(secret)?, true),
            (None, None) => Err(ConfigError::MissingPurposeSecret { what }),
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
                rate_limits: self.rate_limits,
                rate_limiter: self
                    .rate_limiter
                    .unwrap_or_else(|| Arc::new(MemoryRateLimiter::new())),
                trusted_proxies,
                hasher: self.hasher.unwrap_or_default(),
                manager: self.manager,
                leeway: self.leeway,
                body_limit: self.body_limit,
                csrf: CsrfPolicy::new(trusted),
            }),
        })
    }
}

/// A user to create with [`AuthState::create_user`].
///
/// Its `Debug` output leaves the password out.
///
/// ```
/// # use axum_users_runtime::{AuthConfig, AuthState, BackendKind, BackendSpec, CookieSpec, MemoryStore, Strategy};
/// # struct Auth;
/// # impl AuthConfig for Auth {
/// #     const BACKENDS: &'static [BackendSpec] = &[BackendSpec {
/// #         name: "jwt", kind: BackendKind::Jwt, strategy: Strategy::Jwt,
/// #         lifetime: 3600, cookie: CookieSpec::DEFAULT,
/// #     }];
/// # }
/// use axum_users_runtime::{NewUser, PasswordHasher};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let state = AuthState::builder::<Auth>()
///     .secret("an example secret of at least 32 bytes!")
///     .store(MemoryStore::new())
/// #   .password_hasher(PasswordHasher::with_params(1024, 1, 1).unwrap())
///     .build()
///     .unwrap();
/// let mut admin = NewUser::new("admin@example.com", "change-me-now");
/// admin.is_superuser = true;
/// let user = state.create_user(admin).await.unwrap();
/// assert!(user.is_superuser && user.is_active && !user.is_verified);
///
/// let found = state.check_credentials("ADMIN@example.com", "change-me-now").await.unwrap();
/// assert_eq!(found.map(|u| u.id), Some(user.id));
/// assert!(state.check_credentials("admin@example.com", "wrong").await.unwrap().is_none());
/// # });
/// ```
#[derive(Clone)]
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

impl std::fmt::Debug for NewUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewUser")
            .field("email", &self.email)
            .field("password", &"<redacted>")
            .field("is_active", &self.is_active)
            .field("is_superuser", &self.is_superuser)
            .field("is_verified", &self.is_verified)
            .field("fields", &self.fields)
            .finish()
    }
}

impl NewUser {
    /// An active, unverified, non-superuser user. Example: see [`NewUser`].
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
    /// Starts a builder for the backends of `C`. Examples: see [`AuthState`] and
    /// [`AuthStateBuilder`].
    pub fn builder<C: AuthConfig>() -> AuthStateBuilder {
        AuthStateBuilder {
            backends: C::BACKENDS,
            requires_verification: C::REQUIRES_VERIFICATION,
            reset_lifetime: C::RESET_TOKEN_LIFETIME,
            verify_lifetime: C::VERIFY_TOKEN_LIFETIME,
            reset_secret: None,
            verification_secret: None,
            previous_secrets: Vec::new(),
            issuer: None,
            mailer: None,
            verify_on_register: false,
            fields: FieldSchema::NONE,
            cookie_secure: None,
            secret: None,
            keys: None,
            store: None,
            database_tokens: None,
            redis_tokens: None,
            rate_limits: C::RATE_LIMITS,
            rate_limiter: None,
            trusted_proxies: Vec::new(),
            strategies: Vec::new(),
            hasher: None,
            manager: Arc::new(DefaultUserManager),
            leeway: 0,
            body_limit: BodyLimit::DEFAULT,
            trusted_origins: Vec::new(),
        }
    }

    /// The declared backends, in order.
    ///
    /// The getters of `AuthState` read back what the builder configured; this example exercises
    /// all of them (the others link here).
    ///
    /// ```
    /// # use axum_users_runtime::{AuthConfig, AuthState, BackendKind, BackendSpec, CookieSpec, MemoryStore, Strategy};
    /// # struct Auth;
    /// # impl AuthConfig for Auth {
    /// #     const BACKENDS: &'static [BackendSpec] = &[BackendSpec {
    /// #         name: "jwt", kind: BackendKind::Jwt, strategy: Strategy::Jwt,
    /// #         lifetime: 3600, cookie: CookieSpec::DEFAULT,
    /// #     }];
    /// # }
    /// use axum_users_runtime::{BodyLimit, RateLimits};
    ///
    /// let state = AuthState::builder::<Auth>()
    ///     .secret("an example secret of at least 32 bytes!")
    ///     .store(MemoryStore::new())
    ///     .leeway(5)
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(state.backends().len(), 1);
    /// assert_eq!(state.backend("jwt").map(|b| b.lifetime), Some(3600));
    /// assert!(state.backend("cookie").is_none() && state.token_store(Strategy::Jwt).is_none());
    /// assert_eq!(state.keys().kid(), state.keys().kids().next().unwrap());
    /// let _ = (state.reset_keys(), state.verify_keys(), state.store(), state.hasher());
    /// let _ = (state.manager(), state.rate_limiter(), state.trusted_proxies());
    /// assert!(!state.requires_verification() && !state.verifies_on_register());
    /// assert_eq!((state.reset_lifetime(), state.verify_lifetime()), (3600, 3600));
    /// assert!(state.mailer().is_none() && state.trusted_origins().len() == 0);
    /// assert_eq!(state.leeway(), 5);
    /// assert_eq!(*state.rate_limits(), RateLimits::DEFAULT);
    /// assert_eq!(state.body_limit(), BodyLimit::DEFAULT);
    /// ```
    pub fn backends(&self) -> &[BackendSpec] {
        &self.inner.backends
    }

    /// The backend called `name`.
    ///
    /// Example: see [`backends`](Self::backends).
    pub fn backend(&self, name: &str) -> Option<&BackendSpec> {
        self.inner.backends.iter().find(|b| b.name == name)
    }

    /// The token keys.
    ///
    /// Example: see [`backends`](Self::backends).
    pub fn keys(&self) -> &JwtKeys {
        &self.inner.keys
    }

    /// Keys of password-reset tokens.
    ///
    /// Example: see [`backends`](Self::backends).
    pub fn reset_keys(&self) -> &JwtKeys {
        &self.inner.reset_keys
    }

    /// Keys of e-mail verification tokens.
    ///
    /// Example: see [`backends`](Self::backends).
    pub fn verify_keys(&self) -> &JwtKeys {
        &self.inner.verify_keys
    }

    /// Whether login and the `/users` routes require verified users.
    ///
    /// Example: see [`backends`](Self::backends).
    pub fn requires_verification(&self) -> bool {
        self.inner.requires_verification
    }

    /// Lifetime of reset tokens, in seconds.
    ///
    /// Example: see [`backends`](Self::backends).
    pub fn reset_lifetime(&self) -> u64 {
        self.inner.reset_lifetime
    }

    /// Lifetime of verification tokens, in seconds.
    ///
    /// Example: see [`backends`](Self::backends).
    pub fn verify_lifetime(&self) -> u64 {
        self.inner.verify_lifetime
    }

    /// The mailer, if one is configured.
    ///
    /// Example: see [`backends`](Self::backends).
    pub fn mailer(&self) -> Option<&dyn Mailer> {
        self.inner.mailer.as_deref()
    }

    /// Whether registration starts verification.
    ///
    /// Example: see [`backends`](Self::backends).
    pub fn verifies_on_register(&self) -> bool {
        self.inner.verify_on_register
    }

    /// The user store.
    ///
    /// Example: see [`backends`](Self::backends).
    pub fn store(&self) -> &dyn UserStore {
        &*self.inner.store
    }

    /// The token store of a stateful strategy (`None` for [`Strategy::Jwt`]).
    ///
    /// Example: see [`backends`](Self::backends).
    pub fn token_store(&self, strategy: Strategy) -> Option<&dyn TokenStore> {
        match strategy {
            Strategy::Jwt => None,
            Strategy::Database => self.inner.database_tokens.as_deref(),
            Strategy::Redis => self.inner.redis_tokens.as_deref(),
        }
    }

    /// The password hasher.
    ///
    /// Example: see [`backends`](Self::backends).
    pub fn hasher(&self) -> &PasswordHasher {
        &self.inner.hasher
    }

    /// The application's hooks.
    ///
    /// Example: see [`backends`](Self::backends).
    pub fn manager(&self) -> &dyn UserManager {
        &*self.inner.manager
    }

    /// Clock tolerance for `exp`, in seconds.
    ///
    /// Example: see [`backends`](Self::backends).
    pub fn leeway(&self) -> u64 {
        self.inner.leeway
    }

    /// The brute-force limits in force.
    ///
    /// Example: see [`backends`](Self::backends).
    pub fn rate_limits(&self) -> &RateLimits {
        &self.inner.rate_limits
    }

    /// Where the rate-limit counters live.
    ///
    /// Example: see [`backends`](Self::backends).
    pub fn rate_limiter(&self) -> &dyn RateLimiter {
        &*self.inner.rate_limiter
    }

    /// The trusted reverse proxies ([`AuthStateBuilder::trusted_proxies`]).
    ///
    /// Example: see [`backends`](Self::backends).
    pub fn trusted_proxies(&self) -> &[Cidr] {
        &self.inner.trusted_proxies
    }

    /// How much body the generated routes read, and for how long
    /// ([`AuthStateBuilder::max_body_bytes`], [`AuthStateBuilder::body_timeout`]).
    ///
    /// Example: see [`backends`](Self::backends).
    pub fn body_limit(&self) -> BodyLimit {
        self.inner.body_limit
    }

    /// The configured trusted origins, normalized
    /// ([`AuthStateBuilder::trusted_origins`]); the request's own host is trusted besides.
    ///
    /// Example: see [`backends`](Self::backends).
    pub fn trusted_origins(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.inner.csrf.trusted().iter().map(TrustedOrigin::as_str)
    }

    /// The CSRF policy.
    pub(crate) fn csrf(&self) -> &CsrfPolicy {
        &self.inner.csrf
    }

    /// Creates a user as registration does (e-mail syntax, password policy, uniqueness), with
    /// the flags of `new` — e.g. to bootstrap a superuser at start.
    ///
    /// Errors are the registration answers: 422 for a bad e-mail,
    /// `REGISTER_INVALID_PASSWORD`, `REGISTER_USER_ALREADY_EXISTS`, 503.
    ///
    /// Example: see [`NewUser`].
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
    ///
    /// Example: see [`NewUser`].
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
