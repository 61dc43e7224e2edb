//! The login form parser (`LoginForm::parse`): urlencoded and multipart bodies under several
//! content types. The first byte picks the content type; the rest is the body. Nothing may
//! panic; a refusal is a 422.
#![no_main]

use axum::body::Bytes;
use axum::http::{header, HeaderMap, HeaderValue};
use axum_users_runtime::validation::LoginForm;
use libfuzzer_sys::fuzz_target;

const CONTENT_TYPES: [&str; 6] = [
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=XyZ",
    "multipart/form-data; boundary=\"a b\"",
    "multipart/form-data",
    "application/x-www-form-urlencoded; charset=latin-1",
    "text/plain",
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let mut headers = HeaderMap::new();
    let (content_type, body) = match CONTENT_TYPES.get(pick as usize) {
        Some(ct) => (HeaderValue::from_static(ct), body),
        // Anything else: the content type itself comes from the input, up to a newline.
        None => {
            let at = body.iter().position(|b| *b == b'\n').unwrap_or(body.len());
            match HeaderValue::from_bytes(&body[..at]) {
                Ok(value) => (value, body.get(at + 1..).unwrap_or_default()),
                Err(_) => return,
            }
        }
    };
    headers.insert(header::CONTENT_TYPE, content_type);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    match runtime.block_on(LoginForm::parse(&headers, Bytes::copy_from_slice(body))) {
        Ok(form) => assert!(!form.username.is_empty() && !form.password.is_empty()),
        Err(err) => assert_eq!(err.status().as_u16(), 422, "{}", err.body()),
    }
});
