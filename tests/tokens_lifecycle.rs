//! Reset-password and verification tokens: obtained through a capturing mailer (the message is
//! sent by a task that runs after the 202) and through `AuthState::reset_token` /
//! `verification_token`, or minted by hand; their claims, lifetimes, audiences, secrets and
//! every way they are refused.

mod common;

use axum::http::{Method, StatusCode};
use axum::Router;
use axum_users::prelude::*;
use axum_users::{AuthStateBuilder, BackendSpec, MailKind};
use common::*;
use serde_json::{json, Value};
use uuid::Uuid;

const RESET_SECRET: &str = "reset-secret-reset-secret-reset-secret!";
const VERIFY_SECRET: &str = "verify-secret-verify-secret-verify-secret";

/// The standard backends with 60-second reset and 120-second verification tokens.
struct ShortLived;
impl axum_users::AuthConfig for ShortLived {
    const BACKENDS: &'static [BackendSpec] = <Auth as axum_users::AuthConfig>::BACKENDS;
    const RESET_TOKEN_LIFETIME: u64 = 60;
    const VERIFY_TOKEN_LIFETIME: u64 = 120;
}

struct Env {
    state: AuthState,
    app: Router,
    mailer: CapturingMailer,
}

fn env_for<C: axum_users::AuthConfig>(
    configure: impl FnOnce(AuthStateBuilder) -> AuthStateBuilder,
) -> Env {
    let mailer = CapturingMailer::default();
    let builder = AuthState::builder::<C>()
        .secret(SECRET)
        .store(MemoryStore::new())
        .password_hasher(hasher())
        .mailer(mailer.clone());
    let state = configure(builder).build().unwrap();
    let app = app_for::<C>(&state);
    Env { state, app, mailer }
}

fn env() -> Env {
    env_for::<Auth>(|b| b)
}

async fn post(app: &Router, path: &str, body: Value) -> (StatusCode, Vec<u8>, Value) {
    let (status, _, bytes) = send_raw(app, post_json(path, &body)).await;
    let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, bytes, json)
}

async fn reset(app: &Router, token: &str, password: &str) -> (StatusCode, Value) {
    let (status, bytes, body) = post(
        app,
        "/auth/reset-password",
        json!({"token": token, "password": password}),
    )
    .await;
    if status == StatusCode::OK {
        assert_eq!(bytes, b"null", "a successful reset answers exactly `null`");
    }
    (status, body)
}

async fn verify(app: &Router, token: &str) -> (StatusCode, Value) {
    let (status, _, body) = post(app, "/auth/verify", json!({ "token": token })).await;
    (status, body)
}

fn bad_reset() -> (StatusCode, Value) {
    (
        StatusCode::BAD_REQUEST,
        json!({"detail": "RESET_PASSWORD_BAD_TOKEN"}),
    )
}

fn bad_verify() -> (StatusCode, Value) {
    (
        StatusCode::BAD_REQUEST,
        json!({"detail": "VERIFY_USER_BAD_TOKEN"}),
    )
}

/// `POST /auth/forgot-password` for `email`, then the reset message (waits for the `n`-th).
async fn forgot(env: &Env, email: &str, n: usize) -> String {
    let (status, bytes, _) =
        post(&env.app, "/auth/forgot-password", json!({ "email": email })).await;
    assert_eq!(
        (status, bytes.as_slice()),
        (StatusCode::ACCEPTED, &b"null"[..])
    );
    let mails = env
        .mailer
        .wait_for(n, &format!("forgot-password {email}"))
        .await;
    let mail = &mails[n - 1];
    assert_eq!(mail.kind, MailKind::ResetPassword);
    mail.token.clone()
}

/// `POST /auth/request-verify-token` for `email`, then the verification message.
async fn request_verify(env: &Env, email: &str, n: usize) -> String {
    let (status, bytes, _) = post(
        &env.app,
        "/auth/request-verify-token",
        json!({ "email": email }),
    )
    .await;
    assert_eq!(
        (status, bytes.as_slice()),
        (StatusCode::ACCEPTED, &b"null"[..])
    );
    let mails = env
        .mailer
        .wait_for(n, &format!("request-verify {email}"))
        .await;
    let mail = &mails[n - 1];
    assert_eq!(mail.kind, MailKind::Verify);
    mail.token.clone()
}

/// A reset token minted by hand with `secret` for `user` as stored now, with `changes` applied
/// to the payload (`null` removes a claim).
async fn hand_reset_token(state: &AuthState, secret: &str, id: Uuid, changes: Value) -> String {
    let user = stored(state, id).await;
    let fingerprint = state.hasher().hash(&user.hashed_password).await.unwrap();
    let mut payload = json!({
        "sub": id.to_string(),
        "password_fgpt": fingerprint,
        "aud": "fastapi-users:reset",
        "exp": now() + 3600,
    });
    apply(&mut payload, changes);
    mint_with(
        secret.as_bytes(),
        &json!({"alg": "HS256", "typ": "JWT"}),
        &payload,
    )
}

/// A verification token minted by hand, as [`hand_reset_token`].
fn hand_verify_token(secret: &str, user: &User, changes: Value) -> String {
    let mut payload = json!({
        "sub": user.id.to_string(),
        "email": user.email,
        "aud": "fastapi-users:verify",
        "exp": now() + 3600,
    });
    apply(&mut payload, changes);
    mint_with(
        secret.as_bytes(),
        &json!({"alg": "HS256", "typ": "JWT"}),
        &payload,
    )
}

fn apply(payload: &mut Value, changes: Value) {
    for (key, value) in changes.as_object().unwrap() {
        if value.is_null() {
            payload.as_object_mut().unwrap().remove(key);
        } else {
            payload[key] = value.clone();
        }
    }
}

async fn logs_in(state: &AuthState, email: &str, password: &str) -> bool {
    password_matches(state, email, password).await
}

// ---------------------------------------------------------------------------------------------
// Password reset
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn reset_through_the_mailer_works_once() {
    let env = env();
    let user = regular_user(&env.state, "King.Arthur@camelot.bt").await;
    // The lookup is case-insensitive; the message goes to the stored address.
    let token = forgot(&env, "KING.ARTHUR@camelot.bt", 1).await;
    assert_eq!(env.mailer.taken()[0].to, "King.Arthur@camelot.bt");

    assert_eq!(
        reset(&env.app, &token, "guinevere forever").await,
        (StatusCode::OK, Value::Null)
    );
    assert!(logs_in(&env.state, &user.email, "guinevere forever").await);
    assert!(!logs_in(&env.state, &user.email, PASSWORD).await);
    login_jwt(&env.app, &user.email, "guinevere forever").await;
    let after = stored(&env.state, user.id).await;
    assert_eq!(
        user_read(&after),
        user_read(&user),
        "only the password changed"
    );

    // Used once: the fingerprint no longer matches.
    assert_eq!(
        reset(&env.app, &token, "yet another password").await,
        bad_reset()
    );
    assert!(logs_in(&env.state, &user.email, "guinevere forever").await);
}

#[tokio::test]
async fn reset_token_from_the_state_works_and_is_single_use() {
    let env = env();
    let user = regular_user(&env.state, "king.arthur@camelot.bt").await;
    let token = env.state.reset_token(&user).await.unwrap();
    let second = env.state.reset_token(&user).await.unwrap();
    assert_eq!(
        reset(&env.app, &token, "guinevere forever").await.0,
        StatusCode::OK
    );
    // Every outstanding token dies with the password.
    assert_eq!(
        reset(&env.app, &token, "another password").await,
        bad_reset()
    );
    assert_eq!(
        reset(&env.app, &second, "another password").await,
        bad_reset()
    );
    assert!(logs_in(&env.state, &user.email, "guinevere forever").await);
}

#[tokio::test]
async fn reset_token_dies_after_a_password_change_through_patch_me() {
    for via in Via::ALL {
        let env = env();
        let user = regular_user(&env.state, "king.arthur@camelot.bt").await;
        let token = env.state.reset_token(&user).await.unwrap();
        let access = login_jwt(&env.app, &user.email, PASSWORD).await;
        let (status, _, _) = send_raw(
            &env.app,
            request_json(
                Method::PATCH,
                "/users/me",
                Some((via, &access)),
                Some(&json!({"password": "changed by hand"})),
            ),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{via:?}");
        assert_eq!(
            reset(&env.app, &token, "reset afterwards").await,
            bad_reset(),
            "{via:?}"
        );
        assert!(
            logs_in(&env.state, &user.email, "changed by hand").await,
            "{via:?}"
        );
        assert!(
            !logs_in(&env.state, &user.email, "reset afterwards").await,
            "{via:?}"
        );
    }
}

#[tokio::test]
async fn reset_token_survives_an_email_change_but_not_a_changed_sub() {
    // The fingerprint covers only the password hash (as fastapi-users).
    let env = env();
    let user = regular_user(&env.state, "king.arthur@camelot.bt").await;
    let other = regular_user(&env.state, "guinevere@camelot.bt").await;
    let token = env.state.reset_token(&user).await.unwrap();
    let access = login_jwt(&env.app, &user.email, PASSWORD).await;
    let (status, _, body) = send(
        &env.app,
        request_json(
            Method::PATCH,
            "/users/me",
            Some((Via::Bearer, &access)),
            Some(&json!({"email": "arthur@avalon.bt"})),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // A token whose `sub` is another user's, with this user's fingerprint: refused.
    let (_, payload) = decode_jwt(&token);
    let forged = mint(&json!({
        "sub": other.id.to_string(),
        "password_fgpt": payload["password_fgpt"],
        "aud": "fastapi-users:reset",
        "exp": now() + 3600,
    }));
    assert_eq!(
        reset(&env.app, &forged, "stolen password!").await,
        bad_reset()
    );
    assert!(logs_in(&env.state, &other.email, PASSWORD).await);

    assert_eq!(
        reset(&env.app, &token, "after the move").await.0,
        StatusCode::OK
    );
    assert!(logs_in(&env.state, "arthur@avalon.bt", "after the move").await);
}

#[tokio::test]
async fn reset_rejects_a_short_password_and_keeps_the_token_usable() {
    let env = env();
    let user = regular_user(&env.state, "king.arthur@camelot.bt").await;
    let token = env.state.reset_token(&user).await.unwrap();
    assert_eq!(
        reset(&env.app, &token, "1234567").await,
        (
            StatusCode::BAD_REQUEST,
            json!({"detail": {
                "code": "RESET_PASSWORD_INVALID_PASSWORD",
                "reason": "Password should be at least 8 characters"
            }})
        )
    );
    assert_eq!(stored(&env.state, user.id).await, user, "nothing stored");
    // The password did not change, so the token still works.
    assert_eq!(reset(&env.app, &token, "12345678").await.0, StatusCode::OK);
    assert!(logs_in(&env.state, &user.email, "12345678").await);
}

#[tokio::test]
async fn reset_for_an_inactive_or_deleted_user_is_a_bad_token() {
    let env = env();
    let inactive = create_user(
        &env.state,
        "percival@camelot.bt",
        PASSWORD,
        false,
        false,
        true,
    )
    .await;
    let token = env.state.reset_token(&inactive).await.unwrap();
    assert_eq!(reset(&env.app, &token, "new password!").await, bad_reset());
    assert_eq!(stored(&env.state, inactive.id).await, inactive);

    // Active when the token was made, deactivated since.
    let user = regular_user(&env.state, "king.arthur@camelot.bt").await;
    let token = env.state.reset_token(&user).await.unwrap();
    modify(&env.state, user.id, |u| u.is_active = false).await;
    assert_eq!(reset(&env.app, &token, "new password!").await, bad_reset());
    assert!(logs_in(&env.state, &user.email, PASSWORD).await);

    // Gone.
    let gone = regular_user(&env.state, "mordred@camelot.bt").await;
    let token = env.state.reset_token(&gone).await.unwrap();
    assert!(env.state.store().delete(gone.id).await.unwrap());
    assert_eq!(reset(&env.app, &token, "new password!").await, bad_reset());
}

#[tokio::test]
async fn hand_minted_reset_tokens() {
    let env = env();
    let user = regular_user(&env.state, "king.arthur@camelot.bt").await;
    let id = user.id;
    // The control: a well-formed hand-minted token works, so the refusals below are about
    // the one thing each case changes.
    let refused = [
        ("expired", json!({"exp": now() - 10})),
        ("exp == now", json!({"exp": now()})),
        ("audience verify", json!({"aud": "fastapi-users:verify"})),
        ("audience auth", json!({"aud": ["fastapi-users:auth"]})),
        ("audience other", json!({"aud": "someone-else"})),
        ("no audience", json!({"aud": null})),
        ("no sub", json!({"sub": null})),
        ("sub not a uuid", json!({"sub": "not-a-uuid"})),
        ("sub unknown", json!({"sub": Uuid::new_v4().to_string()})),
        ("no fingerprint", json!({"password_fgpt": null})),
        (
            "fingerprint not a hash",
            json!({"password_fgpt": "not a hash"}),
        ),
        ("fingerprint empty", json!({"password_fgpt": ""})),
        ("fingerprint a number", json!({"password_fgpt": 42})),
        (
            "wrong fingerprint",
            json!({"password_fgpt": "$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"}),
        ),
        (
            "fingerprint = the hash itself",
            json!({"password_fgpt": user.hashed_password}),
        ),
        ("issued in the future", json!({"iat": now() + 3600})),
        ("not yet valid", json!({"nbf": now() + 3600})),
    ];
    for (case, changes) in refused {
        let token = hand_reset_token(&env.state, SECRET, id, changes).await;
        assert_eq!(
            reset(&env.app, &token, "never stored!").await,
            bad_reset(),
            "{case}"
        );
    }
    // Other secret, `alg: none`, HS512, garbage.
    let other_secret = hand_reset_token(
        &env.state,
        "another secret of 32 bytes or more",
        id,
        json!({}),
    )
    .await;
    let (_, payload) = decode_jwt(&hand_reset_token(&env.state, SECRET, id, json!({})).await);
    let unsigned = format!(
        "{}.{}.",
        b64(json!({"alg": "none", "typ": "JWT"}).to_string().as_bytes()),
        b64(payload.to_string().as_bytes())
    );
    let hs512 = {
        let header = b64(json!({"alg": "HS512", "typ": "JWT"}).to_string().as_bytes());
        let body = b64(payload.to_string().as_bytes());
        let input = format!("{header}.{body}");
        format!("{input}.{}", hs512_signature(SECRET.as_bytes(), &input))
    };
    for (case, token) in [
        ("other secret", other_secret.as_str()),
        ("alg none", unsigned.as_str()),
        ("HS512", hs512.as_str()),
        ("garbage", "garbage"),
        ("empty", ""),
    ] {
        assert_eq!(
            reset(&env.app, token, "never stored!").await,
            bad_reset(),
            "{case}"
        );
    }
    assert_eq!(stored(&env.state, id).await, user, "nothing changed");
    assert!(!logs_in(&env.state, &user.email, "never stored!").await);

    // Accepted: the control, and `aud` as a list holding the reset audience (PyJWT accepts it).
    let listed = hand_reset_token(
        &env.state,
        SECRET,
        id,
        json!({"aud": ["fastapi-users:reset"]}),
    )
    .await;
    assert_eq!(
        reset(&env.app, &listed, "listed audience").await.0,
        StatusCode::OK
    );
    let control = hand_reset_token(&env.state, SECRET, id, json!({})).await;
    assert_eq!(
        reset(&env.app, &control, "control works").await.0,
        StatusCode::OK
    );
    assert!(logs_in(&env.state, &user.email, "control works").await);
}

#[tokio::test]
async fn reset_token_claims() {
    let env = env();
    let user = regular_user(&env.state, "king.arthur@camelot.bt").await;
    let from_mail = forgot(&env, &user.email, 1).await;
    let from_state = env.state.reset_token(&user).await.unwrap();
    for (source, token) in [("mailer", from_mail), ("state", from_state)] {
        let (header, payload) = decode_jwt(&token);
        assert_eq!(header["alg"], "HS256", "{source}");
        let mut keys: Vec<&str> = payload
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            ["aud", "exp", "password_fgpt", "sub"],
            "{source}: {payload}"
        );
        assert_eq!(
            payload["aud"],
            json!("fastapi-users:reset"),
            "{source}: a plain string"
        );
        assert_eq!(
            payload["sub"],
            json!(user.id.hyphenated().to_string()),
            "{source}"
        );
        let exp = payload["exp"].as_u64().expect("integer exp");
        assert!(
            (now() + 3590..=now() + 3600).contains(&exp),
            "{source}: exp {exp}"
        );
        // The fingerprint is a hash of the stored hash.
        let fingerprint = payload["password_fgpt"].as_str().unwrap();
        assert!(
            fingerprint.starts_with("$argon2id$"),
            "{source}: {fingerprint}"
        );
        let (ok, _) = env
            .state
            .hasher()
            .verify_and_update(&user.hashed_password, fingerprint)
            .await
            .unwrap();
        assert!(ok, "{source}: fingerprint of the stored hash");
        assert!(!fingerprint.contains(&user.hashed_password), "{source}");
    }
}

#[tokio::test]
async fn token_lifetimes_come_from_the_config() {
    let env = env_for::<ShortLived>(|b| b);
    assert_eq!(
        (env.state.reset_lifetime(), env.state.verify_lifetime()),
        (60, 120)
    );
    let user = regular_user(&env.state, "king.arthur@camelot.bt").await;
    let (_, reset_claims) = decode_jwt(&env.state.reset_token(&user).await.unwrap());
    let (_, verify_claims) = decode_jwt(&env.state.verification_token(&user).unwrap());
    let reset_exp = reset_claims["exp"].as_u64().unwrap();
    let verify_exp = verify_claims["exp"].as_u64().unwrap();
    assert!(
        (now() + 55..=now() + 60).contains(&reset_exp),
        "{reset_exp}"
    );
    assert!(
        (now() + 115..=now() + 120).contains(&verify_exp),
        "{verify_exp}"
    );
    let access = login_jwt(&env.app, &user.email, PASSWORD).await;
    let (_, access_claims) = decode_jwt(&access);
    assert!(
        access_claims["exp"].as_u64().unwrap() > now() + 3500,
        "backend lifetime"
    );
}

// ---------------------------------------------------------------------------------------------
// Verification
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn verify_through_the_mailer() {
    let env = env();
    let user = regular_user(&env.state, "King.Arthur@camelot.bt").await;
    let token = request_verify(&env, "king.arthur@CAMELOT.bt", 1).await;
    assert_eq!(env.mailer.taken()[0].to, "King.Arthur@camelot.bt");
    let (status, body) = verify(&env.app, &token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let after = stored(&env.state, user.id).await;
    assert!(after.is_verified);
    assert_eq!(body, user_read(&after));
    assert_eq!(body["is_verified"], true);
    assert_eq!(after.hashed_password, user.hashed_password);

    // Second use.
    assert_eq!(
        verify(&env.app, &token).await,
        (
            StatusCode::BAD_REQUEST,
            json!({"detail": "VERIFY_USER_ALREADY_VERIFIED"})
        )
    );
    // Verified now: no further message.
    let (status, _, _) = post(
        &env.app,
        "/auth/request-verify-token",
        json!({"email": user.email}),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(
        env.mailer.after(150).await.len(),
        1,
        "no mail for a verified user"
    );
}

#[tokio::test]
async fn verification_token_claims() {
    let env = env();
    let user = regular_user(&env.state, "King.Arthur@camelot.bt").await;
    let from_mail = request_verify(&env, &user.email, 1).await;
    let from_state = env.state.verification_token(&user).unwrap();
    for (source, token) in [("mailer", from_mail), ("state", from_state)] {
        let (header, payload) = decode_jwt(&token);
        assert_eq!(header["alg"], "HS256", "{source}");
        let mut keys: Vec<&str> = payload
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        keys.sort_unstable();
        assert_eq!(keys, ["aud", "email", "exp", "sub"], "{source}: {payload}");
        assert_eq!(payload["aud"], json!("fastapi-users:verify"), "{source}");
        assert_eq!(
            payload["sub"],
            json!(user.id.hyphenated().to_string()),
            "{source}"
        );
        assert_eq!(
            payload["email"],
            json!("King.Arthur@camelot.bt"),
            "{source}"
        );
        let exp = payload["exp"].as_u64().unwrap();
        assert!(
            (now() + 3590..=now() + 3600).contains(&exp),
            "{source}: exp {exp}"
        );
    }
}

#[tokio::test]
async fn verify_token_dies_with_an_email_change() {
    let env = env();
    let user = regular_user(&env.state, "king.arthur@camelot.bt").await;
    let token = request_verify(&env, &user.email, 1).await;
    let access = login_jwt(&env.app, &user.email, PASSWORD).await;
    let (status, _, _) = send_raw(
        &env.app,
        request_json(
            Method::PATCH,
            "/users/me",
            Some((Via::Cookie, &access)),
            Some(&json!({"email": "arthur@avalon.bt"})),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(verify(&env.app, &token).await, bad_verify());
    // Someone else registering the old address does not revive it (the `sub` differs).
    let squatter = regular_user(&env.state, "king.arthur@camelot.bt").await;
    assert_eq!(verify(&env.app, &token).await, bad_verify());
    assert!(!stored(&env.state, user.id).await.is_verified);
    assert!(!stored(&env.state, squatter.id).await.is_verified);
    // The new address gets its own token.
    let token = request_verify(&env, "arthur@avalon.bt", 2).await;
    assert_eq!(verify(&env.app, &token).await.0, StatusCode::OK);
}

#[tokio::test]
async fn hand_minted_and_garbage_verify_tokens() {
    let env = env();
    let user = regular_user(&env.state, "king.arthur@camelot.bt").await;
    let other = regular_user(&env.state, "guinevere@camelot.bt").await;
    for (case, changes) in [
        ("expired", json!({"exp": now() - 10})),
        ("exp == now", json!({"exp": now()})),
        ("audience reset", json!({"aud": "fastapi-users:reset"})),
        ("audience auth", json!({"aud": ["fastapi-users:auth"]})),
        ("no audience", json!({"aud": null})),
        ("no sub", json!({"sub": null})),
        ("no email", json!({"email": null})),
        ("sub not a uuid", json!({"sub": "not-a-uuid"})),
        ("sub of another user", json!({"sub": other.id.to_string()})),
        ("email of another user", json!({"email": other.email})),
        ("unknown email", json!({"email": "nobody@camelot.bt"})),
    ] {
        let token = hand_verify_token(SECRET, &user, changes);
        assert_eq!(verify(&env.app, &token).await, bad_verify(), "{case}");
    }
    for (case, token) in [
        (
            "other secret",
            hand_verify_token("another secret of 32 bytes or more", &user, json!({})),
        ),
        ("garbage", "garbage".to_owned()),
        ("three dots", "a.b.c".to_owned()),
        ("empty", String::new()),
    ] {
        assert_eq!(verify(&env.app, &token).await, bad_verify(), "{case}");
    }
    assert!(!stored(&env.state, user.id).await.is_verified);
    assert!(!stored(&env.state, other.id).await.is_verified);
    // The control.
    let token = hand_verify_token(SECRET, &user, json!({}));
    assert_eq!(verify(&env.app, &token).await.0, StatusCode::OK);
}

// ---------------------------------------------------------------------------------------------
// One purpose per token
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn tokens_are_refused_for_every_other_purpose() {
    let env = env();
    let user = regular_user(&env.state, "king.arthur@camelot.bt").await;
    let reset_token = forgot(&env, &user.email, 1).await;
    let verify_token = request_verify(&env, &user.email, 2).await;
    let access = login_jwt(&env.app, &user.email, PASSWORD).await;
    let cookie_access = login_cookie(&env.app, &user.email, PASSWORD).await;
    let cookie_access = cookie_access
        .strip_prefix("fastapiusersauth=")
        .unwrap()
        .to_owned();

    for (case, token) in [
        ("verify token", &verify_token),
        ("bearer access token", &access),
        ("cookie access token", &cookie_access),
    ] {
        assert_eq!(
            reset(&env.app, token, "never stored!").await,
            bad_reset(),
            "{case} as reset token"
        );
    }
    for (case, token) in [
        ("reset token", &reset_token),
        ("bearer access token", &access),
        ("cookie access token", &cookie_access),
    ] {
        assert_eq!(
            verify(&env.app, token).await,
            bad_verify(),
            "{case} as verify token"
        );
    }
    for (case, token) in [
        ("reset token", &reset_token),
        ("verify token", &verify_token),
    ] {
        for via in Via::ALL {
            for (method, path) in [
                (Method::GET, "/users/me"),
                (Method::POST, "/auth/jwt/logout"),
                (Method::GET, "/me"),
            ] {
                let (status, _, body) = send(
                    &env.app,
                    request_json(method.clone(), path, Some((via, token)), None),
                )
                .await;
                assert_eq!(
                    (status, body),
                    (StatusCode::UNAUTHORIZED, json!({"detail": "Unauthorized"})),
                    "{case} as an access token via {via:?} on {method} {path}"
                );
            }
        }
    }
    let after = stored(&env.state, user.id).await;
    assert_eq!(after, user, "nothing changed");
    // Both purpose tokens are still good for their own purpose.
    assert_eq!(verify(&env.app, &verify_token).await.0, StatusCode::OK);
    assert_eq!(
        reset(&env.app, &reset_token, "finally reset").await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn separate_purpose_secrets() {
    let env = env_for::<Auth>(|b| {
        b.reset_secret(RESET_SECRET)
            .verification_secret(VERIFY_SECRET)
    });
    let user = regular_user(&env.state, "king.arthur@camelot.bt").await;

    // Tokens signed with the auth secret are refused.
    let with_auth_secret = hand_reset_token(&env.state, SECRET, user.id, json!({})).await;
    assert_eq!(
        reset(&env.app, &with_auth_secret, "never stored!").await,
        bad_reset()
    );
    let with_auth_secret = hand_verify_token(SECRET, &user, json!({}));
    assert_eq!(verify(&env.app, &with_auth_secret).await, bad_verify());
    // And the purposes do not share theirs.
    let crossed = hand_reset_token(&env.state, VERIFY_SECRET, user.id, json!({})).await;
    assert_eq!(
        reset(&env.app, &crossed, "never stored!").await,
        bad_reset()
    );
    let crossed = hand_verify_token(RESET_SECRET, &user, json!({}));
    assert_eq!(verify(&env.app, &crossed).await, bad_verify());
    // An access token signed with a purpose secret is nobody.
    for secret in [RESET_SECRET, VERIFY_SECRET] {
        let forged = mint_with(
            secret.as_bytes(),
            &json!({"alg": "HS256", "typ": "JWT"}),
            &json!({"sub": user.id.to_string(), "aud": ["fastapi-users:auth"], "exp": now() + 3600}),
        );
        let (status, _, _) = send(&env.app, get_bearer("/users/me", &forged)).await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "access token signed with a purpose secret"
        );
    }

    // The mailer's tokens are signed with the purpose secrets.
    let reset_token = forgot(&env, &user.email, 1).await;
    let verify_token = request_verify(&env, &user.email, 2).await;
    for (token, secret) in [(&reset_token, RESET_SECRET), (&verify_token, VERIFY_SECRET)] {
        let (input, signature) = token.rsplit_once('.').unwrap();
        assert_eq!(signature, hs256_signature(secret.as_bytes(), input));
    }
    assert_eq!(verify(&env.app, &verify_token).await.0, StatusCode::OK);
    assert_eq!(
        reset(&env.app, &reset_token, "finally reset").await.0,
        StatusCode::OK
    );
    // Hand-minted with the right purpose secret: accepted.
    let good = hand_reset_token(&env.state, RESET_SECRET, user.id, json!({})).await;
    assert_eq!(
        reset(&env.app, &good, "second reset").await.0,
        StatusCode::OK
    );
    // Access tokens still use the auth secret.
    login_jwt(&env.app, &user.email, "second reset").await;
}

#[tokio::test]
async fn short_purpose_secrets_are_refused_at_build() {
    for configure in [
        (|b: AuthStateBuilder| b.reset_secret("short")) as fn(AuthStateBuilder) -> AuthStateBuilder,
        |b: AuthStateBuilder| b.verification_secret("short"),
    ] {
        let built = configure(
            AuthState::builder::<Auth>()
                .secret(SECRET)
                .store(MemoryStore::new())
                .password_hasher(hasher()),
        )
        .build();
        assert!(built.is_err(), "a purpose secret under 32 bytes is refused");
    }
}

// ---------------------------------------------------------------------------------------------
// Who gets a message
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn messages_only_for_those_who_should_get_one() {
    let env = env();
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
    create_user(&env.state, "merlin@camelot.bt", PASSWORD, true, true, false).await;
    regular_user(&env.state, "king.arthur@camelot.bt").await;

    // Nobody, inactive: nothing on either route. Verified: no verification message.
    for (route, email) in [
        ("/auth/forgot-password", "nobody@camelot.bt"),
        ("/auth/forgot-password", "percival@camelot.bt"),
        ("/auth/request-verify-token", "nobody@camelot.bt"),
        ("/auth/request-verify-token", "percival@camelot.bt"),
        ("/auth/request-verify-token", "lake.lady@camelot.bt"),
        ("/auth/request-verify-token", "LAKE.LADY@camelot.bt"),
    ] {
        let (status, bytes, _) = post(&env.app, route, json!({ "email": email })).await;
        assert_eq!(
            (status, bytes.as_slice()),
            (StatusCode::ACCEPTED, &b"null"[..]),
            "{route} {email}"
        );
    }
    assert!(
        env.mailer.after(200).await.is_empty(),
        "{:?}",
        env.mailer.taken()
    );

    // Verified users may still reset; an unverified superuser gets a verification message.
    let mut expected = Vec::new();
    for (route, email, kind) in [
        (
            "/auth/forgot-password",
            "lake.lady@camelot.bt",
            MailKind::ResetPassword,
        ),
        (
            "/auth/request-verify-token",
            "merlin@camelot.bt",
            MailKind::Verify,
        ),
        (
            "/auth/forgot-password",
            "KING.ARTHUR@camelot.bt",
            MailKind::ResetPassword,
        ),
        (
            "/auth/request-verify-token",
            "king.arthur@camelot.bt",
            MailKind::Verify,
        ),
    ] {
        let (status, _, _) = post(&env.app, route, json!({ "email": email })).await;
        assert_eq!(status, StatusCode::ACCEPTED);
        expected.push((kind, email.to_lowercase()));
        let mails = env.mailer.wait_for(expected.len(), route).await;
        let got: Vec<_> = mails
            .iter()
            .map(|m| (m.kind, m.to.to_lowercase()))
            .collect();
        assert_eq!(got, expected);
    }
    assert_eq!(
        env.mailer.after(100).await.len(),
        4,
        "exactly one message each"
    );
}

#[tokio::test]
async fn no_verify_message_on_register_by_default() {
    let env = env();
    let (status, _, body) = post(
        &env.app,
        "/auth/register",
        json!({"email": "king.arthur@camelot.bt", "password": PASSWORD}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(
        env.mailer.after(150).await.is_empty(),
        "verify_on_register is off by default"
    );
}

#[tokio::test]
async fn verify_on_register_sends_a_token_that_verifies() {
    for strict in [false, true] {
        let env = if strict {
            env_for::<StrictAuth>(|b| b.verify_on_register(true))
        } else {
            env_for::<Auth>(|b| b.verify_on_register(true))
        };
        let case = format!("requires_verification={strict}");
        let (status, _, body) = post(
            &env.app,
            "/auth/register",
            json!({"email": "King.Arthur@Camelot.bt", "password": PASSWORD, "is_verified": true}),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{case}: {body}");
        assert_eq!(body["is_verified"], false, "{case}");
        let id = Uuid::parse_str(body["id"].as_str().unwrap()).unwrap();
        let mails = env.mailer.wait_for(1, &case).await;
        assert_eq!(mails[0].kind, MailKind::Verify, "{case}");
        assert_eq!(mails[0].to, "King.Arthur@camelot.bt", "{case}");

        let (status, _, body) = send(
            &env.app,
            post_form(
                "/auth/jwt/login",
                login_form("king.arthur@camelot.bt", PASSWORD),
            ),
        )
        .await;
        if strict {
            assert_eq!(body, json!({"detail": "LOGIN_USER_NOT_VERIFIED"}), "{case}");
        } else {
            assert_eq!(status, StatusCode::OK, "{case}");
        }

        let (status, body) = verify(&env.app, &mails[0].token).await;
        assert_eq!(status, StatusCode::OK, "{case}: {body}");
        assert_eq!(body["is_verified"], true, "{case}");
        assert!(stored(&env.state, id).await.is_verified, "{case}");
        let token = login_jwt(&env.app, "king.arthur@camelot.bt", PASSWORD).await;
        let (status, _, _) = send(&env.app, get_bearer("/users/me", &token)).await;
        assert_eq!(status, StatusCode::OK, "{case}");
        assert_eq!(env.mailer.after(100).await.len(), 1, "{case}: one message");
    }
}
