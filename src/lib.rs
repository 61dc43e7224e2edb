//! # axum-users
//!
//! Ready-to-use user management and authentication for [axum](https://docs.rs/axum) services,
//! speaking fastapi-users' HTTP dialect: several authentication backends at once (bearer JWT,
//! cookie), a login route per backend, registration, and guards on your own handlers.
//!
//! ```no_run
//! use axum::{routing::get, Router};
//! use axum_users::prelude::*;
//!
//! #[derive(AuthConfig)]
//! #[backend(jwt, name = "jwt", lifetime = 3600)]
//! #[backend(cookie, name = "cookie", lifetime = 3600, secure = false)]
//! struct Auth;
//!
//! #[protected]
//! async fn hello(user: CurrentUser) -> String {
//!     format!("hello {}", user.email)
//! }
//!
//! #[protected(superuser)]
//! async fn admin(user: CurrentUser) -> &'static str {
//!     "welcome, admin"
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let state = AuthState::builder::<Auth>()
//!         .secret(std::env::var("AUTH_SECRET")?)
//!         .store(SqliteStore::connect("sqlite://users.db").await?)
//!         .build()?;
//!     let app = Router::new()
//!         .route("/hello", get(hello))
//!         .route("/admin", get(admin))
//!         .merge(Auth::router())
//!         .with_state(state);
//!     let listener = tokio::net::TcpListener::bind("127.0.0.1:8000").await?;
//!     axum::serve(listener, app).await?;
//!     Ok(())
//! }
//! ```
//!
//! `Auth::router()` serves `POST /auth/jwt/login`, `POST /auth/jwt/logout`,
//! `POST /auth/cookie/login`, `POST /auth/cookie/logout`, `POST /auth/register`, the
//! verification and password-reset routes and the `/users` routes.
//! Forgetting to give the router an [`AuthState`] (directly or through `FromRef`) is a compile
//! error.
//!
//! New here? The [guide] walks through installation, configuration, guards, stores, hooks,
//! mailers, security, deployment and migrating from fastapi-users.
#![forbid(unsafe_code)]

pub mod guide;

pub use axum_users_macros::{protected, AuthConfig};
pub use axum_users_runtime::*;

/// The names most applications need: `use axum_users::prelude::*;`.
///
/// ```
/// use axum::{routing::get, Router};
/// use axum_users::prelude::*;
///
/// #[derive(AuthConfig)]
/// #[backend(jwt, name = "jwt", lifetime = 3600)]
/// struct Auth;
///
/// #[protected]
/// async fn me(user: CurrentUser) -> String {
///     user.email.clone()
/// }
///
/// let state = AuthState::builder::<Auth>()
///     .secret("an example secret of at least 32 bytes!")
///     .store(MemoryStore::new())
///     .build()
///     .unwrap();
/// let _app: Router = Router::new().route("/me", get(me)).merge(Auth::router()).with_state(state);
/// ```
pub mod prelude {
    pub use axum_users_macros::{protected, AuthConfig};
    #[cfg(feature = "postgres")]
    pub use axum_users_runtime::PgStore;
    pub use axum_users_runtime::{
        ApiError, AuthConfig, AuthState, CurrentUser, MemoryStore, NewUser, PasswordHasher,
        Protected, Req, SqliteStore, User, UserManager, UserStore,
    };
}

#[doc(hidden)]
pub mod __private {
    pub use axum_users_runtime::__private::*;
}
