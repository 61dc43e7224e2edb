//! The generated routes: login and logout per backend, and registration.

use axum::body::Bytes;
use axum::extract::{FromRef, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};

use crate::config::BackendSpec;
use crate::error::ApiError;
use crate::manager::report_hook;
use crate::state::{AuthState, NewUser};
use crate::transport;
use crate::validation::{LoginForm, RegisterBody};

/// The routes of `backends`: `POST /auth/{name}/login` and `POST /auth/{name}/logout` per
/// backend, and `POST /auth/register`. Usually reached through `AuthConfig::router`.
pub fn router<S>(backends: &'static [BackendSpec]) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    AuthState: FromRef<S>,
{
    let mut router = Router::new().route("/auth/register", post(register));
    for backend in backends {
        let name = backend.name;
        router = router
            .route(
                &format!("/auth/{name}/login"),
                post(
                    move |State(auth): State<AuthState>, parts: Parts, body: Bytes| {
                        login(auth, name, parts, body)
                    },
                ),
            )
            .route(
                &format!("/auth/{name}/logout"),
                post(move |State(auth): State<AuthState>, parts: Parts| logout(auth, name, parts)),
            );
    }
    router
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
    let form = LoginForm::parse(&parts.headers, body).await?;
    let user = auth
        .check_credentials(&form.username, &form.password)
        .await?
        .filter(|user| user.is_active)
        .ok_or(ApiError::bad_request("LOGIN_BAD_CREDENTIALS"))?;
    let token = auth
        .keys()
        .access_token(user.id, backend.lifetime)
        .map_err(|err| {
            tracing::error!(error = %err, "could not sign an access token");
            ApiError::Unavailable
        })?;
    report_hook(
        parts.uri.path(),
        "on_after_login",
        auth.manager().on_after_login(&user, &parts).await,
    );
    Ok(transport::login_response(backend, &token))
}

async fn logout(auth: AuthState, name: &'static str, parts: Parts) -> Result<Response, ApiError> {
    let backend = backend(&auth, name)?;
    auth.authenticate(&parts.headers, false, false, |_| true)
        .await?;
    Ok(transport::logout_response(backend))
}

async fn register(
    State(auth): State<AuthState>,
    parts: Parts,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body = RegisterBody::parse(&parts.headers, &body)?;
    let user = auth
        .create_validated(body.email, NewUser::new("", body.password))
        .await?;
    report_hook(
        parts.uri.path(),
        "on_after_register",
        auth.manager().on_after_register(&user, &parts).await,
    );
    Ok((StatusCode::CREATED, Json(user)).into_response())
}
