use axum_users::prelude::*;

// The second `#[auth]` is reported as a whole; its keys are not read.
#[derive(AuthConfig)]
#[auth(requires_verification)]
#[backend(jwt)]
#[auth(reset_token_lifetime = 900)]
struct Auth;

fn main() {
    // The stub impl keeps the rest of the crate free of follow-on errors.
    let _router: axum::Router<AuthState> = Auth::router();
}
