//! Backend declarations: what `#[derive(AuthConfig)]` produces.

use axum::extract::FromRef;
use axum::Router;

use crate::state::AuthState;

/// How a backend carries its token.
///
/// Both kinds sign fastapi-users-compatible JWTs; they differ in transport.
///
/// ```
/// use axum_users_runtime::BackendKind;
///
/// // `#[backend(jwt)]` and `#[backend(cookie)]`.
/// assert_ne!(BackendKind::Jwt, BackendKind::Cookie);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BackendKind {
    /// `Authorization: Bearer <token>`; login answers `{"access_token": …, "token_type": "bearer"}`.
    Jwt,
    /// A cookie; login answers 204 with `Set-Cookie`.
    Cookie,
}

/// How a backend makes and checks its tokens (fastapi-users' strategies).
///
/// ```
/// use axum_users_runtime::Strategy;
///
/// assert_eq!(Strategy::Redis.as_str(), "redis");
/// assert!(Strategy::Database.is_stateful());
/// assert!(!Strategy::Jwt.is_stateful());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Strategy {
    /// Stateless signed JWTs (the default): nothing is stored, logout cannot revoke them.
    Jwt,
    /// Opaque tokens in the `accesstoken` table of a SQL store, valid for the backend's lifetime
    /// from `created_at`; logout and password changes delete them.
    Database,
    /// Opaque tokens in Redis (`<prefix><token>` → user id, with a TTL); logout and password
    /// changes delete them.
    Redis,
}

impl Strategy {
    /// The name used in `#[backend(.., strategy = ..)]`.
    ///
    /// ```
    /// use axum_users_runtime::Strategy;
    ///
    /// assert_eq!(Strategy::Database.as_str(), "database");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            Strategy::Jwt => "jwt",
            Strategy::Database => "database",
            Strategy::Redis => "redis",
        }
    }

    /// Whether tokens are kept in a store (and so can be revoked).
    ///
    /// ```
    /// use axum_users_runtime::Strategy;
    ///
    /// assert!(Strategy::Redis.is_stateful() && !Strategy::Jwt.is_stateful());
    /// ```
    pub const fn is_stateful(self) -> bool {
        !matches!(self, Strategy::Jwt)
    }
}

/// The `SameSite` attribute of a cookie backend.
///
/// ```
/// use axum_users_runtime::SameSite;
///
/// assert_eq!(SameSite::Lax.as_str(), "lax");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SameSite {
    /// `SameSite=lax` (the default).
    Lax,
    /// `SameSite=strict`.
    Strict,
    /// `SameSite=none` (requires `Secure`).
    None,
}

impl SameSite {
    /// The attribute value as fastapi-users writes it. Example: see [`SameSite`].
    pub const fn as_str(self) -> &'static str {
        match self {
            SameSite::Lax => "lax",
            SameSite::Strict => "strict",
            SameSite::None => "none",
        }
    }
}

/// Cookie attributes of a cookie backend.
///
/// ```
/// use axum_users_runtime::{CookieSpec, SameSite};
///
/// // `#[backend(cookie, cookie_name = "sid", same_site = strict)]`
/// let spec = CookieSpec { name: "sid", same_site: SameSite::Strict, ..CookieSpec::DEFAULT };
/// assert!(spec.secure && spec.http_only && spec.csrf);
/// assert_eq!(spec.path, "/");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CookieSpec {
    /// Cookie name (default `fastapiusersauth`).
    pub name: &'static str,
    /// `Path` attribute (default `/`).
    pub path: &'static str,
    /// `Domain` attribute (default: none, a host-only cookie).
    pub domain: Option<&'static str>,
    /// `Secure` attribute (default `true`).
    pub secure: bool,
    /// `HttpOnly` attribute (default `true`).
    pub http_only: bool,
    /// `SameSite` attribute (default `lax`).
    pub same_site: SameSite,
    /// CSRF check (default `true`): a cookie-authenticated request with an unsafe method
    /// (POST, PUT, PATCH, DELETE), and the backend's login, are accepted only from a trusted
    /// origin (`Origin`, else `Sec-Fetch-Site: same-origin`, else `Referer`); otherwise 403
    /// `CSRF_FAILED`. Bearer requests are never checked.
    pub csrf: bool,
}

impl CookieSpec {
    /// fastapi-users' `CookieTransport` defaults.
    ///
    /// ```
    /// use axum_users_runtime::{CookieSpec, SameSite};
    ///
    /// let spec = CookieSpec::DEFAULT;
    /// assert_eq!((spec.name, spec.path, spec.same_site), ("fastapiusersauth", "/", SameSite::Lax));
    /// assert!(spec.secure && spec.http_only && spec.csrf && spec.domain.is_none());
    /// ```
    pub const DEFAULT: CookieSpec = CookieSpec {
        name: "fastapiusersauth",
        path: "/",
        domain: None,
        secure: true,
        http_only: true,
        same_site: SameSite::Lax,
        csrf: true,
    };
}

impl Default for CookieSpec {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// One declared authentication backend.
///
/// ```
/// use axum_users_runtime::{BackendKind, BackendSpec, CookieSpec, Strategy};
///
/// // `#[backend(jwt, name = "api", lifetime = 900, strategy = redis)]`
/// let api = BackendSpec {
///     name: "api",
///     kind: BackendKind::Jwt,
///     strategy: Strategy::Redis,
///     lifetime: 900,
///     cookie: CookieSpec::DEFAULT,
/// };
/// assert!(api.strategy.is_stateful());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackendSpec {
    /// Name, used in the route path (`/auth/{name}/login`) and in `#[protected(backends(..))]`.
    pub name: &'static str,
    /// Transport.
    pub kind: BackendKind,
    /// How tokens are made and checked.
    pub strategy: Strategy,
    /// Token lifetime in seconds; for cookies also `Max-Age`.
    pub lifetime: u64,
    /// Cookie attributes (ignored for [`BackendKind::Jwt`]).
    pub cookie: CookieSpec,
}

/// A set of authentication backends, declared with `#[derive(AuthConfig)]`:
///
/// ```text
/// #[derive(AuthConfig)]
/// #[backend(jwt, name = "jwt", lifetime = 3600)]
/// #[backend(cookie, name = "cookie", lifetime = 3600, secure = false, strategy = redis)]
/// struct Auth;
/// ```
///
/// The derive writes this implementation (the macro itself is documented and tested in the
/// `axum-users` crate):
///
/// ```
/// use axum_users_runtime::{AuthConfig, AuthState, BackendKind, BackendSpec, CookieSpec, Strategy};
///
/// struct Auth;
/// impl AuthConfig for Auth {
///     const BACKENDS: &'static [BackendSpec] = &[
///         BackendSpec {
///             name: "jwt",
///             kind: BackendKind::Jwt,
///             strategy: Strategy::Jwt,
///             lifetime: 3600,
///             cookie: CookieSpec::DEFAULT,
///         },
///         BackendSpec {
///             name: "cookie",
///             kind: BackendKind::Cookie,
///             strategy: Strategy::Redis,
///             lifetime: 3600,
///             cookie: CookieSpec { secure: false, ..CookieSpec::DEFAULT },
///         },
///     ];
/// }
///
/// assert_eq!(Auth::BACKENDS[1].cookie.name, "fastapiusersauth");
/// let _router: axum::Router<AuthState> = Auth::router();
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not declare authentication backends",
    label = "add `#[derive(AuthConfig)]` and at least one `#[backend(..)]` to `{Self}`"
)]
pub trait AuthConfig: Send + Sync + 'static {
    /// The backends, in declared order: the order in which guards try them.
    const BACKENDS: &'static [BackendSpec];

    /// fastapi-users' `requires_verification`: login answers `LOGIN_USER_NOT_VERIFIED` to
    /// unverified users, and logout and the `/users` routes require a verified user (403).
    /// Set with `#[auth(requires_verification)]`.
    const REQUIRES_VERIFICATION: bool = false;

    /// Lifetime of password-reset tokens, in seconds (`#[auth(reset_token_lifetime = N)]`).
    const RESET_TOKEN_LIFETIME: u64 = 3600;

    /// Lifetime of e-mail verification tokens, in seconds
    /// (`#[auth(verify_token_lifetime = N)]`).
    const VERIFY_TOKEN_LIFETIME: u64 = 3600;

    /// Brute-force limits of the generated routes (`#[auth(login_per_account = "5/15m", ..)]`,
    /// `#[auth(rate_limits = false)]`); [`RateLimits::DEFAULT`] unless declared.
    const RATE_LIMITS: RateLimits = RateLimits::DEFAULT;

    /// The generated routes: `POST /auth/{name}/login` and `POST /auth/{name}/logout` for
    /// every backend, and `POST /auth/register`.
    ///
    /// Merge it into the application's router; nest it to change the `/auth` prefix.
    fn router<S>() -> Router<S>
    where
        S: Clone + Send + Sync + 'static,
        AuthState: FromRef<S>,
    {
        crate::routes::router::<S>(Self::BACKENDS)
    }

    /// The OpenAPI 3.1 document of [`router`](Self::router) (feature `openapi`): every route,
    /// body, status and `detail` code, and a security scheme per backend. Add your own guarded
    /// handlers with [`openapi::protect`](crate::openapi::protect).
    ///
    /// ```
    /// # use axum_users_runtime::{AuthConfig, BackendKind, BackendSpec, CookieSpec, Strategy};
    /// # struct Auth;
    /// # impl AuthConfig for Auth {
    /// #     const BACKENDS: &'static [BackendSpec] = &[BackendSpec { name: "cookie",
    /// #         kind: BackendKind::Cookie, strategy: Strategy::Jwt, lifetime: 3600,
    /// #         cookie: CookieSpec::DEFAULT }];
    /// # }
    /// let doc = serde_json::to_value(Auth::openapi()).unwrap();
    /// let scheme = &doc["components"]["securitySchemes"]["cookie"];
    /// assert_eq!((&scheme["in"], &scheme["name"]), (&"cookie".into(), &"fastapiusersauth".into()));
    /// ```
    #[cfg(feature = "openapi")]
    fn openapi() -> utoipa::openapi::OpenApi {
        crate::openapi::document(Self::BACKENDS, Self::REQUIRES_VERIFICATION)
    }
}

/// At most `max` events per `window` seconds for one key (one e-mail address, one client
/// address). Written `"N/period"` in the derive: `"5/15m"`, `"20/1h"`, `"100/1d"`, `"3/30s"`.
///
/// ```
/// use axum_users_runtime::Rate;
///
/// let five_per_quarter_hour = Rate::new(5, 15 * 60); // "5/15m"
/// assert_eq!((five_per_quarter_hour.max, five_per_quarter_hour.window), (5, 900));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rate {
    /// Events allowed in one window.
    pub max: u32,
    /// Window length, in seconds.
    pub window: u64,
}

impl Rate {
    /// `max` events per `window` seconds. Example: see [`Rate`].
    pub const fn new(max: u32, window: u64) -> Self {
        Rate { max, window }
    }
}

/// The brute-force limits of the generated routes; `None` turns one off.
///
/// A limit that is reached answers 429 `{"detail": "TOO_MANY_REQUESTS"}` with `Retry-After`.
/// Limits per account count by the normalized e-mail address, whether or not a user has it, so
/// a 429 tells nothing about which addresses are registered. Limits per client count by the
/// socket's address (or the address a trusted proxy reports).
///
/// ```
/// use axum_users_runtime::{Rate, RateLimits};
///
/// let strict = RateLimits {
///     login_per_account: Some(Rate::new(3, 30 * 60)),
///     ..RateLimits::DEFAULT
/// };
/// assert_eq!(RateLimits::DEFAULT.login_per_account, Some(Rate::new(5, 15 * 60)));
/// assert_eq!(RateLimits::OFF.login_per_client, None);
/// # let _ = strict;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RateLimits {
    /// Failed logins per e-mail address (default 5 per 15 minutes). A successful login and a
    /// password reset clear the address's counter.
    pub login_per_account: Option<Rate>,
    /// Failed logins per client address (default 30 per 15 minutes).
    pub login_per_client: Option<Rate>,
    /// Registrations per client address (default 20 per hour).
    pub register_per_client: Option<Rate>,
    /// `forgot-password` and `request-verify-token` requests per e-mail address (default 5 per
    /// hour): no mailbox is flooded through the service.
    pub mail_per_account: Option<Rate>,
    /// `forgot-password` and `request-verify-token` requests per client address (default 20
    /// per hour).
    pub mail_per_client: Option<Rate>,
}

impl RateLimits {
    /// The defaults. Example: see [`RateLimits`].
    pub const DEFAULT: RateLimits = RateLimits {
        login_per_account: Some(Rate::new(5, 15 * 60)),
        login_per_client: Some(Rate::new(30, 15 * 60)),
        register_per_client: Some(Rate::new(20, 60 * 60)),
        mail_per_account: Some(Rate::new(5, 60 * 60)),
        mail_per_client: Some(Rate::new(20, 60 * 60)),
    };

    /// No limits at all (`#[auth(rate_limits = false)]`). Example: see [`RateLimits`].
    pub const OFF: RateLimits = RateLimits {
        login_per_account: None,
        login_per_client: None,
        register_per_client: None,
        mail_per_account: None,
        mail_per_client: None,
    };
}

impl Default for RateLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}
