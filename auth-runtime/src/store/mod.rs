//! User storage: the [`UserStore`] trait and its implementations.

use async_trait::async_trait;
use uuid::Uuid;

use crate::error::StoreError;
use crate::user::User;

mod memory;
mod sqlite;

pub use memory::MemoryStore;
pub use sqlite::SqliteStore;

/// Why [`UserStore::create`] did not insert.
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
