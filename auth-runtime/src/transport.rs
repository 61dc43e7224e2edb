//! Where tokens travel: the `Authorization: Bearer` header or a cookie.
//!
//! ```
//! use axum::http::{header, HeaderMap};
//! use axum_users_runtime::transport;
//!
//! let mut headers = HeaderMap::new();
//! headers.insert(header::AUTHORIZATION, "Bearer abc".parse().unwrap());
//! assert_eq!(transport::bearer_token(&headers), Some("abc"));
//! assert_eq!(transport::cookie_value(&headers, "fastapiusersauth"), None);
//! ```

use std::fmt::Write as _;

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use crate::config::{BackendKind, BackendSpec, CookieSpec};

/// The token this backend's transport finds in the request, if any.
///
/// ```
/// use axum::http::{header, HeaderMap};
/// use axum_users_runtime::{transport, BackendKind, BackendSpec, CookieSpec, Strategy};
///
/// const COOKIE: BackendSpec = BackendSpec {
///     name: "cookie", kind: BackendKind::Cookie, strategy: Strategy::Jwt,
///     lifetime: 3600, cookie: CookieSpec::DEFAULT,
/// };
/// let mut headers = HeaderMap::new();
/// headers.insert(header::COOKIE, "theme=dark; fastapiusersauth=abc".parse().unwrap());
/// assert_eq!(transport::extract(&COOKIE, &headers), Some("abc"));
/// ```
pub fn extract<'h>(backend: &BackendSpec, headers: &'h HeaderMap) -> Option<&'h str> {
    match backend.kind {
        BackendKind::Jwt => bearer_token(headers),
        BackendKind::Cookie => cookie_value(headers, backend.cookie.name),
    }
}

/// The token of an `Authorization: Bearer <token>` header (scheme compared case-insensitively).
///
/// ```
/// use axum::http::{header, HeaderMap};
/// use axum_users_runtime::transport::bearer_token;
///
/// let mut headers = HeaderMap::new();
/// assert_eq!(bearer_token(&headers), None);
/// headers.insert(header::AUTHORIZATION, "bearer abc.def".parse().unwrap());
/// assert_eq!(bearer_token(&headers), Some("abc.def"));
/// ```
// `to_str` lets only visible ASCII and tabs through: `trim_ascii` trims what `trim` would.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .trim_ascii();
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim_ascii();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The value of the cookie `name` in the request's `Cookie` headers (a quoted value is unquoted).
///
/// ```
/// use axum::http::{header, HeaderMap};
/// use axum_users_runtime::transport::cookie_value;
///
/// let mut headers = HeaderMap::new();
/// headers.insert(header::COOKIE, r#"a=1; session="xyz""#.parse().unwrap());
/// assert_eq!(cookie_value(&headers, "session"), Some("xyz"));
/// assert_eq!(cookie_value(&headers, "missing"), None);
/// ```
// As in `bearer_token`, `trim_ascii` is `trim` on what `to_str` lets through.
pub fn cookie_value<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim_ascii().split_once('='))
        .find(|(k, _)| k.trim_ascii() == name)
        .map(|(_, v)| {
            let v = v.trim_ascii();
            v.strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(v)
        })
        .filter(|v| !v.is_empty())
}

/// A `Set-Cookie` value for `cookie`, in fastapi-users' attribute order.
///
/// ```
/// use axum_users_runtime::{transport::set_cookie, CookieSpec};
///
/// assert_eq!(
///     set_cookie(&CookieSpec::DEFAULT, "abc", 3600),
///     "fastapiusersauth=abc; HttpOnly; Max-Age=3600; Path=/; SameSite=lax; Secure"
/// );
/// ```
pub fn set_cookie(cookie: &CookieSpec, value: &str, max_age: u64) -> String {
    let mut out = String::with_capacity(cookie.name.len() + value.len() + 96);
    out.push_str(cookie.name);
    out.push('=');
    out.push_str(value);
    if let Some(domain) = cookie.domain {
        out.push_str("; Domain=");
        out.push_str(domain);
    }
    if cookie.http_only {
        out.push_str("; HttpOnly");
    }
    let _ = write!(out, "; Max-Age={max_age}; Path={}", cookie.path);
    out.push_str("; SameSite=");
    out.push_str(cookie.same_site.as_str());
    if cookie.secure {
        out.push_str("; Secure");
    }
    out
}

fn no_store(response: &mut Response) {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

fn with_cookie(mut response: Response, cookie: String) -> Response {
    match HeaderValue::from_str(&cookie) {
        Ok(value) => {
            response.headers_mut().insert(header::SET_COOKIE, value);
        }
        // Unreachable for tokens we write and attributes the derive validated.
        Err(_) => tracing::error!("cookie attributes are not a valid header value"),
    }
    response
}

/// `{"access_token": .., "token_type": "bearer"}`.
#[derive(Serialize)]
struct BearerBody<'a> {
    access_token: &'a str,
    token_type: &'static str,
}

/// The successful login answer of this backend for `token`.
///
/// ```
/// use axum::http::{header, StatusCode};
/// use axum_users_runtime::{transport, BackendKind, BackendSpec, CookieSpec, Strategy};
///
/// const COOKIE: BackendSpec = BackendSpec {
///     name: "cookie", kind: BackendKind::Cookie, strategy: Strategy::Jwt,
///     lifetime: 3600, cookie: CookieSpec::DEFAULT,
/// };
/// let response = transport::login_response(&COOKIE, "abc");
/// assert_eq!(response.status(), StatusCode::NO_CONTENT);
/// assert!(response.headers()[header::SET_COOKIE].to_str().unwrap().starts_with("fastapiusersauth=abc;"));
/// ```
pub fn login_response(backend: &BackendSpec, token: &str) -> Response {
    let mut response = match backend.kind {
        BackendKind::Jwt => Json(BearerBody {
            access_token: token,
            token_type: "bearer",
        })
        .into_response(),
        BackendKind::Cookie => with_cookie(
            StatusCode::NO_CONTENT.into_response(),
            set_cookie(&backend.cookie, token, backend.lifetime),
        ),
    };
    no_store(&mut response);
    response
}

/// The logout answer of this backend: 204, with a removal cookie for cookie backends.
///
/// ```
/// use axum::http::{header, StatusCode};
/// use axum_users_runtime::{transport, BackendKind, BackendSpec, CookieSpec, Strategy};
///
/// const COOKIE: BackendSpec = BackendSpec {
///     name: "cookie", kind: BackendKind::Cookie, strategy: Strategy::Jwt,
///     lifetime: 3600, cookie: CookieSpec::DEFAULT,
/// };
/// let response = transport::logout_response(&COOKIE);
/// assert_eq!(response.status(), StatusCode::NO_CONTENT);
/// assert!(response.headers()[header::SET_COOKIE].to_str().unwrap().contains("Max-Age=0"));
/// ```
pub fn logout_response(backend: &BackendSpec) -> Response {
    match backend.kind {
        BackendKind::Jwt => StatusCode::NO_CONTENT.into_response(),
        BackendKind::Cookie => with_cookie(
            StatusCode::NO_CONTENT.into_response(),
            set_cookie(&backend.cookie, "\"\"", 0),
        ),
    }
}
