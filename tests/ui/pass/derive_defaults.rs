use axum_users::prelude::*;
use axum_users::{BackendKind, CookieSpec};

#[derive(AuthConfig)]
#[backend(jwt)]
#[backend(cookie)]
struct Auth;

#[protected]
async fn me(user: CurrentUser) -> String {
    user.email.clone()
}

fn main() {
    assert_eq!(Auth::BACKENDS.len(), 2);
    assert_eq!(Auth::BACKENDS[0].name, "jwt");
    assert_eq!(Auth::BACKENDS[0].kind, BackendKind::Jwt);
    assert_eq!(Auth::BACKENDS[0].lifetime, 3600);
    assert_eq!(Auth::BACKENDS[0].strategy, axum_users::Strategy::Jwt);
    assert_eq!(Auth::BACKENDS[1].name, "cookie");
    assert_eq!(Auth::BACKENDS[1].kind, BackendKind::Cookie);
    assert_eq!(Auth::BACKENDS[1].lifetime, 3600);
    // fastapi-users' CookieTransport defaults.
    assert_eq!(Auth::BACKENDS[1].cookie, CookieSpec::DEFAULT);
    assert_eq!(Auth::BACKENDS[1].cookie.name, "fastapiusersauth");

    let _router: axum::Router<AuthState> = axum::Router::new()
        .route("/me", axum::routing::get(me))
        .merge(Auth::router());
}
