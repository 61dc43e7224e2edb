use axum_users::prelude::*;
use axum_users::{Rate, RateLimits};

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

// Every rate limit key, each period form; the keys left out keep the defaults.
#[derive(AuthConfig)]
#[backend(jwt)]
#[auth(
    login_per_account = "3/30m",
    login_per_client = "off",
    register_per_client = "10/d",
    mail_per_account = "2/45s",
    rate_limits = true
)]
struct Limited;

#[derive(AuthConfig)]
#[backend(jwt)]
#[auth(mail_per_client = "100/1d", login_per_account = "4294967295/18446744073709551615s")]
struct Extremes;

#[derive(AuthConfig)]
#[backend(jwt)]
#[auth(rate_limits = false, requires_verification)]
struct Unlimited;

#[derive(AuthConfig)]
#[backend(jwt)]
#[auth(rate_limits = true)]
struct ExplicitDefaults;

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

    assert_eq!(Defaults::RATE_LIMITS, RateLimits::DEFAULT);
    assert_eq!(Strict::RATE_LIMITS, RateLimits::DEFAULT);
    assert_eq!(ExplicitDefaults::RATE_LIMITS, RateLimits::DEFAULT);
    assert_eq!(Unlimited::RATE_LIMITS, RateLimits::OFF);
    assert!(Unlimited::REQUIRES_VERIFICATION);

    assert_eq!(
        <Limited as AuthConfig>::RATE_LIMITS,
        RateLimits {
            login_per_account: Some(Rate::new(3, 1800)),
            login_per_client: None,
            register_per_client: Some(Rate::new(10, 86400)),
            mail_per_account: Some(Rate::new(2, 45)),
            mail_per_client: RateLimits::DEFAULT.mail_per_client,
        }
    );
    assert_eq!(
        Extremes::RATE_LIMITS.login_per_account,
        Some(Rate::new(u32::MAX, u64::MAX))
    );
    assert_eq!(Extremes::RATE_LIMITS.mail_per_client, Some(Rate::new(100, 86400)));
    assert_eq!(
        Extremes::RATE_LIMITS.login_per_client,
        RateLimits::DEFAULT.login_per_client
    );

    // The consts are usable in const context.
    const _: () = assert!(Strict::RESET_TOKEN_LIFETIME < Strict::VERIFY_TOKEN_LIFETIME);
}
