use axum_users::prelude::*;

#[protected(backends("jwt", "cookie", "jwt"))]
async fn me(user: CurrentUser) -> String {
    user.email.clone()
}

fn main() {}
