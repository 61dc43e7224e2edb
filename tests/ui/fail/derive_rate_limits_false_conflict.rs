use axum_users::prelude::*;

// `rate_limits = false` turns every limit off, so any limit key next to it is a mistake.
#[derive(AuthConfig)]
#[backend(jwt)]
#[auth(login_per_account = "5/15m", rate_limits = false, mail_per_client = "off")]
struct Auth;

fn main() {}
