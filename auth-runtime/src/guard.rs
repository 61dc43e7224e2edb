//! Guards: the [`Protected`] extractor behind `#[protected]`, and [`CurrentUser`].

use std::marker::PhantomData;
use std::ops::Deref;
use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts, OptionalFromRequestParts};
use axum::http::request::Parts;

use crate::config::{BackendKind, BackendSpec};
use crate::csrf::CsrfPolicy;
use crate::error::ApiError;
use crate::requirement::{Req, Requirement};
use crate::state::AuthState;
use crate::transport;
use crate::user::User;

/// Who authenticated a request, and how. Its `Debug` output leaves the token out.
///
/// Handlers get it from [`Protected::authenticated`] (see the example there).
#[derive(Clone)]
pub struct Authenticated {
    /// The user, as stored right now.
    pub user: User,
    /// The backend whose credential authenticated the request.
    pub backend: BackendSpec,
    /// That credential.
    pub token: String,
}

impl std::fmt::Debug for Authenticated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticated")
            .field("user", &self.user)
            .field("backend", &self.backend)
            .field("token", &"<redacted>")
            .finish()
    }
}

/// What a guard left for later extractors of the same request (shared with the guard's
/// [`Protected`], not copied).
#[derive(Clone)]
struct GuardOutcome(Option<Arc<Authenticated>>);

impl AuthState {
    /// Authenticates a request: tries the backends allowed by `allows`, in declared order (a
    /// missing or invalid credential falls through to the next backend, the first valid one
    /// wins), then applies the checks: inactive (or nobody) → 401; a cookie backend's
    /// credential on an unsafe request from an untrusted origin → 403 `CSRF_FAILED` (see
    /// [`check_origin`](Self::check_origin); the next backends are still tried, so a valid
    /// bearer token wins over the cookie); `verified`/`superuser` unmet → 403. A store failure
    /// is `Err(ApiError::Unavailable)`, never a 401.
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
    /// use axum::http::Request;
    /// use axum_users_runtime::{ApiError, NewUser};
    ///
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let state = AuthState::builder::<Auth>()
    ///     .secret("an example secret of at least 32 bytes!")
    ///     .store(MemoryStore::new())
    /// #   .password_hasher(axum_users_runtime::PasswordHasher::with_params(1024, 1, 1).unwrap())
    ///     .build()
    ///     .unwrap();
    /// let user = state.create_user(NewUser::new("a@example.com", "a long password")).await.unwrap();
    /// let token = state.issue_token(&state.backends()[0], user.id).await.unwrap();
    /// let cookie = format!("fastapiusersauth={token}");
    /// let request = |origin: &str| {
    ///     Request::post("/transfer")
    ///         .header("host", "app.example.com")
    ///         .header("origin", origin)
    ///         .header("cookie", &cookie)
    ///         .body(())
    ///         .unwrap()
    ///         .into_parts()
    ///         .0
    /// };
    /// let same = request("https://app.example.com");
    /// let found = state.authenticate(&same, false, false, |_| true).await.unwrap();
    /// assert_eq!(found.user.id, user.id);
    /// let cross = request("https://evil.example");
    /// let refused = state.authenticate(&cross, false, false, |_| true).await;
    /// assert!(matches!(refused, Err(ApiError::CsrfFailed)));
    /// # });
    /// ```
    pub async fn authenticate(
        &self,
        parts: &Parts,
        verified: bool,
        superuser: bool,
        allows: impl Fn(&str) -> bool,
    ) -> Result<Authenticated, ApiError> {
        let headers = &parts.headers;
        let safe = CsrfPolicy::is_safe(&parts.method);
        let mut bearer = false;
        let mut csrf_failed = None;
        let mut found = None;
        for backend in self.backends().iter().filter(|b| allows(b.name)) {
            bearer |= backend.kind == BackendKind::Jwt;
            let Some(token) = transport::extract(backend, headers) else {
                continue;
            };
            let Some(id) = self.read_token(backend, token).await? else {
                continue;
            };
            if let Some(user) = self.store().get(id).await? {
                let checked = !safe && backend.kind == BackendKind::Cookie && backend.cookie.csrf;
                if checked && user.is_active {
                    if let Err(refused) = self.check_origin(parts) {
                        // A later backend (a bearer token) may still authenticate the request.
                        csrf_failed = Some(refused);
                        continue;
                    }
                }
                found = Some(Authenticated {
                    user,
                    backend: *backend,
                    token: token.to_owned(),
                });
                break;
            }
        }
        let found = match (found, csrf_failed) {
            (Some(found), _) => found,
            (None, Some(refused)) => return Err(refused),
            (None, None) => return Err(ApiError::Unauthorized { bearer }),
        };
        if !found.user.is_active {
            return Err(ApiError::Unauthorized { bearer });
        }
        if (verified && !found.user.is_verified) || (superuser && !found.user.is_superuser) {
            return Err(ApiError::Forbidden);
        }
        Ok(found)
    }

    async fn guard<R: Requirement>(
        &self,
        parts: &mut Parts,
    ) -> Result<Option<Arc<Authenticated>>, ApiError> {
        if let Some(unknown) =
            R::unknown_backend(&|name| self.backends().iter().any(|b| b.name == name))
        {
            let problem = format!(
                "#[protected(backends(..))] names backend {unknown:?}, which the AuthConfig does not declare (declared: {:?})",
                self.backends().iter().map(|b| b.name).collect::<Vec<_>>()
            );
            tracing::error!("{problem}");
            return Err(ApiError::Internal(problem));
        }
        let result = self
            .authenticate(parts, R::VERIFIED, R::SUPERUSER, R::allows_backend)
            .await;
        let outcome = match result {
            Ok(found) => Some(Arc::new(found)),
            // A cross-site request with a valid cookie is refused, not made anonymous.
            Err(err @ (ApiError::Unavailable | ApiError::Internal(_) | ApiError::CsrfFailed)) => {
                return Err(err)
            }
            Err(_) if R::OPTIONAL => None,
            Err(rejection) => return Err(rejection),
        };
        parts.extensions.insert(GuardOutcome(outcome.clone()));
        Ok(outcome)
    }
}

/// The guard `#[protected]` inserts as a handler's first argument: it authenticates the request
/// before any other extractor runs and rejects it (401/403/503) unless `R` is met.
///
/// Use it directly as an extractor, or to protect a whole router:
///
/// ```
/// use axum::{middleware::from_extractor_with_state, routing::get, Router};
/// use axum_users_runtime::{AuthState, CurrentUser, Protected, Req};
///
/// async fn admin(user: CurrentUser) -> String { user.email.clone() }
///
/// fn admin_routes(state: AuthState) -> Router<AuthState> {
///     Router::new()
///         .route("/admin", get(admin))
///         .route_layer(from_extractor_with_state::<Protected<Req<false, false, true>>, _>(state))
/// }
/// ```
pub struct Protected<R: Requirement = Req<false, false, false>> {
    found: Option<Arc<Authenticated>>,
    _requirement: PhantomData<fn() -> R>,
}

impl<R: Requirement> Protected<R> {
    /// The authenticated user (`None` only for optional guards).
    ///
    /// With [`authenticated`](Self::authenticated), in a handler behind an optional guard:
    ///
    /// ```
    /// use axum::{routing::get, Router};
    /// use axum_users_runtime::{AuthState, Protected, Req};
    ///
    /// // Optional: an anonymous request gets `None` instead of a 401.
    /// async fn whoami(guard: Protected<Req<true, false, false>>) -> String {
    ///     match (guard.user(), guard.authenticated()) {
    ///         (Some(user), Some(auth)) => format!("{} via {}", user.email, auth.backend.name),
    ///         _ => "anonymous".into(),
    ///     }
    /// }
    /// let _app: Router<AuthState> = Router::new().route("/whoami", get(whoami));
    /// ```
    pub fn user(&self) -> Option<&User> {
        self.found.as_ref().map(|a| &a.user)
    }

    /// How the request was authenticated (`None` only for optional guards).
    ///
    /// Example: see [`user`](Self::user).
    pub fn authenticated(&self) -> Option<&Authenticated> {
        self.found.as_deref()
    }
}

impl<S, R> FromRequestParts<S> for Protected<R>
where
    AuthState: FromRef<S>,
    S: Send + Sync,
    R: Requirement,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let auth = AuthState::from_ref(state);
        let found = auth.guard::<R>(parts).await?;
        Ok(Protected {
            found,
            _requirement: PhantomData,
        })
    }
}

/// The authenticated user of a request.
///
/// After a `#[protected]` guard it is the guard's user (no second lookup). On its own it
/// authenticates the request itself: any active user, any backend.
/// `Option<CurrentUser>` gives `None` instead of a 401/403.
///
/// ```
/// use axum_users_runtime::CurrentUser;
///
/// async fn hello(user: CurrentUser) -> String {
///     format!("hello {}", user.email)
/// }
///
/// async fn maybe(user: Option<CurrentUser>) -> String {
///     user.map_or("hello stranger".into(), |u| format!("hello {}", u.email))
/// }
/// ```
#[derive(Debug, Clone)]
pub struct CurrentUser(pub User);

impl CurrentUser {
    /// The user.
    ///
    /// ```
    /// use axum_users_runtime::{CurrentUser, User};
    ///
    /// let current = CurrentUser(User::new("ada@example.com", "$argon2id$..."));
    /// assert_eq!(current.email, "ada@example.com"); // `Deref` to `User`
    /// let user: User = current.into_inner();
    /// assert!(user.is_active);
    /// ```
    pub fn into_inner(self) -> User {
        self.0
    }
}

impl Deref for CurrentUser {
    type Target = User;
    fn deref(&self) -> &User {
        &self.0
    }
}

fn bearer_enabled(state: &AuthState) -> bool {
    state.backends().iter().any(|b| b.kind == BackendKind::Jwt)
}

impl<S> FromRequestParts<S> for CurrentUser
where
    AuthState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let auth = AuthState::from_ref(state);
        let found = match parts.extensions.get::<GuardOutcome>() {
            Some(GuardOutcome(found)) => found.as_deref().map(|a| a.user.clone()),
            // No guard ran: authenticate as `#[protected]` with no option would.
            None => auth
                .guard::<Req<false, false, false>>(parts)
                .await?
                .map(|a| a.user.clone()),
        };
        found.map(CurrentUser).ok_or(ApiError::Unauthorized {
            bearer: bearer_enabled(&auth),
        })
    }
}

impl<S> OptionalFromRequestParts<S> for CurrentUser
where
    AuthState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        let found = match parts.extensions.get::<GuardOutcome>() {
            Some(GuardOutcome(found)) => found.as_deref().map(|a| a.user.clone()),
            None => AuthState::from_ref(state)
                .guard::<Req<true, false, false>>(parts)
                .await?
                .map(|a| a.user.clone()),
        };
        Ok(found.map(CurrentUser))
    }
}
