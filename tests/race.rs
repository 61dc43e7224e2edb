//! Registration race: 50 concurrent registrations of one e-mail address, in 50 different
//! spellings of its case, through the real router: exactly one 201, 49 × 400
//! `REGISTER_USER_ALREADY_EXISTS`, one row — on a SQLite file and on PostgreSQL.

mod common;

use std::sync::Arc;

use axum::http::StatusCode;
use axum::Router;
use axum_users::prelude::*;
use common::services;
use serde_json::json;

const ADDRESS: &str = "race.condition@example.com";
const RACERS: usize = 50;

/// `address` with the case of its letters flipped according to the bits of `n` (letter `i`
/// upper-cased when bit `i mod 32` of `n` is set): 50 distinct spellings of one address.
fn spelling(address: &str, n: usize) -> String {
    let mut letter = 0;
    address
        .chars()
        .map(|c| {
            if !c.is_ascii_alphabetic() {
                return c;
            }
            letter += 1;
            if (n >> ((letter - 1) % 32)) & 1 == 1 {
                c.to_ascii_uppercase()
            } else {
                c
            }
        })
        .collect()
}

/// Fires [`RACERS`] registrations at once (all released by one barrier) and checks the answers.
async fn race(app: Router) -> Vec<String> {
    let spellings: Vec<String> = (0..RACERS)
        .map(|n| spelling(ADDRESS, n * 0x9E37 + n))
        .collect();
    let distinct: std::collections::HashSet<&String> = spellings.iter().collect();
    assert_eq!(distinct.len(), RACERS, "50 different spellings");
    let barrier = Arc::new(tokio::sync::Barrier::new(RACERS));
    let racers: Vec<_> = spellings
        .iter()
        .cloned()
        .map(|email| {
            let app = app.clone();
            let barrier = barrier.clone();
            tokio::spawn(async move {
                let request = common::post_json(
                    "/auth/register",
                    &json!({"email": email, "password": common::PASSWORD}),
                );
                barrier.wait().await;
                common::send(&app, request).await
            })
        })
        .collect();
    let mut created = Vec::new();
    let mut refused = 0;
    for racer in racers {
        let (status, _, body) = racer.await.unwrap();
        match status {
            StatusCode::CREATED => created.push(body["email"].as_str().unwrap().to_owned()),
            StatusCode::BAD_REQUEST => {
                assert_eq!(body, json!({"detail": "REGISTER_USER_ALREADY_EXISTS"}));
                refused += 1;
            }
            other => panic!("unexpected answer {other}: {body}"),
        }
    }
    assert_eq!(
        created.len(),
        1,
        "exactly one registration wins: {created:?}"
    );
    assert_eq!(refused, RACERS - 1);
    // The winner's spelling, domain lower-cased.
    assert!(
        spellings
            .iter()
            .any(|s| s.to_lowercase() == created[0].to_lowercase()),
        "{created:?}"
    );
    created
}

/// After the race: every spelling finds the one user, and the user can log in.
async fn one_user(state: &AuthState, app: &Router, created: &str) {
    for n in [0, 7, 1 << 20] {
        let user = state
            .store()
            .get_by_email(&spelling(ADDRESS, n))
            .await
            .unwrap()
            .expect("the user is found whatever the case");
        assert_eq!(user.email, created);
    }
    common::login_jwt(app, &ADDRESS.to_uppercase(), common::PASSWORD).await;
}

fn state_over(store: impl UserStore) -> AuthState {
    AuthState::builder::<common::Auth>()
        .secret(common::SECRET)
        .store(store)
        .password_hasher(common::hasher())
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_registrations_of_one_address_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("race.db").display());
    let store = SqliteStore::connect(&url).await.unwrap();
    let pool = store.pool().clone();
    let state = state_over(store);
    let app = common::app(&state);
    let created = race(app.clone()).await;
    let rows: i64 = sqlx::query_scalar(r#"SELECT COUNT(*) FROM "user""#)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(rows, 1);
    one_user(&state, &app, &created[0]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_registrations_of_one_address_on_postgres() {
    let Some(schema) = services::postgres().await else {
        return;
    };
    let store = PgStore::connect(&schema.url).await.unwrap();
    let state = state_over(store);
    let app = common::app(&state);
    let created = race(app.clone()).await;
    let rows: i64 = sqlx::query_scalar(r#"SELECT COUNT(*) FROM "user""#)
        .fetch_one(&schema.pool)
        .await
        .unwrap();
    assert_eq!(rows, 1);
    one_user(&state, &app, &created[0]).await;
}

#[test]
fn spellings_differ_only_in_case() {
    assert_eq!(spelling("ab@c.de", 0), "ab@c.de");
    assert_eq!(spelling("ab@c.de", 0b101), "Ab@C.de");
    assert_eq!(
        spelling(ADDRESS, 12345).to_lowercase(),
        ADDRESS.to_lowercase()
    );
}
