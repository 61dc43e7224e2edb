use axum_users::prelude::*;

#[derive(AuthConfig)]
#[backend(jwt)]
#[auth(
    reset_token_lifetime = 60,
    requires_verification,
    reset_token_lifetime = 120,
    requires_verification = false
)]
struct Auth;

fn main() {}
