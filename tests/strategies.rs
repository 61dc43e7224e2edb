//! The stateful token strategies (`database`, `redis`) through the real router: opaque tokens
//! issued at login, read by the guards, destroyed at logout, revoked by password changes,
//! resets, `logout_everywhere` and user deletion, expired by their lifetime; malformed tokens;
//! a stateless JWT backend beside stateful ones; fastapi-users' Redis layout; Redis outages.
//!
//! Every scenario runs against every store of its strategy: `redis` against the test Redis
//! (a key prefix of its own), `database` against `MemoryTokenStore`, SQLite and PostgreSQL.
//! Stored state is checked directly (Redis commands, SQL queries), not through the store under
//! test.
// Several `#[backend(..)]` attributes with the same `lifetime = ..` trip clippy's
// `duplicated_attributes` (a known false positive: rust-lang/rust-clippy#13238).
#![allow(clippy::duplicated_attributes)]

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::Router;
use axum_users::prelude::*;
use axum_users::{
    generate_token, is_plausible_token, AuthStateBuilder, MemoryTokenStore, RedisTokenStore,
    Strategy, TokenStore,
};
use common::proxy::{host_port, Mode, Proxy};
use common::services;
use common::*;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use uuid::Uuid;

// ---------------------------------------------------------------------------------------------
// Configurations.

#[derive(AuthConfig)]
#[backend(jwt, name = "jwt", lifetime = 3600, strategy = database)]
#[backend(cookie, name = "cookie", lifetime = 3600, strategy = database)]
struct DatabaseAuth;

#[derive(AuthConfig)]
#[backend(jwt, name = "jwt", lifetime = 3600, strategy = redis)]
#[backend(cookie, name = "cookie", lifetime = 3600, strategy = redis)]
struct RedisAuth;

#[derive(AuthConfig)]
#[backend(jwt, name = "jwt", lifetime = 2, strategy = database)]
#[backend(cookie, name = "cookie", lifetime = 2, strategy = database)]
struct ShortDatabase;

#[derive(AuthConfig)]
#[backend(jwt, name = "jwt", lifetime = 2, strategy = redis)]
#[backend(cookie, name = "cookie", lifetime = 2, strategy = redis)]
struct ShortRedis;

/// A stateless JWT bearer backend first, then an opaque bearer backend, then a stateful cookie.
#[derive(AuthConfig)]
#[backend(jwt, name = "jwt", lifetime = 3600)]
#[backend(jwt, name = "opaque", lifetime = 3600, strategy = database)]
#[backend(cookie, name = "cookie", lifetime = 3600, strategy = database)]
struct MixedDatabase;

#[derive(AuthConfig)]
#[backend(jwt, name = "jwt", lifetime = 3600)]
#[backend(jwt, name = "opaque", lifetime = 3600, strategy = redis)]
#[backend(cookie, name = "cookie", lifetime = 3600, strategy = redis)]
struct MixedRedis;

// ---------------------------------------------------------------------------------------------
// Environments: an app over one token store, and direct access to what the store holds.

/// Where the tokens are, for looking at them directly.
enum Tokens {
    Memory(MemoryTokenStore),
    Sqlite(sqlx::SqlitePool),
    Pg(sqlx::PgPool),
    Redis {
        conn: redis::aio::MultiplexedConnection,
        prefix: String,
    },
}

struct Env {
    state: AuthState,
    app: Router,
    tokens: Tokens,
    /// The lifetime of the first backend.
    lifetime: u64,
}

fn builder<C: axum_users::AuthConfig>() -> AuthStateBuilder {
    AuthState::builder::<C>()
        .secret(SECRET)
        .password_hasher(hasher())
}

fn finish<C: axum_users::AuthConfig>(builder: AuthStateBuilder, tokens: Tokens) -> Env {
    let state = builder.build().unwrap();
    let app = app_for::<C>(&state);
    Env {
        state,
        app,
        tokens,
        lifetime: C::BACKENDS[0].lifetime,
    }
}

/// A direct connection to the test Redis, for looking at keys.
async fn redis_conn(url: &str) -> redis::aio::MultiplexedConnection {
    redis::Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

impl Env {
    /// `database` strategy over a `MemoryTokenStore`.
    fn memory<C: axum_users::AuthConfig>() -> Env {
        let tokens = MemoryTokenStore::new();
        finish::<C>(
            builder::<C>()
                .store(MemoryStore::new())
                .database_tokens(tokens.clone()),
            Tokens::Memory(tokens),
        )
    }

    /// `database` strategy over the `accesstoken` table of an in-memory SQLite database.
    async fn sqlite<C: axum_users::AuthConfig>() -> Env {
        let store = SqliteStore::connect("sqlite::memory:").await.unwrap();
        let pool = store.pool().clone();
        finish::<C>(
            builder::<C>().store(store.clone()).database_tokens(store),
            Tokens::Sqlite(pool),
        )
    }

    /// `database` strategy over the `accesstoken` table of a PostgreSQL schema of its own.
    async fn postgres<C: axum_users::AuthConfig>() -> Option<Env> {
        let schema = services::postgres().await?;
        let store = PgStore::connect(&schema.url).await.unwrap();
        Some(finish::<C>(
            builder::<C>().store(store.clone()).database_tokens(store),
            Tokens::Pg(schema.pool),
        ))
    }

    /// `redis` strategy over the test Redis, with a key prefix of its own.
    async fn redis<C: axum_users::AuthConfig>() -> Option<Env> {
        Self::redis_with::<C>(|b| b).await
    }

    async fn redis_with<C: axum_users::AuthConfig>(
        configure: impl FnOnce(AuthStateBuilder) -> AuthStateBuilder,
    ) -> Option<Env> {
        let url = services::redis().await?;
        let prefix = services::unique_prefix();
        let store = RedisTokenStore::connect(&url)
            .await
            .unwrap()
            .with_prefix(prefix.clone());
        assert_eq!(store.prefix(), prefix);
        let conn = redis_conn(&url).await;
        Some(finish::<C>(
            configure(builder::<C>().store(MemoryStore::new()).redis_tokens(store)),
            Tokens::Redis { conn, prefix },
        ))
    }

    /// The user the store holds for `token`, read directly.
    async fn stored(&self, token: &str) -> Option<Uuid> {
        match &self.tokens {
            Tokens::Memory(store) => store.read(token, u64::MAX / 2).await.unwrap(),
            Tokens::Sqlite(pool) => {
                sqlx::query_scalar::<_, String>("SELECT user_id FROM accesstoken WHERE token = $1")
                    .bind(token)
                    .fetch_optional(pool)
                    .await
                    .unwrap()
                    .map(|id| Uuid::parse_str(&id).expect("user_id is a UUID"))
            }
            Tokens::Pg(pool) => {
                sqlx::query_scalar::<_, Uuid>("SELECT user_id FROM accesstoken WHERE token = $1")
                    .bind(token)
                    .fetch_optional(pool)
                    .await
                    .unwrap()
            }
            Tokens::Redis { conn, prefix } => {
                let value: Option<String> = redis::cmd("GET")
                    .arg(format!("{prefix}{token}"))
                    .query_async(&mut conn.clone())
                    .await
                    .unwrap();
                value.map(|id| {
                    assert_eq!(
                        id,
                        Uuid::parse_str(&id).unwrap().hyphenated().to_string(),
                        "the value is the lowercase hyphenated user id"
                    );
                    Uuid::parse_str(&id).unwrap()
                })
            }
        }
    }

    /// Checks that `token` is stored for `user` and, for Redis, that its TTL is the lifetime.
    async fn assert_stored(&self, token: &str, user: &User) {
        assert_eq!(
            self.stored(token).await,
            Some(user.id),
            "token {token} is stored for {}",
            user.email
        );
        if let Tokens::Redis { conn, prefix } = &self.tokens {
            let ttl: i64 = redis::cmd("TTL")
                .arg(format!("{prefix}{token}"))
                .query_async(&mut conn.clone())
                .await
                .unwrap();
            let lifetime = self.lifetime as i64;
            assert!(
                ttl <= lifetime && ttl >= lifetime - 5,
                "TTL {ttl} is the lifetime {lifetime}"
            );
        }
    }

    /// Checks that nothing is stored for `token`.
    async fn assert_gone(&self, token: &str) {
        assert_eq!(self.stored(token).await, None, "token {token} is gone");
    }

    /// Makes `token` expire now, behind the store's back: Redis `PEXPIRE`, SQL `created_at`
    /// moved back by twice the lifetime. `false` for the memory store.
    async fn expire(&self, token: &str) -> bool {
        let age = (self.lifetime * 2) as i64;
        match &self.tokens {
            Tokens::Memory(_) => return false,
            Tokens::Sqlite(pool) => {
                sqlx::query(
                    "UPDATE accesstoken SET created_at = \
                     strftime('%Y-%m-%d %H:%M:%S', 'now', $1) || '.000000' WHERE token = $2",
                )
                .bind(format!("-{age} seconds"))
                .bind(token)
                .execute(pool)
                .await
                .unwrap();
            }
            Tokens::Pg(pool) => {
                sqlx::query(
                    "UPDATE accesstoken SET created_at = now() - make_interval(secs => $1) \
                     WHERE token = $2",
                )
                .bind(age as f64)
                .bind(token)
                .execute(pool)
                .await
                .unwrap();
            }
            Tokens::Redis { conn, prefix } => {
                let set: i64 = redis::cmd("PEXPIRE")
                    .arg(format!("{prefix}{token}"))
                    .arg(1)
                    .query_async(&mut conn.clone())
                    .await
                    .unwrap();
                assert_eq!(set, 1, "the key exists");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        true
    }

    async fn login_bearer(&self, email: &str, password: &str) -> String {
        login_bearer_on(&self.app, "jwt", email, password).await
    }

    /// Logs in on the cookie backend; returns the token (the cookie's value).
    async fn login_cookie(&self, email: &str, password: &str) -> String {
        let pair = login_cookie_on(&self.app, "cookie", email, password).await;
        pair.strip_prefix("fastapiusersauth=")
            .expect("the fastapiusersauth cookie")
            .to_owned()
    }

    async fn me(&self, via: Via, token: &str) -> (StatusCode, HeaderMap, Value) {
        send(
            &self.app,
            request_json(Method::GET, "/me", Some((via, token)), None),
        )
        .await
    }

    /// `/me` answers 200 with `user`.
    async fn assert_accepted(&self, via: Via, token: &str, user: &User) {
        let (status, _, body) = self.me(via, token).await;
        assert_eq!(status, StatusCode::OK, "{via:?} {token}: {body}");
        assert_eq!(
            body,
            json!({"id": user.id.to_string(), "email": user.email}),
            "{via:?} {token}"
        );
    }

    /// `/me` answers exactly fastapi-users' 401 (plus `WWW-Authenticate: Bearer`).
    async fn assert_refused(&self, via: Via, token: &str) {
        let (status, headers, body) = self.me(via, token).await;
        assert_unauthorized(status, &headers, &body, &format!("{via:?} {token:.60}"));
    }
}

fn assert_unauthorized(status: StatusCode, headers: &HeaderMap, body: &Value, context: &str) {
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{context}: {body}");
    assert_eq!(body, &json!({"detail": "Unauthorized"}), "{context}");
    assert_eq!(
        headers.get(header::WWW_AUTHENTICATE).unwrap(),
        "Bearer",
        "{context}"
    );
}

fn assert_opaque(token: &str) {
    assert_eq!(token.len(), 43, "an opaque token is 43 characters: {token}");
    assert!(is_plausible_token(token), "URL-safe base64: {token}");
    assert!(!token.contains('.'), "not a JWT: {token}");
}

async fn patch_me(env: &Env, token: &str, body: Value) -> (StatusCode, Value) {
    let (status, _, body) = send(
        &env.app,
        request_json(
            Method::PATCH,
            "/users/me",
            Some((Via::Bearer, token)),
            Some(&body),
        ),
    )
    .await;
    (status, body)
}

/// Runs a scenario against every store of a strategy: `$database` configures the `database`
/// strategy (memory, SQLite, PostgreSQL), `$redis` the `redis` strategy.
macro_rules! per_store {
    ($scenario:ident, $database:ty, $redis:ty) => {
        mod $scenario {
            use super::*;

            #[tokio::test]
            async fn memory() {
                super::$scenario(Env::memory::<$database>()).await;
            }

            #[tokio::test]
            async fn sqlite() {
                super::$scenario(Env::sqlite::<$database>().await).await;
            }

            #[tokio::test]
            async fn postgres() {
                if let Some(env) = Env::postgres::<$database>().await {
                    super::$scenario(env).await;
                }
            }

            #[tokio::test]
            async fn redis() {
                if let Some(env) = Env::redis::<$redis>().await {
                    super::$scenario(env).await;
                }
            }
        }
    };
}

// ---------------------------------------------------------------------------------------------
// Scenarios.

per_store!(login_issues_opaque_tokens, DatabaseAuth, RedisAuth);
async fn login_issues_opaque_tokens(env: Env) {
    let alice = regular_user(&env.state, "alice@example.com").await;

    let (status, _, body) = send(
        &env.app,
        post_form("/auth/jwt/login", login_form("alice@example.com", PASSWORD)),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let bearer = body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        body,
        json!({"access_token": bearer, "token_type": "bearer"}),
        "exactly fastapi-users' bearer answer"
    );
    assert_opaque(&bearer);
    env.assert_stored(&bearer, &alice).await;
    env.assert_accepted(Via::Bearer, &bearer, &alice).await;
    let (status, _, body) = send(
        &env.app,
        request_json(Method::GET, "/users/me", Some((Via::Bearer, &bearer)), None),
    )
    .await;
    assert_eq!((status, body), (StatusCode::OK, user_read(&alice)));

    let (status, headers, bytes) = send_raw(
        &env.app,
        post_form(
            "/auth/cookie/login",
            login_form("alice@example.com", PASSWORD),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(bytes.is_empty(), "204 carries no body");
    let set_cookie = headers.get(header::SET_COOKIE).unwrap().to_str().unwrap();
    let cookie = set_cookie
        .split(';')
        .next()
        .unwrap()
        .strip_prefix("fastapiusersauth=")
        .unwrap()
        .to_owned();
    assert_opaque(&cookie);
    assert!(
        set_cookie.contains(&format!("Max-Age={}", env.lifetime)),
        "{set_cookie}"
    );
    assert_ne!(cookie, bearer, "every login makes a new token");
    env.assert_stored(&cookie, &alice).await;
    env.assert_accepted(Via::Cookie, &cookie, &alice).await;
    // Both transports read the same store: the bearer token works as a cookie and vice versa.
    env.assert_accepted(Via::Cookie, &bearer, &alice).await;
    env.assert_accepted(Via::Bearer, &cookie, &alice).await;
}

per_store!(logout_destroys_the_token, DatabaseAuth, RedisAuth);
async fn logout_destroys_the_token(env: Env) {
    let alice = regular_user(&env.state, "alice@example.com").await;
    let bearer = env.login_bearer("alice@example.com", PASSWORD).await;
    let other_session = env.login_bearer("alice@example.com", PASSWORD).await;

    let (status, headers, bytes) =
        send_raw(&env.app, post_with("/auth/jwt/logout", Some(&bearer), None)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(bytes.is_empty(), "204 carries no body");
    assert!(headers.get(header::SET_COOKIE).is_none());
    env.assert_gone(&bearer).await;
    env.assert_refused(Via::Bearer, &bearer).await;
    let (status, headers, body) =
        send(&env.app, post_with("/auth/jwt/logout", Some(&bearer), None)).await;
    assert_unauthorized(status, &headers, &body, "second logout");
    // Only that token: the user's other session lives on.
    env.assert_stored(&other_session, &alice).await;
    env.assert_accepted(Via::Bearer, &other_session, &alice)
        .await;

    let cookie = env.login_cookie("alice@example.com", PASSWORD).await;
    env.assert_accepted(Via::Cookie, &cookie, &alice).await;
    let (status, headers, bytes) = send_raw(
        &env.app,
        post_with(
            "/auth/cookie/logout",
            None,
            Some(&format!("fastapiusersauth={cookie}")),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(bytes.is_empty());
    let removal = headers.get(header::SET_COOKIE).unwrap().to_str().unwrap();
    assert!(
        removal.starts_with("fastapiusersauth=\"\"") || removal.starts_with("fastapiusersauth=;"),
        "{removal}"
    );
    assert!(removal.contains("Max-Age=0"), "{removal}");
    env.assert_gone(&cookie).await;
    env.assert_refused(Via::Cookie, &cookie).await;
}

per_store!(
    password_change_revokes_the_users_tokens,
    DatabaseAuth,
    RedisAuth
);
async fn password_change_revokes_the_users_tokens(env: Env) {
    let alice = regular_user(&env.state, "alice@example.com").await;
    let bob = regular_user(&env.state, "bob@example.com").await;
    let alice_bearer = env.login_bearer("alice@example.com", PASSWORD).await;
    let alice_cookie = env.login_cookie("alice@example.com", PASSWORD).await;
    let bob_bearer = env.login_bearer("bob@example.com", PASSWORD).await;

    // An update without a password change revokes nothing.
    let (status, body) = patch_me(&env, &alice_bearer, json!({})).await;
    assert_eq!((status, body), (StatusCode::OK, user_read(&alice)));
    env.assert_stored(&alice_bearer, &alice).await;
    env.assert_stored(&alice_cookie, &alice).await;

    let new_password = "a brand new password";
    let (status, body) = patch_me(&env, &alice_bearer, json!({"password": new_password})).await;
    assert_eq!((status, body), (StatusCode::OK, user_read(&alice)));
    env.assert_gone(&alice_bearer).await;
    env.assert_gone(&alice_cookie).await;
    env.assert_refused(Via::Bearer, &alice_bearer).await;
    env.assert_refused(Via::Cookie, &alice_cookie).await;
    // Not other users' tokens.
    env.assert_stored(&bob_bearer, &bob).await;
    env.assert_accepted(Via::Bearer, &bob_bearer, &bob).await;

    let (status, _, body) = send(
        &env.app,
        post_form("/auth/jwt/login", login_form("alice@example.com", PASSWORD)),
    )
    .await;
    assert_eq!(
        (status, body),
        (
            StatusCode::BAD_REQUEST,
            json!({"detail": "LOGIN_BAD_CREDENTIALS"})
        )
    );
    let fresh = env.login_bearer("alice@example.com", new_password).await;
    env.assert_stored(&fresh, &alice).await;
    env.assert_accepted(Via::Bearer, &fresh, &alice).await;

    // A superuser setting bob's password revokes bob's tokens, not the superuser's nor alice's.
    let admin = create_user(&env.state, "admin@example.com", PASSWORD, true, true, true).await;
    let admin_token = env.login_bearer("admin@example.com", PASSWORD).await;
    let bob_cookie = env.login_cookie("bob@example.com", PASSWORD).await;
    let (status, _, body) = send(
        &env.app,
        request_json(
            Method::PATCH,
            &format!("/users/{}", bob.id),
            Some((Via::Bearer, &admin_token)),
            Some(&json!({"password": "bob's new password"})),
        ),
    )
    .await;
    assert_eq!((status, body), (StatusCode::OK, user_read(&bob)));
    env.assert_gone(&bob_bearer).await;
    env.assert_gone(&bob_cookie).await;
    env.assert_refused(Via::Cookie, &bob_cookie).await;
    env.assert_stored(&admin_token, &admin).await;
    env.assert_accepted(Via::Bearer, &fresh, &alice).await;
}

per_store!(reset_revokes_the_users_tokens, DatabaseAuth, RedisAuth);
async fn reset_revokes_the_users_tokens(env: Env) {
    let alice = regular_user(&env.state, "alice@example.com").await;
    let bob = regular_user(&env.state, "bob@example.com").await;
    let alice_bearer = env.login_bearer("alice@example.com", PASSWORD).await;
    let alice_cookie = env.login_cookie("alice@example.com", PASSWORD).await;
    let bob_cookie = env.login_cookie("bob@example.com", PASSWORD).await;

    let reset = env.state.reset_token(&alice).await.unwrap();
    let (status, _, bytes) = send_raw(
        &env.app,
        post_json(
            "/auth/reset-password",
            &json!({"token": reset, "password": "a brand new password"}),
        ),
    )
    .await;
    assert_eq!((status, bytes.as_slice()), (StatusCode::OK, &b"null"[..]));
    env.assert_gone(&alice_bearer).await;
    env.assert_gone(&alice_cookie).await;
    env.assert_refused(Via::Bearer, &alice_bearer).await;
    env.assert_refused(Via::Cookie, &alice_cookie).await;
    env.assert_stored(&bob_cookie, &bob).await;
    env.assert_accepted(Via::Cookie, &bob_cookie, &bob).await;
}

per_store!(
    logout_everywhere_revokes_the_users_tokens,
    DatabaseAuth,
    RedisAuth
);
async fn logout_everywhere_revokes_the_users_tokens(env: Env) {
    let alice = regular_user(&env.state, "alice@example.com").await;
    let bob = regular_user(&env.state, "bob@example.com").await;
    let alice_tokens = [
        env.login_bearer("alice@example.com", PASSWORD).await,
        env.login_bearer("alice@example.com", PASSWORD).await,
        env.login_cookie("alice@example.com", PASSWORD).await,
    ];
    let bob_bearer = env.login_bearer("bob@example.com", PASSWORD).await;

    assert_eq!(env.state.logout_everywhere(alice.id).await.unwrap(), 3);
    for token in &alice_tokens {
        env.assert_gone(token).await;
        env.assert_refused(Via::Bearer, token).await;
    }
    env.assert_accepted(Via::Bearer, &bob_bearer, &bob).await;
    env.assert_stored(&bob_bearer, &bob).await;
    assert_eq!(env.state.logout_everywhere(alice.id).await.unwrap(), 0);
    assert_eq!(
        env.state.logout_everywhere(Uuid::new_v4()).await.unwrap(),
        0
    );
}

per_store!(
    deleting_a_user_removes_their_tokens,
    DatabaseAuth,
    RedisAuth
);
async fn deleting_a_user_removes_their_tokens(env: Env) {
    let admin = create_user(&env.state, "admin@example.com", PASSWORD, true, true, true).await;
    let alice = regular_user(&env.state, "alice@example.com").await;
    let admin_token = env.login_bearer("admin@example.com", PASSWORD).await;
    let alice_bearer = env.login_bearer("alice@example.com", PASSWORD).await;
    let alice_cookie = env.login_cookie("alice@example.com", PASSWORD).await;

    let (status, _, bytes) = send_raw(
        &env.app,
        request_json(
            Method::DELETE,
            &format!("/users/{}", alice.id),
            Some((Via::Bearer, &admin_token)),
            None,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(bytes.is_empty());
    env.assert_gone(&alice_bearer).await;
    env.assert_gone(&alice_cookie).await;
    env.assert_refused(Via::Bearer, &alice_bearer).await;
    env.assert_refused(Via::Cookie, &alice_cookie).await;
    env.assert_stored(&admin_token, &admin).await;
    env.assert_accepted(Via::Bearer, &admin_token, &admin).await;
}

per_store!(
    tokens_expire_after_their_lifetime,
    ShortDatabase,
    ShortRedis
);
async fn tokens_expire_after_their_lifetime(env: Env) {
    assert_eq!(env.lifetime, 2);
    let alice = regular_user(&env.state, "alice@example.com").await;
    let bearer = env.login_bearer("alice@example.com", PASSWORD).await;
    let cookie = env.login_cookie("alice@example.com", PASSWORD).await;
    env.assert_stored(&bearer, &alice).await;
    env.assert_accepted(Via::Bearer, &bearer, &alice).await;
    env.assert_accepted(Via::Cookie, &cookie, &alice).await;

    tokio::time::sleep(Duration::from_millis(2300)).await;
    env.assert_refused(Via::Bearer, &bearer).await;
    env.assert_refused(Via::Cookie, &cookie).await;
    if let Tokens::Redis { .. } = env.tokens {
        // Redis' TTL removed the keys.
        env.assert_gone(&bearer).await;
        env.assert_gone(&cookie).await;
    }
    // A fresh login works again.
    let fresh = env.login_bearer("alice@example.com", PASSWORD).await;
    env.assert_accepted(Via::Bearer, &fresh, &alice).await;
}

per_store!(tokens_expire_by_their_stored_age, DatabaseAuth, RedisAuth);
async fn tokens_expire_by_their_stored_age(env: Env) {
    let alice = regular_user(&env.state, "alice@example.com").await;
    let expired = env.login_bearer("alice@example.com", PASSWORD).await;
    let live = env.login_bearer("alice@example.com", PASSWORD).await;
    env.assert_accepted(Via::Bearer, &expired, &alice).await;
    if !env.expire(&expired).await {
        return; // MemoryTokenStore: covered by `tokens_expire_after_their_lifetime`.
    }
    env.assert_refused(Via::Bearer, &expired).await;
    env.assert_refused(Via::Cookie, &expired).await;
    env.assert_accepted(Via::Bearer, &live, &alice).await;
}

per_store!(
    malformed_and_unknown_tokens_are_401,
    DatabaseAuth,
    RedisAuth
);
async fn malformed_and_unknown_tokens_are_401(env: Env) {
    let alice = regular_user(&env.state, "alice@example.com").await;
    let unknown = generate_token();
    let candidates = [
        unknown.clone(),
        "a.b.c".to_owned(),
        // A valid access token of the JWT strategy: not an opaque token.
        mint_access(&alice.id.to_string()),
        "x".repeat(129),
        "x".repeat(8192),
        "not-base64!".to_owned(),
        "%00%2F".to_owned(),
        "a*".to_owned(),
        "\\x".to_owned(),
        "*".to_owned(),
    ];
    for token in &candidates {
        env.assert_refused(Via::Bearer, token).await;
        env.assert_refused(Via::Cookie, token).await;
        assert_eq!(
            env.stored(token).await,
            None,
            "nothing stored for {token:.60}"
        );
    }
    let (status, headers, body) = send(
        &env.app,
        post_with("/auth/jwt/logout", Some(&unknown), None),
    )
    .await;
    assert_unauthorized(status, &headers, &body, "logout with an unknown token");

    if let Tokens::Redis { conn, prefix } = &env.tokens {
        let mut conn = conn.clone();
        // A value that is not a user id, an id of nobody, a key of another type: unknown tokens.
        let garbage = generate_token();
        let nobody = generate_token();
        let hash = generate_token();
        let _: () = redis::cmd("SET")
            .arg(format!("{prefix}{garbage}"))
            .arg("not-a-uuid")
            .arg("EX")
            .arg(60)
            .query_async(&mut conn)
            .await
            .unwrap();
        let _: () = redis::cmd("SET")
            .arg(format!("{prefix}{nobody}"))
            .arg(Uuid::new_v4().to_string())
            .arg("EX")
            .arg(60)
            .query_async(&mut conn)
            .await
            .unwrap();
        let _: () = redis::cmd("HSET")
            .arg(format!("{prefix}{hash}"))
            .arg("user")
            .arg(alice.id.to_string())
            .query_async(&mut conn)
            .await
            .unwrap();
        for token in [&garbage, &nobody, &hash] {
            env.assert_refused(Via::Bearer, token).await;
            env.assert_refused(Via::Cookie, token).await;
        }
        // The walk of `logout_everywhere` steps over them.
        assert_eq!(env.state.logout_everywhere(alice.id).await.unwrap(), 0);
        let _: () = redis::cmd("DEL")
            .arg(format!("{prefix}{garbage}"))
            .arg(format!("{prefix}{nobody}"))
            .arg(format!("{prefix}{hash}"))
            .query_async(&mut conn)
            .await
            .unwrap();
    }

    // The store is unharmed.
    let token = env.login_bearer("alice@example.com", PASSWORD).await;
    env.assert_accepted(Via::Bearer, &token, &alice).await;
}

per_store!(jwt_backend_beside_stateful_ones, MixedDatabase, MixedRedis);
async fn jwt_backend_beside_stateful_ones(env: Env) {
    let alice = regular_user(&env.state, "alice@example.com").await;
    let bob = regular_user(&env.state, "bob@example.com").await;

    let jwt = login_bearer_on(&env.app, "jwt", "alice@example.com", PASSWORD).await;
    assert_eq!(decode_jwt(&jwt).1["sub"], json!(alice.id.to_string()));
    assert_eq!(env.stored(&jwt).await, None, "a JWT is not stored");
    let opaque = login_bearer_on(&env.app, "opaque", "alice@example.com", PASSWORD).await;
    assert_opaque(&opaque);
    env.assert_stored(&opaque, &alice).await;
    let cookie = env.login_cookie("bob@example.com", PASSWORD).await;
    env.assert_stored(&cookie, &bob).await;

    // The JWT backend comes first; an opaque token fails it and falls through to `opaque`.
    env.assert_accepted(Via::Bearer, &jwt, &alice).await;
    env.assert_accepted(Via::Bearer, &opaque, &alice).await;
    env.assert_accepted(Via::Cookie, &cookie, &bob).await;
    // Invalid bearer credentials fall through to the cookie.
    for bad in ["garbage", &generate_token(), "a.b.c"] {
        let (status, _, body) = send(
            &env.app,
            get_with(
                "/me",
                Some(bad),
                Some(&format!("fastapiusersauth={cookie}")),
            ),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{bad}: {body}");
        assert_eq!(body["email"], "bob@example.com");
    }
    // A valid bearer credential wins over the cookie (declared order).
    let (status, _, body) = send(
        &env.app,
        get_with(
            "/me",
            Some(&opaque),
            Some(&format!("fastapiusersauth={cookie}")),
        ),
    )
    .await;
    assert_eq!(
        (status, &body["email"]),
        (StatusCode::OK, &json!("alice@example.com"))
    );

    // Logout on the opaque backend destroys the opaque token; the JWT lives on (stateless).
    let (status, _, bytes) = send_raw(
        &env.app,
        post_with("/auth/opaque/logout", Some(&opaque), None),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(bytes.is_empty());
    env.assert_gone(&opaque).await;
    env.assert_refused(Via::Bearer, &opaque).await;
    env.assert_accepted(Via::Bearer, &jwt, &alice).await;
    env.assert_stored(&cookie, &bob).await;
}

// ---------------------------------------------------------------------------------------------
// Redis only.

/// The derive's `strategy = database` switched to Redis at run time.
#[tokio::test]
async fn redis_strategy_override_at_run_time() {
    let Some(env) = Env::redis_with::<DatabaseAuth>(|b| {
        b.strategy("jwt", Strategy::Redis)
            .strategy("cookie", Strategy::Redis)
    })
    .await
    else {
        return;
    };
    assert!(env
        .state
        .backends()
        .iter()
        .all(|b| b.strategy == Strategy::Redis));
    let alice = regular_user(&env.state, "alice@example.com").await;
    let token = env.login_bearer("alice@example.com", PASSWORD).await;
    env.assert_stored(&token, &alice).await;
    env.assert_accepted(Via::Bearer, &token, &alice).await;
}

/// A token written by fastapi-users' `RedisStrategy` (default prefix) authenticates, and ours
/// have its layout.
#[tokio::test]
async fn redis_accepts_tokens_in_fastapi_users_layout() {
    let Some(url) = services::redis().await else {
        return;
    };
    let store = RedisTokenStore::connect(&url).await.unwrap();
    assert_eq!(store.prefix(), "fastapi_users_token:");
    let state = builder::<RedisAuth>()
        .store(MemoryStore::new())
        .redis_tokens(store)
        .build()
        .unwrap();
    let env = Env {
        app: app_for::<RedisAuth>(&state),
        state,
        tokens: Tokens::Redis {
            conn: redis_conn(&url).await,
            prefix: "fastapi_users_token:".to_owned(),
        },
        lifetime: 3600,
    };
    let alice = regular_user(&env.state, "alice@example.com").await;
    let Tokens::Redis { conn, .. } = &env.tokens else {
        unreachable!()
    };
    let mut conn = conn.clone();

    // What fastapi-users runs: SET fastapi_users_token:<token_urlsafe()> <str(user.id)> EX 3600.
    let theirs = generate_token();
    let _: () = redis::cmd("SET")
        .arg(format!("fastapi_users_token:{theirs}"))
        .arg(alice.id.to_string())
        .arg("EX")
        .arg(3600)
        .query_async(&mut conn)
        .await
        .unwrap();
    env.assert_accepted(Via::Bearer, &theirs, &alice).await;
    env.assert_accepted(Via::Cookie, &theirs, &alice).await;

    // Ours, as fastapi-users reads them: GET fastapi_users_token:<token> is the user id.
    let ours = env.login_bearer("alice@example.com", PASSWORD).await;
    let value: String = redis::cmd("GET")
        .arg(format!("fastapi_users_token:{ours}"))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(value, alice.id.hyphenated().to_string());
    env.assert_stored(&ours, &alice).await;

    // Logout deletes their key like ours.
    let (status, _, _) = send(&env.app, post_with("/auth/jwt/logout", Some(&theirs), None)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    env.assert_gone(&theirs).await;
    env.assert_refused(Via::Bearer, &theirs).await;
    // logout_everywhere finds tokens fastapi-users wrote.
    let theirs = generate_token();
    let _: () = redis::cmd("SET")
        .arg(format!("fastapi_users_token:{theirs}"))
        .arg(alice.id.to_string())
        .arg("EX")
        .arg(3600)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(env.state.logout_everywhere(alice.id).await.unwrap(), 2);
    env.assert_gone(&theirs).await;
    env.assert_gone(&ours).await;
}

/// `destroy_all` walks every SCAN batch, and only under its own prefix (glob characters in the
/// prefix are literal).
#[tokio::test]
async fn redis_destroy_all_scans_every_batch_of_its_prefix_only() {
    let Some(url) = services::redis().await else {
        return;
    };
    let base = services::unique_prefix();
    // Unescaped, `<base>*:*` would also match `<base>-other:...`.
    let store = RedisTokenStore::connect(&url)
        .await
        .unwrap()
        .with_prefix(format!("{base}*:"));
    let other = RedisTokenStore::connect(&url)
        .await
        .unwrap()
        .with_prefix(format!("{base}-other:"));
    let alice = Uuid::new_v4();
    let bob = Uuid::new_v4();
    let mut conn = redis_conn(&url).await;
    let mut pipe = redis::pipe();
    for i in 0..2500 {
        pipe.cmd("SET")
            .arg(format!("{base}*:bob{i}"))
            .arg(bob.to_string())
            .arg("EX")
            .arg(120)
            .ignore();
    }
    let _: () = pipe.query_async(&mut conn).await.unwrap();
    for i in 0..3 {
        store.write(&format!("alice{i}"), alice, 120).await.unwrap();
    }
    other.write("alice-other", alice, 120).await.unwrap();

    assert_eq!(store.destroy_all(alice).await.unwrap(), 3);
    for i in 0..3 {
        assert_eq!(store.read(&format!("alice{i}"), 120).await.unwrap(), None);
    }
    assert_eq!(other.read("alice-other", 120).await.unwrap(), Some(alice));
    assert_eq!(store.read("bob2499", 120).await.unwrap(), Some(bob));
    assert_eq!(store.destroy_all(bob).await.unwrap(), 2500);
    let left: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{base}\\*:*"))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(left.is_empty(), "{} keys left", left.len());
    assert_eq!(other.destroy_all(alice).await.unwrap(), 1);
}

/// The store API itself: layout, TTL, garbage, lifetime 0.
#[tokio::test]
async fn redis_store_layout() {
    let Some(url) = services::redis().await else {
        return;
    };
    let prefix = services::unique_prefix();
    let store = RedisTokenStore::connect(&url)
        .await
        .unwrap()
        .with_prefix(prefix.clone());
    assert_eq!(store.key("tok"), format!("{prefix}tok"));
    let mut conn = redis_conn(&url).await;
    let user = Uuid::new_v4();
    store.write("tok", user, 90).await.unwrap();
    let value: String = redis::cmd("GET")
        .arg(format!("{prefix}tok"))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(value, user.hyphenated().to_string());
    let ttl: i64 = redis::cmd("TTL")
        .arg(format!("{prefix}tok"))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!((85..=90).contains(&ttl), "TTL {ttl}");
    // Redis' TTL decides, not the lifetime given to `read`.
    assert_eq!(store.read("tok", 1).await.unwrap(), Some(user));
    store.destroy("tok").await.unwrap();
    store.destroy("tok").await.unwrap();
    assert_eq!(store.read("tok", 90).await.unwrap(), None);
    let exists: i64 = redis::cmd("EXISTS")
        .arg(format!("{prefix}tok"))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(exists, 0);
    // Upper-case and other UUID spellings Python's uuid.UUID accepts are read too.
    let _: () = redis::cmd("SET")
        .arg(format!("{prefix}upper"))
        .arg(user.hyphenated().to_string().to_uppercase())
        .arg("EX")
        .arg(60)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(store.read("upper", 60).await.unwrap(), Some(user));
    assert_eq!(store.destroy_all(user).await.unwrap(), 1);
    let err = store.write("zero", user, 0).await.unwrap_err();
    assert!(err.to_string().contains("lifetime"), "{err}");
    assert!(format!("{store:?}").contains(&prefix));
}

// ---------------------------------------------------------------------------------------------
// Outages.

/// How long a request may take before the test calls it a hang.
const HANG: Duration = Duration::from_secs(20);
/// How long an answer during an outage may take (two 2 s deadlines and some slack).
const BOUNDED: Duration = Duration::from_secs(7);

/// Sends `request`, failing the test if it does not answer within [`HANG`].
async fn bounded(app: &Router, request: Request<Body>) -> (StatusCode, Value, Duration) {
    let start = Instant::now();
    let (status, _, body) = tokio::time::timeout(HANG, send(app, request))
        .await
        .expect("the request hung");
    (status, body, start.elapsed())
}

fn assert_unavailable(answer: (StatusCode, Value, Duration), context: &str) {
    let (status, body, elapsed) = answer;
    assert_eq!(
        (status, body),
        (
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"detail": "SERVICE_UNAVAILABLE"})
        ),
        "{context}"
    );
    assert!(elapsed < BOUNDED, "{context}: answered after {elapsed:?}");
}

/// Sends `make()` every 200 ms until it answers `expected` (or fails after 20 s).
async fn eventually(app: &Router, make: impl Fn() -> Request<Body>, expected: StatusCode) -> Value {
    let start = Instant::now();
    loop {
        let (status, body, _) = bounded(app, make()).await;
        if status == expected {
            return body;
        }
        assert!(
            start.elapsed() < HANG,
            "still {status} {body} after {:?}",
            start.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Redis behind a proxy: a partition (held connections) and a crash (closed connections)
/// answer 503 within a bounded time — never a hang, never a 401, a failed password change
/// changes nothing — and service resumes by itself once Redis is reachable again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_outage_answers_503_and_service_resumes() {
    let Some(url) = services::redis().await else {
        return;
    };
    let proxy = Proxy::start_holding(&host_port(&url, 6379)).await;
    let prefix = services::unique_prefix();
    let store = RedisTokenStore::connect(&proxy.url_for(&url))
        .await
        .unwrap()
        .with_prefix(prefix.clone());
    let state = builder::<RedisAuth>()
        .store(MemoryStore::new())
        .redis_tokens(store)
        .build()
        .unwrap();
    let env = Env {
        app: app_for::<RedisAuth>(&state),
        state,
        tokens: Tokens::Redis {
            conn: redis_conn(&url).await,
            prefix,
        },
        lifetime: 3600,
    };
    let alice = regular_user(&env.state, "alice@example.com").await;
    let token = env.login_bearer("alice@example.com", PASSWORD).await;
    env.assert_accepted(Via::Bearer, &token, &alice).await;
    let me = || get_bearer("/me", &token);

    for mode in [Mode::Blackhole, Mode::Refuse, Mode::Blackhole] {
        proxy.set(mode);
        // Many requests at once: each answers 503 within the bound.
        let answers = futures::future::join_all((0..16).map(|_| bounded(&env.app, me()))).await;
        for (i, answer) in answers.into_iter().enumerate() {
            assert_unavailable(answer, &format!("{mode:?}: concurrent /me #{i}"));
        }
        assert_unavailable(bounded(&env.app, me()).await, &format!("{mode:?}: /me"));
        assert_unavailable(
            bounded(&env.app, me()).await,
            &format!("{mode:?}: /me again"),
        );
        assert_unavailable(
            bounded(
                &env.app,
                post_form("/auth/jwt/login", login_form("alice@example.com", PASSWORD)),
            )
            .await,
            &format!("{mode:?}: login"),
        );
        assert_unavailable(
            bounded(&env.app, post_with("/auth/jwt/logout", Some(&token), None)).await,
            &format!("{mode:?}: logout"),
        );
        // The password change revokes first: a failing store leaves the password as it was.
        assert_unavailable(
            bounded(
                &env.app,
                request_json(
                    Method::PATCH,
                    "/users/me",
                    Some((Via::Bearer, &token)),
                    Some(&json!({"password": "a brand new password"})),
                ),
            )
            .await,
            &format!("{mode:?}: PATCH /users/me"),
        );
        assert!(password_matches(&env.state, "alice@example.com", PASSWORD).await);
        // Credentials that need no store still answer as usual.
        let (status, _, body) = send(&env.app, get_bearer("/me", "a.b.c")).await;
        assert_eq!(
            (status, body),
            (StatusCode::UNAUTHORIZED, json!({"detail": "Unauthorized"}))
        );

        proxy.set(Mode::Forward);
        let body = eventually(&env.app, me, StatusCode::OK).await;
        assert_eq!(body["email"], "alice@example.com", "{mode:?}: resumed");
        assert_eq!(env.stored(&token).await, Some(alice.id), "{mode:?}: kept");
    }

    // Fully working again: logout destroys the key.
    let (status, _, _) = send(&env.app, post_with("/auth/jwt/logout", Some(&token), None)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    env.assert_gone(&token).await;
}

/// A private `redis-server`, killed and restarted: 503 while it is down, then service resumes
/// on the new (empty) server without a restart of the application.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_server_restart() {
    let Some(mut server) = PrivateRedis::start() else {
        return;
    };
    let store = RedisTokenStore::connect(&server.url())
        .await
        .unwrap()
        .with_prefix("fastapi_users_token:");
    let state = builder::<RedisAuth>()
        .store(MemoryStore::new())
        .redis_tokens(store)
        .build()
        .unwrap();
    let app = app_for::<RedisAuth>(&state);
    regular_user(&state, "alice@example.com").await;
    let token = login_bearer_on(&app, "jwt", "alice@example.com", PASSWORD).await;
    let me = || get_bearer("/me", &token);
    let (status, _, _) = bounded(&app, me()).await;
    assert_eq!(status, StatusCode::OK);

    server.kill();
    assert_unavailable(bounded(&app, me()).await, "server down: /me");
    assert_unavailable(bounded(&app, me()).await, "server down: /me again");
    assert_unavailable(
        bounded(
            &app,
            post_form("/auth/jwt/login", login_form("alice@example.com", PASSWORD)),
        )
        .await,
        "server down: login",
    );

    server.restart();
    // The new server has no data: the old token is unknown (401, not 503) ...
    let body = eventually(&app, me, StatusCode::UNAUTHORIZED).await;
    assert_eq!(body, json!({"detail": "Unauthorized"}));
    // ... and a new login works.
    let token = login_bearer_on(&app, "jwt", "alice@example.com", PASSWORD).await;
    let (status, body, _) = bounded(&app, get_bearer("/me", &token)).await;
    assert_eq!(
        (status, &body["email"]),
        (StatusCode::OK, &json!("alice@example.com"))
    );
}

/// `connect` fails clearly, and within a bounded time, when Redis cannot be reached.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_connect_fails_clearly_when_unreachable() {
    // A closed port.
    let port = free_port();
    let start = Instant::now();
    let err = tokio::time::timeout(
        HANG,
        RedisTokenStore::connect(&format!("redis://127.0.0.1:{port}")),
    )
    .await
    .expect("connect hung")
    .unwrap_err();
    assert!(start.elapsed() < BOUNDED, "{:?}", start.elapsed());
    assert!(
        err.to_string().contains(&format!("127.0.0.1:{port}")),
        "the error names the address: {err}"
    );

    // A server that accepts and never answers.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let held = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let start = Instant::now();
    let err = tokio::time::timeout(HANG, RedisTokenStore::connect(&format!("redis://{addr}")))
        .await
        .expect("connect hung")
        .unwrap_err();
    assert!(
        start.elapsed() < Duration::from_secs(12),
        "{:?}",
        start.elapsed()
    );
    assert!(err.to_string().contains(&addr.to_string()), "{err}");
    held.abort();

    // Not a Redis URL.
    let err = RedisTokenStore::connect("http://127.0.0.1:6379")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("invalid Redis URL"), "{err}");
    // A password in the URL stays out of the store's Debug output.
    let lazy =
        RedisTokenStore::connect_lazy(&format!("redis://:hunter2@127.0.0.1:{port}")).unwrap();
    assert!(!format!("{lazy:?}").contains("hunter2"), "{lazy:?}");
}

/// A store made while Redis is down (`connect_lazy`) answers 503 until Redis is reachable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_lazy_store_starts_during_an_outage() {
    let Some(mut server) = PrivateRedis::start() else {
        return;
    };
    server.kill();
    let store = RedisTokenStore::connect_lazy(&server.url()).unwrap();
    let state = builder::<RedisAuth>()
        .store(MemoryStore::new())
        .redis_tokens(store)
        .build()
        .unwrap();
    let app = app_for::<RedisAuth>(&state);
    regular_user(&state, "alice@example.com").await;
    let login = || post_form("/auth/jwt/login", login_form("alice@example.com", PASSWORD));
    assert_unavailable(bounded(&app, login()).await, "before Redis starts");
    server.restart();
    let body = eventually(&app, login, StatusCode::OK).await;
    let token = body["access_token"].as_str().unwrap();
    assert_opaque(token);
    let (status, body, _) = bounded(&app, get_bearer("/me", token)).await;
    assert_eq!(
        (status, &body["email"]),
        (StatusCode::OK, &json!("alice@example.com"))
    );
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A `redis-server` of the test's own, without persistence, on a free port.
struct PrivateRedis {
    port: u16,
    child: Option<Child>,
}

impl PrivateRedis {
    /// `None` (skipped, or a failure under CI) when `redis-server` is not on `PATH`.
    fn start() -> Option<PrivateRedis> {
        let mut server = PrivateRedis {
            port: free_port(),
            child: None,
        };
        if let Err(err) = server.spawn() {
            if std::env::var_os("CI").is_some() {
                panic!("redis-server could not be started: {err}");
            }
            use std::io::Write as _;
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED: redis-server could not be started ({err}); install Redis"
            );
            return None;
        }
        Some(server)
    }

    fn spawn(&mut self) -> std::io::Result<()> {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &self.port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        self.child = Some(child);
        // Wait until it accepts connections.
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if start.elapsed() > Duration::from_secs(10) {
                return Err(std::io::Error::other(
                    "redis-server did not start within 10 s",
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn restart(&mut self) {
        self.kill();
        self.spawn().expect("restart redis-server");
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.kill();
    }
}

/// `with_timeout` bounds every command, waiting for a connection included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_command_deadline_is_configurable() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let held = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let store = RedisTokenStore::connect_lazy(&format!("redis://{addr}"))
        .unwrap()
        .with_timeout(Duration::from_millis(300));
    for attempt in 0..3 {
        let start = Instant::now();
        let err = tokio::time::timeout(HANG, store.read(&generate_token(), 60))
            .await
            .expect("read hung")
            .unwrap_err();
        let elapsed = start.elapsed();
        assert!(
            elapsed >= Duration::from_millis(250) && elapsed < Duration::from_millis(1500),
            "attempt {attempt}: failed after {elapsed:?}"
        );
        assert!(err.to_string().contains("within 300ms"), "{err}");
    }
    held.abort();
}
