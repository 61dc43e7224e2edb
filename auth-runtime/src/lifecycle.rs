//! The user lifecycle after registration: verification, password reset, updates, deletion.

use axum::http::request::Parts;
use axum::http::Request;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::error::ApiError;
use crate::jwt::{RESET_AUDIENCE, VERIFY_AUDIENCE};
use crate::mailer::{Mail, MailKind};
use crate::manager::report_hook;
use crate::state::AuthState;
use crate::store::CreateError;
use crate::user::User;
use crate::validation::UserUpdate;

#[derive(Deserialize)]
struct ResetClaims {
    sub: String,
    password_fgpt: String,
}

#[derive(Deserialize)]
struct VerifyClaims {
    sub: String,
    email: String,
}

/// A copy of the request's method, URI, version and headers, for hooks that run after the
/// answer was sent.
pub(crate) fn copy_parts(parts: &Parts) -> Parts {
    let mut request = Request::builder()
        .method(parts.method.clone())
        .uri(parts.uri.clone())
        .version(parts.version)
        .body(())
        .map(|r| r.into_parts().0)
        .unwrap_or_else(|_| Request::new(()).into_parts().0);
    request.headers = parts.headers.clone();
    request
}

fn signing_failed(err: jsonwebtoken::errors::Error) -> ApiError {
    tracing::error!(error = %err, "could not sign a token");
    ApiError::Unavailable
}

impl AuthState {
    /// A password-reset token for `user`, as fastapi-users makes it: `sub`, `password_fgpt` (a
    /// hash of the stored password hash, so the token dies when the password changes),
    /// `aud: "fastapi-users:reset"`, `exp`.
    ///
    /// With [`verification_token`](Self::verification_token):
    ///
    /// ```
    /// # use axum_users_runtime::{AuthConfig, AuthState, BackendKind, BackendSpec, CookieSpec, MemoryStore, Strategy};
    /// # struct Auth;
    /// # impl AuthConfig for Auth {
    /// #     const BACKENDS: &'static [BackendSpec] = &[BackendSpec {
    /// #         name: "jwt", kind: BackendKind::Jwt, strategy: Strategy::Jwt,
    /// #         lifetime: 3600, cookie: CookieSpec::DEFAULT,
    /// #     }];
    /// # }
    /// use axum_users_runtime::{PasswordHasher, User, RESET_AUDIENCE, VERIFY_AUDIENCE};
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let state = AuthState::builder::<Auth>()
    ///     .secret("an example secret of at least 32 bytes!")
    ///     .store(MemoryStore::new())
    ///     .password_hasher(PasswordHasher::with_params(1024, 1, 1).unwrap()) // cheap: tests only
    ///     .build()
    ///     .unwrap();
    /// let user = User::new("ada@example.com", "$argon2id$...");
    /// let reset = state.reset_token(&user).await.unwrap();
    /// let claims: serde_json::Value = state.reset_keys().decode(&reset, RESET_AUDIENCE, &["sub"], 0).unwrap();
    /// assert_eq!(claims["sub"], user.id.to_string());
    /// let verify = state.verification_token(&user).unwrap();
    /// let claims: serde_json::Value = state.verify_keys().decode(&verify, VERIFY_AUDIENCE, &["sub"], 0).unwrap();
    /// assert_eq!(claims["email"], "ada@example.com");
    /// # });
    /// ```
    pub async fn reset_token(&self, user: &User) -> Result<String, ApiError> {
        let fingerprint = self.hasher().hash(&user.hashed_password).await?;
        let mut claims = Map::new();
        claims.insert("sub".into(), json!(user.id.hyphenated().to_string()));
        claims.insert("password_fgpt".into(), json!(fingerprint));
        self.reset_keys()
            .purpose_token(claims, RESET_AUDIENCE, self.reset_lifetime())
            .map_err(signing_failed)
    }

    /// An e-mail verification token for `user`: `sub`, `email`, `aud: "fastapi-users:verify"`,
    /// `exp`. It dies when the user's e-mail changes. Example: see
    /// [`reset_token`](Self::reset_token).
    pub fn verification_token(&self, user: &User) -> Result<String, ApiError> {
        let mut claims = Map::new();
        claims.insert("sub".into(), json!(user.id.hyphenated().to_string()));
        claims.insert("email".into(), json!(user.email));
        self.verify_keys()
            .purpose_token(claims, VERIFY_AUDIENCE, self.verify_lifetime())
            .map_err(signing_failed)
    }

    /// `POST /auth/forgot-password` after the answer: for an existing active user, a reset
    /// token, `on_after_forgot_password`, then the mailer.
    pub(crate) async fn forgot_password(&self, email: &str, parts: &Parts) {
        let user = match self.store().get_by_email(email).await {
            Ok(Some(user)) if user.is_active => user,
            Ok(_) => return,
            Err(err) => {
                tracing::error!(error = %err, "forgot-password: user store failed");
                return;
            }
        };
        let Ok(token) = self.reset_token(&user).await else {
            return;
        };
        let hook = self
            .manager()
            .on_after_forgot_password(&user, &token, parts)
            .await;
        report_hook(parts.uri.path(), "on_after_forgot_password", hook);
        self.send_mail(MailKind::ResetPassword, &user, token).await;
    }

    /// For an active unverified user: a verification token, `on_after_request_verify`, then
    /// the mailer. Nothing for other users.
    pub(crate) async fn request_verify(&self, user: &User, parts: &Parts) {
        if !user.is_active || user.is_verified {
            return;
        }
        let Ok(token) = self.verification_token(user) else {
            return;
        };
        let hook = self
            .manager()
            .on_after_request_verify(user, &token, parts)
            .await;
        report_hook(parts.uri.path(), "on_after_request_verify", hook);
        self.send_mail(MailKind::Verify, user, token).await;
    }

    async fn send_mail(&self, kind: MailKind, user: &User, token: String) {
        let Some(mailer) = self.mailer() else {
            return;
        };
        let mail = Mail {
            kind,
            to: user.email.clone(),
            token,
        };
        if let Err(err) = mailer.send(&mail).await {
            tracing::error!(error = %err, to = %user.email, ?kind, "could not send the message");
        }
    }

    /// Runs `work` after the answer: the client waits for none of it, so the answer takes the
    /// same time whether or not the e-mail belongs to someone.
    pub(crate) fn in_background<F>(&self, parts: &Parts, work: impl FnOnce(AuthState, Parts) -> F)
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        tokio::spawn(work(self.clone(), copy_parts(parts)));
    }

    /// `POST /auth/reset-password`.
    pub(crate) async fn reset_password(
        &self,
        token: &str,
        password: &str,
        parts: &Parts,
    ) -> Result<(), ApiError> {
        let bad = || ApiError::bad_request("RESET_PASSWORD_BAD_TOKEN");
        let claims: ResetClaims = self
            .reset_keys()
            .decode(token, RESET_AUDIENCE, &["exp", "aud", "sub"], self.leeway())
            .ok_or_else(bad)?;
        let id = Uuid::parse_str(&claims.sub).map_err(|_| bad())?;
        let mut user = self.store().get(id).await?.ok_or_else(bad)?;
        let (valid, _) = self
            .hasher()
            .verify_and_update(&user.hashed_password, &claims.password_fgpt)
            .await?;
        if !valid || !user.is_active {
            return Err(bad());
        }
        if let Err(invalid) = self
            .manager()
            .validate_password(password, &user.email)
            .await
        {
            return Err(ApiError::CodeReason {
                code: "RESET_PASSWORD_INVALID_PASSWORD",
                reason: invalid.reason,
            });
        }
        user.hashed_password = self.hasher().hash(password).await?;
        self.save_revoking(&user).await?;
        // The owner proved control of the mailbox: the account's failed logins are forgiven.
        if let Err(err) = self.clear_login_limit(&user.email).await {
            tracing::warn!(error = %err, "could not clear the account's failed logins");
        }
        let hook = self.manager().on_after_reset_password(&user, parts).await;
        report_hook(parts.uri.path(), "on_after_reset_password", hook);
        Ok(())
    }

    /// `POST /auth/verify`.
    pub(crate) async fn verify(&self, token: &str, parts: &Parts) -> Result<User, ApiError> {
        let bad = || ApiError::bad_request("VERIFY_USER_BAD_TOKEN");
        let claims: VerifyClaims = self
            .verify_keys()
            .decode(
                token,
                VERIFY_AUDIENCE,
                &["exp", "aud", "sub"],
                self.leeway(),
            )
            .ok_or_else(bad)?;
        let mut user = self
            .store()
            .get_by_email(&claims.email)
            .await?
            .ok_or_else(bad)?;
        if Uuid::parse_str(&claims.sub).ok() != Some(user.id) {
            return Err(bad());
        }
        if user.is_verified {
            return Err(ApiError::bad_request("VERIFY_USER_ALREADY_VERIFIED"));
        }
        user.is_verified = true;
        self.save(&user).await?;
        let hook = self.manager().on_after_verify(&user, parts).await;
        report_hook(parts.uri.path(), "on_after_verify", hook);
        Ok(user)
    }

    /// Stores `user` after a password change, revoking every stateful token of the user: first
    /// (so that a failing token store leaves everything as it was: 503), then again after the
    /// save for tokens issued meanwhile.
    async fn save_revoking(&self, user: &User) -> Result<(), ApiError> {
        self.logout_everywhere(user.id).await?;
        self.save(user).await?;
        if let Err(err) = self.logout_everywhere(user.id).await {
            tracing::error!(error = %err, user = %user.id, "password changed, but revoking tokens issued during the change failed");
        }
        Ok(())
    }

    /// Stores `user`, which must exist (a user deleted meanwhile is a 404).
    async fn save(&self, user: &User) -> Result<(), ApiError> {
        match self.store().update(user).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(ApiError::NotFound),
            Err(CreateError::AlreadyExists) => {
                Err(ApiError::bad_request("UPDATE_USER_EMAIL_ALREADY_EXISTS"))
            }
            Err(CreateError::Store(err)) => Err(err.into()),
        }
    }

    /// `PATCH /users/me` (`safe`: flags ignored) and `PATCH /users/{id}` (everything).
    pub(crate) async fn update_user(
        &self,
        mut user: User,
        update: UserUpdate,
        safe: bool,
        raw: &Map<String, Value>,
        parts: &Parts,
    ) -> Result<User, ApiError> {
        let mut issues = Vec::new();
        let fields = self.field_schema().read(raw, false, &mut issues);
        if !issues.is_empty() {
            return Err(ApiError::Validation(issues));
        }
        self.field_schema().check_with_type(&user.fields, &fields)?;
        // fastapi-users' order (its update schema's fields): the password, checked against the
        // user as stored, then the e-mail, then the flags.
        let password_changed = update.password.is_some();
        if let Some(password) = update.password {
            if let Err(invalid) = self
                .manager()
                .validate_password(&password, &user.email)
                .await
            {
                return Err(ApiError::CodeReason {
                    code: "UPDATE_USER_INVALID_PASSWORD",
                    reason: invalid.reason,
                });
            }
            user.hashed_password = self.hasher().hash(&password).await?;
        }
        if let Some(email) = update.email {
            if email != user.email {
                if self.store().get_by_email(&email).await?.is_some() {
                    return Err(ApiError::bad_request("UPDATE_USER_EMAIL_ALREADY_EXISTS"));
                }
                user.email = email;
                user.is_verified = false;
            }
        }
        user.fields.extend(fields);
        if !safe {
            user.is_active = update.is_active.unwrap_or(user.is_active);
            user.is_superuser = update.is_superuser.unwrap_or(user.is_superuser);
            user.is_verified = update.is_verified.unwrap_or(user.is_verified);
        }
        if password_changed {
            self.save_revoking(&user).await?;
        } else {
            self.save(&user).await?;
        }
        let hook = self.manager().on_after_update(&user, raw, parts).await;
        report_hook(parts.uri.path(), "on_after_update", hook);
        Ok(user)
    }

    /// `DELETE /users/{id}`: `on_before_delete` (whose failure cancels), delete,
    /// `on_after_delete`.
    pub(crate) async fn delete_user(&self, user: &User, parts: &Parts) -> Result<(), ApiError> {
        if let Err(err) = self.manager().on_before_delete(user, parts).await {
            let problem = format!("on_before_delete failed, user not deleted: {err}");
            tracing::error!(route = parts.uri.path(), "{problem}");
            return Err(ApiError::Internal(problem));
        }
        if !self.store().delete(user.id).await? {
            return Err(ApiError::NotFound);
        }
        // SQL stores cascade to `accesstoken`; Redis keys must go explicitly.
        if let Err(err) = self.logout_everywhere(user.id).await {
            tracing::error!(error = %err, user = %user.id, "user deleted, but deleting their tokens failed (they no longer authenticate: the user is gone)");
        }
        let hook = self.manager().on_after_delete(user, parts).await;
        report_hook(parts.uri.path(), "on_after_delete", hook);
        Ok(())
    }
}
