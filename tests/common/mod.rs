//! Shared helpers of the integration tests: apps, requests, logins and a hand-made HS256 minter.
#![allow(dead_code)]

pub mod proxy;
pub mod services;

use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::routing::get;
use axum::{Json, Router};
use axum_users::prelude::*;
use axum_users::InvalidPassword;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use sha2::{Sha256, Sha512};
use tower::ServiceExt;

/// The HS256 secret of every test app.
pub const SECRET: &str = "0123456789abcdef0123456789abcdef";
/// A password the default policy accepts.
pub const PASSWORD: &str = "correct horse battery";

/// The standard configuration: bearer first, then cookie.
#[derive(AuthConfig)]
#[allow(clippy::duplicated_attributes)] // rust-lang/rust-clippy#13238
#[backend(jwt, name = "jwt", lifetime = 3600)]
#[backend(cookie, name = "cookie", lifetime = 3600)]
pub struct Auth;

fn user_json(user: &User) -> Value {
    json!({ "id": user.id.to_string(), "email": user.email })
}

#[protected]
pub async fn me(user: CurrentUser) -> Json<Value> {
    Json(user_json(&user))
}

#[protected(superuser)]
pub async fn admin(user: CurrentUser) -> Json<Value> {
    Json(user_json(&user))
}

#[protected(verified)]
pub async fn verified(user: CurrentUser) -> Json<Value> {
    Json(user_json(&user))
}

#[protected(optional)]
pub async fn maybe(user: Option<CurrentUser>) -> Json<Value> {
    Json(json!({ "user": user.map(|u| user_json(&u)) }))
}

#[protected(backends("cookie"))]
pub async fn cookie_only(user: CurrentUser) -> Json<Value> {
    Json(user_json(&user))
}

/// The cheap argon2 parameters every test uses.
pub fn hasher() -> PasswordHasher {
    PasswordHasher::with_params(1024, 1, 1).unwrap()
}

/// A state for `C` with the test secret, the cheap hasher and `store`.
pub fn state_for<C: axum_users::AuthConfig>(store: impl UserStore) -> AuthState {
    AuthState::builder::<C>()
        .secret(SECRET)
        .store(store)
        .password_hasher(hasher())
        .build()
        .unwrap()
}

/// The standard state over a fresh `MemoryStore`.
pub fn memory_state() -> AuthState {
    state_for::<Auth>(MemoryStore::new())
}

/// The standard state over an in-memory SQLite database.
pub async fn sqlite_state() -> AuthState {
    state_for::<Auth>(SqliteStore::connect("sqlite::memory:").await.unwrap())
}

/// The standard routes (`/me`, `/admin`, `/verified`, `/maybe`, `/cookie-only`) plus the
/// generated routes of `C`, with `state`.
pub fn app_for<C: axum_users::AuthConfig>(state: &AuthState) -> Router {
    Router::new()
        .route("/me", get(me))
        .route("/admin", get(admin))
        .route("/verified", get(verified))
        .route("/maybe", get(maybe))
        .route("/cookie-only", get(cookie_only))
        .merge(C::router())
        .with_state(state.clone())
}

/// [`app_for`] with the standard configuration.
pub fn app(state: &AuthState) -> Router {
    app_for::<Auth>(state)
}

/// Sends `request`; the body is parsed as JSON (`Null` when empty, a string when not JSON).
pub async fn send(app: &Router, request: Request<Body>) -> (StatusCode, HeaderMap, Value) {
    let (status, headers, bytes) = send_raw(app, request).await;
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
    };
    (status, headers, body)
}

/// Sends `request` and returns the raw body bytes.
pub async fn send_raw(app: &Router, request: Request<Body>) -> (StatusCode, HeaderMap, Vec<u8>) {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    (status, headers, bytes)
}

/// A form-encoded `username`/`password` body.
pub fn login_form(email: &str, password: &str) -> String {
    form_urlencoded(&[("username", email), ("password", password)])
}

/// Encodes form fields.
pub fn form_urlencoded(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn encode_component(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The `Host` of the requests the helpers build.
pub const HOST: &str = "axum-users.test";
/// The `Origin` of the requests the helpers build: same-origin, as a browser's from the
/// application's own pages, so that cookie backends' CSRF check lets them through
/// (`tests/csrf.rs` builds its cross-site requests itself).
pub const ORIGIN: &str = "http://axum-users.test";

/// Adds [`HOST`] and the same-origin [`ORIGIN`].
pub fn same_origin(builder: axum::http::request::Builder) -> axum::http::request::Builder {
    builder
        .header(header::HOST, HOST)
        .header(header::ORIGIN, ORIGIN)
}

/// `POST path` with a form body.
pub fn post_form(path: &str, body: impl Into<String>) -> Request<Body> {
    same_origin(Request::builder())
        .method(Method::POST)
        .uri(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body.into()))
        .unwrap()
}

/// `POST path` with a JSON body.
pub fn post_json(path: &str, body: &Value) -> Request<Body> {
    same_origin(Request::builder())
        .method(Method::POST)
        .uri(path)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

/// `POST path` without body, with optional bearer token and cookie header.
pub fn post_with(path: &str, bearer: Option<&str>, cookie: Option<&str>) -> Request<Body> {
    request_with(Method::POST, path, bearer, cookie)
}

/// `GET path` with optional bearer token and cookie header.
pub fn get_with(path: &str, bearer: Option<&str>, cookie: Option<&str>) -> Request<Body> {
    request_with(Method::GET, path, bearer, cookie)
}

fn request_with(
    method: Method,
    path: &str,
    bearer: Option<&str>,
    cookie: Option<&str>,
) -> Request<Body> {
    let mut builder = same_origin(Request::builder()).method(method).uri(path);
    if let Some(token) = bearer {
        builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    if let Some(cookie) = cookie {
        builder = builder.header(header::COOKIE, cookie);
    }
    builder.body(Body::empty()).unwrap()
}

/// `GET path` without credentials.
pub fn get_anon(path: &str) -> Request<Body> {
    get_with(path, None, None)
}

/// `GET path` with a bearer token.
pub fn get_bearer(path: &str, token: &str) -> Request<Body> {
    get_with(path, Some(token), None)
}

/// `GET path` with a `Cookie` header.
pub fn get_cookie(path: &str, cookie: &str) -> Request<Body> {
    get_with(path, None, Some(cookie))
}

/// Logs in on the bearer backend `backend` and returns the access token.
pub async fn login_bearer_on(app: &Router, backend: &str, email: &str, password: &str) -> String {
    let (status, _, body) = send(
        app,
        post_form(
            &format!("/auth/{backend}/login"),
            login_form(email, password),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "login failed: {body}");
    body["access_token"].as_str().unwrap().to_owned()
}

/// Logs in on the `jwt` backend and returns the access token.
pub async fn login_jwt(app: &Router, email: &str, password: &str) -> String {
    login_bearer_on(app, "jwt", email, password).await
}

/// Logs in on the cookie backend `backend` and returns the `name=value` pair to send back in a
/// `Cookie` header.
pub async fn login_cookie_on(app: &Router, backend: &str, email: &str, password: &str) -> String {
    let (status, headers, body) = send(
        app,
        post_form(
            &format!("/auth/{backend}/login"),
            login_form(email, password),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "login failed: {body}");
    let set_cookie = headers
        .get(header::SET_COOKIE)
        .expect("a Set-Cookie header")
        .to_str()
        .unwrap();
    set_cookie.split(';').next().unwrap().to_owned()
}

/// Logs in on the `cookie` backend and returns the `Cookie` header value.
pub async fn login_cookie(app: &Router, email: &str, password: &str) -> String {
    login_cookie_on(app, "cookie", email, password).await
}

/// Creates a user with the given flags through the state (policy and e-mail checks included).
pub async fn create_user(
    state: &AuthState,
    email: &str,
    password: &str,
    is_active: bool,
    is_superuser: bool,
    is_verified: bool,
) -> User {
    state
        .create_user(NewUser {
            email: email.to_owned(),
            password: password.to_owned(),
            is_active,
            is_superuser,
            is_verified,
            fields: Default::default(),
        })
        .await
        .unwrap()
}

/// An active, unverified, regular user with [`PASSWORD`].
pub async fn regular_user(state: &AuthState, email: &str) -> User {
    create_user(state, email, PASSWORD, true, false, false).await
}

/// Reads the stored user with `id`.
pub async fn stored(state: &AuthState, id: uuid::Uuid) -> User {
    state
        .store()
        .get(id)
        .await
        .unwrap()
        .expect("user is stored")
}

/// Changes a stored user.
pub async fn modify(state: &AuthState, id: uuid::Uuid, change: impl FnOnce(&mut User)) {
    let mut user = stored(state, id).await;
    change(&mut user);
    assert!(state.store().update(&user).await.unwrap());
}

/// Seconds since the epoch.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// base64url without padding.
pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes one base64url part of a JWT into JSON.
pub fn decode_part(part: &str) -> Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("JSON")
}

/// The (header, payload) of a JWT, unverified.
pub fn decode_jwt(token: &str) -> (Value, Value) {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "a JWT has three parts: {token}");
    (decode_part(parts[0]), decode_part(parts[1]))
}

/// HMAC-SHA256 of `data`, base64url.
pub fn hs256_signature(secret: &[u8], data: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).unwrap();
    mac.update(data.as_bytes());
    b64(&mac.finalize().into_bytes())
}

/// HMAC-SHA512 of `data`, base64url.
pub fn hs512_signature(secret: &[u8], data: &str) -> String {
    let mut mac = Hmac::<Sha512>::new_from_slice(secret).unwrap();
    mac.update(data.as_bytes());
    b64(&mac.finalize().into_bytes())
}

/// Mints a token by hand: `header` and `payload` serialised as given, HS256 over them with
/// `secret` (whatever `header` says).
pub fn mint_with(secret: &[u8], header: &Value, payload: &Value) -> String {
    let signing_input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(payload.to_string().as_bytes())
    );
    let signature = hs256_signature(secret, &signing_input);
    format!("{signing_input}.{signature}")
}

/// Mints an HS256 token with the test secret and the standard header.
pub fn mint(payload: &Value) -> String {
    mint_with(
        SECRET.as_bytes(),
        &json!({"alg": "HS256", "typ": "JWT"}),
        payload,
    )
}

/// A valid access token for `id`, minted by hand (exp = now + 3600).
pub fn mint_access(id: &str) -> String {
    mint(&json!({"sub": id, "aud": ["fastapi-users:auth"], "exp": now() + 3600}))
}

/// A password policy for tests: at least 12 characters, not containing the e-mail's local part.
pub struct StrictPolicy;

#[axum_users::async_trait]
impl UserManager for StrictPolicy {
    async fn validate_password(&self, password: &str, email: &str) -> Result<(), InvalidPassword> {
        if password.chars().count() < 12 {
            return Err(InvalidPassword::new(
                "Password should be at least 12 characters",
            ));
        }
        let local = email.split('@').next().unwrap_or_default().to_lowercase();
        if password.to_lowercase().contains(&local) {
            return Err(InvalidPassword::new("Password should not contain e-mail"));
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Lifecycle helpers (tests/lifecycle_matrix.rs, tests/tokens_lifecycle.rs, tests/hooks.rs).
// ---------------------------------------------------------------------------------------------

/// [`Auth`]'s backends (bearer first, then cookie) with fastapi-users' `requires_verification`.
pub struct StrictAuth;

impl axum_users::AuthConfig for StrictAuth {
    const BACKENDS: &'static [axum_users::BackendSpec] = <Auth as axum_users::AuthConfig>::BACKENDS;
    const REQUIRES_VERIFICATION: bool = true;
}

/// A [`Mailer`](axum_users::Mailer) that keeps every message it is given.
#[derive(Clone, Default)]
pub struct CapturingMailer {
    /// The messages, in sending order.
    pub mails: std::sync::Arc<std::sync::Mutex<Vec<axum_users::Mail>>>,
}

#[axum_users::async_trait]
impl axum_users::Mailer for CapturingMailer {
    async fn send(&self, mail: &axum_users::Mail) -> Result<(), axum_users::MailError> {
        self.mails.lock().unwrap().push(mail.clone());
        Ok(())
    }
}

impl CapturingMailer {
    /// The messages so far.
    pub fn taken(&self) -> Vec<axum_users::Mail> {
        self.mails.lock().unwrap().clone()
    }

    /// Waits (10 ms steps, at most 2 s) until at least `n` messages came, and returns them all;
    /// panics with `context` otherwise. Messages are sent by a task that runs after the answer.
    pub async fn wait_for(&self, n: usize, context: &str) -> Vec<axum_users::Mail> {
        for _ in 0..200 {
            let mails = self.taken();
            if mails.len() >= n {
                return mails;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!(
            "{context}: expected {n} message(s) within 2 s, got {:?}",
            self.taken()
        );
    }

    /// The messages after giving background tasks `ms` milliseconds: for "nothing is sent".
    pub async fn after(&self, ms: u64) -> Vec<axum_users::Mail> {
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
        self.taken()
    }
}

/// How a request carries its access token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// `Authorization: Bearer <token>`.
    Bearer,
    /// `Cookie: fastapiusersauth=<token>`.
    Cookie,
}

impl Via {
    /// Both transports of [`Auth`].
    pub const ALL: [Via; 2] = [Via::Bearer, Via::Cookie];
}

/// `method path` with an optional credential and an optional JSON body.
pub fn request_json(
    method: Method,
    path: &str,
    credential: Option<(Via, &str)>,
    body: Option<&Value>,
) -> Request<Body> {
    let mut builder = same_origin(Request::builder()).method(method).uri(path);
    match credential {
        Some((Via::Bearer, token)) => {
            builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        Some((Via::Cookie, token)) => {
            builder = builder.header(header::COOKIE, format!("fastapiusersauth={token}"));
        }
        None => {}
    }
    match body {
        Some(body) => builder
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap(),
        None => builder.body(Body::empty()).unwrap(),
    }
}

/// The user JSON fastapi-users answers for `user` (no custom fields).
pub fn user_read(user: &User) -> Value {
    json!({
        "id": user.id.hyphenated().to_string(),
        "email": user.email,
        "is_active": user.is_active,
        "is_superuser": user.is_superuser,
        "is_verified": user.is_verified,
    })
}

/// Whether `email`/`password` pass the credential check (active or not), read from the store.
pub async fn password_matches(state: &AuthState, email: &str, password: &str) -> bool {
    state
        .check_credentials(email, password)
        .await
        .unwrap()
        .is_some()
}
