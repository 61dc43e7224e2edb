//! The `UserManager` hooks: which run, in which order, with which user, token, update and
//! request; what the store holds when they run; and that a failing hook changes neither the
//! answer nor the stored data (except `on_before_delete`, which cancels the deletion).

mod common;

use std::collections::HashSet;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::body::Body;
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, Request, StatusCode};
use axum::Router;
use axum_users::prelude::*;
use axum_users::{async_trait, AuthStateBuilder, HookError, Mail, MailError, Mailer};
use common::*;
use serde_json::{json, Map, Value};
use uuid::Uuid;

/// What one hook call saw.
#[derive(Debug, Clone)]
struct Call {
    hook: &'static str,
    user: User,
    token: Option<String>,
    update: Option<Value>,
    method: Method,
    path: String,
    trace: Option<String>,
    /// The user as stored when the hook ran (`None`: not stored).
    stored: Option<User>,
}

#[derive(Default)]
struct Inner {
    /// `hook:email` per hook call, `mail:kind:to` per message, in order.
    log: Mutex<Vec<String>>,
    calls: Mutex<Vec<Call>>,
    fail: Mutex<HashSet<&'static str>>,
    state: OnceLock<AuthState>,
}

/// A `UserManager` (and a `Mailer`, sharing its log) that records everything.
#[derive(Clone, Default)]
struct Recorder(Arc<Inner>);

impl Recorder {
    async fn record(
        &self,
        hook: &'static str,
        user: &User,
        token: Option<&str>,
        update: Option<&Map<String, Value>>,
        request: &Parts,
    ) -> Result<(), HookError> {
        let stored = match self.0.state.get() {
            Some(state) => state.store().get(user.id).await.unwrap(),
            None => None,
        };
        self.0.calls.lock().unwrap().push(Call {
            hook,
            user: user.clone(),
            token: token.map(str::to_owned),
            update: update.map(|u| Value::Object(u.clone())),
            method: request.method.clone(),
            path: request.uri.path().to_owned(),
            trace: request
                .headers
                .get("x-trace")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            stored,
        });
        self.0
            .log
            .lock()
            .unwrap()
            .push(format!("{hook}:{}", user.email));
        if self.0.fail.lock().unwrap().contains(hook) {
            return Err(format!("{hook} failed on purpose").into());
        }
        Ok(())
    }

    fn fail(&self, hook: &'static str) {
        self.0.fail.lock().unwrap().insert(hook);
    }

    fn log(&self) -> Vec<String> {
        self.0.log.lock().unwrap().clone()
    }

    fn calls(&self, hook: &str) -> Vec<Call> {
        self.0
            .calls
            .lock()
            .unwrap()
            .iter()
            .filter(|c| c.hook == hook)
            .cloned()
            .collect()
    }

    fn clear(&self) {
        self.0.log.lock().unwrap().clear();
        self.0.calls.lock().unwrap().clear();
    }

    /// Waits (bounded, 2 s) until the log has `n` entries; returns it.
    async fn wait_log(&self, n: usize, context: &str) -> Vec<String> {
        for _ in 0..200 {
            if self.log().len() >= n {
                return self.log();
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("{context}: expected {n} log entries, got {:?}", self.log());
    }

    /// The log after background work had time to run.
    async fn settled_log(&self) -> Vec<String> {
        tokio::time::sleep(Duration::from_millis(150)).await;
        self.log()
    }
}

#[async_trait]
impl UserManager for Recorder {
    async fn on_after_register(&self, user: &User, request: &Parts) -> Result<(), HookError> {
        self.record("on_after_register", user, None, None, request)
            .await
    }
    async fn on_after_login(&self, user: &User, request: &Parts) -> Result<(), HookError> {
        self.record("on_after_login", user, None, None, request)
            .await
    }
    async fn on_after_forgot_password(
        &self,
        user: &User,
        token: &str,
        request: &Parts,
    ) -> Result<(), HookError> {
        self.record("on_after_forgot_password", user, Some(token), None, request)
            .await
    }
    async fn on_after_request_verify(
        &self,
        user: &User,
        token: &str,
        request: &Parts,
    ) -> Result<(), HookError> {
        self.record("on_after_request_verify", user, Some(token), None, request)
            .await
    }
    async fn on_after_verify(&self, user: &User, request: &Parts) -> Result<(), HookError> {
        self.record("on_after_verify", user, None, None, request)
            .await
    }
    async fn on_after_reset_password(&self, user: &User, request: &Parts) -> Result<(), HookError> {
        self.record("on_after_reset_password", user, None, None, request)
            .await
    }
    async fn on_after_update(
        &self,
        user: &User,
        update: &Map<String, Value>,
        request: &Parts,
    ) -> Result<(), HookError> {
        self.record("on_after_update", user, None, Some(update), request)
            .await
    }
    async fn on_before_delete(&self, user: &User, request: &Parts) -> Result<(), HookError> {
        self.record("on_before_delete", user, None, None, request)
            .await
    }
    async fn on_after_delete(&self, user: &User, request: &Parts) -> Result<(), HookError> {
        self.record("on_after_delete", user, None, None, request)
            .await
    }
}

/// The mailer side: `mail:kind:to` into the same log, and the token into the calls.
#[derive(Clone)]
struct RecordingMailer(Recorder);

#[async_trait]
impl Mailer for RecordingMailer {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        self.0
             .0
            .log
            .lock()
            .unwrap()
            .push(format!("mail:{}:{}", mail.kind, mail.to));
        self.0 .0.calls.lock().unwrap().push(Call {
            hook: "mail",
            user: User::new(mail.to.clone(), ""),
            token: Some(mail.token.clone()),
            update: None,
            method: Method::GET,
            path: String::new(),
            trace: None,
            stored: None,
        });
        Ok(())
    }
}

struct Env {
    state: AuthState,
    app: Router,
    hooks: Recorder,
}

fn env_for<C: axum_users::AuthConfig>(
    configure: impl FnOnce(AuthStateBuilder) -> AuthStateBuilder,
) -> Env {
    let hooks = Recorder::default();
    let builder = AuthState::builder::<C>()
        .secret(SECRET)
        .store(MemoryStore::new())
        .password_hasher(hasher())
        .manager(hooks.clone())
        .mailer(RecordingMailer(hooks.clone()));
    let state = configure(builder).build().unwrap();
    hooks.0.state.set(state.clone()).ok().unwrap();
    let app = app_for::<C>(&state);
    Env { state, app, hooks }
}

fn env() -> Env {
    env_for::<Auth>(|b| b)
}

const TRACE: &str = "trace-1234";

/// Adds the `x-trace` header every hook should see.
fn traced(mut request: Request<Body>) -> Request<Body> {
    request
        .headers_mut()
        .insert("x-trace", HeaderValue::from_static(TRACE));
    request
}

async fn call(
    env: &Env,
    method: Method,
    path: &str,
    credential: Option<(Via, &str)>,
    body: Option<&Value>,
) -> (StatusCode, Value) {
    let (status, _, body) = send(
        &env.app,
        traced(request_json(method, path, credential, body)),
    )
    .await;
    (status, body)
}

async fn post(env: &Env, path: &str, body: Value) -> (StatusCode, Value) {
    call(env, Method::POST, path, None, Some(&body)).await
}

async fn login(env: &Env, backend: &str, email: &str, password: &str) -> StatusCode {
    let request = traced(post_form(
        &format!("/auth/{backend}/login"),
        login_form(email, password),
    ));
    send(&env.app, request).await.0
}

/// Every recorded call of `hook` came from `method path` and carried the trace header.
fn assert_request(hooks: &Recorder, hook: &str, method: Method, path: &str) {
    let calls = hooks.calls(hook);
    assert!(!calls.is_empty(), "{hook} was called");
    for call in calls {
        assert_eq!(
            (&call.method, call.path.as_str(), call.trace.as_deref()),
            (&method, path, Some(TRACE)),
            "{hook}: the request's parts"
        );
    }
}

fn hook_failures() -> [Option<&'static str>; 2] {
    [None, Some("fail")]
}

// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn register_hooks() {
    for fail in hook_failures() {
        let env = env();
        if fail.is_some() {
            env.hooks.fail("on_after_register");
        }
        let case = format!("register fail={fail:?}");
        let (status, body) = post(
            &env,
            "/auth/register",
            json!({"email": "King.Arthur@camelot.bt", "password": PASSWORD}),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{case}: {body}");
        let id = Uuid::parse_str(body["id"].as_str().unwrap()).unwrap();
        let user = stored(&env.state, id).await;
        assert_eq!(body, user_read(&user), "{case}");
        assert_eq!(
            env.hooks.settled_log().await,
            ["on_after_register:King.Arthur@camelot.bt"],
            "{case}: no verification without verify_on_register"
        );
        let call = &env.hooks.calls("on_after_register")[0];
        assert_eq!(call.user, user, "{case}");
        assert_eq!(
            call.stored.as_ref(),
            Some(&user),
            "{case}: stored before the hook"
        );
        assert_request(
            &env.hooks,
            "on_after_register",
            Method::POST,
            "/auth/register",
        );
        // Refused registrations call nothing.
        env.hooks.clear();
        for bad in [
            json!({"email": "king.arthur@camelot.bt", "password": PASSWORD}),
            json!({"email": "guinevere@camelot.bt", "password": "short"}),
            json!({"email": "not-an-email", "password": PASSWORD}),
        ] {
            let (status, _) = post(&env, "/auth/register", bad.clone()).await;
            assert!(status.is_client_error(), "{case}: {bad}");
        }
        assert!(env.hooks.settled_log().await.is_empty(), "{case}");
    }
}

#[tokio::test]
async fn register_with_verify_on_register_hooks() {
    let env = env_for::<Auth>(|b| b.verify_on_register(true));
    let (status, body) = post(
        &env,
        "/auth/register",
        json!({"email": "king.arthur@camelot.bt", "password": PASSWORD}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let log = env.hooks.wait_log(3, "verify_on_register").await;
    assert_eq!(
        log,
        [
            "on_after_register:king.arthur@camelot.bt",
            "on_after_request_verify:king.arthur@camelot.bt",
            "mail:verify:king.arthur@camelot.bt",
        ]
    );
    let token = env.hooks.calls("on_after_request_verify")[0]
        .token
        .clone()
        .unwrap();
    assert_eq!(
        env.hooks.calls("mail")[0].token.as_deref(),
        Some(token.as_str())
    );
    // The background hook still sees the registration request.
    assert_request(
        &env.hooks,
        "on_after_request_verify",
        Method::POST,
        "/auth/register",
    );
    assert_eq!(env.hooks.settled_log().await.len(), 3);
}

#[tokio::test]
async fn login_hooks() {
    for fail in hook_failures() {
        for strict in [false, true] {
            let env = if strict {
                env_for::<StrictAuth>(|b| b)
            } else {
                env()
            };
            if fail.is_some() {
                env.hooks.fail("on_after_login");
            }
            let case = format!("login fail={fail:?} requires_verification={strict}");
            create_user(
                &env.state,
                "lake.lady@camelot.bt",
                PASSWORD,
                true,
                false,
                true,
            )
            .await;
            create_user(
                &env.state,
                "percival@camelot.bt",
                PASSWORD,
                false,
                false,
                true,
            )
            .await;
            regular_user(&env.state, "king.arthur@camelot.bt").await;

            assert_eq!(
                login(&env, "jwt", "lake.lady@camelot.bt", PASSWORD).await,
                StatusCode::OK,
                "{case}"
            );
            assert_eq!(
                login(&env, "cookie", "LAKE.LADY@camelot.bt", PASSWORD).await,
                StatusCode::NO_CONTENT,
                "{case}"
            );
            assert_eq!(
                env.hooks.log(),
                [
                    "on_after_login:lake.lady@camelot.bt",
                    "on_after_login:lake.lady@camelot.bt"
                ],
                "{case}"
            );
            let paths: Vec<String> = env
                .hooks
                .calls("on_after_login")
                .into_iter()
                .map(|c| c.path)
                .collect();
            assert_eq!(paths, ["/auth/jwt/login", "/auth/cookie/login"], "{case}");
            assert!(env
                .hooks
                .calls("on_after_login")
                .iter()
                .all(|c| c.trace.as_deref() == Some(TRACE)));

            // Refused logins call nothing.
            env.hooks.clear();
            assert_eq!(
                login(&env, "jwt", "lake.lady@camelot.bt", "wrong password").await,
                StatusCode::BAD_REQUEST
            );
            assert_eq!(
                login(&env, "jwt", "percival@camelot.bt", PASSWORD).await,
                StatusCode::BAD_REQUEST
            );
            assert_eq!(
                login(&env, "jwt", "nobody@camelot.bt", PASSWORD).await,
                StatusCode::BAD_REQUEST
            );
            let unverified = login(&env, "cookie", "king.arthur@camelot.bt", PASSWORD).await;
            if strict {
                assert_eq!(unverified, StatusCode::BAD_REQUEST, "{case}");
                assert!(env.hooks.log().is_empty(), "{case}: {:?}", env.hooks.log());
            } else {
                assert_eq!(unverified, StatusCode::NO_CONTENT, "{case}");
                assert_eq!(
                    env.hooks.log(),
                    ["on_after_login:king.arthur@camelot.bt"],
                    "{case}"
                );
            }
        }
    }
}

#[tokio::test]
async fn forgot_and_reset_password_hooks() {
    for fail in hook_failures() {
        let env = env();
        if fail.is_some() {
            env.hooks.fail("on_after_forgot_password");
            env.hooks.fail("on_after_reset_password");
        }
        let case = format!("forgot/reset fail={fail:?}");
        let user = regular_user(&env.state, "King.Arthur@camelot.bt").await;
        create_user(
            &env.state,
            "percival@camelot.bt",
            PASSWORD,
            false,
            false,
            false,
        )
        .await;

        // Unknown and inactive: nothing.
        for email in ["nobody@camelot.bt", "percival@camelot.bt"] {
            let (status, body) =
                post(&env, "/auth/forgot-password", json!({ "email": email })).await;
            assert_eq!(
                (status, body),
                (StatusCode::ACCEPTED, Value::Null),
                "{case}: {email}"
            );
        }
        assert!(
            env.hooks.settled_log().await.is_empty(),
            "{case}: {:?}",
            env.hooks.log()
        );

        // Existing: the hook with the token, then the message (sent even when the hook fails).
        let (status, _) = post(
            &env,
            "/auth/forgot-password",
            json!({"email": "king.arthur@camelot.bt"}),
        )
        .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{case}");
        assert_eq!(
            env.hooks.wait_log(2, &case).await,
            [
                "on_after_forgot_password:King.Arthur@camelot.bt",
                "mail:reset_password:King.Arthur@camelot.bt"
            ],
            "{case}"
        );
        let token = env.hooks.calls("on_after_forgot_password")[0]
            .token
            .clone()
            .unwrap();
        assert_eq!(
            env.hooks.calls("mail")[0].token.as_ref(),
            Some(&token),
            "{case}"
        );
        assert_request(
            &env.hooks,
            "on_after_forgot_password",
            Method::POST,
            "/auth/forgot-password",
        );

        // A refused reset calls nothing.
        env.hooks.clear();
        let (status, _) = post(
            &env,
            "/auth/reset-password",
            json!({"token": token, "password": "short"}),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{case}");
        let (status, _) = post(
            &env,
            "/auth/reset-password",
            json!({"token": "garbage", "password": "long enough"}),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{case}");
        assert!(env.hooks.log().is_empty(), "{case}");

        let (status, body) = post(
            &env,
            "/auth/reset-password",
            json!({"token": token, "password": "new password 1"}),
        )
        .await;
        assert_eq!((status, body), (StatusCode::OK, Value::Null), "{case}");
        assert_eq!(
            env.hooks.log(),
            ["on_after_reset_password:King.Arthur@camelot.bt"],
            "{case}"
        );
        let call = &env.hooks.calls("on_after_reset_password")[0];
        let now_stored = stored(&env.state, user.id).await;
        assert_eq!(
            call.stored.as_ref(),
            Some(&now_stored),
            "{case}: stored before the hook"
        );
        assert_ne!(now_stored.hashed_password, user.hashed_password, "{case}");
        assert!(
            password_matches(&env.state, &user.email, "new password 1").await,
            "{case}"
        );
        assert_request(
            &env.hooks,
            "on_after_reset_password",
            Method::POST,
            "/auth/reset-password",
        );
    }
}

#[tokio::test]
async fn request_verify_and_verify_hooks() {
    for fail in hook_failures() {
        let env = env();
        if fail.is_some() {
            env.hooks.fail("on_after_request_verify");
            env.hooks.fail("on_after_verify");
        }
        let case = format!("verify fail={fail:?}");
        let user = regular_user(&env.state, "king.arthur@camelot.bt").await;
        create_user(
            &env.state,
            "percival@camelot.bt",
            PASSWORD,
            false,
            false,
            false,
        )
        .await;
        create_user(
            &env.state,
            "lake.lady@camelot.bt",
            PASSWORD,
            true,
            false,
            true,
        )
        .await;

        for email in [
            "nobody@camelot.bt",
            "percival@camelot.bt",
            "lake.lady@camelot.bt",
        ] {
            let (status, _) = post(
                &env,
                "/auth/request-verify-token",
                json!({ "email": email }),
            )
            .await;
            assert_eq!(status, StatusCode::ACCEPTED, "{case}: {email}");
        }
        assert!(
            env.hooks.settled_log().await.is_empty(),
            "{case}: {:?}",
            env.hooks.log()
        );

        let (status, _) = post(
            &env,
            "/auth/request-verify-token",
            json!({"email": "King.Arthur@camelot.bt"}),
        )
        .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{case}");
        assert_eq!(
            env.hooks.wait_log(2, &case).await,
            [
                "on_after_request_verify:king.arthur@camelot.bt",
                "mail:verify:king.arthur@camelot.bt"
            ],
            "{case}"
        );
        let token = env.hooks.calls("on_after_request_verify")[0]
            .token
            .clone()
            .unwrap();
        assert_eq!(
            env.hooks.calls("mail")[0].token.as_ref(),
            Some(&token),
            "{case}"
        );
        assert_request(
            &env.hooks,
            "on_after_request_verify",
            Method::POST,
            "/auth/request-verify-token",
        );

        env.hooks.clear();
        let (status, _) = post(&env, "/auth/verify", json!({"token": "garbage"})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{case}");
        assert!(env.hooks.log().is_empty(), "{case}");

        let (status, body) = post(&env, "/auth/verify", json!({ "token": token })).await;
        assert_eq!(status, StatusCode::OK, "{case}: {body}");
        assert_eq!(body["is_verified"], true, "{case}");
        assert!(
            stored(&env.state, user.id).await.is_verified,
            "{case}: stored"
        );
        assert_eq!(
            env.hooks.log(),
            ["on_after_verify:king.arthur@camelot.bt"],
            "{case}"
        );
        let call = &env.hooks.calls("on_after_verify")[0];
        assert!(
            call.user.is_verified,
            "{case}: the hook gets the verified user"
        );
        assert!(
            call.stored.as_ref().unwrap().is_verified,
            "{case}: stored before the hook"
        );
        assert_request(&env.hooks, "on_after_verify", Method::POST, "/auth/verify");

        // Already verified: no hook.
        env.hooks.clear();
        let (status, _) = post(&env, "/auth/verify", json!({ "token": token })).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{case}");
        assert!(env.hooks.log().is_empty(), "{case}");
    }
}

#[tokio::test]
async fn update_hooks() {
    for fail in hook_failures() {
        for via in Via::ALL {
            let env = env();
            if fail.is_some() {
                env.hooks.fail("on_after_update");
            }
            let case = format!("update fail={fail:?} via={via:?}");
            let me = regular_user(&env.state, "king.arthur@camelot.bt").await;
            let admin =
                create_user(&env.state, "merlin@camelot.bt", PASSWORD, true, true, true).await;
            let other = regular_user(&env.state, "guinevere@camelot.bt").await;
            let my_token = mint_access(&me.id.to_string());
            let admin_token = mint_access(&admin.id.to_string());

            // PATCH /users/me: the hook gets the JSON as sent (password in clear, ignored flags
            // and unknown keys included) and the updated user, already stored.
            let sent = json!({
                "password": "a new password",
                "email": "Arthur@Avalon.BT",
                "is_superuser": true,
                "unknown": [1, 2],
            });
            let (status, body) = call(
                &env,
                Method::PATCH,
                "/users/me",
                Some((via, &my_token)),
                Some(&sent),
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{case}: {body}");
            assert_eq!(
                env.hooks.log(),
                ["on_after_update:Arthur@avalon.bt"],
                "{case}"
            );
            let hook_call = &env.hooks.calls("on_after_update")[0];
            assert_eq!(hook_call.update.as_ref(), Some(&sent), "{case}: raw update");
            let now_stored = stored(&env.state, me.id).await;
            assert_eq!(hook_call.user, now_stored, "{case}");
            assert_eq!(
                hook_call.stored.as_ref(),
                Some(&now_stored),
                "{case}: stored before the hook"
            );
            assert!(!now_stored.is_superuser, "{case}");
            assert!(
                password_matches(&env.state, "arthur@avalon.bt", "a new password").await,
                "{case}"
            );
            assert_request(&env.hooks, "on_after_update", Method::PATCH, "/users/me");

            // PATCH /users/{id}: the target user.
            env.hooks.clear();
            let path = format!("/users/{}", other.id);
            let sent = json!({"is_verified": true, "is_superuser": true});
            let (status, body) = call(
                &env,
                Method::PATCH,
                &path,
                Some((via, &admin_token)),
                Some(&sent),
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{case}: {body}");
            assert_eq!(
                env.hooks.log(),
                ["on_after_update:guinevere@camelot.bt"],
                "{case}"
            );
            let hook_call = &env.hooks.calls("on_after_update")[0];
            assert_eq!(hook_call.update.as_ref(), Some(&sent), "{case}");
            let now_stored = stored(&env.state, other.id).await;
            assert!(
                now_stored.is_verified && now_stored.is_superuser,
                "{case}: stored"
            );
            assert_eq!(hook_call.user, now_stored, "{case}");
            assert_request(&env.hooks, "on_after_update", Method::PATCH, &path);

            // Refused updates call nothing.
            env.hooks.clear();
            for (token, path, body) in [
                (
                    &my_token,
                    "/users/me".to_owned(),
                    json!({"email": "GUINEVERE@camelot.bt"}),
                ),
                (
                    &my_token,
                    "/users/me".to_owned(),
                    json!({"password": "short"}),
                ),
                (&my_token, "/users/me".to_owned(), json!({"email": "bad"})),
                (&my_token, path.clone(), json!({})),
                (
                    &admin_token,
                    format!("/users/{}", Uuid::new_v4()),
                    json!({}),
                ),
            ] {
                let (status, _) =
                    call(&env, Method::PATCH, &path, Some((via, token)), Some(&body)).await;
                assert!(status.is_client_error(), "{case}: {path} {body}");
            }
            assert!(env.hooks.log().is_empty(), "{case}: {:?}", env.hooks.log());
        }
    }
}

#[tokio::test]
async fn delete_hooks() {
    for fail in [None, Some("on_after_delete")] {
        let env = env();
        if let Some(hook) = fail {
            env.hooks.fail(hook);
        }
        let case = format!("delete fail={fail:?}");
        let admin = create_user(&env.state, "merlin@camelot.bt", PASSWORD, true, true, true).await;
        let victim = regular_user(&env.state, "mordred@camelot.bt").await;
        let token = mint_access(&admin.id.to_string());
        let path = format!("/users/{}", victim.id);
        let (status, _) = call(
            &env,
            Method::DELETE,
            &path,
            Some((Via::Bearer, &token)),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{case}");
        assert_eq!(
            env.hooks.log(),
            [
                "on_before_delete:mordred@camelot.bt",
                "on_after_delete:mordred@camelot.bt"
            ],
            "{case}"
        );
        assert_eq!(
            env.hooks.calls("on_before_delete")[0].stored.as_ref(),
            Some(&victim),
            "{case}: still stored before"
        );
        assert!(
            env.hooks.calls("on_after_delete")[0].stored.is_none(),
            "{case}: gone after"
        );
        assert_eq!(
            env.state.store().get(victim.id).await.unwrap(),
            None,
            "{case}"
        );
        assert_request(&env.hooks, "on_before_delete", Method::DELETE, &path);
        assert_request(&env.hooks, "on_after_delete", Method::DELETE, &path);

        // Refused deletions call nothing.
        env.hooks.clear();
        let (status, _) = call(
            &env,
            Method::DELETE,
            &path,
            Some((Via::Bearer, &token)),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{case}");
        let regular = regular_user(&env.state, "king.arthur@camelot.bt").await;
        let (status, _) = call(
            &env,
            Method::DELETE,
            &format!("/users/{}", admin.id),
            Some((Via::Bearer, &mint_access(&regular.id.to_string()))),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{case}");
        assert!(env.hooks.log().is_empty(), "{case}");
    }
}

#[tokio::test]
async fn failing_on_before_delete_cancels_the_deletion() {
    let env = env();
    env.hooks.fail("on_before_delete");
    let admin = create_user(&env.state, "merlin@camelot.bt", PASSWORD, true, true, true).await;
    let victim = regular_user(&env.state, "mordred@camelot.bt").await;
    let token = mint_access(&admin.id.to_string());
    let path = format!("/users/{}", victim.id);
    for via in Via::ALL {
        let (status, body) = call(&env, Method::DELETE, &path, Some((via, &token)), None).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{via:?}: {body}");
        assert_eq!(body, json!({"detail": "Internal Server Error"}), "{via:?}");
        assert_eq!(
            stored(&env.state, victim.id).await,
            victim,
            "{via:?}: not deleted"
        );
    }
    assert_eq!(
        env.hooks.log(),
        [
            "on_before_delete:mordred@camelot.bt",
            "on_before_delete:mordred@camelot.bt"
        ],
        "no on_after_delete"
    );
    // The user still works.
    login_jwt(&env.app, "mordred@camelot.bt", PASSWORD).await;
    let (status, body) = call(&env, Method::GET, &path, Some((Via::Bearer, &token)), None).await;
    assert_eq!((status, body), (StatusCode::OK, user_read(&victim)));
}

#[tokio::test]
async fn every_hook_sees_the_request_path_and_headers() {
    // One walk through the lifecycle; every hook records the request it came from.
    let env = env();
    let admin = create_user(&env.state, "merlin@camelot.bt", PASSWORD, true, true, true).await;
    let admin_token = mint_access(&admin.id.to_string());
    let (status, body) = post(
        &env,
        "/auth/register",
        json!({"email": "king.arthur@camelot.bt", "password": PASSWORD}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let id = body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        login(&env, "cookie", "king.arthur@camelot.bt", PASSWORD).await,
        StatusCode::NO_CONTENT
    );
    post(
        &env,
        "/auth/request-verify-token",
        json!({"email": "king.arthur@camelot.bt"}),
    )
    .await;
    env.hooks.wait_log(4, "request-verify").await;
    let verify_token = env.hooks.calls("mail")[0].token.clone().unwrap();
    post(&env, "/auth/verify", json!({ "token": verify_token })).await;
    post(
        &env,
        "/auth/forgot-password",
        json!({"email": "king.arthur@camelot.bt"}),
    )
    .await;
    env.hooks.wait_log(7, "forgot-password").await;
    let reset_token = env.hooks.calls("mail")[1].token.clone().unwrap();
    post(
        &env,
        "/auth/reset-password",
        json!({"token": reset_token, "password": "new password 1"}),
    )
    .await;
    let path = format!("/users/{id}");
    call(
        &env,
        Method::PATCH,
        &path,
        Some((Via::Cookie, &admin_token)),
        Some(&json!({})),
    )
    .await;
    call(
        &env,
        Method::DELETE,
        &path,
        Some((Via::Cookie, &admin_token)),
        None,
    )
    .await;

    assert_eq!(
        env.hooks.settled_log().await,
        [
            "on_after_register:king.arthur@camelot.bt",
            "on_after_login:king.arthur@camelot.bt",
            "on_after_request_verify:king.arthur@camelot.bt",
            "mail:verify:king.arthur@camelot.bt",
            "on_after_verify:king.arthur@camelot.bt",
            "on_after_forgot_password:king.arthur@camelot.bt",
            "mail:reset_password:king.arthur@camelot.bt",
            "on_after_reset_password:king.arthur@camelot.bt",
            "on_after_update:king.arthur@camelot.bt",
            "on_before_delete:king.arthur@camelot.bt",
            "on_after_delete:king.arthur@camelot.bt",
        ]
    );
    for (hook, method, route) in [
        (
            "on_after_register",
            Method::POST,
            "/auth/register".to_owned(),
        ),
        (
            "on_after_login",
            Method::POST,
            "/auth/cookie/login".to_owned(),
        ),
        (
            "on_after_request_verify",
            Method::POST,
            "/auth/request-verify-token".to_owned(),
        ),
        ("on_after_verify", Method::POST, "/auth/verify".to_owned()),
        (
            "on_after_forgot_password",
            Method::POST,
            "/auth/forgot-password".to_owned(),
        ),
        (
            "on_after_reset_password",
            Method::POST,
            "/auth/reset-password".to_owned(),
        ),
        ("on_after_update", Method::PATCH, path.clone()),
        ("on_before_delete", Method::DELETE, path.clone()),
        ("on_after_delete", Method::DELETE, path.clone()),
    ] {
        assert_request(&env.hooks, hook, method, &route);
    }
}
