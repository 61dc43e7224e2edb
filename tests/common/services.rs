//! PostgreSQL and Redis for the integration tests.
//!
//! Each suite that needs one asks here. When the service is unreachable, the test is skipped
//! with a line on the terminal saying how to enable it — except under CI (`CI` set), where an
//! unreachable service fails the test: CI must never pass by skipping.
//!
//! - PostgreSQL: `AUTH_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`).
//!   Every call gets a fresh schema of its own, so tests run in parallel without sharing tables.
//! - Redis: `AUTH_TEST_REDIS_URL` (default `redis://127.0.0.1:6379`). Tests isolate themselves
//!   with a key prefix of their own ([`unique_prefix`]).

use std::io::Write as _;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions as _, PgPool};

pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
pub const DEFAULT_REDIS_URL: &str = "redis://127.0.0.1:6379";

fn under_ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "0" && v != "false")
}

/// Skips (or, under CI, fails) the calling test because `service` is unreachable.
fn unavailable(service: &str, url: &str, variable: &str, err: &dyn std::fmt::Display) {
    let test = std::thread::current()
        .name()
        .unwrap_or("<unnamed test>")
        .to_owned();
    if under_ci() {
        panic!(
            "{test}: {service} is unreachable at {url} ({err}) and CI is set: \
             CI must run this test (.ci/run starts the service)"
        );
    }
    // Straight to the terminal: libtest captures `eprintln!`, not writes to the handle.
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED {test}: {service} unreachable at {url} ({err}); start it or set {variable}"
    );
}

/// A random lowercase suffix for schema names and key prefixes.
pub fn unique_suffix() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..12].to_owned()
}

/// A key prefix no other test uses, in fastapi-users' style (`fastapi_users_token:`).
pub fn unique_prefix() -> String {
    format!("axum_users_test_{}:", unique_suffix())
}

/// A PostgreSQL schema of the test's own.
pub struct PgSchema {
    /// The server URL (no schema).
    pub server_url: String,
    /// The schema's name.
    pub schema: String,
    /// A URL whose connections use the schema (`options=-c search_path=..`): give it to
    /// `PgStore::connect` or to a child process as `AUTH_DATABASE_URL`.
    pub url: String,
    /// An administrative pool on the schema, for counting rows and arranging data.
    pub pool: PgPool,
}

/// The PostgreSQL server URL tests use.
pub fn postgres_server_url() -> String {
    std::env::var("AUTH_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned())
}

/// `url` with `search_path` set to `schema` for every connection.
pub fn with_search_path(url: &str, schema: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}options=-c%20search_path%3D{schema}")
}

/// A fresh, empty schema on the test PostgreSQL; `None` (skipped) when it is unreachable.
pub async fn postgres() -> Option<PgSchema> {
    let server_url = postgres_server_url();
    let options: PgConnectOptions = match server_url.parse() {
        Ok(options) => options,
        Err(err) => panic!("AUTH_TEST_POSTGRES_URL {server_url:?} is not a PostgreSQL URL: {err}"),
    };
    let options = options.log_statements(tracing::log::LevelFilter::Off);
    let admin = match PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options.clone())
        .await
    {
        Ok(pool) => pool,
        Err(err) => {
            unavailable("PostgreSQL", &server_url, "AUTH_TEST_POSTGRES_URL", &err);
            return None;
        }
    };
    let schema = format!("axum_users_test_{}", unique_suffix());
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&admin)
        .await
        .expect("create a test schema");
    admin.close().await;
    let url = with_search_path(&server_url, &schema);
    let pool = PgPoolOptions::new()
        .max_connections(4)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options.options([("search_path", schema.as_str())]))
        .await
        .expect("connect to the test schema");
    Some(PgSchema {
        server_url,
        schema,
        url,
        pool,
    })
}

/// The Redis URL tests use; `None` (skipped) when Redis does not answer `PING`.
pub async fn redis() -> Option<String> {
    let url = std::env::var("AUTH_TEST_REDIS_URL").unwrap_or_else(|_| DEFAULT_REDIS_URL.to_owned());
    let ping = async {
        let client = redis::Client::open(url.as_str())?;
        let mut conn = client.get_multiplexed_async_connection().await?;
        redis::cmd("PING").query_async::<String>(&mut conn).await
    };
    match tokio::time::timeout(Duration::from_secs(5), ping).await {
        Ok(Ok(_)) => Some(url),
        Ok(Err(err)) => {
            unavailable("Redis", &url, "AUTH_TEST_REDIS_URL", &err);
            None
        }
        Err(_) => {
            unavailable(
                "Redis",
                &url,
                "AUTH_TEST_REDIS_URL",
                &"no answer within 5 s",
            );
            None
        }
    }
}

/// How many Redis keys start with `prefix`.
pub async fn redis_keys(url: &str, prefix: &str) -> usize {
    let client = redis::Client::open(url).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query_async(&mut conn)
        .await
        .unwrap();
    keys.len()
}
