use axum_users::prelude::*;

#[derive(AuthConfig)]
#[backend(jwt)]
#[auth(requires_verification = "yes", reset_token_lifetime = 0, verify_token_lifetime = "1h", colour = 1)]
#[auth(requires_verification)]
struct Auth;

#[derive(AuthConfig)]
#[backend(jwt)]
#[auth(reset_token_lifetime = 60, reset_token_lifetime = 61, verify_token_lifetime)]
struct Twice;

fn main() {
    let _ = Auth::router::<AuthState>();
    let _ = Twice::router::<AuthState>();
}
