use axum_users::prelude::*;

#[derive(AuthConfig)]
#[backend(jwt)]
#[auth(
    login_per_account = "5 per 15 minutes",
    login_per_client = "30/15",
    register_per_client = 20,
    mail_per_account = "five/1h",
    mail_per_client = "OFF",
)]
struct Auth;

#[derive(AuthConfig)]
#[backend(jwt)]
#[auth(login_per_account, rate_limits = "no", mail_per_client = "5/")]
struct Bare;

fn main() {}
