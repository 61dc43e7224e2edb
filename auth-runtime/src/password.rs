//! Password hashing: argon2id by default, bcrypt hashes verified and upgraded.
//!
//! Hashing runs on tokio's blocking pool, never on the async executor, and at most
//! `max_concurrency` hashes run at once (each argon2id hash at the defaults holds 64 MiB).

use std::sync::Arc;

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

use crate::error::{ApiError, ConfigError};

/// Hashes and verifies passwords.
///
/// The default uses fastapi-users' parameters: argon2id v19, m = 65536 KiB, t = 3, p = 4,
/// 32-byte hash, 16-byte salt.
///
/// ```
/// use axum_users_runtime::PasswordHasher;
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// // Cheap parameters, for tests only.
/// let hasher = PasswordHasher::with_params(1024, 1, 1).unwrap();
/// let hash = hasher.hash("correct horse").await.unwrap();
/// assert!(hash.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"));
/// assert_eq!(hasher.verify_and_update("correct horse", &hash).await.unwrap(), (true, None));
/// assert_eq!(hasher.verify_and_update("wrong", &hash).await.unwrap(), (false, None));
/// # });
/// ```
#[derive(Clone)]
pub struct PasswordHasher {
    params: Params,
    permits: Arc<Semaphore>,
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHasher")
            .field("m_cost", &self.params.m_cost())
            .field("t_cost", &self.params.t_cost())
            .field("p_cost", &self.params.p_cost())
            .field("max_concurrency", &self.permits.available_permits())
            .finish()
    }
}

impl Default for PasswordHasher {
    fn default() -> Self {
        Self::with_params(65536, 3, 4).expect("fastapi-users' argon2 parameters are valid")
    }
}

impl PasswordHasher {
    /// argon2id with memory `m_cost` KiB, `t_cost` passes and `p_cost` lanes (32-byte hash).
    pub fn with_params(m_cost: u32, t_cost: u32, p_cost: u32) -> Result<Self, ConfigError> {
        let params = Params::new(m_cost, t_cost, p_cost, Some(32))
            .map_err(|e| ConfigError::Argon2(e.to_string()))?;
        let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
        Ok(PasswordHasher {
            params,
            permits: Arc::new(Semaphore::new(cpus)),
        })
    }

    /// Caps how many hashes run at once (default: the number of CPUs).
    pub fn max_concurrency(mut self, n: usize) -> Self {
        self.permits = Arc::new(Semaphore::new(n.max(1)));
        self
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// Runs `work` on the blocking pool once a permit is free. The permit moves into the
    /// blocking closure and is released when the hash is done, not when the caller's future is:
    /// a request dropped mid-hash (its client gone) cannot let another 64 MiB hash start beside
    /// the one still running, so at most `max_concurrency` hashes are ever in memory.
    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(Argon2<'static>) -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|_| ApiError::Unavailable)?;
        let argon2 = self.argon2();
        tokio::task::spawn_blocking(move || {
            let result = work(argon2);
            drop(permit);
            result
        })
        .await
        .map_err(|err| {
            tracing::error!(error = %err, "password hashing task failed");
            ApiError::Unavailable
        })
    }

    /// Hashes a password into an argon2id PHC string.
    pub async fn hash(&self, password: &str) -> Result<String, ApiError> {
        let password = password.to_owned();
        self.blocking(move |argon2| {
            argon2
                .hash_password(password.as_bytes())
                .map(|h| h.to_string())
        })
        .await?
        .map_err(|err| {
            tracing::error!(error = %err, "argon2 hashing failed");
            ApiError::Unavailable
        })
    }

    /// Verifies `password` against `hash`: `(true, Some(new_hash))` when it matches and the hash
    /// should be upgraded (bcrypt, or other argon2 parameters); `(true, None)` when it matches as
    /// is; `(false, None)` otherwise, including for hashes in an unknown format.
    pub async fn verify_and_update(
        &self,
        password: &str,
        hash: &str,
    ) -> Result<(bool, Option<String>), ApiError> {
        let (password, hash) = (password.to_owned(), hash.to_owned());
        let params = self.params.clone();
        self.blocking(move |argon2| verify_and_update(&argon2, &params, &password, &hash))
            .await?
    }

    /// Spends the time of one hash and throws it away: used when the e-mail is unknown, so that
    /// the answer takes as long as for a known e-mail.
    pub async fn burn(&self, password: &str) -> Result<(), ApiError> {
        self.hash(password).await.map(drop)
    }
}

fn verify_and_update(
    argon2: &Argon2<'static>,
    params: &Params,
    password: &str,
    hash: &str,
) -> Result<(bool, Option<String>), ApiError> {
    let rehash = |argon2: &Argon2<'static>| {
        argon2
            .hash_password(password.as_bytes())
            .map(|h| Some(h.to_string()))
            .map_err(|err| {
                tracing::error!(error = %err, "argon2 hashing failed");
                ApiError::Unavailable
            })
    };
    if hash.starts_with("$argon2") {
        let Ok(parsed) = PasswordHash::new(hash) else {
            tracing::warn!("stored password hash is not a valid PHC string");
            return Ok((false, None));
        };
        if argon2
            .verify_password(password.as_bytes(), &parsed)
            .is_err()
        {
            return Ok((false, None));
        }
        let current = parsed.algorithm.as_str() == "argon2id"
            && parsed.version == Some(0x13)
            && Params::try_from(&parsed).is_ok_and(|p| {
                p.m_cost() == params.m_cost()
                    && p.t_cost() == params.t_cost()
                    && p.p_cost() == params.p_cost()
                    && parsed.hash.as_ref().map(|h| h.len()) == params.output_len()
            });
        return if current {
            Ok((true, None))
        } else {
            Ok((true, rehash(argon2)?))
        };
    }
    if ["$2a$", "$2b$", "$2x$", "$2y$"]
        .iter()
        .any(|p| hash.starts_with(p))
    {
        return match bcrypt::verify(password, hash) {
            Ok(true) => Ok((true, rehash(argon2)?)),
            _ => Ok((false, None)),
        };
    }
    tracing::warn!("stored password hash has an unknown format; login refused");
    Ok((false, None))
}

#[cfg(test)]
mod cancellation_tests {
    use std::time::Duration;

    use super::PasswordHasher;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_dropped_request_keeps_its_permit_until_its_hash_ends() {
        // About a tenth of a second a hash: long enough to cancel the request mid-hash.
        let hasher = PasswordHasher::with_params(32 * 1024, 3, 1)
            .unwrap()
            .max_concurrency(1);
        let request = {
            let hasher = hasher.clone();
            tokio::spawn(async move { hasher.hash("correct horse").await })
        };
        while hasher.permits.available_permits() == 1 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        // The hash is on the blocking pool now; the client goes away.
        tokio::time::sleep(Duration::from_millis(10)).await;
        request.abort();
        assert!(request.await.unwrap_err().is_cancelled());
        assert_eq!(
            hasher.permits.available_permits(),
            0,
            "the hash still runs, so its permit must still be held"
        );
        tokio::time::timeout(Duration::from_secs(30), async {
            while hasher.permits.available_permits() == 0 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await
        .expect("the permit comes back when the hash ends");
    }
}
