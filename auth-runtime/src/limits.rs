//! Explicit limits on what one request may carry: the size and the reading time of the bodies
//! of the generated routes ([`BoundedBody`], configured on the builder with
//! [`max_body_bytes`](crate::AuthStateBuilder::max_body_bytes) and
//! [`body_timeout`](crate::AuthStateBuilder::body_timeout)), and the total size of the request
//! headers ([`limit_header_bytes`], applied by the generated router).
//!
//! Answers: 413 `{"detail": "PAYLOAD_TOO_LARGE"}`, 408 `{"detail": "REQUEST_TIMEOUT"}`,
//! 431 `{"detail": "REQUEST_HEADER_FIELDS_TOO_LARGE"}`, and 400 `{"detail": "BAD_REQUEST"}` for a
//! body the connection failed to deliver.
//!
//! A slow client that never finishes its headers is the server's business (hyper's
//! `header_read_timeout`); `examples/quickstart.rs` shows the serving loop that sets it.
//!
//! ```
//! use axum_users_runtime::limits::{BodyLimit, DEFAULT_MAX_BODY_BYTES, MAX_HEADER_BYTES};
//!
//! assert_eq!(BodyLimit::default().max_bytes, DEFAULT_MAX_BODY_BYTES); // 64 KiB
//! assert!(MAX_HEADER_BYTES < DEFAULT_MAX_BODY_BYTES);
//! ```

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{FromRef, FromRequest, Request};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt as _;

use crate::error::ApiError;
use crate::state::AuthState;

/// Default largest body the generated routes read: 64 KiB (their bodies are a few hundred
/// bytes; custom fields rarely need more). Example: see [`BodyLimit`].
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;

/// Default time a client gets to deliver a body once the route starts reading it: 10 s.
/// Example: see [`BodyLimit`].
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// Largest total size of the request headers (names, values and 4 bytes of separators per
/// field) that the generated routes accept: 16 KiB. Larger requests get 431.
///
/// ```
/// assert_eq!(axum_users_runtime::MAX_HEADER_BYTES, 16 * 1024);
/// ```
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// How much body the generated routes read, and for how long.
///
/// ```
/// use axum_users_runtime::{BodyLimit, DEFAULT_BODY_TIMEOUT, DEFAULT_MAX_BODY_BYTES};
///
/// let limit = BodyLimit::default();
/// assert_eq!(limit.max_bytes, DEFAULT_MAX_BODY_BYTES);
/// assert_eq!(limit.timeout, DEFAULT_BODY_TIMEOUT);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyLimit {
    /// Largest body, in bytes; a longer one gets 413.
    pub max_bytes: usize,
    /// Time to deliver the whole body; a slower one gets 408.
    pub timeout: Duration,
}

impl BodyLimit {
    /// [`DEFAULT_MAX_BODY_BYTES`] within [`DEFAULT_BODY_TIMEOUT`].
    ///
    /// ```
    /// use axum_users_runtime::{BodyLimit, DEFAULT_MAX_BODY_BYTES};
    ///
    /// assert_eq!(BodyLimit::DEFAULT, BodyLimit::default());
    /// assert_eq!(BodyLimit::DEFAULT.max_bytes, DEFAULT_MAX_BODY_BYTES);
    /// ```
    pub const DEFAULT: BodyLimit = BodyLimit {
        max_bytes: DEFAULT_MAX_BODY_BYTES,
        timeout: DEFAULT_BODY_TIMEOUT,
    };
}

impl Default for BodyLimit {
    fn default() -> Self {
        BodyLimit::DEFAULT
    }
}

fn too_large() -> ApiError {
    ApiError::Code {
        status: StatusCode::PAYLOAD_TOO_LARGE,
        code: "PAYLOAD_TOO_LARGE",
    }
}

/// The whole body of `request`, at most `limit.max_bytes` long and delivered within
/// `limit.timeout`: 413 when longer (at once when `Content-Length` says so), 408 when slower,
/// 400 when the connection fails to deliver it.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use axum::body::Body;
/// use axum::extract::Request;
/// use axum_users_runtime::limits::read_body;
/// use axum_users_runtime::BodyLimit;
///
/// let limit = BodyLimit { max_bytes: 4, ..BodyLimit::DEFAULT };
/// let small = Request::new(Body::from("abcd"));
/// assert_eq!(&read_body(small, limit).await.unwrap()[..], b"abcd");
/// let large = Request::new(Body::from("abcde"));
/// assert_eq!(read_body(large, limit).await.unwrap_err().status().as_u16(), 413);
/// # });
/// ```
pub async fn read_body(request: Request, limit: BodyLimit) -> Result<Bytes, ApiError> {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit.max_bytes as u64) {
        return Err(too_large());
    }
    let mut stream = request.into_body().into_data_stream();
    let read = async {
        let mut buffer = Vec::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|_| ApiError::Code {
                status: StatusCode::BAD_REQUEST,
                code: "BAD_REQUEST",
            })?;
            if buffer.len().saturating_add(chunk.len()) > limit.max_bytes {
                return Err(too_large());
            }
            buffer.extend_from_slice(&chunk);
        }
        Ok(Bytes::from(buffer))
    };
    tokio::time::timeout(limit.timeout, read)
        .await
        .unwrap_or(Err(ApiError::Code {
            status: StatusCode::REQUEST_TIMEOUT,
            code: "REQUEST_TIMEOUT",
        }))
}

/// The body of a request to a generated route, read with the state's [`BodyLimit`] (see
/// [`read_body`]). Usable in the application's own handlers too.
///
/// ```
/// use axum::routing::post;
/// use axum::Router;
/// use axum_users_runtime::limits::BoundedBody;
/// use axum_users_runtime::AuthState;
///
/// async fn echo_len(BoundedBody(body): BoundedBody) -> String {
///     body.len().to_string()
/// }
///
/// let app: Router<AuthState> = Router::new().route("/echo", post(echo_len));
/// ```
#[derive(Debug, Clone)]
pub struct BoundedBody(pub Bytes);

impl<S> FromRequest<S> for BoundedBody
where
    S: Send + Sync,
    AuthState: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let limit = AuthState::from_ref(state).body_limit();
        read_body(request, limit).await.map(BoundedBody)
    }
}

/// Total size of `headers` as [`MAX_HEADER_BYTES`] counts it.
///
/// ```
/// use axum::http::HeaderMap;
/// use axum_users_runtime::limits::header_bytes;
///
/// let mut headers = HeaderMap::new();
/// headers.insert("x-a", "bc".parse().unwrap());
/// assert_eq!(header_bytes(&headers), 3 + 2 + 4);
/// ```
pub fn header_bytes(headers: &HeaderMap) -> usize {
    headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum()
}

/// Middleware (for `axum::middleware::from_fn`): 431
/// `{"detail": "REQUEST_HEADER_FIELDS_TOO_LARGE"}` when the request's headers exceed
/// [`MAX_HEADER_BYTES`]. The generated router applies it; wrap the whole application with it to
/// cover your own routes too.
///
/// ```
/// use axum::middleware::from_fn;
/// use axum::routing::get;
/// use axum::Router;
/// use axum_users_runtime::limits::limit_header_bytes;
///
/// let app: Router = Router::new()
///     .route("/health", get(|| async { "ok" }))
///     .layer(from_fn(limit_header_bytes));
/// ```
pub async fn limit_header_bytes(request: Request, next: Next) -> Response {
    if header_bytes(request.headers()) > MAX_HEADER_BYTES {
        return ApiError::Code {
            status: StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            code: "REQUEST_HEADER_FIELDS_TOO_LARGE",
        }
        .into_response();
    }
    next.run(request).await
}
