//! The OpenAPI document (feature `openapi`): served through a router as the quickstart serves
//! it, with the generated routes, the security schemes per backend and guarded application
//! handlers added with `axum_users::openapi::protect`. The document is validated and fuzzed
//! against the running quickstart by `tests/openapi/run.sh`.
#![cfg(feature = "openapi")]

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::routing::get;
use axum::{Json, Router};
use axum_users::openapi::{protect, Guard, ProtectError};
use axum_users::prelude::*;
use axum_users::utoipa::openapi::{HttpMethod, OpenApi};
use common::{admin, cookie_only, maybe, me, memory_state, send, Auth};
use serde_json::{json, Value};

/// GET operations for `paths`, as `#[utoipa::path]` would describe them.
fn app_doc(paths: &[&str]) -> OpenApi {
    let paths: serde_json::Map<String, Value> = paths
        .iter()
        .map(|p| {
            (
                (*p).to_owned(),
                json!({"get": {"responses": {"200": {"description": "ok"}}}}),
            )
        })
        .collect();
    serde_json::from_value(json!({
        "openapi": "3.1.0",
        "info": {"title": "app", "version": "1"},
        "paths": paths
    }))
    .unwrap()
}

fn document() -> Value {
    let mut doc = Auth::openapi();
    doc.merge(app_doc(&["/me", "/admin", "/maybe", "/cookie-only"]));
    for (path, guard) in [
        ("/me", Guard::of_handler(&me)),
        ("/admin", Guard::of_handler(&admin)),
        ("/maybe", Guard::of_handler(&maybe)),
        ("/cookie-only", Guard::of_handler(&cookie_only)),
    ] {
        protect(&mut doc, Auth::BACKENDS, HttpMethod::Get, path, guard).unwrap();
    }
    serde_json::to_value(doc).unwrap()
}

async fn served() -> Value {
    let document = Json(document());
    let app: Router = Router::new()
        .merge(Auth::router())
        .route("/openapi.json", get(move || async move { document }))
        .with_state(memory_state());
    let request = Request::get("/openapi.json").body(Body::empty()).unwrap();
    let (status, _, body) = send(&app, request).await;
    assert_eq!(status, StatusCode::OK);
    body
}

fn statuses(operation: &Value) -> Vec<&str> {
    let mut statuses: Vec<&str> = operation["responses"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    statuses.sort();
    statuses
}

#[tokio::test]
async fn every_generated_route_and_method_is_described() {
    let doc = served().await;
    assert_eq!(doc["openapi"], "3.1.0");
    let expected = [
        ("/auth/jwt/login", vec!["post"]),
        ("/auth/jwt/logout", vec!["post"]),
        ("/auth/cookie/login", vec!["post"]),
        ("/auth/cookie/logout", vec!["post"]),
        ("/auth/register", vec!["post"]),
        ("/auth/forgot-password", vec!["post"]),
        ("/auth/reset-password", vec!["post"]),
        ("/auth/request-verify-token", vec!["post"]),
        ("/auth/verify", vec!["post"]),
        ("/users/me", vec!["get", "patch"]),
        ("/users/{id}", vec!["delete", "get", "patch"]),
    ];
    for (path, methods) in expected {
        let item = doc["paths"][path]
            .as_object()
            .unwrap_or_else(|| panic!("{path}"));
        let mut found: Vec<&str> = item
            .keys()
            .map(String::as_str)
            .filter(|k| *k != "parameters")
            .collect();
        found.sort();
        assert_eq!(found, methods, "{path}");
    }
}

#[tokio::test]
async fn login_takes_the_oauth2_form_and_answers_per_transport() {
    let doc = served().await;
    let jwt = &doc["paths"]["/auth/jwt/login"]["post"];
    let content = &jwt["requestBody"]["content"];
    assert_eq!(
        content["application/x-www-form-urlencoded"]["schema"]["$ref"],
        "#/components/schemas/LoginForm"
    );
    assert!(content["multipart/form-data"].is_object());
    let form = &doc["components"]["schemas"]["LoginForm"];
    assert_eq!(form["required"], json!(["username", "password"]));
    for field in ["grant_type", "scope", "client_id", "client_secret"] {
        assert!(form["properties"][field].is_object(), "{field}");
    }
    assert_eq!(
        statuses(jwt),
        ["200", "400", "408", "413", "422", "429", "431", "503"]
    );
    let codes = &jwt["responses"]["400"]["content"]["application/json"]["schema"]["properties"]
        ["detail"]["anyOf"][0]["enum"];
    assert!(codes
        .as_array()
        .unwrap()
        .contains(&json!("LOGIN_BAD_CREDENTIALS")));
    let limited = &jwt["responses"]["429"];
    assert!(limited["headers"]["Retry-After"].is_object());
    assert_eq!(
        limited["content"]["application/json"]["examples"]["TOO_MANY_REQUESTS"]["value"],
        json!({"detail": "TOO_MANY_REQUESTS"})
    );
    let cookie = &doc["paths"]["/auth/cookie/login"]["post"];
    assert!(cookie["responses"]["204"]["headers"]["Set-Cookie"].is_object());
    assert_eq!(
        cookie["responses"]["403"]["content"]["application/json"]["schema"]["properties"]["detail"]
            ["anyOf"][0]["enum"],
        json!(["CSRF_FAILED"])
    );
}

#[tokio::test]
async fn error_answers_carry_their_detail_codes() {
    let doc = served().await;
    let register = &doc["paths"]["/auth/register"]["post"];
    assert_eq!(
        register["responses"]["201"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/User"
    );
    let any_of = &register["responses"]["400"]["content"]["application/json"]["schema"]
        ["properties"]["detail"]["anyOf"];
    assert!(any_of[0]["enum"]
        .as_array()
        .unwrap()
        .contains(&json!("REGISTER_USER_ALREADY_EXISTS")));
    assert_eq!(
        any_of[1]["properties"]["code"]["enum"],
        json!(["REGISTER_INVALID_PASSWORD"])
    );
    assert_eq!(
        register["responses"]["422"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/HTTPValidationError"
    );
    let verify = &doc["paths"]["/auth/verify"]["post"]["responses"]["400"];
    let examples = verify["content"]["application/json"]["examples"]
        .as_object()
        .unwrap();
    assert!(examples.contains_key("VERIFY_USER_BAD_TOKEN"));
    assert!(examples.contains_key("VERIFY_USER_ALREADY_VERIFIED"));
    let forgot = &doc["paths"]["/auth/forgot-password"]["post"]["responses"];
    assert_eq!(
        forgot["202"]["content"]["application/json"]["schema"],
        json!({"type": "null"})
    );
    for status in ["429", "422", "503", "431", "413"] {
        assert!(forgot[status].is_object(), "{status}");
    }
    let delete = &doc["paths"]["/users/{id}"]["delete"];
    assert_eq!(statuses(delete), ["204", "401", "403", "404", "431", "503"]);
    assert!(delete["responses"]["403"]["description"]
        .as_str()
        .unwrap()
        .contains("CSRF_FAILED"));
}

#[tokio::test]
async fn one_security_scheme_per_backend_and_guarded_routes_require_one() {
    let doc = served().await;
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["jwt"]["type"], "oauth2");
    assert_eq!(
        schemes["jwt"]["flows"]["password"]["tokenUrl"],
        "auth/jwt/login"
    );
    assert_eq!(
        schemes["cookie"],
        json!({
            "type": "apiKey",
            "in": "cookie",
            "name": "fastapiusersauth",
            "description": "Session cookie of backend `cookie` (set by `POST /auth/cookie/login`)."
        })
    );
    let any = json!([{"jwt": []}, {"cookie": []}]);
    assert_eq!(doc["paths"]["/users/me"]["get"]["security"], any);
    assert_eq!(doc["paths"]["/users/{id}"]["patch"]["security"], any);
    assert_eq!(doc["paths"]["/auth/cookie/logout"]["post"]["security"], any);
    assert!(doc["paths"]["/auth/jwt/login"]["post"]
        .get("security")
        .is_none());
    assert!(doc["paths"]["/auth/register"]["post"]
        .get("security")
        .is_none());
    assert!(
        doc["paths"]["/users/me"]["get"]["responses"]["401"]["headers"]["WWW-Authenticate"]
            .is_object()
    );
}

#[tokio::test]
async fn protected_handlers_get_the_requirement_of_their_guard() {
    let doc = served().await;
    let op = |path: &str| doc["paths"][path]["get"].clone();
    let any = json!([{"jwt": []}, {"cookie": []}]);
    assert_eq!(op("/me")["security"], any);
    assert_eq!(statuses(&op("/me")), ["200", "401", "503"]);
    assert_eq!(op("/admin")["security"], any);
    assert_eq!(statuses(&op("/admin")), ["200", "401", "403", "503"]);
    // Optional: anonymous requests pass.
    assert_eq!(
        op("/maybe")["security"],
        json!([{"jwt": []}, {"cookie": []}, {}])
    );
    assert_eq!(statuses(&op("/maybe")), ["200", "503"]);
    assert_eq!(op("/cookie-only")["security"], json!([{"cookie": []}]));
    // The application's own answer is kept.
    assert_eq!(op("/admin")["responses"]["200"]["description"], "ok");
}

#[test]
fn protect_needs_the_operation_and_guard_reads_requirements() {
    let mut doc = Auth::openapi();
    assert_eq!(
        protect(
            &mut doc,
            Auth::BACKENDS,
            HttpMethod::Get,
            "/nowhere",
            Guard::of::<Req<false, false, false>>()
        ),
        Err(ProtectError::NoOperation {
            method: "GET".into(),
            path: "/nowhere".into()
        })
    );
    let guard = Guard::of_handler(&cookie_only);
    assert_eq!(guard.backends, Some(vec!["cookie".to_owned()]));
    assert!(!guard.optional && !guard.superuser && !guard.verified);
    assert!(Guard::of::<Req<false, true, false>>().verified);
}

#[derive(AuthConfig)]
#[auth(requires_verification)]
#[backend(jwt)]
struct Verified;

#[test]
fn verification_adds_its_code_and_the_403_of_unverified_users() {
    let code_of_login_400 = |doc: &Value| {
        doc["paths"]["/auth/jwt/login"]["post"]["responses"]["400"]["content"]["application/json"]
            ["schema"]["properties"]["detail"]["anyOf"][0]["enum"]
            .clone()
    };
    let strict = serde_json::to_value(Verified::openapi()).unwrap();
    let lax = serde_json::to_value(Auth::openapi()).unwrap();
    assert!(code_of_login_400(&strict)
        .as_array()
        .unwrap()
        .contains(&json!("LOGIN_USER_NOT_VERIFIED")));
    assert!(!code_of_login_400(&lax)
        .as_array()
        .unwrap()
        .contains(&json!("LOGIN_USER_NOT_VERIFIED")));
    assert!(strict["paths"]["/users/me"]["get"]["responses"]["403"].is_object());
    assert!(lax["paths"]["/users/me"]["get"]["responses"]
        .get("403")
        .is_none());
    // One bearer backend: one scheme, one requirement.
    assert_eq!(
        strict["paths"]["/users/me"]["get"]["security"],
        json!([{"jwt": []}])
    );
}
