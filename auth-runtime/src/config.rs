//! Backend declarations: what `#[derive(AuthConfig)]` produces.

use axum::extract::FromRef;
use axum::Router;

use crate::state::AuthState;

/// How a backend carries its token.
///
/// Both kinds sign fastapi-users-compatible JWTs; they differ in transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BackendKind {
    /// `Authorization: Bearer <token>`; login answers `{"access_token": …, "token_type": "bearer"}`.
    Jwt,
    /// A cookie; login answers 204 with `Set-Cookie`.
    Cookie,
}

/// How a backend makes and checks its tokens (fastapi-users' strategies).
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
    pub const fn as_str(self) -> &'static str {
        match self {
            Strategy::Jwt => "jwt",
            Strategy::Database => "database",
            Strategy::Redis => "redis",
        }
    }

    /// Whether tokens are kept in a store (and so can be revoked).
    pub const fn is_stateful(self) -> bool {
        !matches!(self, Strategy::Jwt)
    }
}

/// The `SameSite` attribute of a cookie backend.
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
    /// The attribute value as fastapi-users writes it.
    pub const fn as_str(self) -> &'static str {
        match self {
            SameSite::Lax => "lax",
            SameSite::Strict => "strict",
            SameSite::None => "none",
        }
    }
}

/// Cookie attributes of a cookie backend.
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
}

impl CookieSpec {
    /// fastapi-users' `CookieTransport` defaults.
    pub const DEFAULT: CookieSpec = CookieSpec {
        name: "fastapiusersauth",
        path: "/",
        domain: None,
        secure: true,
        http_only: true,
        same_site: SameSite::Lax,
    };
}

impl Default for CookieSpec {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// One declared authentication backend.
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
}
