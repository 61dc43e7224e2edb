use axum_users::prelude::*;

#[protected]
fn me(user: CurrentUser) -> String {
    user.email.clone()
}

fn main() {}
