//! The whole generated router, end to end: a request built from the input (route and method
//! picked by the first byte, then `Name: value` header lines, an empty line, the body; the
//! second byte adds a valid bearer token or cookie) is sent to the routes over an in-memory
//! store. Whatever the request, the answer is never a 5xx.
#![no_main]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{LazyLock, Mutex};

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, Method, Request};
use axum::Router;
use axum_users_runtime::{
    AuthConfig, AuthState, BackendKind, BackendSpec, CookieSpec, MemoryStore, NewUser,
    PasswordHasher, Strategy,
};
use libfuzzer_sys::fuzz_target;
use tower::ServiceExt as _;

struct Auth;

impl AuthConfig for Auth {
    const BACKENDS: &'static [BackendSpec] = &[
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
}

const ROUTES: [(&str, &str); 14] = [
    ("POST", "/auth/jwt/login"),
    ("POST", "/auth/cookie/login"),
    ("POST", "/auth/jwt/logout"),
    ("POST", "/auth/cookie/logout"),
    ("POST", "/auth/register"),
    ("POST", "/auth/forgot-password"),
    ("POST", "/auth/reset-password"),
    ("POST", "/auth/request-verify-token"),
    ("POST", "/auth/verify"),
    ("GET", "/users/me"),
    ("PATCH", "/users/me"),
    ("GET", "/users/6f9619ff-8b86-d011-b42d-00c04fc964ff"),
    ("PATCH", "/users/not-a-uuid"),
    ("DELETE", "/users/%00"),
];

/// A fresh app with one active superuser and its access token.
struct App {
    runtime: tokio::runtime::Runtime,
    router: Router,
    token: String,
}

fn app() -> App {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let state = AuthState::builder::<Auth>()
        .secret("0123456789abcdef0123456789abcdef")
        .store(MemoryStore::new())
        .password_hasher(PasswordHasher::with_params(1024, 1, 1).unwrap())
        .build()
        .unwrap();
    let token = runtime.block_on(async {
        let mut admin = NewUser::new("admin@example.com", "admin password");
        admin.is_superuser = true;
        let user = state.create_user(admin).await.unwrap();
        state.keys().access_token(user.id, 3600).unwrap()
    });
    let router = Auth::router().with_state(state);
    App {
        runtime,
        router,
        token,
    }
}

/// Rebuilt every 5 000 inputs, so users registered by the fuzzer do not pile up.
static APP: LazyLock<Mutex<App>> = LazyLock::new(|| Mutex::new(app()));
static RUNS: AtomicUsize = AtomicUsize::new(0);

fuzz_target!(|data: &[u8]| {
    let [pick, credentials, rest @ ..] = data else {
        return;
    };
    let mut app = APP.lock().unwrap();
    if RUNS.fetch_add(1, Ordering::Relaxed) % 5000 == 4999 {
        *app = self::app();
    }
    let (method, path) = ROUTES[*pick as usize % ROUTES.len()];
    let (head, body) = match rest.windows(2).position(|w| w == b"\n\n") {
        Some(at) => (&rest[..at], &rest[at + 2..]),
        None => (rest, &[][..]),
    };
    let mut request = Request::builder()
        .method(Method::from_bytes(method.as_bytes()).unwrap())
        .uri(path);
    match credentials % 3 {
        1 => request = request.header("authorization", format!("Bearer {}", app.token)),
        2 => request = request.header("cookie", format!("fastapiusersauth={}", app.token)),
        _ => {}
    }
    for line in head.split(|b| *b == b'\n') {
        let Some(colon) = line.iter().position(|b| *b == b':') else {
            continue;
        };
        let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(&line[..colon]),
            HeaderValue::from_bytes(line[colon + 1..].trim_ascii()),
        ) else {
            continue;
        };
        request = request.header(name, value);
    }
    let Ok(request) = request.body(Body::from(body.to_vec())) else {
        return;
    };
    let response = app
        .runtime
        .block_on(app.router.clone().oneshot(request))
        .unwrap();
    assert!(
        !response.status().is_server_error(),
        "{method} {path}: {}",
        response.status()
    );
});
