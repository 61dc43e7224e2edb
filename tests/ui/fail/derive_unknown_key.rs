use axum_users::prelude::*;

#[derive(AuthConfig)]
#[backend(jwt, secret = "hunter2")]
#[backend(cookie, max_age = 60)]
struct Auth;

fn main() {}
