//! Credential extraction from request headers (`transport::extract`, `bearer_token`,
//! `cookie_value`) and the header size count. The input is split on newlines into header
//! values, sent as `Authorization` and `Cookie` headers (repeated). Nothing may panic; whatever
//! is extracted is a non-empty slice of one of the values.
#![no_main]

use axum::http::{header, HeaderMap, HeaderValue};
use axum_users_runtime::limits::header_bytes;
use axum_users_runtime::transport::{bearer_token, cookie_value, extract};
use axum_users_runtime::{BackendKind, BackendSpec, CookieSpec, Strategy};
use libfuzzer_sys::fuzz_target;

const BEARER: BackendSpec = BackendSpec {
    name: "jwt",
    kind: BackendKind::Jwt,
    strategy: Strategy::Jwt,
    lifetime: 3600,
    cookie: CookieSpec::DEFAULT,
};

const COOKIE: BackendSpec = BackendSpec {
    name: "cookie",
    kind: BackendKind::Cookie,
    strategy: Strategy::Database,
    lifetime: 3600,
    cookie: CookieSpec::DEFAULT,
};

fuzz_target!(|data: &[u8]| {
    let mut headers = HeaderMap::new();
    for (i, line) in data.split(|b| *b == b'\n').enumerate() {
        let Ok(value) = HeaderValue::from_bytes(line) else {
            continue;
        };
        let name = if i % 2 == 0 {
            header::COOKIE
        } else {
            header::AUTHORIZATION
        };
        headers.append(name, value);
    }
    let values: Vec<&[u8]> = headers.iter().map(|(_, v)| v.as_bytes()).collect();
    let from_input = |found: &str| {
        assert!(!found.is_empty());
        assert!(values
            .iter()
            .any(|v| v.windows(found.len()).any(|w| w == found.as_bytes())));
    };
    if let Some(token) = extract(&BEARER, &headers) {
        from_input(token);
        assert_eq!(Some(token), bearer_token(&headers));
    }
    if let Some(token) = extract(&COOKIE, &headers) {
        from_input(token);
        assert_eq!(Some(token), cookie_value(&headers, COOKIE.cookie.name));
    }
    if let Some(name) = values.first().and_then(|v| std::str::from_utf8(v).ok()) {
        if let Some(found) = cookie_value(&headers, name) {
            from_input(found);
        }
    }
    let total: usize = headers
        .iter()
        .map(|(n, v)| n.as_str().len() + v.len() + 4)
        .sum();
    assert_eq!(header_bytes(&headers), total);
});
