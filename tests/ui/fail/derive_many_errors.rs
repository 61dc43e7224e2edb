use axum_users::prelude::*;

// Every error of the input is reported, in one compilation.
#[derive(AuthConfig)]
#[backend(jwt, lifetime = 0, cookie_name = "x")]
#[backend(cookie, lifetime = "1h", secure = "yes", colour = "red")]
#[backend(oauth)]
#[backend(jwt, name = "jwt")]
#[backend(cookie, name = "web site", same_site = none, secure = false)]
#[auth(requires_verification = 1)]
struct Auth;

fn main() {
    let _router: axum::Router<AuthState> = Auth::router();
}
