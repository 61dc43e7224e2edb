//! axum-users serving databases written by fastapi-users 15 itself (SQLAlchemy adapter, with
//! `DatabaseStrategy` `accesstoken` rows), as they are: a SQLite file and a PostgreSQL dump,
//! made by `tests/fixtures/fastapi_users/make_db_fixtures.py` with the real package. What
//! fastapi-users answered on the same data is in `fastapi_users_db_answers.json`; the answers
//! are compared where the test re-creates the same situation.
//!
//! Every check runs twice: on a copy of the SQLite file and on the dump loaded into a fresh
//! PostgreSQL schema (skipped locally when PostgreSQL is unreachable, failing under CI).
//!
//! On demand, fastapi-users itself reads back the `accesstoken` rows axum-users writes: set
//! `FASTAPI_USERS_PYTHON` to the interpreter of a venv with fastapi-users (see the docstring of
//! `make_db_fixtures.py`), e.g. `FASTAPI_USERS_PYTHON=/tmp/fu-db/bin/python cargo test --test
//! fastapi_users_db`. Without it, that one step is left out (CI does not install fastapi-users).

mod common;

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::{Method, Request, StatusCode};
use axum::routing::get;
use axum::{Json, Router};
use axum_users::prelude::*;
use axum_users::{PgStore, TokenStore};
use common::{get_bearer, login_form, post_form, post_json, post_with, send, services};
use serde_json::{json, Value};
use sqlx::postgres::PgPool;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};
use uuid::Uuid;

/// The fixture's backends: fastapi-users' `db` (bearer + DatabaseStrategy) and `jwt` (bearer +
/// JWTStrategy), both with its lifetime of 3600 s.
#[derive(AuthConfig)]
#[allow(clippy::duplicated_attributes)] // rust-lang/rust-clippy#13238
#[backend(jwt, name = "db", strategy = database, lifetime = 3600)]
#[backend(jwt, name = "jwt", lifetime = 3600)]
struct Auth;

const LIFETIME: u64 = 3600;

#[protected(backends("db"))]
async fn db_only(user: CurrentUser) -> Json<Value> {
    Json(json!({ "email": user.email }))
}

#[protected(backends("jwt"))]
async fn jwt_only(user: CurrentUser) -> Json<Value> {
    Json(json!({ "email": user.email }))
}

#[protected(superuser, backends("db"))]
async fn admin(user: CurrentUser) -> Json<Value> {
    Json(json!({ "email": user.email }))
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/fastapi_users")
        .join(name)
}

fn answers() -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(fixture("fastapi_users_db_answers.json")).unwrap(),
    )
    .unwrap()
}

/// Direct access to the database, beside the store.
enum Raw {
    Sqlite(SqlitePool),
    Pg(PgPool),
}

/// One fixture database served by axum-users.
struct Served {
    app: Router,
    store: Box<dyn UserStore>,
    raw: Raw,
    /// The fixture's section of the answers (`sqlite` or `postgres`).
    fixture: Value,
    /// Column/constraint/index snapshots before and after the store connected.
    schema_before: Schema,
    schema_after: Schema,
    /// Where the database is, for fastapi-users' read-back.
    location: Location,
    _dir: Option<tempfile::TempDir>,
}

enum Location {
    Sqlite(PathBuf),
    Pg { server_url: String, schema: String },
}

#[derive(Debug, PartialEq)]
struct Schema {
    /// Table DDL or columns (name, position, type, length, nullability, default): must not change.
    columns: Vec<String>,
    /// Keys and foreign keys: must not change.
    constraints: Vec<String>,
    /// Indexes: the fixture's must all remain, and only `ix_user_email_lower` may be added.
    indexes: Vec<String>,
}

fn app_for(state: AuthState) -> Router {
    Router::new()
        .route("/db", get(db_only))
        .route("/jwt", get(jwt_only))
        .route("/admin", get(admin))
        .merge(Auth::router())
        .with_state(state)
}

fn state_for<S: UserStore + TokenStore + Clone>(store: &S, secret: &str) -> AuthState {
    // The default hasher: argon2id with fastapi-users' parameters, so that its hashes are not
    // re-hashed on login and upgraded bcrypt hashes look like fastapi-users' own.
    AuthState::builder::<Auth>()
        .secret(secret)
        .store(store.clone())
        .database_tokens(store.clone())
        .build()
        .unwrap()
}

impl Served {
    async fn sqlite() -> Served {
        let all = answers();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fastapi_users_tokens.db");
        std::fs::copy(fixture("fastapi_users_tokens.db"), &path).unwrap();
        let raw = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(
                SqliteConnectOptions::new()
                    .filename(&path)
                    .busy_timeout(Duration::from_secs(5)),
            )
            .await
            .unwrap();
        let raw = Raw::Sqlite(raw);
        let schema_before = raw.schema().await;
        let store = SqliteStore::connect(&format!("sqlite://{}", path.display()))
            .await
            .unwrap();
        let schema_after = raw.schema().await;
        let app = app_for(state_for(&store, all["secret"].as_str().unwrap()));
        Served {
            app,
            store: Box::new(store),
            raw,
            fixture: all["sqlite"].clone(),
            schema_before,
            schema_after,
            location: Location::Sqlite(path),
            _dir: Some(dir),
        }
    }

    async fn postgres() -> Option<Served> {
        let all = answers();
        let pg = services::postgres().await?;
        let dump = std::fs::read_to_string(fixture("fastapi_users_pg.sql")).unwrap();
        // The dump is schema-free: it lands in the test's schema, first on the search_path.
        sqlx::raw_sql(&dump).execute(&pg.pool).await.unwrap();
        let raw = Raw::Pg(pg.pool.clone());
        let schema_before = raw.schema().await;
        assert!(
            schema_before
                .columns
                .iter()
                .any(|c| c.starts_with("accesstoken.created_at ")),
            "the dump was loaded into the test schema: {schema_before:?}"
        );
        let store = PgStore::connect(&pg.url).await.unwrap();
        let schema_after = raw.schema().await;
        let app = app_for(state_for(&store, all["secret"].as_str().unwrap()));
        Some(Served {
            app,
            store: Box::new(store),
            raw,
            fixture: all["postgres"].clone(),
            schema_before,
            schema_after,
            location: Location::Pg {
                server_url: pg.server_url.clone(),
                schema: pg.schema.clone(),
            },
            _dir: None,
        })
    }

    fn user(&self, key: &str) -> &Value {
        &self.fixture["users"][key]
    }

    fn email(&self, key: &str) -> &str {
        self.user(key)["email"].as_str().unwrap()
    }

    fn password(&self, key: &str) -> &str {
        self.user(key)["password"].as_str().unwrap()
    }

    fn id(&self, key: &str) -> Uuid {
        self.user(key)["id"].as_str().unwrap().parse().unwrap()
    }

    /// A token fastapi-users wrote to `accesstoken` at login.
    fn db_token(&self, name: &str) -> &str {
        self.fixture["db_tokens"][name]["token"].as_str().unwrap()
    }

    /// fastapi-users' (status, body) for the observation `name`.
    fn observed(&self, name: &str) -> (u16, Value) {
        let found = self.fixture["observed"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["name"] == name)
            .unwrap_or_else(|| panic!("no observation {name:?}"));
        (
            found["status"].as_u64().unwrap() as u16,
            found["response_body"].clone(),
        )
    }

    async fn login(&self, backend: &str, email: &str, password: &str) -> (StatusCode, Value) {
        let (status, _, body) = send(
            &self.app,
            post_form(
                &format!("/auth/{backend}/login"),
                login_form(email, password),
            ),
        )
        .await;
        (status, body)
    }

    async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        let (status, _, body) = send(&self.app, get_bearer(path, token)).await;
        (status, body)
    }

    /// fastapi-users' own `DatabaseStrategy.read_token` on `token` (`make_db_fixtures.py
    /// read-back`): its user as `{"id", "email"}`, or `null`. `None` when `FASTAPI_USERS_PYTHON`
    /// is not set.
    fn fastapi_users_reads(&self, token: &str) -> Option<Value> {
        let python = std::env::var_os("FASTAPI_USERS_PYTHON")?;
        let mut command = std::process::Command::new(python);
        command
            .arg(fixture("make_db_fixtures.py"))
            .args(["read-back", "--token", token, "--url"]);
        match &self.location {
            Location::Sqlite(path) => {
                command.arg(format!("sqlite+aiosqlite:///{}", path.display()));
            }
            Location::Pg { server_url, schema } => {
                let rest = server_url
                    .split_once("://")
                    .map_or(server_url.as_str(), |(_, rest)| rest);
                command
                    .arg(format!("postgresql+asyncpg://{rest}"))
                    .args(["--schema", schema]);
            }
        }
        let output = command.output().expect("run FASTAPI_USERS_PYTHON");
        assert!(
            output.status.success(),
            "fastapi-users read-back failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        Some(serde_json::from_slice(&output.stdout).expect("JSON from read-back"))
    }

    /// Every `accesstoken` row is made `seconds` old (the fixture's rows are as old as the
    /// fixture).
    async fn age_all_tokens(&self, seconds: u64) {
        self.raw.age_tokens(None, seconds).await;
    }

    async fn age_token(&self, token: &str, seconds: u64) {
        self.raw.age_tokens(Some(token), seconds).await;
    }
}

/// `t` as SQLAlchemy writes a UTC datetime to SQLite: `YYYY-MM-DD HH:MM:SS.ffffff`.
fn sqlite_utc_text(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap();
    let secs = d.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}.{:06}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_micros()
    )
}

/// Whether `s` has the shape of fastapi-users' SQLite timestamps.
fn is_sqlalchemy_sqlite_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 26
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b' ',
            13 | 16 => *c == b':',
            19 => *c == b'.',
            _ => c.is_ascii_digit(),
        })
}

impl Raw {
    async fn strings(&self, sql: &str) -> Vec<String> {
        match self {
            Raw::Sqlite(pool) => sqlx::query_scalar(sql).fetch_all(pool).await.unwrap(),
            Raw::Pg(pool) => sqlx::query_scalar(sql).fetch_all(pool).await.unwrap(),
        }
    }

    async fn schema(&self) -> Schema {
        match self {
            Raw::Sqlite(_) => Schema {
                columns: [
                    self.strings(
                        "SELECT sql FROM sqlite_master WHERE type = 'table' ORDER BY name",
                    )
                    .await,
                    self.strings(
                        "SELECT m.name || '.' || p.name || ' ' || p.cid || ' ' || p.type || ' notnull=' \
                         || p.\"notnull\" || ' default=' || coalesce(p.dflt_value, '') || ' pk=' || p.pk \
                         FROM sqlite_master m, pragma_table_info(m.name) p \
                         WHERE m.type = 'table' ORDER BY m.name, p.cid",
                    )
                    .await,
                ]
                .concat(),
                constraints: self
                    .strings(
                        "SELECT m.name || ' ' || f.\"from\" || ' -> ' || f.\"table\" || '(' || f.\"to\" \
                         || ') on delete ' || f.on_delete \
                         FROM sqlite_master m, pragma_foreign_key_list(m.name) f \
                         WHERE m.type = 'table' ORDER BY 1",
                    )
                    .await,
                indexes: self
                    .strings(
                        "SELECT name || ' ' || coalesce(sql, '') FROM sqlite_master \
                         WHERE type = 'index' ORDER BY name",
                    )
                    .await,
            },
            Raw::Pg(_) => Schema {
                columns: self
                    .strings(
                        "SELECT table_name || '.' || column_name || ' ' || ordinal_position || ' ' \
                         || data_type || ' ' || coalesce(character_maximum_length::text, '-') \
                         || ' nullable=' || is_nullable || ' default=' || coalesce(column_default, '') \
                         FROM information_schema.columns WHERE table_schema = current_schema() \
                         ORDER BY table_name, ordinal_position",
                    )
                    .await,
                constraints: self
                    .strings(
                        "SELECT conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid) \
                         FROM pg_constraint WHERE connamespace = current_schema()::regnamespace \
                         ORDER BY 1",
                    )
                    .await,
                indexes: self
                    .strings(
                        "SELECT indexname || ' ' || indexdef FROM pg_indexes \
                         WHERE schemaname = current_schema() ORDER BY 1",
                    )
                    .await,
            },
        }
    }

    /// Sets `created_at` of `token` (every row when `None`) to `seconds` ago, in the database's
    /// own representation (SQLite: SQLAlchemy's naive UTC text).
    async fn age_tokens(&self, token: Option<&str>, seconds: u64) {
        let changed = match self {
            Raw::Sqlite(pool) => {
                let when = sqlite_utc_text(SystemTime::now() - Duration::from_secs(seconds));
                sqlx::query("UPDATE accesstoken SET created_at = $1 WHERE $2 IS NULL OR token = $2")
                    .bind(when)
                    .bind(token)
                    .execute(pool)
                    .await
                    .unwrap()
                    .rows_affected()
            }
            Raw::Pg(pool) => sqlx::query(
                "UPDATE accesstoken SET created_at = now() - make_interval(secs => $1) \
                 WHERE $2::text IS NULL OR token = $2",
            )
            .bind(seconds as f64)
            .bind(token)
            .execute(pool)
            .await
            .unwrap()
            .rows_affected(),
        };
        assert!(changed >= 1, "no accesstoken row {token:?}");
    }

    async fn hashed_password(&self, id: Uuid) -> String {
        match self {
            Raw::Sqlite(pool) => {
                sqlx::query_scalar(r#"SELECT hashed_password FROM "user" WHERE id = $1"#)
                    .bind(id.to_string())
                    .fetch_one(pool)
                    .await
                    .unwrap()
            }
            Raw::Pg(pool) => {
                sqlx::query_scalar(r#"SELECT hashed_password FROM "user" WHERE id = $1"#)
                    .bind(id)
                    .fetch_one(pool)
                    .await
                    .unwrap()
            }
        }
    }

    async fn count(&self, sql: &str, id: Option<Uuid>) -> i64 {
        match self {
            Raw::Sqlite(pool) => {
                let mut q = sqlx::query_scalar(sql);
                if let Some(id) = id {
                    q = q.bind(id.to_string());
                }
                q.fetch_one(pool).await.unwrap()
            }
            Raw::Pg(pool) => {
                let mut q = sqlx::query_scalar(sql);
                if let Some(id) = id {
                    q = q.bind(id);
                }
                q.fetch_one(pool).await.unwrap()
            }
        }
    }

    async fn users(&self) -> i64 {
        self.count(r#"SELECT count(*) FROM "user""#, None).await
    }

    async fn user_exists(&self, id: Uuid) -> bool {
        self.count(r#"SELECT count(*) FROM "user" WHERE id = $1"#, Some(id))
            .await
            == 1
    }

    async fn tokens_of(&self, id: Uuid) -> i64 {
        self.count(
            "SELECT count(*) FROM accesstoken WHERE user_id = $1",
            Some(id),
        )
        .await
    }

    /// The row of `token`: (user_id as text, created_at as stored, its storage type, its age in
    /// seconds by the database's clock).
    async fn token_row(&self, token: &str) -> Option<(String, String, String, f64)> {
        match self {
            Raw::Sqlite(pool) => sqlx::query_as(
                "SELECT user_id, created_at, typeof(created_at), \
                 (julianday('now') - julianday(created_at)) * 86400.0 \
                 FROM accesstoken WHERE token = $1",
            )
            .bind(token)
            .fetch_optional(pool)
            .await
            .unwrap(),
            Raw::Pg(pool) => sqlx::query_as(
                "SELECT user_id::text, created_at::text, pg_typeof(created_at)::text, \
                 extract(epoch from now() - created_at)::float8 \
                 FROM accesstoken WHERE token = $1",
            )
            .bind(token)
            .fetch_optional(pool)
            .await
            .unwrap(),
        }
    }
}

/// Runs `$check` on the SQLite fixture and on the PostgreSQL fixture.
macro_rules! on_both_databases {
    ($($check:ident),* $(,)?) => {$(
        mod $check {
            #[tokio::test]
            async fn sqlite() {
                super::$check(super::Served::sqlite().await).await;
            }

            #[tokio::test]
            async fn postgres() {
                if let Some(served) = super::Served::postgres().await {
                    super::$check(served).await;
                }
            }
        }
    )*};
}

on_both_databases!(
    schema_is_left_as_it_is,
    argon2_users_log_in_and_keep_their_hash,
    bcrypt_hash_is_upgraded_to_argon2id_on_login,
    wrong_passwords_and_the_inactive_user_are_bad_credentials,
    fastapi_users_token_rows_authenticate_while_fresh,
    logout_deletes_the_row,
    jwt_minted_by_fastapi_users_is_accepted,
    tokens_written_have_fastapi_users_shape,
    deleting_a_user_cascades_its_tokens,
    registration_in_another_case_is_refused,
);

async fn schema_is_left_as_it_is(db: Served) {
    let (before, after) = (&db.schema_before, &db.schema_after);
    assert_eq!(
        before.columns, after.columns,
        "tables and columns unchanged"
    );
    assert_eq!(
        before.constraints, after.constraints,
        "keys and foreign keys unchanged"
    );
    for index in &before.indexes {
        assert!(
            after.indexes.contains(index),
            "index {index} kept as it was; now {:?}",
            after.indexes
        );
    }
    // The one addition: a unique index on lower(email), for case-insensitive uniqueness (an
    // index, not a column or type change; fastapi-users' SQL keeps working).
    let added: Vec<&String> = after
        .indexes
        .iter()
        .filter(|index| !before.indexes.contains(index))
        .collect();
    assert!(
        added.len() <= 1
            && added.iter().all(|index| {
                index.starts_with("ix_user_email_lower CREATE UNIQUE INDEX ")
                    && index.contains("lower(")
            }),
        "indexes added: {added:?}"
    );
    // fastapi-users' layout, as the fixture has it.
    let columns = after.columns.join("\n");
    let constraints = after.constraints.join("\n");
    match db.raw {
        Raw::Sqlite(_) => {
            for expected in [
                "user.id 0 CHAR(36) notnull=1 default= pk=1",
                "user.email 1 VARCHAR(320) notnull=1 default= pk=0",
                "user.hashed_password 2 VARCHAR(1024) notnull=1 default= pk=0",
                "user.is_active 3 BOOLEAN notnull=1 default= pk=0",
                "accesstoken.token 1 VARCHAR(43) notnull=1 default= pk=1",
                "accesstoken.created_at 2 TIMESTAMP notnull=1 default= pk=0",
                "accesstoken.user_id 0 CHAR(36) notnull=1 default= pk=0",
            ] {
                assert!(columns.contains(expected), "{expected} in\n{columns}");
            }
            assert!(
                constraints.contains("accesstoken user_id -> user(id) on delete CASCADE"),
                "{constraints}"
            );
        }
        Raw::Pg(_) => {
            for expected in [
                "user.id 1 uuid - nullable=NO default=",
                "user.email 2 character varying 320 nullable=NO default=",
                "user.hashed_password 3 character varying 1024 nullable=NO default=",
                "user.is_verified 6 boolean - nullable=NO default=",
                "accesstoken.user_id 1 uuid - nullable=NO default=",
                "accesstoken.token 2 character varying 43 nullable=NO default=",
                "accesstoken.created_at 3 timestamp with time zone - nullable=NO default=",
            ] {
                assert!(columns.contains(expected), "{expected} in\n{columns}");
            }
            assert!(
                constraints.contains(
                    "accesstoken_user_id_fkey FOREIGN KEY (user_id) REFERENCES \"user\"(id) ON DELETE CASCADE"
                ),
                "{constraints}"
            );
        }
    }
    // The data too: fastapi-users' rows are all there.
    assert_eq!(db.raw.users().await, 5);
    for key in ["arthur", "legacy", "inactive", "admin", "gawain"] {
        assert_eq!(
            db.raw.hashed_password(db.id(key)).await,
            db.user(key)["hashed_password"].as_str().unwrap(),
            "{key}'s stored hash"
        );
    }
}

async fn argon2_users_log_in_and_keep_their_hash(db: Served) {
    for (key, email) in [
        ("arthur", db.email("arthur").to_owned()),
        ("arthur", db.email("arthur").to_lowercase()),
        ("admin", db.email("admin").to_owned()),
        ("gawain", db.email("gawain").to_owned()),
    ] {
        let hash = db.user(key)["hashed_password"].as_str().unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=65536,t=3,p=4$"),
            "{hash}"
        );
        let (status, body) = db.login("db", &email, db.password(key)).await;
        let (their_status, their_body) = db.observed(&format!(
            "login {key}{}",
            if email == db.email(key) {
                ""
            } else {
                " lower-case"
            }
        ));
        assert_eq!(status.as_u16(), their_status, "{email}: {body}");
        assert_eq!(body["token_type"], their_body["token_type"]);
        let token = body["access_token"].as_str().unwrap();
        assert_eq!(
            db.get("/db", token).await,
            (StatusCode::OK, json!({"email": db.email(key)}))
        );
        // Same parameters as the current hasher: not re-hashed, as in fastapi-users.
        assert_eq!(db.raw.hashed_password(db.id(key)).await, hash);
        // The jwt backend logs in on the same rows.
        let (status, body) = db.login("jwt", &email, db.password(key)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let jwt = body["access_token"].as_str().unwrap();
        assert_eq!(db.get("/jwt", jwt).await.0, StatusCode::OK);
    }
}

async fn bcrypt_hash_is_upgraded_to_argon2id_on_login(db: Served) {
    let id = db.id("legacy");
    let before = db.raw.hashed_password(id).await;
    assert!(before.starts_with("$2b$12$"), "fixture hash: {before}");
    assert_eq!(
        before,
        db.fixture["observed_facts"]["legacy_hash_before_login"]
    );

    let (status, body) = db.login("db", db.email("legacy"), "wrong-password").await;
    assert_eq!(
        (status.as_u16(), body.clone()),
        db.observed("login legacy wrong password")
    );
    assert_eq!(
        db.raw.hashed_password(id).await,
        before,
        "no upgrade on a failure"
    );

    let (status, body) = db
        .login("db", db.email("legacy"), db.password("legacy"))
        .await;
    assert_eq!(
        status.as_u16(),
        db.observed("login legacy bcrypt").0,
        "{body}"
    );
    let after = db.raw.hashed_password(id).await;
    let theirs = db.fixture["observed_facts"]["legacy_hash_after_login"]
        .as_str()
        .unwrap();
    assert!(
        after.starts_with("$argon2id$v=19$m=65536,t=3,p=4$"),
        "{after}"
    );
    assert_eq!(
        after.len(),
        theirs.len(),
        "{after} vs fastapi-users' {theirs}"
    );
    let token = body["access_token"].as_str().unwrap();
    assert_eq!(db.get("/db", token).await.0, StatusCode::OK);

    // The upgraded hash verifies; it is not re-hashed again.
    let (status, _) = db
        .login("db", db.email("legacy"), db.password("legacy"))
        .await;
    assert_eq!(status.as_u16(), db.observed("login legacy after upgrade").0);
    assert_eq!(db.raw.hashed_password(id).await, after);
    let (status, body) = db.login("db", db.email("legacy"), "wrong-password").await;
    assert_eq!(
        (status, body),
        (
            StatusCode::BAD_REQUEST,
            json!({"detail": "LOGIN_BAD_CREDENTIALS"})
        )
    );
}

async fn wrong_passwords_and_the_inactive_user_are_bad_credentials(db: Served) {
    let bad = json!({"detail": "LOGIN_BAD_CREDENTIALS"});
    for backend in ["db", "jwt"] {
        let (status, body) = db
            .login(backend, db.email("arthur"), "wrong-password")
            .await;
        assert_eq!(
            (status.as_u16(), body.clone()),
            db.observed("login wrong password")
        );
        assert_eq!((status, body), (StatusCode::BAD_REQUEST, bad.clone()));
        let (status, body) = db
            .login(backend, db.email("inactive"), db.password("inactive"))
            .await;
        assert_eq!(
            (status.as_u16(), body.clone()),
            db.observed("login inactive")
        );
        assert_eq!((status, body), (StatusCode::BAD_REQUEST, bad.clone()));
        let (status, body) = db.login(backend, "nobody@camelot.bt", "whatever-1").await;
        assert_eq!((status, body), (StatusCode::BAD_REQUEST, bad.clone()));
    }
    assert_eq!(
        db.raw.tokens_of(db.id("inactive")).await,
        1,
        "no row written"
    );
    assert_eq!(db.raw.tokens_of(db.id("arthur")).await, 3, "no row written");
}

async fn fastapi_users_token_rows_authenticate_while_fresh(db: Served) {
    // As old as the fixture: every row is refused.
    db.age_all_tokens(LIFETIME + 60).await;
    assert_eq!(
        db.get("/db", db.db_token("arthur")).await,
        (StatusCode::UNAUTHORIZED, json!({"detail": "Unauthorized"}))
    );

    db.age_all_tokens(0).await;
    db.age_token(db.db_token("arthur_stale"), LIFETIME + 60)
        .await;
    // Just inside the lifetime.
    db.age_token(db.db_token("arthur"), LIFETIME - 60).await;
    for (name, user) in [
        ("arthur", "arthur"),
        ("arthur_logout", "arthur"),
        ("arthur_stale", "arthur"),
        ("legacy", "legacy"),
        ("inactive", "inactive"),
        ("admin", "admin"),
        ("gawain_1", "gawain"),
        ("gawain_2", "gawain"),
    ] {
        let (status, body) = db.get("/db", db.db_token(name)).await;
        let (their_status, their_body) = db.observed(&format!("protected with db token {name}"));
        assert_eq!(
            (status.as_u16(), &body),
            (their_status, &their_body),
            "token {name} of {user}"
        );
        let expected = match name {
            "arthur_stale" | "inactive" => {
                (StatusCode::UNAUTHORIZED, json!({"detail": "Unauthorized"}))
            }
            _ => (StatusCode::OK, json!({"email": db.email(user)})),
        };
        assert_eq!((status, body), expected, "token {name}");
    }
    // The rows stay as fastapi-users wrote them (a read does not rewrite created_at).
    let (user_id, _, _, age) = db.raw.token_row(db.db_token("arthur")).await.unwrap();
    assert_eq!(user_id, db.id("arthur").to_string());
    assert!(
        (LIFETIME as f64 - 70.0..LIFETIME as f64 - 50.0).contains(&age),
        "age {age}"
    );

    // Superuser through a fastapi-users row; a regular user's row is 403.
    let (status, body) = db.get("/admin", db.db_token("admin")).await;
    assert_eq!(
        (status.as_u16(), body),
        db.observed("admin with db token admin")
    );
    let (status, body) = db.get("/admin", db.db_token("arthur")).await;
    assert_eq!(
        (status.as_u16(), body.clone()),
        db.observed("admin with db token arthur")
    );
    assert_eq!(
        (status, body),
        (StatusCode::FORBIDDEN, json!({"detail": "Forbidden"}))
    );

    // A database token is not a JWT: the jwt backend refuses it.
    assert_eq!(
        db.get("/jwt", db.db_token("arthur")).await.0,
        StatusCode::UNAUTHORIZED
    );
    // A malformed or unknown token is refused without error.
    assert_eq!(
        db.get("/db", "not-a-token-at-all").await.0,
        StatusCode::UNAUTHORIZED
    );
    let (status, headers, _) = send(&db.app, get_bearer("/db", "a.b.c")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(headers["www-authenticate"], "Bearer");
}

async fn logout_deletes_the_row(db: Served) {
    db.age_all_tokens(0).await;
    let token = db.db_token("arthur_logout");
    assert!(db.raw.token_row(token).await.is_some());
    let (status, _, body) = send(&db.app, post_with("/auth/db/logout", Some(token), None)).await;
    assert_eq!(
        (status.as_u16(), body),
        db.observed("logout db token arthur_logout")
    );
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(db.raw.token_row(token).await.is_none(), "row deleted");
    let (status, body) = db.get("/db", token).await;
    assert_eq!(
        (status.as_u16(), body),
        db.observed("protected after logout")
    );
    // Only that row: arthur's other sessions go on.
    assert_eq!(db.raw.tokens_of(db.id("arthur")).await, 2);
    assert_eq!(db.get("/db", db.db_token("arthur")).await.0, StatusCode::OK);
    // Logging out again with the deleted token is 401.
    let (status, _, _) = send(&db.app, post_with("/auth/db/logout", Some(token), None)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

async fn jwt_minted_by_fastapi_users_is_accepted(db: Served) {
    let jwt = db.fixture["long_lived_jwt"]["arthur"].as_str().unwrap();
    let (status, body) = db.get("/jwt", jwt).await;
    assert_eq!(
        (status.as_u16(), body.clone()),
        db.observed("protected with fastapi-users jwt arthur")
    );
    assert_eq!(
        (status, body),
        (StatusCode::OK, json!({"email": db.email("arthur")}))
    );
    // The superuser's token reaches /users/{id}, a route of every backend.
    let admin_jwt = db.fixture["long_lived_jwt"]["admin"].as_str().unwrap();
    let (status, body) = db
        .get(&format!("/users/{}", db.id("legacy")), admin_jwt)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["email"], db.email("legacy"));
    assert_eq!(body["is_active"], true);
    // It is not an `accesstoken` row: the database backend refuses it.
    assert_eq!(db.get("/db", jwt).await.0, StatusCode::UNAUTHORIZED);
    // Logging out of the jwt backend with it is accepted and stores nothing.
    let before = db.raw.tokens_of(db.id("arthur")).await;
    let (status, _, _) = send(&db.app, post_with("/auth/jwt/logout", Some(jwt), None)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(db.raw.tokens_of(db.id("arthur")).await, before);
}

async fn tokens_written_have_fastapi_users_shape(db: Served) {
    // The fixture's own rows, as fastapi-users stored them.
    for row in db.fixture["accesstoken_rows_as_stored"].as_array().unwrap() {
        let (token, created_at, kind) = (
            row[0].as_str().unwrap(),
            row[2].as_str().unwrap(),
            row[3].as_str().unwrap(),
        );
        assert_eq!(token.len(), 43);
        match db.raw {
            Raw::Sqlite(_) => {
                assert_eq!(kind, "text");
                assert!(is_sqlalchemy_sqlite_timestamp(created_at), "{created_at}");
            }
            Raw::Pg(_) => assert_eq!(kind, "timestamp with time zone"),
        }
    }

    let (status, body) = db
        .login("db", db.email("admin"), db.password("admin"))
        .await;
    assert_eq!(status.as_u16(), db.observed("login admin").0, "{body}");
    let token = body["access_token"].as_str().unwrap();
    let theirs = db.observed("login admin").1;
    assert_eq!(body["token_type"], theirs["token_type"]);
    assert_eq!(token.len(), theirs["access_token"].as_str().unwrap().len());
    assert_eq!(token.len(), 43);
    assert!(token
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));

    let (user_id, created_at, kind, age) = db
        .raw
        .token_row(token)
        .await
        .expect("the login wrote an accesstoken row");
    assert_eq!(
        user_id,
        db.id("admin").to_string(),
        "user_id as fastapi-users stores it"
    );
    assert!(
        (-5.0..60.0).contains(&age),
        "created now (UTC): {created_at}, age {age}"
    );
    match db.raw {
        Raw::Sqlite(_) => {
            assert_eq!(kind, "text");
            assert!(
                is_sqlalchemy_sqlite_timestamp(&created_at),
                "created_at {created_at:?} in SQLAlchemy's text format"
            );
        }
        Raw::Pg(_) => assert_eq!(kind, "timestamp with time zone"),
    }
    assert_eq!(
        db.get("/db", token).await,
        (StatusCode::OK, json!({"email": db.email("admin")}))
    );
    assert_eq!(db.raw.tokens_of(db.id("admin")).await, 2);
    // fastapi-users reads our row (on demand: FASTAPI_USERS_PYTHON).
    if let Some(theirs) = db.fastapi_users_reads(token) {
        assert_eq!(
            theirs,
            json!({"id": db.id("admin").to_string(), "email": db.email("admin")})
        );
    }

    // Our row ages by created_at like fastapi-users' rows.
    db.age_token(token, LIFETIME + 60).await;
    assert_eq!(db.get("/db", token).await.0, StatusCode::UNAUTHORIZED);
    if let Some(theirs) = db.fastapi_users_reads(token) {
        assert_eq!(theirs, Value::Null, "stale for fastapi-users too");
    }
}

async fn deleting_a_user_cascades_its_tokens(db: Served) {
    db.age_all_tokens(0).await;
    let gawain = db.id("gawain");
    assert_eq!(db.raw.tokens_of(gawain).await, 2);
    assert_eq!(
        db.get("/db", db.db_token("gawain_1")).await.0,
        StatusCode::OK
    );

    // Through the route, with the superuser's fastapi-users row.
    let request = Request::builder()
        .method(Method::DELETE)
        .uri(format!("/users/{gawain}"))
        .header("authorization", format!("Bearer {}", db.db_token("admin")))
        .body(axum::body::Body::empty())
        .unwrap();
    let (status, _, body) = send(&db.app, request).await;
    assert_eq!(
        (status.as_u16(), body),
        db.observed("delete gawain as admin")
    );
    assert!(!db.raw.user_exists(gawain).await);
    assert_eq!(db.raw.tokens_of(gawain).await, 0);
    let (status, body) = db.get("/db", db.db_token("gawain_1")).await;
    assert_eq!(
        (status.as_u16(), body),
        db.observed("protected with db token of deleted gawain")
    );

    // Through the store alone: the foreign key's ON DELETE CASCADE removes the rows.
    let inactive = db.id("inactive");
    assert_eq!(db.raw.tokens_of(inactive).await, 1);
    assert!(db.store.delete(inactive).await.unwrap());
    assert!(!db.raw.user_exists(inactive).await);
    assert_eq!(db.raw.tokens_of(inactive).await, 0, "cascaded");
    assert!(db.raw.token_row(db.db_token("inactive")).await.is_none());
    // Everyone else's rows are untouched.
    assert_eq!(db.raw.tokens_of(db.id("arthur")).await, 3);
    assert_eq!(db.raw.users().await, 3);
}

async fn registration_in_another_case_is_refused(db: Served) {
    let (status, _, body) = send(
        &db.app,
        post_json(
            "/auth/register",
            &json!({"email": db.email("arthur").to_uppercase(), "password": "another-one-1"}),
        ),
    )
    .await;
    assert_eq!(
        (status.as_u16(), body.clone()),
        db.observed("register existing e-mail other case")
    );
    assert_eq!(
        (status, body),
        (
            StatusCode::BAD_REQUEST,
            json!({"detail": "REGISTER_USER_ALREADY_EXISTS"})
        )
    );
    assert_eq!(db.raw.users().await, 5);
    // A new address registers next to fastapi-users' users and logs in on the database backend.
    let (status, _, body) = send(
        &db.app,
        post_json(
            "/auth/register",
            &json!({"email": "Percival@Camelot.BT", "password": "holy-grail-1"}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["email"], "Percival@camelot.bt");
    let id: Uuid = body["id"].as_str().unwrap().parse().unwrap();
    assert!(db.raw.user_exists(id).await);
    assert!(db
        .raw
        .hashed_password(id)
        .await
        .starts_with("$argon2id$v=19$m=65536,t=3,p=4$"));
    let (status, body) = db.login("db", "percival@camelot.bt", "holy-grail-1").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(db.raw.tokens_of(id).await, 1);
}
