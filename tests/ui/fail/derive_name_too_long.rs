use axum_users::prelude::*;

#[derive(AuthConfig)]
#[backend(jwt, name = "a-backend-name-that-is-far-too-long")]
struct Auth;

fn main() {}
