use axum_users::prelude::*;

#[protected(verified, admin)]
async fn me(user: CurrentUser) -> String {
    user.email.clone()
}

fn main() {
    // The handler is re-emitted unchanged next to the error, so routing still type-checks.
    let _router: axum::Router<AuthState> = axum::Router::new().route("/me", axum::routing::get(me));
}
