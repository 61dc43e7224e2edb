//! Micro-benchmarks: axum-users beside the hand-written axum + jsonwebtoken code it replaces,
//! each pair in one criterion group so that the ratio reads from one run (`cargo bench`).
//!
//! - `token_issue`: [`JwtKeys::access_token`] vs `jsonwebtoken::encode` of the same claims;
//! - `token_verify`: [`JwtKeys::read_access_token`] vs `jsonwebtoken::decode` with the same
//!   `Validation` (HS256, audience, `exp`/`aud`/`sub` required, `nbf`, `exp <= now` expired);
//! - `guard_{jwt,cookie}_{memory,sqlite}`: `GET /me` through the router with `oneshot`, a
//!   `#[protected]` handler answering the user's e-mail, vs a hand-written axum handler that
//!   takes the bearer token (or the cookie), decodes it with jsonwebtoken and reads the user from
//!   the same store (`MemoryStore`, in-memory `SqliteStore`);
//! - `reject_401_{jwt,cookie}`: the same routes with a token signed by another secret.
//!
//! See `benches/README.md` for the figures.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use axum_users::prelude::*;
use axum_users::JwtKeys;
use criterion::{criterion_group, Criterion};
use http_body_util::BodyExt;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use tower::ServiceExt;
use uuid::Uuid;

const SECRET: &str = "0123456789abcdef0123456789abcdef";
const OTHER_SECRET: &str = "fedcba9876543210fedcba9876543210";
const AUDIENCE: &str = "fastapi-users:auth";
const COOKIE: &str = "fastapiusersauth";
const EMAIL: &str = "bench@example.com";

#[derive(AuthConfig)]
#[allow(clippy::duplicated_attributes)] // rust-lang/rust-clippy#13238
#[backend(jwt, name = "jwt", lifetime = 3600)]
#[backend(cookie, name = "cookie", lifetime = 3600, secure = false)]
struct Auth;

#[protected]
async fn me(user: CurrentUser) -> String {
    user.email.clone()
}

#[protected(backends("cookie"))]
async fn cookie_only(user: CurrentUser) -> String {
    user.email.clone()
}

// ---------------------------------------------------------------- the hand-written equivalent

#[derive(Serialize)]
struct HandClaims<'a> {
    sub: String,
    aud: [&'a str; 1],
    exp: u64,
}

#[derive(Deserialize)]
struct HandSubject {
    sub: String,
}

#[derive(Serialize)]
struct Detail {
    detail: &'static str,
}

struct Hand {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    store: Arc<dyn UserStore>,
}

impl Hand {
    fn new(store: Arc<dyn UserStore>) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "aud", "sub"]);
        validation.leeway = 0;
        validation.validate_nbf = true;
        validation.reject_tokens_expiring_in_less_than = 1;
        Hand {
            encoding: EncodingKey::from_secret(SECRET.as_bytes()).unwrap(),
            decoding: DecodingKey::from_secret(SECRET.as_bytes()).unwrap(),
            validation,
            store,
        }
    }

    fn issue(&self, id: Uuid) -> String {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let claims = HandClaims {
            sub: id.to_string(),
            aud: [AUDIENCE],
            exp: now + 3600,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).unwrap()
    }

    fn verify(&self, token: &str) -> Option<Uuid> {
        let data =
            jsonwebtoken::decode::<HandSubject>(token, &self.decoding, &self.validation).ok()?;
        Uuid::parse_str(&data.claims.sub).ok()
    }
}

fn unauthorized(bearer: bool) -> Response {
    let mut response = (
        StatusCode::UNAUTHORIZED,
        Json(Detail {
            detail: "Unauthorized",
        }),
    )
        .into_response();
    if bearer {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    response
}

fn hand_bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    value.strip_prefix("Bearer ")
}

fn hand_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(COOKIE)?.strip_prefix('='))
}

async fn hand_user(hand: &Hand, token: Option<&str>, bearer: bool) -> Response {
    let Some(id) = token.and_then(|token| hand.verify(token)) else {
        return unauthorized(bearer);
    };
    match hand.store.get(id).await {
        Ok(Some(user)) if user.is_active => user.email.into_response(),
        Ok(_) => unauthorized(bearer),
        Err(_) => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

/// `/me`: the bearer token, else the cookie (as `#[protected]` with both backends).
async fn hand_me(State(hand): State<Arc<Hand>>, headers: HeaderMap) -> Response {
    let token = hand_bearer(&headers).or_else(|| hand_cookie(&headers));
    hand_user(&hand, token, true).await
}

/// `/cookie`: the cookie only (as `#[protected(backends("cookie"))]`).
async fn hand_cookie_me(State(hand): State<Arc<Hand>>, headers: HeaderMap) -> Response {
    hand_user(&hand, hand_cookie(&headers), false).await
}

// ---------------------------------------------------------------- fixtures

struct Fixture {
    library: Router,
    hand: Router,
    hand_state: Arc<Hand>,
    keys: JwtKeys,
    user_id: Uuid,
    token: String,
    bad_token: String,
}

async fn fixture<S: UserStore + Clone>(store: S) -> Fixture {
    let state = AuthState::builder::<Auth>()
        .secret(SECRET)
        .store(store.clone())
        .password_hasher(PasswordHasher::with_params(1024, 1, 1).unwrap())
        .build()
        .unwrap();
    let user = state
        .create_user(NewUser::new(EMAIL, "correct horse battery"))
        .await
        .unwrap();
    let keys = JwtKeys::hs256(SECRET).unwrap();
    let token = keys.access_token(user.id, 3600).unwrap();
    let bad_token = JwtKeys::hs256(OTHER_SECRET)
        .unwrap()
        .access_token(user.id, 3600)
        .unwrap();
    let hand_state = Arc::new(Hand::new(Arc::new(store)));
    Fixture {
        library: Router::new()
            .route("/me", get(me))
            .route("/cookie", get(cookie_only))
            .with_state(state.clone()),
        hand: Router::new()
            .route("/me", get(hand_me))
            .route("/cookie", get(hand_cookie_me))
            .with_state(hand_state.clone()),
        hand_state,
        keys,
        user_id: user.id,
        token,
        bad_token,
    }
}

/// How the token travels, and so which route is called: `/me` (`#[protected]`) with
/// `Authorization: Bearer`, `/cookie` (`#[protected(backends("cookie"))]`) with the cookie.
#[derive(Clone, Copy)]
enum Carrier {
    Bearer,
    Cookie,
}

impl Carrier {
    fn path(self) -> &'static str {
        match self {
            Carrier::Bearer => "/me",
            Carrier::Cookie => "/cookie",
        }
    }
}

fn request(carrier: Carrier, token: &str) -> Request<Body> {
    let (name, value) = match carrier {
        Carrier::Bearer => (header::AUTHORIZATION, format!("Bearer {token}")),
        Carrier::Cookie => (header::COOKIE, format!("{COOKIE}={token}")),
    };
    let mut request = Request::get(carrier.path()).body(Body::empty()).unwrap();
    request
        .headers_mut()
        .insert(name, HeaderValue::from_str(&value).unwrap());
    request
}

/// A request built once per iteration from a prepared header value (cheap, the same for both).
fn prepared(path: &'static str, name: &header::HeaderName, value: &HeaderValue) -> Request<Body> {
    let mut request = Request::get(path).body(Body::empty()).unwrap();
    request.headers_mut().insert(name.clone(), value.clone());
    request
}

fn header_of(carrier: Carrier, token: &str) -> (header::HeaderName, HeaderValue) {
    let request = request(carrier, token);
    let (name, value) = request.headers().iter().next().unwrap();
    (name.clone(), value.clone())
}

/// Status and body; the `WWW-Authenticate` header is appended to the body.
async fn call(app: &Router, request: Request<Body>) -> (StatusCode, Vec<u8>) {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let challenge = response.headers().get(header::WWW_AUTHENTICATE).cloned();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let mut body = body.to_vec();
    if let Some(challenge) = challenge {
        body.extend_from_slice(b" | WWW-Authenticate: ");
        body.extend_from_slice(challenge.as_bytes());
    }
    (status, body)
}

/// Both apps must answer the same before they are timed.
async fn check(fx: &Fixture, carrier: Carrier) {
    let mut answers = Vec::new();
    for app in [&fx.library, &fx.hand] {
        let mut answer = Vec::new();
        for token in [fx.token.as_str(), &fx.bad_token, ""] {
            answer.push(call(app, request(carrier, token)).await);
        }
        assert_eq!(answer[0], (StatusCode::OK, EMAIL.as_bytes().to_vec()));
        answers.push(answer);
    }
    assert_eq!(answers[0], answers[1]);
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

// ---------------------------------------------------------------- benchmarks

fn tokens(c: &mut Criterion) {
    let rt = runtime();
    let fx = rt.block_on(fixture(MemoryStore::new()));
    assert_eq!(fx.hand_state.verify(&fx.token), Some(fx.user_id));
    assert_eq!(fx.keys.read_access_token(&fx.token, 0), Some(fx.user_id));
    assert_eq!(
        fx.keys
            .read_access_token(&fx.hand_state.issue(fx.user_id), 0),
        Some(fx.user_id)
    );

    let mut group = c.benchmark_group("token_issue");
    group.bench_function("axum-users", |b| {
        b.iter(|| fx.keys.access_token(black_box(fx.user_id), 3600).unwrap())
    });
    group.bench_function("hand-written", |b| {
        b.iter(|| fx.hand_state.issue(black_box(fx.user_id)))
    });
    group.finish();

    let mut group = c.benchmark_group("token_verify");
    group.bench_function("axum-users", |b| {
        b.iter(|| fx.keys.read_access_token(black_box(&fx.token), 0).unwrap())
    });
    group.bench_function("hand-written", |b| {
        b.iter(|| fx.hand_state.verify(black_box(&fx.token)).unwrap())
    });
    group.finish();
}

/// One group: the library's router and the hand-written one, same request, same store.
fn route_pair(
    c: &mut Criterion,
    rt: &tokio::runtime::Runtime,
    fx: &Fixture,
    group: &str,
    carrier: Carrier,
    token: &str,
    expected: StatusCode,
) {
    let (name, value) = header_of(carrier, token);
    let path = carrier.path();
    let mut group = c.benchmark_group(group);
    for (label, app) in [("axum-users", &fx.library), ("hand-written", &fx.hand)] {
        group.bench_function(label, |b| {
            b.to_async(rt).iter(|| async {
                let response = app
                    .clone()
                    .oneshot(prepared(path, &name, &value))
                    .await
                    .unwrap();
                assert_eq!(response.status(), expected);
                black_box(response)
            })
        });
    }
    group.finish();
}

fn guards(c: &mut Criterion) {
    let rt = runtime();
    let memory = rt.block_on(fixture(MemoryStore::new()));
    let sqlite = rt
        .block_on(async { fixture(SqliteStore::connect("sqlite::memory:").await.unwrap()).await });
    for fx in [&memory, &sqlite] {
        rt.block_on(check(fx, Carrier::Bearer));
        rt.block_on(check(fx, Carrier::Cookie));
    }
    let ok = StatusCode::OK;
    let (t, m, s) = (&memory.token, &memory, &sqlite);
    route_pair(c, &rt, m, "guard_jwt_memory", Carrier::Bearer, t, ok);
    route_pair(c, &rt, m, "guard_cookie_memory", Carrier::Cookie, t, ok);
    route_pair(c, &rt, s, "guard_jwt_sqlite", Carrier::Bearer, &s.token, ok);
    route_pair(
        c,
        &rt,
        s,
        "guard_cookie_sqlite",
        Carrier::Cookie,
        &s.token,
        ok,
    );
    let (bad, no) = (&memory.bad_token, StatusCode::UNAUTHORIZED);
    route_pair(c, &rt, m, "reject_401_jwt", Carrier::Bearer, bad, no);
    route_pair(c, &rt, m, "reject_401_cookie", Carrier::Cookie, bad, no);
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(50)
}

criterion_group! {
    name = benches;
    config = config();
    targets = tokens, guards
}

/// `AUTH_BENCH_PROFILE=<case> AUTH_BENCH_ITERS=<n>` runs one case `n` times and exits, for a
/// profiler (`valgrind --tool=callgrind`; two runs with different `n` give the cost of one
/// operation). Cases: `{issue,verify,jwt,cookie,401-jwt,401-cookie}-{lib,hand}`.
fn profile(case: &str, iters: usize) {
    let rt = runtime();
    let fx = rt.block_on(fixture(MemoryStore::new()));
    let (what, who) = case.rsplit_once('-').expect("<case>-{lib,hand}");
    let app = match who {
        "lib" => &fx.library,
        "hand" => &fx.hand,
        other => panic!("unknown side {other:?}"),
    };
    let route = |carrier, token: &str, expected| {
        let (name, value) = header_of(carrier, token);
        let path = Carrier::path(carrier);
        rt.block_on(async {
            for _ in 0..iters {
                let response = app.clone().oneshot(prepared(path, &name, &value)).await;
                assert_eq!(response.unwrap().status(), expected);
            }
        })
    };
    match (what, who) {
        ("issue", "lib") => (0..iters).for_each(|_| {
            black_box(fx.keys.access_token(black_box(fx.user_id), 3600).unwrap());
        }),
        ("issue", _) => (0..iters).for_each(|_| {
            black_box(fx.hand_state.issue(black_box(fx.user_id)));
        }),
        ("verify", "lib") => (0..iters).for_each(|_| {
            black_box(fx.keys.read_access_token(black_box(&fx.token), 0).unwrap());
        }),
        ("verify", _) => (0..iters).for_each(|_| {
            black_box(fx.hand_state.verify(black_box(&fx.token)).unwrap());
        }),
        ("jwt", _) => route(Carrier::Bearer, &fx.token, StatusCode::OK),
        ("cookie", _) => route(Carrier::Cookie, &fx.token, StatusCode::OK),
        ("401-jwt", _) => route(Carrier::Bearer, &fx.bad_token, StatusCode::UNAUTHORIZED),
        ("401-cookie", _) => route(Carrier::Cookie, &fx.bad_token, StatusCode::UNAUTHORIZED),
        _ => panic!("unknown case {case:?}"),
    }
}

fn main() {
    if let Ok(case) = std::env::var("AUTH_BENCH_PROFILE") {
        let iters = std::env::var("AUTH_BENCH_ITERS").map_or(1000, |n| n.parse().unwrap());
        profile(&case, iters);
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
