//! Store outages: PostgreSQL and Redis behind a toggleable proxy (refused, blackholed), and a
//! private `redis-server` really stopped and restarted under load. An outage answers 503
//! `{"detail":"SERVICE_UNAVAILABLE"}` within a bounded time — never 401, 500 or a hang —,
//! what does not need the failed store keeps working, nothing committed is lost, and service
//! resumes by itself.

mod common;

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::routing::get;
use axum::{Json, Router};
use axum_users::prelude::*;
use axum_users::{PgStore, RedisTokenStore};
use common::proxy::{host_port, Mode, Proxy};
use common::{get_anon, get_bearer, get_cookie, hasher, login_form, post_form, post_json, send};
use common::{services, PASSWORD, SECRET};
use serde_json::{json, Value};

/// A bearer JWT, a bearer opaque token in PostgreSQL's `accesstoken`, a cookie session in
/// Redis.
#[derive(AuthConfig)]
#[allow(clippy::duplicated_attributes)] // rust-lang/rust-clippy#13238
#[backend(jwt, name = "jwt", lifetime = 3600)]
#[backend(jwt, name = "db", lifetime = 3600, strategy = database)]
#[backend(cookie, name = "cookie", lifetime = 3600, strategy = redis)]
struct Outage;

#[protected(backends("jwt"))]
async fn jwt_only(user: CurrentUser) -> Json<Value> {
    Json(json!({ "email": user.email }))
}

#[protected(backends("cookie"))]
async fn cookie_only(user: CurrentUser) -> Json<Value> {
    Json(json!({ "email": user.email }))
}

async fn open() -> &'static str {
    "open"
}

/// The hang detector: every request must be answered within this.
const HANG: Duration = Duration::from_secs(15);
/// How long service may take to come back after a store is back.
const RECOVERY: Duration = Duration::from_secs(15);

fn app(state: &AuthState) -> Router {
    Router::new()
        .route("/open", get(open))
        .route("/jwt-only", get(jwt_only))
        .route("/cookie-only", get(cookie_only))
        .merge(Outage::router())
        .with_state(state.clone())
}

/// Runs `fut` (a request), panicking if it does not finish within [`HANG`].
async fn within<T>(what: &str, fut: impl Future<Output = T>) -> T {
    let started = Instant::now();
    match tokio::time::timeout(HANG, fut).await {
        Ok(out) => out,
        Err(_) => panic!(
            "{what}: no answer after {:.1} s (hang)",
            started.elapsed().as_secs_f64()
        ),
    }
}

fn unavailable() -> Value {
    json!({"detail": "SERVICE_UNAVAILABLE"})
}

/// The world of one test: PostgreSQL and Redis, each behind its own proxy.
struct World {
    pg: services::PgSchema,
    redis_url: String,
    prefix: String,
    pg_proxy: Proxy,
    redis_proxy: Proxy,
    app: Router,
}

/// What a user holds: a password, a JWT, an `accesstoken` row's token and a Redis cookie.
struct Session {
    email: String,
    jwt: String,
    db: String,
    cookie: String,
}

impl World {
    async fn new() -> Option<World> {
        let pg = services::postgres().await?;
        let redis_url = services::redis().await?;
        let prefix = services::unique_prefix();
        let pg_proxy = Proxy::start(&host_port(&pg.server_url, 5432)).await;
        let redis_proxy = Proxy::start(&host_port(&redis_url, 6379)).await;
        let store = PgStore::connect(&pg_proxy.url_for(&pg.url))
            .await
            .expect("PgStore through the proxy");
        let tokens = RedisTokenStore::connect(&redis_proxy.url_for(&redis_url))
            .await
            .expect("RedisTokenStore through the proxy")
            .with_prefix(prefix.as_str());
        let state = AuthState::builder::<Outage>()
            .secret(SECRET)
            .store(store.clone())
            .database_tokens(store)
            .redis_tokens(tokens)
            .password_hasher(hasher())
            .build()
            .unwrap();
        let app = app(&state);
        Some(World {
            pg,
            redis_url,
            prefix,
            pg_proxy,
            redis_proxy,
            app,
        })
    }

    async fn send(&self, what: &str, request: Request<Body>) -> (StatusCode, Value) {
        let (status, _, body) = within(what, send(&self.app, request)).await;
        (status, body)
    }

    async fn register(&self, email: &str) -> (StatusCode, Value) {
        self.send(
            "register",
            post_json(
                "/auth/register",
                &json!({"email": email, "password": PASSWORD}),
            ),
        )
        .await
    }

    async fn login(
        &self,
        backend: &str,
        email: &str,
    ) -> (StatusCode, axum::http::HeaderMap, Value) {
        within(
            "login",
            send(
                &self.app,
                post_form(
                    &format!("/auth/{backend}/login"),
                    login_form(email, PASSWORD),
                ),
            ),
        )
        .await
    }

    /// Registers `email` and logs it in on every backend (everything up).
    async fn session(&self, email: &str) -> Session {
        let (status, body) = self.register(email).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let (status, _, body) = self.login("jwt", email).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let jwt = body["access_token"].as_str().unwrap().to_owned();
        let (status, _, body) = self.login("db", email).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let db = body["access_token"].as_str().unwrap().to_owned();
        assert_eq!(db.len(), 43, "an opaque token: {db}");
        let (status, headers, body) = self.login("cookie", email).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        let cookie = headers[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        Session {
            email: email.to_owned(),
            jwt,
            db,
            cookie,
        }
    }

    async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar::<_, i64>(sql)
            .fetch_one(&self.pg.pool)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    async fn users(&self) -> i64 {
        self.count("SELECT count(*) FROM \"user\"").await
    }

    async fn access_tokens(&self) -> i64 {
        self.count("SELECT count(*) FROM accesstoken").await
    }

    async fn users_named(&self, email: &str) -> i64 {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM \"user\" WHERE lower(email) = lower($1)")
            .bind(email)
            .fetch_one(&self.pg.pool)
            .await
            .unwrap()
    }

    async fn redis_keys(&self) -> usize {
        services::redis_keys(&self.redis_url, &self.prefix).await
    }

    /// Every request that needs PostgreSQL answers 503 (at the same time, so that the test
    /// waits for one timeout, not for each); what does not need it works.
    async fn check_pg_down(&self, session: &Session, mode: Mode) {
        let started = Instant::now();
        let checks = [
            (
                "jwt login",
                post_form("/auth/jwt/login", login_form(&session.email, PASSWORD)),
            ),
            (
                "cookie login",
                post_form("/auth/cookie/login", login_form(&session.email, PASSWORD)),
            ),
            (
                "register",
                post_json(
                    "/auth/register",
                    &json!({"email": "outage@example.com", "password": PASSWORD}),
                ),
            ),
            (
                "/users/me with a JWT",
                get_bearer("/users/me", &session.jwt),
            ),
            (
                "/jwt-only with a JWT",
                get_bearer("/jwt-only", &session.jwt),
            ),
            (
                "/users/me with a database token",
                get_bearer("/users/me", &session.db),
            ),
            (
                "/cookie-only with a Redis cookie",
                get_cookie("/cookie-only", &session.cookie),
            ),
        ];
        let answers = futures::future::join_all(
            checks
                .into_iter()
                .map(|(what, request)| async move { (what, self.send(what, request).await) }),
        )
        .await;
        for (what, (status, body)) in answers {
            assert_eq!(
                status,
                StatusCode::SERVICE_UNAVAILABLE,
                "{what} with PostgreSQL {mode:?}: {body}"
            );
            assert_eq!(body, unavailable(), "{what}");
        }
        let elapsed = started.elapsed();
        assert!(
            elapsed < Duration::from_secs(12),
            "PostgreSQL {mode:?}: the 503s took {elapsed:?}"
        );

        // Not needing PostgreSQL: an unguarded route; an invalid JWT is refused without a
        // lookup.
        let (status, body) = self.send("/open", get_anon("/open")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, json!("open"));
        let forged = format!("{}x", &session.jwt[..session.jwt.len() - 1]);
        for path in ["/users/me", "/jwt-only"] {
            let (status, headers, body) =
                within(path, send(&self.app, get_bearer(path, &forged))).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}: {body}");
            assert_eq!(body, json!({"detail": "Unauthorized"}));
            assert_eq!(headers[header::WWW_AUTHENTICATE], "Bearer");
        }
        let (status, body) = self.send("anonymous", get_anon("/users/me")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    }

    /// Retries `request` until it answers `expected`, at most [`RECOVERY`].
    async fn until(&self, what: &str, expected: StatusCode, request: impl Fn() -> Request<Body>) {
        let deadline = Instant::now() + RECOVERY;
        loop {
            let (status, body) = self.send(what, request()).await;
            if status == expected {
                return;
            }
            assert!(
                status == StatusCode::SERVICE_UNAVAILABLE,
                "{what} while recovering: {status} {body}"
            );
            assert!(
                Instant::now() < deadline,
                "{what}: still {status} {RECOVERY:?} after the store came back"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// After an outage: everything the session holds works again.
    async fn check_resumed(&self, session: &Session) {
        self.until("/users/me with a JWT", StatusCode::OK, || {
            get_bearer("/users/me", &session.jwt)
        })
        .await;
        for (what, request) in [
            ("JWT", get_bearer("/users/me", &session.jwt)),
            ("database token", get_bearer("/users/me", &session.db)),
            ("Redis cookie", get_cookie("/users/me", &session.cookie)),
        ] {
            let (status, body) = self.send(what, request).await;
            assert_eq!(status, StatusCode::OK, "{what} after the outage: {body}");
            assert_eq!(body["email"], session.email.as_str());
        }
        let (status, _, body) = self.login("db", &session.email).await;
        assert_eq!(status, StatusCode::OK, "login after the outage: {body}");
    }
}

async fn pg_outage(mode: Mode) {
    let Some(world) = World::new().await else {
        return;
    };
    let session = world.session("alice@example.com").await;
    world.session("bob@example.com").await;
    let (users, tokens) = (world.users().await, world.access_tokens().await);
    assert_eq!((users, tokens), (2, 2));

    world.pg_proxy.set(mode);
    world.check_pg_down(&session, mode).await;
    // A second round: the pool's connections are gone or frozen, not just the first ones.
    world.check_pg_down(&session, mode).await;
    // Redis is up: a cookie session still reads, but the user lookup fails.
    assert_eq!(world.redis_keys().await, 2);

    world.pg_proxy.set(Mode::Forward);
    world.check_resumed(&session).await;
    // Nothing committed is lost; the registration refused during the outage is absent.
    assert_eq!(world.users().await, users);
    assert_eq!(world.users_named("outage@example.com").await, 0);
    assert_eq!(
        world.access_tokens().await,
        tokens + 1,
        "the new login's row"
    );
    let (status, body) = world.register("outage@example.com").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(world.users().await, users + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_refused_answers_503_and_resumes() {
    pg_outage(Mode::Refuse).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_blackholed_answers_503_and_resumes() {
    pg_outage(Mode::Blackhole).await;
}

/// Registrations in flight when PostgreSQL disappears: each one is committed fully (the user
/// logs in) or not at all, whatever it answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn registration_during_an_outage_is_all_or_nothing() {
    let Some(world) = World::new().await else {
        return;
    };
    let session = world.session("alice@example.com").await;
    let world = Arc::new(world);
    for (round, mode) in [Mode::Blackhole, Mode::Refuse].into_iter().enumerate() {
        let before = world.users().await;
        let emails: Vec<String> = (0..6)
            .map(|i| format!("racer{round}-{i}@example.com"))
            .collect();
        let mut tasks = Vec::new();
        for (i, email) in emails.iter().cloned().enumerate() {
            let world = world.clone();
            tasks.push(tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(3 * i as u64)).await;
                world.register(&email).await
            }));
        }
        tokio::time::sleep(Duration::from_millis(8)).await;
        world.pg_proxy.set(mode);
        let mut answers = Vec::new();
        for task in tasks {
            answers.push(task.await.unwrap());
        }
        world.pg_proxy.set(Mode::Forward);
        world.check_resumed(&session).await;
        let mut created = 0;
        for (email, (status, body)) in emails.iter().zip(&answers) {
            let rows = world.users_named(email).await;
            match *status {
                StatusCode::CREATED => assert_eq!(rows, 1, "{email} answered 201: {body}"),
                StatusCode::SERVICE_UNAVAILABLE => {
                    assert_eq!(*body, unavailable());
                    assert!(rows <= 1, "{email}: {rows} rows");
                }
                other => panic!("{email} during a {mode:?} outage: {other} {body}"),
            }
            if rows == 1 {
                // Committed: completely (the password hash and flags are there).
                let (status, _, body) = world.login("jwt", email).await;
                assert_eq!(status, StatusCode::OK, "{email}: {body}");
                created += 1;
            } else {
                // Not committed: the address is free.
                let (status, body) = world.register(email).await;
                assert_eq!(status, StatusCode::CREATED, "{email}: {body}");
                created += 1;
            }
        }
        assert_eq!(world.users().await, before + created);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_outage_affects_only_redis_sessions() {
    let Some(world) = World::new().await else {
        return;
    };
    let session = world.session("alice@example.com").await;
    let keys = world.redis_keys().await;
    assert_eq!(keys, 1);
    let (users, tokens) = (world.users().await, world.access_tokens().await);
    let world = &world;

    for mode in [Mode::Refuse, Mode::Blackhole] {
        world.redis_proxy.set(mode);
        let started = Instant::now();
        let down = [
            (
                "/cookie-only with a Redis cookie",
                get_cookie("/cookie-only", &session.cookie),
            ),
            (
                "/users/me with a Redis cookie",
                get_cookie("/users/me", &session.cookie),
            ),
            (
                "cookie login",
                post_form("/auth/cookie/login", login_form(&session.email, PASSWORD)),
            ),
            (
                "cookie logout",
                common::post_with("/auth/cookie/logout", None, Some(&session.cookie)),
            ),
        ];
        let answers = futures::future::join_all(
            down.into_iter()
                .map(|(what, request)| async move { (what, world.send(what, request).await) }),
        )
        .await;
        for (what, (status, body)) in answers {
            assert_eq!(
                status,
                StatusCode::SERVICE_UNAVAILABLE,
                "{what} with Redis {mode:?}: {body}"
            );
            assert_eq!(body, unavailable(), "{what}");
        }
        let elapsed = started.elapsed();
        assert!(
            elapsed < Duration::from_secs(8),
            "Redis {mode:?}: the 503s took {elapsed:?}"
        );

        // Bearer JWTs and database tokens do not need Redis.
        for (what, request) in [
            (
                "/jwt-only with a JWT",
                get_bearer("/jwt-only", &session.jwt),
            ),
            (
                "/users/me with a JWT",
                get_bearer("/users/me", &session.jwt),
            ),
            (
                "/users/me with a database token",
                get_bearer("/users/me", &session.db),
            ),
        ] {
            let (status, body) = world.send(what, request).await;
            assert_eq!(status, StatusCode::OK, "{what} with Redis {mode:?}: {body}");
            assert_eq!(body["email"], session.email.as_str());
        }
        let (status, _, body) = world.login("jwt", &session.email).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "jwt login with Redis {mode:?}: {body}"
        );

        world.redis_proxy.set(Mode::Forward);
        world
            .until("/cookie-only with a Redis cookie", StatusCode::OK, || {
                get_cookie("/cookie-only", &session.cookie)
            })
            .await;
        // The session outlived the outage: Redis itself kept it, no logout went through.
        assert_eq!(world.redis_keys().await, keys);
    }
    assert_eq!(world.users().await, users);
    assert_eq!(world.access_tokens().await, tokens);
}

/// A private redis-server process.
struct RedisServer {
    port: u16,
    child: Option<std::process::Child>,
}

impl RedisServer {
    /// `None` (skipped locally, a failure under CI) when `redis-server` is not on PATH.
    fn start(port: u16) -> Option<RedisServer> {
        let spawned = std::process::Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn();
        match spawned {
            Ok(child) => Some(RedisServer {
                port,
                child: Some(child),
            }),
            Err(err) => {
                let message = format!("cannot start redis-server (is it on PATH?): {err}");
                if std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "0") {
                    panic!("{message}");
                }
                use std::io::Write as _;
                let _ = writeln!(std::io::stderr(), "SKIPPED: {message}");
                None
            }
        }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Waits until it answers PING.
    async fn ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let ping = async {
                let client = redis::Client::open(self.url())?;
                let mut conn = client.get_multiplexed_async_connection().await?;
                redis::cmd("PING").query_async::<String>(&mut conn).await
            };
            if let Ok(Ok(_)) = tokio::time::timeout(Duration::from_secs(1), ping).await {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "redis-server on {} did not start",
                self.port
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Kills it (SIGKILL) and reaps it.
    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Answers by phase and status.
#[derive(Default)]
struct Tally {
    counts: std::collections::BTreeMap<(String, u16), usize>,
}

impl Tally {
    fn add(&mut self, what: &str, status: StatusCode) {
        *self
            .counts
            .entry((what.to_owned(), status.as_u16()))
            .or_default() += 1;
    }

    fn get(&self, what: &str, status: u16) -> usize {
        self.counts
            .get(&(what.to_owned(), status))
            .copied()
            .unwrap_or(0)
    }
}

/// A real redis-server is killed and restarted (without persistence) while clients log in on
/// the cookie (Redis) backend and read guarded routes: every answer is 200/204 or 503, bearer
/// JWTs never notice, and cookie sessions come back by themselves with the server.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn real_redis_restart_under_load() {
    let Some(pg) = services::postgres().await else {
        return;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let Some(mut server) = RedisServer::start(port) else {
        return;
    };
    server.ready().await;
    let store = PgStore::connect(&pg.url).await.unwrap();
    let tokens = RedisTokenStore::connect(&server.url()).await.unwrap();
    let state = AuthState::builder::<Outage>()
        .secret(SECRET)
        .store(store.clone())
        .database_tokens(store)
        .redis_tokens(tokens)
        .password_hasher(hasher())
        .build()
        .unwrap();
    let app = app(&state);
    let email = "load@example.com";
    common::regular_user(&state, email).await;
    let jwt = common::login_jwt(&app, email, PASSWORD).await;

    let stop = Arc::new(AtomicBool::new(false));
    let phase = Arc::new(Mutex::new("up"));
    let tally = Arc::new(Mutex::new(Tally::default()));
    let mut workers = Vec::new();
    for worker in 0..4 {
        let (app, jwt, stop, phase, tally) = (
            app.clone(),
            jwt.clone(),
            stop.clone(),
            phase.clone(),
            tally.clone(),
        );
        workers.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let now = *phase.lock().unwrap();
                let record = |what: &str, status: StatusCode| {
                    tally.lock().unwrap().add(&format!("{now} {what}"), status);
                };
                if worker == 0 {
                    // Bearer JWTs never touch Redis.
                    let (status, _, body) =
                        within("jwt", send(&app, get_bearer("/jwt-only", &jwt))).await;
                    assert_eq!(status, StatusCode::OK, "a JWT while Redis is {now}: {body}");
                    record("jwt", status);
                } else {
                    let (status, headers, body) = within(
                        "cookie login",
                        send(
                            &app,
                            post_form("/auth/cookie/login", login_form(email, PASSWORD)),
                        ),
                    )
                    .await;
                    record("login", status);
                    match status {
                        StatusCode::NO_CONTENT => {
                            let cookie = headers[header::SET_COOKIE]
                                .to_str()
                                .unwrap()
                                .split(';')
                                .next()
                                .unwrap()
                                .to_owned();
                            let (status, _, body) = within(
                                "cookie read",
                                send(&app, get_cookie("/cookie-only", &cookie)),
                            )
                            .await;
                            assert!(
                                status == StatusCode::OK
                                    || status == StatusCode::SERVICE_UNAVAILABLE,
                                "a fresh cookie while Redis is {now}: {status} {body}"
                            );
                            if status == StatusCode::SERVICE_UNAVAILABLE {
                                assert_eq!(body, unavailable());
                            }
                            record("read", status);
                        }
                        StatusCode::SERVICE_UNAVAILABLE => {
                            assert_eq!(body, unavailable());
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                        other => panic!("cookie login while Redis is {now}: {other} {body}"),
                    }
                }
            }
        }));
    }

    tokio::time::sleep(Duration::from_millis(700)).await;
    server.stop();
    *phase.lock().unwrap() = "down";
    tokio::time::sleep(Duration::from_millis(1500)).await;
    *phase.lock().unwrap() = "restarting";
    let server = RedisServer::start(port).expect("redis-server restarts");
    server.ready().await;
    *phase.lock().unwrap() = "back";
    // Resumption: a fresh cookie login and read succeed within the deadline.
    let deadline = Instant::now() + RECOVERY;
    loop {
        let back = tally.lock().unwrap().get("back read", 200);
        if back >= 3 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "cookie sessions did not resume within {RECOVERY:?} after redis-server restarted"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.await.expect("a load worker failed");
    }

    let tally = std::mem::take(&mut *tally.lock().unwrap());
    let statuses: std::collections::BTreeSet<u16> =
        tally.counts.keys().map(|(_, status)| *status).collect();
    assert!(
        statuses.iter().all(|s| [200, 204, 503].contains(s)),
        "unexpected statuses: {:?}",
        tally.counts
    );
    assert!(tally.get("up login", 204) > 0, "{:?}", tally.counts);
    assert!(tally.get("up read", 200) > 0, "{:?}", tally.counts);
    assert!(tally.get("down login", 503) > 0, "{:?}", tally.counts);
    assert_eq!(tally.get("down login", 204), 0, "{:?}", tally.counts);
    assert!(tally.get("down jwt", 200) > 0, "{:?}", tally.counts);
    assert!(tally.get("back login", 204) > 0, "{:?}", tally.counts);
    // The restarted server kept nothing (no persistence); the sessions in it are new ones.
    let keys = services::redis_keys(&server.url(), "fastapi_users_token:").await;
    assert!(keys >= 1, "the sessions made after the restart: {keys}");
    drop(server);
}
