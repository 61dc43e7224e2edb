//! The quickstart service: the generated auth routes plus two guarded routes, on SQLite.
//!
//! ```text
//! cargo run --example quickstart
//! ```
//!
//! Environment:
//! - `AUTH_BIND` (default `127.0.0.1:8000`)
//! - `AUTH_DATABASE_URL` (default `sqlite://axum-users.db`, a file in the working directory)
//! - `AUTH_SECRET` (at least 32 bytes; without it a random secret is generated, and tokens do
//!   not survive a restart)
//! - `AUTH_BOOTSTRAP_SUPERUSER=email:password` (creates that active superuser unless it exists)
//! - `AUTH_COOKIE_SECURE=false` (plain-http development: cookies without `Secure`)
//! - `AUTH_OUTBOX=path` (development mailer: one JSON line per verification or reset message);
//!   `AUTH_SMTP_HOST`, `AUTH_SMTP_PORT`, `AUTH_SMTP_USERNAME`, `AUTH_SMTP_PASSWORD`,
//!   `AUTH_SMTP_FROM`, `AUTH_SMTP_TLS` (real e-mail); neither: a log line without the token

use std::time::Instant;

use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use axum_users::prelude::*;
use axum_users::InvalidPassword;
use base64::Engine as _;
use serde_json::{json, Value};

// Clippy's `duplicated_attributes` mistakes two backends sharing `lifetime = 3600` for a
// repeated attribute (rust-lang/rust-clippy#13238).
#[derive(AuthConfig)]
#[allow(clippy::duplicated_attributes)]
#[backend(jwt, name = "jwt", lifetime = 3600)]
#[backend(cookie, name = "cookie", lifetime = 3600)]
struct Auth;

/// The password policy of fastapi-users' documentation example.
struct Policy;

#[axum_users::async_trait]
impl UserManager for Policy {
    async fn validate_password(&self, password: &str, email: &str) -> Result<(), InvalidPassword> {
        if password.chars().count() < 8 {
            return Err(InvalidPassword::new(
                "Password should be at least 8 characters",
            ));
        }
        if password.contains(email) {
            return Err(InvalidPassword::new("Password should not contain e-mail"));
        }
        Ok(())
    }
}

#[protected]
async fn protected_route(user: CurrentUser) -> Json<Value> {
    Json(json!({ "email": user.email }))
}

#[protected(superuser)]
async fn admin(user: CurrentUser) -> Json<Value> {
    Json(json!({ "email": user.email }))
}

/// One line per request.
async fn log_request(request: Request, next: Next) -> Response {
    let (method, path) = (request.method().clone(), request.uri().path().to_owned());
    let started = Instant::now();
    let response = next.run(request).await;
    tracing::info!(
        "{method} {path} -> {} ({:.1} ms)",
        response.status().as_u16(),
        started.elapsed().as_secs_f64() * 1000.0
    );
    response
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

async fn bootstrap_superuser(state: &AuthState, spec: &str) -> Result<(), String> {
    let (email, password) = spec
        .split_once(':')
        .ok_or("AUTH_BOOTSTRAP_SUPERUSER must be email:password")?;
    let existing = state
        .store()
        .get_by_email(email)
        .await
        .map_err(|e| e.to_string())?;
    if existing.is_some() {
        tracing::info!("bootstrap superuser {email} already exists");
        return Ok(());
    }
    let mut new = NewUser::new(email, password);
    new.is_superuser = true;
    match state.create_user(new).await {
        Ok(user) => {
            tracing::info!("created bootstrap superuser {} ({})", user.email, user.id);
            Ok(())
        }
        Err(err) => Err(format!(
            "cannot create the bootstrap superuser: {}",
            err.body()
        )),
    }
}

async fn run() -> Result<(), String> {
    let bind = env("AUTH_BIND").unwrap_or_else(|| "127.0.0.1:8000".into());
    let database_url = env("AUTH_DATABASE_URL").unwrap_or_else(|| "sqlite://axum-users.db".into());
    let secret = env("AUTH_SECRET").unwrap_or_else(|| {
        tracing::warn!(
            "AUTH_SECRET is not set: using a random secret; tokens won't survive a restart"
        );
        base64::engine::general_purpose::STANDARD.encode(rand::random::<[u8; 48]>())
    });
    let cookie_secure = match env("AUTH_COOKIE_SECURE").as_deref() {
        None => true,
        Some("false" | "0" | "no") => false,
        Some("true" | "1" | "yes") => true,
        Some(other) => {
            return Err(format!(
                "AUTH_COOKIE_SECURE must be true or false, not {other:?}"
            ))
        }
    };
    if !database_url.starts_with("sqlite:") {
        return Err(format!(
            "AUTH_DATABASE_URL {database_url:?}: the quickstart serves SQLite (sqlite://path)"
        ));
    }
    let store = SqliteStore::connect(&database_url)
        .await
        .map_err(|e| format!("cannot open {database_url}: {e}"))?;
    let mailer = axum_users::mailer_from_env().map_err(|e| e.to_string())?;
    let state = AuthState::builder::<Auth>()
        .secret(secret)
        .store(store)
        .manager(Policy)
        .cookie_secure(cookie_secure)
        .shared_mailer(mailer)
        .verify_on_register(true)
        .build()
        .map_err(|e| e.to_string())?;
    if let Some(spec) = env("AUTH_BOOTSTRAP_SUPERUSER") {
        bootstrap_superuser(&state, &spec).await?;
    }

    let app = Router::new()
        .route("/protected", get(protected_route))
        .route("/admin", get(admin))
        .merge(Auth::router())
        .layer(middleware::from_fn(log_request))
        .with_state(state);

    let listener = tokio::net::TcpListener::bind(&bind)
        .await
        .map_err(|e| format!("cannot listen on {bind}: {e}"))?;
    tracing::info!(
        "axum-users quickstart listening on http://{} (users in {database_url})",
        listener.local_addr().map_err(|e| e.to_string())?
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|e| e.to_string())
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .init();
    if let Err(err) = run().await {
        tracing::error!("{err}");
        std::process::exit(1);
    }
}
