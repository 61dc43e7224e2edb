use axum_users::prelude::*;

// Every error of the attribute and of the function is reported, in one compilation.
#[protected(admin, verified, verified, backends("jwt", "jwt", "no way"))]
fn me(user: CurrentUser) -> String {
    user.email.clone()
}

fn main() {}
