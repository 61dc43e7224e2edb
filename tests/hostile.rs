//! Hostile input against the real quickstart process: malformed, oversized and unexpected
//! tokens, cookies, headers, forms and JSON bodies each get the expected 4xx (never a 5xx), slow
//! clients are cut off without blocking anyone else, and the server keeps serving afterwards.
//!
//! Requests are written byte for byte on a raw TCP connection (so invalid UTF-8, NUL bytes and
//! lying `Content-Length`s reach the server as sent). The quickstart binary is the one
//! `cargo test` builds (`target/<profile>/examples/quickstart`); `cargo test --test hostile`
//! alone does not build examples, so build it first (`cargo build --example quickstart`) or run
//! plain `cargo test`.

mod common;

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

const SECRET: &str = "hostile-test-secret-0123456789abcdef0123456789";
const EMAIL: &str = "alice@example.com";
const PASSWORD: &str = "a long enough password";
const UNAUTHORIZED: &str = r#"{"detail":"Unauthorized"}"#;

fn under_ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "0" && v != "false")
}

/// `target/<profile>/examples/quickstart`; `None` (skipped locally, a failure under CI) when it
/// is not built.
fn quickstart_binary() -> Option<PathBuf> {
    let exe = std::env::current_exe().expect("the test binary's path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("the test binary lives in target/<profile>/deps");
    let binary = profile_dir
        .join("examples")
        .join(format!("quickstart{}", std::env::consts::EXE_SUFFIX));
    // (No staleness check: `cargo test` rebuilds the examples it runs, and files only compiled
    // under `cfg(test)` would make a fresh binary look stale.)
    if binary.exists() {
        return Some(binary);
    }
    let problem = "is not built";
    let message = format!(
        "the quickstart example at {} {problem}: run `cargo build --example quickstart` \
         (or plain `cargo test`, which builds the examples) before `cargo test --test hostile`",
        binary.display()
    );
    if under_ci() {
        panic!("{message}");
    }
    let _ = writeln!(std::io::stderr(), "SKIPPED hostile: {message}");
    None
}

/// A running quickstart over a SQLite file of its own, with 2-second header and body timeouts;
/// killed on drop.
struct Server {
    addr: SocketAddr,
    child: Child,
    log: tempfile::NamedTempFile,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    async fn start() -> Option<Server> {
        let binary = quickstart_binary()?;
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let log = tempfile::NamedTempFile::new().unwrap();
        let database = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("users.db").display()
        );
        let child = Command::new(&binary)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("AUTH_BIND", addr.to_string())
            .env("AUTH_DATABASE_URL", database)
            .env("AUTH_SECRET", SECRET)
            .env("AUTH_COOKIE_SECURE", "false")
            .env("AUTH_HEADER_READ_TIMEOUT", "2")
            .env("AUTH_BODY_TIMEOUT", "2")
            .env("RUST_LOG", "info,sqlx=warn")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(log.reopen().unwrap())
            .stderr(log.reopen().unwrap())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        let mut server = Server {
            addr,
            child,
            log,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = server.child.try_wait().unwrap() {
                panic!("the quickstart exited with {status}:\n{}", server.log());
            }
            if let Ok(reply) = try_send(addr, &get("/health", &[])).await {
                assert_eq!(reply.status, 200, "{}", reply.text());
                return Some(server);
            }
            assert!(
                Instant::now() < deadline,
                "the quickstart did not answer within 30 s:\n{}",
                server.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }

    /// Sends `raw` on a new connection and reads the answer to the end.
    async fn send(&self, raw: &[u8]) -> Reply {
        match try_send(self.addr, raw).await {
            Ok(reply) => reply,
            Err(err) => panic!(
                "no answer to {:?}: {err}\n{}",
                String::from_utf8_lossy(&raw[..raw.len().min(200)]),
                self.log()
            ),
        }
    }

    /// Sends `raw` and checks the status (and the body, when `body` is given).
    async fn expect(&self, what: &str, raw: &[u8], status: u16, body: Option<&str>) -> Reply {
        let reply = self.send(raw).await;
        assert_eq!(reply.status, status, "{what}: {}", reply.text());
        if let Some(body) = body {
            assert_eq!(reply.text(), body, "{what}");
        }
        reply
    }

    /// The server is alive and answers correctly: the process runs, `/health` is 200, a valid
    /// token opens `/protected` and no token does not; nothing panicked.
    async fn healthy(&mut self, token: &str) {
        assert!(
            self.child.try_wait().unwrap().is_none(),
            "the quickstart died:\n{}",
            self.log()
        );
        self.expect(
            "health",
            &get("/health", &[]),
            200,
            Some(r#"{"status":"ok"}"#),
        )
        .await;
        let reply = self
            .expect(
                "valid token",
                &get("/protected", &[bearer(token)]),
                200,
                None,
            )
            .await;
        assert_eq!(reply.json()["email"], EMAIL);
        self.expect("no token", &get("/protected", &[]), 401, Some(UNAUTHORIZED))
            .await;
        let log = self.log();
        assert!(!log.contains("panicked"), "a panic in the log:\n{log}");
    }
}

/// An HTTP answer.
struct Reply {
    status: u16,
    head: String,
    body: Vec<u8>,
}

impl Reply {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
}

/// Writes `raw` while reading the answer (a server that answers before the body is sent, then
/// closes, must not make us lose the answer), until the server closes the connection.
async fn try_send(addr: SocketAddr, raw: &[u8]) -> std::io::Result<Reply> {
    let stream = TcpStream::connect(addr).await?;
    let (mut reader, mut writer) = stream.into_split();
    let raw = raw.to_vec();
    let writing = tokio::spawn(async move {
        let _ = writer.write_all(&raw).await;
        let _ = writer.flush().await;
        writer
    });
    let mut bytes = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(30), async {
        let mut chunk = [0u8; 8192];
        loop {
            match reader.read(&mut chunk).await {
                Ok(0) => break,
                Ok(n) => bytes.extend_from_slice(&chunk[..n]),
                // A reset after the answer arrived (the server closed with our body unread).
                Err(_) if !bytes.is_empty() => break,
                Err(err) => return Err(err),
            }
        }
        Ok(())
    })
    .await;
    let _writer = writing.await;
    match read {
        Ok(result) => result?,
        Err(_) => {
            return Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "no complete answer within 30 s",
            ))
        }
    }
    parse_reply(&bytes)
}

fn parse_reply(bytes: &[u8]) -> std::io::Result<Reply> {
    let bad = |what: &str| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("{what}: {:?}", String::from_utf8_lossy(bytes)),
        )
    };
    let end = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| bad("no complete answer head"))?;
    let head = String::from_utf8_lossy(&bytes[..end]).into_owned();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("no status"))?;
    Ok(Reply {
        status,
        head,
        body: bytes[end + 4..].to_vec(),
    })
}

/// A raw HTTP/1.1 request with `Connection: close` (and `Content-Length` when there is a body).
fn request(method: &str, path: &str, headers: &[(&str, Vec<u8>)], body: &[u8]) -> Vec<u8> {
    let mut raw = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n")
        .into_bytes();
    for (name, value) in headers {
        raw.extend_from_slice(name.as_bytes());
        raw.extend_from_slice(b": ");
        raw.extend_from_slice(value);
        raw.extend_from_slice(b"\r\n");
    }
    let declares_length = headers.iter().any(|(name, _)| {
        name.eq_ignore_ascii_case("content-length")
            || name.eq_ignore_ascii_case("transfer-encoding")
    });
    if !declares_length && (!body.is_empty() || method != "GET") {
        raw.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
    }
    raw.extend_from_slice(b"\r\n");
    raw.extend_from_slice(body);
    raw
}

fn get(path: &str, headers: &[(&str, Vec<u8>)]) -> Vec<u8> {
    request("GET", path, headers, b"")
}

fn header(name: &'static str, value: impl AsRef<[u8]>) -> (&'static str, Vec<u8>) {
    (name, value.as_ref().to_vec())
}

fn bearer(token: &str) -> (&'static str, Vec<u8>) {
    header("Authorization", format!("Bearer {token}"))
}

fn json_post(path: &str, extra: &[(&str, Vec<u8>)], body: &[u8]) -> Vec<u8> {
    let mut headers = vec![header("Content-Type", "application/json")];
    headers.extend(extra.iter().cloned());
    request("POST", path, &headers, body)
}

fn form_post(path: &str, content_type: &str, body: &[u8]) -> Vec<u8> {
    request("POST", path, &[header("Content-Type", content_type)], body)
}

/// Registers [`EMAIL`] and logs in on the bearer backend: the access token.
async fn sign_up(server: &Server) -> String {
    let body = json!({"email": EMAIL, "password": PASSWORD}).to_string();
    server
        .expect(
            "register",
            &json_post("/auth/register", &[], body.as_bytes()),
            201,
            None,
        )
        .await;
    let form = common::login_form(EMAIL, PASSWORD);
    let reply = server
        .expect(
            "login",
            &form_post(
                "/auth/jwt/login",
                "application/x-www-form-urlencoded",
                form.as_bytes(),
            ),
            200,
            None,
        )
        .await;
    reply.json()["access_token"].as_str().unwrap().to_owned()
}

/// A token over `header` and `payload` JSON texts, HS256-signed with `secret`.
fn forged(secret: &str, header: &str, payload: &str) -> String {
    let input = format!(
        "{}.{}",
        common::b64(header.as_bytes()),
        common::b64(payload.as_bytes())
    );
    format!(
        "{input}.{}",
        common::hs256_signature(secret.as_bytes(), &input)
    )
}

/// Malformed, forged, oversized and binary credentials: every one 401, never a 5xx.
async fn bad_credentials(server: &Server, token: &str) {
    let hs256 = r#"{"alg":"HS256","typ":"JWT"}"#;
    let exp = common::now() + 3600;
    let unknown = uuid::Uuid::new_v4();
    let claims =
        |sub: &str, aud: &str, exp: &str| format!(r#"{{"sub":{sub},"aud":{aud},"exp":{exp}}}"#);
    let auth = r#"["fastapi-users:auth"]"#;
    let (head, rest) = token.split_once('.').unwrap();
    let (payload, signature) = rest.split_once('.').unwrap();
    let mut flipped = signature.to_owned().into_bytes();
    flipped[0] = if flipped[0] == b'A' { b'B' } else { b'A' };
    let flipped = String::from_utf8(flipped).unwrap();
    let tokens: Vec<String> = vec![
        String::new(),
        "x".into(),
        ".".into(),
        "..".into(),
        "...".into(),
        "a.b".into(),
        "a.b.c".into(),
        "a.b.c.d".into(),
        format!("{token}.extra"),
        format!("{head}.{payload}"),
        format!("{head}.{payload}.{flipped}"),
        format!("{head}.{payload}.{signature}x"),
        format!("{head}x.{payload}.{signature}"),
        format!("{head}.{payload}=.{signature}"),
        token.to_uppercase(),
        token[..token.len() / 2].to_owned(),
        "A".repeat(8000),
        "%00%00%00".into(),
        "null".into(),
        "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.".into(),
        // Structurally valid, forged or wrong claims.
        forged(
            "another-secret-another-secret-32b",
            hs256,
            &claims(&format!("\"{unknown}\""), auth, &exp.to_string()),
        ),
        forged(
            SECRET,
            r#"{"alg":"none","typ":"JWT"}"#,
            &claims(&format!("\"{unknown}\""), auth, &exp.to_string()),
        ),
        forged(
            SECRET,
            r#"{"alg":"HS512","typ":"JWT"}"#,
            &claims(&format!("\"{unknown}\""), auth, &exp.to_string()),
        ),
        forged(
            SECRET,
            hs256,
            &claims(&format!("\"{unknown}\""), auth, &exp.to_string()),
        ),
        forged(
            SECRET,
            hs256,
            &claims("\"not-a-uuid\"", auth, &exp.to_string()),
        ),
        forged(SECRET, hs256, &claims("12345", auth, &exp.to_string())),
        forged(SECRET, hs256, &claims("null", auth, &exp.to_string())),
        forged(SECRET, hs256, &claims(&format!("\"{unknown}\""), auth, "1")),
        forged(
            SECRET,
            hs256,
            &claims(&format!("\"{unknown}\""), auth, "1e999"),
        ),
        forged(
            SECRET,
            hs256,
            &claims(&format!("\"{unknown}\""), auth, "\"soon\""),
        ),
        forged(
            SECRET,
            hs256,
            &claims(
                &format!("\"{unknown}\""),
                auth,
                "123456789012345678901234567890",
            ),
        ),
        forged(
            SECRET,
            hs256,
            &claims(
                &format!("\"{unknown}\""),
                r#""fastapi-users:reset""#,
                &exp.to_string(),
            ),
        ),
        forged(SECRET, hs256, "[]"),
        forged(SECRET, hs256, "null"),
        forged(SECRET, hs256, "not json"),
        forged(
            SECRET,
            hs256,
            &format!("{}{}", "[".repeat(5000), "]".repeat(5000)),
        ),
        forged(
            SECRET,
            "{}",
            &claims(&format!("\"{unknown}\""), auth, &exp.to_string()),
        ),
        forged(SECRET, "[", "{"),
    ];
    for candidate in &tokens {
        server
            .expect(
                &format!("bearer {:?}", &candidate[..candidate.len().min(80)]),
                &get("/protected", &[bearer(candidate)]),
                401,
                Some(UNAUTHORIZED),
            )
            .await;
        server
            .expect(
                &format!("cookie {:?}", &candidate[..candidate.len().min(80)]),
                &get(
                    "/protected",
                    &[header("Cookie", format!("fastapiusersauth={candidate}"))],
                ),
                401,
                Some(UNAUTHORIZED),
            )
            .await;
    }
    // Authorization headers that are not a bearer token at all.
    let authorizations: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"Bearer".to_vec(),
        b"Bearer ".to_vec(),
        b"Bearer     ".to_vec(),
        b"Basic dXNlcjpwYXNz".to_vec(),
        format!("Basic {token}").into_bytes(),
        format!("Token {token}").into_bytes(),
        format!("Bearer{token}").into_bytes(),
        format!("Bearer {token} {token}").into_bytes(),
        format!("Bearer\t{token}").into_bytes(),
        "Bearer jeton-ünïcødé-🔑".as_bytes().to_vec(),
        b"Bearer \xff\xfe\xfd".to_vec(),
        [b"Bearer ".as_slice(), token.as_bytes(), b"\x80"].concat(),
        b"\xc3\x28\xa0\xa1".to_vec(),
    ];
    for value in authorizations {
        server
            .expect(
                &format!("authorization {:?}", String::from_utf8_lossy(&value)),
                &get("/protected", &[header("Authorization", &value)]),
                401,
                Some(UNAUTHORIZED),
            )
            .await;
    }
    // Cookie headers: empty, malformed, repeated, binary.
    let cookies: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"fastapiusersauth".to_vec(),
        b"fastapiusersauth=".to_vec(),
        b"fastapiusersauth=\"\"".to_vec(),
        b"fastapiusersauth=\"unterminated".to_vec(),
        b"=;=;;;==".to_vec(),
        b";;;;".to_vec(),
        b"fastapiusersauth=a; fastapiusersauth=b".to_vec(),
        format!("other={token}").into_bytes(),
        format!("FASTAPIUSERSAUTH={token}").into_bytes(),
        "fastapiusersauth=ünïcødé".as_bytes().to_vec(),
        b"fastapiusersauth=\xff\xfe".to_vec(),
        (0..1500)
            .map(|i| format!("c{i}=v"))
            .collect::<Vec<_>>()
            .join("; ")
            .into_bytes(),
    ];
    for value in cookies {
        server
            .expect(
                &format!(
                    "cookie header {:?}",
                    String::from_utf8_lossy(&value[..value.len().min(80)])
                ),
                &get("/protected", &[header("Cookie", &value)]),
                401,
                Some(UNAUTHORIZED),
            )
            .await;
    }
    // NUL and other control bytes are not HTTP: the server refuses the request itself.
    for value in [b"Bearer \x00".to_vec(), b"Bearer a\x01b".to_vec()] {
        let reply = server
            .send(&get("/protected", &[header("Authorization", &value)]))
            .await;
        assert_eq!(reply.status, 400, "{:?}: {}", value, reply.head);
        let reply = server
            .send(&get(
                "/protected",
                &[header(
                    "Cookie",
                    [b"fastapiusersauth=".as_slice(), &value[7..]].concat(),
                )],
            ))
            .await;
        assert_eq!(reply.status, 400, "{:?}: {}", value, reply.head);
    }
    // The same token on the logout route and the users routes.
    for path in ["/users/me", "/auth/jwt/logout", "/auth/cookie/logout"] {
        let method = if path == "/users/me" { "GET" } else { "POST" };
        server
            .expect(
                path,
                &request(method, path, &[bearer("a.b.c")], b""),
                401,
                Some(UNAUTHORIZED),
            )
            .await;
    }
}

/// Oversized headers get 431 (from the 16 KiB limit, or from hyper's read buffer beyond it).
async fn huge_headers(server: &Server, token: &str) {
    let reply = server
        .expect(
            "20 KiB header",
            &get("/health", &[header("X-Padding", "a".repeat(20 * 1024))]),
            431,
            Some(r#"{"detail":"REQUEST_HEADER_FIELDS_TOO_LARGE"}"#),
        )
        .await;
    assert!(reply.head.contains("application/json"), "{}", reply.head);
    server
        .expect(
            "20 KiB bearer token",
            &get("/protected", &[bearer(&"a".repeat(20 * 1024))]),
            431,
            None,
        )
        .await;
    server
        .expect(
            "many cookies",
            &get(
                "/users/me",
                &[header(
                    "Cookie",
                    (0..4000)
                        .map(|i| format!("c{i}=v"))
                        .collect::<Vec<_>>()
                        .join("; "),
                )],
            ),
            431,
            None,
        )
        .await;
    // Past hyper's buffer: hyper answers 431 itself.
    server
        .expect(
            "1 MiB header",
            &get("/health", &[header("X-Padding", "a".repeat(1024 * 1024))]),
            431,
            None,
        )
        .await;
    let many: Vec<(&str, Vec<u8>)> = (0..300).map(|_| header("X-Many", "a")).collect();
    server
        .expect("300 headers", &get("/health", &many), 431, None)
        .await;
    // Just under the limit still works.
    server
        .expect(
            "15 KiB header",
            &get(
                "/protected",
                &[bearer(token), header("X-Padding", "a".repeat(15 * 1024))],
            ),
            200,
            None,
        )
        .await;
}

/// Bodies over the limit get 413, announced or not.
async fn huge_bodies(server: &Server) {
    let too_large = Some(r#"{"detail":"PAYLOAD_TOO_LARGE"}"#);
    let big = format!(r#"{{"token": "{}"}}"#, "a".repeat(100 * 1024));
    for path in ["/auth/register", "/auth/verify", "/auth/reset-password"] {
        server
            .expect(path, &json_post(path, &[], big.as_bytes()), 413, too_large)
            .await;
    }
    server
        .expect(
            "login form",
            &form_post(
                "/auth/jwt/login",
                "application/x-www-form-urlencoded",
                format!("username={}&password=x", "a".repeat(100 * 1024)).as_bytes(),
            ),
            413,
            too_large,
        )
        .await;
    // A Content-Length the client never intends to honour.
    server
        .expect(
            "announced 1 TB",
            &request(
                "POST",
                "/auth/verify",
                &[
                    header("Content-Type", "application/json"),
                    header("Content-Length", "1000000000000"),
                ],
                b"{",
            ),
            413,
            too_large,
        )
        .await;
    // Chunked, no length announced: cut off when the limit is passed.
    let chunk = "a".repeat(32 * 1024);
    let mut chunked = Vec::new();
    for _ in 0..4 {
        chunked.extend_from_slice(format!("{:x}\r\n{chunk}\r\n", chunk.len()).as_bytes());
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    server
        .expect(
            "chunked 128 KiB",
            &request(
                "POST",
                "/auth/verify",
                &[
                    header("Content-Type", "application/json"),
                    header("Transfer-Encoding", "chunked"),
                ],
                &chunked,
            ),
            413,
            too_large,
        )
        .await;
    // Broken framing is refused by the HTTP layer.
    let reply = server
        .send(&request(
            "POST",
            "/auth/verify",
            &[header("Content-Length", "abc")],
            b"",
        ))
        .await;
    assert_eq!(reply.status, 400, "{}", reply.head);
}

/// The 422 `detail` list of a FastAPI-shaped answer.
fn is_validation(reply: &Reply) -> bool {
    reply.status == 422 && reply.json()["detail"].is_array()
}

/// Malformed JSON bodies on routes that read JSON: 422 (or the route's 400), never a 5xx.
async fn bad_json(server: &Server, token: &str) {
    let deep_array = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let deep_object = format!("{}1{}", r#"{"a":"#.repeat(10_000), "}".repeat(10_000));
    let unclosed = "[".repeat(10_000);
    let bodies: Vec<(&str, Vec<u8>)> = vec![
        ("empty", b"".to_vec()),
        ("null", b"null".to_vec()),
        ("array", b"[]".to_vec()),
        ("string", b"\"token\"".to_vec()),
        ("number", b"12".to_vec()),
        ("truncated", br#"{"token": "abc"#.to_vec()),
        ("trailing garbage", br#"{"token": "abc"} xyz"#.to_vec()),
        ("invalid UTF-8", b"{\"token\": \"\xff\xfe\"}".to_vec()),
        ("raw NUL", b"{\"token\": \"a\x00b\"}".to_vec()),
        ("NUL before", b"\x00{\"token\": \"a\"}".to_vec()),
        ("lone surrogate", br#"{"token": "\ud800"}"#.to_vec()),
        ("deep array", deep_array.into_bytes()),
        ("deep object", deep_object.into_bytes()),
        ("unclosed", unclosed.into_bytes()),
        ("huge number", br#"{"token": 1e999999}"#.to_vec()),
        (
            "long number",
            format!(r#"{{"token": {}}}"#, "9".repeat(5000)).into_bytes(),
        ),
        (
            "token not a string",
            br#"{"token": {"$ne": null}}"#.to_vec(),
        ),
        ("token list", br#"{"token": ["a"]}"#.to_vec()),
        ("BOM", b"\xef\xbb\xbf{\"token\": \"a\"}".to_vec()),
    ];
    for path in ["/auth/verify", "/auth/reset-password"] {
        for (what, body) in &bodies {
            let reply = server.send(&json_post(path, &[], body)).await;
            assert!(
                is_validation(&reply),
                "{path} {what}: {} {}",
                reply.status,
                reply.text()
            );
        }
    }
    // Well-formed, but odd: duplicate keys (the last wins), NUL and unicode inside strings,
    // an enormous string: the token is just wrong.
    let odd: Vec<&[u8]> = vec![
        br#"{"token": "a", "token": "b"}"#,
        br#"{"token": "\u0000"}"#,
        "{\"token\": \"ünïcødé-🔑\"}".as_bytes(),
        br#"{"token": "a.b.c", "extra": [[[[[[]]]]]]}"#,
    ];
    for body in odd {
        server
            .expect(
                &String::from_utf8_lossy(body),
                &json_post("/auth/verify", &[], body),
                400,
                Some(r#"{"detail":"VERIFY_USER_BAD_TOKEN"}"#),
            )
            .await;
    }
    let long_token = format!(r#"{{"token": "{}", "password": "x"}}"#, "a".repeat(60_000));
    server
        .expect(
            "60 kB token",
            &json_post("/auth/reset-password", &[], long_token.as_bytes()),
            400,
            Some(r#"{"detail":"RESET_PASSWORD_BAD_TOKEN"}"#),
        )
        .await;
    // Wrong content types.
    for content_type in [
        "text/plain",
        "application/xml",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ] {
        let reply = server
            .send(&request(
                "POST",
                "/auth/verify",
                &[header("Content-Type", content_type)],
                br#"{"token": "a"}"#,
            ))
            .await;
        assert!(is_validation(&reply), "{content_type}: {}", reply.text());
    }
    // PATCH /users/me (authenticated): hostile updates are 422 and change nothing.
    let patches: Vec<&[u8]> = vec![
        b"",
        b"[[[[",
        b"{\"email\": \"\xff@example.com\"}",
        br#"{"email": 12}"#,
        br#"{"email": "not-an-email"}"#,
        br#"{"email": "a@b"}"#,
        br#"{"password": 5}"#,
        br#"{"password": ["x"]}"#,
        br#"{"is_active": "perhaps"}"#,
        br#"{"email": "\u0000@example.com"}"#,
    ];
    for body in &patches {
        let reply = server
            .send(&request(
                "PATCH",
                "/users/me",
                &[bearer(token), header("Content-Type", "application/json")],
                body,
            ))
            .await;
        assert!(
            is_validation(&reply),
            "PATCH {:?}: {} {}",
            String::from_utf8_lossy(body),
            reply.status,
            reply.text()
        );
    }
    let long_local = format!(r#"{{"email": "{}@example.com"}}"#, "a".repeat(5000));
    let reply = server
        .send(&request(
            "PATCH",
            "/users/me",
            &[bearer(token), header("Content-Type", "application/json")],
            long_local.as_bytes(),
        ))
        .await;
    assert!(is_validation(&reply), "{}", reply.text());
    // A few on the rate-limited routes too (register, forgot-password).
    for body in [
        b"{\"email\": \"\xff\", \"password\": \"x\"}".as_slice(),
        format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)).as_bytes(),
        br#"{"email": ["a@example.com"], "password": {"a": 1}}"#,
        br#"{"email": "a@example.com", "password": "long enough pw", "is_superuser": "maybe"}"#,
    ] {
        let reply = server.send(&json_post("/auth/register", &[], body)).await;
        assert!(is_validation(&reply), "register: {}", reply.text());
    }
    for body in [b"{\"email\": 1e999}".as_slice(), b"\x00\x01\x02"] {
        let reply = server
            .send(&json_post("/auth/forgot-password", &[], body))
            .await;
        assert!(is_validation(&reply), "forgot: {}", reply.text());
    }
}

/// Malformed login forms: 422 (or bad credentials), never a 5xx.
async fn bad_forms(server: &Server) {
    let urlencoded = "application/x-www-form-urlencoded";
    let missing: Vec<(&str, &str, Vec<u8>)> = vec![
        ("no content type", "", b"username=a&password=b".to_vec()),
        (
            "json",
            "application/json",
            br#"{"username": "a", "password": "b"}"#.to_vec(),
        ),
        ("empty", urlencoded, b"".to_vec()),
        ("separators", urlencoded, "&".repeat(20_000).into_bytes()),
        ("equals", urlencoded, b"===&==&=".to_vec()),
        (
            "no boundary",
            "multipart/form-data",
            b"username=a&password=b".to_vec(),
        ),
        (
            "multipart junk",
            "multipart/form-data; boundary=XyZ",
            b"--XyZ\r\nContent-Disposition: form-data\r\n\r\n\xff\xfe--X\r\n--".to_vec(),
        ),
        (
            "multipart truncated",
            "multipart/form-data; boundary=XyZ",
            b"--XyZ\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nalice".to_vec(),
        ),
        (
            "grant type",
            urlencoded,
            b"grant_type=client_credentials&username=a&password=b".to_vec(),
        ),
    ];
    for (what, content_type, body) in &missing {
        let headers = if content_type.is_empty() {
            vec![]
        } else {
            vec![header("Content-Type", content_type)]
        };
        let reply = server
            .send(&request("POST", "/auth/jwt/login", &headers, body))
            .await;
        assert!(
            is_validation(&reply),
            "{what}: {} {}",
            reply.status,
            reply.text()
        );
    }
    // Well-formed but hostile values: bad credentials.
    for body in [
        b"username=%FF%FE&password=%C0%80".as_slice(),
        b"username=a%00b%40example.com&password=%00",
        b"username=\xff\xfe&password=\xff",
    ] {
        server
            .expect(
                &String::from_utf8_lossy(body),
                &form_post("/auth/jwt/login", urlencoded, body),
                400,
                Some(r#"{"detail":"LOGIN_BAD_CREDENTIALS"}"#),
            )
            .await;
    }
}

#[tokio::test]
async fn hostile_input_gets_4xx_and_the_server_keeps_serving() {
    let Some(mut server) = Server::start().await else {
        return;
    };
    let token = sign_up(&server).await;
    server.healthy(&token).await;
    bad_credentials(&server, &token).await;
    server.healthy(&token).await;
    huge_headers(&server, &token).await;
    server.healthy(&token).await;
    huge_bodies(&server).await;
    server.healthy(&token).await;
    bad_json(&server, &token).await;
    server.healthy(&token).await;
    bad_forms(&server).await;
    server.healthy(&token).await;
    // Unknown routes and methods.
    server
        .expect("unknown route", &get("/nope", &[]), 404, None)
        .await;
    server
        .expect(
            "wrong method",
            &request("DELETE", "/auth/register", &[], b""),
            405,
            None,
        )
        .await;
    server.healthy(&token).await;
}

/// Reads from `stream` until the server closes it; `Err` with what it sent when it is still open
/// after `patience`. What it sent must not be a success.
async fn closed_by_server(stream: &mut TcpStream, patience: Duration) -> Result<Vec<u8>, Vec<u8>> {
    let mut received = Vec::new();
    let mut chunk = [0u8; 1024];
    let deadline = tokio::time::Instant::now() + patience;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return Ok(received),
            Ok(Ok(n)) => received.extend_from_slice(&chunk[..n]),
            Err(_) => return Err(received),
        }
    }
}

#[tokio::test]
async fn slow_clients_are_cut_off_without_blocking_others() {
    let Some(mut server) = Server::start().await else {
        return;
    };
    let token = sign_up(&server).await;

    // Slowloris: the request head one byte every 500 ms (it would take 40 s); the server's
    // 2-second header timeout closes the connection long before.
    let head = b"GET /protected HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
    let addr = server.addr;
    let slowloris = tokio::spawn(async move {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        for byte in head.iter() {
            if stream.write_all(&[*byte]).await.is_err() {
                break;
            }
            let mut probe = [0u8; 256];
            match tokio::time::timeout(Duration::from_millis(500), stream.read(&mut probe)).await {
                Ok(Ok(0)) | Ok(Err(_)) => return (true, Vec::new()),
                Ok(Ok(n)) => return (false, probe[..n].to_vec()),
                Err(_) => {}
            }
        }
        (false, b"sent the whole head".to_vec())
    });
    // Idle connections that never send anything are closed too.
    let mut idle = Vec::new();
    for _ in 0..20 {
        idle.push(TcpStream::connect(addr).await.unwrap());
    }
    // Meanwhile, normal clients are served.
    for _ in 0..3 {
        server
            .expect(
                "during slowloris",
                &get("/protected", &[bearer(&token)]),
                200,
                None,
            )
            .await;
    }
    let (closed, received) = slowloris.await.unwrap();
    assert!(
        closed,
        "the slow connection was not closed by the server: {:?}",
        String::from_utf8_lossy(&received)
    );
    for stream in &mut idle {
        let received = closed_by_server(stream, Duration::from_secs(30))
            .await
            .unwrap_or_else(|sent| {
                panic!(
                    "an idle connection is still open: {:?}",
                    String::from_utf8_lossy(&sent)
                )
            });
        assert!(!received.starts_with(b"HTTP/1.1 2"), "{received:?}");
    }

    // A slow body: the head at once, then one byte of a 200-byte body every 500 ms; the
    // route's 2-second body timeout answers 408.
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(
            b"POST /auth/verify HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{",
        )
        .await
        .unwrap();
    let mut answer = Vec::new();
    for _ in 0..199 {
        let mut probe = [0u8; 512];
        match tokio::time::timeout(Duration::from_millis(500), stream.read(&mut probe)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => {
                answer.extend_from_slice(&probe[..n]);
                if answer.windows(4).any(|w| w == b"\r\n\r\n") && answer.ends_with(b"}") {
                    break;
                }
            }
            Err(_) => {
                if stream.write_all(b" ").await.is_err() {
                    break;
                }
            }
        }
    }
    let reply = parse_reply(&answer).expect("an answer to the slow body");
    assert_eq!(reply.status, 408, "{}", reply.text());
    assert_eq!(reply.text(), r#"{"detail":"REQUEST_TIMEOUT"}"#);

    server.healthy(&token).await;
}
