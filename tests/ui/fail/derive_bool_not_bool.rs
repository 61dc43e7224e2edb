use axum_users::prelude::*;

#[derive(AuthConfig)]
#[backend(cookie, secure = "yes", http_only = 1)]
struct Auth;

fn main() {}
