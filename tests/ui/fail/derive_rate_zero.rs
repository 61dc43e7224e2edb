use axum_users::prelude::*;

#[derive(AuthConfig)]
#[backend(jwt)]
#[auth(login_per_account = "0/15m", mail_per_account = "5/0h")]
struct Auth;

fn main() {}
