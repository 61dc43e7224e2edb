use axum_users::prelude::*;

#[derive(AuthConfig)]
#[backend(name = "jwt", lifetime = 3600)]
#[backend]
#[backend()]
struct Auth;

fn main() {}
