//! Property tests of everything that parses request input: e-mail addresses, the login form
//! (urlencoded and multipart), the JSON bodies, the `Authorization` and `Cookie` headers, access,
//! reset and verification tokens, and the body limit. Whatever the input, no parser panics and
//! every refusal is a 4xx; well-formed input round-trips.
//!
//! The fuzz targets in `fuzz/` (cargo-fuzz, nightly) cover the same entry points with
//! coverage guidance; these run on stable in every `cargo test`.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue};
use axum_users::limits::{header_bytes, read_body};
use axum_users::transport::{bearer_token, cookie_value};
use axum_users::validation::{
    email_body, json_object, normalize_email, string_fields, LoginForm, RegisterBody, UserUpdate,
};
use axum_users::{
    is_plausible_token, ApiError, BodyLimit, JwtKeys, RESET_AUDIENCE, VERIFY_AUDIENCE,
};
use proptest::prelude::*;
use serde_json::{json, Map, Value};

const SECRET: &str = "0123456789abcdef0123456789abcdef";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
}

fn headers(content_type: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    if let Ok(value) = HeaderValue::from_str(content_type) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    headers
}

/// A refusal must be the client's fault.
fn client_error(err: &ApiError) -> Result<(), TestCaseError> {
    let status = err.status().as_u16();
    prop_assert!((400..500).contains(&status), "{status}: {}", err.body());
    Ok(())
}

fn check<T>(result: Result<T, ApiError>) -> Result<(), TestCaseError> {
    match result {
        Ok(_) => Ok(()),
        Err(err) => client_error(&err),
    }
}

/// Any JSON value, nested a few levels.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        ".{0,40}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::vec((any_key(), inner), 0..8)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
        ]
    })
}

/// Keys that hit the fields the parsers read, and others.
fn any_key() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("email".to_owned()),
        Just("password".to_owned()),
        Just("token".to_owned()),
        Just("is_active".to_owned()),
        Just("is_superuser".to_owned()),
        Just("is_verified".to_owned()),
        Just("id".to_owned()),
        ".{0,12}",
    ]
}

/// A JSON object whose known fields hold any JSON.
fn any_object() -> impl Strategy<Value = Value> {
    prop::collection::vec((any_key(), any_json()), 0..8)
        .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>()))
}

/// Syntactically valid addresses (local part as typed, any case; domain of letters and digits).
fn valid_email() -> impl Strategy<Value = (String, String)> {
    (
        "[A-Za-z0-9][A-Za-z0-9_+-]{0,15}(\\.[A-Za-z0-9_+-]{1,10})?",
        "[A-Za-z0-9]{1,12}(\\.[A-Za-z0-9]{1,12})?\\.[A-Za-z]{2,8}",
    )
}

fn content_type() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("application/json".to_owned()),
        Just("application/x-www-form-urlencoded".to_owned()),
        Just("multipart/form-data; boundary=XyZ".to_owned()),
        Just("multipart/form-data".to_owned()),
        Just("text/plain".to_owned()),
        Just(String::new()),
        "[ -~]{0,40}",
    ]
}

/// `application/x-www-form-urlencoded`, every byte but letters and digits percent-encoded.
fn form_encode(fields: &[(&str, &str)]) -> String {
    let encode = |s: &str| {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect::<String>()
    };
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn multipart(fields: &[(&str, &str)]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!("--XyZ\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                .as_bytes(),
        );
    }
    body.extend_from_slice(b"--XyZ--\r\n");
    body
}

proptest! {
    // Failures are reported, not written next to the test (no regression files in the tree).
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn normalize_email_never_panics_and_is_idempotent(input in ".{0,300}") {
        if let Ok(normalized) = normalize_email(&input) {
            prop_assert_eq!(normalize_email(&normalized), Ok(normalized.clone()));
            let (local, domain) = normalized.rsplit_once('@').unwrap();
            prop_assert_eq!(local, input.rsplit_once('@').unwrap().0);
            prop_assert_eq!(domain.to_lowercase(), domain);
        }
    }

    #[test]
    fn valid_emails_round_trip((local, domain) in valid_email()) {
        let email = format!("{local}@{domain}");
        prop_assert_eq!(normalize_email(&email), Ok(format!("{local}@{}", domain.to_lowercase())));
    }

    #[test]
    fn json_parsers_refuse_any_bytes_with_4xx(
        body in prop::collection::vec(any::<u8>(), 0..512),
        ct in content_type(),
    ) {
        let headers = headers(&ct);
        check(json_object(&headers, &body))?;
        check(RegisterBody::parse(&headers, &body))?;
        check(UserUpdate::parse(&headers, &body))?;
        check(email_body(&headers, &body))?;
        check(string_fields(&headers, &body, ["token", "password"]))?;
    }

    #[test]
    fn json_parsers_handle_any_object(value in any_object(), other in any_json()) {
        let headers = headers("application/json");
        for body in [value.to_string(), other.to_string()] {
            let body = body.as_bytes();
            check(json_object(&headers, body))?;
            check(RegisterBody::parse(&headers, body))?;
            check(UserUpdate::parse(&headers, body))?;
            check(email_body(&headers, body))?;
            check(string_fields(&headers, body, ["token", "password"]))?;
        }
    }

    #[test]
    fn deep_nesting_is_refused_without_overflow(depth in 1usize..20_000, object in any::<bool>()) {
        let body = if object {
            format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth))
        } else {
            format!("{}{}", "[".repeat(depth), "]".repeat(depth))
        };
        let headers = headers("application/json");
        check(RegisterBody::parse(&headers, body.as_bytes()))?;
        check(UserUpdate::parse(&headers, body.as_bytes()))?;
    }

    #[test]
    fn register_body_round_trips(
        (local, domain) in valid_email(),
        password in ".{1,64}",
        extra in any_json(),
    ) {
        let email = format!("{local}@{domain}");
        let body = json!({"email": email, "password": password, "nickname": extra}).to_string();
        let parsed = RegisterBody::parse(&headers("application/json"), body.as_bytes()).unwrap();
        prop_assert_eq!(parsed.email, format!("{local}@{}", domain.to_lowercase()));
        prop_assert_eq!(parsed.password, password);
        // (Compared through serde_json's own reading: it may round a float's last digit.)
        let expected: Value = serde_json::from_str(&extra.to_string()).unwrap();
        prop_assert_eq!(&parsed.raw["nickname"], &expected);
    }

    #[test]
    fn user_update_round_trips(
        email in proptest::option::of(valid_email()),
        password in proptest::option::of(".{1,64}"),
        flags in (any::<Option<bool>>(), any::<Option<bool>>(), any::<Option<bool>>()),
    ) {
        let mut body = Map::new();
        if let Some((local, domain)) = &email {
            body.insert("email".into(), json!(format!("{local}@{domain}")));
        }
        if let Some(password) = &password {
            body.insert("password".into(), json!(password));
        }
        for (name, flag) in [("is_active", flags.0), ("is_superuser", flags.1), ("is_verified", flags.2)] {
            if let Some(flag) = flag {
                body.insert(name.into(), json!(flag));
            }
        }
        let text = Value::Object(body).to_string();
        let (update, _) = UserUpdate::parse(&headers("application/json"), text.as_bytes()).unwrap();
        prop_assert_eq!(
            update.email,
            email.map(|(local, domain)| format!("{local}@{}", domain.to_lowercase()))
        );
        prop_assert_eq!(update.password, password);
        prop_assert_eq!((update.is_active, update.is_superuser, update.is_verified), flags);
    }

    #[test]
    fn login_form_refuses_any_bytes_with_4xx(
        body in prop::collection::vec(any::<u8>(), 0..512),
        ct in content_type(),
    ) {
        let result = runtime().block_on(LoginForm::parse(&headers(&ct), Bytes::from(body)));
        check(result)?;
    }

    #[test]
    fn login_form_handles_multipart_junk(
        parts in prop::collection::vec((".{0,12}", ".{0,40}", any::<bool>()), 0..6),
        tail in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        let mut body = Vec::new();
        for (name, value, file) in &parts {
            let filename = if *file { "; filename=\"f\"" } else { "" };
            body.extend_from_slice(
                format!("--XyZ\r\nContent-Disposition: form-data; name=\"{name}\"{filename}\r\n\r\n{value}\r\n")
                    .as_bytes(),
            );
        }
        body.extend_from_slice(&tail);
        let headers = headers("multipart/form-data; boundary=XyZ");
        check(runtime().block_on(LoginForm::parse(&headers, Bytes::from(body))))?;
    }

    #[test]
    fn login_form_round_trips(username in ".{1,64}", password in ".{1,64}", as_multipart in any::<bool>()) {
        let fields = [("grant_type", "password"), ("username", username.as_str()), ("password", password.as_str())];
        let (ct, body) = if as_multipart {
            // Multipart values are taken as they are, line breaks included, but a value cannot
            // contain the boundary.
            prop_assume!(!username.contains("--XyZ") && !password.contains("--XyZ"));
            prop_assume!(!username.contains('\r') && !password.contains('\r'));
            ("multipart/form-data; boundary=XyZ", multipart(&fields))
        } else {
            ("application/x-www-form-urlencoded", form_encode(&fields).into_bytes())
        };
        let form = runtime()
            .block_on(LoginForm::parse(&headers(ct), Bytes::from(body)))
            .unwrap();
        prop_assert_eq!(form.username, username);
        prop_assert_eq!(form.password, password);
    }

    #[test]
    fn authorization_and_cookie_headers_never_panic(
        values in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..128), 0..4),
        name in "[a-zA-Z0-9_]{1,20}",
    ) {
        let mut headers = HeaderMap::new();
        for value in &values {
            if let Ok(value) = HeaderValue::from_bytes(value) {
                headers.append(header::AUTHORIZATION, value.clone());
                headers.append(header::COOKIE, value);
            }
        }
        if let Some(token) = bearer_token(&headers) {
            prop_assert!(!token.is_empty());
            prop_assert!(!token.starts_with(' ') && !token.ends_with(' '));
        }
        if let Some(value) = cookie_value(&headers, &name) {
            prop_assert!(!value.is_empty());
        }
        let counted: usize = headers.iter().map(|(n, v)| n.as_str().len() + v.len() + 4).sum();
        prop_assert_eq!(header_bytes(&headers), counted);
    }

    #[test]
    fn bearer_tokens_round_trip(token in "[!-~]{1,200}", scheme in "(?i)bearer", spaces in " {1,3}") {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("{scheme}{spaces}{token} ")).unwrap(),
        );
        prop_assert_eq!(bearer_token(&headers), Some(token.as_str()));
    }

    #[test]
    fn cookies_round_trip(
        value in "[!#-+\\--:<-\\[\\]-~]{1,100}",
        others in prop::collection::vec(("[a-z]{1,8}", "[a-z0-9]{0,8}"), 0..5),
        quoted in any::<bool>(),
    ) {
        let name = "fastapiusersauth";
        let mut pairs: Vec<String> = others
            .iter()
            .filter(|(other, _)| other != name)
            .map(|(other, v)| format!("{other}={v}"))
            .collect();
        let shown = if quoted { format!("\"{value}\"") } else { value.clone() };
        pairs.insert(pairs.len() / 2, format!("{name}={shown}"));
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_str(&pairs.join("; ")).unwrap());
        prop_assert_eq!(cookie_value(&headers, name), Some(value.as_str()));
    }

    #[test]
    fn tokens_never_panic(token in prop_oneof![".{0,300}", "[A-Za-z0-9_.=-]{0,300}"]) {
        let keys = JwtKeys::hs256(SECRET).unwrap();
        // Random text is never a valid token.
        prop_assert_eq!(keys.read_access_token(&token, 0), None);
        prop_assert!(keys.decode::<Value>(&token, RESET_AUDIENCE, &["sub", "exp", "aud"], 0).is_none());
        prop_assert!(keys.decode::<Value>(&token, VERIFY_AUDIENCE, &["sub", "exp", "aud"], 0).is_none());
        let _ = is_plausible_token(&token);
    }

    #[test]
    fn access_tokens_round_trip_and_tampering_is_refused(
        id in any::<u128>(),
        lifetime in 1u64..1_000_000,
        position in any::<prop::sample::Index>(),
        replacement in "[A-Za-z0-9_.-]",
    ) {
        let keys = JwtKeys::hs256(SECRET).unwrap();
        let id = uuid::Uuid::from_u128(id);
        let token = keys.access_token(id, lifetime).unwrap();
        prop_assert_eq!(keys.read_access_token(&token, 0), Some(id));
        // Another audience's keys and another secret refuse it.
        prop_assert!(keys.decode::<Value>(&token, RESET_AUDIENCE, &["sub"], 0).is_none());
        let other = JwtKeys::hs256("another secret of at least 32 bytes!").unwrap();
        prop_assert_eq!(other.read_access_token(&token, 0), None);
        // One character changed: refused, unless base64 padding bits made it the same bytes.
        let at = position.index(token.len());
        let mut tampered = token.clone();
        tampered.replace_range(at..at + 1, &replacement);
        if let Some(read) = keys.read_access_token(&tampered, 0) {
            prop_assert_eq!(read, id);
        }
    }

    #[test]
    fn body_limit_is_exact(len in 0usize..4096, max in 0usize..4096, announce in any::<bool>()) {
        let limit = BodyLimit { max_bytes: max, timeout: Duration::from_secs(5) };
        let body = vec![b'a'; len];
        let mut request = Request::new(Body::from(body));
        if announce {
            request.headers_mut().insert(header::CONTENT_LENGTH, HeaderValue::from(len));
        }
        let result = runtime().block_on(read_body(request, limit));
        if len <= max {
            prop_assert_eq!(result.unwrap().len(), len);
        } else {
            prop_assert_eq!(result.unwrap_err().status().as_u16(), 413);
        }
    }
}
