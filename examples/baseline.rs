//! The hand-written baseline of the load benchmark (`bench/load.sh`): the quickstart's
//! authentication work done by hand with axum, jsonwebtoken, sqlx and argon2, and nothing else.
//!
//! ```text
//! AUTH_SECRET=... AUTH_DATABASE_URL=sqlite://bench.db cargo run --release --example baseline
//! ```
//!
//! Routes (the same as the quickstart's):
//! - `GET /health`: `{"status":"ok"}`, unguarded;
//! - `GET /protected`: the HS256 JWT of `Authorization: Bearer`, else of the cookie
//!   `fastapiusersauth` (audience `fastapi-users:auth`, `exp`, `sub` required), then the user
//!   read by id from the `user` table; `{"email": ...}`, or 401 `{"detail":"Unauthorized"}`;
//! - `GET /users/me`: the same, answering the user's JSON;
//! - `POST /auth/jwt/login`: form `username`, `password`; the user read by e-mail, the argon2
//!   hash verified on the blocking pool (parameters read from the stored hash), a JWT issued.
//!
//! Environment: `BASELINE_BIND` (default `127.0.0.1:8001`), `AUTH_DATABASE_URL` (default
//! `sqlite://axum-users.db`, an existing quickstart database), `AUTH_SECRET` (required).
//!
//! `baseline argon2-time N` instead verifies the stored password of `BENCH_EMAIL` /
//! `BENCH_PASSWORD` N times with the argon2 crate alone and prints the median in milliseconds:
//! the bare hashing time the benchmark compares login latency with.

use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::PasswordVerifier as _;
use argon2::Argon2;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use sqlx::Row;
use uuid::Uuid;

const AUDIENCE: &str = "fastapi-users:auth";
const LIFETIME: u64 = 3600;

struct App {
    pool: SqlitePool,
    decoding: DecodingKey,
    encoding: EncodingKey,
    validation: Validation,
}

#[derive(Deserialize)]
struct Claims {
    sub: String,
}

#[derive(Serialize)]
struct NewClaims<'a> {
    sub: String,
    aud: [&'a str; 1],
    exp: u64,
}

#[derive(Serialize)]
struct UserJson {
    id: String,
    email: String,
    #[serde(skip)]
    hashed_password: String,
    is_active: bool,
    is_superuser: bool,
    is_verified: bool,
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
}

const SELECT: &str =
    r#"SELECT id, email, hashed_password, is_active, is_superuser, is_verified FROM "user""#;

fn row_to_user(row: sqlx::sqlite::SqliteRow) -> Result<UserJson, sqlx::Error> {
    Ok(UserJson {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        hashed_password: row.try_get("hashed_password")?,
        is_active: row.try_get("is_active")?,
        is_superuser: row.try_get("is_superuser")?,
        is_verified: row.try_get("is_verified")?,
    })
}

fn unauthorized() -> Response {
    let mut response = (
        StatusCode::UNAUTHORIZED,
        Json(json!({"detail": "Unauthorized"})),
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

fn unavailable() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({"detail": "SERVICE_UNAVAILABLE"})),
    )
        .into_response()
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

fn cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == "fastapiusersauth")
        .map(|(_, v)| v)
}

/// The active user of the request's bearer token, else of its cookie.
async fn current_user(app: &App, headers: &HeaderMap) -> Result<UserJson, Response> {
    for token in [bearer(headers), cookie(headers)].into_iter().flatten() {
        let Ok(data) = decode::<Claims>(token, &app.decoding, &app.validation) else {
            continue;
        };
        let Ok(id) = Uuid::parse_str(&data.claims.sub) else {
            continue;
        };
        let row = sqlx::query(&format!("{SELECT} WHERE id = $1"))
            .bind(id.hyphenated().to_string())
            .fetch_optional(&app.pool)
            .await
            .map_err(|_| unavailable())?;
        if let Some(row) = row {
            let user = row_to_user(row).map_err(|_| unavailable())?;
            return if user.is_active {
                Ok(user)
            } else {
                Err(unauthorized())
            };
        }
    }
    Err(unauthorized())
}

async fn health() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

async fn protected(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    match current_user(&app, &headers).await {
        Ok(user) => Json(json!({"email": user.email})).into_response(),
        Err(rejection) => rejection,
    }
}

async fn me(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    match current_user(&app, &headers).await {
        Ok(user) => Json(user).into_response(),
        Err(rejection) => rejection,
    }
}

async fn login(State(app): State<Arc<App>>, Form(form): Form<LoginForm>) -> Response {
    let bad = || {
        (
            StatusCode::BAD_REQUEST,
            Json(json!({"detail": "LOGIN_BAD_CREDENTIALS"})),
        )
            .into_response()
    };
    let row = match sqlx::query(&format!("{SELECT} WHERE lower(email) = lower($1) LIMIT 1"))
        .bind(&form.username)
        .fetch_optional(&app.pool)
        .await
    {
        Ok(Some(row)) => row,
        Ok(None) => return bad(),
        Err(_) => return unavailable(),
    };
    let Ok(user) = row_to_user(row) else {
        return unavailable();
    };
    let hash = user.hashed_password.clone();
    let verified = tokio::task::spawn_blocking(move || verify(&form.password, &hash)).await;
    if !matches!(verified, Ok(true)) || !user.is_active {
        return bad();
    }
    let exp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
        + LIFETIME;
    let claims = NewClaims {
        sub: user.id,
        aud: [AUDIENCE],
        exp,
    };
    match encode(&Header::new(Algorithm::HS256), &claims, &app.encoding) {
        Ok(token) => Json(json!({"access_token": token, "token_type": "bearer"})).into_response(),
        Err(_) => unavailable(),
    }
}

/// argon2 verification with the parameters the PHC string carries.
fn verify(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

async fn connect(url: &str) -> SqlitePool {
    let options = SqliteConnectOptions::from_str(url)
        .expect("AUTH_DATABASE_URL")
        .journal_mode(SqliteJournalMode::Wal)
        .busy_timeout(Duration::from_secs(5))
        .foreign_keys(true);
    SqlitePoolOptions::new()
        .max_connections(8)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options)
        .await
        .expect("cannot open the database")
}

/// `argon2-time N`: the median of N verifications of the stored hash, in milliseconds.
async fn argon2_time(pool: &SqlitePool, rounds: usize) {
    let email = std::env::var("BENCH_EMAIL").expect("BENCH_EMAIL");
    let password = std::env::var("BENCH_PASSWORD").expect("BENCH_PASSWORD");
    let hash: String = sqlx::query_scalar(r#"SELECT hashed_password FROM "user" WHERE email = $1"#)
        .bind(&email)
        .fetch_one(pool)
        .await
        .expect("BENCH_EMAIL is not in the database");
    let mut times = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let started = Instant::now();
        assert!(verify(&password, &hash), "BENCH_PASSWORD does not verify");
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    println!("{:.3}", times[times.len() / 2]);
}

#[tokio::main]
async fn main() {
    let url =
        std::env::var("AUTH_DATABASE_URL").unwrap_or_else(|_| "sqlite://axum-users.db".into());
    let pool = connect(&url).await;
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("argon2-time") {
        let rounds = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(20);
        argon2_time(&pool, rounds).await;
        return;
    }
    let secret = std::env::var("AUTH_SECRET").expect("AUTH_SECRET must be set");
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_audience(&[AUDIENCE]);
    validation.set_required_spec_claims(&["exp", "aud", "sub"]);
    validation.leeway = 0;
    let app = Arc::new(App {
        pool,
        decoding: DecodingKey::from_secret(secret.as_bytes()).expect("AUTH_SECRET"),
        encoding: EncodingKey::from_secret(secret.as_bytes()).expect("AUTH_SECRET"),
        validation,
    });
    let router = Router::new()
        .route("/health", get(health))
        .route("/protected", get(protected))
        .route("/users/me", get(me))
        .route("/auth/jwt/login", post(login))
        .with_state(app);
    let bind = std::env::var("BASELINE_BIND").unwrap_or_else(|_| "127.0.0.1:8001".into());
    let listener = tokio::net::TcpListener::bind(&bind).await.expect("bind");
    println!("baseline listening on http://{bind}");
    axum::serve(listener, router)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .expect("serve");
}
