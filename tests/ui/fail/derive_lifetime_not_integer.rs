use axum_users::prelude::*;

#[derive(AuthConfig)]
#[backend(jwt, lifetime = "1h")]
struct Auth;

fn main() {}
