use axum_users::prelude::*;

#[derive(AuthConfig)]
#[backend(jwt, lifetime = 18446744073709551616)]
#[backend(cookie, lifetime = 60i32)]
struct Auth;

fn main() {}
