//! The generated routes: login and logout per backend, and registration.

use axum::body::Bytes;
use axum::extract::{FromRef, Path, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};

use crate::config::{BackendKind, BackendSpec};
use crate::error::ApiError;
use crate::limits::{limit_header_bytes, BoundedBody};
use crate::manager::report_hook;
use crate::state::{AuthState, NewUser};
use crate::transport;
use crate::user::User;
use crate::validation::{email_body, string_fields, LoginForm, RegisterBody, UserUpdate};
use serde_json::Value;
use uuid::Uuid;

/// The routes of `backends`: `POST /auth/{name}/login` and `POST /auth/{name}/logout` per
/// backend, `POST /auth/register`, `POST /auth/forgot-password`, `POST /auth/reset-password`,
/// `POST /auth/request-verify-token`, `POST /auth/verify`, `GET`/`PATCH /users/me` and
/// `GET`/`PATCH`/`DELETE /users/{id}`. Usually reached through `AuthConfig::router`.
///
/// ```
/// use axum::Router;
/// use axum_users_runtime::{router, AuthState, BackendKind, BackendSpec, CookieSpec, Strategy};
///
/// static BACKENDS: [BackendSpec; 1] = [BackendSpec {
///     name: "jwt", kind: BackendKind::Jwt, strategy: Strategy::Jwt,
///     lifetime: 3600, cookie: CookieSpec::DEFAULT,
/// }];
/// // Add `.with_state(state)` (an `AuthState`, or a state it is `FromRef` of) to serve it.
/// let _auth_routes: Router<AuthState> = router(&BACKENDS);
/// ```
pub fn router<S>(backends: &'static [BackendSpec]) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    AuthState: FromRef<S>,
{
    let mut router = Router::new()
        .route("/auth/register", post(register))
        .route("/auth/forgot-password", post(forgot_password))
        .route("/auth/reset-password", post(reset_password))
        .route("/auth/request-verify-token", post(request_verify_token))
        .route("/auth/verify", post(verify))
        .route("/users/me", get(me).patch(update_me))
        .route(
            "/users/{id}",
            get(user_by_id).patch(update_user).delete(delete_user),
        );
    for backend in backends {
        let name = backend.name;
        router = router
            .route(
                &format!("/auth/{name}/login"),
                post(
                    move |State(auth): State<AuthState>,
                          parts: Parts,
                          BoundedBody(body): BoundedBody| {
                        login(auth, name, parts, body)
                    },
                ),
            )
            .route(
                &format!("/auth/{name}/logout"),
                post(move |State(auth): State<AuthState>, parts: Parts| logout(auth, name, parts)),
            );
    }
    // Explicit limits: bodies are read by `BoundedBody` (the state's `BodyLimit`: 413, 408);
    // oversized headers get 431 before any route runs.
    router.layer(axum::middleware::from_fn(limit_header_bytes))
}

/// The state's version of the backend the route was generated for (the state may override
/// attributes such as `secure`).
fn backend<'a>(auth: &'a AuthState, name: &str) -> Result<&'a BackendSpec, ApiError> {
    auth.backend(name).ok_or_else(|| {
        tracing::error!(
            backend = name,
            "the router and the AuthState come from different AuthConfigs"
        );
        ApiError::NotFound
    })
}

async fn login(
    auth: AuthState,
    name: &'static str,
    parts: Parts,
    body: Bytes,
) -> Result<Response, ApiError> {
    let backend = backend(&auth, name)?;
    // Login CSRF: a cross-site page must not log the browser into the attacker's account.
    if backend.kind == BackendKind::Cookie && backend.cookie.csrf {
        auth.check_origin(&parts)?;
    }
    let form = LoginForm::parse(&parts.headers, body).await?;
    // Brute force: counted before the password is checked (a refusal costs no hash), for
    // known and unknown addresses alike; only failures stay counted.
    let attempt = auth.limit_login(&parts, &form.username).await?;
    let user = auth
        .check_credentials(&form.username, &form.password)
        .await?
        .filter(|user| user.is_active)
        .ok_or(ApiError::bad_request("LOGIN_BAD_CREDENTIALS"))?;
    if auth.requires_verification() && !user.is_verified {
        return Err(ApiError::bad_request("LOGIN_USER_NOT_VERIFIED"));
    }
    auth.login_succeeded(attempt).await;
    let token = auth.issue_token(backend, user.id).await?;
    report_hook(
        parts.uri.path(),
        "on_after_login",
        auth.manager().on_after_login(&user, &parts).await,
    );
    Ok(transport::login_response(backend, &token))
}

async fn logout(auth: AuthState, name: &'static str, parts: Parts) -> Result<Response, ApiError> {
    let backend = backend(&auth, name)?;
    let found = auth
        .authenticate(&parts, auth.requires_verification(), false, |_| true)
        .await?;
    // As fastapi-users: the route's backend destroys the credential that authenticated.
    auth.destroy_token(backend, &found.token).await?;
    Ok(transport::logout_response(backend))
}

async fn register(
    State(auth): State<AuthState>,
    parts: Parts,
    BoundedBody(body): BoundedBody,
) -> Result<Response, ApiError> {
    auth.limit_register(&parts).await?;
    let body = RegisterBody::parse(&parts.headers, &body)?;
    let mut issues = Vec::new();
    let fields = auth.field_schema().read(&body.raw, true, &mut issues);
    if !issues.is_empty() {
        return Err(ApiError::Validation(issues));
    }
    let new = NewUser {
        fields,
        ..NewUser::new("", body.password)
    };
    let user = auth.create_validated(body.email, new).await?;
    report_hook(
        parts.uri.path(),
        "on_after_register",
        auth.manager().on_after_register(&user, &parts).await,
    );
    if auth.verifies_on_register() {
        let registered = user.clone();
        auth.in_background(&parts, |auth, parts| async move {
            auth.request_verify(&registered, &parts).await;
        });
    }
    Ok((StatusCode::CREATED, Json(user)).into_response())
}

/// 202 with the JSON literal `null`.
fn accepted() -> Response {
    (StatusCode::ACCEPTED, Json(Value::Null)).into_response()
}

async fn forgot_password(
    State(auth): State<AuthState>,
    parts: Parts,
    BoundedBody(body): BoundedBody,
) -> Result<Response, ApiError> {
    let email = email_body(&parts.headers, &body)?;
    auth.limit_mail(&parts, &email).await?;
    auth.in_background(&parts, |auth, parts| async move {
        auth.forgot_password(&email, &parts).await;
    });
    Ok(accepted())
}

async fn reset_password(
    State(auth): State<AuthState>,
    parts: Parts,
    BoundedBody(body): BoundedBody,
) -> Result<Response, ApiError> {
    let [token, password] = string_fields(&parts.headers, &body, ["token", "password"])?;
    auth.reset_password(&token, &password, &parts).await?;
    Ok(Json(Value::Null).into_response())
}

async fn request_verify_token(
    State(auth): State<AuthState>,
    parts: Parts,
    BoundedBody(body): BoundedBody,
) -> Result<Response, ApiError> {
    let email = email_body(&parts.headers, &body)?;
    auth.limit_mail(&parts, &email).await?;
    auth.in_background(&parts, |auth, parts| async move {
        match auth.store().get_by_email(&email).await {
            Ok(Some(user)) => auth.request_verify(&user, &parts).await,
            Ok(None) => {}
            Err(err) => tracing::error!(error = %err, "request-verify-token: user store failed"),
        }
    });
    Ok(accepted())
}

async fn verify(
    State(auth): State<AuthState>,
    parts: Parts,
    BoundedBody(body): BoundedBody,
) -> Result<Response, ApiError> {
    let [token] = string_fields(&parts.headers, &body, ["token"])?;
    let user = auth.verify(&token, &parts).await?;
    Ok(Json(user).into_response())
}

/// The guard of the `/users` routes: an active user, verified when verification is required,
/// a superuser for the `/{id}` routes (checked before the id is even parsed).
async fn users_guard(auth: &AuthState, parts: &Parts, superuser: bool) -> Result<User, ApiError> {
    auth.authenticate(parts, auth.requires_verification(), superuser, |_| true)
        .await
        .map(|found| found.user)
}

async fn me(State(auth): State<AuthState>, parts: Parts) -> Result<Json<User>, ApiError> {
    users_guard(&auth, &parts, false).await.map(Json)
}

async fn update_me(
    State(auth): State<AuthState>,
    parts: Parts,
    BoundedBody(body): BoundedBody,
) -> Result<Json<User>, ApiError> {
    let user = users_guard(&auth, &parts, false).await?;
    let (update, raw) = UserUpdate::parse(&parts.headers, &body)?;
    auth.update_user(user, update, true, &raw, &parts)
        .await
        .map(Json)
}

/// The user `{id}` names (any form a UUID parser takes); 404 for an unknown or unparsable id.
async fn target(auth: &AuthState, id: &str) -> Result<User, ApiError> {
    let id = Uuid::parse_str(id).map_err(|_| ApiError::NotFound)?;
    auth.store().get(id).await?.ok_or(ApiError::NotFound)
}

async fn user_by_id(
    State(auth): State<AuthState>,
    Path(id): Path<String>,
    parts: Parts,
) -> Result<Json<User>, ApiError> {
    users_guard(&auth, &parts, true).await?;
    target(&auth, &id).await.map(Json)
}

async fn update_user(
    State(auth): State<AuthState>,
    Path(id): Path<String>,
    parts: Parts,
    BoundedBody(body): BoundedBody,
) -> Result<Json<User>, ApiError> {
    users_guard(&auth, &parts, true).await?;
    let user = target(&auth, &id).await?;
    let (update, raw) = UserUpdate::parse(&parts.headers, &body)?;
    auth.update_user(user, update, false, &raw, &parts)
        .await
        .map(Json)
}

async fn delete_user(
    State(auth): State<AuthState>,
    Path(id): Path<String>,
    parts: Parts,
) -> Result<StatusCode, ApiError> {
    users_guard(&auth, &parts, true).await?;
    let user = target(&auth, &id).await?;
    auth.delete_user(&user, &parts).await?;
    Ok(StatusCode::NO_CONTENT)
}
