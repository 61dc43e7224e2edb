use axum_users::prelude::*;

#[derive(AuthConfig)]
struct Auth;

fn main() {
    let _router: axum::Router<AuthState> = Auth::router();
}
