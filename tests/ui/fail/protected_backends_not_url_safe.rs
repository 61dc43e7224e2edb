use axum_users::prelude::*;

#[protected(backends("my jwt", "", "ok", "a?b"))]
async fn me(user: CurrentUser) -> String {
    user.email.clone()
}

fn main() {}
