use axum_users::prelude::*;

#[derive(AuthConfig)]
#[backend(cookie, same_site = none, secure = false)]
struct Auth;

fn main() {}
