//! Brute-force limits of the generated routes: per account and per client, 429 with
//! `Retry-After`, what clears a counter, trusted proxies, and the memory and Redis limiters.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, HeaderMap, Request, StatusCode};
use axum::Router;
use axum_users::prelude::*;
use axum_users::{limit, MemoryRateLimiter, Rate, RateLimits, RedisRateLimiter};
use common::proxy::{host_port, Mode, Proxy};
use common::*;
use serde_json::{json, Value};

const WRONG: &str = "wrong password!";

/// A state over a fresh `MemoryStore` with `limits` and, when given, `limiter`.
fn state_with(limits: RateLimits, limiter: Option<MemoryRateLimiter>) -> AuthState {
    let builder = AuthState::builder::<Auth>()
        .secret(SECRET)
        .store(MemoryStore::new())
        .password_hasher(hasher())
        .rate_limits(limits);
    match limiter {
        Some(limiter) => builder.rate_limiter(limiter),
        None => builder,
    }
    .build()
    .unwrap()
}

/// `request` as if it came from `peer` (what `into_make_service_with_connect_info` adds).
fn from(peer: &str, mut request: Request<Body>) -> Request<Body> {
    let addr: SocketAddr = peer.parse().unwrap();
    request.extensions_mut().insert(ConnectInfo(addr));
    request
}

fn login_request(email: &str, password: &str) -> Request<Body> {
    post_form("/auth/jwt/login", login_form(email, password))
}

async fn login(app: &Router, email: &str, password: &str) -> (StatusCode, HeaderMap, Value) {
    send(app, login_request(email, password)).await
}

fn retry_after(headers: &HeaderMap) -> u64 {
    headers
        .get(header::RETRY_AFTER)
        .expect("a 429 carries Retry-After")
        .to_str()
        .unwrap()
        .parse()
        .expect("Retry-After is a number of seconds")
}

/// Asserts a 429 in the documented shape; returns its `Retry-After`.
fn assert_too_many(answer: &(StatusCode, HeaderMap, Value), window: u64) -> u64 {
    assert_eq!(answer.0, StatusCode::TOO_MANY_REQUESTS, "{:?}", answer.2);
    assert_eq!(answer.2, json!({ "detail": "TOO_MANY_REQUESTS" }));
    let seconds = retry_after(&answer.1);
    assert!((1..=window).contains(&seconds), "Retry-After {seconds}");
    seconds
}

fn assert_bad_credentials(answer: &(StatusCode, HeaderMap, Value)) {
    assert_eq!(answer.0, StatusCode::BAD_REQUEST, "{:?}", answer.2);
    assert_eq!(answer.2, json!({ "detail": "LOGIN_BAD_CREDENTIALS" }));
    assert!(answer.1.get(header::RETRY_AFTER).is_none());
}

/// Header names of an answer, sorted (values such as `Retry-After` may differ by a second).
fn header_names(headers: &HeaderMap) -> Vec<String> {
    let mut names: Vec<String> = headers.keys().map(|k| k.as_str().to_owned()).collect();
    names.sort();
    names
}

#[tokio::test]
async fn five_failures_lock_the_account_even_for_the_right_password() {
    let state = memory_state();
    let app = app(&state);
    regular_user(&state, "victim@example.com").await;
    for _ in 0..5 {
        assert_bad_credentials(&login(&app, "victim@example.com", WRONG).await);
    }
    assert_too_many(&login(&app, "victim@example.com", PASSWORD).await, 15 * 60);
    // The account is the address, whatever its case or surrounding spaces.
    assert_too_many(&login(&app, " VICTIM@example.COM", PASSWORD).await, 15 * 60);
    // The cookie backend shares the counter.
    let cookie = send(
        &app,
        post_form(
            "/auth/cookie/login",
            login_form("victim@example.com", PASSWORD),
        ),
    )
    .await;
    assert_too_many(&cookie, 15 * 60);
    // Other accounts are not affected.
    regular_user(&state, "other@example.com").await;
    assert_eq!(
        login(&app, "other@example.com", PASSWORD).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn unknown_addresses_are_limited_identically() {
    let state = memory_state();
    let app = app(&state);
    regular_user(&state, "known@example.com").await;
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    for _ in 0..6 {
        known.push(login(&app, "known@example.com", WRONG).await);
        unknown.push(login(&app, "ghost@example.com", WRONG).await);
    }
    for (known, unknown) in known.iter().zip(&unknown) {
        assert_eq!(known.0, unknown.0);
        assert_eq!(known.2, unknown.2);
        assert_eq!(header_names(&known.1), header_names(&unknown.1));
    }
    assert_bad_credentials(&known[4]);
    assert_too_many(&known[5], 15 * 60);
    assert_too_many(&unknown[5], 15 * 60);
}

#[tokio::test]
async fn concurrent_guesses_get_exactly_the_allowance() {
    let state = memory_state();
    let app = app(&state);
    regular_user(&state, "victim@example.com").await;
    let guesses = (0..20).map(|n| {
        let app = app.clone();
        async move { login(&app, "victim@example.com", &format!("guess number {n}")).await }
    });
    let answers = futures::future::join_all(guesses).await;
    let checked = answers
        .iter()
        .filter(|a| a.0 == StatusCode::BAD_REQUEST)
        .count();
    let refused = answers
        .iter()
        .filter(|a| a.0 == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!((checked, refused), (5, 15));
}

#[tokio::test]
async fn a_successful_login_clears_the_account_counter() {
    let state = memory_state();
    let app = app(&state);
    regular_user(&state, "user@example.com").await;
    for _ in 0..4 {
        assert_bad_credentials(&login(&app, "user@example.com", WRONG).await);
    }
    assert_eq!(
        login(&app, "user@example.com", PASSWORD).await.0,
        StatusCode::OK
    );
    // Five fresh failures are allowed again (without the clear, the second would be refused).
    for _ in 0..5 {
        assert_bad_credentials(&login(&app, "user@example.com", WRONG).await);
    }
    assert_too_many(&login(&app, "user@example.com", WRONG).await, 15 * 60);
}

#[tokio::test]
async fn a_password_reset_clears_the_account_counter() {
    let state = memory_state();
    let app = app(&state);
    let user = regular_user(&state, "user@example.com").await;
    for _ in 0..5 {
        assert_bad_credentials(&login(&app, "user@example.com", WRONG).await);
    }
    assert_too_many(&login(&app, "user@example.com", PASSWORD).await, 15 * 60);
    let token = state.reset_token(&user).await.unwrap();
    let (status, _, body) = send(
        &app,
        post_json(
            "/auth/reset-password",
            &json!({ "token": token, "password": "a brand new password" }),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        login(&app, "user@example.com", "a brand new password")
            .await
            .0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn an_administrator_can_unlock_an_account() {
    let state = memory_state();
    let app = app(&state);
    regular_user(&state, "user@example.com").await;
    for _ in 0..5 {
        login(&app, "user@example.com", WRONG).await;
    }
    assert_too_many(&login(&app, "user@example.com", PASSWORD).await, 15 * 60);
    state.clear_login_limit("User@Example.com").await.unwrap();
    assert_eq!(
        login(&app, "user@example.com", PASSWORD).await.0,
        StatusCode::OK
    );
}

/// Waiting for as long as `Retry-After` says is enough. (The memory limiter's own tests move
/// a paused clock over a 15-minute window; this one sleeps through a 2-second window.)
#[tokio::test]
async fn the_lockout_ends_when_retry_after_says() {
    let limits = RateLimits {
        login_per_account: Some(Rate::new(2, 2)),
        ..RateLimits::OFF
    };
    let state = state_with(limits, None);
    let app = app(&state);
    regular_user(&state, "user@example.com").await;
    for _ in 0..2 {
        assert_bad_credentials(&login(&app, "user@example.com", WRONG).await);
    }
    let wait = assert_too_many(&login(&app, "user@example.com", PASSWORD).await, 2);
    tokio::time::sleep(Duration::from_secs(wait)).await;
    assert_eq!(
        login(&app, "user@example.com", PASSWORD).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn malformed_logins_do_not_count() {
    let state = memory_state();
    let app = app(&state);
    regular_user(&state, "user@example.com").await;
    for _ in 0..10 {
        let (status, _, _) = send(
            &app,
            post_form("/auth/jwt/login", "username=user%40example.com"),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    assert_eq!(
        login(&app, "user@example.com", PASSWORD).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn failed_logins_are_limited_per_client() {
    let limits = RateLimits {
        login_per_client: Some(Rate::new(3, 600)),
        ..RateLimits::DEFAULT
    };
    let state = state_with(limits, None);
    let app = app(&state);
    regular_user(&state, "user@example.com").await;
    // Successes are taken back: only failures count.
    for _ in 0..4 {
        let ok = send(
            &app,
            from(
                "198.51.100.1:1000",
                login_request("user@example.com", PASSWORD),
            ),
        )
        .await;
        assert_eq!(ok.0, StatusCode::OK);
    }
    // One guess each at many accounts: the client's counter stops the spray.
    for n in 0..3 {
        let email = format!("target{n}@example.com");
        assert_bad_credentials(
            &send(
                &app,
                from("198.51.100.1:1000", login_request(&email, WRONG)),
            )
            .await,
        );
    }
    let refused = send(
        &app,
        from(
            "198.51.100.1:2000",
            login_request("target9@example.com", WRONG),
        ),
    )
    .await;
    assert_too_many(&refused, 600);
    // Even the right password, from that client.
    let refused = send(
        &app,
        from(
            "198.51.100.1:2000",
            login_request("user@example.com", PASSWORD),
        ),
    )
    .await;
    assert_too_many(&refused, 600);
    // Another client is not affected; nor is a request without a known client address.
    let other = send(
        &app,
        from(
            "198.51.100.2:1000",
            login_request("user@example.com", PASSWORD),
        ),
    )
    .await;
    assert_eq!(other.0, StatusCode::OK);
    assert_eq!(
        login(&app, "user@example.com", PASSWORD).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn ipv6_clients_count_by_their_64() {
    let limits = RateLimits {
        login_per_client: Some(Rate::new(2, 600)),
        ..RateLimits::DEFAULT
    };
    let app = app(&state_with(limits, None));
    for (n, peer) in ["[2001:db8:0:1::1]:1", "[2001:db8:0:1::2]:1"]
        .iter()
        .enumerate()
    {
        let email = format!("t{n}@example.com");
        assert_bad_credentials(&send(&app, from(peer, login_request(&email, WRONG))).await);
    }
    let refused = send(
        &app,
        from(
            "[2001:db8:0:1:ffff::9]:1",
            login_request("t9@example.com", WRONG),
        ),
    )
    .await;
    assert_too_many(&refused, 600);
    let neighbour = send(
        &app,
        from(
            "[2001:db8:0:2::1]:1",
            login_request("t9@example.com", WRONG),
        ),
    )
    .await;
    assert_bad_credentials(&neighbour);
}

#[tokio::test]
async fn trusted_proxies_report_the_client_and_others_are_not_believed() {
    let limits = RateLimits {
        login_per_client: Some(Rate::new(2, 600)),
        ..RateLimits::DEFAULT
    };
    let state = AuthState::builder::<Auth>()
        .secret(SECRET)
        .store(MemoryStore::new())
        .password_hasher(hasher())
        .rate_limits(limits)
        .trusted_proxies(["10.0.0.0/8", "::1/128"])
        .build()
        .unwrap();
    let app = app(&state);
    let via_proxy = |client: &str, email: &str| {
        let mut request = from("10.1.2.3:5555", login_request(email, WRONG));
        request.headers_mut().insert(
            "x-forwarded-for",
            format!("6.6.6.6, {client}").parse().unwrap(),
        );
        request
    };
    assert_bad_credentials(&send(&app, via_proxy("203.0.113.5", "a@example.com")).await);
    assert_bad_credentials(&send(&app, via_proxy("203.0.113.5", "b@example.com")).await);
    assert_too_many(
        &send(&app, via_proxy("203.0.113.5", "c@example.com")).await,
        600,
    );
    // The proxy itself is not the client: another forwarded client is counted apart.
    assert_bad_credentials(&send(&app, via_proxy("203.0.113.6", "c@example.com")).await);
    assert_eq!(
        state.client_ip(&via_proxy("203.0.113.6", "x").into_parts().0),
        Some("203.0.113.6".parse().unwrap())
    );

    // An untrusted peer's X-Forwarded-For is ignored: rotating it does not help.
    let spoofed = |n: u32| {
        let mut request = from(
            "198.51.100.9:4000",
            login_request(&format!("s{n}@example.com"), WRONG),
        );
        request
            .headers_mut()
            .insert("x-forwarded-for", format!("192.0.2.{n}").parse().unwrap());
        request
    };
    assert_bad_credentials(&send(&app, spoofed(1)).await);
    assert_bad_credentials(&send(&app, spoofed(2)).await);
    assert_too_many(&send(&app, spoofed(3)).await, 600);
}

#[test]
fn a_bad_trusted_proxy_is_a_configuration_error() {
    for bad in ["10.0.0.0/33", "example.com", "10.0.0.0/x", ""] {
        let err = AuthState::builder::<Auth>()
            .secret(SECRET)
            .store(MemoryStore::new())
            .trusted_proxies([bad])
            .build()
            .unwrap_err();
        assert!(
            err.to_string().contains("invalid trusted proxy"),
            "{bad:?}: {err}"
        );
    }
}

fn register_request(email: &str) -> Request<Body> {
    post_json(
        "/auth/register",
        &json!({ "email": email, "password": PASSWORD }),
    )
}

#[tokio::test]
async fn registrations_are_limited_per_client() {
    let limits = RateLimits {
        register_per_client: Some(Rate::new(2, 3600)),
        ..RateLimits::DEFAULT
    };
    let app = app(&state_with(limits, None));
    for n in 0..2 {
        let (status, _, body) = send(
            &app,
            from(
                "198.51.100.1:1",
                register_request(&format!("u{n}@example.com")),
            ),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    assert_too_many(
        &send(
            &app,
            from("198.51.100.1:1", register_request("u9@example.com")),
        )
        .await,
        3600,
    );
    // An existing address gets the same 429: nothing is looked up.
    assert_too_many(
        &send(
            &app,
            from("198.51.100.1:1", register_request("u0@example.com")),
        )
        .await,
        3600,
    );
    let other = send(
        &app,
        from("198.51.100.2:1", register_request("u9@example.com")),
    )
    .await;
    assert_eq!(other.0, StatusCode::CREATED);
}

#[tokio::test]
async fn mail_requests_are_limited_per_address_alike_for_unknown_ones() {
    let state = memory_state();
    let app = app(&state);
    let user = regular_user(&state, "user@example.com").await;
    let mail = |path: &str, email: &str| post_json(path, &json!({ "email": email }));
    for email in ["user@example.com", "nobody@example.com"] {
        // forgot-password and request-verify-token share one counter per address.
        for n in 0..5 {
            let path = if n % 2 == 0 {
                "/auth/forgot-password"
            } else {
                "/auth/request-verify-token"
            };
            let (status, _, body) = send(&app, mail(path, email)).await;
            assert_eq!((status, body), (StatusCode::ACCEPTED, Value::Null));
        }
        for path in ["/auth/forgot-password", "/auth/request-verify-token"] {
            assert_too_many(&send(&app, mail(path, &email.to_uppercase())).await, 3600);
        }
    }
    // The lockout of mail does not touch logins.
    assert_eq!(login(&app, &user.email, PASSWORD).await.0, StatusCode::OK);
}

#[tokio::test]
async fn mail_requests_are_limited_per_client() {
    let limits = RateLimits {
        mail_per_client: Some(Rate::new(3, 3600)),
        ..RateLimits::DEFAULT
    };
    let app = app(&state_with(limits, None));
    for n in 0..3 {
        let request = post_json(
            "/auth/forgot-password",
            &json!({ "email": format!("m{n}@example.com") }),
        );
        assert_eq!(
            send(&app, from("198.51.100.1:1", request)).await.0,
            StatusCode::ACCEPTED
        );
    }
    let request = post_json(
        "/auth/request-verify-token",
        &json!({ "email": "m9@example.com" }),
    );
    assert_too_many(&send(&app, from("198.51.100.1:1", request)).await, 3600);
}

#[tokio::test]
async fn rate_limits_off_means_no_limit() {
    let app = app(&state_with(RateLimits::OFF, None));
    for n in 0..25 {
        assert_bad_credentials(
            &send(
                &app,
                from("198.51.100.1:1", login_request("victim@example.com", WRONG)),
            )
            .await,
        );
        let request = post_json(
            "/auth/forgot-password",
            &json!({ "email": "victim@example.com" }),
        );
        assert_eq!(
            send(&app, from("198.51.100.1:1", request)).await.0,
            StatusCode::ACCEPTED
        );
        let registered = send(
            &app,
            from(
                "198.51.100.1:1",
                register_request(&format!("r{n}@example.com")),
            ),
        )
        .await;
        assert_eq!(registered.0, StatusCode::CREATED);
    }
}

#[tokio::test]
async fn a_full_memory_limiter_refuses_new_subjects_and_stays_bounded() {
    let limits = RateLimits {
        login_per_account: Some(Rate::new(5, 900)),
        ..RateLimits::OFF
    };
    let limiter = MemoryRateLimiter::with_max_keys(4);
    let app = app(&state_with(limits, Some(limiter.clone())));
    for n in 0..4 {
        assert_bad_credentials(&login(&app, &format!("a{n}@example.com"), WRONG).await);
    }
    assert_too_many(&login(&app, "new@example.com", WRONG).await, 900);
    // Accounts already counted keep their own counters.
    assert_bad_credentials(&login(&app, "a0@example.com", WRONG).await);
    assert_eq!(limiter.len(), 4);
}

#[tokio::test]
async fn states_sharing_a_memory_limiter_count_together() {
    let limiter = MemoryRateLimiter::new();
    let one = app(&state_with(RateLimits::DEFAULT, Some(limiter.clone())));
    let two = app(&state_with(RateLimits::DEFAULT, Some(limiter)));
    for n in 0..5 {
        let app = if n % 2 == 0 { &one } else { &two };
        assert_bad_credentials(&login(app, "victim@example.com", WRONG).await);
    }
    assert_too_many(&login(&two, "victim@example.com", WRONG).await, 900);
}

/// A Redis limiter under a prefix of the test's own.
async fn redis_limiter(url: &str, prefix: &str) -> RedisRateLimiter {
    RedisRateLimiter::connect(url)
        .await
        .unwrap()
        .with_prefix(prefix)
}

async fn redis_conn(url: &str) -> redis::aio::MultiplexedConnection {
    redis::Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

async fn redis_key_list(url: &str, prefix: &str) -> Vec<String> {
    let mut keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query_async(&mut redis_conn(url).await)
        .await
        .unwrap();
    keys.sort();
    keys
}

fn redis_state(limiter: RedisRateLimiter, limits: RateLimits) -> AuthState {
    AuthState::builder::<Auth>()
        .secret(SECRET)
        .store(MemoryStore::new())
        .password_hasher(hasher())
        .rate_limits(limits)
        .rate_limiter(limiter)
        .build()
        .unwrap()
}

#[tokio::test]
async fn instances_sharing_redis_count_together_under_hashed_expiring_keys() {
    let Some(url) = services::redis().await else {
        return;
    };
    let prefix = services::unique_prefix();
    // Two instances, each with its own connection.
    let one = app(&redis_state(
        redis_limiter(&url, &prefix).await,
        RateLimits::DEFAULT,
    ));
    let limiter = redis_limiter(&url, &prefix).await;
    let two = app(&redis_state(limiter.clone(), RateLimits::DEFAULT));
    for n in 0..5 {
        let app = if n % 2 == 0 { &one } else { &two };
        let answer = send(
            app,
            from("198.51.100.7:1", login_request("Victim@Example.com", WRONG)),
        )
        .await;
        assert_bad_credentials(&answer);
    }
    assert_too_many(&login(&two, "victim@example.com", PASSWORD).await, 900);
    assert_too_many(&login(&one, "victim@example.com", WRONG).await, 900);

    let keys = redis_key_list(&url, &prefix).await;
    let mut expected = vec![
        limiter.key(limit::LOGIN_ACCOUNT, "victim@example.com"),
        limiter.key(limit::LOGIN_CLIENT, "198.51.100.7"),
    ];
    expected.sort();
    assert_eq!(keys, expected);
    for key in &keys {
        assert!(!key.contains("victim") && !key.contains("example") && !key.contains("198."));
        let mut conn = redis_conn(&url).await;
        let ttl: i64 = redis::cmd("TTL")
            .arg(key)
            .query_async(&mut conn)
            .await
            .unwrap();
        assert!((1..=900).contains(&ttl), "{key}: TTL {ttl}");
        let count: u64 = redis::cmd("GET")
            .arg(key)
            .query_async(&mut conn)
            .await
            .unwrap();
        assert!(count >= 5, "{key}: {count}");
    }
    let _: () = redis::cmd("DEL")
        .arg(&keys)
        .query_async(&mut redis_conn(&url).await)
        .await
        .unwrap();
}

#[tokio::test]
async fn redis_counters_clear_on_success_and_end_with_their_window() {
    let Some(url) = services::redis().await else {
        return;
    };
    let prefix = services::unique_prefix();
    let limits = RateLimits {
        login_per_account: Some(Rate::new(2, 2)),
        ..RateLimits::OFF
    };
    let limiter = redis_limiter(&url, &prefix).await;
    let state = redis_state(limiter.clone(), limits);
    let app = app(&state);
    regular_user(&state, "user@example.com").await;
    // A success clears the counter: the key is gone.
    assert_bad_credentials(&login(&app, "user@example.com", WRONG).await);
    assert_eq!(services::redis_keys(&url, &prefix).await, 1);
    assert_eq!(
        login(&app, "user@example.com", PASSWORD).await.0,
        StatusCode::OK
    );
    assert_eq!(services::redis_keys(&url, &prefix).await, 0);
    // Locked, then free again once the two-second window has passed.
    assert_bad_credentials(&login(&app, "user@example.com", WRONG).await);
    assert_bad_credentials(&login(&app, "user@example.com", WRONG).await);
    assert_too_many(&login(&app, "user@example.com", PASSWORD).await, 2);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        services::redis_keys(&url, &prefix).await,
        0,
        "the key expired"
    );
    assert_eq!(
        login(&app, "user@example.com", PASSWORD).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_redis_counter_that_lost_its_expiry_gets_it_back() {
    let Some(url) = services::redis().await else {
        return;
    };
    let prefix = services::unique_prefix();
    let limiter = redis_limiter(&url, &prefix).await;
    let key = limiter.key(limit::LOGIN_ACCOUNT, "user@example.com");
    let mut conn = redis_conn(&url).await;
    let _: () = redis::cmd("SET")
        .arg(&key)
        .arg(99)
        .query_async(&mut conn)
        .await
        .unwrap();
    let app = app(&redis_state(limiter, RateLimits::DEFAULT));
    assert_too_many(&login(&app, "user@example.com", WRONG).await, 900);
    let ttl: i64 = redis::cmd("TTL")
        .arg(&key)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!((1..=900).contains(&ttl), "TTL {ttl}");
    let _: () = redis::cmd("DEL")
        .arg(&key)
        .query_async(&mut conn)
        .await
        .unwrap();
}

#[tokio::test]
async fn an_unreachable_redis_limiter_answers_503() {
    let Some(url) = services::redis().await else {
        return;
    };
    let proxy = Proxy::start(&host_port(&url, 6379)).await;
    let limiter = RedisRateLimiter::connect(&proxy.url_for(&url))
        .await
        .unwrap()
        .with_prefix(services::unique_prefix())
        .with_timeout(Duration::from_millis(500));
    let state = redis_state(limiter, RateLimits::DEFAULT);
    let app = app(&state);
    regular_user(&state, "user@example.com").await;
    assert_eq!(
        login(&app, "user@example.com", PASSWORD).await.0,
        StatusCode::OK
    );
    proxy.set(Mode::Refuse);
    let unavailable = json!({ "detail": "SERVICE_UNAVAILABLE" });
    for request in [
        login_request("user@example.com", PASSWORD),
        post_json(
            "/auth/forgot-password",
            &json!({ "email": "user@example.com" }),
        ),
        post_json(
            "/auth/request-verify-token",
            &json!({ "email": "user@example.com" }),
        ),
    ] {
        let (status, _, body) = send(&app, request).await;
        assert_eq!(
            (status, body),
            (StatusCode::SERVICE_UNAVAILABLE, unavailable.clone())
        );
    }
    let (status, _, _) = send(
        &app,
        from("198.51.100.1:1", register_request("n@example.com")),
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    // Service resumes by itself.
    proxy.set(Mode::Forward);
    let mut status = StatusCode::SERVICE_UNAVAILABLE;
    for _ in 0..20 {
        status = login(&app, "user@example.com", PASSWORD).await.0;
        if status == StatusCode::OK {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_limiter_on_a_closed_port_answers_503() {
    let limiter = RedisRateLimiter::connect_lazy("redis://127.0.0.1:1")
        .unwrap()
        .with_timeout(Duration::from_millis(500));
    let app = app(&redis_state(limiter, RateLimits::DEFAULT));
    let (status, _, body) = login(&app, "user@example.com", PASSWORD).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::SERVICE_UNAVAILABLE,
            json!({ "detail": "SERVICE_UNAVAILABLE" })
        )
    );
}
