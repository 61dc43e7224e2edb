use axum_users::prelude::*;

#[derive(AuthConfig)]
#[backend(cookie, name = "a", csrf = "off")]
#[backend(cookie, name = "b", csrf = 0)]
#[backend(cookie, name = "c", csrf)]
struct Auth;

fn main() {}
