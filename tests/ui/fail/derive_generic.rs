use axum_users::prelude::*;

#[derive(AuthConfig)]
#[backend(jwt)]
struct Auth<T: Send + Sync + 'static> {
    _marker: std::marker::PhantomData<T>,
}

fn main() {}
