use axum_users::prelude::*;

// Two backends without `name` of the same kind are both called "jwt".
#[derive(AuthConfig)]
#[backend(jwt, lifetime = 60)]
#[backend(jwt, lifetime = 86400)]
struct Auth;

fn main() {}
