use axum_users::prelude::*;

#[derive(AuthConfig)]
#[backend(cookie, same_site = sometimes)]
#[backend(cookie, name = "c2", same_site = true)]
struct Auth;

fn main() {}
