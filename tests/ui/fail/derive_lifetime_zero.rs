use axum_users::prelude::*;

#[derive(AuthConfig)]
#[backend(jwt, lifetime = 0)]
#[backend(cookie, lifetime = -5)]
struct Auth;

fn main() {}
