use axum_users::prelude::*;

#[derive(AuthConfig)]
#[backend(jwt, lifetime = 60, name = "a", lifetime = 120)]
struct Auth;

fn main() {}
