use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
};
use sqlx::Row;
use uuid::Uuid;

use super::{CreateError, UserStore};
use crate::error::StoreError;
use crate::user::User;

const SCHEMA: &[&str] = &[
    r#"CREATE TABLE IF NOT EXISTS "user" (
        id CHAR(36) NOT NULL,
        email VARCHAR(320) NOT NULL,
        hashed_password VARCHAR(1024) NOT NULL,
        is_active BOOLEAN NOT NULL,
        is_superuser BOOLEAN NOT NULL,
        is_verified BOOLEAN NOT NULL,
        PRIMARY KEY (id)
    )"#,
    r#"CREATE UNIQUE INDEX IF NOT EXISTS ix_user_email ON "user" (email)"#,
];

/// Case-insensitive uniqueness on top of fastapi-users' layout. A database written by
/// fastapi-users may hold two addresses differing only in case; then this index cannot be built,
/// and the store still works (lookups stay case-insensitive) with a warning.
const CASE_INSENSITIVE_INDEX: &str =
    r#"CREATE UNIQUE INDEX IF NOT EXISTS ix_user_email_lower ON "user" (lower(email))"#;

const COLUMNS: &str = "id, email, hashed_password, is_active, is_superuser, is_verified";

/// The embedded default [`UserStore`]: SQLite through sqlx, in fastapi-users' table layout
/// (table `user`, `id` CHAR(36), unique index `ix_user_email`), so a database written by
/// fastapi-users' SQLAlchemy adapter is served as it is.
///
/// ```
/// use axum_users_runtime::{SqliteStore, User, UserStore};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let store = SqliteStore::connect("sqlite::memory:").await.unwrap();
/// store.create(User::new("a@example.com", "hash")).await.unwrap();
/// assert!(store.get_by_email("A@Example.com").await.unwrap().is_some());
/// # });
/// ```
#[derive(Clone, Debug)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating the file if needed) the database at `url`, e.g. `sqlite://users.db` or
    /// `sqlite::memory:`, and creates the table on first start.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let options = SqliteConnectOptions::from_str(url)
            .map_err(StoreError::new)?
            .create_if_missing(true)
            .journal_mode(if in_memory {
                SqliteJournalMode::Memory
            } else {
                SqliteJournalMode::Wal
            })
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);
        let mut pool = SqlitePoolOptions::new().acquire_timeout(Duration::from_secs(5));
        if in_memory {
            // Every connection to `:memory:` is a database of its own: keep exactly one, forever.
            pool = pool
                .max_connections(1)
                .idle_timeout(None)
                .max_lifetime(None);
        } else {
            pool = pool.max_connections(8);
        }
        let pool = pool.connect_with(options).await.map_err(StoreError::new)?;
        Self::from_pool(pool).await
    }

    /// Uses an existing pool; creates the table if it does not exist.
    pub async fn from_pool(pool: SqlitePool) -> Result<Self, StoreError> {
        for statement in SCHEMA {
            sqlx::query(statement)
                .execute(&pool)
                .await
                .map_err(StoreError::new)?;
        }
        if let Err(err) = sqlx::query(CASE_INSENSITIVE_INDEX).execute(&pool).await {
            tracing::warn!(error = %err, "could not create the case-insensitive e-mail index (addresses differing only in case exist); uniqueness is then checked by lookups only");
        }
        Ok(SqliteStore { pool })
    }

    /// The underlying pool.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

fn decode(row: SqliteRow) -> Result<User, StoreError> {
    let id: String = row.try_get("id").map_err(StoreError::new)?;
    Ok(User {
        id: Uuid::parse_str(&id).map_err(StoreError::new)?,
        email: row.try_get("email").map_err(StoreError::new)?,
        hashed_password: row.try_get("hashed_password").map_err(StoreError::new)?,
        is_active: row.try_get("is_active").map_err(StoreError::new)?,
        is_superuser: row.try_get("is_superuser").map_err(StoreError::new)?,
        is_verified: row.try_get("is_verified").map_err(StoreError::new)?,
    })
}

fn write_error(err: sqlx::Error) -> CreateError {
    match &err {
        sqlx::Error::Database(db) if db.is_unique_violation() => CreateError::AlreadyExists,
        _ => CreateError::Store(StoreError::new(err)),
    }
}

#[async_trait]
impl UserStore for SqliteStore {
    async fn get(&self, id: Uuid) -> Result<Option<User>, StoreError> {
        sqlx::query(&format!(r#"SELECT {COLUMNS} FROM "user" WHERE id = ?"#))
            .bind(id.hyphenated().to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::new)?
            .map(decode)
            .transpose()
    }

    async fn get_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        sqlx::query(&format!(
            r#"SELECT {COLUMNS} FROM "user" WHERE lower(email) = lower(?) LIMIT 1"#
        ))
        .bind(email)
        .fetch_optional(&self.pool)
        .await
        .map_err(StoreError::new)?
        .map(decode)
        .transpose()
    }

    async fn create(&self, user: User) -> Result<User, CreateError> {
        // The unique index on lower(email) decides races; the NOT EXISTS covers databases where
        // that index could not be built.
        let result = sqlx::query(&format!(
            r#"INSERT INTO "user" ({COLUMNS}) SELECT ?, ?, ?, ?, ?, ?
               WHERE NOT EXISTS (SELECT 1 FROM "user" WHERE lower(email) = lower(?))"#
        ))
        .bind(user.id.hyphenated().to_string())
        .bind(&user.email)
        .bind(&user.hashed_password)
        .bind(user.is_active)
        .bind(user.is_superuser)
        .bind(user.is_verified)
        .bind(&user.email)
        .execute(&self.pool)
        .await
        .map_err(write_error)?;
        if result.rows_affected() == 0 {
            return Err(CreateError::AlreadyExists);
        }
        Ok(user)
    }

    async fn update(&self, user: &User) -> Result<bool, CreateError> {
        let result = sqlx::query(
            r#"UPDATE "user" SET email = ?, hashed_password = ?, is_active = ?, is_superuser = ?, is_verified = ?
               WHERE id = ? AND NOT EXISTS (SELECT 1 FROM "user" WHERE lower(email) = lower(?) AND id <> ?)"#,
        )
        .bind(&user.email)
        .bind(&user.hashed_password)
        .bind(user.is_active)
        .bind(user.is_superuser)
        .bind(user.is_verified)
        .bind(user.id.hyphenated().to_string())
        .bind(&user.email)
        .bind(user.id.hyphenated().to_string())
        .execute(&self.pool)
        .await
        .map_err(write_error)?;
        if result.rows_affected() == 1 {
            return Ok(true);
        }
        // Either no such user, or the e-mail belongs to someone else.
        match self.get(user.id).await? {
            None => Ok(false),
            Some(_) => Err(CreateError::AlreadyExists),
        }
    }

    async fn delete(&self, id: Uuid) -> Result<bool, StoreError> {
        let result = sqlx::query(r#"DELETE FROM "user" WHERE id = ?"#)
            .bind(id.hyphenated().to_string())
            .execute(&self.pool)
            .await
            .map_err(StoreError::new)?;
        Ok(result.rows_affected() == 1)
    }
}
