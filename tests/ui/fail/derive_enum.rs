use axum_users::prelude::*;

#[derive(AuthConfig)]
#[backend(jwt)]
enum Auth {
    Jwt,
}

fn main() {}
