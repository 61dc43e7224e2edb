//! # The axum-users guide
//!
//! A user guide in the order of fastapi-users' documentation, to follow step by step: each
//! chapter builds on the previous ones, and every Rust example in it is compiled (and, where it
//! does not need a network service, run) by `cargo test --doc`.
//!
//! 1. [Installation](installation): dependencies, features, a first service.
//! 2. [Configuration](configuration): `#[derive(AuthConfig)]` (every key), the
//!    [`AuthState`](crate::AuthState) builder, your own application state.
//! 3. [Routes](routes): the HTTP API the derive serves, with bodies and error codes.
//! 4. [Protecting routes](protecting_routes): `#[protected]`, [`CurrentUser`](crate::CurrentUser)
//!    and the [`Protected`](crate::Protected) extractor.
//! 5. [Stores](stores): SQLite, PostgreSQL, memory, custom fields, your own store; token stores.
//! 6. [The user manager](user_manager): password policy and hooks; managing users from code.
//! 7. [Mailers](mailers): verification and reset messages.
//! 8. [Tokens and security](security): tokens, keys and rotation, cookies, CSRF, rate limits,
//!    request limits, hashing.
//! 9. [Deployment](deployment): PostgreSQL, Redis, several instances, reverse proxies.
//! 10. [Migrating from fastapi-users](migrating_from_fastapi_users): routes, tokens, database,
//!     Redis, and what differs.

#[doc = include_str!("../guide/01-installation.md")]
pub mod installation {}

#[doc = include_str!("../guide/02-configuration.md")]
pub mod configuration {}

#[doc = include_str!("../guide/03-routes.md")]
pub mod routes {}

#[doc = include_str!("../guide/04-protecting-routes.md")]
pub mod protecting_routes {}

#[doc = include_str!("../guide/05-stores.md")]
pub mod stores {}

#[doc = include_str!("../guide/06-user-manager.md")]
pub mod user_manager {}

#[doc = include_str!("../guide/07-mailers.md")]
pub mod mailers {}

#[doc = include_str!("../guide/08-tokens-and-security.md")]
pub mod security {}

#[doc = include_str!("../guide/09-deployment.md")]
pub mod deployment {}

#[doc = include_str!("../guide/10-migrating-from-fastapi-users.md")]
pub mod migrating_from_fastapi_users {}
