use axum_users::prelude::*;

#[protected(verified)]
#[axum_users::protected(superuser)]
async fn admin(user: CurrentUser) -> String {
    user.email.clone()
}

fn main() {
    let _router: axum::Router<AuthState> =
        axum::Router::new().route("/admin", axum::routing::get(admin));
}
