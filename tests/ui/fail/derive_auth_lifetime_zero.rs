use axum_users::prelude::*;

#[derive(AuthConfig)]
#[backend(jwt)]
#[auth(reset_token_lifetime = 0, verify_token_lifetime = -5)]
struct Auth;

fn main() {}
