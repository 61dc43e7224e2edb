use axum_users::prelude::*;

#[derive(AuthConfig)]
#[backend(jwt, csrf = false)]
#[backend(cookie, csrf = false)]
struct Auth;

fn main() {}
