use axum_users::prelude::*;

#[derive(AuthConfig)]
#[backend(jwt)]
#[auth(requires_verification, reset_token_lifetime = 900, verify_token_lifetime = 86400)]
struct Strict;

#[derive(AuthConfig)]
#[auth(requires_verification = false)]
#[backend(cookie)]
struct Relaxed;

#[derive(AuthConfig)]
#[backend(jwt)]
struct Defaults;

fn main() {
    assert!(Strict::REQUIRES_VERIFICATION);
    assert_eq!(Strict::RESET_TOKEN_LIFETIME, 900);
    assert_eq!(Strict::VERIFY_TOKEN_LIFETIME, 86400);
    assert!(!Relaxed::REQUIRES_VERIFICATION);
    assert_eq!(Relaxed::RESET_TOKEN_LIFETIME, 3600);
    assert!(!Defaults::REQUIRES_VERIFICATION);
    assert_eq!(Defaults::VERIFY_TOKEN_LIFETIME, 3600);
}
