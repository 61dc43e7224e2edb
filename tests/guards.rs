//! Guards: `#[protected]` and its options, backend order, `Protected<R>` as a layer,
//! `CurrentUser` on its own, fresh reads from the store, and store outages.
// Two `#[backend(..)]` attributes with the same `lifetime = 3600` trip clippy's
// `duplicated_attributes` (a known false positive: rust-lang/rust-clippy#13238).
#![allow(clippy::duplicated_attributes)]

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::from_extractor_with_state;
use axum::routing::get;
use axum::{Json, Router};
use axum_users::prelude::*;
use axum_users::{async_trait, CreateError, StoreError};
use common::*;
use serde_json::{json, Value};
use uuid::Uuid;

#[derive(AuthConfig)]
#[backend(cookie, name = "cookie", lifetime = 3600)]
#[backend(jwt, name = "jwt", lifetime = 3600)]
struct CookieFirst;

#[derive(AuthConfig)]
#[backend(cookie, name = "cookie", lifetime = 3600)]
struct CookieOnly;

async fn plain(user: CurrentUser) -> Json<Value> {
    Json(json!({ "email": user.email }))
}

async fn plain_optional(user: Option<CurrentUser>) -> Json<Value> {
    Json(json!({ "user": user.map(|u| u.email.clone()) }))
}

/// The standard app plus `/plain`, `/plain-optional` (no guard) and `/layered` (a router
/// protected by `Protected<Req<false, false, true>>` as a route layer).
fn guard_app(state: &AuthState) -> Router {
    let layered =
        Router::new()
            .route("/layered", get(plain))
            .route_layer(from_extractor_with_state::<
                Protected<Req<false, false, true>>,
                _,
            >(state.clone()));
    Router::new()
        .route("/me", get(me))
        .route("/admin", get(admin))
        .route("/verified", get(verified))
        .route("/maybe", get(maybe))
        .route("/cookie-only", get(cookie_only))
        .route("/plain", get(plain))
        .route("/plain-optional", get(plain_optional))
        .merge(layered)
        .merge(Auth::router())
        .with_state(state.clone())
}

fn www_authenticate(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::WWW_AUTHENTICATE)
        .map(|v| v.to_str().unwrap())
}

fn unauthorized() -> Value {
    json!({"detail": "Unauthorized"})
}

struct Fixture {
    state: AuthState,
    app: Router,
}

async fn fixture() -> Fixture {
    let state = memory_state();
    let app = guard_app(&state);
    Fixture { state, app }
}

#[tokio::test]
async fn protected_accepts_bearer_and_cookie_and_rejects_anonymous() {
    let Fixture { state, app } = fixture().await;
    let user = regular_user(&state, "alice@example.com").await;
    let token = login_jwt(&app, "alice@example.com", PASSWORD).await;
    let cookie = login_cookie(&app, "alice@example.com", PASSWORD).await;

    for request in [get_bearer("/me", &token), get_cookie("/me", &cookie)] {
        let (status, _, body) = send(&app, request).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            body,
            json!({"id": user.id.to_string(), "email": "alice@example.com"})
        );
    }
    // The bearer scheme is case-insensitive, as in FastAPI.
    let request = axum::http::Request::builder()
        .uri("/me")
        .header(header::AUTHORIZATION, format!("bearer {token}"))
        .body(axum::body::Body::empty())
        .unwrap();
    let (status, _, _) = send(&app, request).await;
    assert_eq!(status, StatusCode::OK);

    let garbage_cookie = "fastapiusersauth=garbage";
    let basic = axum::http::Request::builder()
        .uri("/me")
        .header(header::AUTHORIZATION, format!("Basic {token}"))
        .body(axum::body::Body::empty())
        .unwrap();
    for request in [
        get_anon("/me"),
        get_bearer("/me", "garbage"),
        get_bearer("/me", "a.b.c"),
        get_cookie("/me", garbage_cookie),
        get_cookie("/me", &format!("other={}", token)),
        basic,
    ] {
        let (status, headers, body) = send(&app, request).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body, unauthorized());
        assert_eq!(www_authenticate(&headers), Some("Bearer"));
    }
}

#[tokio::test]
async fn deactivation_takes_effect_at_once() {
    let Fixture { state, app } = fixture().await;
    let user = regular_user(&state, "alice@example.com").await;
    let token = login_jwt(&app, "alice@example.com", PASSWORD).await;
    let cookie = login_cookie(&app, "alice@example.com", PASSWORD).await;
    let (status, _, _) = send(&app, get_bearer("/me", &token)).await;
    assert_eq!(status, StatusCode::OK);

    modify(&state, user.id, |u| u.is_active = false).await;
    for request in [get_bearer("/me", &token), get_cookie("/me", &cookie)] {
        let (status, headers, body) = send(&app, request).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body, unauthorized());
        assert_eq!(www_authenticate(&headers), Some("Bearer"));
    }
    // Inactive beats every other flag: 401, not 403, even for an inactive superuser.
    modify(&state, user.id, |u| {
        u.is_superuser = true;
        u.is_verified = true;
    })
    .await;
    for path in ["/admin", "/verified", "/layered", "/plain"] {
        let (status, _, body) = send(&app, get_bearer(path, &token)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(body, unauthorized());
    }
    modify(&state, user.id, |u| u.is_active = true).await;
    let (status, _, _) = send(&app, get_bearer("/admin", &token)).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn www_authenticate_only_when_a_bearer_backend_could_answer() {
    let Fixture { state, app } = fixture().await;
    regular_user(&state, "alice@example.com").await;
    let token = login_jwt(&app, "alice@example.com", PASSWORD).await;

    let (status, headers, body) = send(&app, get_anon("/cookie-only")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body, unauthorized());
    assert_eq!(www_authenticate(&headers), None);

    // A valid bearer token does not open a cookie-only route.
    let (status, headers, body) = send(&app, get_bearer("/cookie-only", &token)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body, unauthorized());
    assert_eq!(www_authenticate(&headers), None);

    // An application with only a cookie backend never sends it.
    let cookie_state = state_for::<CookieOnly>(MemoryStore::new());
    let cookie_app = app_for::<CookieOnly>(&cookie_state);
    for path in ["/me", "/admin", "/cookie-only"] {
        let (status, headers, body) = send(&cookie_app, get_anon(path)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(body, unauthorized());
        assert_eq!(www_authenticate(&headers), None, "{path}");
    }
    let (status, _, _) = send(&cookie_app, post_with("/auth/cookie/logout", None, None)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn cookie_only_route_accepts_the_cookie() {
    let Fixture { state, app } = fixture().await;
    let alice = regular_user(&state, "alice@example.com").await;
    let bob = regular_user(&state, "bob@example.com").await;
    let alice_token = login_jwt(&app, "alice@example.com", PASSWORD).await;
    let bob_cookie = login_cookie(&app, "bob@example.com", PASSWORD).await;

    let (status, _, body) = send(&app, get_cookie("/cookie-only", &bob_cookie)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["id"], bob.id.to_string());
    // Both credentials: the route only looks at the cookie.
    let (status, _, body) = send(
        &app,
        get_with("/cookie-only", Some(&alice_token), Some(&bob_cookie)),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["id"], bob.id.to_string());
    let (status, _, body) =
        send(&app, get_with("/me", Some(&alice_token), Some(&bob_cookie))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["id"], alice.id.to_string());
}

#[tokio::test]
async fn superuser_and_verified_requirements() {
    let Fixture { state, app } = fixture().await;
    regular_user(&state, "user@example.com").await;
    create_user(&state, "root@example.com", PASSWORD, true, true, false).await;
    create_user(&state, "checked@example.com", PASSWORD, true, false, true).await;
    let user = login_jwt(&app, "user@example.com", PASSWORD).await;
    let root = login_jwt(&app, "root@example.com", PASSWORD).await;
    let checked = login_cookie(&app, "checked@example.com", PASSWORD).await;

    let forbidden = json!({"detail": "Forbidden"});
    for (request, expected) in [
        (get_bearer("/admin", &user), StatusCode::FORBIDDEN),
        (get_bearer("/admin", &root), StatusCode::OK),
        (get_cookie("/admin", &checked), StatusCode::FORBIDDEN),
        (get_bearer("/verified", &user), StatusCode::FORBIDDEN),
        (get_bearer("/verified", &root), StatusCode::FORBIDDEN),
        (get_cookie("/verified", &checked), StatusCode::OK),
        (get_bearer("/layered", &user), StatusCode::FORBIDDEN),
        (get_bearer("/layered", &root), StatusCode::OK),
        (get_cookie("/layered", &checked), StatusCode::FORBIDDEN),
    ] {
        let path = request.uri().path().to_owned();
        let (status, _, body) = send(&app, request).await;
        assert_eq!(status, expected, "{path}: {body}");
        if expected == StatusCode::FORBIDDEN {
            assert_eq!(body, forbidden, "{path}");
        } else {
            assert!(body["email"].is_string(), "{path}: {body}");
        }
    }
    for path in ["/admin", "/verified", "/layered"] {
        let (status, _, body) = send(&app, get_anon(path)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(body, unauthorized());
    }
    // The layered handler's `CurrentUser` is the guard's user.
    let (_, _, body) = send(&app, get_bearer("/layered", &root)).await;
    assert_eq!(body, json!({"email": "root@example.com"}));
}

#[tokio::test]
async fn optional_guard_gives_none_instead_of_rejecting() {
    let Fixture { state, app } = fixture().await;
    let user = regular_user(&state, "alice@example.com").await;
    let sleepy = regular_user(&state, "sleepy@example.com").await;
    let token = login_jwt(&app, "alice@example.com", PASSWORD).await;
    let cookie = login_cookie(&app, "alice@example.com", PASSWORD).await;
    let sleepy_token = login_jwt(&app, "sleepy@example.com", PASSWORD).await;
    modify(&state, sleepy.id, |u| u.is_active = false).await;

    let expected_user = json!({"user": {"id": user.id.to_string(), "email": "alice@example.com"}});
    for path in ["/maybe", "/plain-optional"] {
        for request in [
            get_anon(path),
            get_bearer(path, "garbage"),
            get_cookie(path, "fastapiusersauth=garbage"),
            get_bearer(path, &sleepy_token),
            get_bearer(path, &mint_access(&Uuid::new_v4().to_string())),
        ] {
            let (status, headers, body) = send(&app, request).await;
            assert_eq!(status, StatusCode::OK, "{path}");
            assert_eq!(body, json!({"user": null}), "{path}");
            assert_eq!(www_authenticate(&headers), None);
        }
    }
    for request in [get_bearer("/maybe", &token), get_cookie("/maybe", &cookie)] {
        let (status, _, body) = send(&app, request).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, expected_user);
    }
    let (status, _, body) = send(&app, get_bearer("/plain-optional", &token)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"user": "alice@example.com"}));
}

#[tokio::test]
async fn current_user_without_a_guard_authenticates_itself() {
    let Fixture { state, app } = fixture().await;
    regular_user(&state, "alice@example.com").await;
    let token = login_jwt(&app, "alice@example.com", PASSWORD).await;
    let cookie = login_cookie(&app, "alice@example.com", PASSWORD).await;
    for request in [get_bearer("/plain", &token), get_cookie("/plain", &cookie)] {
        let (status, _, body) = send(&app, request).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, json!({"email": "alice@example.com"}));
    }
    for request in [get_anon("/plain"), get_bearer("/plain", "garbage")] {
        let (status, headers, body) = send(&app, request).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body, unauthorized());
        assert_eq!(www_authenticate(&headers), Some("Bearer"));
    }
}

#[tokio::test]
async fn backends_are_tried_in_declared_order() {
    let Fixture { state, app } = fixture().await;
    let alice = regular_user(&state, "alice@example.com").await;
    let bob = regular_user(&state, "bob@example.com").await;
    let alice_token = login_jwt(&app, "alice@example.com", PASSWORD).await;
    let bob_cookie = login_cookie(&app, "bob@example.com", PASSWORD).await;

    // An invalid bearer falls through to the cookie.
    let (status, _, body) = send(&app, get_with("/me", Some("garbage"), Some(&bob_cookie))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["id"], bob.id.to_string());
    // A bearer for a deleted user falls through as well.
    let ghost = mint_access(&Uuid::new_v4().to_string());
    let (status, _, body) = send(&app, get_with("/me", Some(&ghost), Some(&bob_cookie))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["id"], bob.id.to_string());
    // Two valid credentials: the first declared backend (jwt) wins.
    let (status, _, body) =
        send(&app, get_with("/me", Some(&alice_token), Some(&bob_cookie))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["id"], alice.id.to_string());

    // Declared cookie first: the cookie wins. Same secret, same store.
    let state2 = AuthState::builder::<CookieFirst>()
        .secret(SECRET)
        .store(SharedStore(state.clone()))
        .password_hasher(hasher())
        .build()
        .unwrap();
    let app2 = app_for::<CookieFirst>(&state2);
    let (status, _, body) = send(
        &app2,
        get_with("/me", Some(&alice_token), Some(&bob_cookie)),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["id"], bob.id.to_string());
    // An invalid cookie falls through to the bearer.
    let (status, _, body) = send(
        &app2,
        get_with("/me", Some(&alice_token), Some("fastapiusersauth=garbage")),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["id"], alice.id.to_string());
}

#[tokio::test]
async fn user_is_read_from_the_store_on_every_request() {
    let Fixture { state, app } = fixture().await;
    let user = regular_user(&state, "alice@example.com").await;
    let token = login_jwt(&app, "alice@example.com", PASSWORD).await;
    let (status, _, _) = send(&app, get_bearer("/admin", &token)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    modify(&state, user.id, |u| u.is_superuser = true).await;
    let (status, _, _) = send(&app, get_bearer("/admin", &token)).await;
    assert_eq!(status, StatusCode::OK);
    modify(&state, user.id, |u| {
        u.is_superuser = false;
        u.email = "alice@example.org".into();
    })
    .await;
    let (status, _, _) = send(&app, get_bearer("/admin", &token)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, body) = send(&app, get_bearer("/me", &token)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["email"], "alice@example.org");

    // A deleted user's token stops working.
    assert!(state.store().delete(user.id).await.unwrap());
    let (status, _, body) = send(&app, get_bearer("/me", &token)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body, unauthorized());
}

#[tokio::test]
async fn unknown_user_id_in_a_valid_token_is_401() {
    let Fixture { state, app } = fixture().await;
    regular_user(&state, "alice@example.com").await;
    let token = mint_access(&Uuid::new_v4().to_string());
    for request in [
        get_bearer("/me", &token),
        get_cookie("/me", &format!("fastapiusersauth={token}")),
    ] {
        let (status, headers, body) = send(&app, request).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body, unauthorized());
        assert_eq!(www_authenticate(&headers), Some("Bearer"));
    }
    let (status, _, _) = send(&app, post_with("/auth/jwt/logout", Some(&token), None)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

/// A store every method of which fails.
struct DownStore;

#[async_trait]
impl UserStore for DownStore {
    async fn get(&self, _: Uuid) -> Result<Option<User>, StoreError> {
        Err(StoreError::new("down"))
    }
    async fn get_by_email(&self, _: &str) -> Result<Option<User>, StoreError> {
        Err(StoreError::new("down"))
    }
    async fn create(&self, _: User) -> Result<User, CreateError> {
        Err(CreateError::Store(StoreError::new("down")))
    }
    async fn update(&self, _: &User) -> Result<bool, CreateError> {
        Err(CreateError::Store(StoreError::new("down")))
    }
    async fn delete(&self, _: Uuid) -> Result<bool, StoreError> {
        Err(StoreError::new("down"))
    }
}

/// Another state's store, seen through that state.
struct SharedStore(AuthState);

#[async_trait]
impl UserStore for SharedStore {
    async fn get(&self, id: Uuid) -> Result<Option<User>, StoreError> {
        self.0.store().get(id).await
    }
    async fn get_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        self.0.store().get_by_email(email).await
    }
    async fn create(&self, user: User) -> Result<User, CreateError> {
        self.0.store().create(user).await
    }
    async fn update(&self, user: &User) -> Result<bool, CreateError> {
        self.0.store().update(user).await
    }
    async fn delete(&self, id: Uuid) -> Result<bool, StoreError> {
        self.0.store().delete(id).await
    }
}

/// A memory store that can be switched off, and counts lookups by id.
#[derive(Clone, Default)]
struct Switchable {
    inner: MemoryStore,
    down: Arc<AtomicBool>,
    gets: Arc<AtomicUsize>,
}

impl Switchable {
    fn check(&self) -> Result<(), StoreError> {
        if self.down.load(Ordering::SeqCst) {
            Err(StoreError::new("down"))
        } else {
            Ok(())
        }
    }
}

#[async_trait]
impl UserStore for Switchable {
    async fn get(&self, id: Uuid) -> Result<Option<User>, StoreError> {
        self.gets.fetch_add(1, Ordering::SeqCst);
        self.check()?;
        self.inner.get(id).await
    }
    async fn get_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        self.check()?;
        self.inner.get_by_email(email).await
    }
    async fn create(&self, user: User) -> Result<User, CreateError> {
        self.check()?;
        self.inner.create(user).await
    }
    async fn update(&self, user: &User) -> Result<bool, CreateError> {
        self.check()?;
        self.inner.update(user).await
    }
    async fn delete(&self, id: Uuid) -> Result<bool, StoreError> {
        self.check()?;
        self.inner.delete(id).await
    }
}

fn assert_unavailable(what: &str, status: StatusCode, headers: &HeaderMap, body: &Value) {
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{what}: {body}");
    assert_eq!(*body, json!({"detail": "SERVICE_UNAVAILABLE"}), "{what}");
    assert_eq!(www_authenticate(headers), None, "{what}");
}

#[tokio::test]
async fn a_failing_store_answers_503_never_401_or_500() {
    let state = state_for::<Auth>(DownStore);
    let app = guard_app(&state);
    let token = mint_access(&Uuid::new_v4().to_string());
    let cookie = format!("fastapiusersauth={token}");
    for path in [
        "/me",
        "/admin",
        "/verified",
        "/maybe",
        "/cookie-only",
        "/plain",
        "/plain-optional",
        "/layered",
    ] {
        let (status, headers, body) = send(&app, get_with(path, Some(&token), Some(&cookie))).await;
        assert_unavailable(path, status, &headers, &body);
    }
    for backend in ["jwt", "cookie"] {
        let (status, headers, body) = send(
            &app,
            post_form(
                &format!("/auth/{backend}/login"),
                login_form("alice@example.com", PASSWORD),
            ),
        )
        .await;
        assert_unavailable("login", status, &headers, &body);
        assert!(headers.get(header::SET_COOKIE).is_none());
        let (status, headers, body) = send(
            &app,
            post_with(
                &format!("/auth/{backend}/logout"),
                Some(&token),
                Some(&cookie),
            ),
        )
        .await;
        assert_unavailable("logout", status, &headers, &body);
    }
    let (status, headers, body) = send(
        &app,
        post_json(
            "/auth/register",
            &json!({"email": "alice@example.com", "password": PASSWORD}),
        ),
    )
    .await;
    assert_unavailable("register", status, &headers, &body);
    // Without any credential the store is not consulted: a plain 401.
    let (status, _, body) = send(&app, get_anon("/me")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body, unauthorized());
}

#[tokio::test]
async fn an_outage_after_login_is_503_and_recovery_restores_access() {
    let store = Switchable::default();
    let state = state_for::<Auth>(store.clone());
    let app = guard_app(&state);
    regular_user(&state, "alice@example.com").await;
    let token = login_jwt(&app, "alice@example.com", PASSWORD).await;

    store.down.store(true, Ordering::SeqCst);
    let (status, headers, body) = send(&app, get_bearer("/me", &token)).await;
    assert_unavailable("/me", status, &headers, &body);
    // A store failure in the first backend is not skipped over to the next one.
    let (status, headers, body) = send(
        &app,
        get_with("/maybe", Some(&token), Some("fastapiusersauth=garbage")),
    )
    .await;
    assert_unavailable("/maybe", status, &headers, &body);

    store.down.store(false, Ordering::SeqCst);
    let (status, _, _) = send(&app, get_bearer("/me", &token)).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn guard_and_current_user_share_one_lookup() {
    let store = Switchable::default();
    let state = state_for::<Auth>(store.clone());
    let app = guard_app(&state);
    regular_user(&state, "alice@example.com").await;
    let token = login_jwt(&app, "alice@example.com", PASSWORD).await;
    for path in ["/me", "/maybe", "/plain", "/layered"] {
        let before = store.gets.load(Ordering::SeqCst);
        let (status, _, _) = send(&app, get_bearer(path, &token)).await;
        let lookups = store.gets.load(Ordering::SeqCst) - before;
        assert_eq!(lookups, 1, "{path} ({status})");
    }
}

#[protected(backends("jtw"))]
async fn misspelt_backend(user: CurrentUser) -> Json<Value> {
    Json(json!({ "email": user.email }))
}

/// A backend subset naming a backend the config does not declare is a wiring mistake: a 500
/// that says so in the log, never a silent 401 for every user.
#[tokio::test]
async fn undeclared_backend_in_a_subset_is_a_server_error() {
    let Fixture { state, .. } = fixture().await;
    regular_user(&state, "alice@example.com").await;
    let token = login_jwt(&app(&state), "alice@example.com", PASSWORD).await;
    let app = Router::new()
        .route("/misspelt", get(misspelt_backend))
        .with_state(state.clone());
    let (status, _, body) = send(&app, get_bearer("/misspelt", &token)).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(body, json!({"detail": "Internal Server Error"}));
}
