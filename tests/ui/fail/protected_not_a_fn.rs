use axum_users::prelude::*;

#[protected]
struct Handler;

fn main() {}
