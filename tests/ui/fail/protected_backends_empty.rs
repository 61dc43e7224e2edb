use axum_users::prelude::*;

#[protected(backends())]
async fn me(user: CurrentUser) -> String {
    user.email.clone()
}

fn main() {}
