use axum_users::prelude::*;

#[derive(AuthConfig)]
#[backend(oauth, name = "github")]
struct Auth;

fn main() {
    // The stub impl emitted next to the error keeps this line free of follow-on errors.
    let _router: axum::Router<AuthState> = Auth::router();
}
