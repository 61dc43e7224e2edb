use axum_users::prelude::*;

#[derive(AuthConfig)]
#[backend(jwt)]
#[auth(
    login_per_account = "4294967296/1m",
    login_per_client = "1/213503982334602d",
    register_per_client = "1/18446744073709551616s",
)]
struct Auth;

fn main() {}
