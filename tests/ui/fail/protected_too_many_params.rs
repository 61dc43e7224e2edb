use axum::http::{HeaderMap, Method, Uri, Version};
use axum_users::prelude::*;

#[protected]
async fn crowded(
    _: Method,
    _: Uri,
    _: Version,
    _: HeaderMap,
    _: Method,
    _: Uri,
    _: Version,
    _: HeaderMap,
    _: Method,
    _: Uri,
    _: Version,
    _: HeaderMap,
    _: Method,
    _: Uri,
    _: Version,
    _: HeaderMap,
) {
}

fn main() {}
