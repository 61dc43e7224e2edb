//! Two real quickstart processes behind one PostgreSQL schema and one Redis: whatever one
//! instance issues, the other honours; whatever one revokes, the other refuses at once.
//!
//! The quickstart binary is the one `cargo test` builds (`target/<profile>/examples/quickstart`);
//! `cargo test --test instances` alone does not build examples, so build it first
//! (`cargo build --example quickstart`) or run plain `cargo test`.

mod common;

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::services;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

const SECRET: &str = "instances-test-secret-0123456789abcdef0123456789";
const ADMIN: &str = "root@example.com";
const ADMIN_PASSWORD: &str = "bootstrap-password-1";

fn under_ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "0" && v != "false")
}

/// `target/<profile>/examples/quickstart`, next to this test's `deps` directory; `None`
/// (skipped locally, a failure under CI) when it was not built.
fn quickstart_binary() -> Option<PathBuf> {
    let exe = std::env::current_exe().expect("the test binary's path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("the test binary lives in target/<profile>/deps");
    let binary = profile_dir
        .join("examples")
        .join(format!("quickstart{}", std::env::consts::EXE_SUFFIX));
    let problem = match std::fs::metadata(&binary).and_then(|m| m.modified()) {
        Err(_) => "is not built",
        Ok(built) if newest_source() > Some(built) => "is older than its sources",
        Ok(_) => return Some(binary),
    };
    let message = format!(
        "the quickstart example at {} {problem}: run `cargo build --example quickstart` \
         (or plain `cargo test`, which builds the examples) before `cargo test --test instances`",
        binary.display()
    );
    if under_ci() {
        panic!("{message}");
    }
    let _ = writeln!(std::io::stderr(), "SKIPPED instances: {message}");
    None
}

/// The last modification of the quickstart's sources (the example and the crates it builds).
fn newest_source() -> Option<std::time::SystemTime> {
    fn walk(path: &std::path::Path, newest: &mut Option<std::time::SystemTime>) {
        let Ok(meta) = std::fs::metadata(path) else {
            return;
        };
        if meta.is_dir() {
            for entry in std::fs::read_dir(path).into_iter().flatten().flatten() {
                walk(&entry.path(), newest);
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            *newest = (*newest).max(meta.modified().ok());
        }
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut newest = None;
    for dir in [
        "examples/quickstart.rs",
        "src",
        "auth-runtime/src",
        "auth-macros/src",
    ] {
        walk(&root.join(dir), &mut newest);
    }
    newest
}

/// A free port on 127.0.0.1 (bound, then released for the child to take).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running quickstart process; killed (and reaped) on drop, panics included.
struct Instance {
    name: &'static str,
    addr: SocketAddr,
    child: Child,
    log: tempfile::NamedTempFile,
}

impl Instance {
    fn spawn(name: &'static str, binary: &PathBuf, env: &[(&str, String)]) -> Instance {
        let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        let log = tempfile::NamedTempFile::new().unwrap();
        let mut command = Command::new(binary);
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("AUTH_BIND", addr.to_string())
            .env("AUTH_SECRET", SECRET)
            .env("AUTH_COOKIE_SECURE", "false")
            .env("RUST_LOG", "info,sqlx=warn")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(log.reopen().unwrap())
            .stderr(log.reopen().unwrap());
        for (key, value) in env {
            command.env(key, value);
        }
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        Instance {
            name,
            addr,
            child,
            log,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }

    /// Waits until the instance answers HTTP (401 on `/protected`), at most 20 s.
    async fn ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!(
                    "instance {} exited with {status} before answering:\n{}",
                    self.name,
                    self.log()
                );
            }
            if let Ok(Ok(response)) = tokio::time::timeout(
                Duration::from_secs(2),
                http(self.addr, "GET", "/protected", &[], None),
            )
            .await
            {
                assert_eq!(response.status, 401, "{}: {}", self.name, response.body);
                return;
            }
            assert!(
                Instant::now() < deadline,
                "instance {} did not answer within 20 s:\n{}",
                self.name,
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<(&str, String)>,
    ) -> Response {
        match tokio::time::timeout(
            Duration::from_secs(15),
            http(self.addr, method, path, headers, body),
        )
        .await
        {
            Ok(Ok(response)) => response,
            Ok(Err(err)) => panic!("{method} {path} on {}: {err}\n{}", self.name, self.log()),
            Err(_) => panic!("{method} {path} on {}: no answer within 15 s", self.name),
        }
    }

    async fn register(&self, email: &str, password: &str) -> Response {
        self.request(
            "POST",
            "/auth/register",
            &[],
            Some((
                "application/json",
                json!({"email": email, "password": password}).to_string(),
            )),
        )
        .await
    }

    async fn login(&self, backend: &str, email: &str, password: &str) -> Response {
        self.request(
            "POST",
            &format!("/auth/{backend}/login"),
            &[],
            Some((
                "application/x-www-form-urlencoded",
                format!(
                    "username={}&password={}",
                    urlencode(email),
                    urlencode(password)
                ),
            )),
        )
        .await
    }

    async fn bearer_token(&self, email: &str, password: &str) -> String {
        let response = self.login("jwt", email, password).await;
        assert_eq!(response.status, 200, "{}: {}", self.name, response.body);
        assert_eq!(response.json()["token_type"], "bearer");
        response.json()["access_token"]
            .as_str()
            .expect("an access token")
            .to_owned()
    }

    /// Logs in on the cookie backend; returns `name=value` for a `Cookie` header.
    async fn cookie(&self, email: &str, password: &str) -> String {
        let response = self.login("cookie", email, password).await;
        assert_eq!(response.status, 204, "{}: {}", self.name, response.body);
        let set_cookie = response.header("set-cookie").expect("a Set-Cookie header");
        assert!(set_cookie.starts_with("fastapiusersauth="), "{set_cookie}");
        assert!(
            !set_cookie.contains("Secure"),
            "AUTH_COOKIE_SECURE=false: {set_cookie}"
        );
        set_cookie.split(';').next().unwrap().to_owned()
    }

    async fn get_bearer(&self, path: &str, token: &str) -> Response {
        let auth = format!("Bearer {token}");
        self.request("GET", path, &[("Authorization", &auth)], None)
            .await
    }

    async fn get_cookie(&self, path: &str, cookie: &str) -> Response {
        self.request("GET", path, &[("Cookie", cookie)], None).await
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            let _ = writeln!(
                std::io::stderr(),
                "--- log of instance {} ---\n{}",
                self.name,
                self.log()
            );
        }
    }
}

fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// An HTTP answer.
#[derive(Debug)]
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    fn json(&self) -> Value {
        if self.body.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&self.body)
                .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
        }
    }
}

/// One HTTP/1.1 request over a fresh TCP connection (`Connection: close`).
async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<(&str, String)>,
) -> std::io::Result<Response> {
    let mut stream = TcpStream::connect(addr).await?;
    // Same-origin, as from the service's own pages (the cookie backend's CSRF check).
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nOrigin: http://{addr}\r\nConnection: close\r\n"
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    let payload = match body {
        Some((content_type, payload)) => {
            request.push_str(&format!("Content-Type: {content_type}\r\n"));
            payload
        }
        None => String::new(),
    };
    request.push_str(&format!("Content-Length: {}\r\n\r\n", payload.len()));
    request.push_str(&payload);
    stream.write_all(request.as_bytes()).await?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await?;
    parse_response(&raw).ok_or_else(|| std::io::Error::other(format!("bad HTTP answer: {raw:?}")))
}

fn parse_response(raw: &[u8]) -> Option<Response> {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..split]).ok()?;
    let mut body = raw[split + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let chunked = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    if chunked {
        let mut decoded = Vec::new();
        let mut rest = &body[..];
        loop {
            let line_end = rest.windows(2).position(|w| w == b"\r\n")?;
            let size =
                usize::from_str_radix(std::str::from_utf8(&rest[..line_end]).ok()?, 16).ok()?;
            rest = &rest[line_end + 2..];
            if size == 0 {
                break;
            }
            decoded.extend_from_slice(rest.get(..size)?);
            rest = rest.get(size + 2..)?;
        }
        body = decoded;
    }
    Some(Response {
        status,
        headers,
        body: String::from_utf8(body).ok()?,
    })
}

async fn count(pool: &sqlx::PgPool, sql: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(sql)
        .fetch_one(pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_share_users_and_sessions() {
    let Some(binary) = quickstart_binary() else {
        return;
    };
    let Some(pg) = services::postgres().await else {
        return;
    };
    let Some(redis_url) = services::redis().await else {
        return;
    };
    let prefix = services::unique_prefix();
    // The server trusts local connections: the password is never sent, only logged if the
    // quickstart leaked it.
    let database_url = pg.url.replacen(
        "postgres://postgres@",
        "postgres://postgres:pg-s3cret-pw@",
        1,
    );
    assert_ne!(database_url, pg.url, "the test URL names user postgres");
    let env = [
        ("AUTH_DATABASE_URL", database_url),
        ("AUTH_REDIS_URL", redis_url.clone()),
        ("AUTH_REDIS_PREFIX", prefix.clone()),
        // Rate-limit counters of this run only (runs share 127.0.0.1's per-client counters).
        ("AUTH_RATE_LIMIT_PREFIX", services::unique_prefix()),
        (
            "AUTH_BOOTSTRAP_SUPERUSER",
            format!("{ADMIN}:{ADMIN_PASSWORD}"),
        ),
    ];
    // Both at once: both bootstrap the same superuser into an empty schema.
    let mut a = Instance::spawn("A", &binary, &env);
    let mut b = Instance::spawn("B", &binary, &env);
    a.ready().await;
    b.ready().await;
    for instance in [&a, &b] {
        let log = instance.log();
        assert!(log.contains("user store: PostgreSQL"), "{log}");
        assert!(log.contains("cookie sessions: redis strategy"), "{log}");
        assert!(log.contains(&prefix), "the prefix is shown: {log}");
        assert!(
            !log.contains("pg-s3cret-pw"),
            "a password in the log: {log}"
        );
    }

    // Exactly one bootstrap superuser, whichever instance created it.
    assert_eq!(
        count(&pg.pool, "SELECT count(*) FROM \"user\" WHERE is_superuser").await,
        1
    );
    let admin_token = a.bearer_token(ADMIN, ADMIN_PASSWORD).await;
    let response = b.get_bearer("/admin", &admin_token).await;
    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(response.json(), json!({"email": ADMIN}));

    // Register on A, log in on B.
    let email = "lancelot@camelot.bt";
    let password = "holy-grail-42";
    let response = a.register(email, password).await;
    assert_eq!(response.status, 201, "{}", response.body);
    assert_eq!(response.json()["email"], email);
    assert_eq!(
        count(&pg.pool, "SELECT count(*) FROM \"user\"").await,
        2,
        "the admin and the new user"
    );
    let response = b.register(email, password).await;
    assert_eq!(response.status, 400);
    assert_eq!(
        response.json(),
        json!({"detail": "REGISTER_USER_ALREADY_EXISTS"})
    );
    let token_b = b.bearer_token(email, password).await;
    let cookie_b = b.cookie(email, password).await;
    assert_eq!(
        services::redis_keys(&redis_url, &prefix).await,
        1,
        "one Redis session"
    );

    // Bearer tokens cross over both ways.
    let token_a = a.bearer_token(email, password).await;
    for (instance, token) in [(&b, &token_a), (&a, &token_b)] {
        let response = instance.get_bearer("/users/me", token).await;
        assert_eq!(response.status, 200, "{}", response.body);
        assert_eq!(response.json()["email"], email);
        let response = instance.get_bearer("/protected", token).await;
        assert_eq!(response.status, 200, "{}", response.body);
        assert_eq!(response.json(), json!({"email": email}));
    }

    // A cookie session of B works on A (and on B).
    for instance in [&a, &b] {
        let response = instance.get_cookie("/protected", &cookie_b).await;
        assert_eq!(response.status, 200, "{}: {}", instance.name, response.body);
        assert_eq!(response.json(), json!({"email": email}));
    }

    // Logging out on A destroys the Redis session: B refuses it at once.
    let response = a
        .request(
            "POST",
            "/auth/cookie/logout",
            &[("Cookie", &cookie_b)],
            None,
        )
        .await;
    assert_eq!(response.status, 204, "{}", response.body);
    assert!(response
        .header("set-cookie")
        .is_some_and(|c| c.contains("Max-Age=0")));
    assert_eq!(services::redis_keys(&redis_url, &prefix).await, 0);
    let response = b.get_cookie("/protected", &cookie_b).await;
    assert_eq!(response.status, 401);
    assert_eq!(response.json(), json!({"detail": "Unauthorized"}));
    let response = a.get_cookie("/users/me", &cookie_b).await;
    assert_eq!(response.status, 401);

    // A password change on B revokes the Redis sessions issued by A.
    let cookie_a = a.cookie(email, password).await;
    let response = a.get_cookie("/protected", &cookie_a).await;
    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(services::redis_keys(&redis_url, &prefix).await, 1);
    let new_password = "excalibur-2024";
    let auth = format!("Bearer {token_b}");
    let response = b
        .request(
            "PATCH",
            "/users/me",
            &[("Authorization", &auth)],
            Some((
                "application/json",
                json!({"password": new_password}).to_string(),
            )),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(response.json()["email"], email);
    assert_eq!(services::redis_keys(&redis_url, &prefix).await, 0);
    for instance in [&a, &b] {
        let response = instance.get_cookie("/protected", &cookie_a).await;
        assert_eq!(response.status, 401, "{}: {}", instance.name, response.body);
    }
    // The new password works on A, the old one on neither.
    let response = a.login("cookie", email, password).await;
    assert_eq!(response.status, 400);
    assert_eq!(response.json(), json!({"detail": "LOGIN_BAD_CREDENTIALS"}));
    let cookie = a.cookie(email, new_password).await;
    let response = b.get_cookie("/protected", &cookie).await;
    assert_eq!(response.status, 200, "{}", response.body);

    // Nothing was created twice.
    assert_eq!(count(&pg.pool, "SELECT count(*) FROM \"user\"").await, 2);
    assert_eq!(
        count(&pg.pool, "SELECT count(*) FROM \"user\" WHERE is_superuser").await,
        1
    );
}

/// The bootstrap race alone, several times: two instances starting at once never fail and
/// leave exactly one superuser.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn simultaneous_bootstrap_creates_one_superuser() {
    let Some(binary) = quickstart_binary() else {
        return;
    };
    for round in 0..3 {
        let Some(pg) = services::postgres().await else {
            return;
        };
        let env = [
            ("AUTH_DATABASE_URL", pg.url.clone()),
            (
                "AUTH_BOOTSTRAP_SUPERUSER",
                format!("{ADMIN}:{ADMIN_PASSWORD}"),
            ),
        ];
        let mut a = Instance::spawn("A", &binary, &env);
        let mut b = Instance::spawn("B", &binary, &env);
        a.ready().await;
        b.ready().await;
        for instance in [&a, &b] {
            let log = instance.log();
            assert!(log.contains("cookie sessions: jwt strategy"), "{log}");
            assert!(
                log.contains("bootstrap superuser"),
                "round {round}, {}: {log}",
                instance.name
            );
        }
        assert_eq!(
            count(
                &pg.pool,
                "SELECT count(*) FROM \"user\" WHERE is_superuser AND is_active"
            )
            .await,
            1,
            "round {round}"
        );
        // Either instance logs the superuser in.
        for instance in [&a, &b] {
            let token = instance.bearer_token(ADMIN, ADMIN_PASSWORD).await;
            let response = instance.get_bearer("/admin", &token).await;
            assert_eq!(response.status, 200, "{}", response.body);
        }
    }
}

/// `AUTH_COOKIE_STRATEGY=database` without Redis: the cookie sessions live in the shared
/// `accesstoken` table, so they cross instances and a logout on one ends them on the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn database_cookie_sessions_are_shared() {
    let Some(binary) = quickstart_binary() else {
        return;
    };
    let Some(pg) = services::postgres().await else {
        return;
    };
    let env = [
        ("AUTH_DATABASE_URL", pg.url.clone()),
        ("AUTH_COOKIE_STRATEGY", "database".to_owned()),
    ];
    let mut a = Instance::spawn("A", &binary, &env);
    let mut b = Instance::spawn("B", &binary, &env);
    a.ready().await;
    b.ready().await;
    assert!(
        a.log().contains("cookie sessions: database strategy"),
        "{}",
        a.log()
    );
    let email = "galahad@camelot.bt";
    let password = "siege-perilous";
    let response = b.register(email, password).await;
    assert_eq!(response.status, 201, "{}", response.body);
    let cookie = a.cookie(email, password).await;
    let token = cookie.split_once('=').unwrap().1;
    assert_eq!(token.len(), 43, "an opaque token, not a JWT: {cookie}");
    assert_eq!(count(&pg.pool, "SELECT count(*) FROM accesstoken").await, 1);
    let response = b.get_cookie("/protected", &cookie).await;
    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(response.json(), json!({"email": email}));
    let response = b
        .request("POST", "/auth/cookie/logout", &[("Cookie", &cookie)], None)
        .await;
    assert_eq!(response.status, 204, "{}", response.body);
    assert_eq!(count(&pg.pool, "SELECT count(*) FROM accesstoken").await, 0);
    let response = a.get_cookie("/protected", &cookie).await;
    assert_eq!(response.status, 401);
    assert_eq!(response.json(), json!({"detail": "Unauthorized"}));
}

/// A configuration the quickstart cannot serve stops it at once with a message naming the
/// variable.
#[tokio::test]
async fn misconfiguration_refuses_to_start() {
    let Some(binary) = quickstart_binary() else {
        return;
    };
    let cases: [(&[(&str, &str)], &str); 4] = [
        (
            &[("AUTH_DATABASE_URL", "mysql://user:hunter2@127.0.0.1/db")],
            "AUTH_DATABASE_URL",
        ),
        (&[("AUTH_COOKIE_STRATEGY", "redis")], "AUTH_REDIS_URL"),
        (
            &[("AUTH_COOKIE_STRATEGY", "memcached")],
            "AUTH_COOKIE_STRATEGY",
        ),
        (
            &[
                ("AUTH_DATABASE_URL", "sqlite::memory:"),
                ("AUTH_REDIS_URL", "redis://127.0.0.1:1"),
            ],
            "cannot connect to Redis",
        ),
    ];
    for (vars, expected) in cases {
        let env: Vec<(&str, String)> = vars.iter().map(|(k, v)| (*k, v.to_string())).collect();
        let mut instance = Instance::spawn("misconfigured", &binary, &env);
        let deadline = Instant::now() + Duration::from_secs(15);
        let status = loop {
            if let Some(status) = instance.child.try_wait().unwrap() {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "{vars:?}: still running after 15 s:\n{}",
                instance.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let log = instance.log();
        assert!(!status.success(), "{vars:?}: exited with {status}");
        assert!(log.contains(expected), "{vars:?}: {log}");
        assert!(!log.contains("hunter2"), "a password in the log: {log}");
        assert!(!log.contains("listening"), "{vars:?}: {log}");
    }
}
