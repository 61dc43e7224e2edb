use axum_users::prelude::*;

// Fields are ignored; only the `#[backend]` attributes matter. Other attributes are kept.
#[derive(AuthConfig, Debug, Default)]
#[backend(jwt, lifetime = 60)]
struct Named {
    #[allow(dead_code)]
    label: String,
}

#[derive(AuthConfig)]
#[backend(cookie, name = "tuple", lifetime = 120)]
struct Tuple(#[allow(dead_code)] u8);

mod nested {
    use axum_users::AuthConfig;

    #[derive(axum_users::AuthConfig)]
    #[backend(jwt, name = "nested")]
    pub(crate) struct Auth;

    pub(crate) fn count() -> usize {
        Auth::BACKENDS.len()
    }
}

fn main() {
    assert_eq!(Named::BACKENDS[0].lifetime, 60);
    assert_eq!(Tuple::BACKENDS[0].name, "tuple");
    assert_eq!(Tuple::BACKENDS[0].lifetime, 120);
    assert_eq!(nested::count(), 1);
    let _named: axum::Router<AuthState> = Named::router();
    let _tuple: axum::Router<AuthState> = Tuple::router();
}
