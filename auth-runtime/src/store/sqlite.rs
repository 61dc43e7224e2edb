use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{json, Map, Value};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
};
use sqlx::Row;
use std::sync::Arc;
use uuid::Uuid;

use crate::fields::{Field, FieldKind};

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

const BASE_COLUMNS: &str = "id, email, hashed_password, is_active, is_superuser, is_verified";

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
    fields: &'static [Field],
    /// The column list of SELECTs and INSERTs: the base columns, then the custom fields.
    columns: Arc<str>,
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
        Ok(SqliteStore {
            pool,
            fields: &[],
            columns: BASE_COLUMNS.into(),
        })
    }

    /// Declares the application's custom fields ([`UserFields`](crate::UserFields)), adding
    /// the missing columns to the `user` table. Existing columns are left as they are.
    pub async fn with_fields(mut self, fields: &'static [Field]) -> Result<Self, StoreError> {
        let existing: Vec<String> =
            sqlx::query_scalar(r#"SELECT name FROM pragma_table_info('user')"#)
                .fetch_all(&self.pool)
                .await
                .map_err(StoreError::new)?;
        let mut added = false;
        for field in fields {
            if !Field::is_valid_name(field.name) {
                return Err(StoreError::new(format!(
                    "invalid custom field name {:?}",
                    field.name
                )));
            }
            if existing.iter().any(|c| c == field.name) {
                continue;
            }
            added = true;
            let (sql_type, default) = match field.kind {
                FieldKind::Text => ("TEXT", "''"),
                FieldKind::Integer => ("BIGINT", "0"),
                FieldKind::Float => ("REAL", "0"),
                FieldKind::Boolean => ("BOOLEAN", "0"),
            };
            let constraint = if field.nullable {
                String::new()
            } else {
                format!(" NOT NULL DEFAULT {default}")
            };
            sqlx::query(&format!(
                r#"ALTER TABLE "user" ADD COLUMN "{}" {sql_type}{constraint}"#,
                field.name
            ))
            .execute(&self.pool)
            .await
            .map_err(StoreError::new)?;
        }
        if added && self.pool.options().get_max_connections() > 1 {
            // Pooled connections opened before the ALTER keep the old schema, and SQLite reads
            // a double-quoted unknown column as a string literal: start over with fresh ones.
            let options = self.pool.connect_options().as_ref().clone();
            let fresh = SqlitePoolOptions::new()
                .acquire_timeout(Duration::from_secs(5))
                .max_connections(self.pool.options().get_max_connections())
                .connect_with(options)
                .await
                .map_err(StoreError::new)?;
            self.pool.close().await;
            self.pool = fresh;
        }
        self.fields = fields;
        let mut columns = BASE_COLUMNS.to_owned();
        for field in fields {
            columns.push_str(&format!(r#", "{}""#, field.name));
        }
        self.columns = columns.into();
        Ok(self)
    }

    /// The underlying pool.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

fn decode(row: SqliteRow, fields: &[Field]) -> Result<User, StoreError> {
    let id: String = row.try_get("id").map_err(StoreError::new)?;
    let mut extra = Map::new();
    for field in fields {
        let name = field.name;
        let value = match field.kind {
            FieldKind::Text => json!(row
                .try_get::<Option<String>, _>(name)
                .map_err(StoreError::new)?),
            FieldKind::Integer => json!(row
                .try_get::<Option<i64>, _>(name)
                .map_err(StoreError::new)?),
            FieldKind::Float => json!(row
                .try_get::<Option<f64>, _>(name)
                .map_err(StoreError::new)?),
            FieldKind::Boolean => json!(row
                .try_get::<Option<bool>, _>(name)
                .map_err(StoreError::new)?),
        };
        extra.insert(name.to_owned(), value);
    }
    Ok(User {
        fields: extra,
        id: Uuid::parse_str(&id).map_err(StoreError::new)?,
        email: row.try_get("email").map_err(StoreError::new)?,
        hashed_password: row.try_get("hashed_password").map_err(StoreError::new)?,
        is_active: row.try_get("is_active").map_err(StoreError::new)?,
        is_superuser: row.try_get("is_superuser").map_err(StoreError::new)?,
        is_verified: row.try_get("is_verified").map_err(StoreError::new)?,
    })
}

type SqliteQuery<'q> = sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>>;

/// Binds the custom fields of `user`, in declared order.
fn bind_fields<'q>(mut query: SqliteQuery<'q>, fields: &[Field], user: &User) -> SqliteQuery<'q> {
    for field in fields {
        let value = user.fields.get(field.name).unwrap_or(&Value::Null);
        query = match field.kind {
            FieldKind::Text => query.bind(value.as_str().map(str::to_owned)),
            FieldKind::Integer => query.bind(value.as_i64()),
            FieldKind::Float => query.bind(value.as_f64()),
            FieldKind::Boolean => query.bind(value.as_bool()),
        };
    }
    query
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
        let columns = &self.columns;
        sqlx::query(&format!(r#"SELECT {columns} FROM "user" WHERE id = ?"#))
            .bind(id.hyphenated().to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::new)?
            .map(|row| decode(row, self.fields))
            .transpose()
    }

    async fn get_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        let columns = &self.columns;
        sqlx::query(&format!(
            r#"SELECT {columns} FROM "user" WHERE lower(email) = lower(?) LIMIT 1"#
        ))
        .bind(email)
        .fetch_optional(&self.pool)
        .await
        .map_err(StoreError::new)?
        .map(|row| decode(row, self.fields))
        .transpose()
    }

    async fn create(&self, user: User) -> Result<User, CreateError> {
        // The unique index on lower(email) decides races; the NOT EXISTS covers databases where
        // that index could not be built.
        let placeholders = ", ?".repeat(self.fields.len());
        let sql = format!(
            r#"INSERT INTO "user" ({}) SELECT ?, ?, ?, ?, ?, ?{placeholders}
               WHERE NOT EXISTS (SELECT 1 FROM "user" WHERE lower(email) = lower(?))"#,
            self.columns
        );
        let query = sqlx::query(&sql)
            .bind(user.id.hyphenated().to_string())
            .bind(&user.email)
            .bind(&user.hashed_password)
            .bind(user.is_active)
            .bind(user.is_superuser)
            .bind(user.is_verified);
        let result = bind_fields(query, self.fields, &user)
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
        let assignments: String = self
            .fields
            .iter()
            .map(|f| format!(r#", "{}" = ?"#, f.name))
            .collect();
        let sql = format!(
            r#"UPDATE "user" SET email = ?, hashed_password = ?, is_active = ?, is_superuser = ?, is_verified = ?{assignments}
               WHERE id = ? AND NOT EXISTS (SELECT 1 FROM "user" WHERE lower(email) = lower(?) AND id <> ?)"#
        );
        let query = sqlx::query(&sql)
            .bind(&user.email)
            .bind(&user.hashed_password)
            .bind(user.is_active)
            .bind(user.is_superuser)
            .bind(user.is_verified);
        let result = bind_fields(query, self.fields, user)
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
