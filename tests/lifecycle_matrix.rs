//! The user-lifecycle routes as a matrix, in the style of fastapi-users' own suite: every route ×
//! user kind (anonymous, inactive, regular = active unverified, verified, superuser, verified
//! superuser) × transport (bearer, cookie) × requires-verification (off, on), asserting the
//! status, the `detail` and the stored state. One test per route; the other dimensions are
//! loops, and every assertion names its case.
#![allow(clippy::duplicated_attributes)]

mod common;

use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::Router;
use axum_users::prelude::*;
use common::*;
use serde_json::{json, Value};
use uuid::Uuid;

/// Who calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Anonymous,
    Inactive,
    /// Active, unverified, not a superuser (fastapi-users' `user` fixture).
    Regular,
    Verified,
    /// Active, unverified superuser (fastapi-users' `superuser` fixture).
    Superuser,
    VerifiedSuperuser,
}

use Kind::*;

impl Kind {
    const ALL: [Kind; 6] = [
        Anonymous,
        Inactive,
        Regular,
        Verified,
        Superuser,
        VerifiedSuperuser,
    ];
    const USERS: [Kind; 5] = [Inactive, Regular, Verified, Superuser, VerifiedSuperuser];

    fn email(self) -> &'static str {
        match self {
            Anonymous => "nobody@camelot.bt",
            Inactive => "percival@camelot.bt",
            Regular => "King.Arthur@camelot.bt",
            Verified => "lake.lady@camelot.bt",
            Superuser => "merlin@camelot.bt",
            VerifiedSuperuser => "the.real.merlin@camelot.bt",
        }
    }

    /// (active, superuser, verified)
    fn flags(self) -> (bool, bool, bool) {
        match self {
            Anonymous => (false, false, false),
            Inactive => (false, false, false),
            Regular => (true, false, false),
            Verified => (true, false, true),
            Superuser => (true, true, false),
            VerifiedSuperuser => (true, true, true),
        }
    }

    fn verified(self) -> bool {
        self.flags().2
    }

    fn superuser(self) -> bool {
        self.flags().1
    }
}

/// The answer the guard of a `/users` route (or logout) gives `kind`, if it refuses.
fn refusal(rv: bool, kind: Kind, superuser_route: bool) -> Option<(StatusCode, &'static str)> {
    match kind {
        Anonymous | Inactive => Some((StatusCode::UNAUTHORIZED, "Unauthorized")),
        _ if superuser_route && !kind.superuser() => Some((StatusCode::FORBIDDEN, "Forbidden")),
        _ if rv && !kind.verified() => Some((StatusCode::FORBIDDEN, "Forbidden")),
        _ => None,
    }
}

/// One application with one user of every kind (and `victim@camelot.bt`, an active verified
/// user, as a target).
struct World {
    state: AuthState,
    app: Router,
    users: Vec<(Kind, User)>,
}

/// A state for `C` without brute-force limits: the matrix repeats each request for every kind
/// of caller and credential, far beyond them (tests/ratelimit.rs tests the limits).
fn unlimited_state<C: axum_users::AuthConfig>() -> AuthState {
    AuthState::builder::<C>()
        .secret(SECRET)
        .store(MemoryStore::new())
        .password_hasher(hasher())
        .rate_limits(axum_users::RateLimits::OFF)
        .build()
        .unwrap()
}

impl World {
    async fn new(rv: bool) -> World {
        let (state, app) = if rv {
            let state = unlimited_state::<StrictAuth>();
            let app = app_for::<StrictAuth>(&state);
            (state, app)
        } else {
            let state = unlimited_state::<Auth>();
            let app = app(&state);
            (state, app)
        };
        let mut users = Vec::new();
        for kind in Kind::USERS {
            let (active, superuser, verified) = kind.flags();
            let user =
                create_user(&state, kind.email(), PASSWORD, active, superuser, verified).await;
            users.push((kind, user));
        }
        World { state, app, users }
    }

    fn user(&self, kind: Kind) -> &User {
        &self.users.iter().find(|(k, _)| *k == kind).unwrap().1
    }

    /// A valid access token for `kind` (minted by hand, so inactive and unverified users have
    /// one too); `None` for the anonymous caller.
    fn token(&self, kind: Kind) -> Option<String> {
        (kind != Anonymous).then(|| mint_access(&self.user(kind).id.to_string()))
    }

    /// A fresh active verified user to act upon.
    async fn target(&self, email: &str) -> User {
        create_user(&self.state, email, PASSWORD, true, false, true).await
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        kind: Kind,
        via: Via,
        body: Option<&Value>,
    ) -> (StatusCode, HeaderMap, Vec<u8>, Value) {
        let token = self.token(kind);
        let credential = token.as_deref().map(|t| (via, t));
        call(&self.app, method, path, credential, body).await
    }

    async fn stored(&self, id: Uuid) -> Option<User> {
        self.state.store().get(id).await.unwrap()
    }
}

async fn call(
    app: &Router,
    method: Method,
    path: &str,
    credential: Option<(Via, &str)>,
    body: Option<&Value>,
) -> (StatusCode, HeaderMap, Vec<u8>, Value) {
    let (status, headers, bytes) =
        send_raw(app, request_json(method, path, credential, body)).await;
    let json = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
    };
    (status, headers, bytes, json)
}

/// Asserts a guard refusal, including `WWW-Authenticate: Bearer` on 401s (a bearer backend is
/// enabled in every configuration here).
fn assert_refused(
    case: &str,
    expected: (StatusCode, &str),
    status: StatusCode,
    headers: &HeaderMap,
    body: &Value,
) {
    assert_eq!(status, expected.0, "{case}: {body}");
    assert_eq!(body, &json!({ "detail": expected.1 }), "{case}");
    if status == StatusCode::UNAUTHORIZED {
        assert_eq!(
            headers
                .get(header::WWW_AUTHENTICATE)
                .and_then(|v| v.to_str().ok()),
            Some("Bearer"),
            "{case}"
        );
    }
}

const RV: [bool; 2] = [false, true];

// ---------------------------------------------------------------------------------------------
// POST /auth/{jwt,cookie}/login
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn login_matrix() {
    for rv in RV {
        let w = World::new(rv).await;
        for backend in ["jwt", "cookie"] {
            for kind in Kind::USERS {
                for right_password in [true, false] {
                    let case = format!(
                        "login rv={rv} backend={backend} kind={kind:?} right_password={right_password}"
                    );
                    let before = w.user(kind).clone();
                    let password = if right_password {
                        PASSWORD
                    } else {
                        "wrong password!"
                    };
                    let (status, headers, body) = send(
                        &w.app,
                        post_form(
                            &format!("/auth/{backend}/login"),
                            login_form(kind.email(), password),
                        ),
                    )
                    .await;
                    // The credential check comes first: a wrong password is a bad credential
                    // for everybody, unverified users included; then inactive; then
                    // verification.
                    let expected_code = if !right_password || kind == Inactive {
                        Some("LOGIN_BAD_CREDENTIALS")
                    } else if rv && !kind.verified() {
                        Some("LOGIN_USER_NOT_VERIFIED")
                    } else {
                        None
                    };
                    match (expected_code, backend) {
                        (Some(code), _) => {
                            assert_eq!(status, StatusCode::BAD_REQUEST, "{case}: {body}");
                            assert_eq!(body, json!({ "detail": code }), "{case}");
                            assert!(headers.get(header::SET_COOKIE).is_none(), "{case}");
                        }
                        (None, "jwt") => {
                            assert_eq!(status, StatusCode::OK, "{case}: {body}");
                            assert_eq!(body["token_type"], "bearer", "{case}");
                            let token = body["access_token"].as_str().unwrap();
                            let (status, _, _, me) = call(
                                &w.app,
                                Method::GET,
                                "/users/me",
                                Some((Via::Bearer, token)),
                                None,
                            )
                            .await;
                            assert_eq!(status, StatusCode::OK, "{case}: token works");
                            assert_eq!(me, user_read(&before), "{case}");
                        }
                        (None, _) => {
                            assert_eq!(status, StatusCode::NO_CONTENT, "{case}: {body}");
                            assert_eq!(body, Value::Null, "{case}: empty body");
                            let cookie = headers.get(header::SET_COOKIE).unwrap().to_str().unwrap();
                            let token = cookie
                                .strip_prefix("fastapiusersauth=")
                                .and_then(|rest| rest.split(';').next())
                                .unwrap_or_else(|| panic!("{case}: {cookie}"));
                            let (status, _, _, me) = call(
                                &w.app,
                                Method::GET,
                                "/users/me",
                                Some((Via::Cookie, token)),
                                None,
                            )
                            .await;
                            assert_eq!(status, StatusCode::OK, "{case}: cookie works");
                            assert_eq!(me, user_read(&before), "{case}");
                        }
                    }
                    assert_eq!(
                        w.stored(before.id).await.as_ref(),
                        Some(&before),
                        "{case}: login changes nothing stored"
                    );
                }
            }
            // Unknown e-mail: the same answer as a wrong password.
            let (status, _, body) = send(
                &w.app,
                post_form(
                    &format!("/auth/{backend}/login"),
                    login_form("nobody@camelot.bt", PASSWORD),
                ),
            )
            .await;
            assert_eq!(
                (status, body),
                (
                    StatusCode::BAD_REQUEST,
                    json!({"detail": "LOGIN_BAD_CREDENTIALS"})
                ),
                "login rv={rv} backend={backend} unknown e-mail"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// POST /auth/{jwt,cookie}/logout
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn logout_matrix() {
    for rv in RV {
        let w = World::new(rv).await;
        for backend in ["jwt", "cookie"] {
            for via in Via::ALL {
                for kind in Kind::ALL {
                    let case =
                        format!("logout rv={rv} backend={backend} via={via:?} kind={kind:?}");
                    let (status, headers, bytes, body) = w
                        .call(
                            Method::POST,
                            &format!("/auth/{backend}/logout"),
                            kind,
                            via,
                            None,
                        )
                        .await;
                    match refusal(rv, kind, false) {
                        Some(expected) => assert_refused(&case, expected, status, &headers, &body),
                        None => {
                            assert_eq!(status, StatusCode::NO_CONTENT, "{case}: {body}");
                            assert!(bytes.is_empty(), "{case}: 204 has no body");
                            let set_cookie = headers
                                .get(header::SET_COOKIE)
                                .map(|v| v.to_str().unwrap().to_owned());
                            if backend == "cookie" {
                                let set_cookie = set_cookie.unwrap_or_default();
                                assert!(
                                    set_cookie.starts_with("fastapiusersauth=")
                                        && set_cookie.contains("Max-Age=0"),
                                    "{case}: removal cookie, got {set_cookie:?}"
                                );
                            } else {
                                assert_eq!(set_cookie, None, "{case}");
                            }
                        }
                    }
                }
                // A forged credential is nobody.
                let case = format!("logout rv={rv} backend={backend} via={via:?} garbage");
                let (status, headers, _, body) = call(
                    &w.app,
                    Method::POST,
                    &format!("/auth/{backend}/logout"),
                    Some((via, "not.a.token")),
                    None,
                )
                .await;
                assert_refused(
                    &case,
                    (StatusCode::UNAUTHORIZED, "Unauthorized"),
                    status,
                    &headers,
                    &body,
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// GET /users/me and PATCH /users/me
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn get_me_matrix() {
    for rv in RV {
        let w = World::new(rv).await;
        for via in Via::ALL {
            for kind in Kind::ALL {
                let case = format!("GET /users/me rv={rv} via={via:?} kind={kind:?}");
                let (status, headers, _, body) =
                    w.call(Method::GET, "/users/me", kind, via, None).await;
                match refusal(rv, kind, false) {
                    Some(expected) => assert_refused(&case, expected, status, &headers, &body),
                    None => {
                        assert_eq!(status, StatusCode::OK, "{case}: {body}");
                        assert_eq!(body, user_read(w.user(kind)), "{case}");
                        assert!(body.get("hashed_password").is_none(), "{case}");
                    }
                }
            }
        }
    }
}

#[tokio::test]
async fn patch_me_matrix_ignores_flags() {
    let bodies = [
        json!({}),
        json!({"is_superuser": true, "is_active": false, "is_verified": true}),
        json!({"id": Uuid::new_v4().to_string(), "is_superuser": true}),
    ];
    for rv in RV {
        let w = World::new(rv).await;
        for via in Via::ALL {
            for kind in Kind::ALL {
                for patch in &bodies {
                    let case =
                        format!("PATCH /users/me rv={rv} via={via:?} kind={kind:?} body={patch}");
                    let (status, headers, _, body) = w
                        .call(Method::PATCH, "/users/me", kind, via, Some(patch))
                        .await;
                    match refusal(rv, kind, false) {
                        Some(expected) => assert_refused(&case, expected, status, &headers, &body),
                        None => {
                            assert_eq!(status, StatusCode::OK, "{case}: {body}");
                            assert_eq!(body, user_read(w.user(kind)), "{case}: unchanged");
                        }
                    }
                    if kind != Anonymous {
                        let before = w.user(kind);
                        assert_eq!(
                            w.stored(before.id).await.as_ref(),
                            Some(before),
                            "{case}: the store is unchanged"
                        );
                    }
                }
            }
        }
    }
}

#[tokio::test]
async fn patch_me_email_change() {
    for rv in RV {
        for via in Via::ALL {
            let w = World::new(rv).await;
            let me = w.user(Verified).clone();
            let token = w.token(Verified).unwrap();
            let cred = Some((via, token.as_str()));
            let patch = |body: Value| {
                let app = w.app.clone();
                let token = token.clone();
                async move {
                    call(
                        &app,
                        Method::PATCH,
                        "/users/me",
                        Some((via, &token)),
                        Some(&body),
                    )
                    .await
                }
            };
            let case = |what: &str| format!("PATCH /users/me rv={rv} via={via:?}: {what}");

            // Another user's e-mail, in another case: taken.
            for taken in [
                "king.arthur@camelot.bt",
                "KING.ARTHUR@CAMELOT.BT",
                "King.Arthur@camelot.bt",
                "Lake.Lady@camelot.bt",
                "LAKE.LADY@camelot.bt",
            ] {
                let (status, _, _, body) = patch(json!({ "email": taken })).await;
                assert_eq!(status, StatusCode::BAD_REQUEST, "{}", case(taken));
                assert_eq!(
                    body,
                    json!({"detail": "UPDATE_USER_EMAIL_ALREADY_EXISTS"}),
                    "{}",
                    case(taken)
                );
                assert_eq!(w.stored(me.id).await.as_ref(), Some(&me), "{}", case(taken));
            }

            // The same address (the domain is compared lower-cased): no change at all.
            for same in ["lake.lady@camelot.bt", "lake.lady@CAMELOT.BT"] {
                let (status, _, _, body) = patch(json!({ "email": same })).await;
                assert_eq!(status, StatusCode::OK, "{}: {body}", case(same));
                assert_eq!(body, user_read(&me), "{}: still verified", case(same));
                assert_eq!(w.stored(me.id).await.as_ref(), Some(&me), "{}", case(same));
            }

            // Not an e-mail: 422.
            let (status, _, _, body) = patch(json!({"email": "not-an-email"})).await;
            assert_eq!(
                status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{}",
                case("bad e-mail")
            );
            assert_eq!(
                body["detail"][0]["loc"],
                json!(["body", "email"]),
                "{}",
                case("bad e-mail")
            );
            assert_eq!(
                w.stored(me.id).await.as_ref(),
                Some(&me),
                "{}",
                case("bad e-mail")
            );

            // A new address: stored with its domain lower-cased, and unverified.
            let (status, _, _, body) = patch(json!({"email": "New.Lady@Avalon.BT"})).await;
            assert_eq!(status, StatusCode::OK, "{}: {body}", case("new e-mail"));
            assert_eq!(
                body["email"],
                "New.Lady@avalon.bt",
                "{}",
                case("new e-mail")
            );
            assert_eq!(body["is_verified"], false, "{}", case("new e-mail"));
            let after = w.stored(me.id).await.unwrap();
            assert_eq!(body, user_read(&after), "{}", case("new e-mail stored"));
            assert_eq!(
                after.hashed_password,
                me.hashed_password,
                "{}",
                case("new e-mail")
            );
            assert!(
                password_matches(&w.state, "new.lady@avalon.bt", PASSWORD).await,
                "{}",
                case("log in with the new address")
            );
            assert!(
                !password_matches(&w.state, me.email.as_str(), PASSWORD).await,
                "{}",
                case("the old address is gone")
            );
            // The old address is free again.
            create_user(&w.state, &me.email, PASSWORD, true, false, false).await;

            // Now unverified: with verification required, /users/me refuses.
            let (status, _, _, _) = call(&w.app, Method::GET, "/users/me", cred, None).await;
            let expected = if rv {
                StatusCode::FORBIDDEN
            } else {
                StatusCode::OK
            };
            assert_eq!(status, expected, "{}", case("GET /users/me afterwards"));
        }
    }
}

#[tokio::test]
async fn own_email_case_change_is_taken() {
    // Changing only the case of one's own local part finds oneself: taken (as fastapi-users).
    for rv in RV {
        for via in Via::ALL {
            let w = World::new(rv).await;
            let me = w.user(VerifiedSuperuser).clone();
            let token = w.token(VerifiedSuperuser).unwrap();
            for path in ["/users/me".to_owned(), format!("/users/{}", me.id)] {
                let case = format!("PATCH {path} rv={rv} via={via:?} own e-mail upper-cased");
                let (status, _, _, body) = call(
                    &w.app,
                    Method::PATCH,
                    &path,
                    Some((via, &token)),
                    Some(&json!({"email": "The.Real.Merlin@camelot.bt"})),
                )
                .await;
                assert_eq!(status, StatusCode::BAD_REQUEST, "{case}: {body}");
                assert_eq!(
                    body,
                    json!({"detail": "UPDATE_USER_EMAIL_ALREADY_EXISTS"}),
                    "{case}"
                );
                assert_eq!(w.stored(me.id).await.as_ref(), Some(&me), "{case}");
            }
        }
    }
}

#[tokio::test]
async fn patch_me_password_change() {
    for rv in RV {
        for via in Via::ALL {
            let w = World::new(rv).await;
            let me = w.user(Verified).clone();
            let token = w.token(Verified).unwrap();
            let case = |what: &str| format!("PATCH /users/me rv={rv} via={via:?}: {what}");
            let patch = |body: Value| {
                let app = w.app.clone();
                let token = token.clone();
                async move {
                    call(
                        &app,
                        Method::PATCH,
                        "/users/me",
                        Some((via, &token)),
                        Some(&body),
                    )
                    .await
                }
            };

            // Too short: refused by the policy, nothing stored.
            let (status, _, _, body) = patch(json!({"password": "short"})).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{}", case("short"));
            assert_eq!(
                body,
                json!({"detail": {
                    "code": "UPDATE_USER_INVALID_PASSWORD",
                    "reason": "Password should be at least 8 characters"
                }}),
                "{}",
                case("short")
            );
            assert_eq!(
                w.stored(me.id).await.as_ref(),
                Some(&me),
                "{}",
                case("short")
            );

            // `null` is no change.
            let (status, _, _, body) = patch(json!({"password": null})).await;
            assert_eq!(status, StatusCode::OK, "{}: {body}", case("null"));
            assert_eq!(
                w.stored(me.id).await.as_ref(),
                Some(&me),
                "{}",
                case("null")
            );

            // A good one: effective, and the flags are untouched.
            let (status, _, _, body) = patch(json!({"password": "a brand new password"})).await;
            assert_eq!(status, StatusCode::OK, "{}: {body}", case("new"));
            assert_eq!(body, user_read(&me), "{}", case("new"));
            let after = w.stored(me.id).await.unwrap();
            assert_ne!(after.hashed_password, me.hashed_password, "{}", case("new"));
            assert!(
                after.hashed_password.starts_with("$argon2id$"),
                "{}",
                case("new")
            );
            for backend in ["jwt", "cookie"] {
                let (status, _, body) = send(
                    &w.app,
                    post_form(
                        &format!("/auth/{backend}/login"),
                        login_form(&me.email, PASSWORD),
                    ),
                )
                .await;
                assert_eq!(
                    (status, body),
                    (
                        StatusCode::BAD_REQUEST,
                        json!({"detail": "LOGIN_BAD_CREDENTIALS"})
                    ),
                    "{}",
                    case(&format!("old password on {backend}"))
                );
            }
            login_jwt(&w.app, &me.email, "a brand new password").await;
            login_cookie(&w.app, &me.email, "a brand new password").await;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// GET /users/{id}
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn get_user_by_id_matrix() {
    for rv in RV {
        let w = World::new(rv).await;
        let victim = w.target("victim@camelot.bt").await;
        let unknown = Uuid::new_v4();
        let targets: Vec<(String, Option<&User>)> = vec![
            (victim.id.hyphenated().to_string(), Some(&victim)),
            (victim.id.simple().to_string(), Some(&victim)),
            (
                victim.id.hyphenated().to_string().to_uppercase(),
                Some(&victim),
            ),
            (victim.id.urn().to_string(), Some(&victim)),
            (unknown.to_string(), None),
            ("not-a-uuid".to_owned(), None),
            ("12345".to_owned(), None),
        ];
        for via in Via::ALL {
            for kind in Kind::ALL {
                for (id, target) in &targets {
                    let case = format!("GET /users/{id} rv={rv} via={via:?} kind={kind:?}");
                    let (status, headers, _, body) = w
                        .call(Method::GET, &format!("/users/{id}"), kind, via, None)
                        .await;
                    // The superuser check comes before the lookup: non-superusers get a 403
                    // even for an unknown or unparsable id.
                    match (refusal(rv, kind, true), target) {
                        (Some(expected), _) => {
                            assert_refused(&case, expected, status, &headers, &body)
                        }
                        (None, Some(user)) => {
                            assert_eq!(status, StatusCode::OK, "{case}: {body}");
                            assert_eq!(body, user_read(user), "{case}");
                        }
                        (None, None) => {
                            assert_eq!(status, StatusCode::NOT_FOUND, "{case}: {body}");
                            assert_eq!(body, json!({"detail": "Not Found"}), "{case}");
                        }
                    }
                }
            }
            // Superusers may read themselves too.
            for kind in [Superuser, VerifiedSuperuser] {
                let me = w.user(kind);
                let case = format!("GET /users/<self> rv={rv} via={via:?} kind={kind:?}");
                let (status, _, _, body) = w
                    .call(Method::GET, &format!("/users/{}", me.id), kind, via, None)
                    .await;
                if refusal(rv, kind, true).is_none() {
                    assert_eq!((status, body), (StatusCode::OK, user_read(me)), "{case}");
                } else {
                    assert_eq!(status, StatusCode::FORBIDDEN, "{case}");
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// PATCH /users/{id}
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn patch_user_by_id_matrix_sets_flags() {
    let flags = json!({"is_active": false, "is_superuser": true, "is_verified": false});
    for rv in RV {
        let w = World::new(rv).await;
        let mut n = 0;
        for via in Via::ALL {
            for kind in Kind::ALL {
                for target in ["existing", "hyphenless", "unknown", "not-a-uuid"] {
                    n += 1;
                    let victim = w.target(&format!("victim{n}@camelot.bt")).await;
                    let id = match target {
                        "existing" => victim.id.to_string(),
                        "hyphenless" => victim.id.simple().to_string(),
                        "unknown" => Uuid::new_v4().to_string(),
                        _ => "not-a-uuid".to_owned(),
                    };
                    let case = format!("PATCH /users/{target} rv={rv} via={via:?} kind={kind:?}");
                    let (status, headers, _, body) = w
                        .call(
                            Method::PATCH,
                            &format!("/users/{id}"),
                            kind,
                            via,
                            Some(&flags),
                        )
                        .await;
                    let exists = matches!(target, "existing" | "hyphenless");
                    match refusal(rv, kind, true) {
                        Some(expected) => assert_refused(&case, expected, status, &headers, &body),
                        None if exists => {
                            assert_eq!(status, StatusCode::OK, "{case}: {body}");
                            let after = w.stored(victim.id).await.unwrap();
                            assert!(
                                !after.is_active && after.is_superuser && !after.is_verified,
                                "{case}: flags stored: {after:?}"
                            );
                            assert_eq!(body, user_read(&after), "{case}");
                            assert_eq!(after.email, victim.email, "{case}");
                            assert_eq!(after.hashed_password, victim.hashed_password, "{case}");
                            continue;
                        }
                        None => {
                            assert_eq!(status, StatusCode::NOT_FOUND, "{case}: {body}");
                            assert_eq!(body, json!({"detail": "Not Found"}), "{case}");
                        }
                    }
                    assert_eq!(
                        w.stored(victim.id).await.as_ref(),
                        Some(&victim),
                        "{case}: untouched"
                    );
                }
            }
        }
    }
}

#[tokio::test]
async fn patch_user_by_id_semantics() {
    for rv in RV {
        for via in Via::ALL {
            let w = World::new(rv).await;
            let token = w.token(VerifiedSuperuser).unwrap();
            let case = |what: &str| format!("PATCH /users/{{id}} rv={rv} via={via:?}: {what}");
            let patch = |id: Uuid, body: Value| {
                let app = w.app.clone();
                let token = token.clone();
                async move {
                    call(
                        &app,
                        Method::PATCH,
                        &format!("/users/{id}"),
                        Some((via, &token)),
                        Some(&body),
                    )
                    .await
                }
            };
            let victim = w.target("victim@camelot.bt").await;

            // Empty: unchanged.
            let (status, _, _, body) = patch(victim.id, json!({})).await;
            assert_eq!(
                (status, &body),
                (StatusCode::OK, &user_read(&victim)),
                "{}",
                case("{}")
            );
            assert_eq!(
                w.stored(victim.id).await.as_ref(),
                Some(&victim),
                "{}",
                case("{}")
            );

            // Taken e-mail (another case), and bad e-mail.
            let (status, _, _, body) =
                patch(victim.id, json!({"email": "MERLIN@camelot.bt"})).await;
            assert_eq!(
                (status, body),
                (
                    StatusCode::BAD_REQUEST,
                    json!({"detail": "UPDATE_USER_EMAIL_ALREADY_EXISTS"})
                ),
                "{}",
                case("taken")
            );
            let (status, _, _, _) = patch(victim.id, json!({"email": "nope"})).await;
            assert_eq!(
                status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{}",
                case("bad e-mail")
            );
            assert_eq!(
                w.stored(victim.id).await.as_ref(),
                Some(&victim),
                "{}",
                case("refused")
            );

            // A new e-mail: unverified.
            let (status, _, _, body) = patch(victim.id, json!({"email": "moved@camelot.bt"})).await;
            assert_eq!(status, StatusCode::OK, "{}: {body}", case("new e-mail"));
            let after = w.stored(victim.id).await.unwrap();
            assert_eq!(
                (after.email.as_str(), after.is_verified),
                ("moved@camelot.bt", false),
                "{}",
                case("new e-mail")
            );
            assert_eq!(body, user_read(&after), "{}", case("new e-mail"));

            // A new e-mail with an explicit `is_verified: true`: the flag wins (fastapi-users
            // applies the fields in schema order, `is_verified` after `email`).
            let (status, _, _, body) = patch(
                victim.id,
                json!({"email": "moved.again@camelot.bt", "is_verified": true}),
            )
            .await;
            assert_eq!(
                status,
                StatusCode::OK,
                "{}: {body}",
                case("e-mail + verified")
            );
            let after = w.stored(victim.id).await.unwrap();
            assert!(after.is_verified, "{}", case("e-mail + verified"));

            // Password: policy, then effective.
            let (status, _, _, body) = patch(victim.id, json!({"password": "1234567"})).await;
            assert_eq!(
                (status, body),
                (
                    StatusCode::BAD_REQUEST,
                    json!({"detail": {
                        "code": "UPDATE_USER_INVALID_PASSWORD",
                        "reason": "Password should be at least 8 characters"
                    }})
                ),
                "{}",
                case("short password")
            );
            assert_eq!(
                w.stored(victim.id).await.as_ref(),
                Some(&after),
                "{}",
                case("short")
            );
            let (status, _, _, _) = patch(victim.id, json!({"password": "set by the admin"})).await;
            assert_eq!(status, StatusCode::OK, "{}", case("password"));
            assert!(
                !password_matches(&w.state, "moved.again@camelot.bt", PASSWORD).await,
                "{}",
                case("old password")
            );
            login_jwt(&w.app, "moved.again@camelot.bt", "set by the admin").await;

            // Deactivated: its credentials stop working.
            let victim_token = mint_access(&victim.id.to_string());
            let (status, _, _, _) = patch(victim.id, json!({"is_active": false})).await;
            assert_eq!(status, StatusCode::OK, "{}", case("deactivate"));
            let (status, _, _, _) = call(
                &w.app,
                Method::GET,
                "/users/me",
                Some((via, &victim_token)),
                None,
            )
            .await;
            assert_eq!(
                status,
                StatusCode::UNAUTHORIZED,
                "{}",
                case("deactivated token")
            );
            let (status, _, body) = send(
                &w.app,
                post_form(
                    "/auth/jwt/login",
                    login_form("moved.again@camelot.bt", "set by the admin"),
                ),
            )
            .await;
            assert_eq!(
                (status, body),
                (
                    StatusCode::BAD_REQUEST,
                    json!({"detail": "LOGIN_BAD_CREDENTIALS"})
                ),
                "{}",
                case("deactivated login")
            );

            // A superuser may demote itself; afterwards it is a regular user.
            let me = w.user(VerifiedSuperuser).clone();
            let (status, _, _, body) = patch(me.id, json!({"is_superuser": false})).await;
            assert_eq!(status, StatusCode::OK, "{}: {body}", case("self-demotion"));
            let (status, _, _, _) = patch(victim.id, json!({})).await;
            assert_eq!(
                status,
                StatusCode::FORBIDDEN,
                "{}",
                case("after self-demotion")
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// DELETE /users/{id}
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn delete_user_by_id_matrix() {
    for rv in RV {
        let w = World::new(rv).await;
        let mut n = 0;
        for via in Via::ALL {
            for kind in Kind::ALL {
                for target in ["existing", "hyphenless", "unknown", "not-a-uuid"] {
                    n += 1;
                    let victim = w.target(&format!("victim{n}@camelot.bt")).await;
                    let id = match target {
                        "existing" => victim.id.to_string(),
                        "hyphenless" => victim.id.simple().to_string(),
                        "unknown" => Uuid::new_v4().to_string(),
                        _ => "not-a-uuid".to_owned(),
                    };
                    let path = format!("/users/{id}");
                    let case = format!("DELETE /users/{target} rv={rv} via={via:?} kind={kind:?}");
                    let (status, headers, bytes, body) =
                        w.call(Method::DELETE, &path, kind, via, None).await;
                    let exists = matches!(target, "existing" | "hyphenless");
                    match refusal(rv, kind, true) {
                        Some(expected) => {
                            assert_refused(&case, expected, status, &headers, &body);
                            assert_eq!(
                                w.stored(victim.id).await.as_ref(),
                                Some(&victim),
                                "{case}: still there"
                            );
                        }
                        None if exists => {
                            assert_eq!(status, StatusCode::NO_CONTENT, "{case}: {body}");
                            assert!(bytes.is_empty(), "{case}: 204 has no body");
                            assert_eq!(w.stored(victim.id).await, None, "{case}: row gone");
                            assert!(
                                w.state
                                    .store()
                                    .get_by_email(&victim.email)
                                    .await
                                    .unwrap()
                                    .is_none(),
                                "{case}: e-mail gone"
                            );
                            for method in [Method::DELETE, Method::GET, Method::PATCH] {
                                let body = (method == Method::PATCH).then(|| json!({}));
                                let (status, _, _, again) = w
                                    .call(method.clone(), &path, kind, via, body.as_ref())
                                    .await;
                                assert_eq!(
                                    (status, again),
                                    (StatusCode::NOT_FOUND, json!({"detail": "Not Found"})),
                                    "{case}: {method} afterwards"
                                );
                            }
                            // Its token is worth nothing now.
                            let (status, _, _, _) = call(
                                &w.app,
                                Method::GET,
                                "/users/me",
                                Some((via, &mint_access(&victim.id.to_string()))),
                                None,
                            )
                            .await;
                            assert_eq!(status, StatusCode::UNAUTHORIZED, "{case}: old token");
                        }
                        None => {
                            assert_eq!(
                                (status, body),
                                (StatusCode::NOT_FOUND, json!({"detail": "Not Found"})),
                                "{case}"
                            );
                            assert_eq!(
                                w.stored(victim.id).await.as_ref(),
                                Some(&victim),
                                "{case}: others untouched"
                            );
                        }
                    }
                }
            }
        }
        // A superuser may delete itself.
        let me = w.user(VerifiedSuperuser).clone();
        let (status, _, _, _) = w
            .call(
                Method::DELETE,
                &format!("/users/{}", me.id),
                VerifiedSuperuser,
                Via::Bearer,
                None,
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "rv={rv} self-deletion");
        assert_eq!(w.stored(me.id).await, None, "rv={rv} self-deletion");
        let (status, _, _, _) = w
            .call(
                Method::GET,
                "/users/me",
                VerifiedSuperuser,
                Via::Bearer,
                None,
            )
            .await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "rv={rv} after self-deletion"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// POST /auth/forgot-password and POST /auth/request-verify-token
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn forgot_password_and_request_verify_answer_null_for_everybody() {
    for rv in RV {
        let w = World::new(rv).await;
        let mut emails: Vec<String> = Kind::ALL.iter().map(|k| k.email().to_owned()).collect();
        emails.push("KING.ARTHUR@CAMELOT.BT".to_owned());
        for route in ["/auth/forgot-password", "/auth/request-verify-token"] {
            for via in [None, Some(Via::Bearer), Some(Via::Cookie)] {
                for email in &emails {
                    let case = format!("{route} rv={rv} credential={via:?} email={email}");
                    // A credential (even an unverified user's, with verification required)
                    // changes nothing: these routes are public.
                    let token = w.token(Regular).unwrap();
                    let credential = via.map(|v| (v, token.as_str()));
                    let (status, headers, bytes, _) = call(
                        &w.app,
                        Method::POST,
                        route,
                        credential,
                        Some(&json!({ "email": email })),
                    )
                    .await;
                    assert_eq!(status, StatusCode::ACCEPTED, "{case}");
                    assert_eq!(bytes, b"null", "{case}: exactly `null`");
                    assert_eq!(
                        headers.get(header::CONTENT_TYPE).unwrap(),
                        "application/json",
                        "{case}"
                    );
                }
            }
            let bad_bodies = [
                json!({"email": "not-an-email"}),
                json!({"email": "a@localhost"}),
                json!({"email": 42}),
                json!({"email": null}),
                json!({}),
                json!({"mail": "lake.lady@camelot.bt"}),
            ];
            for bad in &bad_bodies {
                let case = format!("{route} rv={rv} body={bad}");
                let (status, _, _, body) = call(&w.app, Method::POST, route, None, Some(bad)).await;
                assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{case}: {body}");
                assert_eq!(
                    body["detail"][0]["loc"],
                    json!(["body", "email"]),
                    "{case}: {body}"
                );
            }
        }
        // Give the background work time to finish (no mailer: it only makes tokens), then
        // check that nobody changed.
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        for (kind, user) in &w.users {
            assert_eq!(
                w.stored(user.id).await.as_ref(),
                Some(user),
                "rv={rv} kind={kind:?}: unchanged"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// POST /auth/reset-password and POST /auth/verify
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn reset_password_matrix() {
    for rv in RV {
        let w = World::new(rv).await;
        for kind in Kind::USERS {
            let case = format!("reset-password rv={rv} kind={kind:?}");
            let user = w.user(kind);
            let token = w.state.reset_token(user).await.unwrap();
            let (status, _, bytes, body) = call(
                &w.app,
                Method::POST,
                "/auth/reset-password",
                None,
                Some(&json!({"token": token, "password": "reset password 1"})),
            )
            .await;
            if kind == Inactive {
                assert_eq!(
                    (status, body),
                    (
                        StatusCode::BAD_REQUEST,
                        json!({"detail": "RESET_PASSWORD_BAD_TOKEN"})
                    ),
                    "{case}"
                );
                assert_eq!(w.stored(user.id).await.as_ref(), Some(user), "{case}");
                continue;
            }
            assert_eq!(status, StatusCode::OK, "{case}: {body}");
            assert_eq!(bytes, b"null", "{case}");
            let after = w.stored(user.id).await.unwrap();
            assert_eq!(
                user_read(&after),
                user_read(user),
                "{case}: flags untouched"
            );
            assert!(
                password_matches(&w.state, &user.email, "reset password 1").await,
                "{case}: new password"
            );
            assert!(
                !password_matches(&w.state, &user.email, PASSWORD).await,
                "{case}: old password"
            );
            // Login with the new password: verification still decides.
            let (status, _, body) = send(
                &w.app,
                post_form(
                    "/auth/jwt/login",
                    login_form(&user.email, "reset password 1"),
                ),
            )
            .await;
            if rv && !kind.verified() {
                assert_eq!(body, json!({"detail": "LOGIN_USER_NOT_VERIFIED"}), "{case}");
            } else {
                assert_eq!(status, StatusCode::OK, "{case}: {body}");
            }
        }
        // Missing fields and garbage.
        for (bad, expected) in [
            (json!({"token": "garbage", "password": "long enough!"}), 400),
            (json!({"token": "garbage"}), 422),
            (json!({"password": "long enough!"}), 422),
            (json!({}), 422),
        ] {
            let case = format!("reset-password rv={rv} body={bad}");
            let (status, _, _, body) = call(
                &w.app,
                Method::POST,
                "/auth/reset-password",
                None,
                Some(&bad),
            )
            .await;
            assert_eq!(status.as_u16(), expected, "{case}: {body}");
            if expected == 400 {
                assert_eq!(
                    body,
                    json!({"detail": "RESET_PASSWORD_BAD_TOKEN"}),
                    "{case}"
                );
            }
        }
    }
}

#[tokio::test]
async fn verify_matrix() {
    for rv in RV {
        let w = World::new(rv).await;
        for kind in Kind::USERS {
            let case = format!("verify rv={rv} kind={kind:?}");
            let user = w.user(kind);
            let token = w.state.verification_token(user).unwrap();
            let (status, _, _, body) = call(
                &w.app,
                Method::POST,
                "/auth/verify",
                None,
                Some(&json!({ "token": token })),
            )
            .await;
            if kind.verified() {
                assert_eq!(
                    (status, body),
                    (
                        StatusCode::BAD_REQUEST,
                        json!({"detail": "VERIFY_USER_ALREADY_VERIFIED"})
                    ),
                    "{case}"
                );
                assert_eq!(w.stored(user.id).await.as_ref(), Some(user), "{case}");
                continue;
            }
            // fastapi-users' verify does not look at `is_active`: inactive users get verified
            // too.
            assert_eq!(status, StatusCode::OK, "{case}: {body}");
            let after = w.stored(user.id).await.unwrap();
            assert!(after.is_verified, "{case}: stored");
            assert_eq!(body, user_read(&after), "{case}");
            assert_eq!(
                User {
                    is_verified: false,
                    ..after.clone()
                },
                *user,
                "{case}: nothing else changed"
            );
            if kind != Inactive {
                // Verification required: now the user may log in and use /users/me.
                let token = login_jwt(&w.app, &user.email, PASSWORD).await;
                let (status, _, _, _) = call(
                    &w.app,
                    Method::GET,
                    "/users/me",
                    Some((Via::Bearer, &token)),
                    None,
                )
                .await;
                assert_eq!(status, StatusCode::OK, "{case}: /users/me afterwards");
            }
        }
        for (bad, expected) in [
            (json!({"token": "garbage"}), 400),
            (json!({"token": null}), 422),
            (json!({}), 422),
        ] {
            let case = format!("verify rv={rv} body={bad}");
            let (status, _, _, body) =
                call(&w.app, Method::POST, "/auth/verify", None, Some(&bad)).await;
            assert_eq!(status.as_u16(), expected, "{case}: {body}");
            if expected == 400 {
                assert_eq!(body, json!({"detail": "VERIFY_USER_BAD_TOKEN"}), "{case}");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Order of the checks on PATCH: guard, then lookup, then body
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn patch_checks_guard_then_lookup_then_body() {
    let bad_bodies = [
        json!({"email": "not-an-email"}),
        json!({"is_superuser": "maybe"}),
        json!({"password": 12345678}),
        json!([]),
        json!("text"),
    ];
    for rv in RV {
        let w = World::new(rv).await;
        let victim = w.target("victim@camelot.bt").await;
        for via in Via::ALL {
            for bad in &bad_bodies {
                let cases: [(Kind, String, StatusCode); 5] = [
                    (Anonymous, "/users/me".into(), StatusCode::UNAUTHORIZED),
                    (
                        Verified,
                        "/users/me".into(),
                        StatusCode::UNPROCESSABLE_ENTITY,
                    ),
                    (
                        Verified,
                        format!("/users/{}", Uuid::new_v4()),
                        StatusCode::FORBIDDEN,
                    ),
                    (
                        VerifiedSuperuser,
                        format!("/users/{}", Uuid::new_v4()),
                        StatusCode::NOT_FOUND,
                    ),
                    (
                        VerifiedSuperuser,
                        format!("/users/{}", victim.id),
                        StatusCode::UNPROCESSABLE_ENTITY,
                    ),
                ];
                for (kind, path, expected) in cases {
                    let case = format!("PATCH {path} rv={rv} via={via:?} kind={kind:?} body={bad}");
                    let (status, _, _, body) =
                        w.call(Method::PATCH, &path, kind, via, Some(bad)).await;
                    assert_eq!(status, expected, "{case}: {body}");
                }
            }
        }
        for (kind, user) in w.users.iter().chain([(Anonymous, victim.clone())].iter()) {
            assert_eq!(
                w.stored(user.id).await.as_ref(),
                Some(user),
                "rv={rv} {kind:?}: unchanged"
            );
        }
    }
}

/// fastapi-users' `_update` walks the fields in `BaseUserUpdate`'s declaration order (`password`,
/// `email`, flags): the password is validated before the e-mail's uniqueness is checked, as
/// registration validates the password before the duplicate check. A body with both a taken
/// e-mail and a refused password answers UPDATE_USER_INVALID_PASSWORD there.
#[tokio::test]
async fn patch_validates_the_password_before_the_email() {
    for rv in RV {
        let w = World::new(rv).await;
        let victim = w.target("victim@camelot.bt").await;
        let token = w.token(VerifiedSuperuser).unwrap();
        for via in Via::ALL {
            for path in ["/users/me".to_owned(), format!("/users/{}", victim.id)] {
                let case =
                    format!("PATCH {path} rv={rv} via={via:?} taken e-mail + short password");
                let (status, _, _, body) = call(
                    &w.app,
                    Method::PATCH,
                    &path,
                    Some((via, &token)),
                    Some(&json!({"email": "lake.lady@camelot.bt", "password": "short"})),
                )
                .await;
                assert_eq!(status, StatusCode::BAD_REQUEST, "{case}: {body}");
                assert_eq!(
                    body,
                    json!({"detail": {
                        "code": "UPDATE_USER_INVALID_PASSWORD",
                        "reason": "Password should be at least 8 characters"
                    }}),
                    "{case}"
                );
            }
        }
        let me = w.user(VerifiedSuperuser);
        assert_eq!(
            w.stored(me.id).await.as_ref(),
            Some(me),
            "rv={rv}: unchanged"
        );
        assert_eq!(
            w.stored(victim.id).await,
            Some(victim),
            "rv={rv}: unchanged"
        );
    }
}
