use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgQueryResult, PgRow};
use sqlx::{Connection as _, PgConnection, Postgres, Row};
use uuid::Uuid;

use super::{
    column_definitions, schema, warn_no_case_insensitive_index, Dialect, Tables,
    CASE_INSENSITIVE_INDEX,
};
use crate::error::StoreError;
use crate::fields::Field;

/// Serialises the DDL of processes starting at once on the same schema (concurrent
/// `CREATE TABLE IF NOT EXISTS` can fail); released at commit.
const MIGRATION_LOCK: &str =
    "SELECT pg_advisory_xact_lock(hashtext('axum-users schema ' || coalesce(current_schema(), '')))";

impl Dialect for Postgres {
    type Id = Uuid;
    /// `GUID` of fastapi-users is a native `UUID` on PostgreSQL.
    const ID_TYPE: &'static str = "UUID";
    /// `TIMESTAMPAware(timezone=True)`.
    const TIMESTAMP_TYPE: &'static str = "TIMESTAMP WITH TIME ZONE";

    fn id(id: Uuid) -> Uuid {
        id
    }

    fn read_id(row: &PgRow, column: &str) -> Result<Uuid, StoreError> {
        row.try_get(column).map_err(StoreError::new)
    }

    fn rows_affected(result: &PgQueryResult) -> u64 {
        result.rows_affected()
    }

    const FLOAT_TYPE: &'static str = "DOUBLE PRECISION";
    const FALSE: &'static str = "false";

    /// Cast to the type the field is decoded as, so that a narrower existing column
    /// (`INTEGER`, `REAL`, `VARCHAR`) reads as well.
    fn select_field(field: &Field) -> String {
        let (sql_type, _) = Self::column_type(field.kind);
        format!(r#""{0}"::{sql_type} AS "{0}""#, field.name)
    }

    const WRITE_TOKEN: &'static str =
        "INSERT INTO accesstoken (token, created_at, user_id) VALUES ($1, now(), $2)";
    const READ_TOKEN: &'static str = "SELECT user_id FROM accesstoken WHERE token = $1 \
         AND created_at >= now() - make_interval(secs => $2::double precision)";
}

/// Pool and time limits of a [`PgStore`].
///
/// The defaults: at most 10 connections, 3 s to get one (opening a connection included, so an
/// unreachable server fails in 3 s), idle connections closed after 10 minutes, connections
/// tested before use, and 5 s for any operation.
///
/// ```
/// use std::time::Duration;
/// use axum_users_runtime::PgStoreOptions;
///
/// let options = PgStoreOptions::new()
///     .max_connections(20)
///     .operation_timeout(Duration::from_secs(2));
/// ```
#[derive(Clone, Debug)]
pub struct PgStoreOptions {
    max_connections: u32,
    acquire_timeout: Duration,
    idle_timeout: Option<Duration>,
    operation_timeout: Duration,
}

impl Default for PgStoreOptions {
    fn default() -> Self {
        PgStoreOptions {
            max_connections: 10,
            acquire_timeout: Duration::from_secs(3),
            idle_timeout: Some(Duration::from_secs(600)),
            operation_timeout: Duration::from_secs(5),
        }
    }
}

impl PgStoreOptions {
    /// The defaults. The setters chain (the others link here):
    ///
    /// ```
    /// use std::time::Duration;
    /// use axum_users_runtime::PgStoreOptions;
    ///
    /// let options = PgStoreOptions::new()
    ///     .max_connections(20)
    ///     .acquire_timeout(Duration::from_secs(1))
    ///     .idle_timeout(None) // keep idle connections open
    ///     .operation_timeout(Duration::from_secs(2));
    /// # let _ = options;
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// The most connections the pool opens (default 10). Example: see [`new`](Self::new).
    pub fn max_connections(mut self, max: u32) -> Self {
        self.max_connections = max;
        self
    }

    /// How long an operation waits for a connection, opening one included (default 3 s).
    /// Example: see [`new`](Self::new).
    pub fn acquire_timeout(mut self, timeout: Duration) -> Self {
        self.acquire_timeout = timeout;
        self
    }

    /// After how long an unused connection is closed (default 10 minutes; `None`: never).
    /// Example: see [`new`](Self::new).
    pub fn idle_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// How long any store operation may take before it fails with a [`StoreError`]
    /// (default 5 s). A partitioned network never answers, and the driver has no query
    /// timeout of its own. Example: see [`new`](Self::new).
    pub fn operation_timeout(mut self, timeout: Duration) -> Self {
        self.operation_timeout = timeout;
        self
    }

    fn pool(&self) -> PgPoolOptions {
        let ping_limit = self.acquire_timeout;
        PgPoolOptions::new()
            .max_connections(self.max_connections)
            .acquire_timeout(self.acquire_timeout)
            .idle_timeout(self.idle_timeout)
            .test_before_acquire(true)
            // A connection given back after a timed-out operation may never answer again (a
            // partition): drop it instead of waiting on it forever with a slot of the pool.
            .after_release(move |conn, _| {
                Box::pin(async move {
                    match tokio::time::timeout(ping_limit, conn.ping()).await {
                        Ok(Ok(())) => Ok(true),
                        Ok(Err(err)) => Err(err),
                        Err(_) => Err(sqlx::Error::PoolTimedOut),
                    }
                })
            })
    }
}

/// A [`UserStore`](crate::UserStore) and [`TokenStore`](crate::TokenStore) on PostgreSQL, in
/// fastapi-users' layout: table `"user"` (native `UUID` ids, unique index `ix_user_email`) and
/// table `accesstoken` for the `database` strategy, so that a database written by
/// fastapi-users' SQLAlchemy adapter is served as it is.
///
/// At connect, the tables are created if they do not exist (an existing schema is left alone),
/// plus a unique index on `lower(email)`, skipped with a warning when existing addresses differ
/// only in case. E-mails are looked up case-insensitively, and the database's unique indexes
/// decide concurrent registrations. Every operation fails with a [`StoreError`] (503) after the
/// operation timeout instead of hanging, and the pool reconnects by itself when the server is
/// back.
///
/// ```no_run
/// use axum_users_runtime::{PgStore, TokenStore, User, UserStore};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let store = PgStore::connect("postgres://postgres@127.0.0.1:5432/app").await?;
/// let user = store.create(User::new("a@example.com", "hash")).await?;
/// assert!(store.get_by_email("A@Example.com").await?.is_some());
/// store.write("opaque-token", user.id, 3600).await?;
/// assert_eq!(store.read("opaque-token", 3600).await?, Some(user.id));
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct PgStore {
    tables: Tables<Postgres>,
}

impl PgStore {
    /// Connects to the database at `url` (`postgres://user:password@host:port/database`) with
    /// the default [`PgStoreOptions`] and creates the tables if needed.
    ///
    /// ```no_run
    /// use axum_users_runtime::PgStore;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), axum_users_runtime::StoreError> {
    /// let store = PgStore::connect("postgres://app:secret@localhost:5432/app").await?;
    /// let _pool: &sqlx::PgPool = store.pool(); // for the application's own queries
    /// # Ok(())
    /// # }
    /// ```
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with(url, PgStoreOptions::default()).await
    }

    /// [`PgStore::connect`] with other pool settings and time limits.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use axum_users_runtime::{PgStore, PgStoreOptions};
    ///
    /// # async fn run() -> Result<(), axum_users_runtime::StoreError> {
    /// let options = PgStoreOptions::new().operation_timeout(Duration::from_secs(2));
    /// let store = PgStore::connect_with("postgres://postgres@127.0.0.1/app", options).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn connect_with(url: &str, options: PgStoreOptions) -> Result<Self, StoreError> {
        let connect = PgConnectOptions::from_str(url).map_err(StoreError::new)?;
        let pool = options
            .pool()
            .connect_with(connect)
            .await
            .map_err(StoreError::new)?;
        Self::from_pool(pool)
            .await
            .map(|store| store.with_operation_timeout(options.operation_timeout))
    }

    /// Uses an existing pool (give it an `acquire_timeout`); creates the tables if needed.
    ///
    /// ```no_run
    /// use axum_users_runtime::PgStore;
    ///
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let pool = sqlx::PgPool::connect("postgres://postgres@127.0.0.1/app").await?;
    /// let store = PgStore::from_pool(pool).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn from_pool(pool: PgPool) -> Result<Self, StoreError> {
        let tables = Tables::new(pool, PgStoreOptions::default().operation_timeout);
        tables
            .timed(migrate(&tables.pool, schema::<Postgres>(), true))
            .await?;
        Ok(PgStore { tables })
    }

    /// How long any operation may take before it fails with a [`StoreError`] (default 5 s).
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use axum_users_runtime::PgStore;
    ///
    /// # async fn run() -> Result<(), axum_users_runtime::StoreError> {
    /// let store = PgStore::connect("postgres://postgres@127.0.0.1/app")
    ///     .await?
    ///     .with_operation_timeout(Duration::from_secs(2));
    /// # Ok(())
    /// # }
    /// ```
    pub fn with_operation_timeout(mut self, timeout: Duration) -> Self {
        self.tables.timeout = timeout;
        self
    }

    /// Declares the application's custom fields ([`UserFields`](crate::UserFields)), adding
    /// the missing columns to the `user` table. Existing columns are left as they are.
    ///
    /// ```no_run
    /// use axum_users_runtime::{Field, FieldKind, PgStore};
    ///
    /// # async fn run() -> Result<(), axum_users_runtime::StoreError> {
    /// const FIELDS: &[Field] = &[Field::optional("display_name", FieldKind::Text)];
    /// let store = PgStore::connect("postgres://postgres@127.0.0.1/app")
    ///     .await?
    ///     .with_fields(FIELDS)
    ///     .await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn with_fields(mut self, fields: &'static [Field]) -> Result<Self, StoreError> {
        let statements = column_definitions::<Postgres>(fields)?
            .into_iter()
            .map(|(_, definition)| {
                format!(r#"ALTER TABLE "user" ADD COLUMN IF NOT EXISTS {definition}"#)
            })
            .collect();
        self.tables
            .timed(migrate(&self.tables.pool, statements, false))
            .await?;
        self.tables.set_fields(fields);
        Ok(self)
    }

    /// The underlying pool. Example: see [`connect`](Self::connect).
    pub fn pool(&self) -> &PgPool {
        &self.tables.pool
    }
}

/// Runs `statements` in one transaction, under the schema's migration lock; then, when
/// `case_insensitive_index`, tries to add the unique index on `lower(email)`.
async fn migrate(
    pool: &PgPool,
    statements: Vec<String>,
    case_insensitive_index: bool,
) -> Result<(), StoreError> {
    let mut tx = pool.begin().await.map_err(StoreError::new)?;
    let conn: &mut PgConnection = &mut tx;
    sqlx::query(MIGRATION_LOCK)
        .execute(&mut *conn)
        .await
        .map_err(StoreError::new)?;
    for statement in &statements {
        sqlx::query(statement)
            .execute(&mut *conn)
            .await
            .map_err(StoreError::new)?;
    }
    if case_insensitive_index {
        // A failed statement aborts the transaction: try the index under a savepoint.
        let mut savepoint = conn.begin().await.map_err(StoreError::new)?;
        match sqlx::query(CASE_INSENSITIVE_INDEX)
            .execute(&mut *savepoint)
            .await
        {
            Ok(_) => savepoint.commit().await.map_err(StoreError::new)?,
            Err(err) => {
                savepoint.rollback().await.map_err(StoreError::new)?;
                warn_no_case_insensitive_index(&err);
            }
        }
    }
    tx.commit().await.map_err(StoreError::new)
}

sql_store_impls!(PgStore);
