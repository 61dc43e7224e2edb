use axum_users::prelude::*;

#[derive(AuthConfig)]
#[backend(jwt, name = jwt)]
struct Auth;

fn main() {}
