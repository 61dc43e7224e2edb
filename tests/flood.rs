//! A flood of concurrent logins against a bounded hashing pool: the excess is shed with 503,
//! the admitted logins are checked, and guarded routes keep answering meanwhile.
//! (Memory and latency figures under a real 500-login flood: `bench/security.sh flood`.)

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use axum::http::StatusCode;
use axum_users::prelude::*;
use axum_users::RateLimits;
use common::*;
use serde_json::json;

const FLOOD: usize = 500;
const SLOTS: usize = 1;
const WAITING: usize = 8;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_flood_is_bounded_and_guarded_routes_stay_responsive() {
    // ~70 ms a hash: slow enough that 500 requests arrive while the first ones hash.
    let hasher = PasswordHasher::with_params(32 * 1024, 2, 1)
        .unwrap()
        .max_concurrency(SLOTS)
        .max_waiting(WAITING);
    let state = AuthState::builder::<Auth>()
        .secret(SECRET)
        .store(MemoryStore::new())
        .password_hasher(hasher)
        // The limits would answer most of the flood with 429 before any hashing; the pool is
        // what is tested here.
        .rate_limits(RateLimits::OFF)
        .build()
        .unwrap();
    let app = app(&state);
    let (status, _, _) = send(
        &app,
        post_json(
            "/auth/register",
            &json!({"email": "victim@example.com", "password": PASSWORD}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _, body) = send(
        &app,
        post_form(
            "/auth/jwt/login",
            login_form("victim@example.com", PASSWORD),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let token = body["access_token"].as_str().unwrap().to_owned();

    let flood_over = Arc::new(AtomicBool::new(false));
    let probes_during_flood = Arc::new(AtomicUsize::new(0));
    let probe = {
        let (app, token) = (app.clone(), token.clone());
        let (flood_over, probes) = (flood_over.clone(), probes_during_flood.clone());
        tokio::spawn(async move {
            while !flood_over.load(Ordering::Acquire) {
                let (status, _, body) = send(&app, get_with("/users/me", Some(&token), None)).await;
                assert_eq!(status, StatusCode::OK, "{body}");
                assert_eq!(body["email"], "victim@example.com");
                if !flood_over.load(Ordering::Acquire) {
                    probes.fetch_add(1, Ordering::AcqRel);
                }
                tokio::task::yield_now().await;
            }
        })
    };
    let logins: Vec<_> = (0..FLOOD)
        .map(|i| {
            let app = app.clone();
            tokio::spawn(async move {
                send(
                    &app,
                    post_form(
                        "/auth/jwt/login",
                        login_form("victim@example.com", &format!("wrong password {i}")),
                    ),
                )
                .await
            })
        })
        .collect();
    let mut checked = 0;
    let mut shed = 0;
    for login in logins {
        let (status, _, body) = login.await.unwrap();
        match status {
            StatusCode::BAD_REQUEST => {
                assert_eq!(body, json!({"detail": "LOGIN_BAD_CREDENTIALS"}));
                checked += 1;
            }
            StatusCode::SERVICE_UNAVAILABLE => {
                assert_eq!(body, json!({"detail": "SERVICE_UNAVAILABLE"}));
                shed += 1;
            }
            other => panic!("unexpected answer to a flooding login: {other} {body}"),
        }
    }
    flood_over.store(true, Ordering::Release);
    probe.await.unwrap();

    // The first login takes the slot and the next WAITING queue: those are always checked.
    assert!(
        checked > SLOTS + WAITING - 1,
        "checked {checked}, shed {shed}"
    );
    assert!(
        shed > 0,
        "a full queue must shed: checked {checked}, shed {shed}"
    );
    assert_eq!(checked + shed, FLOOD);
    let probes = probes_during_flood.load(Ordering::Acquire);
    assert!(
        probes >= 10,
        "the guarded route must keep answering during the flood (answered {probes} times)"
    );

    // Afterwards the pool is free again: the right password logs in.
    let (status, _, _) = send(
        &app,
        post_form(
            "/auth/jwt/login",
            login_form("victim@example.com", PASSWORD),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}
