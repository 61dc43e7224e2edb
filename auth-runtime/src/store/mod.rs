//! User storage: the [`UserStore`] trait and its implementations.

use async_trait::async_trait;
use uuid::Uuid;

use crate::error::StoreError;
use crate::user::User;

/// Implements [`UserStore`] and [`TokenStore`](crate::TokenStore) for a SQL store by
/// delegating to its `tables` ([`sql::Tables`]).
macro_rules! sql_store_impls {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::UserStore for $store {
            async fn get(
                &self,
                id: uuid::Uuid,
            ) -> Result<Option<$crate::User>, $crate::StoreError> {
                self.tables.get(id).await
            }
            async fn get_by_email(
                &self,
                email: &str,
            ) -> Result<Option<$crate::User>, $crate::StoreError> {
                self.tables.get_by_email(email).await
            }
            async fn create(
                &self,
                user: $crate::User,
            ) -> Result<$crate::User, $crate::CreateError> {
                self.tables.create(user).await
            }
            async fn update(&self, user: &$crate::User) -> Result<bool, $crate::CreateError> {
                self.tables.update(user).await
            }
            async fn delete(&self, id: uuid::Uuid) -> Result<bool, $crate::StoreError> {
                self.tables.delete(id).await
            }
        }

        /// The `database` strategy's tokens, in fastapi-users' `accesstoken` table.
        #[async_trait::async_trait]
        impl $crate::TokenStore for $store {
            async fn write(
                &self,
                token: &str,
                user: uuid::Uuid,
                lifetime: u64,
            ) -> Result<(), $crate::StoreError> {
                let _ = lifetime; // the row's age decides, at read time
                self.tables.write_token(token, user).await
            }
            async fn read(
                &self,
                token: &str,
                lifetime: u64,
            ) -> Result<Option<uuid::Uuid>, $crate::StoreError> {
                self.tables.read_token(token, lifetime).await
            }
            async fn destroy(&self, token: &str) -> Result<(), $crate::StoreError> {
                self.tables.destroy_token(token).await
            }
            async fn destroy_all(&self, user: uuid::Uuid) -> Result<u64, $crate::StoreError> {
                self.tables.destroy_all_tokens(user).await
            }
        }
    };
}

mod memory;
#[cfg(feature = "postgres")]
mod postgres;
mod sqlite;

pub(crate) use sql::{
    column_definitions, schema, warn_no_case_insensitive_index, Dialect, Tables,
    CASE_INSENSITIVE_INDEX,
};

pub use memory::MemoryStore;
#[cfg(feature = "postgres")]
pub use postgres::{PgStore, PgStoreOptions};
pub use sqlite::SqliteStore;

/// Why [`UserStore::create`] did not insert.
///
/// ```
/// use axum_users_runtime::{CreateError, MemoryStore, User, UserStore};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let store = MemoryStore::new();
/// store.create(User::new("a@example.com", "hash")).await.unwrap();
/// let again = store.create(User::new("A@example.com", "hash")).await;
/// assert!(matches!(again, Err(CreateError::AlreadyExists)));
/// # });
/// ```
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    /// A user with this e-mail (compared case-insensitively) exists.
    #[error("a user with this e-mail already exists")]
    AlreadyExists,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Where users live.
///
/// Implementations must compare e-mails case-insensitively and enforce e-mail uniqueness
/// themselves (a database constraint), so that concurrent registrations cannot create two users
/// with the same address.
///
/// ```
/// use axum_users_runtime::{MemoryStore, User, UserStore};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let store = MemoryStore::new();
/// let user = store.create(User::new("a@example.com", "hash")).await.unwrap();
/// let found = store.get_by_email("A@EXAMPLE.COM").await.unwrap().unwrap();
/// assert_eq!(found.id, user.id);
/// # });
/// ```
#[async_trait]
pub trait UserStore: Send + Sync + 'static {
    /// The user with this id.
    async fn get(&self, id: Uuid) -> Result<Option<User>, StoreError>;
    /// The user with this e-mail, compared case-insensitively.
    async fn get_by_email(&self, email: &str) -> Result<Option<User>, StoreError>;
    /// Inserts a user; [`CreateError::AlreadyExists`] when the e-mail is taken.
    async fn create(&self, user: User) -> Result<User, CreateError>;
    /// Overwrites every column of the user with this id; returns `false` when there is none.
    /// [`CreateError::AlreadyExists`] when the new e-mail belongs to another user.
    async fn update(&self, user: &User) -> Result<bool, CreateError>;
    /// Deletes the user with this id; returns `false` when there was none.
    async fn delete(&self, id: Uuid) -> Result<bool, StoreError>;
}

/// What the SQL stores share: the statements on `user` and `accesstoken` (SQLite and PostgreSQL
/// both take `$n` placeholders), the custom-field columns, and a time limit on every operation.
mod sql {
    use std::future::Future;
    use std::sync::Arc;
    use std::time::Duration;

    use serde_json::{json, Map, Value};
    use sqlx::query::Query;
    use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Pool, Row, Type};
    use uuid::Uuid;

    use super::CreateError;
    use crate::error::StoreError;
    use crate::fields::{Field, FieldKind};
    use crate::user::User;

    /// The longest token lifetime honoured, in seconds (100 years): longer ones are clamped so
    /// that `now - lifetime` stays a valid timestamp.
    const MAX_LIFETIME: u64 = 100 * 366 * 24 * 3600;

    const BASE_COLUMNS: &str = "id, email, hashed_password, is_active, is_superuser, is_verified";

    /// What differs between the SQL databases.
    pub(crate) trait Dialect: Database {
        /// A user id as bound to a statement (text in SQLite, UUID in PostgreSQL).
        type Id: for<'q> Encode<'q, Self> + Type<Self> + Send + Sync + 'static;
        /// `id` as bound to a statement.
        fn id(id: Uuid) -> Self::Id;
        /// The user id in `column` of `row`.
        fn read_id(row: &Self::Row, column: &str) -> Result<Uuid, StoreError>;
        /// How many rows a statement changed.
        fn rows_affected(result: &Self::QueryResult) -> u64;
        /// The column type of user ids (`"user".id`, `accesstoken.user_id`).
        const ID_TYPE: &'static str;
        /// The column type of `accesstoken.created_at`.
        const TIMESTAMP_TYPE: &'static str;
        /// The column type of [`FieldKind::Float`] fields.
        const FLOAT_TYPE: &'static str;
        /// The literal `false` (the default of NOT NULL boolean fields).
        const FALSE: &'static str;
        /// The column type of a custom field, and its default when it is NOT NULL.
        fn column_type(kind: FieldKind) -> (&'static str, &'static str) {
            match kind {
                FieldKind::Text => ("TEXT", "''"),
                FieldKind::Integer => ("BIGINT", "0"),
                FieldKind::Float => (Self::FLOAT_TYPE, "0"),
                FieldKind::Boolean => ("BOOLEAN", Self::FALSE),
            }
        }
        /// The SELECT expression of a custom field (named as the field).
        fn select_field(field: &Field) -> String;
        /// Inserts a token: `$1` the token, `$2` the user id, created now (database clock).
        const WRITE_TOKEN: &'static str;
        /// The `user_id` of token `$1` if it was created at most `$2` seconds ago.
        const READ_TOKEN: &'static str;
    }

    /// fastapi-users' tables as its SQLAlchemy adapter creates them (`CREATE .. IF NOT EXISTS`,
    /// so that an existing schema is left alone).
    pub(crate) fn schema<D: Dialect>() -> Vec<String> {
        let (id, timestamp) = (D::ID_TYPE, D::TIMESTAMP_TYPE);
        vec![
            format!(
                r#"CREATE TABLE IF NOT EXISTS "user" (
                    id {id} NOT NULL,
                    email VARCHAR(320) NOT NULL,
                    hashed_password VARCHAR(1024) NOT NULL,
                    is_active BOOLEAN NOT NULL,
                    is_superuser BOOLEAN NOT NULL,
                    is_verified BOOLEAN NOT NULL,
                    PRIMARY KEY (id)
                )"#
            ),
            r#"CREATE UNIQUE INDEX IF NOT EXISTS ix_user_email ON "user" (email)"#.into(),
            format!(
                r#"CREATE TABLE IF NOT EXISTS accesstoken (
                    user_id {id} NOT NULL,
                    token VARCHAR(43) NOT NULL,
                    created_at {timestamp} NOT NULL,
                    PRIMARY KEY (token),
                    FOREIGN KEY(user_id) REFERENCES "user" (id) ON DELETE cascade
                )"#
            ),
            "CREATE INDEX IF NOT EXISTS ix_accesstoken_created_at ON accesstoken (created_at)"
                .into(),
        ]
    }

    /// Case-insensitive uniqueness on top of fastapi-users' layout. A database written by
    /// fastapi-users may hold two addresses differing only in case; then this index cannot be
    /// built, and the store still works (lookups stay case-insensitive) with a warning
    /// ([`warn_no_case_insensitive_index`]).
    pub(crate) const CASE_INSENSITIVE_INDEX: &str =
        r#"CREATE UNIQUE INDEX IF NOT EXISTS ix_user_email_lower ON "user" (lower(email))"#;

    /// The warning when [`CASE_INSENSITIVE_INDEX`] cannot be built.
    pub(crate) fn warn_no_case_insensitive_index(err: &dyn std::fmt::Display) {
        tracing::warn!(error = %err, "could not create the case-insensitive e-mail index (addresses differing only in case exist); uniqueness is then checked by lookups only");
    }

    /// `"name" TYPE [NOT NULL DEFAULT ..]` for each custom field, after checking its name.
    pub(crate) fn column_definitions<D: Dialect>(
        fields: &[Field],
    ) -> Result<Vec<(&'static str, String)>, StoreError> {
        fields
            .iter()
            .map(|field| {
                if !Field::is_valid_name(field.name) {
                    return Err(StoreError::new(format!(
                        "invalid custom field name {:?}",
                        field.name
                    )));
                }
                let (sql_type, default) = D::column_type(field.kind);
                let constraint = if field.nullable {
                    String::new()
                } else {
                    format!(" NOT NULL DEFAULT {default}")
                };
                Ok((
                    field.name,
                    format!(r#""{}" {sql_type}{constraint}"#, field.name),
                ))
            })
            .collect()
    }

    fn timed_out(limit: Duration) -> StoreError {
        StoreError::new(format!("the database did not answer within {limit:?}"))
    }

    fn write_error(err: sqlx::Error) -> CreateError {
        match &err {
            sqlx::Error::Database(db) if db.is_unique_violation() => CreateError::AlreadyExists,
            _ => CreateError::Store(StoreError::new(err)),
        }
    }

    /// The `user` and `accesstoken` tables of one database.
    #[derive(Debug)]
    pub(crate) struct Tables<D: Database> {
        pub pool: Pool<D>,
        pub fields: &'static [Field],
        /// SELECT list: the base columns, then the custom fields.
        select: Arc<str>,
        /// INSERT list, in the same order.
        insert: Arc<str>,
        /// The longest any operation may take before it fails with a [`StoreError`].
        pub timeout: Duration,
    }

    impl<D: Database> Clone for Tables<D> {
        fn clone(&self) -> Self {
            Tables {
                pool: self.pool.clone(),
                fields: self.fields,
                select: self.select.clone(),
                insert: self.insert.clone(),
                timeout: self.timeout,
            }
        }
    }

    impl<D: Dialect> Tables<D>
    where
        for<'c> &'c mut D::Connection: Executor<'c, Database = D>,
        for<'q> D::Arguments<'q>: IntoArguments<'q, D>,
        for<'q, 'r> String: Encode<'q, D> + Decode<'r, D> + Type<D>,
        for<'q> Option<String>: Encode<'q, D>,
        for<'q, 'r> bool: Encode<'q, D> + Decode<'r, D> + Type<D>,
        for<'q> Option<bool>: Encode<'q, D>,
        for<'q, 'r> i64: Encode<'q, D> + Decode<'r, D> + Type<D>,
        for<'q> Option<i64>: Encode<'q, D>,
        for<'q, 'r> f64: Encode<'q, D> + Decode<'r, D> + Type<D>,
        for<'q> Option<f64>: Encode<'q, D>,
        for<'a> &'a str: ColumnIndex<D::Row>,
    {
        pub fn new(pool: Pool<D>, timeout: Duration) -> Self {
            Tables {
                pool,
                fields: &[],
                select: BASE_COLUMNS.into(),
                insert: BASE_COLUMNS.into(),
                timeout,
            }
        }

        /// Reads and writes `fields` from now on (their columns must exist).
        pub fn set_fields(&mut self, fields: &'static [Field]) {
            let mut select = BASE_COLUMNS.to_owned();
            let mut insert = BASE_COLUMNS.to_owned();
            for field in fields {
                select.push_str(&format!(", {}", D::select_field(field)));
                insert.push_str(&format!(r#", "{}""#, field.name));
            }
            self.fields = fields;
            self.select = select.into();
            self.insert = insert.into();
        }

        /// Runs `operation`, failing with a [`StoreError`] after [`Tables::timeout`]: a
        /// partitioned network never answers, and the driver has no query timeout of its own.
        pub async fn timed<T, E: From<StoreError>>(
            &self,
            operation: impl Future<Output = Result<T, E>>,
        ) -> Result<T, E> {
            tokio::time::timeout(self.timeout, operation)
                .await
                .unwrap_or_else(|_| Err(timed_out(self.timeout).into()))
        }

        fn decode(&self, row: D::Row) -> Result<User, StoreError> {
            let mut extra = Map::new();
            for field in self.fields {
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
                id: D::read_id(&row, "id")?,
                email: row.try_get("email").map_err(StoreError::new)?,
                hashed_password: row.try_get("hashed_password").map_err(StoreError::new)?,
                is_active: row.try_get("is_active").map_err(StoreError::new)?,
                is_superuser: row.try_get("is_superuser").map_err(StoreError::new)?,
                is_verified: row.try_get("is_verified").map_err(StoreError::new)?,
            })
        }

        /// The user a SELECT finds, if any.
        async fn fetch_user<'q>(
            &self,
            query: Query<'q, D, D::Arguments<'q>>,
        ) -> Result<Option<User>, StoreError> {
            self.timed(async {
                let row = query
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(StoreError::new)?;
                row.map(|row| self.decode(row)).transpose()
            })
            .await
        }

        /// Runs a statement; how many rows it changed.
        async fn execute<'q, E: From<StoreError>>(
            &self,
            query: Query<'q, D, D::Arguments<'q>>,
            error: impl FnOnce(sqlx::Error) -> E,
        ) -> Result<u64, E> {
            self.timed(async {
                match query.execute(&self.pool).await {
                    Ok(result) => Ok(D::rows_affected(&result)),
                    Err(err) => Err(error(err)),
                }
            })
            .await
        }

        /// Binds `$1` the id, `$2`.. the other columns, then the custom fields in declared order.
        fn bind_user<'q>(&self, sql: &'q str, user: &User) -> Query<'q, D, D::Arguments<'q>> {
            let mut query = sqlx::query(sql)
                .bind(D::id(user.id))
                .bind(user.email.clone())
                .bind(user.hashed_password.clone())
                .bind(user.is_active)
                .bind(user.is_superuser)
                .bind(user.is_verified);
            for field in self.fields {
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

        pub async fn get(&self, id: Uuid) -> Result<Option<User>, StoreError> {
            let sql = format!(r#"SELECT {} FROM "user" WHERE id = $1"#, self.select);
            self.fetch_user(sqlx::query(&sql).bind(D::id(id))).await
        }

        pub async fn get_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
            let sql = format!(
                r#"SELECT {} FROM "user" WHERE lower(email) = lower($1) LIMIT 1"#,
                self.select
            );
            self.fetch_user(sqlx::query(&sql).bind(email.to_owned()))
                .await
        }

        pub async fn create(&self, user: User) -> Result<User, CreateError> {
            // The unique index on lower(email) decides races; the NOT EXISTS covers databases
            // where that index could not be built.
            let values: Vec<String> = (1..=6 + self.fields.len())
                .map(|n| format!("${n}"))
                .collect();
            let sql = format!(
                r#"INSERT INTO "user" ({}) SELECT {}
                   WHERE NOT EXISTS (SELECT 1 FROM "user" WHERE lower(email) = lower($2))"#,
                self.insert,
                values.join(", ")
            );
            match self
                .execute(self.bind_user(&sql, &user), write_error)
                .await?
            {
                0 => Err(CreateError::AlreadyExists),
                _ => Ok(user),
            }
        }

        pub async fn update(&self, user: &User) -> Result<bool, CreateError> {
            let assignments: String = self
                .insert
                .split(", ")
                .enumerate()
                .skip(1)
                .map(|(i, column)| format!(", {column} = ${}", i + 1))
                .collect();
            let sql = format!(
                r#"UPDATE "user" SET {}
                   WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM "user" WHERE lower(email) = lower($2) AND id <> $1)"#,
                &assignments[2..]
            );
            if self
                .execute(self.bind_user(&sql, user), write_error)
                .await?
                == 1
            {
                return Ok(true);
            }
            // Either no such user, or the e-mail belongs to someone else.
            match self.get(user.id).await? {
                None => Ok(false),
                Some(_) => Err(CreateError::AlreadyExists),
            }
        }

        pub async fn delete(&self, id: Uuid) -> Result<bool, StoreError> {
            let query = sqlx::query(r#"DELETE FROM "user" WHERE id = $1"#).bind(D::id(id));
            Ok(self.execute(query, StoreError::new).await? == 1)
        }

        pub async fn write_token(&self, token: &str, user: Uuid) -> Result<(), StoreError> {
            let query = sqlx::query(D::WRITE_TOKEN)
                .bind(token.to_owned())
                .bind(D::id(user));
            self.execute(query, StoreError::new).await.map(drop)
        }

        pub async fn read_token(
            &self,
            token: &str,
            lifetime: u64,
        ) -> Result<Option<Uuid>, StoreError> {
            let query = sqlx::query(D::READ_TOKEN)
                .bind(token.to_owned())
                .bind(lifetime.min(MAX_LIFETIME) as i64);
            self.timed(async {
                match query.fetch_optional(&self.pool).await {
                    Ok(Some(row)) => D::read_id(&row, "user_id").map(Some),
                    Ok(None) => Ok(None),
                    Err(err) => Err(StoreError::new(err)),
                }
            })
            .await
        }

        pub async fn destroy_token(&self, token: &str) -> Result<(), StoreError> {
            let query =
                sqlx::query("DELETE FROM accesstoken WHERE token = $1").bind(token.to_owned());
            self.execute(query, StoreError::new).await.map(drop)
        }

        pub async fn destroy_all_tokens(&self, user: Uuid) -> Result<u64, StoreError> {
            let query = sqlx::query("DELETE FROM accesstoken WHERE user_id = $1").bind(D::id(user));
            self.execute(query, StoreError::new).await
        }
    }
}
