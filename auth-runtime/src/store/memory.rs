use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use uuid::Uuid;

use super::{CreateError, UserStore};
use crate::error::StoreError;
use crate::user::User;

/// An in-memory [`UserStore`] for tests and prototypes. Clones share the same users.
///
/// ```
/// use axum_users_runtime::MemoryStore;
/// let store = MemoryStore::new();
/// assert_eq!(store.len(), 0);
/// ```
#[derive(Clone, Default)]
pub struct MemoryStore {
    users: Arc<Mutex<HashMap<Uuid, User>>>,
}

impl MemoryStore {
    /// An empty store. Example: see [`MemoryStore`].
    pub fn new() -> Self {
        Self::default()
    }

    /// How many users are stored (with [`is_empty`](Self::is_empty)):
    ///
    /// ```
    /// use axum_users_runtime::{MemoryStore, User, UserStore};
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let store = MemoryStore::new();
    /// assert!(store.is_empty());
    /// store.create(User::new("a@example.com", "hash")).await.unwrap();
    /// assert_eq!(store.len(), 1);
    /// # });
    /// ```
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no user is stored. Example: see [`len`](Self::len).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, User>> {
        self.users.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn same_email(a: &str, b: &str) -> bool {
    a.to_lowercase() == b.to_lowercase()
}

#[async_trait]
impl UserStore for MemoryStore {
    async fn get(&self, id: Uuid) -> Result<Option<User>, StoreError> {
        Ok(self.lock().get(&id).cloned())
    }

    async fn get_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        Ok(self
            .lock()
            .values()
            .find(|u| same_email(&u.email, email))
            .cloned())
    }

    async fn create(&self, user: User) -> Result<User, CreateError> {
        let mut users = self.lock();
        if users.contains_key(&user.id) || users.values().any(|u| same_email(&u.email, &user.email))
        {
            return Err(CreateError::AlreadyExists);
        }
        users.insert(user.id, user.clone());
        Ok(user)
    }

    async fn update(&self, user: &User) -> Result<bool, CreateError> {
        let mut users = self.lock();
        if !users.contains_key(&user.id) {
            return Ok(false);
        }
        if users
            .values()
            .any(|u| u.id != user.id && same_email(&u.email, &user.email))
        {
            return Err(CreateError::AlreadyExists);
        }
        users.insert(user.id, user.clone());
        Ok(true)
    }

    async fn delete(&self, id: Uuid) -> Result<bool, StoreError> {
        Ok(self.lock().remove(&id).is_some())
    }
}
