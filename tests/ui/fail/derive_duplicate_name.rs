use axum_users::prelude::*;

#[derive(AuthConfig)]
#[backend(jwt, name = "main")]
#[backend(cookie, name = "main")]
struct Auth;

fn main() {}
