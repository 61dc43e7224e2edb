use axum_users::prelude::*;

#[derive(AuthConfig)]
#[backend(jwt, name = "my jwt")]
#[backend(cookie, name = "a/b")]
#[backend(jwt, name = "")]
#[backend(jwt, name = "..")]
struct Auth;

fn main() {}
