//! Secrets stay out of logs and `Debug` output: every tracing event (TRACE level, spans
//! included) of a full flow — register, login on the bearer and the cookie backend, a failed
//! login, forgot-password with a mailer, reset-password, request-verify-token, verify, PATCH of
//! the password, logout — is captured, and no password, password hash, secret, access token,
//! reset or verification token may appear in it, nor in the `Debug` output of the state, its
//! keys, the stores, the mailer or the types that carry a password or a token.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use axum::http::{Method, StatusCode};
use axum::Router;
use axum_users::prelude::*;
use axum_users::{
    Authenticated, JwtKeys, NewUser, PgStoreOptions, RedisTokenStore, SmtpMailer, TokenStore,
};
use common::*;
use serde_json::{json, Value};

const MAIN_SECRET: &str = "main-secret-0123456789-abcdefghijkl";
const PREVIOUS_SECRET: &str = "previous-secret-0123456789-abcdefg";
const RESET_SECRET: &str = "reset-secret-0123456789-abcdefghijk";
const VERIFY_SECRET: &str = "verify-secret-0123456789-abcdefghij";
const FIRST_PASSWORD: &str = "first-password-Zq81";
const WRONG_PASSWORD: &str = "wrong-password-Zq82";
const RESET_PASSWORD: &str = "reset-password-Zq83";
const PATCHED_PASSWORD: &str = "patched-password-Zq84";
const SMTP_PASSWORD: &str = "smtp-password-Zq85";
const URL_PASSWORD: &str = "url-password-Zq86";

const SECRETS: [&str; 10] = [
    MAIN_SECRET,
    PREVIOUS_SECRET,
    RESET_SECRET,
    VERIFY_SECRET,
    FIRST_PASSWORD,
    WRONG_PASSWORD,
    RESET_PASSWORD,
    PATCHED_PASSWORD,
    SMTP_PASSWORD,
    URL_PASSWORD,
];

/// Bearer JWTs, and cookie sessions in the `accesstoken` table.
#[derive(AuthConfig)]
#[backend(jwt, name = "jwt", lifetime = 3600)]
#[backend(cookie, name = "cookie", lifetime = 3600, strategy = database)]
struct Flow;

/// Everything every tracing event wrote, since the first call.
fn captured() -> &'static Mutex<Vec<u8>> {
    static LOG: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOG.get_or_init(|| {
        let log = Arc::new(Mutex::new(Vec::new()));
        let sink = log.clone();
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_span_events(tracing_subscriber::fmt::format::FmtSpan::FULL)
            .with_ansi(false)
            .with_writer(move || Sink(sink.clone()))
            .try_init()
            .expect("the only subscriber of this test binary");
        log
    })
}

struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Panics if `text` (named `what`) contains any of `secrets`.
fn assert_clean(what: &str, text: &str, secrets: &[String]) {
    for secret in secrets {
        assert!(
            !text.contains(secret.as_str()),
            "{what} contains the secret {secret:?}:\n{text}"
        );
    }
}

/// A JWT and its signature alone (any logged fragment that could be replayed or attacked).
fn token_parts(token: &str) -> Vec<String> {
    let mut parts = vec![token.to_owned()];
    if let Some((_, signature)) = token.rsplit_once('.') {
        parts.push(signature.to_owned());
    }
    parts
}

fn state_over(store: impl UserStore + TokenStore + Clone, mailer: CapturingMailer) -> AuthState {
    AuthState::builder::<Flow>()
        .secret(MAIN_SECRET)
        .previous_secret(PREVIOUS_SECRET)
        .reset_secret(RESET_SECRET)
        .verification_secret(VERIFY_SECRET)
        .issuer("https://auth.example.com")
        .store(store.clone())
        .database_tokens(store)
        .mailer(mailer)
        .password_hasher(hasher())
        .build()
        .unwrap()
}

/// The full flow; returns every token and hash it saw.
async fn flow(state: &AuthState, mailer: &CapturingMailer, email: &str) -> Vec<String> {
    let app: Router = app_for::<Flow>(state);
    let mut seen = Vec::new();

    let (status, _, body) = send(
        &app,
        post_json(
            "/auth/register",
            &json!({"email": email, "password": FIRST_PASSWORD}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    let (status, _, _) = send(
        &app,
        post_form("/auth/jwt/login", login_form(email, WRONG_PASSWORD)),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let bearer = login_bearer_on(&app, "jwt", email, FIRST_PASSWORD).await;
    let cookie = login_cookie_on(&app, "cookie", email, FIRST_PASSWORD).await;
    let session = cookie.split_once('=').unwrap().1.to_owned();
    seen.extend(token_parts(&bearer));
    seen.push(session.clone());
    for credential in [
        (Via::Bearer, bearer.as_str()),
        (Via::Cookie, session.as_str()),
    ] {
        let (status, _, _) = send(
            &app,
            request_json(Method::GET, "/users/me", Some(credential), None),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
    }

    let (status, _, _) = send(
        &app,
        post_json("/auth/forgot-password", &json!({"email": email})),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let reset = mailer.wait_for(1, "reset message").await[0].token.clone();
    seen.extend(token_parts(&reset));
    let (status, _, body) = send(
        &app,
        post_json(
            "/auth/reset-password",
            &json!({"token": reset, "password": RESET_PASSWORD}),
        ),
    )
    .await;
    assert_eq!((status, &body), (StatusCode::OK, &Value::Null));

    let (status, _, _) = send(
        &app,
        post_json("/auth/request-verify-token", &json!({"email": email})),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let verify = mailer.wait_for(2, "verification message").await[1]
        .token
        .clone();
    seen.extend(token_parts(&verify));
    let (status, _, body) = send(&app, post_json("/auth/verify", &json!({"token": verify}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let bearer = login_bearer_on(&app, "jwt", email, RESET_PASSWORD).await;
    seen.extend(token_parts(&bearer));
    let (status, _, body) = send(
        &app,
        request_json(
            Method::PATCH,
            "/users/me",
            Some((Via::Bearer, &bearer)),
            Some(&json!({"password": PATCHED_PASSWORD})),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let bearer = login_bearer_on(&app, "jwt", email, PATCHED_PASSWORD).await;
    let cookie = login_cookie_on(&app, "cookie", email, PATCHED_PASSWORD).await;
    let session = cookie.split_once('=').unwrap().1.to_owned();
    seen.extend(token_parts(&bearer));
    seen.push(session.clone());
    let (status, _, _) = send(
        &app,
        request_json(
            Method::POST,
            "/auth/jwt/logout",
            Some((Via::Bearer, &bearer)),
            None,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _, _) = send(
        &app,
        request_json(
            Method::POST,
            "/auth/cookie/logout",
            Some((Via::Cookie, &session)),
            None,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    let user = state.store().get_by_email(email).await.unwrap().unwrap();
    seen.push(user.hashed_password.clone());

    // The state's Debug output, and that of what carries a password or a token.
    let authenticated = Authenticated {
        user: user.clone(),
        backend: state.backends()[0],
        token: bearer.clone(),
    };
    let mut all: Vec<String> = SECRETS.iter().map(|s| s.to_string()).collect();
    all.extend(seen.iter().cloned());
    for (what, text) in [
        ("AuthState", format!("{state:?} {state:#?}")),
        (
            "JwtKeys",
            format!(
                "{:?} {:?} {:?}",
                state.keys(),
                state.reset_keys(),
                state.verify_keys()
            ),
        ),
        ("PasswordHasher", format!("{:?}", state.hasher())),
        ("User", format!("{user:?} {user:#?}")),
        ("Authenticated", format!("{authenticated:?}")),
        ("CurrentUser", format!("{:?}", CurrentUser(user.clone()))),
        (
            "NewUser",
            format!("{:?}", NewUser::new(email, FIRST_PASSWORD)),
        ),
        ("Mail", format!("{:?}", mailer.taken())),
    ] {
        assert_clean(what, &text, &all);
    }
    seen
}

#[tokio::test]
async fn no_secret_in_logs_or_debug_output() {
    let log = captured();

    let sqlite = SqliteStore::connect("sqlite::memory:").await.unwrap();
    assert_clean("SqliteStore", &format!("{sqlite:?}"), &[]);
    let mailer = CapturingMailer::default();
    let state = state_over(sqlite, mailer.clone());
    let mut seen = flow(&state, &mailer, "alice@example.com").await;

    // PostgreSQL, reached through a URL with a password (ignored by a `trust` server).
    if let Some(pg) = common::services::postgres().await {
        let url = with_password(&pg.url);
        let store = PgStore::connect_with(&url, PgStoreOptions::new())
            .await
            .unwrap();
        assert_clean(
            "PgStore",
            &format!("{store:?} {store:#?}"),
            &[URL_PASSWORD.into()],
        );
        let mailer = CapturingMailer::default();
        let state = state_over(store, mailer.clone());
        seen.extend(flow(&state, &mailer, "bob@example.com").await);
    }

    let text = String::from_utf8(log.lock().unwrap().clone()).unwrap();
    if std::env::var_os("AUTH_TEST_DUMP_LOG").is_some() {
        std::fs::write("/tmp/secrets-log.txt", &text).unwrap();
    }
    // The capture works: the library's own spans and events (the SQL driver's, the router's)
    // are in it.
    assert!(text.contains("TRACE") || text.contains("DEBUG"), "{text}");
    assert!(text.contains("sqlx"), "no store event captured:\n{text}");
    let mut all: Vec<String> = SECRETS.iter().map(|s| s.to_string()).collect();
    all.extend(seen);
    assert_clean("the log", &text, &all);
}

/// `url` with [`URL_PASSWORD`] as the password when it has none.
fn with_password(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (userinfo, host) = rest.split_once('@').unwrap_or(("postgres", rest));
    if userinfo.contains(':') {
        return url.to_owned();
    }
    format!("{scheme}://{userinfo}:{URL_PASSWORD}@{host}")
}

#[tokio::test]
async fn configuration_types_print_no_secret() {
    let secrets: Vec<String> = SECRETS.iter().map(|s| s.to_string()).collect();
    let keys = JwtKeys::hs256(MAIN_SECRET)
        .unwrap()
        .with_previous(JwtKeys::hs256(PREVIOUS_SECRET).unwrap())
        .unwrap();
    let debug = format!("{keys:?} {keys:#?}");
    assert_clean("JwtKeys", &debug, &secrets);
    assert!(debug.contains(keys.kid()), "{debug}");

    let builder = SmtpMailer::builder("smtp.example.com")
        .credentials("mailer", SMTP_PASSWORD)
        .from("no-reply@example.com");
    assert_clean("SmtpMailerBuilder", &format!("{builder:?}"), &secrets);
    let mailer = builder.build().unwrap();
    assert_clean("SmtpMailer", &format!("{mailer:?} {mailer:#?}"), &secrets);

    let redis = RedisTokenStore::connect_lazy(&format!("redis://:{URL_PASSWORD}@127.0.0.1:6379/0"))
        .unwrap();
    assert_clean(
        "RedisTokenStore",
        &format!("{redis:?} {redis:#?}"),
        &secrets,
    );
    let redis =
        RedisTokenStore::connect_lazy(&format!("redis://user:{URL_PASSWORD}@127.0.0.1:6379/0"))
            .unwrap();
    assert_clean("RedisTokenStore", &format!("{redis:?}"), &secrets);
    assert_clean(
        "PgStoreOptions",
        &format!("{:?}", PgStoreOptions::new()),
        &secrets,
    );
    assert_clean(
        "ConfigError",
        &format!(
            "{:?}",
            AuthState::builder::<Flow>()
                .secret(&MAIN_SECRET[..20])
                .store(MemoryStore::new())
                .build()
                .unwrap_err()
        ),
        &[MAIN_SECRET[..20].to_owned()],
    );
}

/// `target/<profile>/examples/quickstart` when built after its sources changed; `None`
/// (skipped locally, a failure under CI) otherwise. See tests/instances.rs.
fn quickstart_binary() -> Option<std::path::PathBuf> {
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
    let exe = std::env::current_exe().unwrap();
    let binary = exe
        .parent()
        .and_then(|deps| deps.parent())
        .unwrap()
        .join("examples")
        .join(format!("quickstart{}", std::env::consts::EXE_SUFFIX));
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut sources = None;
    for dir in [
        "examples/quickstart.rs",
        "src",
        "auth-runtime/src",
        "auth-macros/src",
    ] {
        walk(&root.join(dir), &mut sources);
    }
    let problem = match std::fs::metadata(&binary).and_then(|m| m.modified()) {
        Err(_) => "is not built",
        Ok(built) if sources > Some(built) => "is older than its sources",
        Ok(_) => return Some(binary),
    };
    let message = format!(
        "the quickstart at {} {problem}: run `cargo build --example quickstart` first",
        binary.display()
    );
    if std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "0" && v != "false") {
        panic!("{message}");
    }
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED quickstart_logs_no_secret: {message}"
    );
    None
}

/// Starts the quickstart with `env` (TRACE logs) and returns its output once it printed
/// `until`, or exited.
fn quickstart_output(binary: &std::path::Path, env: &[(&str, &str)], until: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.log");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let file = std::fs::File::create(&out).unwrap();
    let mut child = std::process::Command::new(binary)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("AUTH_BIND", format!("127.0.0.1:{port}"))
        .env(
            "AUTH_DATABASE_URL",
            format!("sqlite://{}", dir.path().join("users.db").display()),
        )
        .env("RUST_LOG", "trace")
        .env("NO_COLOR", "1")
        .envs(env.iter().copied())
        .current_dir(dir.path())
        .stdin(std::process::Stdio::null())
        .stdout(file.try_clone().unwrap())
        .stderr(file)
        .spawn()
        .unwrap();
    let read = || std::fs::read_to_string(&out).unwrap_or_default();
    // At most 20 s to start (a bound, not a measure).
    for _ in 0..200 {
        if read().contains(until) || child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    read()
}

#[test]
fn quickstart_logs_no_secret() {
    let Some(binary) = quickstart_binary() else {
        return;
    };
    let previous = format!("{PREVIOUS_SECRET}  \n {RESET_SECRET}");
    let env = [
        ("AUTH_SECRET", MAIN_SECRET),
        ("AUTH_PREVIOUS_SECRETS", previous.as_str()),
        ("AUTH_JWT_ISSUER", "https://auth.example.com"),
    ];
    let log = quickstart_output(&binary, &env, "listening on");
    assert!(log.contains("listening on"), "{log}");
    let kid = |secret| JwtKeys::hs256(secret).unwrap().kid().to_owned();
    let line = log
        .lines()
        .find(|l| l.contains("JWT keys"))
        .unwrap_or_else(|| panic!("no key line:\n{log}"));
    assert!(line.contains(&kid(MAIN_SECRET)), "{line}");
    assert!(
        line.contains(&format!("{}, {}", kid(PREVIOUS_SECRET), kid(RESET_SECRET))),
        "{line}"
    );
    assert!(line.contains("https://auth.example.com"), "{line}");
    let secrets: Vec<String> = SECRETS.iter().map(|s| s.to_string()).collect();
    assert_clean("the quickstart's log", &log, &secrets);

    // A previous secret too short: the service refuses to start, and says why without it.
    let env = [
        ("AUTH_SECRET", MAIN_SECRET),
        ("AUTH_PREVIOUS_SECRETS", "short-previous-secret"),
    ];
    let log = quickstart_output(&binary, &env, "listening on");
    assert!(!log.contains("listening on"), "{log}");
    assert!(log.contains("at least 32 bytes"), "{log}");
    assert_clean(
        "the quickstart's log",
        &log,
        &[MAIN_SECRET.into(), "short-previous-secret".into()],
    );
}
