//! Custom user fields: a `display_name` beside fastapi-users' columns.
//!
//! ```text
//! cargo run --example custom_fields
//! curl -s -X POST http://127.0.0.1:8000/auth/register -H 'Content-Type: application/json' \
//!   -d '{"email": "arthur@camelot.bt", "password": "guinevere", "display_name": "Arthur"}'
//! ```
//!
//! The column `display_name` is added to the SQLite `user` table on start; registration and
//! `PATCH /users/me` accept the field, and every user JSON returns it.

use axum::routing::get;
use axum::{Json, Router};
use axum_users::prelude::*;
use axum_users::{Field, FieldKind, UserFields};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

#[derive(AuthConfig)]
#[backend(jwt, name = "jwt", lifetime = 3600)]
struct Auth;

/// The application's own user fields.
#[derive(Serialize, Deserialize)]
struct Profile {
    display_name: Option<String>,
}

impl UserFields for Profile {
    const FIELDS: &'static [Field] = &[Field::optional("display_name", FieldKind::Text)];
}

#[protected]
async fn greeting(user: CurrentUser) -> Json<Value> {
    let profile: Profile = user.fields_as().unwrap_or(Profile { display_name: None });
    let name = profile.display_name.unwrap_or_else(|| user.email.clone());
    Json(json!({ "greeting": format!("hello {name}") }))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter("info,sqlx=warn")
        .init();
    let url =
        std::env::var("AUTH_DATABASE_URL").unwrap_or_else(|_| "sqlite://custom-fields.db".into());
    let secret = std::env::var("AUTH_SECRET").unwrap_or_else(|_| {
        tracing::warn!("AUTH_SECRET is not set: using a development secret");
        "development secret, not for production use!".into()
    });
    let store = SqliteStore::connect(&url)
        .await?
        .with_fields(Profile::FIELDS)
        .await?;
    let state = AuthState::builder::<Auth>()
        .secret(secret)
        .store(store)
        .user_fields::<Profile>()
        .build()?;
    let app = Router::new()
        .route("/greeting", get(greeting))
        .merge(Auth::router())
        .with_state(state);
    let bind = std::env::var("AUTH_BIND").unwrap_or_else(|_| "127.0.0.1:8000".into());
    let listener = tokio::net::TcpListener::bind(&bind).await?;
    tracing::info!("custom_fields example listening on http://{bind}");
    axum::serve(listener, app).await?;
    Ok(())
}
