use axum_users::prelude::*;

#[derive(AuthConfig)]
#[backend(jwt, cookie_name = "session", same_site = strict)]
struct Auth;

fn main() {}
