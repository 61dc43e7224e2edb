use axum_users::prelude::*;

#[derive(AuthConfig)]
#[backend(jwt)]
#[auth(
    login_per_account = "5/15m",
    rate_limits = true,
    login_per_account = "off",
    rate_limits = true
)]
struct Auth;

fn main() {}
