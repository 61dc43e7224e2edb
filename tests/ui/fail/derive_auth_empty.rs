use axum_users::prelude::*;

#[derive(AuthConfig)]
#[backend(jwt)]
#[auth]
struct Bare;

#[derive(AuthConfig)]
#[backend(jwt)]
#[auth()]
struct Parens;

fn main() {}
