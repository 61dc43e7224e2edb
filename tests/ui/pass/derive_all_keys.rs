use axum_users::prelude::*;
use axum_users::{BackendKind, SameSite, Strategy};

#[derive(AuthConfig)]
#[backend(
    cookie,
    name = "web",
    lifetime = 60,
    cookie_name = "__Host-session",
    path = "/app",
    domain = "example.com",
    secure = true,
    http_only = false,
    same_site = None,
    strategy = redis,
    csrf = false
)]
#[backend(cookie, name = "web2", same_site = "Strict", secure = false, strategy = "Database", csrf = true)]
#[backend(jwt, lifetime = 86400, name = "api.v1_x~y", strategy = jwt)]
#[backend(jwt, name = "opaque", strategy = database)]
struct Auth;

fn main() {
    assert_eq!(Auth::BACKENDS.len(), 4);

    let web = &Auth::BACKENDS[0];
    assert_eq!(web.name, "web");
    assert_eq!(web.kind, BackendKind::Cookie);
    assert_eq!(web.lifetime, 60);
    assert_eq!(web.strategy, Strategy::Redis);
    assert_eq!(web.cookie.name, "__Host-session");
    assert_eq!(web.cookie.path, "/app");
    assert_eq!(web.cookie.domain, Some("example.com"));
    assert!(web.cookie.secure);
    assert!(!web.cookie.http_only);
    assert_eq!(web.cookie.same_site, SameSite::None);
    assert!(!web.cookie.csrf);

    let web2 = &Auth::BACKENDS[1];
    assert_eq!(web2.name, "web2");
    assert_eq!(web2.cookie.same_site, SameSite::Strict);
    assert!(!web2.cookie.secure);
    assert!(web2.cookie.http_only);
    assert_eq!(web2.strategy, Strategy::Database);
    assert!(web2.cookie.csrf);

    let api = &Auth::BACKENDS[2];
    assert_eq!(api.name, "api.v1_x~y");
    assert_eq!(api.kind, BackendKind::Jwt);
    assert_eq!(api.lifetime, 86400);
    assert_eq!(api.strategy, Strategy::Jwt);

    let opaque = &Auth::BACKENDS[3];
    assert_eq!(opaque.kind, BackendKind::Jwt);
    assert_eq!(opaque.strategy, Strategy::Database);
    // Not written: on by default.
    assert!(opaque.cookie.csrf);

    let _router: axum::Router<AuthState> = Auth::router();
}
