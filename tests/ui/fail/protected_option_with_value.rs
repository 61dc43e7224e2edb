use axum_users::prelude::*;

#[protected(verified = true, superuser("yes"))]
async fn me(user: CurrentUser) -> String {
    user.email.clone()
}

fn main() {}
