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
///
/// Backend names must be unique (they form the route path) and `same_site = none` requires
/// `secure = true`. Every mistake is reported at the offending tokens, all of them at once.
///
/// An optional `#[auth(key, key = value, ..)]`, at most once and anywhere among the
/// `#[backend]`s, sets the options of the whole configuration; each key given becomes the
/// `AuthConfig` const of the same name in upper case, the others keep the trait's defaults:
///
/// | key | value | default |
/// |---|---|---|
/// | `requires_verification` | flag, or `true` / `false` | `false` |
/// | `reset_token_lifetime` | integer, seconds, at least 1 | `3600` |
/// | `verify_token_lifetime` | integer, seconds, at least 1 | `3600` |
///
/// An `#[auth]` or `#[auth()]` without keys is an error (remove it instead), as are unknown
/// and repeated keys.
///
/// ```ignore
/// use axum_users::prelude::*;
///
/// #[derive(AuthConfig)]
/// #[backend(jwt, name = "jwt", lifetime = 3600)]
/// #[backend(cookie, name = "cookie", lifetime = 86400, same_site = strict)]
/// #[auth(requires_verification, reset_token_lifetime = 900)]
/// struct Auth;
///
/// assert_eq!(Auth::BACKENDS[1].lifetime, 86400);
/// assert!(Auth::REQUIRES_VERIFICATION);
/// let app: axum::Router<AuthState> = axum::Router::new().merge(Auth::router());
/// ```
#[proc_macro_derive(AuthConfig, attributes(backend, auth))]
pub fn derive_auth_config(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    derive::expand(&input).into()
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
