//! A small server-rendered web app on the cookie backend, for a real browser: a login page,
//! a private page with the user's notes, a logout button; and, on a second port, an
//! "attacker" page that tries cross-site form posts against it. `tests/browser/run.sh` drives
//! both in headless Chromium.
//!
//! ```text
//! AUTH_COOKIE_SECURE=false cargo run --example browser
//! # then open http://127.0.0.1:8000/ and sign in as demo@example.com / demo-password
//! ```
//!
//! Routes of the app:
//! - `GET /`: the login form. A small script (`/app.js`) posts it with `fetch` as
//!   `application/x-www-form-urlencoded` to the generated `POST /auth/cookie/login`, which
//!   answers 204 with the session cookie; the script then goes to `/private`, or shows the
//!   error code (`LOGIN_BAD_CREDENTIALS`, ...).
//! - `GET /private` (`#[protected]`): the user's e-mail and notes, a form adding a note, and a
//!   logout button (the script posts `POST /auth/cookie/logout`, then goes back to `/`).
//!   Without a valid cookie: 401 `{"detail":"Unauthorized"}`.
//! - `POST /private/notes` (`#[protected]`): adds a note (form field `text`), then 303 to
//!   `/private`; a state-changing, cookie-authenticated request, so the CSRF check guards it.
//!
//! The attacker (`AUTH_ATTACKER_BIND`) serves `GET /` (an auto-submitting form posting a note to
//! the app) and `GET /login` (an auto-submitting form logging the visitor in to the attacker's
//! account, `mallory@example.com`: login CSRF). Both listen on 127.0.0.1 by default, on two
//! ports: the two origins differ (the port is part of the origin) but the *site* is the same
//! (a site is scheme + registrable host; ports do not count), so the browser's `SameSite=Lax`
//! does not withhold the cookie from the attacker's POST. Only the CSRF check refuses it
//! (403 `{"detail":"CSRF_FAILED"}`): this setup tests the check itself. (An attacker on
//! `localhost` would be another site, and `SameSite=Lax` alone would already keep the cookie.)
//!
//! Environment:
//! - `AUTH_BIND` (default `127.0.0.1:8000`; port 0 picks a free port)
//! - `AUTH_ATTACKER_BIND` (default `127.0.0.1:8001`; port 0 picks a free port)
//! - `AUTH_DATABASE_URL` (default: a new SQLite file in a temporary directory, removed on exit)
//! - `AUTH_SECRET` (at least 32 bytes; default: a random secret)
//! - `AUTH_COOKIE_SECURE` (default `false` here: the app is served over plain http)
//! - `AUTH_DEMO_USER=email:password` (default `demo@example.com:demo-password`), created at
//!   start unless it exists
//!
//! Once both listeners are up it prints `APP_URL=http://...` and `ATTACKER_URL=http://...` on
//! standard output.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::{FromRef, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use axum_users::prelude::*;
use base64::Engine as _;
use serde::Deserialize;
use tokio::net::TcpListener;
use uuid::Uuid;

/// One cookie backend with server-side sessions (table `accesstoken`), so that logging out
/// ends the session itself, not only the browser's copy of the cookie; `secure` is decided at
/// run time (`AUTH_COOKIE_SECURE`).
#[derive(AuthConfig)]
#[backend(cookie, name = "cookie", lifetime = 3600, strategy = database)]
struct Auth;

/// The attacker's own account, used by the login-CSRF page (the test registers it).
const MALLORY: (&str, &str) = ("mallory@example.com", "mallory-password");

/// At most this many notes per user, of at most `NOTE_CHARS` characters.
const MAX_NOTES: usize = 50;
const NOTE_CHARS: usize = 200;

/// The application's state: the auth state and the notes, in memory.
#[derive(Clone)]
struct App {
    auth: AuthState,
    notes: Arc<Mutex<HashMap<Uuid, Vec<String>>>>,
}

impl FromRef<App> for AuthState {
    fn from_ref(app: &App) -> AuthState {
        app.auth.clone()
    }
}

/// The HTML pages' policy: scripts only from this origin (no inline script), forms only to it,
/// no framing.
const CSP: &str = "default-src 'self'; script-src 'self'; form-action 'self'; \
                   frame-ancestors 'none'; base-uri 'none'";

/// An HTML page with the app's security headers; `private` pages are never cached, so that
/// after logout the back button does not show them.
fn page(title: &str, body: &str, private: bool) -> Response {
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>{title}</title></head>\n<body>\n{body}\n\
         <script src=\"/app.js\"></script>\n</body></html>\n",
        title = escape(title)
    );
    let mut response = Html(html).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if private {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// Text for HTML element content and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

async fn login_page() -> Response {
    page(
        "Sign in",
        r#"<h1>Sign in</h1>
<form id="login" method="post" action="/auth/cookie/login">
  <label>E-mail <input id="username" name="username" type="email" autocomplete="username" required></label>
  <label>Password <input id="password" name="password" type="password" autocomplete="current-password" required></label>
  <button id="submit" type="submit">Sign in</button>
</form>
<p id="status" role="status"></p>"#,
        false,
    )
}

/// The front end: log in and out through the generated routes with `fetch`. The login route
/// answers 204 (fastapi-users' cookie transport), which a plain form post would leave on a
/// blank screen; the script turns it into a navigation, and an error into a message.
const APP_JS: &str = r#""use strict";
const login = document.getElementById("login");
if (login) {
  login.addEventListener("submit", async (event) => {
    event.preventDefault();
    const status = document.getElementById("status");
    status.textContent = "Signing in...";
    let response;
    try {
      response = await fetch("/auth/cookie/login", {
        method: "POST",
        body: new URLSearchParams(new FormData(login)),
        credentials: "same-origin",
      });
    } catch (err) {
      status.textContent = "Login failed: the server cannot be reached.";
      return;
    }
    if (response.status === 204) {
      location.assign("/private");
      return;
    }
    let code = String(response.status);
    try {
      const body = await response.json();
      code = typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail);
    } catch (err) {}
    const text = code === "LOGIN_BAD_CREDENTIALS" ? "wrong e-mail or password" : "refused";
    status.textContent = `Login failed: ${text} (${code}).`;
  });
}
const logout = document.getElementById("logout");
if (logout) {
  logout.addEventListener("submit", async (event) => {
    event.preventDefault();
    await fetch("/auth/cookie/logout", { method: "POST", credentials: "same-origin" });
    location.assign("/");
  });
}
"#;

async fn app_js() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        APP_JS,
    )
        .into_response()
}

#[protected]
async fn private_page(user: CurrentUser, State(app): State<App>) -> Response {
    let notes = app
        .notes
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .get(&user.id)
        .cloned()
        .unwrap_or_default();
    let items: String = notes
        .iter()
        .map(|note| format!("  <li>{}</li>\n", escape(note)))
        .collect();
    let body = format!(
        r#"<h1>Private</h1>
<p id="who">Signed in as <strong id="email">{email}</strong></p>
<h2>Notes</h2>
<ul id="notes">
{items}</ul>
<form id="add-note" method="post" action="/private/notes">
  <input id="note" name="text" maxlength="{NOTE_CHARS}" required>
  <button type="submit">Add note</button>
</form>
<form id="logout" method="post" action="/auth/cookie/logout">
  <button id="logout-button" type="submit">Log out</button>
</form>"#,
        email = escape(&user.email)
    );
    page("Private", &body, true)
}

#[derive(Deserialize)]
struct Note {
    text: String,
}

/// Adds a note: a cookie-authenticated POST that changes state, which is what a cross-site form
/// would aim at.
#[protected]
async fn add_note(user: CurrentUser, State(app): State<App>, Form(note): Form<Note>) -> Response {
    let text = note.text.trim();
    if text.is_empty() || text.chars().count() > NOTE_CHARS {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("a note has 1 to {NOTE_CHARS} characters"),
        )
            .into_response();
    }
    let mut notes = app
        .notes
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let list = notes.entry(user.id).or_default();
    if list.len() >= MAX_NOTES {
        list.remove(0);
    }
    list.push(text.to_owned());
    Redirect::to("/private").into_response()
}

/// The attacker's site: pages whose forms post, cross-site, to the app at `target`.
fn attacker(target: &str) -> Router {
    let note = format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>You won!</title></head><body>
<h1>Claim your prize</h1>
<form id="csrf" method="post" action="{target}/private/notes">
  <input type="hidden" name="text" value="pwned by the attacker">
</form>
<script>document.getElementById("csrf").submit();</script>
</body></html>
"#
    );
    let login = format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Loading...</title></head><body>
<form id="csrf" method="post" action="{target}/auth/cookie/login">
  <input type="hidden" name="username" value="{user}">
  <input type="hidden" name="password" value="{password}">
</form>
<script>document.getElementById("csrf").submit();</script>
</body></html>
"#,
        user = MALLORY.0,
        password = MALLORY.1
    );
    Router::new()
        .route("/", get(move || async move { Html(note) }))
        .route("/login", get(move || async move { Html(login) }))
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

async fn create_demo_user(state: &AuthState, spec: &str) -> Result<(), String> {
    let (email, password) = spec
        .split_once(':')
        .ok_or("AUTH_DEMO_USER must be email:password")?;
    let existing = state
        .store()
        .get_by_email(email)
        .await
        .map_err(|e| e.to_string())?;
    if existing.is_some() {
        tracing::info!("demo user {email} already exists");
        return Ok(());
    }
    let user = state
        .create_user(NewUser::new(email, password))
        .await
        .map_err(|err| format!("cannot create the demo user: {}", err.body()))?;
    tracing::info!("created demo user {}", user.email);
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}

async fn run() -> Result<(), String> {
    let bind = env("AUTH_BIND").unwrap_or_else(|| "127.0.0.1:8000".into());
    let attacker_bind = env("AUTH_ATTACKER_BIND").unwrap_or_else(|| "127.0.0.1:8001".into());
    // Kept until the end of `run`: the default database lives in it.
    let mut _temp_dir = None;
    let database_url = match env("AUTH_DATABASE_URL") {
        Some(url) => url,
        None => {
            let dir = tempfile::tempdir().map_err(|e| format!("cannot make a temp dir: {e}"))?;
            let url = format!("sqlite://{}", dir.path().join("browser.db").display());
            _temp_dir = Some(dir);
            url
        }
    };
    let secret = env("AUTH_SECRET").unwrap_or_else(|| {
        base64::engine::general_purpose::STANDARD.encode(rand::random::<[u8; 48]>())
    });
    let cookie_secure = match env("AUTH_COOKIE_SECURE").as_deref() {
        None | Some("false" | "0" | "no") => false,
        Some("true" | "1" | "yes") => true,
        Some(other) => {
            return Err(format!(
                "AUTH_COOKIE_SECURE must be true or false, not {other:?}"
            ))
        }
    };
    let store = SqliteStore::connect(&database_url)
        .await
        .map_err(|e| format!("cannot open {database_url}: {e}"))?;
    let auth = AuthState::builder::<Auth>()
        .secret(secret)
        .store(store.clone())
        .database_tokens(store)
        .cookie_secure(cookie_secure)
        .build()
        .map_err(|e| e.to_string())?;
    let demo = env("AUTH_DEMO_USER").unwrap_or_else(|| "demo@example.com:demo-password".into());
    create_demo_user(&auth, &demo).await?;

    let listener = TcpListener::bind(&bind)
        .await
        .map_err(|e| format!("cannot listen on {bind}: {e}"))?;
    let attacker_listener = TcpListener::bind(&attacker_bind)
        .await
        .map_err(|e| format!("cannot listen on {attacker_bind}: {e}"))?;
    let app_addr = listener.local_addr().map_err(|e| e.to_string())?;
    let attacker_addr = attacker_listener.local_addr().map_err(|e| e.to_string())?;
    let app_url = format!("http://{app_addr}");
    let attacker_url = format!("http://{attacker_addr}");

    let app = Router::new()
        .route("/", get(login_page))
        .route("/app.js", get(app_js))
        .route("/private", get(private_page))
        .route("/private/notes", post(add_note))
        .merge(Auth::router())
        .with_state(App {
            auth,
            notes: Arc::default(),
        });
    tracing::info!("app on {app_url}, attacker on {attacker_url} (users in {database_url})");
    println!("APP_URL={app_url}");
    println!("ATTACKER_URL={attacker_url}");

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(());
    let app_server = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown({
        let mut stop = stop_rx.clone();
        async move {
            let _ = stop.changed().await;
        }
    });
    let attacker_server = axum::serve(attacker_listener, attacker(&app_url))
        .with_graceful_shutdown({
            let mut stop = stop_rx;
            async move {
                let _ = stop.changed().await;
            }
        });
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutting down");
        let _ = stop_tx.send(());
    });
    let (app_result, attacker_result) = tokio::join!(app_server, attacker_server);
    app_result.map_err(|e| e.to_string())?;
    attacker_result.map_err(|e| e.to_string())?;
    Ok(())
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .init();
    if let Err(err) = run().await {
        tracing::error!("{err}");
        std::process::exit(1);
    }
}
