//! Errors: the HTTP answers of the generated routes and guards, and the library's own errors.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use serde_json::{json, Value};

/// One entry of a FastAPI-shaped 422 `detail` list.
///
/// ```
/// use axum_users_runtime::{ApiError, ValidationIssue};
///
/// let issue = ValidationIssue::missing("password");
/// assert_eq!((issue.kind, issue.msg.as_str()), ("missing", "Field required"));
/// let body = ApiError::Validation(vec![issue]).body();
/// assert_eq!(body["detail"][0]["loc"], serde_json::json!(["body", "password"]));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ValidationIssue {
    /// pydantic's error type, e.g. `missing`, `value_error`, `string_type`.
    pub kind: &'static str,
    /// Location, e.g. `["body", "username"]`.
    pub loc: Vec<Value>,
    /// Human-readable message, e.g. `Field required`.
    pub msg: String,
    /// The offending input (`null` when missing).
    pub input: Value,
    /// Extra context (`ctx`), when pydantic gives one.
    pub ctx: Option<Value>,
}

impl ValidationIssue {
    /// A `missing` issue for `body.<field>`. Example: see [`ValidationIssue`].
    pub fn missing(field: &str) -> Self {
        Self {
            kind: "missing",
            loc: vec![json!("body"), json!(field)],
            msg: "Field required".into(),
            input: Value::Null,
            ctx: None,
        }
    }

    fn to_json(&self) -> IssueJson<'_> {
        IssueJson {
            kind: self.kind,
            loc: &self.loc,
            msg: &self.msg,
            input: &self.input,
            ctx: self.ctx.as_ref(),
        }
    }
}

/// A 422 entry in FastAPI's key order: type, loc, msg, input, ctx.
#[derive(Serialize)]
struct IssueJson<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    loc: &'a [Value],
    msg: &'a str,
    input: &'a Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    ctx: Option<&'a Value>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum Detail<'a> {
    Text(&'a str),
    CodeReason { code: &'a str, reason: &'a str },
    Issues(Vec<IssueJson<'a>>),
}

#[derive(Serialize)]
struct Body<'a> {
    detail: Detail<'a>,
}

/// An error answer in fastapi-users' format: `{"detail": ...}`.
///
/// Every generated route and guard answers its errors through this type.
///
/// ```
/// use axum::response::IntoResponse;
/// use axum_users_runtime::ApiError;
///
/// let response = ApiError::bad_request("LOGIN_BAD_CREDENTIALS").into_response();
/// assert_eq!(response.status(), 400);
/// ```
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400 (or another status) with `{"detail": CODE}`.
    #[error("{code}")]
    Code {
        /// HTTP status.
        status: StatusCode,
        /// fastapi-users error code.
        code: &'static str,
    },
    /// 400 with `{"detail": {"code": CODE, "reason": REASON}}`.
    #[error("{code}: {reason}")]
    CodeReason {
        /// fastapi-users error code.
        code: &'static str,
        /// Text from the password policy.
        reason: String,
    },
    /// 422 with a FastAPI-shaped `detail` list.
    #[error("invalid request ({} problems)", .0.len())]
    Validation(Vec<ValidationIssue>),
    /// 401 `{"detail": "Unauthorized"}`, with `WWW-Authenticate: Bearer` when `bearer` is set.
    #[error("unauthorized")]
    Unauthorized {
        /// A bearer backend could have authenticated the request.
        bearer: bool,
    },
    /// 403 `{"detail": "Forbidden"}`.
    #[error("forbidden")]
    Forbidden,
    /// 404 `{"detail": "Not Found"}`.
    #[error("not found")]
    NotFound,
    /// 429 `{"detail": "TOO_MANY_REQUESTS"}` with `Retry-After: <seconds>`: a brute-force
    /// limit ([`RateLimits`](crate::RateLimits)) is reached.
    #[error("too many requests; retry after {retry_after} s")]
    TooManyRequests {
        /// Seconds until the limit's window ends (at least 1).
        retry_after: u64,
    },
    /// 403 `{"detail": "CSRF_FAILED"}`: a cookie-authenticated unsafe request, or a cookie
    /// login, came from an origin that is not trusted.
    #[error("CSRF check failed")]
    CsrfFailed,
    /// 503 `{"detail": "SERVICE_UNAVAILABLE"}`: the store or another dependency failed.
    #[error("service unavailable")]
    Unavailable,
    /// 500 `{"detail": "Internal Server Error"}`: the application failed, e.g. it is wired
    /// wrongly (`#[protected(backends(..))]` names a backend the `AuthConfig` does not declare)
    /// or its `on_before_delete` hook refused; the log says what.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// 400 `{"detail": code}`.
    ///
    /// With [`status`](Self::status) and [`body`](Self::body):
    ///
    /// ```
    /// use axum_users_runtime::ApiError;
    ///
    /// let err = ApiError::bad_request("LOGIN_BAD_CREDENTIALS");
    /// assert_eq!(err.status(), 400);
    /// assert_eq!(err.body(), serde_json::json!({"detail": "LOGIN_BAD_CREDENTIALS"}));
    /// assert_eq!(ApiError::NotFound.status(), 404);
    /// ```
    pub fn bad_request(code: &'static str) -> Self {
        ApiError::Code {
            status: StatusCode::BAD_REQUEST,
            code,
        }
    }

    /// The status this error answers with. Example: see [`bad_request`](Self::bad_request).
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Code { status, .. } => *status,
            ApiError::CodeReason { .. } => StatusCode::BAD_REQUEST,
            ApiError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::CsrfFailed => StatusCode::FORBIDDEN,
            ApiError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn detail(&self) -> Detail<'_> {
        match self {
            ApiError::Code { code, .. } => Detail::Text(code),
            ApiError::CodeReason { code, reason } => Detail::CodeReason { code, reason },
            ApiError::Validation(issues) => {
                Detail::Issues(issues.iter().map(ValidationIssue::to_json).collect())
            }
            ApiError::Unauthorized { .. } => Detail::Text("Unauthorized"),
            ApiError::Forbidden => Detail::Text("Forbidden"),
            ApiError::NotFound => Detail::Text("Not Found"),
            ApiError::TooManyRequests { .. } => Detail::Text("TOO_MANY_REQUESTS"),
            ApiError::CsrfFailed => Detail::Text("CSRF_FAILED"),
            ApiError::Unavailable => Detail::Text("SERVICE_UNAVAILABLE"),
            ApiError::Internal(_) => Detail::Text("Internal Server Error"),
        }
    }

    /// The JSON body, e.g. `{"detail": "LOGIN_BAD_CREDENTIALS"}`. Example: see
    /// [`bad_request`](Self::bad_request).
    pub fn body(&self) -> Value {
        serde_json::to_value(Body {
            detail: self.detail(),
        })
        .unwrap_or(Value::Null)
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        tracing::error!(error = %err, "store failed; answering 503");
        ApiError::Unavailable
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Body {
            detail: self.detail(),
        };
        let mut response = (self.status(), Json(body)).into_response();
        if matches!(self, ApiError::Unauthorized { bearer: true }) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let ApiError::TooManyRequests { retry_after } = self {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after.max(1)));
        }
        response
    }
}

/// A failure of the user store (database unreachable, query failed, corrupt row).
///
/// Routes and guards answer it with 503, never with 401 or 500.
///
/// ```
/// use axum_users_runtime::{ApiError, StoreError};
///
/// let err = StoreError::new("connection refused");
/// assert_eq!(err.to_string(), "user store error: connection refused");
/// assert_eq!(ApiError::from(err).status(), 503);
/// ```
#[derive(Debug, thiserror::Error)]
#[error("user store error: {0}")]
pub struct StoreError(#[source] pub Box<dyn std::error::Error + Send + Sync>);

impl StoreError {
    /// Wraps any error. Example: see [`StoreError`].
    pub fn new(err: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        StoreError(err.into())
    }
}

/// Why building an [`AuthState`](crate::AuthState) failed: the service must not start.
///
/// ```
/// use axum_users_runtime::{AuthConfig, AuthState, BackendKind, BackendSpec, ConfigError, CookieSpec, Strategy};
///
/// struct Auth;
/// impl AuthConfig for Auth {
///     const BACKENDS: &'static [BackendSpec] = &[BackendSpec {
///         name: "jwt", kind: BackendKind::Jwt, strategy: Strategy::Jwt,
///         lifetime: 3600, cookie: CookieSpec::DEFAULT,
///     }];
/// }
///
/// let no_store = AuthState::builder::<Auth>().secret("an example secret of at least 32 bytes!").build();
/// assert!(matches!(no_store, Err(ConfigError::MissingStore)));
/// ```
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The HS256 secret is shorter than 32 bytes.
    #[error(
        "the JWT secret is {len} bytes long; axum-users needs at least 32 bytes of random data \
         (generate one with `openssl rand -base64 48` and pass it in AUTH_SECRET)"
    )]
    WeakSecret {
        /// The length that was given.
        len: usize,
    },
    /// No secret or key pair was configured.
    #[error(
        "no JWT secret configured: call `.secret(..)` (HS256) or `.jwt_keys(..)` on the builder"
    )]
    MissingSecret,
    /// Reset or verification tokens need an HS256 secret, and the access tokens use a key pair.
    #[error("reset and verification tokens are HS256: call `.{what}(..)` with a secret of at least 32 bytes (access tokens use a key pair, so there is no secret to default to)")]
    MissingPurposeSecret {
        /// The builder method to call.
        what: &'static str,
    },
    /// A custom field's name cannot be a column and JSON key.
    #[error("custom field name {name:?} is not allowed: use ASCII letters, digits and `_` (not first), and none of the built-in names")]
    InvalidField {
        /// The name.
        name: &'static str,
    },
    /// No user store was configured.
    #[error("no user store configured: call `.store(..)` on the builder")]
    MissingStore,
    /// A backend uses a stateful strategy and no token store was given for it.
    #[error("backend {backend:?} uses the `{strategy}` strategy: call `.{method}(..)` on the builder with a token store")]
    MissingTokenStore {
        /// The backend.
        backend: &'static str,
        /// Its strategy.
        strategy: &'static str,
        /// The builder method to call.
        method: &'static str,
    },
    /// `.strategy(name, ..)` names a backend the `AuthConfig` does not declare.
    #[error("`.strategy({backend:?}, ..)`: no backend of that name is declared")]
    UnknownBackend {
        /// The name that was given.
        backend: String,
    },
    /// A PEM key could not be read.
    #[error("invalid {what} key for {alg:?}: {source}")]
    InvalidKey {
        /// `private` or `public`.
        what: &'static str,
        /// The algorithm.
        alg: jsonwebtoken::Algorithm,
        /// The parser's error.
        #[source]
        source: jsonwebtoken::errors::Error,
    },
    /// The algorithm is not supported.
    #[error("unsupported JWT algorithm {0:?}: use HS256, RS256 or ES256")]
    UnsupportedAlgorithm(jsonwebtoken::Algorithm),
    /// The key pair does not sign and verify a test token.
    #[error("the JWT key pair does not match: a token signed with the private key fails verification with the public key")]
    KeyMismatch,
    /// A key id (`kid`) is empty, too long, or names two different keys of one set.
    #[error("invalid JWT key id {kid:?}: {problem}; every key of a set needs its own `kid`")]
    InvalidKeyId {
        /// The key id.
        kid: String,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// `.issuer("")`: an issuer must be a non-empty string (usually the service's URL).
    #[error("the JWT issuer is empty: give a non-empty string such as \"https://auth.example.com\", or none")]
    EmptyIssuer,
    /// The AuthConfig declares no backend.
    #[error("the AuthConfig declares no backend")]
    NoBackend,
    /// `cookie_secure(false)` on a backend declared `same_site = none`.
    #[error("cookie backend `{backend}` is `same_site = none`, which browsers accept only with `Secure`; it cannot be made insecure")]
    InsecureSameSiteNone {
        /// The backend's name.
        backend: &'static str,
    },
    /// A trusted proxy (`.trusted_proxies(..)`) is not an IP address or a CIDR network.
    #[error("invalid trusted proxy {proxy:?}: {reason} (expected an address or a network such as 10.0.0.0/8 or fd00::/8)")]
    InvalidTrustedProxy {
        /// The proxy as given.
        proxy: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Invalid argon2 parameters.
    #[error("invalid argon2 parameters: {0}")]
    Argon2(String),
    /// A trusted origin (`.trusted_origins(..)`) is not `scheme://host[:port]`.
    #[error("invalid trusted origin {origin:?}: {reason}")]
    InvalidOrigin {
        /// The origin as given.
        origin: String,
        /// What is wrong with it.
        reason: &'static str,
    },
}
