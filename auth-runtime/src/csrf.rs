//! CSRF protection of cookie backends: an origin check for unsafe requests.
//!
//! A browser attaches cookies to cross-site requests, so a request authenticated by a cookie
//! backend proves nothing about which page sent it. For unsafe methods (anything but `GET`,
//! `HEAD`, `OPTIONS` and `TRACE`), and for the cookie backend's login, the request must also
//! come from a trusted origin:
//!
//! 1. with an `Origin` header: it must be trusted (the literal `null` never is);
//! 2. else with `Sec-Fetch-Site`: it must be `same-origin`;
//! 3. else with `Referer`: its origin (`scheme://host[:port]`) must be trusted;
//! 4. else the request is refused.
//!
//! Trusted are the origins given to
//! [`AuthStateBuilder::trusted_origins`](crate::AuthStateBuilder::trusted_origins), and the
//! request's own host: an origin whose `host[:port]` equals the `Host` header (or, in HTTP/2,
//! the request's authority), case-insensitively, a missing port being the origin scheme's
//! default. A refused request answers 403 `{"detail": "CSRF_FAILED"}`
//! ([`ApiError::CsrfFailed`]). Bearer requests are never checked: a page on another site
//! cannot make a browser send an `Authorization` header.

use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, Uri};

use crate::error::{ApiError, ConfigError};
use crate::state::AuthState;

/// The `Sec-Fetch-Site` header (Fetch Metadata).
const SEC_FETCH_SITE: &str = "sec-fetch-site";

/// One origin, taken apart: `scheme://host[:port]`. `port` is `None` when it is the scheme's
/// default (or the scheme has none and no port was written).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct OriginParts<'a> {
    scheme: &'a str,
    host: &'a str,
    port: Option<u16>,
}

/// A configured trusted origin, normalized (`https://app.example.com`, `http://localhost:5173`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TrustedOrigin {
    /// The normalized text: lower-case scheme and host, default port elided, no path.
    text: String,
    scheme_len: usize,
    host_end: usize,
    port: Option<u16>,
}

impl TrustedOrigin {
    /// Parses and normalizes a configured origin.
    pub(crate) fn parse(origin: &str) -> Result<TrustedOrigin, ConfigError> {
        let invalid = |reason: &'static str| ConfigError::InvalidOrigin {
            origin: origin.to_owned(),
            reason,
        };
        if origin.eq_ignore_ascii_case("null") {
            return Err(invalid(
                "`null` is what sandboxed and opaque origins send; it cannot be trusted",
            ));
        }
        let parts = parse_origin(origin).map_err(invalid)?;
        let scheme = parts.scheme.to_ascii_lowercase();
        let host = parts.host.to_ascii_lowercase();
        let mut text = format!("{scheme}://{host}");
        let host_end = text.len();
        if let Some(port) = parts.port {
            text.push(':');
            text.push_str(&port.to_string());
        }
        Ok(TrustedOrigin {
            scheme_len: scheme.len(),
            host_end,
            port: parts.port,
            text,
        })
    }

    /// The normalized origin.
    pub(crate) fn as_str(&self) -> &str {
        &self.text
    }

    fn matches(&self, origin: &OriginParts<'_>) -> bool {
        self.port == origin.port
            && self.text[..self.scheme_len].eq_ignore_ascii_case(origin.scheme)
            && self.text[self.scheme_len + 3..self.host_end].eq_ignore_ascii_case(origin.host)
    }
}

/// The origin check, as configured: the trusted origins (the request's own host is always
/// trusted).
#[derive(Debug, Clone, Default)]
pub(crate) struct CsrfPolicy {
    trusted: Vec<TrustedOrigin>,
}

/// Why a request was refused; for the log only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    Origin,
    SecFetchSite,
    Referer,
    NoHeader,
}

impl CsrfPolicy {
    /// A policy trusting `origins` (already normalized) and the request's own host.
    pub(crate) fn new(trusted: Vec<TrustedOrigin>) -> Self {
        CsrfPolicy { trusted }
    }

    /// The configured origins, normalized.
    pub(crate) fn trusted(&self) -> &[TrustedOrigin] {
        &self.trusted
    }

    /// Whether `method` is exempt from the check (`GET`, `HEAD`, `OPTIONS`, `TRACE`).
    pub(crate) fn is_safe(method: &Method) -> bool {
        matches!(
            *method,
            Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
        )
    }

    /// The origin check of one request, whatever its method: `Err(ApiError::CsrfFailed)` unless
    /// the request comes from a trusted origin. Logs a refusal (without cookie values).
    pub(crate) fn check(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
    ) -> Result<(), ApiError> {
        match self.decide(uri, headers) {
            Ok(()) => Ok(()),
            Err(refusal) => {
                let origin = headers.get(header::ORIGIN);
                tracing::info!(
                    %method,
                    path = uri.path(),
                    ?refusal,
                    origin = ?origin,
                    "CSRF check failed: a cookie-authenticated request from an untrusted origin; answering 403"
                );
                Err(ApiError::CsrfFailed)
            }
        }
    }

    fn decide(&self, uri: &Uri, headers: &HeaderMap) -> Result<(), Refusal> {
        let mut origins = headers.get_all(header::ORIGIN).iter();
        if let Some(origin) = origins.next() {
            // Browsers send one `Origin`; two are not a browser's request.
            let trusted = origins.next().is_none() && self.trusts_value(origin, uri, headers);
            return if trusted {
                Ok(())
            } else {
                Err(Refusal::Origin)
            };
        }
        if let Some(site) = headers.get(SEC_FETCH_SITE) {
            return if site.as_bytes().eq_ignore_ascii_case(b"same-origin") {
                Ok(())
            } else {
                Err(Refusal::SecFetchSite)
            };
        }
        if let Some(referer) = headers.get(header::REFERER) {
            let trusted = referer
                .to_str()
                .ok()
                .and_then(referer_origin)
                .and_then(|origin| parse_origin(origin).ok())
                .is_some_and(|origin| self.trusts(&origin, uri, headers));
            return if trusted {
                Ok(())
            } else {
                Err(Refusal::Referer)
            };
        }
        Err(Refusal::NoHeader)
    }

    fn trusts_value(&self, origin: &HeaderValue, uri: &Uri, headers: &HeaderMap) -> bool {
        origin
            .to_str()
            .ok()
            .and_then(|origin| parse_origin(origin).ok())
            .is_some_and(|origin| self.trusts(&origin, uri, headers))
    }

    fn trusts(&self, origin: &OriginParts<'_>, uri: &Uri, headers: &HeaderMap) -> bool {
        self.trusted.iter().any(|t| t.matches(origin)) || same_host(origin, uri, headers)
    }
}

/// Whether `origin` names the request's own host: the `Host` header, else (HTTP/2) the URI's
/// authority. A `Host` without a port means the origin scheme's default port.
fn same_host(origin: &OriginParts<'_>, uri: &Uri, headers: &HeaderMap) -> bool {
    let host = match headers.get(header::HOST) {
        Some(host) => host.to_str().ok(),
        None => uri.authority().map(|a| a.as_str()),
    };
    let Some((host, port)) = host.and_then(|h| split_authority(h).ok()) else {
        return false;
    };
    let port = port.filter(|p| Some(*p) != default_port(origin.scheme));
    port == origin.port && host.eq_ignore_ascii_case(origin.host)
}

/// The default port of `scheme`, for the schemes that have one.
fn default_port(scheme: &str) -> Option<u16> {
    if scheme.eq_ignore_ascii_case("https") {
        Some(443)
    } else if scheme.eq_ignore_ascii_case("http") {
        Some(80)
    } else {
        None
    }
}

/// The `scheme://authority` prefix of a `Referer` (an absolute URL), if it has one.
fn referer_origin(referer: &str) -> Option<&str> {
    let after_scheme = referer.find("://")? + 3;
    let end = referer[after_scheme..]
        .find(['/', '?', '#'])
        .map_or(referer.len(), |i| after_scheme + i);
    Some(&referer[..end])
}

/// Takes `scheme://host[:port]` apart (no userinfo, path, query or fragment).
fn parse_origin(origin: &str) -> Result<OriginParts<'_>, &'static str> {
    let (scheme, authority) = origin
        .split_once("://")
        .ok_or("expected `scheme://host[:port]`")?;
    let mut chars = scheme.chars();
    let scheme_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !scheme_ok {
        return Err("the scheme must be letters, digits, `+`, `-` or `.`, starting with a letter");
    }
    if authority.contains(['/', '?', '#']) {
        return Err("an origin has no path, query or fragment (write `scheme://host[:port]`)");
    }
    let (host, port) = split_authority(authority)?;
    let port = port.filter(|p| Some(*p) != default_port(scheme));
    Ok(OriginParts { scheme, host, port })
}

/// Takes `host[:port]` apart: a registered name or IPv4 address, or a bracketed IPv6 address;
/// the port, if any, 1–65535.
fn split_authority(authority: &str) -> Result<(&str, Option<u16>), &'static str> {
    let (host, port) = if authority.starts_with('[') {
        let end = authority.find(']').ok_or("unclosed `[` in the host")? + 1;
        let (host, rest) = authority.split_at(end);
        let inner = &host[1..end - 1];
        if inner.is_empty()
            || !inner
                .chars()
                .all(|c| c.is_ascii_hexdigit() || matches!(c, ':' | '.'))
        {
            return Err("invalid IPv6 address");
        }
        match rest {
            "" => (host, None),
            _ => (
                host,
                Some(rest.strip_prefix(':').ok_or("unexpected text after `]`")?),
            ),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    let host_ok = !host.is_empty()
        && (host.starts_with('[')
            || host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~')));
    if !host_ok {
        return Err("the host must be a DNS name (ASCII, punycode for international names), an IPv4 address or a bracketed IPv6 address");
    }
    let port = match port {
        None => None,
        Some(port) => {
            let valid =
                !port.is_empty() && port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit());
            match port.parse::<u16>() {
                Ok(port) if valid && port != 0 => Some(port),
                _ => return Err("the port must be a number from 1 to 65535"),
            }
        }
    };
    Ok((host, port))
}

impl AuthState {
    /// The CSRF check of cookie backends, on its own: `Ok` when the request comes from a
    /// trusted origin, else [`ApiError::CsrfFailed`] (403 `{"detail": "CSRF_FAILED"}`, logged
    /// at `info` without cookie values).
    ///
    /// 1. With an `Origin` header, it must be trusted (the literal `null` never is).
    /// 2. Else with `Sec-Fetch-Site`, it must be `same-origin`.
    /// 3. Else with `Referer`, its `scheme://host[:port]` must be trusted.
    /// 4. Else the request is refused.
    ///
    /// Trusted are the [configured origins](crate::AuthStateBuilder::trusted_origins) and the
    /// request's own host: an origin whose `host[:port]` equals the `Host` header (in HTTP/2,
    /// the request's authority), case-insensitively, a missing port meaning the origin
    /// scheme's default. Behind a proxy that rewrites `Host`, configure the public origin.
    ///
    /// The guards, [`CurrentUser`](crate::CurrentUser), the `/users` routes and logout already
    /// apply it to unsafe requests (not `GET`, `HEAD`, `OPTIONS`, `TRACE`) authenticated by a
    /// cookie backend with [`CookieSpec::csrf`](crate::CookieSpec::csrf) on, and a cookie
    /// backend's login to every request; call it for requests the application authenticates
    /// by a cookie of its own.
    ///
    /// ```
    /// # use axum_users_runtime::{AuthConfig, AuthState, BackendKind, BackendSpec, CookieSpec, MemoryStore, Strategy};
    /// # struct Auth;
    /// # impl AuthConfig for Auth {
    /// #     const BACKENDS: &'static [BackendSpec] = &[BackendSpec {
    /// #         name: "cookie", kind: BackendKind::Cookie, strategy: Strategy::Jwt,
    /// #         lifetime: 3600, cookie: CookieSpec::DEFAULT,
    /// #     }];
    /// # }
    /// use axum::http::Request;
    ///
    /// let state = AuthState::builder::<Auth>()
    ///     .secret("an example secret of at least 32 bytes!")
    ///     .store(MemoryStore::new())
    ///     .trusted_origins(["https://app.example.com"])
    ///     .build()
    ///     .unwrap();
    /// let from = |origin: &str| {
    ///     let request = Request::post("/transfer")
    ///         .header("host", "api.example.com")
    ///         .header("origin", origin)
    ///         .body(())
    ///         .unwrap();
    ///     state.check_origin(&request.into_parts().0).is_ok()
    /// };
    /// assert!(from("https://app.example.com")); // configured
    /// assert!(from("https://api.example.com")); // the request's own host
    /// assert!(!from("https://evil.example"));
    /// assert!(!from("null"));
    /// ```
    pub fn check_origin(&self, parts: &Parts) -> Result<(), ApiError> {
        self.csrf().check(&parts.method, &parts.uri, &parts.headers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(origins: &[&str]) -> CsrfPolicy {
        CsrfPolicy::new(
            origins
                .iter()
                .map(|o| TrustedOrigin::parse(o).unwrap())
                .collect(),
        )
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        map
    }

    fn ok(policy: &CsrfPolicy, pairs: &[(&str, &str)]) -> bool {
        policy
            .decide(&Uri::from_static("/x"), &headers(pairs))
            .is_ok()
    }

    #[test]
    fn normalizes_configured_origins() {
        for (given, normalized) in [
            ("https://App.Example.COM", "https://app.example.com"),
            ("HTTPS://app.example.com:443", "https://app.example.com"),
            ("http://localhost:80", "http://localhost"),
            ("http://localhost:5173", "http://localhost:5173"),
            ("https://app.example.com:80", "https://app.example.com:80"),
            ("http://[::1]:8000", "http://[::1]:8000"),
            ("capacitor://localhost", "capacitor://localhost"),
            ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
        ] {
            assert_eq!(TrustedOrigin::parse(given).unwrap().as_str(), normalized);
        }
    }

    #[test]
    fn refuses_invalid_configured_origins() {
        for bad in [
            "",
            "null",
            "NULL",
            "app.example.com",
            "https://",
            "https://app.example.com/",
            "https://app.example.com/path",
            "https://app.example.com?x",
            "https://app.example.com#x",
            "https://user@app.example.com",
            "https://app.example.com:0",
            "https://app.example.com:65536",
            "https://app.example.com:",
            "https://app.example.com:+80",
            "https://app.example.com:8x",
            "https://*.example.com",
            "https://exämple.com",
            "https://app example.com",
            "1http://app.example.com",
            "ht tp://app.example.com",
            "http://[::1",
            "http://[::1]x",
            "http://[]",
            "http://[zz]",
        ] {
            let err = TrustedOrigin::parse(bad).unwrap_err();
            assert!(
                matches!(err, ConfigError::InvalidOrigin { .. }),
                "{bad:?}: {err}"
            );
        }
    }

    #[test]
    fn matches_configured_origins_and_the_host() {
        let p = policy(&["https://app.example.com", "http://localhost:5173"]);
        assert!(ok(&p, &[("origin", "https://app.example.com")]));
        assert!(ok(&p, &[("origin", "https://APP.example.com:443")]));
        assert!(ok(&p, &[("origin", "http://localhost:5173")]));
        assert!(!ok(&p, &[("origin", "http://app.example.com")]));
        assert!(!ok(&p, &[("origin", "https://app.example.com:8443")]));
        assert!(!ok(&p, &[("origin", "http://localhost")]));
        assert!(!ok(&p, &[("origin", "https://evil.example")]));
        assert!(!ok(&p, &[("origin", "null")]));
        assert!(!ok(
            &p,
            &[("origin", "https://app.example.com.evil.example")]
        ));
        // Two Origin headers: not a browser.
        assert!(!ok(
            &p,
            &[
                ("origin", "https://app.example.com"),
                ("origin", "https://app.example.com")
            ]
        ));
        // The host.
        assert!(ok(
            &p,
            &[
                ("host", "api.example.com"),
                ("origin", "https://api.example.com")
            ]
        ));
        assert!(ok(
            &p,
            &[
                ("host", "API.example.com:443"),
                ("origin", "https://api.example.com")
            ]
        ));
        assert!(ok(
            &p,
            &[
                ("host", "api.example.com:8000"),
                ("origin", "http://api.example.com:8000")
            ]
        ));
        assert!(ok(
            &p,
            &[("host", "[::1]:8000"), ("origin", "http://[::1]:8000")]
        ));
        assert!(!ok(
            &p,
            &[
                ("host", "api.example.com:8000"),
                ("origin", "http://api.example.com")
            ]
        ));
        assert!(!ok(
            &p,
            &[
                ("host", "api.example.com"),
                ("origin", "http://api.example.com:8000")
            ]
        ));
        assert!(!ok(&p, &[("host", "api.example.com"), ("origin", "null")]));
        // Without a Host header, the URI's authority (HTTP/2).
        let uri = Uri::from_static("https://api.example.com/x");
        assert!(p
            .decide(&uri, &headers(&[("origin", "https://api.example.com")]))
            .is_ok());
    }

    #[test]
    fn nothing_is_trusted_without_host_or_list() {
        let p = policy(&[]);
        assert!(!ok(&p, &[("origin", "http://localhost")]));
        assert!(!ok(&p, &[("referer", "http://localhost/page")]));
        assert!(ok(&p, &[("sec-fetch-site", "same-origin")]));
    }

    #[test]
    fn falls_back_to_fetch_metadata_then_referer() {
        let p = policy(&["https://app.example.com"]);
        assert!(ok(&p, &[("sec-fetch-site", "same-origin")]));
        for site in ["same-site", "cross-site", "none", ""] {
            assert!(!ok(&p, &[("sec-fetch-site", site)]), "{site}");
        }
        // Sec-Fetch-Site decides before Referer.
        assert!(!ok(
            &p,
            &[
                ("sec-fetch-site", "cross-site"),
                ("referer", "https://app.example.com/")
            ]
        ));
        // Origin decides before both.
        assert!(!ok(
            &p,
            &[
                ("origin", "https://evil.example"),
                ("sec-fetch-site", "same-origin")
            ]
        ));
        assert!(ok(
            &p,
            &[("referer", "https://app.example.com/login?next=/")]
        ));
        assert!(ok(&p, &[("referer", "https://app.example.com")]));
        assert!(ok(&p, &[("referer", "https://app.example.com?q#f")]));
        assert!(!ok(
            &p,
            &[("referer", "https://evil.example/https://app.example.com")]
        ));
        assert!(!ok(
            &p,
            &[("referer", "https://app.example.com.evil.example/")]
        ));
        assert!(!ok(&p, &[("referer", "https://user@app.example.com/")]));
        assert!(!ok(&p, &[("referer", "not a url")]));
        assert!(!ok(&p, &[("referer", "/relative")]));
        assert!(!ok(&p, &[]));
    }

    #[test]
    fn safe_methods() {
        for m in [Method::GET, Method::HEAD, Method::OPTIONS, Method::TRACE] {
            assert!(CsrfPolicy::is_safe(&m));
        }
        for m in [
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::CONNECT,
        ] {
            assert!(!CsrfPolicy::is_safe(&m));
        }
        assert!(!CsrfPolicy::is_safe(
            &Method::from_bytes(b"PROPFIND").unwrap()
        ));
    }
}
