//! OpenAPI 3.1 document of the generated routes (feature `openapi`), as a
//! [`utoipa::openapi::OpenApi`], and guarded application handlers added to it.
//!
//! [`document`] (usually reached as `Auth::openapi()`) describes every route of
//! [`router`](crate::router): request bodies (the login form as
//! `application/x-www-form-urlencoded` or `multipart/form-data`), response bodies, every status a
//! route can answer with its `detail` codes (as an `enum` in the schema and as named examples),
//! `Retry-After` on 429, one security scheme per backend (OAuth2 password flow with the backend's
//! login route as `tokenUrl` for bearer backends, an `apiKey` in the backend's cookie for cookie
//! backends) and the security requirement of every guarded route.
//!
//! [`protect`] adds the security requirement of a `#[protected]` handler (derived from its guard)
//! and the guard's 401/403/503 answers to an operation the application documented itself, e.g.
//! with `#[utoipa::path]`:
//!
//! ```
//! use axum_users_runtime::openapi::{protect, Guard};
//! use axum_users_runtime::{AuthConfig, BackendKind, BackendSpec, CookieSpec, Protected, Req, Strategy};
//! use utoipa::openapi::{HttpMethod, OpenApi};
//!
//! struct Auth;
//! impl AuthConfig for Auth {
//!     const BACKENDS: &'static [BackendSpec] = &[
//!         BackendSpec { name: "jwt", kind: BackendKind::Jwt, strategy: Strategy::Jwt,
//!                       lifetime: 3600, cookie: CookieSpec::DEFAULT },
//!         BackendSpec { name: "cookie", kind: BackendKind::Cookie, strategy: Strategy::Jwt,
//!                       lifetime: 3600, cookie: CookieSpec::DEFAULT },
//!     ];
//! }
//!
//! // What `#[protected(superuser)]` makes of `async fn admin() -> &'static str`.
//! async fn admin(_: Protected<Req<false, false, true>>) -> &'static str { "hi" }
//!
//! // The application's own description of GET /admin (`#[utoipa::path]` writes the same).
//! let mine: OpenApi = serde_json::from_value(serde_json::json!({
//!     "openapi": "3.1.0", "info": {"title": "app", "version": "1"},
//!     "paths": {"/admin": {"get": {"responses": {"200": {"description": "hello"}}}}}
//! })).unwrap();
//!
//! let mut doc = Auth::openapi();
//! doc.merge(mine);
//! protect(&mut doc, Auth::BACKENDS, HttpMethod::Get, "/admin", Guard::of_handler(&admin)).unwrap();
//!
//! let json = serde_json::to_value(&doc).unwrap();
//! let admin = &json["paths"]["/admin"]["get"];
//! assert_eq!(admin["security"], serde_json::json!([{"jwt": []}, {"cookie": []}]));
//! assert!(admin["responses"]["401"].is_object() && admin["responses"]["403"].is_object());
//! assert!(json["paths"]["/auth/jwt/login"]["post"]["requestBody"]["content"]
//!     ["application/x-www-form-urlencoded"].is_object());
//! ```

use serde_json::{json, Map, Value};
use utoipa::openapi::path::Operation;
use utoipa::openapi::{HttpMethod, OpenApi};

use crate::config::{BackendKind, BackendSpec};
use crate::guard::Protected;
use crate::requirement::Requirement;

/// The OpenAPI document of [`router(backends)`](crate::router); `requires_verification` as
/// `AuthConfig::REQUIRES_VERIFICATION` (it adds `LOGIN_USER_NOT_VERIFIED` and the 403 of
/// unverified users).
///
/// `AuthConfig::openapi()` calls it with the declared backends. Paths are the conventional ones
/// (`/auth/..`, `/users/..`); if you nest the router, prefix them (e.g. with
/// `OpenApi::nest`).
///
/// ```
/// use axum_users_runtime::{BackendKind, BackendSpec, CookieSpec, Strategy};
///
/// let backends = [BackendSpec { name: "jwt", kind: BackendKind::Jwt, strategy: Strategy::Jwt,
///                               lifetime: 3600, cookie: CookieSpec::DEFAULT }];
/// let doc = serde_json::to_value(axum_users_runtime::openapi::document(&backends, false)).unwrap();
/// assert_eq!(
///     doc["components"]["securitySchemes"]["jwt"]["flows"]["password"]["tokenUrl"],
///     "auth/jwt/login"
/// );
/// assert_eq!(doc["paths"]["/users/me"]["get"]["security"], serde_json::json!([{"jwt": []}]));
/// ```
pub fn document(backends: &[BackendSpec], requires_verification: bool) -> OpenApi {
    let value = document_json(backends, requires_verification);
    serde_json::from_value(value).expect("the generated OpenAPI document fits utoipa's model")
}

/// What a guard requires, for the document: the flags and backends of a [`Requirement`].
///
/// Made by [`Guard::of`] or [`Guard::of_handler`] (examples there).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guard {
    /// Unauthenticated requests pass (no 401; an empty security requirement is added).
    pub optional: bool,
    /// A verified user is required (403).
    pub verified: bool,
    /// A superuser is required (403).
    pub superuser: bool,
    /// The backends that may authenticate (`None`: every declared backend).
    pub backends: Option<Vec<String>>,
}

impl Guard {
    /// The guard `Protected<R>` (what `#[protected(..)]` inserts).
    ///
    /// ```
    /// use axum_users_runtime::{openapi::Guard, Req};
    ///
    /// let guard = Guard::of::<Req<true, false, false>>();
    /// assert!(guard.optional && guard.backends.is_none());
    /// ```
    pub fn of<R: Requirement>() -> Self {
        Guard {
            optional: R::OPTIONAL,
            verified: R::VERIFIED,
            superuser: R::SUPERUSER,
            backends: R::backend_names(),
        }
    }

    /// The guard of a `#[protected(..)]` handler (its first parameter), read from its type.
    ///
    /// ```
    /// use axum_users_runtime::{openapi::Guard, Protected, Req};
    ///
    /// async fn admin(_: Protected<Req<false, false, true>>, body: String) -> String {
    ///     body
    /// }
    /// assert!(Guard::of_handler(&admin).superuser);
    /// ```
    pub fn of_handler<H, R, Args>(_handler: &H) -> Self
    where
        H: GuardedHandler<R, Args>,
        R: Requirement,
    {
        Self::of::<R>()
    }

    /// The security requirement objects: one per allowed declared backend (any of them
    /// suffices), plus `{}` for an optional guard.
    ///
    /// ```
    /// use axum_users_runtime::{openapi::Guard, BackendKind, BackendSpec, CookieSpec, Req, Strategy};
    ///
    /// let backends = [BackendSpec { name: "jwt", kind: BackendKind::Jwt, strategy: Strategy::Jwt,
    ///                               lifetime: 3600, cookie: CookieSpec::DEFAULT }];
    /// let security = Guard::of::<Req<true, false, false>>().security(&backends);
    /// assert_eq!(security, [serde_json::json!({"jwt": []}), serde_json::json!({})]);
    /// ```
    pub fn security(&self, backends: &[BackendSpec]) -> Vec<Value> {
        let mut security: Vec<Value> = backends
            .iter()
            .filter(|b| {
                self.backends
                    .as_ref()
                    .is_none_or(|names| names.iter().any(|n| n == b.name))
            })
            .map(|b| json!({ b.name: [] }))
            .collect();
        if self.optional {
            security.push(json!({}));
        }
        security
    }
}

/// A handler whose first parameter is a [`Protected`] guard: what `#[protected(..)]` makes of
/// a function. `Args` is the type of the remaining parameters (inferred). Example: see
/// [`Guard::of_handler`].
pub trait GuardedHandler<R: Requirement, Args> {}

macro_rules! guarded_handler {
    ($($arg:ident),*) => {
        impl<F, Fut, R, $($arg,)*> GuardedHandler<R, ($($arg,)*)> for F
        where
            F: Fn(Protected<R>, $($arg,)*) -> Fut,
            R: Requirement,
        {
        }
    };
}

guarded_handler!();
guarded_handler!(A1);
guarded_handler!(A1, A2);
guarded_handler!(A1, A2, A3);
guarded_handler!(A1, A2, A3, A4);
guarded_handler!(A1, A2, A3, A4, A5);
guarded_handler!(A1, A2, A3, A4, A5, A6);
guarded_handler!(A1, A2, A3, A4, A5, A6, A7);
guarded_handler!(A1, A2, A3, A4, A5, A6, A7, A8);
guarded_handler!(A1, A2, A3, A4, A5, A6, A7, A8, A9);
guarded_handler!(A1, A2, A3, A4, A5, A6, A7, A8, A9, A10);
guarded_handler!(A1, A2, A3, A4, A5, A6, A7, A8, A9, A10, A11);
guarded_handler!(A1, A2, A3, A4, A5, A6, A7, A8, A9, A10, A11, A12);
guarded_handler!(A1, A2, A3, A4, A5, A6, A7, A8, A9, A10, A11, A12, A13);
guarded_handler!(A1, A2, A3, A4, A5, A6, A7, A8, A9, A10, A11, A12, A13, A14);
guarded_handler!(A1, A2, A3, A4, A5, A6, A7, A8, A9, A10, A11, A12, A13, A14, A15);

/// Why [`protect`] could not document a handler.
///
/// ```
/// use axum_users_runtime::openapi::{document, protect, Guard, ProtectError};
/// use axum_users_runtime::utoipa::openapi::HttpMethod;
/// use axum_users_runtime::{BackendKind, BackendSpec, CookieSpec, Req, Strategy};
///
/// let backends = [BackendSpec { name: "jwt", kind: BackendKind::Jwt, strategy: Strategy::Jwt,
///                               lifetime: 3600, cookie: CookieSpec::DEFAULT }];
/// let mut doc = document(&backends, false);
/// let guard = Guard::of::<Req<false, false, false>>();
/// let err = protect(&mut doc, &backends, HttpMethod::Get, "/undocumented", guard).unwrap_err();
/// assert!(matches!(err, ProtectError::NoOperation { .. }));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtectError {
    /// The document has no operation for that method and path: document the handler first
    /// (`#[utoipa::path]`) and merge it in.
    #[error("the OpenAPI document has no {method} {path} operation; document the handler first")]
    NoOperation {
        /// The method.
        method: String,
        /// The path.
        path: String,
    },
}

/// Adds `guard`'s security requirement (its backends among `backends`; `{}` too when it is
/// optional), its answers (401 unless optional, 403 for verified/superuser guards and CSRF
/// failures of cookie requests, 503) and the schemas they use to the `method path` operation of
/// `doc`. See the [module](self) example.
pub fn protect(
    doc: &mut OpenApi,
    backends: &[BackendSpec],
    method: HttpMethod,
    path: &str,
    guard: Guard,
) -> Result<(), ProtectError> {
    let method_name = match method {
        HttpMethod::Get => "GET",
        HttpMethod::Put => "PUT",
        HttpMethod::Post => "POST",
        HttpMethod::Delete => "DELETE",
        HttpMethod::Options => "OPTIONS",
        HttpMethod::Head => "HEAD",
        HttpMethod::Patch => "PATCH",
        HttpMethod::Trace => "TRACE",
    };
    let no_operation = || ProtectError::NoOperation {
        method: method_name.to_owned(),
        path: path.to_owned(),
    };
    let item = doc.paths.paths.get_mut(path).ok_or_else(no_operation)?;
    let operation: &mut Option<Operation> = match method {
        HttpMethod::Get => &mut item.get,
        HttpMethod::Put => &mut item.put,
        HttpMethod::Post => &mut item.post,
        HttpMethod::Delete => &mut item.delete,
        HttpMethod::Options => &mut item.options,
        HttpMethod::Head => &mut item.head,
        HttpMethod::Patch => &mut item.patch,
        HttpMethod::Trace => &mut item.trace,
    };
    let operation = operation.as_mut().ok_or_else(no_operation)?;
    let mut value = serde_json::to_value(&*operation).expect("an Operation serializes");
    value["security"] = Value::Array(guard.security(backends));
    let unsafe_method = !matches!(
        method,
        HttpMethod::Get | HttpMethod::Head | HttpMethod::Options | HttpMethod::Trace
    );
    let cookie = backends.iter().any(|b| {
        b.kind == BackendKind::Cookie
            && b.cookie.csrf
            && guard
                .backends
                .as_ref()
                .is_none_or(|names| names.iter().any(|n| n == b.name))
    });
    let responses = value
        .as_object_mut()
        .expect("an Operation is an object")
        .entry("responses")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .expect("responses is an object");
    for (status, response) in guard_responses(
        backends,
        !guard.optional,
        guard.verified || guard.superuser,
        unsafe_method && cookie,
    ) {
        responses.entry(status).or_insert(response);
    }
    *operation = serde_json::from_value(value).expect("the guarded Operation fits utoipa's model");
    // The schemas the answers refer to.
    let components = doc.components.get_or_insert_with(Default::default);
    let mut present = serde_json::to_value(&*components).expect("Components serialize");
    let schemas = present
        .as_object_mut()
        .expect("Components is an object")
        .entry("schemas")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .expect("schemas is an object");
    for (name, schema) in schemas_json() {
        schemas.entry(name).or_insert(schema);
    }
    let schemes = present
        .as_object_mut()
        .expect("Components is an object")
        .entry("securitySchemes")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .expect("securitySchemes is an object");
    for (name, scheme) in security_schemes(backends) {
        schemes.entry(name).or_insert(scheme);
    }
    *components = serde_json::from_value(present).expect("Components fit utoipa's model");
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The document, written as JSON and read into utoipa's model.

const USER: &str = "#/components/schemas/User";

fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn schemas_json() -> Map<String, Value> {
    let detail_code_reason = json!({
        "type": "object",
        "required": ["code", "reason"],
        "properties": {
            "code": {"type": "string"},
            "reason": {"type": "string"}
        }
    });
    let schemas = json!({
        "User": {
            "type": "object",
            "description": "fastapi-users' user JSON (never the password hash), plus the \
                            application's custom fields.",
            "required": ["id", "email", "is_active", "is_superuser", "is_verified"],
            "properties": {
                "id": {"type": "string", "format": "uuid"},
                "email": {"type": "string"},
                "is_active": {"type": "boolean"},
                "is_superuser": {"type": "boolean"},
                "is_verified": {"type": "boolean"}
            },
            "additionalProperties": true
        },
        "UserCreate": {
            "type": "object",
            "description": "Registration. `id`, `is_active`, `is_superuser` and `is_verified` \
                            are ignored; custom fields are accepted beside the others.",
            "required": ["email", "password"],
            "properties": {
                "email": {"type": "string", "format": "email"},
                "password": {"type": "string"},
                "is_active": {"type": ["boolean", "null"]},
                "is_superuser": {"type": ["boolean", "null"]},
                "is_verified": {"type": ["boolean", "null"]}
            },
            "additionalProperties": true
        },
        "UserUpdate": {
            "type": "object",
            "description": "Partial update. On `/users/me` the flags are ignored.",
            "properties": {
                "email": {"type": ["string", "null"], "format": "email"},
                "password": {"type": ["string", "null"]},
                "is_active": {"type": ["boolean", "null"]},
                "is_superuser": {"type": ["boolean", "null"]},
                "is_verified": {"type": ["boolean", "null"]}
            },
            "additionalProperties": true
        },
        "LoginForm": {
            "type": "object",
            "description": "OAuth2 password request form (FastAPI's OAuth2PasswordRequestForm). \
                            Empty fields count as missing.",
            "required": ["username", "password"],
            "properties": {
                "grant_type": {"type": ["string", "null"], "pattern": "^password$"},
                "username": {"type": "string", "description": "The e-mail address."},
                "password": {"type": "string", "format": "password"},
                "scope": {"type": "string", "default": ""},
                "client_id": {"type": ["string", "null"]},
                "client_secret": {"type": ["string", "null"], "format": "password"}
            }
        },
        "EmailBody": {
            "type": "object",
            "required": ["email"],
            "properties": {"email": {"type": "string", "format": "email"}},
            "additionalProperties": true
        },
        "ResetPasswordBody": {
            "type": "object",
            "required": ["token", "password"],
            "properties": {"token": {"type": "string"}, "password": {"type": "string"}},
            "additionalProperties": true
        },
        "VerifyBody": {
            "type": "object",
            "required": ["token"],
            "properties": {"token": {"type": "string"}},
            "additionalProperties": true
        },
        "BearerResponse": {
            "type": "object",
            "required": ["access_token", "token_type"],
            "properties": {
                "access_token": {"type": "string"},
                "token_type": {"type": "string", "enum": ["bearer"]}
            }
        },
        "ErrorModel": {
            "type": "object",
            "description": "fastapi-users' error: `{\"detail\": CODE}` or \
                            `{\"detail\": {\"code\": CODE, \"reason\": TEXT}}`.",
            "required": ["detail"],
            "properties": {
                "detail": {"anyOf": [{"type": "string"}, detail_code_reason]}
            }
        },
        "ValidationError": {
            "type": "object",
            "required": ["type", "loc", "msg"],
            "properties": {
                "type": {"type": "string"},
                "loc": {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
                "msg": {"type": "string"},
                "input": {
                    "type": ["string", "number", "integer", "boolean", "array", "object", "null"],
                    "description": "The offending input (`null` when missing)."
                },
                "ctx": {"type": "object"}
            }
        },
        "HTTPValidationError": {
            "type": "object",
            "required": ["detail"],
            "properties": {
                "detail": {"type": "array", "items": {"$ref": "#/components/schemas/ValidationError"}}
            }
        }
    });
    match schemas {
        Value::Object(map) => map,
        _ => unreachable!(),
    }
}

fn security_schemes(backends: &[BackendSpec]) -> Map<String, Value> {
    backends
        .iter()
        .map(|b| {
            let scheme = match b.kind {
                BackendKind::Jwt => json!({
                    "type": "oauth2",
                    "description": format!(
                        "Bearer token of backend `{}` (`Authorization: Bearer <token>`).",
                        b.name
                    ),
                    "flows": {"password": {
                        "tokenUrl": format!("auth/{}/login", b.name),
                        "scopes": {}
                    }}
                }),
                BackendKind::Cookie => json!({
                    "type": "apiKey",
                    "in": "cookie",
                    "name": b.cookie.name,
                    "description": format!(
                        "Session cookie of backend `{}` (set by `POST /auth/{}/login`).",
                        b.name, b.name
                    ),
                }),
            };
            (b.name.to_owned(), scheme)
        })
        .collect()
}

/// One error answer: `detail` restricted to `codes` (strings) and `code_reasons` (objects),
/// each also given as a named example.
fn error(description: &str, codes: &[&str], code_reasons: &[&str]) -> Value {
    let mut any_of = Vec::new();
    if !codes.is_empty() {
        any_of.push(json!({"type": "string", "enum": codes}));
    }
    for code in code_reasons {
        any_of.push(json!({
            "type": "object",
            "required": ["code", "reason"],
            "properties": {"code": {"type": "string", "enum": [code]}, "reason": {"type": "string"}}
        }));
    }
    let mut examples = Map::new();
    for code in codes {
        examples.insert(
            (*code).to_owned(),
            json!({"summary": code, "value": {"detail": code}}),
        );
    }
    for code in code_reasons {
        examples.insert(
            (*code).to_owned(),
            json!({"summary": code, "value": {"detail": {
                "code": code, "reason": "Password should be at least 8 characters"
            }}}),
        );
    }
    let all: Vec<String> = codes
        .iter()
        .map(|c| format!("`{c}`"))
        .chain(
            code_reasons
                .iter()
                .map(|c| format!("`{{\"code\": \"{c}\", \"reason\": …}}`")),
        )
        .collect();
    json!({
        "description": format!("{description} (detail: {})", all.join(", ")),
        "content": {"application/json": {
            "schema": {
                "type": "object",
                "description": "An ErrorModel with this answer's `detail` codes.",
                "required": ["detail"],
                "properties": {"detail": {"anyOf": any_of}}
            },
            "examples": examples
        }}
    })
}

fn validation_error() -> Value {
    json!({
        "description": "Validation error: one entry per problem (missing field, invalid e-mail, \
                        wrong content type, …), as FastAPI answers",
        "content": {"application/json": {"schema": schema_ref("HTTPValidationError")}}
    })
}

fn too_many_requests() -> Value {
    let mut response = error(
        "A brute-force limit is reached",
        &["TOO_MANY_REQUESTS"],
        &[],
    );
    response["headers"] = json!({"Retry-After": {
        "description": "Always sent: seconds until the limit's window ends (at least 1).",
        "schema": {"type": "integer", "minimum": 1}
    }});
    response
}

fn unauthorized(backends: &[BackendSpec]) -> Value {
    let mut response = error(
        "Missing or invalid credentials, or an inactive user",
        &["Unauthorized"],
        &[],
    );
    if backends.iter().any(|b| b.kind == BackendKind::Jwt) {
        response["headers"] = json!({"WWW-Authenticate": {
            "description": "`Bearer` (RFC 6750).",
            "schema": {"type": "string"}
        }});
    }
    response
}

/// The answers every generated route may give: oversized headers, an unavailable store.
fn common(responses: &mut Map<String, Value>) {
    responses.insert(
        "431".into(),
        error(
            "The request's headers are too large",
            &["REQUEST_HEADER_FIELDS_TOO_LARGE"],
            &[],
        ),
    );
    responses.insert(
        "503".into(),
        error(
            "The user store or another dependency is unavailable",
            &["SERVICE_UNAVAILABLE"],
            &[],
        ),
    );
}

/// The answers of a route that reads a body: too large, too slow, malformed, invalid.
fn body_errors(responses: &mut Map<String, Value>) {
    responses.insert(
        "408".into(),
        error("The body did not arrive in time", &["REQUEST_TIMEOUT"], &[]),
    );
    responses.insert(
        "413".into(),
        error("The body is too large", &["PAYLOAD_TOO_LARGE"], &[]),
    );
    responses.insert("422".into(), validation_error());
}

/// The guard's answers: 401 (unless optional), 403 (flags, CSRF), 503.
fn guard_responses(
    backends: &[BackendSpec],
    required: bool,
    flags: bool,
    csrf: bool,
) -> Map<String, Value> {
    let mut responses = Map::new();
    if required {
        responses.insert("401".into(), unauthorized(backends));
    }
    let mut forbidden = Vec::new();
    if flags {
        forbidden.push("Forbidden");
    }
    if csrf {
        forbidden.push("CSRF_FAILED");
    }
    if !forbidden.is_empty() {
        responses.insert(
            "403".into(),
            error(
                "Authenticated, but not allowed: unverified or not a superuser (`Forbidden`), or \
                 a cookie-authenticated request from an untrusted origin (`CSRF_FAILED`)",
                &forbidden,
                &[],
            ),
        );
    }
    responses.insert(
        "503".into(),
        error(
            "The user store or another dependency is unavailable",
            &["SERVICE_UNAVAILABLE"],
            &[],
        ),
    );
    responses
}

fn json_body(schema: &str, description: &str) -> Value {
    json!({
        "required": true,
        "description": description,
        "content": {"application/json": {"schema": schema_ref(schema)}}
    })
}

fn user_response(description: &str) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": {"$ref": USER}}}})
}

fn null_response(description: &str) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": {"type": "null"}}}})
}

fn operation(
    tag: &str,
    id: &str,
    summary: &str,
    body: Option<Value>,
    security: Option<Vec<Value>>,
    responses: Map<String, Value>,
) -> Value {
    let mut op = json!({
        "tags": [tag],
        "operationId": id,
        "summary": summary,
        "responses": responses,
    });
    if let Some(body) = body {
        op["requestBody"] = body;
    }
    if let Some(security) = security {
        op["security"] = Value::Array(security);
    }
    op
}

fn document_json(backends: &[BackendSpec], requires_verification: bool) -> Value {
    let any_backend = Guard {
        optional: false,
        verified: false,
        superuser: false,
        backends: None,
    }
    .security(backends);
    // Cookie backends with the CSRF check: unsafe cookie-authenticated requests may get 403.
    let csrf = backends
        .iter()
        .any(|b| b.kind == BackendKind::Cookie && b.cookie.csrf);
    let mut paths = Map::new();

    for b in backends {
        let name = b.name;
        // Login.
        let mut responses = Map::new();
        match b.kind {
            BackendKind::Jwt => {
                responses.insert(
                    "200".into(),
                    json!({
                        "description": "Logged in: the bearer token",
                        "content": {"application/json": {"schema": schema_ref("BearerResponse")}}
                    }),
                );
            }
            BackendKind::Cookie => {
                responses.insert(
                    "204".into(),
                    json!({
                        "description": "Logged in: the session cookie, no body",
                        "headers": {"Set-Cookie": {
                            "description": format!(
                                "`{}=<token>; HttpOnly; Max-Age={}; Path={}; SameSite={}…`",
                                b.cookie.name, b.lifetime, b.cookie.path, b.cookie.same_site.as_str()
                            ),
                            "schema": {"type": "string"}
                        }}
                    }),
                );
                if b.cookie.csrf {
                    responses.insert(
                        "403".into(),
                        error(
                            "The login comes from an untrusted origin (login CSRF)",
                            &["CSRF_FAILED"],
                            &[],
                        ),
                    );
                }
            }
        }
        responses.insert(
            "400".into(),
            error(
                if requires_verification {
                    "Unknown e-mail, wrong password or inactive user (identical answers), an \
                     unverified user, or a malformed body"
                } else {
                    "Unknown e-mail, wrong password or inactive user (identical answers), or a \
                     malformed body"
                },
                if requires_verification {
                    &[
                        "LOGIN_BAD_CREDENTIALS",
                        "LOGIN_USER_NOT_VERIFIED",
                        "BAD_REQUEST",
                    ]
                } else {
                    &["LOGIN_BAD_CREDENTIALS", "BAD_REQUEST"]
                },
                &[],
            ),
        );
        body_errors(&mut responses);
        responses.insert("429".into(), too_many_requests());
        common(&mut responses);
        let form = json!({"schema": schema_ref("LoginForm")});
        let login = operation(
            name,
            &format!("auth_{name}_login"),
            &format!("Log in with backend `{name}`"),
            Some(json!({
                "required": true,
                "content": {
                    "application/x-www-form-urlencoded": form.clone(),
                    "multipart/form-data": form
                }
            })),
            None,
            responses,
        );
        // Logout.
        let mut responses = Map::new();
        responses.insert(
            "204".into(),
            json!({"description": match b.kind {
                BackendKind::Jwt => "Logged out (a stored token is destroyed)",
                BackendKind::Cookie => "Logged out: a removal cookie (a stored token is destroyed)",
            }}),
        );
        responses.extend(guard_responses(backends, true, requires_verification, csrf));
        common(&mut responses);
        let logout = operation(
            name,
            &format!("auth_{name}_logout"),
            &format!("Log out of backend `{name}`"),
            None,
            Some(any_backend.clone()),
            responses,
        );
        paths.insert(format!("/auth/{name}/login"), json!({ "post": login }));
        paths.insert(format!("/auth/{name}/logout"), json!({ "post": logout }));
    }

    // Registration.
    let mut responses = Map::new();
    responses.insert("201".into(), user_response("Registered: the new user"));
    responses.insert(
        "400".into(),
        error(
            "The e-mail is taken (compared case-insensitively), the password policy refuses the \
             password, or a malformed body",
            &["REGISTER_USER_ALREADY_EXISTS", "BAD_REQUEST"],
            &["REGISTER_INVALID_PASSWORD"],
        ),
    );
    body_errors(&mut responses);
    responses.insert("429".into(), too_many_requests());
    common(&mut responses);
    paths.insert(
        "/auth/register".into(),
        json!({"post": operation(
            "auth", "register", "Register a user",
            Some(json_body("UserCreate", "The new user")), None, responses,
        )}),
    );

    // Forgot password and request-verify-token: 202 null, always.
    for (path, id, summary, what) in [
        (
            "/auth/forgot-password",
            "forgot_password",
            "Ask for a password-reset token",
            "Accepted, whether or not the user exists; an active user gets a reset token",
        ),
        (
            "/auth/request-verify-token",
            "request_verify_token",
            "Ask for an e-mail verification token",
            "Accepted, always; an active unverified user gets a verification token",
        ),
    ] {
        let mut responses = Map::new();
        responses.insert("202".into(), null_response(what));
        responses.insert(
            "400".into(),
            error("A malformed body", &["BAD_REQUEST"], &[]),
        );
        body_errors(&mut responses);
        responses.insert("429".into(), too_many_requests());
        common(&mut responses);
        paths.insert(
            path.into(),
            json!({"post": operation(
                "auth", id, summary, Some(json_body("EmailBody", "The e-mail address")), None,
                responses,
            )}),
        );
    }

    // Reset password.
    let mut responses = Map::new();
    responses.insert("200".into(), null_response("The password is changed"));
    responses.insert(
        "400".into(),
        error(
            "Bad, expired or used token, user inactive or gone; the password policy refuses the \
             password; or a malformed body",
            &["RESET_PASSWORD_BAD_TOKEN", "BAD_REQUEST"],
            &["RESET_PASSWORD_INVALID_PASSWORD"],
        ),
    );
    body_errors(&mut responses);
    common(&mut responses);
    paths.insert(
        "/auth/reset-password".into(),
        json!({"post": operation(
            "auth", "reset_password", "Reset a password with a reset token",
            Some(json_body("ResetPasswordBody", "The reset token and the new password")), None,
            responses,
        )}),
    );

    // Verify.
    let mut responses = Map::new();
    responses.insert("200".into(), user_response("The user, now verified"));
    responses.insert(
        "400".into(),
        error(
            "Bad or expired token, an already verified user, or a malformed body",
            &[
                "VERIFY_USER_BAD_TOKEN",
                "VERIFY_USER_ALREADY_VERIFIED",
                "BAD_REQUEST",
            ],
            &[],
        ),
    );
    body_errors(&mut responses);
    common(&mut responses);
    paths.insert(
        "/auth/verify".into(),
        json!({"post": operation(
            "auth", "verify", "Verify an e-mail address with a verification token",
            Some(json_body("VerifyBody", "The verification token")), None, responses,
        )}),
    );

    // /users/me.
    let mut get_me = Map::new();
    get_me.insert("200".into(), user_response("The authenticated user"));
    get_me.extend(guard_responses(
        backends,
        true,
        requires_verification,
        false,
    ));
    common(&mut get_me);
    let mut patch_me = Map::new();
    patch_me.insert(
        "200".into(),
        user_response("The updated user (a new e-mail makes it unverified)"),
    );
    patch_me.insert("400".into(), update_bad_request());
    body_errors(&mut patch_me);
    patch_me.extend(guard_responses(backends, true, requires_verification, csrf));
    common(&mut patch_me);
    paths.insert(
        "/users/me".into(),
        json!({
            "get": operation("users", "users_me", "The authenticated user", None,
                             Some(any_backend.clone()), get_me),
            "patch": operation("users", "users_patch_me", "Update the authenticated user",
                               Some(json_body("UserUpdate", "The fields to change; flags are ignored")),
                               Some(any_backend.clone()), patch_me),
        }),
    );

    // /users/{id} (superusers).
    let not_found = || {
        error(
            "No user has that id (or it is not a UUID)",
            &["Not Found"],
            &[],
        )
    };
    let mut get_user = Map::new();
    get_user.insert("200".into(), user_response("The user"));
    get_user.extend(guard_responses(backends, true, true, false));
    get_user.insert("404".into(), not_found());
    common(&mut get_user);
    let mut patch_user = Map::new();
    patch_user.insert("200".into(), user_response("The updated user"));
    patch_user.insert("400".into(), update_bad_request());
    body_errors(&mut patch_user);
    patch_user.extend(guard_responses(backends, true, true, csrf));
    patch_user.insert("404".into(), not_found());
    common(&mut patch_user);
    let mut delete_user = Map::new();
    delete_user.insert("204".into(), json!({"description": "Deleted"}));
    delete_user.extend(guard_responses(backends, true, true, csrf));
    delete_user.insert("404".into(), not_found());
    common(&mut delete_user);
    paths.insert(
        "/users/{id}".into(),
        json!({
            "parameters": [{
                "name": "id", "in": "path", "required": true,
                "description": "The user's id (a UUID)",
                "schema": {"type": "string", "format": "uuid"}
            }],
            "get": operation("users", "users_user", "A user (superusers)", None,
                             Some(any_backend.clone()), get_user),
            "patch": operation("users", "users_patch_user", "Update a user (superusers)",
                               Some(json_body("UserUpdate", "The fields to change, flags included")),
                               Some(any_backend.clone()), patch_user),
            "delete": operation("users", "users_delete_user", "Delete a user (superusers)", None,
                                Some(any_backend), delete_user),
        }),
    );

    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "axum-users",
            "description": "User management and authentication (fastapi-users' HTTP dialect).",
            "version": env!("CARGO_PKG_VERSION")
        },
        "paths": paths,
        "components": {
            "schemas": schemas_json(),
            "securitySchemes": security_schemes(backends),
        }
    })
}

fn update_bad_request() -> Value {
    error(
        "The e-mail is taken (compared case-insensitively), the password policy refuses the \
         password, or a malformed body",
        &["UPDATE_USER_EMAIL_ALREADY_EXISTS", "BAD_REQUEST"],
        &["UPDATE_USER_INVALID_PASSWORD"],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CookieSpec, Strategy};

    /// utoipa's model keeps every part of the document: nothing is dropped on the way.
    #[test]
    fn the_document_survives_utoipas_model() {
        let backends = [
            BackendSpec {
                name: "jwt",
                kind: BackendKind::Jwt,
                strategy: Strategy::Jwt,
                lifetime: 3600,
                cookie: CookieSpec::DEFAULT,
            },
            BackendSpec {
                name: "cookie",
                kind: BackendKind::Cookie,
                strategy: Strategy::Jwt,
                lifetime: 3600,
                cookie: CookieSpec::DEFAULT,
            },
        ];
        let written = document_json(&backends, true);
        let read = serde_json::to_value(document(&backends, true)).unwrap();
        fn diff(a: &Value, b: &Value, path: &str, out: &mut Vec<String>) {
            match (a, b) {
                (Value::Object(x), Value::Object(y)) => {
                    for k in x.keys().chain(y.keys()) {
                        match (x.get(k), y.get(k)) {
                            (Some(p), Some(q)) => diff(p, q, &format!("{path}/{k}"), out),
                            (p, q) => out.push(format!("{path}/{k}: {p:?} != {q:?}")),
                        }
                    }
                }
                _ if a != b => out.push(format!("{path}: {a} != {b}")),
                _ => {}
            }
        }
        let mut out = Vec::new();
        diff(&read, &written, "", &mut out);
        out.dedup();
        assert!(out.is_empty(), "{}", out.join("\n"));
    }
}
