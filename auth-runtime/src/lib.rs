//! Runtime of [axum-users](https://docs.rs/axum-users): tokens, transports, password hashing,
//! stores, guards and the generated routes. Applications depend on `axum-users`, which
//! re-exports this crate together with its macros.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod client;
mod config;
mod csrf;
mod error;
mod fields;
mod guard;
mod jwt;
mod lifecycle;
pub mod limits;
pub mod mailer;
mod manager;
#[cfg(feature = "openapi")]
pub mod openapi;
mod password;
mod ratelimit;
pub mod requirement;
mod routes;
mod state;
mod store;
mod tokens;
pub mod transport;
mod user;
pub mod validation;

pub use client::{Cidr, CidrError};
pub use config::{
    AuthConfig, BackendKind, BackendSpec, CookieSpec, Rate, RateLimits, SameSite, Strategy,
};
pub use error::{ApiError, ConfigError, StoreError, ValidationIssue};
pub use fields::{Field, FieldKind, UserFields};
pub use guard::{Authenticated, CurrentUser, Protected};
pub use jwt::{JwtKeys, AUTH_AUDIENCE, MIN_SECRET_LEN, RESET_AUDIENCE, VERIFY_AUDIENCE};
pub use limits::{BodyLimit, DEFAULT_BODY_TIMEOUT, DEFAULT_MAX_BODY_BYTES, MAX_HEADER_BYTES};
pub use mailer::{
    mailer_from_env, FileOutbox, LogMailer, Mail, MailError, MailKind, Mailer, SmtpMailer,
};
pub use manager::{DefaultUserManager, HookError, InvalidPassword, UserManager};
pub use password::PasswordHasher;
pub use ratelimit::{limit, Decision, MemoryRateLimiter, RateLimiter, DEFAULT_MAX_KEYS};
#[cfg(feature = "redis")]
pub use ratelimit::{RedisRateLimiter, DEFAULT_RATE_LIMIT_PREFIX};
pub use requirement::{AllBackends, Name, Req, Requirement};
pub use routes::router;
pub use state::{AuthState, AuthStateBuilder, NewUser};
pub use store::{CreateError, MemoryStore, SqliteStore, UserStore};
#[cfg(feature = "postgres")]
pub use store::{PgStore, PgStoreOptions};
pub use tokens::{
    generate_token, is_plausible_token, MemoryTokenStore, TokenStore, MAX_OPAQUE_TOKEN_LEN,
};
#[cfg(feature = "redis")]
pub use tokens::{RedisTokenStore, DEFAULT_REDIS_KEY_PREFIX, DEFAULT_REDIS_TIMEOUT};
pub use user::User;

pub use async_trait::async_trait;
pub use jsonwebtoken::Algorithm;
#[cfg(feature = "openapi")]
pub use utoipa;

/// What generated code uses. Not part of the public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::config::{
        AuthConfig, BackendKind, BackendSpec, CookieSpec, Rate, RateLimits, SameSite, Strategy,
    };
    pub use crate::guard::Protected;
    pub use crate::requirement::{AllBackends, Name, Req};
}
