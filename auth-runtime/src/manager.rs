//! The application's hooks: password policy and lifecycle callbacks.

use async_trait::async_trait;
use axum::http::request::Parts;

use crate::user::User;

/// Error type of the `on_after_*` hooks; a failing hook is logged with its route and does not
/// change the answer or the stored data.
pub type HookError = Box<dyn std::error::Error + Send + Sync>;

/// A password rejected by [`UserManager::validate_password`]; `reason` becomes the `reason` of the
/// `{"code": ..._INVALID_PASSWORD, "reason": ...}` answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct InvalidPassword {
    /// Text shown to the client.
    pub reason: String,
}

impl InvalidPassword {
    /// A rejection with this reason.
    pub fn new(reason: impl Into<String>) -> Self {
        InvalidPassword {
            reason: reason.into(),
        }
    }
}

/// The application's side of user management, as fastapi-users' `UserManager`: every method has
/// a default, so implement only what you need.
///
/// ```
/// use axum_users_runtime::{InvalidPassword, UserManager};
///
/// struct Policy;
///
/// #[async_trait::async_trait]
/// impl UserManager for Policy {
///     async fn validate_password(&self, password: &str, email: &str) -> Result<(), InvalidPassword> {
///         if password.chars().count() < 12 {
///             return Err(InvalidPassword::new("Password should be at least 12 characters"));
///         }
///         if password.to_lowercase().contains(&email.to_lowercase()) {
///             return Err(InvalidPassword::new("Password should not contain e-mail"));
///         }
///         Ok(())
///     }
/// }
/// ```
#[async_trait]
pub trait UserManager: Send + Sync + 'static {
    /// The password policy, run on registration (before the duplicate check, as fastapi-users
    /// does). The default rejects fewer than 8 characters.
    async fn validate_password(&self, password: &str, email: &str) -> Result<(), InvalidPassword> {
        let _ = email;
        if password.chars().count() < 8 {
            return Err(InvalidPassword::new(
                "Password should be at least 8 characters",
            ));
        }
        Ok(())
    }

    /// After a user registered (the user is stored).
    async fn on_after_register(&self, user: &User, request: &Parts) -> Result<(), HookError> {
        let _ = (user, request);
        Ok(())
    }

    /// After a successful login, before the answer is sent.
    async fn on_after_login(&self, user: &User, request: &Parts) -> Result<(), HookError> {
        let _ = (user, request);
        Ok(())
    }
}

/// The [`UserManager`] with every default: 8-character minimum, no callbacks.
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultUserManager;

impl UserManager for DefaultUserManager {}

/// Runs a hook and logs (without failing the request) when it fails.
pub(crate) fn report_hook(route: &str, hook: &str, result: Result<(), HookError>) {
    if let Err(err) = result {
        tracing::error!(route, hook, error = %err, "user-manager hook failed");
    }
}
