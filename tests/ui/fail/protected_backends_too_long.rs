use axum_users::prelude::*;

#[protected(backends("a-backend-name-that-is-far-too-long"))]
async fn me(user: CurrentUser) -> String {
    user.email.clone()
}

fn main() {}
