//! Password hashing: argon2id by default, bcrypt hashes verified and upgraded.
//!
//! Hashing runs on tokio's blocking pool, never on the async executor, and at most
//! `max_concurrency` hashes run at once (each argon2id hash at the defaults holds 64 MiB).
//! At most `max_waiting` more wait for their turn, each for at most `max_wait`; the others are
//! shed at once with 503, so a flood of logins costs neither unbounded memory nor unbounded
//! queues.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

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
    pool: Arc<Pool>,
}

/// The bounded pool every hash goes through (shared by clones).
struct Pool {
    permits: Arc<Semaphore>,
    max_concurrency: usize,
    /// Callers waiting for a permit right now.
    waiting: AtomicUsize,
    max_waiting: usize,
    max_wait: Duration,
}

impl Pool {
    fn new(max_concurrency: usize, max_waiting: usize, max_wait: Duration) -> Arc<Self> {
        let max_concurrency = max_concurrency.max(1);
        Arc::new(Pool {
            permits: Arc::new(Semaphore::new(max_concurrency)),
            max_concurrency,
            waiting: AtomicUsize::new(0),
            max_waiting,
            max_wait,
        })
    }

    /// A permit now; or after waiting, if fewer than `max_waiting` callers already wait and one
    /// frees up within `max_wait`; otherwise 503.
    async fn acquire(&self) -> Result<tokio::sync::OwnedSemaphorePermit, ApiError> {
        if let Ok(permit) = Arc::clone(&self.permits).try_acquire_owned() {
            return Ok(permit);
        }
        let queued = self.waiting.fetch_add(1, Ordering::AcqRel);
        // Decrements the count however this future ends (answered, shed or dropped).
        struct Waiting<'a>(&'a AtomicUsize);
        impl Drop for Waiting<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::AcqRel);
            }
        }
        let _waiting = Waiting(&self.waiting);
        if queued >= self.max_waiting {
            tracing::warn!(
                waiting = queued,
                "password hashing pool saturated: request shed with 503"
            );
            return Err(ApiError::Unavailable);
        }
        match tokio::time::timeout(self.max_wait, Arc::clone(&self.permits).acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            Ok(Err(_closed)) => Err(ApiError::Unavailable),
            Err(_elapsed) => {
                tracing::warn!(
                    max_wait_ms = self.max_wait.as_millis() as u64,
                    "no password hashing slot within the wait limit: request shed with 503"
                );
                Err(ApiError::Unavailable)
            }
        }
    }
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHasher")
            .field("m_cost", &self.params.m_cost())
            .field("t_cost", &self.params.t_cost())
            .field("p_cost", &self.params.p_cost())
            .field("max_concurrency", &self.pool.max_concurrency)
            .field("max_waiting", &self.pool.max_waiting)
            .field("max_wait", &self.pool.max_wait)
            .finish()
    }
}

/// Callers that may wait for a hashing slot, per slot, by default.
const WAITING_PER_SLOT: usize = 32;
/// How long a caller waits for a hashing slot by default.
const DEFAULT_MAX_WAIT: Duration = Duration::from_secs(10);

impl Default for PasswordHasher {
    fn default() -> Self {
        Self::with_params(65536, 3, 4).expect("fastapi-users' argon2 parameters are valid")
    }
}

impl PasswordHasher {
    /// argon2id with memory `m_cost` KiB, `t_cost` passes and `p_cost` lanes (32-byte hash).
    ///
    /// ```
    /// use axum_users_runtime::PasswordHasher;
    ///
    /// let cheap = PasswordHasher::with_params(1024, 1, 1).unwrap(); // tests only
    /// assert!(PasswordHasher::with_params(1, 1, 1).is_err()); // too little memory
    /// # let _ = cheap;
    /// ```
    pub fn with_params(m_cost: u32, t_cost: u32, p_cost: u32) -> Result<Self, ConfigError> {
        let params = Params::new(m_cost, t_cost, p_cost, Some(32))
            .map_err(|e| ConfigError::Argon2(e.to_string()))?;
        let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
        Ok(PasswordHasher {
            params,
            pool: Pool::new(cpus, cpus * WAITING_PER_SLOT, DEFAULT_MAX_WAIT),
        })
    }

    /// Caps how many hashes run at once (default: the number of CPUs). Also resets
    /// [`max_waiting`](Self::max_waiting) to its default for `n` slots (32 per slot) unless it
    /// is set afterwards.
    ///
    /// ```
    /// use std::time::Duration;
    /// use axum_users_runtime::PasswordHasher;
    ///
    /// // Two hashes at once (2 × 64 MiB at the default parameters), eight more callers may
    /// // wait up to 5 s each; any further login is answered 503 at once.
    /// let hasher = PasswordHasher::default()
    ///     .max_concurrency(2)
    ///     .max_waiting(8)
    ///     .max_wait(Duration::from_secs(5));
    /// assert!(format!("{hasher:?}").contains("max_waiting: 8"));
    /// ```
    pub fn max_concurrency(mut self, n: usize) -> Self {
        self.pool = Pool::new(n, n.max(1) * WAITING_PER_SLOT, self.pool.max_wait);
        self
    }

    /// Caps how many callers wait for a free slot (default: 32 per slot); beyond it a hash is
    /// refused at once with 503 (`SERVICE_UNAVAILABLE`). `0` sheds everything that cannot start
    /// immediately. Example: see [`max_concurrency`](Self::max_concurrency).
    pub fn max_waiting(mut self, n: usize) -> Self {
        self.pool = Pool::new(self.pool.max_concurrency, n, self.pool.max_wait);
        self
    }

    /// How long a caller waits for a free slot before it is refused with 503 (default 10 s).
    /// Example: see [`max_concurrency`](Self::max_concurrency).
    pub fn max_wait(mut self, wait: Duration) -> Self {
        self.pool = Pool::new(self.pool.max_concurrency, self.pool.max_waiting, wait);
        self
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// Runs `work` on the blocking pool once a permit is free (or answers 503, see
    /// [`Pool::acquire`]). The permit moves into the blocking closure and is released when the
    /// hash is done, not when the caller's future is: a request dropped mid-hash (its client
    /// gone) cannot let another 64 MiB hash start beside the one still running, so at most
    /// `max_concurrency` hashes are ever in memory.
    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(Argon2<'static>) -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let permit = self.pool.acquire().await?;
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
    ///
    /// ```
    /// use axum_users_runtime::PasswordHasher;
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let hasher = PasswordHasher::with_params(1024, 1, 1).unwrap(); // cheap: for tests only
    /// let hash = hasher.hash("guinevere").await.unwrap();
    /// assert!(hash.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"));
    /// assert_eq!(hasher.verify_and_update("guinevere", &hash).await.unwrap(), (true, None));
    /// assert_eq!(hasher.verify_and_update("morgana", &hash).await.unwrap(), (false, None));
    ///
    /// // A hash with other parameters verifies and comes back upgraded.
    /// let stronger = PasswordHasher::with_params(2048, 1, 1).unwrap();
    /// let (ok, upgraded) = stronger.verify_and_update("guinevere", &hash).await.unwrap();
    /// assert!(ok && upgraded.unwrap().contains("m=2048"));
    /// # });
    /// ```
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
    ///
    /// Example: see [`hash`](Self::hash).
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
    ///
    /// ```
    /// use axum_users_runtime::PasswordHasher;
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let hasher = PasswordHasher::with_params(1024, 1, 1).unwrap();
    /// hasher.burn("whatever was typed").await.unwrap(); // as long as a real check
    /// # });
    /// ```
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
        while hasher.pool.permits.available_permits() == 1 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        // The hash is on the blocking pool now; the client goes away.
        tokio::time::sleep(Duration::from_millis(10)).await;
        request.abort();
        assert!(request.await.unwrap_err().is_cancelled());
        assert_eq!(
            hasher.pool.permits.available_permits(),
            0,
            "the hash still runs, so its permit must still be held"
        );
        tokio::time::timeout(Duration::from_secs(30), async {
            while hasher.pool.permits.available_permits() == 0 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await
        .expect("the permit comes back when the hash ends");
    }
}

#[cfg(test)]
mod pool_tests {
    use std::time::Duration;

    use super::PasswordHasher;
    use crate::error::ApiError;

    fn cheap() -> PasswordHasher {
        PasswordHasher::with_params(1024, 1, 1).unwrap()
    }

    /// Takes every slot, as running hashes would.
    async fn occupy(hasher: &PasswordHasher) -> tokio::sync::OwnedSemaphorePermit {
        let slots = hasher.pool.max_concurrency as u32;
        std::sync::Arc::clone(&hasher.pool.permits)
            .acquire_many_owned(slots)
            .await
            .unwrap()
    }

    async fn until_waiting(hasher: &PasswordHasher, n: usize) {
        while hasher
            .pool
            .waiting
            .load(std::sync::atomic::Ordering::Acquire)
            != n
        {
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test]
    async fn beyond_max_waiting_callers_are_shed_and_the_queue_drains() {
        let hasher = cheap().max_concurrency(1).max_waiting(2);
        let busy = occupy(&hasher).await;
        let queued: Vec<_> = (0..2)
            .map(|_| {
                let hasher = hasher.clone();
                tokio::spawn(async move { hasher.hash("correct horse").await })
            })
            .collect();
        until_waiting(&hasher, 2).await;
        for _ in 0..5 {
            assert!(matches!(
                hasher.hash("correct horse").await,
                Err(ApiError::Unavailable)
            ));
        }
        assert!(matches!(
            hasher
                .verify_and_update("x", "$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$aGFzaA")
                .await,
            Err(ApiError::Unavailable)
        ));
        // Shed callers left the queue; the two waiting ones are served once a slot frees up.
        assert_eq!(
            hasher
                .pool
                .waiting
                .load(std::sync::atomic::Ordering::Acquire),
            2
        );
        drop(busy);
        for task in queued {
            assert!(task.await.unwrap().unwrap().starts_with("$argon2id$"));
        }
        assert_eq!(
            hasher
                .pool
                .waiting
                .load(std::sync::atomic::Ordering::Acquire),
            0
        );
        assert!(hasher.hash("correct horse").await.is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn a_caller_waits_at_most_max_wait() {
        let hasher = cheap().max_concurrency(1).max_wait(Duration::from_secs(3));
        let _busy = occupy(&hasher).await;
        let waiter = {
            let hasher = hasher.clone();
            tokio::spawn(async move { hasher.hash("correct horse").await })
        };
        until_waiting(&hasher, 1).await;
        tokio::time::advance(Duration::from_millis(2_900)).await;
        assert!(!waiter.is_finished());
        tokio::time::advance(Duration::from_millis(200)).await;
        assert!(matches!(waiter.await.unwrap(), Err(ApiError::Unavailable)));
        assert_eq!(
            hasher
                .pool
                .waiting
                .load(std::sync::atomic::Ordering::Acquire),
            0
        );
    }

    #[tokio::test]
    async fn a_cancelled_waiter_leaves_the_queue() {
        let hasher = cheap().max_concurrency(1).max_waiting(1);
        let busy = occupy(&hasher).await;
        let waiter = {
            let hasher = hasher.clone();
            tokio::spawn(async move { hasher.hash("correct horse").await })
        };
        until_waiting(&hasher, 1).await;
        waiter.abort();
        let _ = waiter.await;
        until_waiting(&hasher, 0).await;
        // Its place is free again: a new caller waits instead of being shed.
        let next = {
            let hasher = hasher.clone();
            tokio::spawn(async move { hasher.hash("correct horse").await })
        };
        until_waiting(&hasher, 1).await;
        drop(busy);
        assert!(next.await.unwrap().is_ok());
    }

    #[test]
    fn defaults_follow_the_cpus() {
        let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
        let hasher = PasswordHasher::default();
        assert_eq!(hasher.pool.max_concurrency, cpus);
        assert_eq!(hasher.pool.max_waiting, cpus * 32);
        assert_eq!(hasher.pool.max_wait, Duration::from_secs(10));
        assert_eq!(hasher.max_concurrency(0).pool.max_concurrency, 1);
    }
}
