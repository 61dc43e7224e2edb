use axum_users::prelude::*;

#[derive(AuthConfig)]
#[backend(jwt)]
#[auth(requires_verification, reset_token_lifetime = 900, verify_token_lifetime = 86400)]
struct Strict;

// `#[auth]` may come before the backends; a key left out keeps the trait's default.
#[derive(AuthConfig)]
#[auth(requires_verification = false, verify_token_lifetime = 60u32)]
#[backend(cookie)]
struct Partial;

#[derive(AuthConfig)]
#[backend(jwt)]
#[auth(requires_verification = true)]
struct Explicit;

#[derive(AuthConfig)]
#[backend(jwt)]
struct Defaults;

fn main() {
    assert!(Strict::REQUIRES_VERIFICATION);
    assert_eq!(Strict::RESET_TOKEN_LIFETIME, 900);
    assert_eq!(Strict::VERIFY_TOKEN_LIFETIME, 86400);

    assert!(!Partial::REQUIRES_VERIFICATION);
    assert_eq!(Partial::RESET_TOKEN_LIFETIME, 3600);
    assert_eq!(Partial::VERIFY_TOKEN_LIFETIME, 60);

    assert!(Explicit::REQUIRES_VERIFICATION);
    assert_eq!(Explicit::RESET_TOKEN_LIFETIME, 3600);

    assert!(!Defaults::REQUIRES_VERIFICATION);
    assert_eq!(Defaults::RESET_TOKEN_LIFETIME, 3600);
    assert_eq!(Defaults::VERIFY_TOKEN_LIFETIME, 3600);

    // The consts are usable in const context.
    const _: () = assert!(Strict::RESET_TOKEN_LIFETIME < Strict::VERIFY_TOKEN_LIFETIME);
}
