use axum_users::prelude::*;

#[derive(AuthConfig)]
#[backend(lifetime = 60, jwt)]
#[backend(jwt, cookie)]
struct Auth;

fn main() {}
