//! One suite for every [`UserStore`] (MemoryStore, SqliteStore in memory and in a file,
//! PgStore) and one for every [`TokenStore`] (MemoryTokenStore, SqliteStore, PgStore), plus what
//! is particular to the SQL stores: fastapi-users' layout, custom fields, concurrent migrations
//! and time limits.

#[path = "common/services.rs"]
#[allow(dead_code)]
mod services;

use std::sync::Arc;
use std::time::Duration;

use axum_users::{
    CreateError, Field, FieldKind, MemoryStore, MemoryTokenStore, SqliteStore, TokenStore, User,
    UserStore,
};
use serde_json::json;
use sqlx::{PgPool, SqlitePool};
use uuid::Uuid;

/// Where a store keeps its rows, for the checks that look at them directly.
#[derive(Clone)]
#[cfg_attr(not(feature = "postgres"), allow(dead_code))]
enum Backing {
    Memory,
    Sqlite(SqlitePool),
    Pg(PgPool),
}

impl Backing {
    /// How many rows hold `email`, compared case-insensitively (`None` for the memory store).
    async fn count_email(&self, email: &str) -> Option<i64> {
        let sql = r#"SELECT count(*) FROM "user" WHERE lower(email) = lower($1)"#;
        Some(match self {
            Backing::Memory => return None,
            Backing::Sqlite(pool) => sqlx::query_scalar(sql)
                .bind(email)
                .fetch_one(pool)
                .await
                .unwrap(),
            Backing::Pg(pool) => sqlx::query_scalar(sql)
                .bind(email)
                .fetch_one(pool)
                .await
                .unwrap(),
        })
    }

    /// Inserts a token row written `age` seconds ago, as fastapi-users writes it (SQLite:
    /// naive UTC text with microseconds); `false` for the memory store.
    async fn insert_token(&self, token: &str, user: Uuid, age: i64) -> bool {
        match self {
            Backing::Memory => return false,
            Backing::Sqlite(pool) => sqlx::query(
                "INSERT INTO accesstoken (token, created_at, user_id) \
                 VALUES ($1, strftime('%Y-%m-%d %H:%M:%S', 'now', $2) || '.123456', $3)",
            )
            .bind(token)
            .bind(format!("-{age} seconds"))
            .bind(user.to_string())
            .execute(pool)
            .await
            .map(drop)
            .unwrap(),
            Backing::Pg(pool) => sqlx::query(
                "INSERT INTO accesstoken (token, created_at, user_id) \
                 VALUES ($1, now() - make_interval(secs => $2), $3)",
            )
            .bind(token)
            .bind(age as f64)
            .bind(user)
            .execute(pool)
            .await
            .map(drop)
            .unwrap(),
        };
        true
    }
}

fn user(email: &str) -> User {
    User::new(email, "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA")
}

fn already_exists<T: std::fmt::Debug>(result: Result<T, CreateError>) -> bool {
    match result {
        Err(CreateError::AlreadyExists) => true,
        Err(CreateError::Store(err)) => panic!("store error instead of AlreadyExists: {err}"),
        Ok(value) => panic!("expected AlreadyExists, got {value:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// The UserStore suite.

async fn user_store_suite(store: Arc<dyn UserStore>, backing: Backing) {
    crud(&*store).await;
    case_insensitive_emails(&*store, &backing).await;
    missing_users(&*store).await;
    concurrent_creates(store.clone(), &backing).await;
    concurrent_updates(store, &backing).await;
}

async fn crud(store: &dyn UserStore) {
    let created = store.create(user("crud@example.com")).await.unwrap();
    let got = store.get(created.id).await.unwrap().expect("created user");
    assert_eq!(got, created);
    assert_eq!(
        store.get_by_email("crud@example.com").await.unwrap(),
        Some(created.clone())
    );

    let mut changed = got.clone();
    changed.email = "Crud.Renamed@example.com".into();
    changed.hashed_password = "$2b$12$other".into();
    changed.is_active = false;
    changed.is_superuser = true;
    changed.is_verified = true;
    assert!(store.update(&changed).await.unwrap());
    assert_eq!(store.get(created.id).await.unwrap(), Some(changed.clone()));
    assert_eq!(store.get_by_email("crud@example.com").await.unwrap(), None);
    assert_eq!(
        store
            .get_by_email("crud.renamed@example.com")
            .await
            .unwrap(),
        Some(changed.clone())
    );
    // Changing only the case of one's own address is the store's business: allowed.
    changed.email = "CRUD.RENAMED@example.com".into();
    assert!(store.update(&changed).await.unwrap());

    assert!(store.delete(created.id).await.unwrap());
    assert_eq!(store.get(created.id).await.unwrap(), None);
    assert_eq!(
        store
            .get_by_email("crud.renamed@example.com")
            .await
            .unwrap(),
        None
    );
    assert!(!store.delete(created.id).await.unwrap());
}

async fn case_insensitive_emails(store: &dyn UserStore, backing: &Backing) {
    let first = store.create(user("Case.Test@Example.com")).await.unwrap();
    for variant in [
        "case.test@example.com",
        "CASE.TEST@EXAMPLE.COM",
        "Case.Test@Example.com",
    ] {
        let found = store.get_by_email(variant).await.unwrap();
        assert_eq!(found.map(|u| u.id), Some(first.id), "lookup of {variant}");
        assert!(already_exists(store.create(user(variant)).await));
    }
    // The same id twice is refused too.
    let mut same_id = user("other.address@example.com");
    same_id.id = first.id;
    assert!(already_exists(store.create(same_id).await));
    if let Some(count) = backing.count_email("case.test@example.com").await {
        assert_eq!(count, 1);
    }

    // Update onto another user's address, in another case.
    let second = store.create(user("second@example.com")).await.unwrap();
    let mut taking = second.clone();
    taking.email = "CASE.test@example.COM".into();
    assert!(already_exists(store.update(&taking).await));
    assert_eq!(store.get(second.id).await.unwrap(), Some(second.clone()));
    assert_eq!(
        store
            .get_by_email("case.test@example.com")
            .await
            .unwrap()
            .map(|u| u.id),
        Some(first.id)
    );
}

async fn missing_users(store: &dyn UserStore) {
    let ghost = user("ghost@example.com");
    assert_eq!(store.get(ghost.id).await.unwrap(), None);
    assert_eq!(store.get_by_email("ghost@example.com").await.unwrap(), None);
    assert!(!store.update(&ghost).await.unwrap());
    assert!(!store.delete(ghost.id).await.unwrap());
    // Updating a missing user never inserts it, whatever its address.
    store.create(user("taken@example.com")).await.unwrap();
    let mut ghost_taken = user("TAKEN@example.com");
    assert!(!store.update(&ghost_taken).await.unwrap());
    ghost_taken.email = "ghost2@example.com".into();
    assert!(!store.update(&ghost_taken).await.unwrap());
    assert_eq!(store.get(ghost_taken.id).await.unwrap(), None);
}

/// 50 concurrent registrations of one address in different cases: one wins.
async fn concurrent_creates(store: Arc<dyn UserStore>, backing: &Backing) {
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let store = store.clone();
            let email = match i % 3 {
                0 => "race@example.com",
                1 => "Race@Example.com",
                _ => "RACE@EXAMPLE.COM",
            };
            tokio::spawn(async move { store.create(user(email)).await })
        })
        .collect();
    let (mut created, mut refused) = (0, 0);
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => created += 1,
            Err(CreateError::AlreadyExists) => refused += 1,
            Err(CreateError::Store(err)) => panic!("store error during the race: {err}"),
        }
    }
    assert_eq!((created, refused), (1, 49));
    if let Some(count) = backing.count_email("race@example.com").await {
        assert_eq!(count, 1);
    }
}

/// 20 users concurrently taking one new address: one wins.
async fn concurrent_updates(store: Arc<dyn UserStore>, backing: &Backing) {
    let mut users = Vec::new();
    for i in 0..20 {
        users.push(
            store
                .create(user(&format!("mover{i}@example.com")))
                .await
                .unwrap(),
        );
    }
    let tasks: Vec<_> = users
        .into_iter()
        .enumerate()
        .map(|(i, mut moving)| {
            let store = store.clone();
            moving.email = if i % 2 == 0 {
                "target@example.com".into()
            } else {
                "TARGET@Example.com".into()
            };
            tokio::spawn(async move { store.update(&moving).await })
        })
        .collect();
    let (mut moved, mut refused) = (0, 0);
    for task in tasks {
        match task.await.unwrap() {
            Ok(true) => moved += 1,
            Ok(false) => panic!("an existing user was not found"),
            Err(CreateError::AlreadyExists) => refused += 1,
            Err(CreateError::Store(err)) => panic!("store error during the race: {err}"),
        }
    }
    assert_eq!((moved, refused), (1, 19));
    if let Some(count) = backing.count_email("target@example.com").await {
        assert_eq!(count, 1);
    }
}

// ---------------------------------------------------------------------------------------------
// The TokenStore suite. `users` makes the owners (the SQL tables have a foreign key).

async fn token_store_suite(tokens: &dyn TokenStore, users: &dyn UserStore, backing: Backing) {
    let alice = users.create(user("alice@example.com")).await.unwrap().id;
    let bob = users.create(user("bob@example.com")).await.unwrap().id;

    // write / read
    let token = axum_users::generate_token();
    assert_eq!(tokens.read(&token, 3600).await.unwrap(), None);
    tokens.write(&token, alice, 3600).await.unwrap();
    assert_eq!(tokens.read(&token, 3600).await.unwrap(), Some(alice));
    assert_eq!(tokens.read("unknown-token", 3600).await.unwrap(), None);

    // expiry by lifetime
    if backing.insert_token("old-token", alice, 7200).await {
        assert_eq!(tokens.read("old-token", 3600).await.unwrap(), None);
        assert_eq!(tokens.read("old-token", 7300).await.unwrap(), Some(alice));
        assert!(backing.insert_token("recent-token", alice, 60).await);
        assert_eq!(
            tokens.read("recent-token", 3600).await.unwrap(),
            Some(alice)
        );
        assert_eq!(tokens.read("recent-token", 30).await.unwrap(), None);
        // Absurd lifetimes are clamped, not an error.
        assert_eq!(
            tokens.read("old-token", u64::MAX).await.unwrap(),
            Some(alice)
        );
    } else {
        tokens.write("short-token", alice, 1).await.unwrap();
        tokio::time::sleep(Duration::from_millis(1100)).await;
        assert_eq!(tokens.read("short-token", 1).await.unwrap(), None);
    }

    // destroy
    tokens.destroy(&token).await.unwrap();
    assert_eq!(tokens.read(&token, 3600).await.unwrap(), None);
    tokens.destroy(&token).await.unwrap();

    // destroy_all only touches that user
    for i in 0..3 {
        tokens
            .write(&format!("alice-{i}"), alice, 3600)
            .await
            .unwrap();
    }
    tokens.write("bob-0", bob, 3600).await.unwrap();
    let removed = tokens.destroy_all(alice).await.unwrap();
    let expected_min = 3;
    assert!(
        removed >= expected_min,
        "destroy_all removed {removed} tokens"
    );
    for i in 0..3 {
        assert_eq!(
            tokens.read(&format!("alice-{i}"), 3600).await.unwrap(),
            None
        );
    }
    assert_eq!(tokens.read("bob-0", 3600).await.unwrap(), Some(bob));
    assert_eq!(tokens.destroy_all(alice).await.unwrap(), 0);

    // A deleted user's tokens go with it (SQL: ON DELETE CASCADE).
    if !matches!(backing, Backing::Memory) {
        assert!(users.delete(bob).await.unwrap());
        assert_eq!(tokens.read("bob-0", 3600).await.unwrap(), None);
        assert_eq!(tokens.destroy_all(bob).await.unwrap(), 0);
    }
}

// ---------------------------------------------------------------------------------------------
// Custom fields (SQL stores).

const FIELDS: &[Field] = &[
    Field::optional("display_name", FieldKind::Text),
    Field::required("age", FieldKind::Integer),
    Field::optional("score", FieldKind::Float),
    Field::required("newsletter", FieldKind::Boolean),
];

/// `again`: another store that declared the same fields once more (which changes nothing).
async fn custom_fields_suite(old: User, after: &dyn UserStore, again: &dyn UserStore) {
    // A user created before the columns existed gets the defaults of the required ones.
    let old = after.get(old.id).await.unwrap().unwrap();
    assert_eq!(
        serde_json::Value::Object(old.fields.clone()),
        json!({"display_name": null, "age": 0, "score": null, "newsletter": false})
    );

    let mut new = user("fields@example.com");
    new.fields = json!({"display_name": "Ada", "age": 36, "score": 2.5, "newsletter": true})
        .as_object()
        .unwrap()
        .clone();
    let created = after.create(new.clone()).await.unwrap();
    let got = after.get_by_email("FIELDS@example.com").await.unwrap();
    assert_eq!(got.as_ref(), Some(&created));
    assert_eq!(got.unwrap().fields, new.fields);

    let mut changed = created.clone();
    changed.fields = json!({"display_name": null, "age": 37, "score": null, "newsletter": false})
        .as_object()
        .unwrap()
        .clone();
    assert!(after.update(&changed).await.unwrap());
    assert_eq!(after.get(created.id).await.unwrap(), Some(changed));
    assert_eq!(
        again.get(created.id).await.unwrap(),
        after.get(created.id).await.unwrap()
    );
}

// ---------------------------------------------------------------------------------------------
// Memory

#[tokio::test]
async fn memory_user_store() {
    user_store_suite(Arc::new(MemoryStore::new()), Backing::Memory).await;
}

#[tokio::test]
async fn memory_token_store() {
    token_store_suite(
        &MemoryTokenStore::new(),
        &MemoryStore::new(),
        Backing::Memory,
    )
    .await;
}

// ---------------------------------------------------------------------------------------------
// SQLite

async fn sqlite_file() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("users.db").display());
    (dir, url)
}

#[tokio::test]
async fn sqlite_in_memory_user_store() {
    let store = SqliteStore::connect("sqlite::memory:").await.unwrap();
    let backing = Backing::Sqlite(store.pool().clone());
    user_store_suite(Arc::new(store), backing).await;
}

#[tokio::test]
async fn sqlite_file_user_store() {
    let (_dir, url) = sqlite_file().await;
    let store = SqliteStore::connect(&url).await.unwrap();
    let backing = Backing::Sqlite(store.pool().clone());
    user_store_suite(Arc::new(store), backing).await;
}

#[tokio::test]
async fn sqlite_in_memory_token_store() {
    let store = SqliteStore::connect("sqlite::memory:").await.unwrap();
    token_store_suite(&store, &store, Backing::Sqlite(store.pool().clone())).await;
}

#[tokio::test]
async fn sqlite_file_token_store() {
    let (_dir, url) = sqlite_file().await;
    let store = SqliteStore::connect(&url).await.unwrap();
    token_store_suite(&store, &store, Backing::Sqlite(store.pool().clone())).await;
}

#[tokio::test]
async fn sqlite_custom_fields() {
    let (_dir, file) = sqlite_file().await;
    for url in ["sqlite::memory:".to_owned(), file] {
        let before = SqliteStore::connect(&url).await.unwrap();
        let old = before.create(user("old@example.com")).await.unwrap();
        let after = before.with_fields(FIELDS).await.unwrap();
        let again = after.clone().with_fields(FIELDS).await.unwrap();
        custom_fields_suite(old, &after, &again).await;
    }
}

#[tokio::test]
async fn sqlite_token_rows_use_sqlalchemy_text_format() {
    let store = SqliteStore::connect("sqlite::memory:").await.unwrap();
    let owner = store.create(user("fmt@example.com")).await.unwrap();
    store.write("fmt-token", owner.id, 3600).await.unwrap();
    let (created_at, user_id): (String, String) =
        sqlx::query_as("SELECT created_at, user_id FROM accesstoken WHERE token = 'fmt-token'")
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!(user_id, owner.id.hyphenated().to_string());
    let (date, time) = created_at
        .split_once(' ')
        .expect("a space between date and time");
    assert_eq!(date.len(), 10, "{created_at}");
    assert_eq!(time.len(), 15, "{created_at}: HH:MM:SS.ffffff");
    assert_eq!(&time[8..9], ".");
    assert!(time[9..].bytes().all(|b| b.is_ascii_digit()));
}

/// The database fastapi-users wrote (no `accesstoken` table yet): the table is added, its users
/// get tokens, and deleting one of them removes its tokens.
#[tokio::test]
async fn sqlite_fastapi_users_database_gets_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("fastapi_users.db");
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/fastapi_users/fastapi_users.db"
        ),
        &db,
    )
    .unwrap();
    let store = SqliteStore::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    let id: String = sqlx::query_scalar(r#"SELECT id FROM "user" LIMIT 1"#)
        .fetch_one(store.pool())
        .await
        .unwrap();
    let owner = Uuid::parse_str(&id).unwrap();
    assert!(store.get(owner).await.unwrap().is_some());
    let backing = Backing::Sqlite(store.pool().clone());
    assert!(backing.insert_token("written-by-python", owner, 10).await);
    assert_eq!(
        store.read("written-by-python", 3600).await.unwrap(),
        Some(owner)
    );
    store.write("written-by-us", owner, 3600).await.unwrap();
    assert!(store.delete(owner).await.unwrap());
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM accesstoken")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(left, 0);
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL (skipped when it is unreachable, failing under CI)

#[cfg(feature = "postgres")]
mod pg {
    use super::*;
    use axum_users::{PgStore, PgStoreOptions, StoreError};
    use std::time::Instant;

    #[tokio::test]
    async fn pg_user_store() {
        let Some(pg) = services::postgres().await else {
            return;
        };
        let store = PgStore::connect(&pg.url).await.unwrap();
        user_store_suite(Arc::new(store), Backing::Pg(pg.pool.clone())).await;
    }

    #[tokio::test]
    async fn pg_token_store() {
        let Some(pg) = services::postgres().await else {
            return;
        };
        let store = PgStore::connect(&pg.url).await.unwrap();
        token_store_suite(&store, &store, Backing::Pg(pg.pool.clone())).await;
    }

    #[tokio::test]
    async fn pg_custom_fields() {
        let Some(pg) = services::postgres().await else {
            return;
        };
        let before = PgStore::connect(&pg.url).await.unwrap();
        let old = before.create(user("old@example.com")).await.unwrap();
        let after = before.with_fields(FIELDS).await.unwrap();
        let again = PgStore::connect(&pg.url)
            .await
            .unwrap()
            .with_fields(FIELDS)
            .await
            .unwrap();
        custom_fields_suite(old, &after, &again).await;
    }

    /// The tables are what fastapi-users' SQLAlchemy adapter creates on PostgreSQL.
    #[tokio::test]
    async fn pg_layout_is_fastapi_users() {
        let Some(pg) = services::postgres().await else {
            return;
        };
        PgStore::connect(&pg.url).await.unwrap();
        let columns: Vec<(String, String, String, Option<i32>)> = sqlx::query_as(
            "SELECT table_name::text, column_name::text, data_type::text, character_maximum_length \
             FROM information_schema.columns WHERE table_schema = current_schema() \
             ORDER BY table_name, ordinal_position",
        )
        .fetch_all(&pg.pool)
        .await
        .unwrap();
        let columns: Vec<_> = columns
            .iter()
            .map(|(t, c, d, l)| {
                format!(
                    "{t}.{c} {d}{}",
                    l.map(|l| format!("({l})")).unwrap_or_default()
                )
            })
            .collect();
        assert_eq!(
            columns,
            [
                "accesstoken.user_id uuid",
                "accesstoken.token character varying(43)",
                "accesstoken.created_at timestamp with time zone",
                "user.id uuid",
                "user.email character varying(320)",
                "user.hashed_password character varying(1024)",
                "user.is_active boolean",
                "user.is_superuser boolean",
                "user.is_verified boolean",
            ]
        );
        let indexes: Vec<String> = sqlx::query_scalar(
            "SELECT indexname::text FROM pg_indexes WHERE schemaname = current_schema() ORDER BY 1",
        )
        .fetch_all(&pg.pool)
        .await
        .unwrap();
        assert_eq!(
            indexes,
            [
                "accesstoken_pkey",
                "ix_accesstoken_created_at",
                "ix_user_email",
                "ix_user_email_lower",
                "user_pkey",
            ]
        );
        let delete_rule: String = sqlx::query_scalar(
            "SELECT delete_rule::text FROM information_schema.referential_constraints \
             WHERE constraint_schema = current_schema()",
        )
        .fetch_one(&pg.pool)
        .await
        .unwrap();
        assert_eq!(delete_rule, "CASCADE");
    }

    /// A schema fastapi-users made, holding two addresses differing only in case: the store
    /// starts (without the case-insensitive index) and still refuses a third variant.
    #[tokio::test]
    async fn pg_existing_fastapi_users_schema_with_case_duplicates() {
        let Some(pg) = services::postgres().await else {
            return;
        };
        for statement in [
            r#"CREATE TABLE "user" (id UUID NOT NULL, email VARCHAR(320) NOT NULL,
               hashed_password VARCHAR(1024) NOT NULL, is_active BOOLEAN NOT NULL,
               is_superuser BOOLEAN NOT NULL, is_verified BOOLEAN NOT NULL, PRIMARY KEY (id))"#,
            r#"CREATE UNIQUE INDEX ix_user_email ON "user" (email)"#,
            r#"INSERT INTO "user" VALUES (gen_random_uuid(), 'dup@example.com', 'h', true, false, false),
               (gen_random_uuid(), 'DUP@example.com', 'h', true, false, false)"#,
            r#"CREATE TABLE accesstoken (user_id UUID NOT NULL, token VARCHAR(43) NOT NULL,
               created_at TIMESTAMP WITH TIME ZONE NOT NULL, PRIMARY KEY (token),
               FOREIGN KEY(user_id) REFERENCES "user" (id) ON DELETE cascade)"#,
            "CREATE INDEX ix_accesstoken_created_at ON accesstoken (created_at)",
            // A token fastapi-users wrote ten minutes ago, from a client in another time zone.
            r#"INSERT INTO accesstoken SELECT id, 'python-token',
               (((now() - interval '10 minutes') AT TIME ZONE 'Asia/Tokyo') || '+09')::timestamptz
               FROM "user" WHERE email = 'dup@example.com'"#,
        ] {
            sqlx::query(statement).execute(&pg.pool).await.unwrap();
        }
        let store = PgStore::connect(&pg.url).await.unwrap();
        assert!(store
            .get_by_email("Dup@Example.com")
            .await
            .unwrap()
            .is_some());
        assert!(already_exists(store.create(user("dUP@example.com")).await));
        let owner = store
            .read("python-token", 3600)
            .await
            .unwrap()
            .expect("its token");
        assert_eq!(store.read("python-token", 300).await.unwrap(), None);
        assert!(store.delete(owner).await.unwrap());
        assert_eq!(store.read("python-token", 3600).await.unwrap(), None);
        let lower_index: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema() \
             AND indexname = 'ix_user_email_lower'",
        )
        .fetch_one(&pg.pool)
        .await
        .unwrap();
        assert_eq!(lower_index, 0);
    }

    /// Several processes starting at once on an empty schema all migrate it.
    #[tokio::test]
    async fn pg_concurrent_connects_on_one_schema() {
        let Some(pg) = services::postgres().await else {
            return;
        };
        let connects: Vec<_> = (0..4)
            .map(|_| {
                let url = pg.url.clone();
                tokio::spawn(async move { PgStore::connect(&url).await?.with_fields(FIELDS).await })
            })
            .collect();
        for connect in connects {
            let store = connect.await.unwrap().expect("a concurrent connect");
            assert!(store
                .get_by_email("nobody@example.com")
                .await
                .unwrap()
                .is_none());
        }
    }

    /// A server that accepts connections and never answers: an error in bounded time, no hang.
    #[tokio::test]
    async fn pg_unresponsive_server_fails_in_bounded_time() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let silent = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                held.push(socket);
            }
        });
        let url = format!("postgres://postgres@{addr}/test");
        // The defaults: 3 s to get a connection.
        let started = Instant::now();
        let result = tokio::time::timeout(Duration::from_secs(15), PgStore::connect(&url))
            .await
            .expect("PgStore::connect hung on a server that never answers");
        let err: StoreError = result.expect_err("connected to a silent server");
        assert!(started.elapsed() < Duration::from_secs(6), "{err}");
        // Shorter, by the options.
        let options = PgStoreOptions::new().acquire_timeout(Duration::from_millis(500));
        let started = Instant::now();
        let result = tokio::time::timeout(
            Duration::from_secs(15),
            PgStore::connect_with(&url, options),
        )
        .await
        .expect("PgStore::connect_with hung on a server that never answers");
        assert!(result.is_err());
        assert!(started.elapsed() < Duration::from_secs(3));
        silent.abort();
    }

    /// Nobody listening: an error at once.
    #[tokio::test]
    async fn pg_refused_connection_is_a_store_error() {
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let url = format!("postgres://postgres@127.0.0.1:{port}/test");
        let result = tokio::time::timeout(Duration::from_secs(15), PgStore::connect(&url))
            .await
            .expect("PgStore::connect hung on a closed port");
        assert!(result.is_err());
    }

    /// An operation the server does not answer (here: blocked by a lock) fails after the
    /// operation timeout; once the server answers again, the same store works.
    #[tokio::test]
    async fn pg_operation_timeout_and_recovery() {
        let Some(pg) = services::postgres().await else {
            return;
        };
        let store = PgStore::connect(&pg.url)
            .await
            .unwrap()
            .with_operation_timeout(Duration::from_millis(500));
        let owner = store.create(user("locked@example.com")).await.unwrap();

        let mut locker = pg.pool.begin().await.unwrap();
        sqlx::query(r#"LOCK TABLE "user" IN ACCESS EXCLUSIVE MODE"#)
            .execute(&mut *locker)
            .await
            .unwrap();
        let started = Instant::now();
        let blocked = tokio::time::timeout(Duration::from_secs(10), store.get(owner.id))
            .await
            .expect("the operation hung past its timeout");
        assert!(blocked.is_err(), "read through an exclusive lock");
        assert!(started.elapsed() < Duration::from_secs(3));
        let blocked = tokio::time::timeout(
            Duration::from_secs(10),
            store.create(user("blocked@example.com")),
        )
        .await
        .expect("the operation hung past its timeout");
        assert!(matches!(blocked, Err(CreateError::Store(_))));
        locker.rollback().await.unwrap();

        let got = tokio::time::timeout(Duration::from_secs(10), store.get(owner.id))
            .await
            .expect("the store hung after the lock was released");
        assert_eq!(got.unwrap(), Some(owner));
    }
}
