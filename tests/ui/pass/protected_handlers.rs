use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::Json;
use axum_users::prelude::*;
use axum_users::Requirement;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

#[derive(AuthConfig)]
#[backend(jwt)]
struct Auth;

#[derive(Deserialize, Serialize)]
struct Note {
    text: String,
}

#[derive(Deserialize)]
struct Page {
    #[allow(dead_code)]
    n: u32,
}

/// Generics, a where-clause, other extractors and a body consumer last.
#[protected(verified, superuser)]
pub(crate) async fn echo<T>(
    State(_state): State<AuthState>,
    Path(id): Path<u32>,
    Query(_page): Query<Page>,
    _headers: HeaderMap,
    Json(body): Json<T>,
) -> Json<T>
where
    T: DeserializeOwned + Serialize + Send + 'static,
{
    let _ = id;
    Json(body)
}

/// `optional`: anonymous requests pass, the user is an `Option`.
#[protected(optional)]
#[allow(clippy::unused_async)]
async fn maybe(user: Option<CurrentUser>) -> String {
    user.map_or_else(|| "hello stranger".to_owned(), |u| u.email.clone())
}

/// No parameters at all.
#[protected]
async fn ping() -> &'static str {
    "pong"
}

/// Exactly fifteen parameters: with the guard, axum's limit of sixteen.
#[protected]
#[allow(clippy::too_many_arguments)]
async fn fifteen(
    _: HeaderMap,
    _: HeaderMap,
    _: HeaderMap,
    _: HeaderMap,
    _: HeaderMap,
    _: HeaderMap,
    _: HeaderMap,
    _: HeaderMap,
    _: HeaderMap,
    _: HeaderMap,
    _: HeaderMap,
    _: HeaderMap,
    _: HeaderMap,
    _: HeaderMap,
    _: HeaderMap,
) {
}

struct Service;

impl Service {
    /// Methods: the guard goes after the receiver.
    #[protected(superuser)]
    async fn admin(&self, user: CurrentUser) -> String {
        user.email.clone()
    }
}

fn flags<R: Requirement, F: Fn(Protected<R>) -> Fut, Fut>(_: F) -> (bool, bool, bool) {
    (R::OPTIONAL, R::VERIFIED, R::SUPERUSER)
}

fn main() {
    assert_eq!(flags(ping), (false, false, false));
    let _ = Service::admin;

    let _router: axum::Router<AuthState> = axum::Router::new()
        .route("/echo/{id}", axum::routing::post(echo::<Note>))
        .route("/maybe", axum::routing::get(maybe))
        .route("/ping", axum::routing::get(ping))
        .route("/fifteen", axum::routing::get(fifteen))
        .merge(Auth::router());
}
