use axum_users::prelude::*;
use axum_users::requirement::encode_name;
use axum_users::{Name, Requirement};

#[derive(AuthConfig)]
#[backend(jwt, name = "jwt")]
#[backend(cookie, name = "web")]
#[backend(jwt, name = "0123456789abcdef-long-name-32byt")]
struct Auth;

#[protected(backends("web", "0123456789abcdef-long-name-32byt"), verified)]
async fn two(user: CurrentUser) -> String {
    user.email.clone()
}

#[protected(backends("jwt"))]
async fn one(user: CurrentUser) -> String {
    user.email.clone()
}

const WEB: (u128, u128) = match encode_name("web") {
    Some(name) => name,
    None => panic!(),
};
const LONG: (u128, u128) = match encode_name("0123456789abcdef-long-name-32byt") {
    Some(name) => name,
    None => panic!(),
};

/// Names the guard type the macro inserted: the handler's first parameter.
trait FirstParam<P, U> {}
impl<F, Fut, P, U> FirstParam<P, U> for F where F: Fn(P, U) -> Fut {}
fn requirement_of<R: Requirement, F: FirstParam<Protected<R>, CurrentUser>>(
    _: F,
) -> Option<Vec<String>> {
    assert!(R::VERIFIED || R::backend_names().is_some_and(|names| names.len() == 1));
    R::backend_names()
}

fn main() {
    type Two = Req<false, true, false, (Name<{ WEB.0 }, { WEB.1 }>, Name<{ LONG.0 }, { LONG.1 }>)>;
    assert_eq!(
        requirement_of::<Two, _>(two),
        Some(vec![
            "web".to_owned(),
            "0123456789abcdef-long-name-32byt".to_owned()
        ])
    );
    assert!(Two::allows_backend("web"));
    assert!(!Two::allows_backend("jwt"));
    assert_eq!(requirement_of(one), Some(vec!["jwt".to_owned()]));

    let _router: axum::Router<AuthState> = axum::Router::new()
        .route("/two", axum::routing::get(two))
        .route("/one", axum::routing::get(one))
        .merge(Auth::router());
}
