//! Procedural macros of [axum-users](https://docs.rs/axum-users): `#[derive(AuthConfig)]` and
//! `#[protected]`.
//!
//! Use them through the `axum-users` crate (`use axum_users::prelude::*;`); the generated code
//! refers to `::axum_users::__private`, so this crate is not usable on its own.
//!
//! Layout, after serde_derive and thiserror-impl: each macro is a `parse → validate → expand`
//! pipeline over `proc_macro2` tokens (modules `derive` and `protected`), errors are gathered in
//! a `ctxt::Ctxt` so that one compilation reports all of them, and `fallback` keeps the user's
//! crate free of follow-on errors when the input is rejected.

#![forbid(unsafe_code)]

mod ctxt;
mod derive;
mod fallback;
mod names;
#[cfg(test)]
mod proptests;
mod protected;

use proc_macro::TokenStream;

/// Declares the authentication backends of an application.
///
/// Put one `#[backend(KIND, key = value, ..)]` attribute per backend on a struct without
/// generic parameters; `KIND` is `jwt` (bearer token) or `cookie`. The order of the attributes
/// is the order in which guards try the backends. The derive implements
/// `axum_users::AuthConfig`, whose `router()` serves `POST /auth/{name}/login` and
/// `POST /auth/{name}/logout` for every backend.
///
/// | key | backends | value | default |
/// |---|---|---|---|
/// | `name` | all | string: letters, digits, `-._~`, at most 32 bytes | the kind (`"jwt"`, `"cookie"`) |
/// | `lifetime` | all | integer, seconds, at least 1 | `3600` |
/// | `strategy` | all | `jwt`, `database` or `redis` (ident or string) | `jwt` |
/// | `cookie_name` | cookie | string, an RFC 6265 token | `"fastapiusersauth"` |
/// | `path` | cookie | string starting with `/` | `"/"` |
/// | `domain` | cookie | string | none (host-only cookie) |
/// | `secure` | cookie | `true` / `false` | `true` |
/// | `http_only` | cookie | `true` / `false` | `true` |
/// | `same_site` | cookie | `lax`, `strict` or `none` (ident or string) | `lax` |
/// | `csrf` | cookie | `true` / `false`: check unsafe requests authenticated by the cookie against cross-site forgery | `true` |
///
/// Backend names must be unique (they form the route path) and `same_site = none` requires
/// `secure = true`. Every mistake is reported at the offending tokens, all of them at once.
///
/// An optional `#[auth(key, key = value, ..)]`, at most once and anywhere among the
/// `#[backend]`s, sets the options of the whole configuration. Each key given becomes the
/// `AuthConfig` const of the same name in upper case, except the rate limit keys, which
/// together become `RATE_LIMITS`; the others keep the trait's defaults:
///
/// | key | value | default |
/// |---|---|---|
/// | `requires_verification` | flag, or `true` / `false` | `false` |
/// | `reset_token_lifetime` | integer, seconds, at least 1 | `3600` |
/// | `verify_token_lifetime` | integer, seconds, at least 1 | `3600` |
/// | `login_per_account` | rate: failed logins per e-mail address | `"5/15m"` |
/// | `login_per_client` | rate: failed logins per client address | `"30/15m"` |
/// | `register_per_client` | rate: registrations per client address | `"20/1h"` |
/// | `mail_per_account` | rate: `forgot-password` / `request-verify-token` per e-mail address | `"5/1h"` |
/// | `mail_per_client` | rate: `forgot-password` / `request-verify-token` per client address | `"20/1h"` |
/// | `rate_limits` | `true` / `false`: `false` turns every limit off | `true` |
///
/// A rate is a string `"N/period"`: at most `N` requests (a whole number from 1 to
/// `u32::MAX`) per period, a whole number of at least 1 followed by a unit `s`, `m`, `h` or
/// `d` (seconds, minutes, hours, days), or the unit alone for 1 of it, e.g. `"5/15m"`,
/// `"20/1h"`, `"3/30s"`, `"10/d"`; the period must fit a `u64` number of seconds. `"off"`
/// turns that one limit off. The rate keys given become `AuthConfig::RATE_LIMITS` over
/// `RateLimits::DEFAULT` (over `RateLimits::OFF` with `rate_limits = false`, which therefore
/// cannot be combined with a rate key).
///
/// An `#[auth]` or `#[auth()]` without keys is an error (remove it instead), as are unknown
/// and repeated keys.
///
/// ```ignore
/// use axum_users::prelude::*;
/// use axum_users::{Rate, RateLimits};
///
/// #[derive(AuthConfig)]
/// #[backend(jwt, name = "jwt", lifetime = 3600)]
/// #[backend(cookie, name = "cookie", lifetime = 86400, same_site = strict)]
/// #[backend(cookie, name = "native-app", csrf = false)]
/// #[auth(
///     requires_verification,
///     reset_token_lifetime = 900,
///     login_per_account = "3/30m",
///     register_per_client = "off",
///     mail_per_client = "50/d",
/// )]
/// struct Auth;
///
/// assert_eq!(Auth::BACKENDS[1].lifetime, 86400);
/// assert!(Auth::BACKENDS[1].cookie.csrf);
/// assert!(!Auth::BACKENDS[2].cookie.csrf);
/// assert!(Auth::REQUIRES_VERIFICATION);
/// assert_eq!(Auth::RATE_LIMITS.login_per_account, Some(Rate::new(3, 1800)));
/// assert_eq!(Auth::RATE_LIMITS.register_per_client, None);
/// assert_eq!(Auth::RATE_LIMITS.mail_per_client, Some(Rate::new(50, 86400)));
/// assert_eq!(Auth::RATE_LIMITS.login_per_client, RateLimits::DEFAULT.login_per_client);
/// let app: axum::Router<AuthState> = axum::Router::new().merge(Auth::router());
/// ```
#[proc_macro_derive(AuthConfig, attributes(backend, auth))]
pub fn derive_auth_config(input: TokenStream) -> TokenStream {
    derive::expand_tokens(input.into()).into()
}

/// Guards an axum handler: the request must be authenticated by one of the application's
/// backends.
///
/// The macro inserts one extractor as the handler's first parameter (after `self`, if any),
/// `_: axum_users::Protected<axum_users::Req<OPTIONAL, VERIFIED, SUPERUSER>>`, and changes
/// nothing else; read the user with a `CurrentUser` parameter. Options, in any order:
///
/// * `verified`: the user must be verified (403 otherwise);
/// * `superuser`: the user must be a superuser (403 otherwise);
/// * `optional`: let anonymous requests through (`CurrentUser` becomes an `Option`);
/// * `backends("jwt", "cookie", ..)`: only these backends may authenticate the request.
///
/// The handler must be an `async fn` with at most 15 parameters (axum's limit is 16; the guard
/// takes one). Put `#[protected]` above `#[axum::debug_handler]`.
///
/// ```ignore
/// use axum_users::prelude::*;
///
/// #[protected(verified, backends("jwt"))]
/// async fn me(user: CurrentUser) -> String {
///     user.email.clone()
/// }
///
/// let app: axum::Router<AuthState> = axum::Router::new().route("/me", axum::routing::get(me));
/// ```
#[proc_macro_attribute]
pub fn protected(args: TokenStream, item: TokenStream) -> TokenStream {
    protected::expand(args.into(), item.into()).into()
}
