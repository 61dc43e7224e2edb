use axum_users::prelude::*;

#[protected(verified, superuser, verified)]
async fn me(user: CurrentUser) -> String {
    user.email.clone()
}

#[protected(backends("jwt"), backends("cookie"))]
async fn other(user: CurrentUser) -> String {
    user.email.clone()
}

fn main() {}
