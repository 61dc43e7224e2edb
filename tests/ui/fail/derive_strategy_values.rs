use axum_users::prelude::*;

#[derive(AuthConfig)]
#[backend(cookie, strategy = memcached)]
#[backend(jwt, name = "a", strategy = 1)]
#[backend(jwt, name = "b", strategy = redis, strategy = database)]
struct Auth;

fn main() {}
