//! The application's hooks: password policy and lifecycle callbacks.

use async_trait::async_trait;
use axum::http::request::Parts;

use crate::user::User;

/// Error type of the `on_after_*` hooks; a failing hook is logged with its route and does not
/// change the answer or the stored data.
///
/// ```
/// use axum_users_runtime::HookError;
///
/// let err: HookError = "the audit log is full".into();
/// assert_eq!(err.to_string(), "the audit log is full");
/// ```
pub type HookError = Box<dyn std::error::Error + Send + Sync>;

/// A password rejected by [`UserManager::validate_password`]; `reason` becomes the `reason` of the
/// `{"code": ..._INVALID_PASSWORD, "reason": ...}` answer.
///
/// ```
/// use axum_users_runtime::InvalidPassword;
///
/// let invalid = InvalidPassword::new("Password should be at least 12 characters");
/// assert_eq!(invalid.to_string(), invalid.reason);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct InvalidPassword {
    /// Text shown to the client.
    pub reason: String,
}

impl InvalidPassword {
    /// A rejection with this reason. Example: see [`InvalidPassword`].
    pub fn new(reason: impl Into<String>) -> Self {
        InvalidPassword {
            reason: reason.into(),
        }
    }
}

/// The application's side of user management, as fastapi-users' `UserManager`: every method has
/// a default, so implement only what you need.
///
/// The `on_after_*` hooks run after the change is stored; one that fails is logged with its
/// route and changes neither the answer nor the stored data. Hooks receive the user, the token
/// where there is one, and the request's parts (method, URI, headers).
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

    /// After `POST /auth/forgot-password` for an existing active user, with the reset token
    /// (runs after the 202 answer, so the client cannot time it). The configured mailer, if
    /// any, sends the message after this hook.
    async fn on_after_forgot_password(
        &self,
        user: &User,
        token: &str,
        request: &Parts,
    ) -> Result<(), HookError> {
        let _ = (user, token, request);
        Ok(())
    }

    /// After a verification token was made for an active unverified user (on
    /// `POST /auth/request-verify-token`, or after registration when the state sends
    /// verification e-mails on registration). Runs after the 202 answer.
    async fn on_after_request_verify(
        &self,
        user: &User,
        token: &str,
        request: &Parts,
    ) -> Result<(), HookError> {
        let _ = (user, token, request);
        Ok(())
    }

    /// After `POST /auth/verify` marked the user verified.
    async fn on_after_verify(&self, user: &User, request: &Parts) -> Result<(), HookError> {
        let _ = (user, request);
        Ok(())
    }

    /// After `POST /auth/reset-password` stored the new password.
    async fn on_after_reset_password(&self, user: &User, request: &Parts) -> Result<(), HookError> {
        let _ = (user, request);
        Ok(())
    }

    /// After `PATCH /users/me` or `PATCH /users/{id}` stored the change; `update` is the JSON
    /// object as the client sent it (a new password in clear, as in fastapi-users).
    async fn on_after_update(
        &self,
        user: &User,
        update: &serde_json::Map<String, serde_json::Value>,
        request: &Parts,
    ) -> Result<(), HookError> {
        let _ = (user, update, request);
        Ok(())
    }

    /// Before `DELETE /users/{id}` deletes the user. An error here cancels the deletion (the
    /// user stays, the client gets a 500 and the log says why).
    async fn on_before_delete(&self, user: &User, request: &Parts) -> Result<(), HookError> {
        let _ = (user, request);
        Ok(())
    }

    /// After `DELETE /users/{id}` deleted the user.
    async fn on_after_delete(&self, user: &User, request: &Parts) -> Result<(), HookError> {
        let _ = (user, request);
        Ok(())
    }
}

/// The [`UserManager`] with every default: 8-character minimum, no callbacks.
///
/// ```
/// use axum_users_runtime::{DefaultUserManager, UserManager};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let policy = DefaultUserManager;
/// assert!(policy.validate_password("short", "a@example.com").await.is_err());
/// assert!(policy.validate_password("long enough", "a@example.com").await.is_ok());
/// # });
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultUserManager;

impl UserManager for DefaultUserManager {}

/// Runs a hook and logs (without failing the request) when it fails.
pub(crate) fn report_hook(route: &str, hook: &str, result: Result<(), HookError>) {
    if let Err(err) = result {
        tracing::error!(route, hook, error = %err, "user-manager hook failed");
    }
}
