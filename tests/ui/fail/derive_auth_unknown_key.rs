use axum_users::prelude::*;

#[derive(AuthConfig)]
#[backend(jwt)]
#[auth(requires_verification, expiry = 60, lifetime = 60)]
struct Auth;

fn main() {}
