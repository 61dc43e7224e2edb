use axum_users::prelude::*;

#[derive(AuthConfig)]
#[backend(jwt)]
#[auth(requires_verification = "yes", reset_token_lifetime = "1h", verify_token_lifetime)]
struct Values;

#[derive(AuthConfig)]
#[backend(jwt)]
#[auth(requires_verification(true), reset_token_lifetime = 60i32, verify_token_lifetime = 1.5)]
struct Shapes;

fn main() {}
