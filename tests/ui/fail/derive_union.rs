use axum_users::prelude::*;

#[derive(AuthConfig)]
#[backend(jwt)]
union Auth {
    a: u32,
}

fn main() {}
