use axum_users::prelude::*;

#[protected(backends(jwt, 1))]
async fn me(user: CurrentUser) -> String {
    user.email.clone()
}

fn main() {}
