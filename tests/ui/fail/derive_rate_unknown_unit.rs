use axum_users::prelude::*;

#[derive(AuthConfig)]
#[backend(jwt)]
#[auth(login_per_account = "5/2w", register_per_client = "20/15min")]
struct Auth;

fn main() {}
