//! Token reading: access tokens (`JwtKeys::read_access_token`) and the reset and verification
//! tokens (`JwtKeys::decode` with their audiences and required claims, as the routes call it).
//!
//! Even first byte: the rest of the input is the token. Odd first byte: the rest is the payload
//! (and, after a NUL, the header) of a correctly signed HS256 token, so the claim readers behind
//! the signature check are reached too. Nothing may panic, and no token is accepted for two
//! purposes.
#![no_main]

use std::sync::LazyLock;

use axum_users_runtime::{is_plausible_token, JwtKeys, RESET_AUDIENCE, VERIFY_AUDIENCE};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

static KEYS: LazyLock<JwtKeys> = LazyLock::new(|| JwtKeys::hs256(SECRET).unwrap());
static SIGNING: LazyLock<EncodingKey> = LazyLock::new(|| EncodingKey::from_secret(SECRET).unwrap());

/// Fields that fastapi-users' tokens carry.
#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct ResetClaims {
    sub: String,
    password_fgpt: String,
}

#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct VerifyClaims {
    sub: String,
    email: String,
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let token = if mode % 2 == 1 {
        let (payload, header) = match rest.iter().position(|b| *b == 0) {
            Some(at) => (&rest[..at], &rest[at + 1..]),
            None => (rest, br#"{"alg":"HS256","typ":"JWT"}"#.as_slice()),
        };
        let message = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(payload)
        );
        let signature =
            jsonwebtoken::crypto::sign(message.as_bytes(), &SIGNING, Algorithm::HS256).unwrap();
        format!("{message}.{signature}")
    } else {
        String::from_utf8_lossy(rest).into_owned()
    };
    let required = ["exp", "aud", "sub"];
    let access = KEYS.read_access_token(&token, 0);
    let reset = KEYS.decode::<ResetClaims>(&token, RESET_AUDIENCE, &required, 0);
    let verify = KEYS.decode::<VerifyClaims>(&token, VERIFY_AUDIENCE, &required, 0);
    // One token never serves two purposes (the audiences differ).
    assert!(
        [access.is_some(), reset.is_some(), verify.is_some()]
            .iter()
            .filter(|accepted| **accepted)
            .count()
            <= 1
    );
    let _ = KEYS.decode::<Value>(&token, RESET_AUDIENCE, &[], 5);
    let _ = is_plausible_token(&token);
});
