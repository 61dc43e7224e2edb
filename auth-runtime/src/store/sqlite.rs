use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use sqlx::{Row, Sqlite};
use uuid::Uuid;

use super::{
    column_definitions, schema, warn_no_case_insensitive_index, Dialect, Tables,
    CASE_INSENSITIVE_INDEX,
};
use crate::error::StoreError;
use crate::fields::Field;

/// How long one operation may take: SQLite waits up to 5 s for a lock (`busy_timeout`).
const OPERATION_TIMEOUT: Duration = Duration::from_secs(30);

/// SQLAlchemy's text form of a naive UTC timestamp, `YYYY-MM-DD HH:MM:SS.ffffff`, of the
/// database clock's `now`, shifted by the optional modifier. SQLite has milliseconds: the
/// microseconds are padded with zeros, so that texts compare as the times they stand for.
macro_rules! sqlite_timestamp {
    ($($modifier:literal)?) => {
        concat!("(strftime('%Y-%m-%d %H:%M:%f', 'now'", $(", ", $modifier,)? ") || '000')")
    };
}

impl Dialect for Sqlite {
    type Id = String;
    const ID_TYPE: &'static str = "CHAR(36)";
    const TIMESTAMP_TYPE: &'static str = "TIMESTAMP";

    fn id(id: Uuid) -> String {
        id.hyphenated().to_string()
    }

    fn read_id(row: &sqlx::sqlite::SqliteRow, column: &str) -> Result<Uuid, StoreError> {
        let id: String = row.try_get(column).map_err(StoreError::new)?;
        Uuid::parse_str(&id).map_err(StoreError::new)
    }

    fn rows_affected(result: &sqlx::sqlite::SqliteQueryResult) -> u64 {
        result.rows_affected()
    }

    const FLOAT_TYPE: &'static str = "REAL";
    const FALSE: &'static str = "0";

    fn select_field(field: &Field) -> String {
        format!(r#""{}""#, field.name)
    }

    const WRITE_TOKEN: &'static str = concat!(
        "INSERT INTO accesstoken (token, created_at, user_id) VALUES ($1, ",
        sqlite_timestamp!(),
        ", $2)"
    );
    const READ_TOKEN: &'static str = concat!(
        "SELECT user_id FROM accesstoken WHERE token = $1 AND created_at >= ",
        sqlite_timestamp!("'-' || $2 || ' seconds'")
    );
}

/// The embedded default [`UserStore`](crate::UserStore): SQLite through sqlx, in
/// fastapi-users' table layout (table `user`, `id` CHAR(36), unique index `ix_user_email`), so
/// a database written by fastapi-users' SQLAlchemy adapter is served as it is.
///
/// It is also the [`TokenStore`](crate::TokenStore) of the `database` strategy: table
/// `accesstoken` (created at connect), whose rows fastapi-users itself may have written.
///
/// ```
/// use axum_users_runtime::{SqliteStore, TokenStore, User, UserStore};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let store = SqliteStore::connect("sqlite::memory:").await.unwrap();
/// let user = store.create(User::new("a@example.com", "hash")).await.unwrap();
/// assert!(store.get_by_email("A@Example.com").await.unwrap().is_some());
///
/// store.write("opaque-token", user.id, 3600).await.unwrap();
/// assert_eq!(store.read("opaque-token", 3600).await.unwrap(), Some(user.id));
/// # });
/// ```
#[derive(Clone, Debug)]
pub struct SqliteStore {
    tables: Tables<Sqlite>,
}

impl SqliteStore {
    /// Opens (creating the file if needed) the database at `url`, e.g. `sqlite://users.db` or
    /// `sqlite::memory:`, and creates the tables on first start.
    ///
    /// ```no_run
    /// use axum_users_runtime::SqliteStore;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), axum_users_runtime::StoreError> {
    /// let store = SqliteStore::connect("sqlite://users.db").await?;
    /// # let _ = store;
    /// # Ok(())
    /// # }
    /// ```
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

    /// Uses an existing pool; creates the tables if they do not exist. Token rows follow their
    /// user on delete only when the pool's connections enforce foreign keys (sqlx's default).
    ///
    /// With [`pool`](Self::pool), which gives the pool back for the application's own queries:
    ///
    /// ```
    /// use axum_users_runtime::{SqliteStore, User, UserStore};
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let pool = sqlx::sqlite::SqlitePoolOptions::new()
    ///     .max_connections(1)
    ///     .connect("sqlite::memory:")
    ///     .await
    ///     .unwrap();
    /// let store = SqliteStore::from_pool(pool).await.unwrap();
    /// store.create(User::new("a@example.com", "hash")).await.unwrap();
    /// let count: i64 = sqlx::query_scalar(r#"SELECT count(*) FROM "user""#)
    ///     .fetch_one(store.pool())
    ///     .await
    ///     .unwrap();
    /// assert_eq!(count, 1);
    /// # });
    /// ```
    pub async fn from_pool(pool: SqlitePool) -> Result<Self, StoreError> {
        for statement in schema::<Sqlite>() {
            sqlx::query(&statement)
                .execute(&pool)
                .await
                .map_err(StoreError::new)?;
        }
        if let Err(err) = sqlx::query(CASE_INSENSITIVE_INDEX).execute(&pool).await {
            warn_no_case_insensitive_index(&err);
        }
        Ok(SqliteStore {
            tables: Tables::new(pool, OPERATION_TIMEOUT),
        })
    }

    /// Declares the application's custom fields ([`UserFields`](crate::UserFields)), adding
    /// the missing columns to the `user` table. Existing columns are left as they are.
    ///
    /// ```
    /// use axum_users_runtime::{Field, FieldKind, SqliteStore};
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// const FIELDS: &[Field] = &[Field::optional("display_name", FieldKind::Text)];
    /// let store = SqliteStore::connect("sqlite::memory:").await.unwrap();
    /// let store = store.with_fields(FIELDS).await.unwrap();
    /// # });
    /// ```
    pub async fn with_fields(mut self, fields: &'static [Field]) -> Result<Self, StoreError> {
        let definitions = column_definitions::<Sqlite>(fields)?;
        let pool = &self.tables.pool;
        let existing: Vec<String> =
            sqlx::query_scalar(r#"SELECT name FROM pragma_table_info('user')"#)
                .fetch_all(pool)
                .await
                .map_err(StoreError::new)?;
        let mut added = false;
        for (name, definition) in definitions {
            if existing.iter().any(|c| c == name) {
                continue;
            }
            added = true;
            sqlx::query(&format!(r#"ALTER TABLE "user" ADD COLUMN {definition}"#))
                .execute(pool)
                .await
                .map_err(StoreError::new)?;
        }
        if added && pool.options().get_max_connections() > 1 {
            // Pooled connections opened before the ALTER keep the old schema, and SQLite reads
            // a double-quoted unknown column as a string literal: start over with fresh ones.
            let options = pool.connect_options().as_ref().clone();
            let fresh = SqlitePoolOptions::new()
                .acquire_timeout(Duration::from_secs(5))
                .max_connections(pool.options().get_max_connections())
                .connect_with(options)
                .await
                .map_err(StoreError::new)?;
            pool.close().await;
            self.tables.pool = fresh;
        }
        self.tables.set_fields(fields);
        Ok(self)
    }

    /// The underlying pool. Example: see [`from_pool`](Self::from_pool).
    pub fn pool(&self) -> &SqlitePool {
        &self.tables.pool
    }
}

sql_store_impls!(SqliteStore);
