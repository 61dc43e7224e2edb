//! The user lifecycle over HTTP: verification and reset tokens through a capturing mailer,
//! requires-verification, the `/users` routes per user kind and backend, and the hooks.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::http::request::Parts;
use axum::http::{Method, Request, StatusCode};
use axum::Router;
use axum_users::prelude::*;
use axum_users::{
    async_trait, AuthStateBuilder, BackendKind, BackendSpec, CookieSpec, HookError, Mail,
    MailError, MailKind, Mailer,
};
use common::*;
use serde_json::{json, Value};

/// Keeps every message.
#[derive(Clone, Default)]
struct Outbox(Arc<Mutex<Vec<Mail>>>);

#[async_trait]
impl Mailer for Outbox {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        self.0.lock().unwrap().push(mail.clone());
        Ok(())
    }
}

impl Outbox {
    /// Waits (bounded) for the `n`-th message: they are sent after the answer.
    async fn nth(&self, n: usize) -> Mail {
        for _ in 0..200 {
            if let Some(mail) = self.0.lock().unwrap().get(n) {
                return mail.clone();
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("message {n} never came; got {:?}", self.0.lock().unwrap());
    }

    async fn settle_len(&self) -> usize {
        tokio::time::sleep(Duration::from_millis(150)).await;
        self.0.lock().unwrap().len()
    }
}

/// Records every hook as `hook:email`, with the token where there is one.
#[derive(Clone, Default)]
struct Recorder {
    calls: Arc<Mutex<Vec<String>>>,
    fail: Arc<Mutex<Vec<&'static str>>>,
}

impl Recorder {
    fn push(&self, hook: &'static str, user: &User, request: &Parts) -> Result<(), HookError> {
        let header = request
            .headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-");
        self.calls.lock().unwrap().push(format!(
            "{hook}:{}:{}:{header}",
            user.email,
            request.uri.path()
        ));
        if self.fail.lock().unwrap().contains(&hook) {
            return Err(format!("{hook} refused").into());
        }
        Ok(())
    }

    fn names(&self) -> Vec<String> {
        self.calls
            .lock()
            .unwrap()
            .iter()
            .map(|c| c.split(':').next().unwrap().to_owned())
            .collect()
    }
}

#[async_trait]
impl UserManager for Recorder {
    async fn on_after_register(&self, user: &User, request: &Parts) -> Result<(), HookError> {
        self.push("on_after_register", user, request)
    }
    async fn on_after_login(&self, user: &User, request: &Parts) -> Result<(), HookError> {
        self.push("on_after_login", user, request)
    }
    async fn on_after_forgot_password(
        &self,
        user: &User,
        token: &str,
        request: &Parts,
    ) -> Result<(), HookError> {
        assert!(!token.is_empty());
        self.push("on_after_forgot_password", user, request)
    }
    async fn on_after_request_verify(
        &self,
        user: &User,
        token: &str,
        request: &Parts,
    ) -> Result<(), HookError> {
        assert!(!token.is_empty());
        self.push("on_after_request_verify", user, request)
    }
    async fn on_after_verify(&self, user: &User, request: &Parts) -> Result<(), HookError> {
        self.push("on_after_verify", user, request)
    }
    async fn on_after_reset_password(&self, user: &User, request: &Parts) -> Result<(), HookError> {
        self.push("on_after_reset_password", user, request)
    }
    async fn on_after_update(
        &self,
        user: &User,
        update: &serde_json::Map<String, Value>,
        request: &Parts,
    ) -> Result<(), HookError> {
        self.calls
            .lock()
            .unwrap()
            .push(format!("update-dict:{}", Value::Object(update.clone())));
        self.push("on_after_update", user, request)
    }
    async fn on_before_delete(&self, user: &User, request: &Parts) -> Result<(), HookError> {
        self.push("on_before_delete", user, request)
    }
    async fn on_after_delete(&self, user: &User, request: &Parts) -> Result<(), HookError> {
        self.push("on_after_delete", user, request)
    }
}

/// Bearer then cookie, with verification required.
struct Strict;
impl axum_users::AuthConfig for Strict {
    const BACKENDS: &'static [BackendSpec] = &[
        BackendSpec {
            name: "jwt",
            kind: BackendKind::Jwt,
            strategy: axum_users::Strategy::Jwt,
            lifetime: 3600,
            cookie: CookieSpec::DEFAULT,
        },
        BackendSpec {
            name: "cookie",
            kind: BackendKind::Cookie,
            strategy: axum_users::Strategy::Jwt,
            lifetime: 3600,
            cookie: CookieSpec::DEFAULT,
        },
    ];
    const REQUIRES_VERIFICATION: bool = true;
}

struct Env {
    state: AuthState,
    app: Router,
    outbox: Outbox,
    hooks: Recorder,
}

fn env_for<C: axum_users::AuthConfig>(
    configure: impl FnOnce(AuthStateBuilder) -> AuthStateBuilder,
) -> Env {
    let outbox = Outbox::default();
    let hooks = Recorder::default();
    let builder = AuthState::builder::<C>()
        .secret(SECRET)
        .store(MemoryStore::new())
        .password_hasher(hasher())
        .mailer(outbox.clone())
        .manager(hooks.clone());
    let state = configure(builder).build().unwrap();
    let app = app_for::<C>(&state);
    Env {
        state,
        app,
        outbox,
        hooks,
    }
}

fn env() -> Env {
    env_for::<Auth>(|b| b)
}

fn json_request(method: Method, path: &str, bearer: Option<&str>, body: &Value) -> Request<Body> {
    let mut builder = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json")
        .header("x-request-id", "req-42");
    if let Some(token) = bearer {
        builder = builder.header("authorization", format!("Bearer {token}"));
    }
    builder.body(Body::from(body.to_string())).unwrap()
}

fn bare(method: Method, path: &str, bearer: Option<&str>) -> Request<Body> {
    let mut builder = Request::builder().method(method).uri(path);
    if let Some(token) = bearer {
        builder = builder.header("authorization", format!("Bearer {token}"));
    }
    builder.body(Body::empty()).unwrap()
}

async fn post(app: &Router, path: &str, body: Value) -> (StatusCode, Value) {
    let (status, _, body) = send(app, json_request(Method::POST, path, None, &body)).await;
    (status, body)
}

async fn logs_in(app: &Router, email: &str, password: &str) -> bool {
    let (status, _, _) = send(
        app,
        post_form("/auth/jwt/login", login_form(email, password)),
    )
    .await;
    status == StatusCode::OK
}

#[tokio::test]
async fn password_reset_works_once_and_dies_with_any_password_change() {
    let Env {
        state, app, outbox, ..
    } = env();
    let user = regular_user(&state, "arthur@camelot.bt").await;

    let (status, _, raw) = send_raw(
        &app,
        json_request(
            Method::POST,
            "/auth/forgot-password",
            None,
            &json!({"email": "Arthur@CAMELOT.bt"}),
        ),
    )
    .await;
    assert_eq!(
        (status, raw.as_slice()),
        (StatusCode::ACCEPTED, &b"null"[..])
    );
    let mail = outbox.nth(0).await;
    assert_eq!(
        (mail.kind, mail.to.as_str()),
        (MailKind::ResetPassword, "arthur@camelot.bt")
    );
    let (_, claims) = decode_jwt(&mail.token);
    let mut keys: Vec<_> = claims.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(keys, ["aud", "exp", "password_fgpt", "sub"]);
    assert_eq!(claims["aud"], "fastapi-users:reset");
    assert_eq!(claims["sub"], user.id.to_string());

    let (status, body) = post(
        &app,
        "/auth/reset-password",
        json!({"token": mail.token, "password": "short"}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({"detail": {"code": "RESET_PASSWORD_INVALID_PASSWORD", "reason": "Password should be at least 8 characters"}})
    );
    let (status, body) = post(
        &app,
        "/auth/reset-password",
        json!({"token": mail.token, "password": "new-password-1"}),
    )
    .await;
    assert_eq!((status, body), (StatusCode::OK, Value::Null));
    assert!(logs_in(&app, "arthur@camelot.bt", "new-password-1").await);
    assert!(!logs_in(&app, "arthur@camelot.bt", PASSWORD).await);
    let (status, body) = post(
        &app,
        "/auth/reset-password",
        json!({"token": mail.token, "password": "newer-password-2"}),
    )
    .await;
    assert_eq!(
        (status, body),
        (
            StatusCode::BAD_REQUEST,
            json!({"detail": "RESET_PASSWORD_BAD_TOKEN"})
        )
    );

    // A token made before a password change through PATCH /users/me is dead.
    let token = state
        .reset_token(&stored(&state, user.id).await)
        .await
        .unwrap();
    let access = login_jwt(&app, "arthur@camelot.bt", "new-password-1").await;
    let (status, _, _) = send(
        &app,
        json_request(
            Method::PATCH,
            "/users/me",
            Some(&access),
            &json!({"password": "patched-password-3"}),
        ),
    )
    .await;
    assert_eq!(status, 200);
    let (status, body) = post(
        &app,
        "/auth/reset-password",
        json!({"token": token, "password": "reset-password-4"}),
    )
    .await;
    assert_eq!(
        (status, body),
        (
            StatusCode::BAD_REQUEST,
            json!({"detail": "RESET_PASSWORD_BAD_TOKEN"})
        )
    );

    // An inactive user's valid token is refused too.
    let token = state
        .reset_token(&stored(&state, user.id).await)
        .await
        .unwrap();
    modify(&state, user.id, |u| u.is_active = false).await;
    let (status, body) = post(
        &app,
        "/auth/reset-password",
        json!({"token": token, "password": "reset-password-4"}),
    )
    .await;
    assert_eq!(
        (status, body),
        (
            StatusCode::BAD_REQUEST,
            json!({"detail": "RESET_PASSWORD_BAD_TOKEN"})
        )
    );
}

#[tokio::test]
async fn tokens_of_one_purpose_are_refused_for_every_other() {
    let Env { state, app, .. } = env();
    let user = regular_user(&state, "gawain@camelot.bt").await;
    let reset = state.reset_token(&user).await.unwrap();
    let verify = state.verification_token(&user).unwrap();
    let access = login_jwt(&app, "gawain@camelot.bt", PASSWORD).await;
    let expired = mint(
        &json!({"sub": user.id.to_string(), "email": user.email, "aud": "fastapi-users:verify", "exp": now() - 1}),
    );

    for token in [&verify, &access, &expired, &"garbage".to_owned()] {
        let (status, body) = post(
            &app,
            "/auth/reset-password",
            json!({"token": token, "password": "new-password-1"}),
        )
        .await;
        assert_eq!(
            (status, body),
            (
                StatusCode::BAD_REQUEST,
                json!({"detail": "RESET_PASSWORD_BAD_TOKEN"})
            ),
            "{token}"
        );
    }
    for token in [&reset, &access, &expired] {
        let (status, body) = post(&app, "/auth/verify", json!({"token": token})).await;
        assert_eq!(
            (status, body),
            (
                StatusCode::BAD_REQUEST,
                json!({"detail": "VERIFY_USER_BAD_TOKEN"})
            ),
            "{token}"
        );
    }
    for token in [&reset, &verify] {
        let (status, _, _) = send(&app, get_bearer("/me", token)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    assert!(!stored(&state, user.id).await.is_verified);
}

#[tokio::test]
async fn separate_purpose_secrets_are_used() {
    let Env { state, app, .. } = env_for::<Auth>(|b| {
        b.reset_secret("a reset secret of at least thirty-two bytes")
            .verification_secret("a verification secret, thirty-two bytes or more")
    });
    let user = regular_user(&state, "bors@camelot.bt").await;
    let with_auth_secret = mint(
        &json!({"sub": user.id.to_string(), "email": user.email, "aud": "fastapi-users:verify", "exp": now() + 600}),
    );
    let (status, _) = post(&app, "/auth/verify", json!({"token": with_auth_secret})).await;
    assert_eq!(status, 400);
    let (status, body) = post(
        &app,
        "/auth/verify",
        json!({"token": state.verification_token(&user).unwrap()}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["is_verified"], true);
}

#[tokio::test]
async fn verification_after_registration_and_its_token_lifecycle() {
    let Env {
        state,
        app,
        outbox,
        hooks,
    } = env_for::<Auth>(|b| b.verify_on_register(true));
    let (status, body) = post(
        &app,
        "/auth/register",
        json!({"email": "percival@camelot.bt", "password": PASSWORD}),
    )
    .await;
    assert_eq!(status, 201);
    let mail = outbox.nth(0).await;
    assert_eq!(
        (mail.kind, mail.to.as_str()),
        (MailKind::Verify, "percival@camelot.bt")
    );
    let (_, claims) = decode_jwt(&mail.token);
    assert_eq!(claims["aud"], "fastapi-users:verify");
    assert_eq!(claims["email"], "percival@camelot.bt");
    assert_eq!(claims["sub"], body["id"]);

    let (status, body) = post(&app, "/auth/verify", json!({"token": mail.token})).await;
    assert_eq!(status, 200);
    assert_eq!(body["is_verified"], true);
    let id = body["id"].as_str().unwrap().parse().unwrap();
    assert!(stored(&state, id).await.is_verified);
    let (status, body) = post(&app, "/auth/verify", json!({"token": mail.token})).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::BAD_REQUEST,
            json!({"detail": "VERIFY_USER_ALREADY_VERIFIED"})
        )
    );

    // Already verified: request-verify sends nothing. After an e-mail change, old tokens die.
    let sent = outbox.settle_len().await;
    let (status, _) = post(
        &app,
        "/auth/request-verify-token",
        json!({"email": "percival@camelot.bt"}),
    )
    .await;
    assert_eq!(status, 202);
    assert_eq!(outbox.settle_len().await, sent);
    modify(&state, id, |u| u.is_verified = false).await;
    let old = state.verification_token(&stored(&state, id).await).unwrap();
    modify(&state, id, |u| u.email = "sir.percival@camelot.bt".into()).await;
    let (status, body) = post(&app, "/auth/verify", json!({"token": old})).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::BAD_REQUEST,
            json!({"detail": "VERIFY_USER_BAD_TOKEN"})
        )
    );
    assert!(hooks
        .names()
        .contains(&"on_after_request_verify".to_owned()));
}

#[tokio::test]
async fn enumeration_safe_answers_and_no_mail_for_unknown_or_inactive_users() {
    let Env {
        state, app, outbox, ..
    } = env();
    let inactive = regular_user(&state, "mordred@camelot.bt").await;
    modify(&state, inactive.id, |u| u.is_active = false).await;
    for path in ["/auth/forgot-password", "/auth/request-verify-token"] {
        for email in ["nobody@camelot.bt", "mordred@camelot.bt"] {
            let (status, _, raw) = send_raw(
                &app,
                json_request(Method::POST, path, None, &json!({"email": email})),
            )
            .await;
            assert_eq!(
                (status, raw.as_slice()),
                (StatusCode::ACCEPTED, &b"null"[..]),
                "{path} {email}"
            );
        }
        let (status, body) = post(&app, path, json!({"email": "not-an-address"})).await;
        assert_eq!(status, 422, "{path}");
        assert_eq!(body["detail"][0]["loc"], json!(["body", "email"]));
        let (status, body) = post(&app, path, json!({})).await;
        assert_eq!(status, 422);
        assert_eq!(
            body["detail"][0],
            json!({"type": "missing", "loc": ["body", "email"], "msg": "Field required", "input": null})
        );
    }
    assert_eq!(outbox.settle_len().await, 0);
}

#[tokio::test]
async fn requires_verification_gates_login_logout_and_users_routes() {
    let Env { state, app, .. } = env_for::<Strict>(|b| b);
    let unverified = regular_user(&state, "kay@camelot.bt").await;
    let verified = create_user(&state, "tristan@camelot.bt", PASSWORD, true, false, true).await;

    let (status, _, body) = send(
        &app,
        post_form(
            "/auth/jwt/login",
            login_form("kay@camelot.bt", "wrong-password"),
        ),
    )
    .await;
    assert_eq!(
        (status, body),
        (
            StatusCode::BAD_REQUEST,
            json!({"detail": "LOGIN_BAD_CREDENTIALS"})
        )
    );
    for backend in ["jwt", "cookie"] {
        let (status, _, body) = send(
            &app,
            post_form(
                &format!("/auth/{backend}/login"),
                login_form("kay@camelot.bt", PASSWORD),
            ),
        )
        .await;
        assert_eq!(
            (status, body),
            (
                StatusCode::BAD_REQUEST,
                json!({"detail": "LOGIN_USER_NOT_VERIFIED"})
            ),
            "{backend}"
        );
    }
    // A token of the unverified user (minted by hand) is refused by logout and /users/me.
    let token = mint_access(&unverified.id.to_string());
    for request in [
        bare(Method::GET, "/users/me", Some(&token)),
        bare(Method::POST, "/auth/jwt/logout", Some(&token)),
        get_cookie("/users/me", &format!("fastapiusersauth={token}")),
    ] {
        let (status, _, body) = send(&app, request).await;
        assert_eq!(
            (status, body),
            (StatusCode::FORBIDDEN, json!({"detail": "Forbidden"}))
        );
    }
    let token = login_jwt(&app, &verified.email, PASSWORD).await;
    let (status, _, body) = send(&app, bare(Method::GET, "/users/me", Some(&token))).await;
    assert_eq!(status, 200);
    assert_eq!(body["email"], "tristan@camelot.bt");
}

/// Every `/users` route for every kind of caller, on both backends.
#[tokio::test]
async fn users_routes_by_user_kind_and_backend() {
    let Env { state, app, .. } = env();
    let target = regular_user(&state, "target@camelot.bt").await;
    let kinds = [
        ("regular", true, false, false),
        ("verified", true, false, true),
        ("inactive", false, false, true),
        ("superuser", true, true, true),
    ];
    for (kind, active, superuser, verified) in kinds {
        let email = format!("{kind}@camelot.bt");
        let user = create_user(&state, &email, PASSWORD, true, superuser, verified).await;
        let token = mint_access(&user.id.to_string());
        modify(&state, user.id, |u| u.is_active = active).await;
        for backend in ["bearer", "cookie", "anonymous"] {
            let request = |method: Method, path: &str| {
                let builder = same_origin(Request::builder()).method(method).uri(path);
                let builder = match backend {
                    "bearer" => builder.header("authorization", format!("Bearer {token}")),
                    "cookie" => builder.header("cookie", format!("fastapiusersauth={token}")),
                    _ => builder,
                };
                builder.body(Body::empty()).unwrap()
            };
            let case = format!("{kind} via {backend}");
            let (me_status, _, me_body) = send(&app, request(Method::GET, "/users/me")).await;
            let expect_me = if backend == "anonymous" || !active {
                401
            } else {
                200
            };
            assert_eq!(me_status, expect_me, "GET /users/me {case}: {me_body}");
            if expect_me == 200 {
                assert_eq!(me_body["email"], email);
                assert!(me_body.get("hashed_password").is_none());
            }
            let expect_admin = match (backend, active, superuser) {
                ("anonymous", _, _) | (_, false, _) => 401,
                (_, true, false) => 403,
                _ => 200,
            };
            for path in [
                format!("/users/{}", target.id),
                "/users/00000000-0000-4000-8000-000000000000".into(),
                "/users/not-a-uuid".into(),
            ] {
                let (status, _, body) = send(&app, request(Method::GET, &path)).await;
                let expected = match expect_admin {
                    200 if path.ends_with(&target.id.to_string()) => 200,
                    200 => 404,
                    other => other,
                };
                assert_eq!(status, expected, "GET {path} {case}: {body}");
            }
            let (status, _, _) = send(&app, request(Method::DELETE, "/users/not-a-uuid")).await;
            assert_eq!(
                status,
                if expect_admin == 200 {
                    404
                } else {
                    expect_admin
                },
                "DELETE {case}"
            );
        }
    }
}

#[tokio::test]
async fn patch_me_is_safe_and_patch_by_id_is_not() {
    let Env {
        state, app, hooks, ..
    } = env();
    let user = create_user(&state, "lamorak@camelot.bt", PASSWORD, true, false, true).await;
    let admin = create_user(&state, "arthur@camelot.bt", PASSWORD, true, true, true).await;
    let token = login_jwt(&app, &user.email, PASSWORD).await;
    let admin_token = login_jwt(&app, &admin.email, PASSWORD).await;
    let patch = |bearer: &str, path: &str, body: Value| {
        json_request(Method::PATCH, path, Some(bearer), &body)
    };

    let (status, _, body) = send(&app, patch(&token, "/users/me", json!({}))).await;
    assert_eq!(
        (status, body["email"].clone()),
        (StatusCode::OK, json!("lamorak@camelot.bt"))
    );
    let (status, _, body) = send(
        &app,
        patch(
            &token,
            "/users/me",
            json!({"is_superuser": true, "is_active": false}),
        ),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        (body["is_superuser"].clone(), body["is_active"].clone()),
        (json!(false), json!(true))
    );
    let now_stored = stored(&state, user.id).await;
    assert!(!now_stored.is_superuser && now_stored.is_active);

    for email in ["LAMORAK@camelot.bt", "Arthur@Camelot.bt"] {
        let (status, _, body) =
            send(&app, patch(&token, "/users/me", json!({"email": email}))).await;
        assert_eq!(
            (status, body),
            (
                StatusCode::BAD_REQUEST,
                json!({"detail": "UPDATE_USER_EMAIL_ALREADY_EXISTS"})
            ),
            "{email}"
        );
    }
    let (status, _, body) = send(
        &app,
        patch(&token, "/users/me", json!({"password": "short"})),
    )
    .await;
    assert_eq!(
        (status, body),
        (
            StatusCode::BAD_REQUEST,
            json!({"detail": {"code": "UPDATE_USER_INVALID_PASSWORD", "reason": "Password should be at least 8 characters"}})
        )
    );
    let (status, _, body) = send(
        &app,
        patch(
            &token,
            "/users/me",
            json!({"email": "not-an-email", "password": 5}),
        ),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(body["detail"].as_array().unwrap().len(), 2, "{body}");

    let (status, _, body) = send(
        &app,
        patch(
            &token,
            "/users/me",
            json!({"email": "Sir.Lamorak@Camelot.BT", "password": "another-password-9"}),
        ),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["email"], "Sir.Lamorak@camelot.bt");
    assert_eq!(
        body["is_verified"], false,
        "an e-mail change needs a new verification"
    );
    assert!(logs_in(&app, "sir.lamorak@camelot.bt", "another-password-9").await);
    assert!(!logs_in(&app, "sir.lamorak@camelot.bt", PASSWORD).await);

    let path = format!("/users/{}", user.id.simple());
    let (status, _, body) = send(&app, patch(&token, &path, json!({"is_superuser": true}))).await;
    assert_eq!(
        (status, body),
        (StatusCode::FORBIDDEN, json!({"detail": "Forbidden"}))
    );
    let (status, _, body) = send(
        &app,
        patch(
            &admin_token,
            &path,
            json!({"is_superuser": true, "is_verified": true, "is_active": false}),
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let after = stored(&state, user.id).await;
    assert!(after.is_superuser && after.is_verified && !after.is_active);
    let (status, _, body) = send(
        &app,
        patch(&admin_token, &path, json!({"email": "arthur@camelot.bt"})),
    )
    .await;
    assert_eq!(
        (status, body),
        (
            StatusCode::BAD_REQUEST,
            json!({"detail": "UPDATE_USER_EMAIL_ALREADY_EXISTS"})
        )
    );

    let updates: Vec<_> = hooks
        .calls
        .lock()
        .unwrap()
        .iter()
        .filter(|c| c.starts_with("update-dict:"))
        .cloned()
        .collect();
    assert!(
        updates
            .iter()
            .any(|u| u.contains("\"password\":\"another-password-9\"")),
        "on_after_update gets the object as sent: {updates:?}"
    );

    let (status, _, raw) = send_raw(&app, bare(Method::DELETE, &path, Some(&admin_token))).await;
    assert_eq!((status, raw.len()), (StatusCode::NO_CONTENT, 0));
    assert!(state.store().get(user.id).await.unwrap().is_none());
    let (status, _, _) = send(&app, bare(Method::DELETE, &path, Some(&admin_token))).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn hooks_run_in_order_with_the_request_and_failures_change_nothing() {
    let Env {
        state,
        app,
        hooks,
        outbox,
    } = env_for::<Auth>(|b| b.verify_on_register(true));
    let (status, body) = post(
        &app,
        "/auth/register",
        json!({"email": "ector@camelot.bt", "password": PASSWORD}),
    )
    .await;
    assert_eq!(status, 201);
    let id: uuid::Uuid = body["id"].as_str().unwrap().parse().unwrap();
    let verify = outbox.nth(0).await;
    let token = login_jwt(&app, "ector@camelot.bt", PASSWORD).await;
    let (status, _) = post(&app, "/auth/verify", json!({"token": verify.token})).await;
    assert_eq!(status, 200);
    let (status, _) = post(
        &app,
        "/auth/forgot-password",
        json!({"email": "ector@camelot.bt"}),
    )
    .await;
    assert_eq!(status, 202);
    let reset = outbox.nth(1).await;
    let (status, _) = post(
        &app,
        "/auth/reset-password",
        json!({"token": reset.token, "password": "new-password-1"}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _, _) = send(
        &app,
        json_request(
            Method::PATCH,
            "/users/me",
            Some(&token),
            &json!({"is_verified": false}),
        ),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        hooks.names(),
        [
            "on_after_register",
            "on_after_request_verify",
            "on_after_login",
            "on_after_verify",
            "on_after_forgot_password",
            "on_after_reset_password",
            "update-dict",
            "on_after_update",
        ]
    );
    let calls = hooks.calls.lock().unwrap().clone();
    assert!(
        calls[0].ends_with(":ector@camelot.bt:/auth/register:req-42"),
        "{calls:?}"
    );
    assert!(
        calls.last().unwrap().ends_with(":/users/me:req-42"),
        "{calls:?}"
    );

    // A failing after-hook is logged; the answer and the stored data stand.
    hooks
        .fail
        .lock()
        .unwrap()
        .extend(["on_after_register", "on_after_update"]);
    let (status, _) = post(
        &app,
        "/auth/register",
        json!({"email": "dagonet@camelot.bt", "password": PASSWORD}),
    )
    .await;
    assert_eq!(status, 201);
    assert!(state
        .store()
        .get_by_email("dagonet@camelot.bt")
        .await
        .unwrap()
        .is_some());
    let token = login_jwt(&app, "ector@camelot.bt", "new-password-1").await;
    let (status, _, body) = send(
        &app,
        json_request(
            Method::PATCH,
            "/users/me",
            Some(&token),
            &json!({"email": "sir.ector@camelot.bt"}),
        ),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["email"], "sir.ector@camelot.bt");
    assert_eq!(stored(&state, id).await.email, "sir.ector@camelot.bt");

    // A failing on_before_delete cancels the deletion.
    let admin = create_user(&state, "uther@camelot.bt", PASSWORD, true, true, true).await;
    let admin_token = login_jwt(&app, &admin.email, PASSWORD).await;
    hooks.fail.lock().unwrap().push("on_before_delete");
    let (status, _, body) = send(
        &app,
        bare(Method::DELETE, &format!("/users/{id}"), Some(&admin_token)),
    )
    .await;
    assert_eq!(
        (status, body),
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({"detail": "Internal Server Error"})
        )
    );
    assert!(
        state.store().get(id).await.unwrap().is_some(),
        "not deleted"
    );
    hooks.fail.lock().unwrap().clear();
    let (status, _, _) = send(
        &app,
        bare(Method::DELETE, &format!("/users/{id}"), Some(&admin_token)),
    )
    .await;
    assert_eq!(status, 204);
    let names = hooks.names();
    assert_eq!(
        &names[names.len() - 2..],
        ["on_before_delete", "on_after_delete"]
    );
}
