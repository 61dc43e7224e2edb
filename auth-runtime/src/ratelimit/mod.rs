//! Brute-force limits of the generated routes ([`RateLimits`]): where the counters live
//! ([`RateLimiter`]: [`MemoryRateLimiter`], [`RedisRateLimiter`]) and how the routes use them.

mod memory;
#[cfg(feature = "redis")]
mod redis;

use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use axum::http::request::Parts;

use crate::client::{client_ip, client_subject};
use crate::config::{Rate, RateLimits};
use crate::error::{ApiError, StoreError};
use crate::state::AuthState;

#[cfg(feature = "redis")]
pub use self::redis::{RedisRateLimiter, DEFAULT_RATE_LIMIT_PREFIX};
pub use memory::{MemoryRateLimiter, DEFAULT_MAX_KEYS};

/// The names of the counters the generated routes keep (the `limit` argument of
/// [`RateLimiter`]); in Redis they are part of the key.
///
/// ```
/// use axum_users_runtime::limit;
///
/// assert_eq!(limit::LOGIN_ACCOUNT, "login_account");
/// assert_eq!(limit::MAIL_CLIENT, "mail_client");
/// ```
pub mod limit {
    /// Failed logins per account (the normalized e-mail address).
    pub const LOGIN_ACCOUNT: &str = "login_account";
    /// Failed logins per client address.
    pub const LOGIN_CLIENT: &str = "login_client";
    /// Registrations per client address.
    pub const REGISTER_CLIENT: &str = "register_client";
    /// `forgot-password` and `request-verify-token` requests per e-mail address (one counter
    /// for both routes).
    pub const MAIL_ACCOUNT: &str = "mail_account";
    /// `forgot-password` and `request-verify-token` requests per client address.
    pub const MAIL_CLIENT: &str = "mail_client";
}

/// The outcome of one [`RateLimiter::hit`].
///
/// ```
/// use axum_users_runtime::Decision;
///
/// let decision = Decision { allowed: false, count: 6, retry_after: 840 };
/// assert!(!decision.allowed);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// Whether the event is within the limit (the count, this event included, is at most the
    /// rate's `max`).
    pub allowed: bool,
    /// Events counted in the current window, this one included (0 when the limiter refused
    /// to track a new subject).
    pub count: u64,
    /// Seconds until the current window ends (at least 1): the `Retry-After` of a refusal.
    pub retry_after: u64,
}

impl Decision {
    /// The decision for `count` events against `max`, with `remaining` left in the window.
    pub(crate) fn new(count: u64, max: u32, remaining: Duration) -> Self {
        Decision {
            allowed: count <= u64::from(max),
            count,
            retry_after: ceil_secs(remaining),
        }
    }
}

/// Whole seconds, rounded up, at least 1.
pub(crate) fn ceil_secs(duration: Duration) -> u64 {
    let secs = duration.as_secs() + u64::from(duration.subsec_nanos() > 0);
    secs.max(1)
}

/// A window of `rate`, at least one second.
pub(crate) fn window(rate: Rate) -> Duration {
    Duration::from_secs(rate.window.max(1))
}

/// SHA-256 of `subject`: subjects (e-mail addresses, client addresses) are never kept in
/// clear, and a key's size does not depend on what the client sent.
#[cfg(any(feature = "redis", test))]
pub(crate) fn digest(subject: &str) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut out = [0u8; 32];
    out.copy_from_slice(&Sha256::digest(subject.as_bytes()));
    out
}

/// Fixed-window counters of the brute-force limits, keyed by a limit name (see [`limit`]) and
/// a subject (a normalized e-mail address, a client address).
///
/// [`MemoryRateLimiter`] (the default) keeps them in the process; [`RedisRateLimiter`] in Redis,
/// so that every instance of a service counts together. A failing limiter makes the limited
/// routes answer 503 `{"detail": "SERVICE_UNAVAILABLE"}`: they fail closed, because an
/// attacker who can bring the limiter down must not thereby lift the limits.
///
/// ```
/// use axum_users_runtime::{MemoryRateLimiter, Rate, RateLimiter};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let limiter = MemoryRateLimiter::new();
/// let rate = Rate::new(2, 60);
/// assert!(limiter.hit("login_account", "a@example.com", rate).await.unwrap().allowed);
/// assert!(limiter.hit("login_account", "a@example.com", rate).await.unwrap().allowed);
/// let third = limiter.hit("login_account", "a@example.com", rate).await.unwrap();
/// assert!(!third.allowed);
/// assert_eq!(third.count, 3);
/// assert!(third.retry_after >= 1 && third.retry_after <= 60);
/// limiter.clear("login_account", "a@example.com").await.unwrap();
/// assert!(limiter.hit("login_account", "a@example.com", rate).await.unwrap().allowed);
/// # });
/// ```
#[async_trait]
pub trait RateLimiter: Send + Sync + 'static {
    /// Counts one event of `subject` under `limit`: a new window of `rate.window` seconds
    /// starts with the first event after the previous one ended. Atomic: concurrent hits are
    /// all counted.
    async fn hit(&self, limit: &str, subject: &str, rate: Rate) -> Result<Decision, StoreError>;

    /// Takes back one event of the current window, if there is one (a login that succeeded
    /// after all).
    async fn undo(&self, limit: &str, subject: &str) -> Result<(), StoreError>;

    /// Forgets the counter (a successful login or a password reset clears the account's
    /// failures).
    async fn clear(&self, limit: &str, subject: &str) -> Result<(), StoreError>;
}

/// What a login counted, to take back when it succeeds.
pub(crate) struct LoginAttempt {
    account: Option<String>,
    client: Option<String>,
}

/// Logged once per process: per-client limits need the socket's address.
static NO_CONNECT_INFO: AtomicBool = AtomicBool::new(false);

/// The subject of an account: the address lower-cased and trimmed, as every store compares it
/// case-insensitively; whether a user has it or not makes no difference.
fn account_subject(email: &str) -> String {
    email.trim().to_lowercase()
}

impl AuthState {
    /// The address of the client that sent the request, as the per-client limits count it:
    /// the socket's peer, or, when the peer is a trusted proxy
    /// ([`trusted_proxies`](crate::AuthStateBuilder::trusted_proxies)), the right-most
    /// `X-Forwarded-For` address that is not itself a trusted proxy. `None` when the server
    /// gives no `ConnectInfo<SocketAddr>` (serve the app with
    /// `into_make_service_with_connect_info::<SocketAddr>()`).
    ///
    /// ```
    /// use std::net::SocketAddr;
    /// use axum::extract::ConnectInfo;
    /// use axum::http::Request;
    /// # use axum_users_runtime::{AuthConfig, AuthState, BackendKind, BackendSpec, CookieSpec, MemoryStore, Strategy};
    /// # struct Auth;
    /// # impl AuthConfig for Auth {
    /// #     const BACKENDS: &'static [BackendSpec] = &[BackendSpec {
    /// #         name: "jwt", kind: BackendKind::Jwt, strategy: Strategy::Jwt,
    /// #         lifetime: 3600, cookie: CookieSpec::DEFAULT,
    /// #     }];
    /// # }
    ///
    /// let state = AuthState::builder::<Auth>()
    ///     .secret("an example secret of at least 32 bytes!")
    ///     .store(MemoryStore::new())
    ///     .trusted_proxies(["10.0.0.0/8"])
    ///     .build()
    ///     .unwrap();
    /// let (mut parts, ()) = Request::builder()
    ///     .header("x-forwarded-for", "198.51.100.7")
    ///     .body(())
    ///     .unwrap()
    ///     .into_parts();
    /// assert_eq!(state.client_ip(&parts), None);
    /// parts.extensions.insert(ConnectInfo("10.1.2.3:5000".parse::<SocketAddr>().unwrap()));
    /// assert_eq!(state.client_ip(&parts), Some("198.51.100.7".parse().unwrap()));
    /// ```
    pub fn client_ip(&self, parts: &Parts) -> Option<IpAddr> {
        client_ip(parts, self.trusted_proxies())
    }

    /// Forgets the failed logins counted against `email` (a password reset does it), e.g. for
    /// an administrator unlocking an account.
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
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let state = AuthState::builder::<Auth>()
    ///     .secret("an example secret of at least 32 bytes!")
    ///     .store(MemoryStore::new())
    ///     .build()
    ///     .unwrap();
    /// state.clear_login_limit("Someone@Example.com").await.unwrap();
    /// # });
    /// ```
    pub async fn clear_login_limit(&self, email: &str) -> Result<(), StoreError> {
        if self.rate_limits().login_per_account.is_none() {
            return Ok(());
        }
        self.rate_limiter()
            .clear(limit::LOGIN_ACCOUNT, &account_subject(email))
            .await
    }

    /// The per-client subject of the request; `None` (and a warning, once) without
    /// `ConnectInfo`.
    fn client_subject(&self, parts: &Parts, limits: &[Option<Rate>]) -> Option<String> {
        if limits.iter().all(Option::is_none) {
            return None;
        }
        let subject = self.client_ip(parts).map(client_subject);
        if subject.is_none() && !NO_CONNECT_INFO.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                "per-client rate limits are off: the request carries no client address; serve \
                 the app with `into_make_service_with_connect_info::<SocketAddr>()`"
            );
        }
        subject
    }

    /// Counts one event per `(limit, rate, subject)`; 429 when any is over its limit (the
    /// longest `Retry-After`), 503 when the limiter fails.
    async fn check(&self, hits: &[(&str, Option<Rate>, Option<&str>)]) -> Result<(), ApiError> {
        let mut refused: Option<u64> = None;
        for (name, rate, subject) in hits {
            let (Some(rate), Some(subject)) = (rate, subject) else {
                continue;
            };
            let decision = self
                .rate_limiter()
                .hit(name, subject, *rate)
                .await
                .map_err(|err| {
                    tracing::error!(error = %err, limit = name, "rate limiter failed; answering 503");
                    ApiError::Unavailable
                })?;
            if !decision.allowed {
                refused = Some(refused.unwrap_or(0).max(decision.retry_after));
            }
        }
        match refused {
            Some(retry_after) => Err(ApiError::TooManyRequests {
                retry_after: retry_after.max(1),
            }),
            None => Ok(()),
        }
    }

    /// Before a login checks the password: counts the attempt against the account and the
    /// client.
    pub(crate) async fn limit_login(
        &self,
        parts: &Parts,
        username: &str,
    ) -> Result<LoginAttempt, ApiError> {
        let limits = *self.rate_limits();
        let account = limits.login_per_account.map(|_| account_subject(username));
        let client = self.client_subject(parts, &[limits.login_per_client]);
        self.check(&[
            (
                limit::LOGIN_ACCOUNT,
                limits.login_per_account,
                account.as_deref(),
            ),
            (
                limit::LOGIN_CLIENT,
                limits.login_per_client,
                client.as_deref(),
            ),
        ])
        .await?;
        Ok(LoginAttempt { account, client })
    }

    /// A login succeeded: only failures count, so the account's counter is cleared and the
    /// client's attempt taken back. A limiter failure here is logged, not answered: the
    /// credentials were right.
    pub(crate) async fn login_succeeded(&self, attempt: LoginAttempt) {
        if let Some(account) = &attempt.account {
            if let Err(err) = self
                .rate_limiter()
                .clear(limit::LOGIN_ACCOUNT, account)
                .await
            {
                tracing::warn!(error = %err, "could not clear the account's failed logins");
            }
        }
        if let Some(client) = &attempt.client {
            if let Err(err) = self.rate_limiter().undo(limit::LOGIN_CLIENT, client).await {
                tracing::warn!(error = %err, "could not take back the client's login attempt");
            }
        }
    }

    /// `POST /auth/register`: counts the attempt against the client.
    pub(crate) async fn limit_register(&self, parts: &Parts) -> Result<(), ApiError> {
        let rate = self.rate_limits().register_per_client;
        let client = self.client_subject(parts, &[rate]);
        self.check(&[(limit::REGISTER_CLIENT, rate, client.as_deref())])
            .await
    }

    /// `POST /auth/forgot-password` and `POST /auth/request-verify-token`: counts the request
    /// against the address (whether a user has it or not) and the client.
    pub(crate) async fn limit_mail(&self, parts: &Parts, email: &str) -> Result<(), ApiError> {
        let RateLimits {
            mail_per_account,
            mail_per_client,
            ..
        } = *self.rate_limits();
        let account = mail_per_account.map(|_| account_subject(email));
        let client = self.client_subject(parts, &[mail_per_client]);
        self.check(&[
            (limit::MAIL_ACCOUNT, mail_per_account, account.as_deref()),
            (limit::MAIL_CLIENT, mail_per_client, client.as_deref()),
        ])
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_rounds_up_to_at_least_one_second() {
        assert_eq!(ceil_secs(Duration::ZERO), 1);
        assert_eq!(ceil_secs(Duration::from_millis(1)), 1);
        assert_eq!(ceil_secs(Duration::from_millis(1001)), 2);
        assert_eq!(ceil_secs(Duration::from_secs(900)), 900);
    }

    #[test]
    fn decisions_allow_up_to_max() {
        assert!(Decision::new(5, 5, Duration::from_secs(1)).allowed);
        assert!(!Decision::new(6, 5, Duration::from_secs(1)).allowed);
        assert!(!Decision::new(1, 0, Duration::from_secs(1)).allowed);
    }

    #[test]
    fn accounts_are_compared_case_insensitively() {
        assert_eq!(account_subject(" A@Example.COM "), "a@example.com");
    }

    #[test]
    fn digests_are_sha256() {
        assert_eq!(
            digest("abc")[..4],
            [0xba, 0x78, 0x16, 0xbf],
            "SHA-256(\"abc\") starts with ba7816bf"
        );
    }
}
