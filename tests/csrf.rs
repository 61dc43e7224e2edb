//! CSRF protection of cookie backends, over the real router: cookie-authenticated unsafe
//! requests and cookie logins are accepted only from a trusted origin (`Origin`, else
//! `Sec-Fetch-Site: same-origin`, else `Referer`); bearer requests and safe methods are exempt.

mod common;

use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use axum_users::prelude::*;
use axum_users::{BackendKind, BackendSpec, ConfigError, CookieSpec, Strategy};
use common::{hasher, send, PASSWORD, SECRET};
use serde_json::{json, Value};

/// The host the test requests are sent to.
const API: &str = "api.example.com";
/// The front end's origin, configured as trusted.
const APP: &str = "https://app.example.com";
/// An attacker's page.
const EVIL: &str = "https://evil.example";

#[protected]
async fn action(user: CurrentUser) -> Json<Value> {
    Json(json!({ "email": user.email }))
}

/// No guard: the `CurrentUser` extractor authenticates by itself.
async fn plain(user: CurrentUser) -> Json<Value> {
    Json(json!({ "email": user.email }))
}

#[protected(optional)]
async fn maybe(user: Option<CurrentUser>) -> Json<Value> {
    Json(json!({ "email": user.map(|u| u.email.clone()) }))
}

#[protected(backends("cookie"))]
async fn cookie_only(user: CurrentUser) -> Json<Value> {
    Json(json!({ "email": user.email }))
}

/// Cookie first, then bearer.
#[derive(AuthConfig)]
#[allow(clippy::duplicated_attributes)] // rust-lang/rust-clippy#13238
#[backend(cookie, name = "cookie", lifetime = 3600)]
#[backend(jwt, name = "jwt", lifetime = 3600)]
struct CookieFirst;

/// A cookie backend with the check turned off (what `#[backend(cookie, csrf = false)]` writes).
struct NoCsrf;

impl axum_users::AuthConfig for NoCsrf {
    const BACKENDS: &'static [BackendSpec] = &[BackendSpec {
        name: "cookie",
        kind: BackendKind::Cookie,
        strategy: Strategy::Jwt,
        lifetime: 3600,
        cookie: CookieSpec {
            csrf: false,
            ..CookieSpec::DEFAULT
        },
    }];
}

fn state_for<C: axum_users::AuthConfig>(origins: &[&str]) -> AuthState {
    AuthState::builder::<C>()
        .secret(SECRET)
        .store(MemoryStore::new())
        .password_hasher(hasher())
        .trusted_origins(origins)
        .build()
        .unwrap()
}

fn app_for<C: axum_users::AuthConfig>(state: &AuthState) -> Router {
    Router::new()
        .route(
            "/action",
            post(action).put(action).patch(action).delete(action),
        )
        .route("/me", get(action))
        .route("/plain", post(plain))
        .route("/maybe", post(maybe))
        .route("/cookie-only", post(cookie_only))
        .merge(C::router())
        .with_state(state.clone())
}

/// The standard configuration (bearer, then cookie) trusting [`APP`] and a dev server.
async fn setup() -> (AuthState, Router, String) {
    let state = state_for::<common::Auth>(&[APP, "http://localhost:5173"]);
    let app = app_for::<common::Auth>(&state);
    common::regular_user(&state, "user@example.com").await;
    let cookie = common::login_cookie(&app, "user@example.com", PASSWORD).await;
    (state, app, cookie)
}

/// `method path` with `headers` (name, value) and an empty body.
fn request(method: Method, path: &str, headers: &[(&str, &str)]) -> Request<Body> {
    let mut builder = Request::builder().method(method).uri(path);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(Body::empty()).unwrap()
}

/// A cookie-authenticated `method path` sent to [`API`], with `extra` headers.
fn with_cookie(method: Method, path: &str, cookie: &str, extra: &[(&str, &str)]) -> Request<Body> {
    let mut headers = vec![("host", API), ("cookie", cookie)];
    headers.extend_from_slice(extra);
    request(method, path, &headers)
}

fn assert_refused(status: StatusCode, headers: &HeaderMap, body: &Value, what: &str) {
    assert_eq!(status, StatusCode::FORBIDDEN, "{what}: {body}");
    assert_eq!(body, &json!({"detail": "CSRF_FAILED"}), "{what}");
    assert!(headers.get(header::SET_COOKIE).is_none(), "{what}");
}

async fn post_action(app: &Router, cookie: &str, extra: &[(&str, &str)]) -> (StatusCode, Value) {
    let (status, _, body) = send(app, with_cookie(Method::POST, "/action", cookie, extra)).await;
    (status, body)
}

#[tokio::test]
async fn origin_decides() {
    let (_, app, cookie) = setup().await;
    let accepted: &[(&str, &[(&str, &str)])] = &[
        (
            "same origin as Host",
            &[("origin", "https://api.example.com")],
        ),
        (
            "same origin, plain http",
            &[("origin", "http://api.example.com")],
        ),
        ("configured origin", &[("origin", APP)]),
        (
            "configured dev server",
            &[("origin", "http://localhost:5173")],
        ),
        // Origin decides before the other headers.
        (
            "Origin over Sec-Fetch-Site",
            &[("origin", APP), ("sec-fetch-site", "cross-site")],
        ),
    ];
    for (what, extra) in accepted {
        let (status, body) = post_action(&app, &cookie, extra).await;
        assert_eq!(status, StatusCode::OK, "{what}: {body}");
        assert_eq!(body, json!({"email": "user@example.com"}), "{what}");
    }
    let refused: &[(&str, &[(&str, &str)])] = &[
        ("cross-site", &[("origin", EVIL)]),
        ("null", &[("origin", "null")]),
        (
            "a suffix of the host",
            &[("origin", "https://api.example.com.evil.example")],
        ),
        (
            "another port",
            &[("origin", "https://api.example.com:8443")],
        ),
        ("garbage", &[("origin", "api.example.com")]),
        ("a path", &[("origin", "https://api.example.com/")]),
        (
            "Origin over Sec-Fetch-Site",
            &[("origin", EVIL), ("sec-fetch-site", "same-origin")],
        ),
        (
            "Origin over Referer",
            &[
                ("origin", EVIL),
                ("referer", "https://api.example.com/page"),
            ],
        ),
        (
            "two Origin headers",
            &[("origin", APP), ("origin", "https://api.example.com")],
        ),
    ];
    for (what, extra) in refused {
        let (status, headers, body) =
            send(&app, with_cookie(Method::POST, "/action", &cookie, extra)).await;
        assert_refused(status, &headers, &body, what);
    }
}

#[tokio::test]
async fn sec_fetch_site_then_referer() {
    let (_, app, cookie) = setup().await;
    let (status, body) = post_action(&app, &cookie, &[("sec-fetch-site", "same-origin")]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for site in ["cross-site", "same-site", "none"] {
        let (status, headers, body) = send(
            &app,
            with_cookie(
                Method::POST,
                "/action",
                &cookie,
                &[("sec-fetch-site", site)],
            ),
        )
        .await;
        assert_refused(status, &headers, &body, site);
    }
    // Sec-Fetch-Site decides before Referer.
    let (status, body) = post_action(
        &app,
        &cookie,
        &[
            ("sec-fetch-site", "cross-site"),
            ("referer", "https://api.example.com/"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");

    for referer in [
        "https://api.example.com/settings?tab=1",
        "https://app.example.com/",
        "https://APP.example.com:443/page#top",
        "http://localhost:5173/",
    ] {
        let (status, body) = post_action(&app, &cookie, &[("referer", referer)]).await;
        assert_eq!(status, StatusCode::OK, "{referer}: {body}");
    }
    for referer in [
        "https://evil.example/https://api.example.com/",
        "https://api.example.com.evil.example/",
        "http://localhost:5174/",
        "/relative/path",
        "not a url",
        "https://user@api.example.com/",
    ] {
        let (status, headers, body) = send(
            &app,
            with_cookie(Method::POST, "/action", &cookie, &[("referer", referer)]),
        )
        .await;
        assert_refused(status, &headers, &body, referer);
    }
    // None of the three headers.
    let (status, headers, body) =
        send(&app, with_cookie(Method::POST, "/action", &cookie, &[])).await;
    assert_refused(status, &headers, &body, "no header");
}

#[tokio::test]
async fn every_unsafe_method_and_every_guard() {
    let (_, app, cookie) = setup().await;
    for method in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
        let (status, headers, body) = send(
            &app,
            with_cookie(method.clone(), "/action", &cookie, &[("origin", EVIL)]),
        )
        .await;
        assert_refused(status, &headers, &body, method.as_str());
        let (status, _, body) = send(
            &app,
            with_cookie(method.clone(), "/action", &cookie, &[("origin", APP)]),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{method}: {body}");
    }
    for path in ["/plain", "/cookie-only"] {
        let (status, headers, body) = send(
            &app,
            with_cookie(Method::POST, path, &cookie, &[("origin", EVIL)]),
        )
        .await;
        assert_refused(status, &headers, &body, path);
        let (status, _, body) = send(
            &app,
            with_cookie(Method::POST, path, &cookie, &[("origin", APP)]),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
    }
    // An optional guard refuses too, rather than serving the request anonymously.
    let (status, headers, body) = send(
        &app,
        with_cookie(Method::POST, "/maybe", &cookie, &[("origin", EVIL)]),
    )
    .await;
    assert_refused(status, &headers, &body, "optional guard");
    let (status, _, body) = send(&app, request(Method::POST, "/maybe", &[("origin", EVIL)])).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"email": null})));
}

#[tokio::test]
async fn safe_methods_are_exempt() {
    let (_, app, cookie) = setup().await;
    for method in [Method::GET, Method::HEAD] {
        let (status, _, _) = send(
            &app,
            with_cookie(method.clone(), "/me", &cookie, &[("origin", EVIL)]),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{method}");
    }
    let (status, _, body) = send(&app, with_cookie(Method::GET, "/users/me", &cookie, &[])).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["email"], "user@example.com");
}

#[tokio::test]
async fn authentication_comes_first() {
    let (state, app, cookie) = setup().await;
    // No credential, or an invalid one: 401 whatever the origin.
    for cookie in [None, Some("fastapiusersauth=not-a-token")] {
        let mut headers = vec![("host", API), ("origin", EVIL)];
        headers.extend(cookie.map(|c| ("cookie", c)));
        let (status, _, body) = send(&app, request(Method::POST, "/action", &headers)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{cookie:?}: {body}");
        assert_eq!(body, json!({"detail": "Unauthorized"}));
    }
    // An inactive user stays 401.
    let user = state
        .store()
        .get_by_email("user@example.com")
        .await
        .unwrap()
        .unwrap();
    common::modify(&state, user.id, |u| u.is_active = false).await;
    let (status, body) = post_action(&app, &cookie, &[("origin", EVIL)]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
}

#[tokio::test]
async fn bearer_requests_are_exempt() {
    let (state, app, cookie) = setup().await;
    common::regular_user(&state, "bearer@example.com").await;
    let token = common::login_jwt(&app, "bearer@example.com", PASSWORD).await;
    let bearer = format!("Bearer {token}");
    for extra in [
        vec![("origin", EVIL)],
        vec![("origin", "null")],
        vec![],
        vec![("origin", EVIL), ("cookie", cookie.as_str())],
    ] {
        let mut headers = vec![("host", API), ("authorization", bearer.as_str())];
        headers.extend_from_slice(&extra);
        let (status, _, body) = send(&app, request(Method::POST, "/action", &headers)).await;
        assert_eq!(status, StatusCode::OK, "{extra:?}: {body}");
        assert_eq!(body, json!({"email": "bearer@example.com"}), "{extra:?}");
    }
    // The bearer backend's logout, cross-site.
    let (status, _, _) = send(
        &app,
        request(
            Method::POST,
            "/auth/jwt/logout",
            &[("authorization", bearer.as_str()), ("origin", EVIL)],
        ),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn a_bearer_token_wins_over_a_refused_cookie() {
    // Cookie declared first: its credential is tried first, refused, and the bearer token
    // authenticates the request.
    let state = state_for::<CookieFirst>(&[]);
    let app = app_for::<CookieFirst>(&state);
    common::regular_user(&state, "cookie@example.com").await;
    common::regular_user(&state, "bearer@example.com").await;
    let cookie = common::login_cookie(&app, "cookie@example.com", PASSWORD).await;
    let token = common::login_jwt(&app, "bearer@example.com", PASSWORD).await;
    let bearer = format!("Bearer {token}");
    let both = [
        ("host", API),
        ("origin", EVIL),
        ("cookie", cookie.as_str()),
        ("authorization", bearer.as_str()),
    ];
    let (status, _, body) = send(&app, request(Method::POST, "/action", &both)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"email": "bearer@example.com"}));
    // Same origin: the cookie, declared first, wins.
    let mut same = both;
    same[1] = ("origin", "https://api.example.com");
    let (status, _, body) = send(&app, request(Method::POST, "/action", &same)).await;
    assert_eq!(body, json!({"email": "cookie@example.com"}), "{status}");
    // The cookie alone, cross-site.
    let (status, headers, body) = send(&app, request(Method::POST, "/action", &both[..3])).await;
    assert_refused(status, &headers, &body, "cookie first, alone");
    // Where only the cookie backend is allowed, the bearer token does not help.
    let (status, headers, body) = send(&app, request(Method::POST, "/cookie-only", &both)).await;
    assert_refused(status, &headers, &body, "backends(\"cookie\")");
}

#[tokio::test]
async fn login_csrf() {
    let state = state_for::<common::Auth>(&[APP]);
    let app = app_for::<common::Auth>(&state);
    common::regular_user(&state, "user@example.com").await;
    let form = common::login_form("user@example.com", PASSWORD);
    let login = |backend: &str, extra: &[(&str, &str)], body: &str| {
        let mut builder = Request::builder()
            .method(Method::POST)
            .uri(format!("/auth/{backend}/login"))
            .header("host", API)
            .header("content-type", "application/x-www-form-urlencoded");
        for (name, value) in extra {
            builder = builder.header(*name, *value);
        }
        builder.body(Body::from(body.to_owned())).unwrap()
    };
    // Cookie login from another site: refused before the credentials are even read.
    for (what, extra, body) in [
        ("cross-site", &[("origin", EVIL)][..], form.as_str()),
        ("null", &[("origin", "null")][..], form.as_str()),
        ("no header", &[][..], form.as_str()),
        (
            "Sec-Fetch-Site",
            &[("sec-fetch-site", "cross-site")][..],
            form.as_str(),
        ),
        (
            "Referer",
            &[("referer", "https://evil.example/x")][..],
            form.as_str(),
        ),
        (
            "wrong password",
            &[("origin", EVIL)][..],
            "username=user%40example.com&password=nope",
        ),
        ("no form", &[("origin", EVIL)][..], ""),
    ] {
        let (status, headers, body) = send(&app, login("cookie", extra, body)).await;
        assert_refused(status, &headers, &body, what);
    }
    for (what, extra) in [
        ("same origin", &[("origin", "https://api.example.com")][..]),
        ("configured", &[("origin", APP)][..]),
        ("Sec-Fetch-Site", &[("sec-fetch-site", "same-origin")][..]),
        (
            "Referer",
            &[("referer", "https://app.example.com/login")][..],
        ),
    ] {
        let (status, headers, body) = send(&app, login("cookie", extra, &form)).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{what}: {body}");
        let set_cookie = headers[header::SET_COOKIE].to_str().unwrap();
        assert!(set_cookie.starts_with("fastapiusersauth="), "{what}");
    }
    // A same-origin login with a wrong password is the usual 400.
    let (status, _, body) = send(
        &app,
        login(
            "cookie",
            &[("origin", APP)],
            "username=user%40example.com&password=nope",
        ),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, json!({"detail": "LOGIN_BAD_CREDENTIALS"}));
    // The bearer backend's login is not checked: the token is in the answer, which the other
    // site cannot read.
    for extra in [&[("origin", EVIL)][..], &[][..]] {
        let (status, _, body) = send(&app, login("jwt", extra, &form)).await;
        assert_eq!(status, StatusCode::OK, "{extra:?}: {body}");
        assert_eq!(body["token_type"], "bearer");
    }
}

#[tokio::test]
async fn logout() {
    let (_, app, cookie) = setup().await;
    let (status, headers, body) = send(
        &app,
        with_cookie(
            Method::POST,
            "/auth/cookie/logout",
            &cookie,
            &[("origin", EVIL)],
        ),
    )
    .await;
    assert_refused(status, &headers, &body, "cross-site logout");
    let (status, headers, body) = send(
        &app,
        with_cookie(Method::POST, "/auth/cookie/logout", &cookie, &[]),
    )
    .await;
    assert_refused(status, &headers, &body, "logout without origin");
    let (status, headers, _) = send(
        &app,
        with_cookie(
            Method::POST,
            "/auth/cookie/logout",
            &cookie,
            &[("origin", APP)],
        ),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let removal = headers[header::SET_COOKIE].to_str().unwrap();
    assert!(removal.contains("Max-Age=0"), "{removal}");
}

#[tokio::test]
async fn users_routes() {
    let (state, app, cookie) = setup().await;
    let patch = |origin: &str, email: &str| {
        Request::builder()
            .method(Method::PATCH)
            .uri("/users/me")
            .header("host", API)
            .header("origin", origin)
            .header("cookie", &cookie)
            .header("content-type", "application/json")
            .body(Body::from(json!({ "email": email }).to_string()))
            .unwrap()
    };
    let (status, headers, body) = send(&app, patch(EVIL, "attacker@evil.example")).await;
    assert_refused(status, &headers, &body, "PATCH /users/me");
    assert!(state
        .store()
        .get_by_email("attacker@evil.example")
        .await
        .unwrap()
        .is_none());
    let (status, _, body) = send(&app, patch(APP, "renamed@example.com")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["email"], "renamed@example.com");

    // DELETE /users/{id} by a superuser.
    common::create_user(&state, "admin@example.com", PASSWORD, true, true, true).await;
    let admin = common::login_cookie(&app, "admin@example.com", PASSWORD).await;
    let victim = common::regular_user(&state, "victim@example.com").await;
    let path = format!("/users/{}", victim.id);
    let (status, headers, body) = send(
        &app,
        with_cookie(Method::DELETE, &path, &admin, &[("origin", EVIL)]),
    )
    .await;
    assert_refused(status, &headers, &body, "DELETE /users/{id}");
    assert!(state.store().get(victim.id).await.unwrap().is_some());
    // A regular user's cross-site DELETE learns nothing about permissions either.
    let (status, headers, body) = send(
        &app,
        with_cookie(Method::DELETE, &path, &cookie, &[("origin", EVIL)]),
    )
    .await;
    assert_refused(status, &headers, &body, "DELETE by a regular user");
    let (status, _, body) = send(
        &app,
        with_cookie(Method::DELETE, &path, &admin, &[("origin", APP)]),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert!(state.store().get(victim.id).await.unwrap().is_none());
    // GET /users/{id} is safe.
    let (status, _, _) = send(
        &app,
        with_cookie(Method::GET, &path, &admin, &[("origin", EVIL)]),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_check_can_be_turned_off() {
    let state = state_for::<NoCsrf>(&[]);
    let app = app_for::<NoCsrf>(&state);
    common::regular_user(&state, "user@example.com").await;
    let (status, headers, _) = send(
        &app,
        Request::builder()
            .method(Method::POST)
            .uri("/auth/cookie/login")
            .header("origin", EVIL)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(common::login_form("user@example.com", PASSWORD)))
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let set_cookie = headers[header::SET_COOKIE].to_str().unwrap();
    let cookie = set_cookie.split(';').next().unwrap();
    for extra in [&[("origin", EVIL)][..], &[][..]] {
        let (status, body) = post_action(&app, cookie, extra).await;
        assert_eq!(status, StatusCode::OK, "{extra:?}: {body}");
    }
    let (status, _, _) = send(
        &app,
        with_cookie(
            Method::POST,
            "/auth/cookie/logout",
            cookie,
            &[("origin", EVIL)],
        ),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn host_and_origin_normalization() {
    let state =
        state_for::<common::Auth>(&["HTTPS://App.Example.COM:443", "http://localhost:5173"]);
    assert_eq!(
        state.trusted_origins().collect::<Vec<_>>(),
        ["https://app.example.com", "http://localhost:5173"]
    );
    let app = app_for::<common::Auth>(&state);
    common::regular_user(&state, "user@example.com").await;
    let cookie = common::login_cookie(&app, "user@example.com", PASSWORD).await;
    let cases = [
        // (Host, Origin, accepted)
        (Some(API), "https://app.example.com", true),
        (Some(API), "https://APP.EXAMPLE.com:443", true),
        (Some(API), "http://app.example.com", false),
        (Some(API), "https://app.example.com:8443", false),
        (Some(API), "http://localhost:5173", true),
        (Some(API), "http://LOCALHOST:5173", true),
        (Some(API), "https://localhost:5173", false),
        (Some(API), "http://localhost:5174", false),
        (Some(API), "http://localhost", false),
        (Some("API.Example.com"), "https://api.example.com", true),
        (Some(API), "HTTPS://API.EXAMPLE.COM", true),
        (Some(API), "https://api.example.com:443", true),
        (Some("api.example.com:443"), "https://api.example.com", true),
        (
            Some("api.example.com:8000"),
            "http://api.example.com:8000",
            true,
        ),
        (
            Some("api.example.com:8000"),
            "http://api.example.com",
            false,
        ),
        (Some(API), "http://api.example.com:8000", false),
        (Some("127.0.0.1:8000"), "http://127.0.0.1:8000", true),
        (Some("127.0.0.1:8000"), "http://localhost:8000", false),
        (Some("[::1]:8000"), "http://[::1]:8000", true),
        // No Host: only the configured origins.
        (None, "https://app.example.com", true),
        (None, "https://api.example.com", false),
    ];
    for (host, origin, accepted) in cases {
        let mut headers = vec![("cookie", cookie.as_str()), ("origin", origin)];
        headers.extend(host.map(|h| ("host", h)));
        let (status, _, body) = send(&app, request(Method::POST, "/action", &headers)).await;
        let expected = if accepted {
            StatusCode::OK
        } else {
            StatusCode::FORBIDDEN
        };
        assert_eq!(status, expected, "Host {host:?}, Origin {origin}: {body}");
    }
}

#[tokio::test]
async fn nothing_is_trusted_without_host_or_list() {
    let state = state_for::<common::Auth>(&[]);
    let app = app_for::<common::Auth>(&state);
    common::regular_user(&state, "user@example.com").await;
    let cookie = common::login_cookie(&app, "user@example.com", PASSWORD).await;
    for origin in ["http://localhost", "https://api.example.com", "null"] {
        let headers = [("cookie", cookie.as_str()), ("origin", origin)];
        let (status, headers, body) = send(&app, request(Method::POST, "/action", &headers)).await;
        assert_refused(status, &headers, &body, origin);
    }
}

#[tokio::test]
async fn build_refuses_invalid_origins() {
    for bad in [
        "",
        "null",
        "*",
        "app.example.com",
        "https://*.example.com",
        "https://app.example.com/",
        "https://app.example.com/login",
        "https://app.example.com?next=/",
        "https://user:pw@app.example.com",
        "https://app.example.com:0",
        "https://app.example.com:99999",
        "https://app.example.com:",
        "https://exämple.com",
        "https:// app.example.com",
    ] {
        let result = AuthState::builder::<common::Auth>()
            .secret(SECRET)
            .store(MemoryStore::new())
            .trusted_origins([APP, bad])
            .build();
        match result {
            Err(ConfigError::InvalidOrigin { origin, reason }) => {
                assert_eq!(origin, bad);
                assert!(!reason.is_empty());
            }
            other => panic!("{bad:?}: {:?}", other.map(|_| ())),
        }
    }
    let err = AuthState::builder::<common::Auth>()
        .secret(SECRET)
        .store(MemoryStore::new())
        .trusted_origins(["https://app.example.com/"])
        .build()
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("invalid trusted origin \"https://app.example.com/\": "),
        "{err}"
    );
}
