//! The quickstart service: the generated auth routes, two guarded routes, an unguarded
//! `GET /health` and the OpenAPI document of all of them at `GET /openapi.json`, on SQLite by default, on PostgreSQL and Redis in production (several
//! instances can share them).
//!
//! ```text
//! cargo run --example quickstart
//! ```
//!
//! Environment:
//! - `AUTH_BIND` (default `127.0.0.1:8000`)
//! - `AUTH_DATABASE_URL` (default `sqlite://axum-users.db`, a file in the working directory;
//!   `postgres://user:password@host:port/db` for PostgreSQL)
//! - `AUTH_REDIS_URL=redis://host:port` (cookie sessions in Redis, shared by every instance)
//! - `AUTH_REDIS_PREFIX` (default `fastapi_users_token:`, fastapi-users' key prefix)
//! - `AUTH_RATE_LIMITS=off` (no brute-force limits: for benchmarks only; default on, counters
//!   in memory, or in Redis when `AUTH_REDIS_URL` is set, so that every instance counts
//!   together)
//! - `AUTH_RATE_LIMIT_PREFIX` (default `axum_users:`; the counters' Redis keys are
//!   `<prefix>ratelimit:<limit>:<sha256>`)
//! - `AUTH_TRUSTED_PROXIES=cidr,cidr` (reverse proxies whose `X-Forwarded-For` names the client
//!   for the per-client limits, e.g. `10.0.0.0/8,::1`; default none: the socket's peer)
//! - `AUTH_COOKIE_STRATEGY=jwt|database|redis` (default `redis` when `AUTH_REDIS_URL` is set,
//!   else `jwt`; `database` keeps the sessions in the SQL store's `accesstoken` table)
//! - `AUTH_SECRET` (at least 32 bytes; without it a random secret is generated, and tokens do
//!   not survive a restart)
//! - `AUTH_PREVIOUS_SECRETS="old1 old2"` (whitespace-separated, most recent first: secrets
//!   rotated out that still verify tokens until they expire; new tokens are signed with
//!   `AUTH_SECRET` and name its key id in their `kid` header)
//! - `AUTH_JWT_ISSUER=https://auth.example.com` (tokens carry this `iss`, and must; default:
//!   none, `iss` not looked at, as in fastapi-users)
//! - `AUTH_BOOTSTRAP_SUPERUSER=email:password` (creates that active superuser unless it exists)
//! - `AUTH_COOKIE_SECURE=false` (plain-http development: cookies without `Secure`)
//! - `AUTH_TRUSTED_ORIGINS=https://app.example.com,http://localhost:5173` (front ends on other
//!   origins whose cookie-authenticated POST/PUT/PATCH/DELETE requests and cookie logins are
//!   accepted; the service's own host always is; anything else answers 403 `CSRF_FAILED`)
//! - `AUTH_OUTBOX=path` (development mailer: one JSON line per verification or reset message);
//!   `AUTH_SMTP_HOST`, `AUTH_SMTP_PORT`, `AUTH_SMTP_USERNAME`, `AUTH_SMTP_PASSWORD`,
//!   `AUTH_SMTP_FROM`, `AUTH_SMTP_TLS` (real e-mail); neither: a log line without the token
//! - `AUTH_HEADER_READ_TIMEOUT` (seconds, default 10: a connection that has not sent a whole
//!   request head by then is closed, slow clients and idle keep-alive connections alike)
//! - `AUTH_BODY_TIMEOUT` (seconds, default 10: a slower body to an auth route gets 408)

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use axum_users::limits::limit_header_bytes;
use axum_users::prelude::*;
use axum_users::{
    AuthStateBuilder, InvalidPassword, PgStore, RateLimits, RedisRateLimiter, RedisTokenStore,
    Strategy, TokenStore,
};
use base64::Engine as _;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tower::ServiceExt as _;

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

#[utoipa::path(get, path = "/protected", tag = "app",
    responses((status = 200, description = "The user's e-mail", body = Object, example = json!({"email": "a@example.com"}))))]
#[protected]
async fn protected_route(user: CurrentUser) -> Json<Value> {
    Json(json!({ "email": user.email }))
}

#[utoipa::path(get, path = "/admin", tag = "app",
    responses((status = 200, description = "The superuser's e-mail", body = Object, example = json!({"email": "a@example.com"}))))]
#[protected(superuser)]
async fn admin(user: CurrentUser) -> Json<Value> {
    Json(json!({ "email": user.email }))
}

/// The application's own routes, described by `#[utoipa::path]`.
#[derive(utoipa::OpenApi)]
#[openapi(paths(protected_route, admin))]
struct AppDoc;

/// The generated routes' document, the application's routes, and the guards' security
/// requirements and answers (derived from the `#[protected(..)]` guards).
fn openapi_document() -> Value {
    use axum_users::openapi::{protect, Guard};
    use utoipa::openapi::HttpMethod;
    use utoipa::OpenApi as _;

    let mut doc = Auth::openapi();
    doc.merge(AppDoc::openapi());
    for (path, guard) in [
        ("/protected", Guard::of_handler(&protected_route)),
        ("/admin", Guard::of_handler(&admin)),
    ] {
        protect(&mut doc, Auth::BACKENDS, HttpMethod::Get, path, guard)
            .expect("the handler is documented");
    }
    doc.info.title = "axum-users quickstart".into();
    serde_json::to_value(doc).expect("the document serializes")
}

/// Unguarded liveness probe, answered without touching the auth layer or the log.
async fn health() -> Json<Value> {
    Json(json!({ "status": "ok" }))
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

/// Key rotation and issuer: `AUTH_PREVIOUS_SECRETS`, `AUTH_JWT_ISSUER`.
fn with_key_settings(mut builder: AuthStateBuilder) -> AuthStateBuilder {
    for previous in env("AUTH_PREVIOUS_SECRETS")
        .iter()
        .flat_map(|list| list.split_whitespace())
    {
        builder = builder.previous_secret(previous);
    }
    match env("AUTH_JWT_ISSUER") {
        Some(issuer) => builder.issuer(issuer),
        None => builder,
    }
}

/// The key ids in use (never the secrets: a key id reveals nothing about its key).
fn log_keys(state: &AuthState) {
    let keys = state.keys();
    let previous: Vec<&str> = keys.kids().skip(1).collect();
    let previous = match previous.is_empty() {
        true => "none".to_owned(),
        false => previous.join(", "),
    };
    tracing::info!(
        "JWT keys: {:?} key {} signs; previous keys verifying: {previous}; issuer: {}",
        keys.algorithm(),
        keys.kid(),
        keys.issuer().unwrap_or("none (iss not checked)")
    );
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
        // Another instance sharing the database created it between our lookup and our insert.
        Err(err) if err.body()["detail"] == "REGISTER_USER_ALREADY_EXISTS" => {
            tracing::info!("bootstrap superuser {email} already exists (created concurrently)");
            Ok(())
        }
        Err(err) => Err(format!(
            "cannot create the bootstrap superuser: {}",
            err.body()
        )),
    }
}

/// `url` without the secrets it may carry: the password of its user part and the values of
/// query parameters that look like credentials. For log lines.
fn redact_url(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let (before_query, query) = match rest.split_once('?') {
        Some((before, query)) => (before, Some(query)),
        None => (rest, None),
    };
    let authority_end = before_query.find('/').unwrap_or(before_query.len());
    let (authority, path) = before_query.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{user}:***@{host}"),
            None => format!("{userinfo}@{host}"),
        },
        None => authority.to_owned(),
    };
    let mut redacted = if scheme.is_empty() {
        format!("{authority}{path}")
    } else {
        format!("{scheme}://{authority}{path}")
    };
    if let Some(query) = query {
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((key, _))
                    if ["pass", "secret", "token", "key"]
                        .iter()
                        .any(|word| key.to_ascii_lowercase().contains(word)) =>
                {
                    format!("{key}=***")
                }
                _ => pair.to_owned(),
            })
            .collect();
        redacted = format!("{redacted}?{}", pairs.join("&"));
    }
    redacted
}

/// Where the cookie backend keeps its sessions (`AUTH_COOKIE_STRATEGY`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CookieStrategy {
    /// A signed JWT in the cookie; nothing stored.
    Jwt,
    /// An opaque token in the SQL store's `accesstoken` table.
    Database,
    /// An opaque token in Redis (`AUTH_REDIS_URL`).
    Redis,
}

fn cookie_strategy(redis_url: Option<&str>) -> Result<CookieStrategy, String> {
    match env("AUTH_COOKIE_STRATEGY").as_deref() {
        None if redis_url.is_some() => Ok(CookieStrategy::Redis),
        None => Ok(CookieStrategy::Jwt),
        Some("jwt") => Ok(CookieStrategy::Jwt),
        Some("database") => Ok(CookieStrategy::Database),
        Some("redis") if redis_url.is_some() => Ok(CookieStrategy::Redis),
        Some("redis") => {
            Err("AUTH_COOKIE_STRATEGY=redis needs AUTH_REDIS_URL (redis://host:port)".to_owned())
        }
        Some(other) => Err(format!(
            "AUTH_COOKIE_STRATEGY must be jwt, database or redis, not {other:?}"
        )),
    }
}

/// The user store (and, for the `database` strategy, the cookie sessions' store), by URL
/// scheme.
async fn with_sql_store(
    builder: AuthStateBuilder,
    database_url: &str,
    cookie: CookieStrategy,
) -> Result<AuthStateBuilder, String> {
    let shown = redact_url(database_url);
    if database_url.starts_with("postgres://") || database_url.starts_with("postgresql://") {
        let store = PgStore::connect(database_url)
            .await
            .map_err(|e| format!("cannot connect to PostgreSQL at {shown}: {e}"))?;
        tracing::info!("user store: PostgreSQL at {shown}");
        Ok(sql_tokens(builder, store, cookie))
    } else if database_url.starts_with("sqlite:") {
        let store = SqliteStore::connect(database_url)
            .await
            .map_err(|e| format!("cannot open {shown}: {e}"))?;
        tracing::info!("user store: SQLite at {shown}");
        Ok(sql_tokens(builder, store, cookie))
    } else {
        Err(format!(
            "AUTH_DATABASE_URL {shown:?}: expected sqlite://path (SQLite) or \
             postgres://user:password@host:port/db (PostgreSQL)"
        ))
    }
}

fn sql_tokens<S>(builder: AuthStateBuilder, store: S, cookie: CookieStrategy) -> AuthStateBuilder
where
    S: UserStore + TokenStore + Clone,
{
    if cookie == CookieStrategy::Database {
        builder
            .store(store.clone())
            .database_tokens(store)
            .strategy("cookie", Strategy::Database)
    } else {
        builder.store(store)
    }
}

/// The brute-force limits: `AUTH_RATE_LIMITS`, `AUTH_TRUSTED_PROXIES`, and their counters in
/// Redis when there is one.
async fn rate_limiting(
    mut builder: AuthStateBuilder,
    redis_url: Option<&str>,
) -> Result<AuthStateBuilder, String> {
    match env("AUTH_RATE_LIMITS").as_deref() {
        None | Some("on") => {}
        Some("off") => {
            tracing::warn!("AUTH_RATE_LIMITS=off: no brute-force limits (benchmarks only)");
            return Ok(builder.rate_limits(RateLimits::OFF));
        }
        Some(other) => return Err(format!("AUTH_RATE_LIMITS must be on or off, not {other:?}")),
    }
    if let Some(list) = env("AUTH_TRUSTED_PROXIES") {
        let proxies: Vec<&str> = list
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .collect();
        tracing::info!("trusted proxies: {}", proxies.join(", "));
        builder = builder.trusted_proxies(proxies);
    }
    match redis_url {
        Some(url) => {
            let shown = redact_url(url);
            let mut limiter = RedisRateLimiter::connect(url)
                .await
                .map_err(|e| format!("cannot connect to Redis at {shown}: {e}"))?;
            if let Some(prefix) = env("AUTH_RATE_LIMIT_PREFIX") {
                limiter = limiter.with_prefix(prefix);
            }
            tracing::info!(
                "rate limits: counters in Redis at {shown}, key prefix {:?}",
                limiter.prefix()
            );
            Ok(builder.rate_limiter(limiter))
        }
        None => {
            tracing::info!("rate limits: counters in memory (this instance only)");
            Ok(builder)
        }
    }
}

async fn run() -> Result<(), String> {
    let bind = env("AUTH_BIND").unwrap_or_else(|| "127.0.0.1:8000".into());
    let database_url = env("AUTH_DATABASE_URL").unwrap_or_else(|| "sqlite://axum-users.db".into());
    let redis_url = env("AUTH_REDIS_URL");
    let cookie = cookie_strategy(redis_url.as_deref())?;
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
    let mailer = axum_users::mailer_from_env().map_err(|e| e.to_string())?;
    let builder = AuthState::builder::<Auth>()
        .secret(secret)
        .manager(Policy)
        .cookie_secure(cookie_secure)
        .shared_mailer(mailer)
        .verify_on_register(true)
        .body_timeout(Duration::from_secs(seconds("AUTH_BODY_TIMEOUT", 10)?));
    let builder = with_key_settings(builder);
    let mut builder = with_sql_store(builder, &database_url, cookie).await?;
    match (cookie, &redis_url) {
        (CookieStrategy::Redis, Some(url)) => {
            let shown = redact_url(url);
            let prefix = env("AUTH_REDIS_PREFIX").unwrap_or_else(|| "fastapi_users_token:".into());
            let tokens = RedisTokenStore::connect(url)
                .await
                .map_err(|e| format!("cannot connect to Redis at {shown}: {e}"))?
                .with_prefix(prefix.as_str());
            tracing::info!("cookie sessions: redis strategy at {shown}, key prefix {prefix:?}");
            builder = builder
                .redis_tokens(tokens)
                .strategy("cookie", Strategy::Redis);
        }
        (CookieStrategy::Database, _) => {
            tracing::info!("cookie sessions: database strategy (table accesstoken)");
        }
        (_, redis) => {
            tracing::info!("cookie sessions: jwt strategy (stateless signed tokens)");
            if redis.is_some() {
                tracing::warn!("AUTH_REDIS_URL is set but unused: AUTH_COOKIE_STRATEGY=jwt");
            }
        }
    }
    tracing::info!("bearer tokens: jwt strategy (stateless signed tokens)");
    let builder = rate_limiting(builder, redis_url.as_deref()).await?;
    let builder = match env("AUTH_TRUSTED_ORIGINS") {
        Some(list) => {
            let origins: Vec<&str> = list
                .split(',')
                .map(str::trim)
                .filter(|o| !o.is_empty())
                .collect();
            builder.trusted_origins(origins)
        }
        None => builder,
    };
    let state = builder.build().map_err(|e| e.to_string())?;
    let origins: Vec<&str> = state.trusted_origins().collect();
    if !origins.is_empty() {
        tracing::info!("CSRF: trusted origins {}", origins.join(", "));
    }
    log_keys(&state);
    if let Some(spec) = env("AUTH_BOOTSTRAP_SUPERUSER") {
        bootstrap_superuser(&state, &spec).await?;
    }

    let document = Json(openapi_document());
    let app = Router::new()
        .route("/protected", get(protected_route))
        .route("/admin", get(admin))
        .merge(Auth::router())
        .layer(middleware::from_fn(log_request))
        // After the log layer: health probes are not logged.
        .route("/health", get(health))
        .route("/openapi.json", get(move || async move { document }))
        .with_state(state);

    let listener = tokio::net::TcpListener::bind(&bind)
        .await
        .map_err(|e| format!("cannot listen on {bind}: {e}"))?;
    tracing::info!(
        "axum-users quickstart listening on http://{} (users in {})",
        listener.local_addr().map_err(|e| e.to_string())?,
        redact_url(&database_url)
    );
    let header_timeout = Duration::from_secs(seconds("AUTH_HEADER_READ_TIMEOUT", 10)?);
    // Oversized headers get 431 on every route, not only the generated ones.
    serve(
        listener,
        app.layer(middleware::from_fn(limit_header_bytes)),
        header_timeout,
    )
    .await
}

/// A whole number of seconds from the environment variable `name`, `default` when unset.
fn seconds(name: &str, default: u64) -> Result<u64, String> {
    match env(name) {
        None => Ok(default),
        Some(value) => match value.parse::<u64>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(format!(
                "{name} must be a positive number of seconds, not {value:?}"
            )),
        },
    }
}

/// Serves `app` over HTTP/1.1 until Ctrl-C, then lets the open requests finish (at most 30 s).
///
/// `axum::serve` sets no header read timeout, so a client sending its headers one byte at a
/// time would hold a connection forever: this loop gives hyper a timer and closes a
/// connection that has not delivered a complete request head within `header_timeout` (an
/// idle keep-alive connection included). Bodies of the auth routes are bounded by the
/// state's `body_timeout` and `max_body_bytes`; headers by hyper's 64 KiB read buffer (431
/// beyond it) and the 16 KiB `limit_header_bytes` layer. Each request carries
/// `ConnectInfo<SocketAddr>` (per-client rate limits).
async fn serve(listener: TcpListener, app: Router, header_timeout: Duration) -> Result<(), String> {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .max_buf_size(64 * 1024);
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(async {
        let _ = tokio::signal::ctrl_c().await;
    });
    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors, usually: let connections close, then go on.
                    tracing::warn!("accept failed: {err}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
            request
                .extensions_mut()
                .insert(ConnectInfo::<SocketAddr>(remote));
            app.clone().oneshot(request.map(Body::new))
        });
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::debug!("connection from {remote} ended: {err}");
            }
        });
    }
    tracing::info!("shutting down: letting open requests finish");
    if tokio::time::timeout(Duration::from_secs(30), graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("some connections were still open after 30 s");
    }
    Ok(())
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
