//! The JSON body parsers: registration (`RegisterBody`), user updates (`UserUpdate`), the
//! `{"email"}` body, the `{"token", "password"}` bodies, the plain object reader and the e-mail
//! normaliser. The first byte picks the content type; the rest is the body. Nothing may panic;
//! every refusal is a 422.
#![no_main]

use axum::http::{header, HeaderMap, HeaderValue};
use axum_users_runtime::validation::{
    email_body, json_object, normalize_email, string_fields, RegisterBody, UserUpdate,
};
use axum_users_runtime::ApiError;
use libfuzzer_sys::fuzz_target;

const CONTENT_TYPES: [&str; 4] = [
    "application/json",
    "application/vnd.api+json; charset=utf-8",
    "",
    "text/plain",
];

fn refused_as_422<T>(result: Result<T, ApiError>) {
    if let Err(err) = result {
        assert_eq!(err.status().as_u16(), 422, "{}", err.body());
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let mut headers = HeaderMap::new();
    let content_type = CONTENT_TYPES[pick as usize % CONTENT_TYPES.len()];
    if !content_type.is_empty() {
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    }
    refused_as_422(json_object(&headers, body));
    refused_as_422(RegisterBody::parse(&headers, body));
    refused_as_422(UserUpdate::parse(&headers, body));
    refused_as_422(email_body(&headers, body));
    refused_as_422(string_fields(&headers, body, ["token", "password"]));
    refused_as_422(string_fields(&headers, body, ["token"]));
    let text = String::from_utf8_lossy(body);
    if let Ok(email) = normalize_email(&text) {
        assert_eq!(normalize_email(&email).as_deref(), Ok(email.as_str()));
    }
});
