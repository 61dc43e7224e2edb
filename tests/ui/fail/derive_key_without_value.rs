use axum_users::prelude::*;

#[derive(AuthConfig)]
#[backend(cookie, secure, lifetime(60))]
struct Auth;

fn main() {}
