use axum_users::prelude::*;

#[derive(AuthConfig)]
#[backend(cookie, cookie_name = "my session", path = "api", domain = "")]
#[backend(
    cookie,
    name = "c2",
    cookie_name = "",
    path = "/a;b",
    domain = "example.com; x"
)]
struct Auth;

fn main() {}
