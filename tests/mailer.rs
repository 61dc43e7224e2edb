//! Mailers: the JSON-lines file outbox, the log mailer (no token at info level), the SMTP
//! mailer against a real SMTP listener on 127.0.0.1 started here, and the choice from the
//! environment (given as explicit variable maps, never by mutating the process environment).

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum_users::mailer::{
    mailer_from_vars, FileOutbox, LogMailer, MailTemplate, SmtpMailer, SmtpTls,
};
use axum_users::{Mail, MailError, MailKind, Mailer};
use base64::Engine as _;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

fn mail(kind: MailKind, to: &str, token: &str) -> Mail {
    Mail {
        kind,
        to: to.into(),
        token: token.into(),
    }
}

fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |name| map.get(name).cloned()
}

/// A realistic token: longer than a mail line, so the body gets quoted-printable encoded.
fn jwt_like_token() -> String {
    format!(
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.{}.{}",
        "eyJzdWIiOiI0MmQ3YjI2Ni1hYjI0LTQ1ZjUtOTQ2Ni0xYzNlYzE0ZDFmMDQiLCJhdWQiOiJmYXN0YXBpLXVzZXJzOnZlcmlmeSJ9",
        "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
    )
}

fn read_lines(path: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).expect("each line is one JSON object"))
        .collect()
}

fn assert_rfc3339_utc(s: &str) {
    let b = s.as_bytes();
    assert_eq!(b.len(), 20, "{s}");
    for (i, c) in b.iter().enumerate() {
        match i {
            4 | 7 => assert_eq!(*c, b'-', "{s}"),
            10 => assert_eq!(*c, b'T', "{s}"),
            13 | 16 => assert_eq!(*c, b':', "{s}"),
            19 => assert_eq!(*c, b'Z', "{s}"),
            _ => assert!(c.is_ascii_digit(), "{s}"),
        }
    }
    let year: i32 = s[..4].parse().unwrap();
    assert!((2024..2200).contains(&year), "{s}");
}

// ------------------------------------------------------------------------------------------
// File outbox
// ------------------------------------------------------------------------------------------

#[tokio::test]
async fn file_outbox_appends_one_json_object_per_message() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("outbox.jsonl");
    let outbox = FileOutbox::new(&path);
    outbox
        .send(&mail(MailKind::Verify, "alice@example.com", "tok-verify"))
        .await
        .unwrap();
    outbox
        .send(&mail(
            MailKind::ResetPassword,
            "bob@example.com",
            "tok-reset",
        ))
        .await
        .unwrap();

    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.ends_with('\n'));
    let lines = read_lines(&path);
    assert_eq!(lines.len(), 2);
    let expected = [
        ("verify", "alice@example.com", "tok-verify"),
        ("reset_password", "bob@example.com", "tok-reset"),
    ];
    for (line, (kind, to, token)) in lines.iter().zip(expected) {
        let obj = line.as_object().unwrap();
        let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["created_at", "kind", "to", "token"]);
        assert_eq!(obj["kind"], kind);
        assert_eq!(obj["to"], to);
        assert_eq!(obj["token"], token);
        assert_rfc3339_utc(obj["created_at"].as_str().unwrap());
    }
    // The keys come in the documented order.
    let first = text.lines().next().unwrap();
    assert!(first.starts_with(
        r#"{"kind":"verify","to":"alice@example.com","token":"tok-verify","created_at":""#
    ));
}

#[tokio::test]
async fn file_outbox_appends_to_an_existing_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("outbox.jsonl");
    std::fs::File::create(&path)
        .unwrap()
        .write_all(b"{\"kind\":\"verify\",\"to\":\"old@example.com\",\"token\":\"t\",\"created_at\":\"2020-01-01T00:00:00Z\"}\n")
        .unwrap();
    FileOutbox::new(&path)
        .send(&mail(MailKind::Verify, "new@example.com", "t2"))
        .await
        .unwrap();
    let lines = read_lines(&path);
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["to"], "old@example.com");
    assert_eq!(lines[1]["to"], "new@example.com");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_outbox_concurrent_sends_never_interleave() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("outbox.jsonl");
    let outbox = Arc::new(FileOutbox::new(&path));
    // Long tokens make a torn write obvious.
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let outbox = outbox.clone();
            tokio::spawn(async move {
                let token = format!("{i:02}-{}", "x".repeat(4000));
                let kind = if i % 2 == 0 {
                    MailKind::Verify
                } else {
                    MailKind::ResetPassword
                };
                outbox
                    .send(&mail(kind, &format!("user{i}@example.com"), &token))
                    .await
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let lines = read_lines(&path);
    assert_eq!(lines.len(), 50);
    let mut seen: Vec<usize> = lines
        .iter()
        .map(|line| {
            let to = line["to"].as_str().unwrap();
            let i: usize = to
                .strip_prefix("user")
                .and_then(|s| s.strip_suffix("@example.com"))
                .unwrap()
                .parse()
                .unwrap();
            assert_eq!(
                line["token"].as_str().unwrap(),
                format!("{i:02}-{}", "x".repeat(4000))
            );
            let kind = if i.is_multiple_of(2) {
                "verify"
            } else {
                "reset_password"
            };
            assert_eq!(line["kind"], kind);
            i
        })
        .collect();
    seen.sort_unstable();
    assert_eq!(seen, (0..50).collect::<Vec<_>>());
}

#[tokio::test]
async fn file_outbox_reports_io_errors() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = FileOutbox::new(dir.path().join("missing-dir").join("outbox.jsonl"));
    let err = outbox
        .send(&mail(MailKind::Verify, "a@example.com", "t"))
        .await
        .unwrap_err();
    assert!(matches!(err, MailError::Io(_)), "{err:?}");
}

// ------------------------------------------------------------------------------------------
// Log mailer
// ------------------------------------------------------------------------------------------

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

async fn log_at(level: tracing::Level, mails: &[Mail]) -> String {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(captured.clone())
        .with_max_level(level)
        .with_ansi(false)
        .finish();
    // Current-thread runtime: the thread-local default covers every poll of these sends.
    let _guard = tracing::subscriber::set_default(subscriber);
    for m in mails {
        LogMailer.send(m).await.unwrap();
    }
    captured.text()
}

#[tokio::test]
async fn log_mailer_withholds_the_token_at_info_level() {
    let token = jwt_like_token();
    let out = log_at(
        tracing::Level::INFO,
        &[
            mail(MailKind::Verify, "alice@example.com", &token),
            mail(
                MailKind::ResetPassword,
                "bob@example.com",
                "reset-secret-123",
            ),
        ],
    )
    .await;
    assert!(
        out.contains("verification e-mail for alice@example.com (token withheld)"),
        "{out}"
    );
    assert!(
        out.contains("password-reset e-mail for bob@example.com (token withheld)"),
        "{out}"
    );
    assert!(!out.contains(&token), "{out}");
    assert!(!out.contains("reset-secret-123"), "{out}");
    assert!(!out.contains("DEBUG"), "{out}");
}

#[tokio::test]
async fn log_mailer_shows_the_token_only_at_debug_level() {
    let out = log_at(
        tracing::Level::DEBUG,
        &[mail(MailKind::Verify, "alice@example.com", "dev-token-42")],
    )
    .await;
    for line in out.lines().filter(|l| l.contains("dev-token-42")) {
        assert!(line.contains("DEBUG"), "token outside a debug line: {line}");
    }
    assert!(out.contains("dev-token-42"), "{out}");
}

// ------------------------------------------------------------------------------------------
// SMTP: a real SMTP listener on 127.0.0.1
// ------------------------------------------------------------------------------------------

/// What the test server saw in one session.
#[derive(Debug, Default, Clone)]
struct Session {
    ehlo: Option<String>,
    /// (mechanism, authzid, user, password) as decoded.
    auth: Option<(String, String, String, String)>,
    mail_from: Option<String>,
    rcpt_to: Vec<String>,
    data: Option<String>,
    quit: bool,
}

/// A minimal SMTP server: accepts one connection on 127.0.0.1, speaks just enough ESMTP
/// (EHLO with AUTH PLAIN LOGIN, AUTH PLAIN, MAIL, RCPT, DATA, RSET, NOOP, QUIT), and hands
/// the session back when the client leaves.
async fn smtp_server() -> (u16, tokio::task::JoinHandle<Session>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let (read, mut write) = stream.into_split();
        let mut read = BufReader::new(read);
        let mut session = Session::default();
        write
            .write_all(b"220 test.localhost ESMTP ready\r\n")
            .await
            .unwrap();
        let mut line = String::new();
        loop {
            line.clear();
            if read.read_line(&mut line).await.unwrap() == 0 {
                break;
            }
            let cmd = line.trim_end_matches(['\r', '\n']).to_string();
            let upper = cmd.to_ascii_uppercase();
            let reply: &[u8] = if upper.starts_with("EHLO ") || upper.starts_with("HELO ") {
                session.ehlo = Some(cmd[5..].to_string());
                b"250-test.localhost greets you\r\n250-AUTH PLAIN LOGIN\r\n250-8BITMIME\r\n250 SIZE 1000000\r\n"
            } else if upper.starts_with("AUTH PLAIN ") {
                let decoded = base64::engine::general_purpose::STANDARD
                    .decode(cmd["AUTH PLAIN ".len()..].trim())
                    .unwrap();
                let parts: Vec<String> = decoded
                    .split(|b| *b == 0)
                    .map(|p| String::from_utf8(p.to_vec()).unwrap())
                    .collect();
                assert_eq!(parts.len(), 3, "{parts:?}");
                session.auth = Some((
                    "PLAIN".into(),
                    parts[0].clone(),
                    parts[1].clone(),
                    parts[2].clone(),
                ));
                b"235 2.7.0 Authentication successful\r\n"
            } else if upper.starts_with("AUTH ") {
                b"504 5.5.4 Unrecognized authentication type\r\n"
            } else if upper.starts_with("MAIL FROM:") {
                session.mail_from = Some(cmd["MAIL FROM:".len()..].to_string());
                b"250 2.1.0 Ok\r\n"
            } else if upper.starts_with("RCPT TO:") {
                session.rcpt_to.push(cmd["RCPT TO:".len()..].to_string());
                b"250 2.1.5 Ok\r\n"
            } else if upper == "DATA" {
                write
                    .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    .await
                    .unwrap();
                let mut data = Vec::new();
                while !data.ends_with(b"\r\n.\r\n") {
                    let n = read.read_until(b'\n', &mut data).await.unwrap();
                    assert!(n > 0, "client left in the middle of DATA");
                }
                data.truncate(data.len() - b".\r\n".len());
                let text = String::from_utf8(data).unwrap().replace("\r\n..", "\r\n.");
                session.data = Some(text);
                b"250 2.0.0 Ok: queued as 1\r\n"
            } else if upper == "RSET" || upper == "NOOP" {
                b"250 2.0.0 Ok\r\n"
            } else if upper == "QUIT" {
                session.quit = true;
                write.write_all(b"221 2.0.0 Bye\r\n").await.unwrap();
                break;
            } else {
                b"502 5.5.2 Command not recognized\r\n"
            };
            write.write_all(reply).await.unwrap();
        }
        session
    });
    (port, handle)
}

/// Headers (unfolded, by lower-case name) and the decoded body of a message.
fn parse_message(data: &str) -> (HashMap<String, String>, String) {
    let (head, body) = data
        .split_once("\r\n\r\n")
        .expect("headers, blank line, body");
    let mut headers = HashMap::new();
    let mut last: Option<String> = None;
    for line in head.split("\r\n") {
        if line.starts_with([' ', '\t']) {
            let name = last.clone().unwrap();
            headers
                .entry(name)
                .and_modify(|v: &mut String| v.push_str(line.trim_start()));
            continue;
        }
        let (name, value) = line.split_once(':').unwrap();
        let name = name.to_ascii_lowercase();
        headers.insert(name.clone(), value.trim().to_string());
        last = Some(name);
    }
    let encoding = headers
        .get("content-transfer-encoding")
        .map(|e| e.to_ascii_lowercase())
        .unwrap_or_else(|| "7bit".into());
    let body = match encoding.as_str() {
        "7bit" | "8bit" => body.to_string(),
        "quoted-printable" => decode_quoted_printable(body),
        other => panic!("unexpected transfer encoding {other}"),
    };
    (headers, body)
}

fn decode_quoted_printable(s: &str) -> String {
    let s = s.replace("=\r\n", "");
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

#[tokio::test]
async fn smtp_mailer_delivers_to_a_real_listener() {
    let (port, server) = smtp_server().await;
    let mailer = SmtpMailer::builder("127.0.0.1")
        .port(port)
        .tls(SmtpTls::None)
        .credentials("mailer-user", "mailer-pass")
        .from("Example App <no-reply@example.com>")
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let token = jwt_like_token();
    mailer
        .send(&mail(MailKind::Verify, "alice@example.com", &token))
        .await
        .unwrap();
    let session = tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("the server session ends")
        .unwrap();

    assert!(session.ehlo.is_some());
    assert_eq!(
        session.auth,
        Some((
            "PLAIN".into(),
            String::new(),
            "mailer-user".into(),
            "mailer-pass".into()
        ))
    );
    assert_eq!(
        session.mail_from.as_deref().map(str::trim),
        Some("<no-reply@example.com>")
    );
    assert_eq!(session.rcpt_to, ["<alice@example.com>"]);
    assert!(session.quit, "the client says QUIT");

    let (headers, body) = parse_message(session.data.as_deref().unwrap());
    assert_eq!(headers["subject"], "Verify your e-mail address");
    assert!(
        headers["from"].contains("no-reply@example.com"),
        "{headers:?}"
    );
    assert!(headers["from"].contains("Example App"), "{headers:?}");
    assert_eq!(headers["to"], "alice@example.com");
    assert!(
        headers["content-type"].starts_with("text/plain"),
        "{headers:?}"
    );
    assert!(headers.contains_key("date"));
    assert!(
        body.contains(&format!("Your verification token: {token}")),
        "{body}"
    );
}

#[tokio::test]
async fn smtp_mailer_uses_custom_templates_and_no_auth_without_credentials() {
    let (port, server) = smtp_server().await;
    let mailer = SmtpMailer::builder("127.0.0.1")
        .port(port)
        .tls(SmtpTls::None)
        .from("no-reply@example.com")
        .template(
            MailKind::ResetPassword,
            MailTemplate::new(
                "Reset for {to}",
                "Go to https://app.example.com/reset?token={token}\n",
            ),
        )
        .build()
        .unwrap();
    mailer
        .send(&mail(
            MailKind::ResetPassword,
            "bob@example.com",
            "short-tok",
        ))
        .await
        .unwrap();
    let session = tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(session.auth, None);
    assert_eq!(session.rcpt_to, ["<bob@example.com>"]);
    let (headers, body) = parse_message(session.data.as_deref().unwrap());
    assert_eq!(headers["subject"], "Reset for bob@example.com");
    assert!(
        body.contains("https://app.example.com/reset?token=short-tok"),
        "{body}"
    );
}

#[tokio::test]
async fn smtp_mailer_from_vars_delivers_too() {
    let (port, server) = smtp_server().await;
    let port = port.to_string();
    let mailer = SmtpMailer::from_vars(vars(&[
        ("AUTH_SMTP_HOST", "127.0.0.1"),
        ("AUTH_SMTP_PORT", &port),
        ("AUTH_SMTP_TLS", "none"),
        ("AUTH_SMTP_USERNAME", "env-user"),
        ("AUTH_SMTP_PASSWORD", "env-pass"),
        ("AUTH_SMTP_FROM", "sender@example.com"),
    ]))
    .unwrap();
    assert!(!format!("{mailer:?}").contains("env-pass"));
    mailer
        .send(&mail(MailKind::ResetPassword, "carol@example.com", "tok-r"))
        .await
        .unwrap();
    let session = tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .unwrap()
        .unwrap();
    let auth = session.auth.unwrap();
    assert_eq!((auth.2.as_str(), auth.3.as_str()), ("env-user", "env-pass"));
    assert_eq!(
        session.mail_from.as_deref().map(str::trim),
        Some("<sender@example.com>")
    );
    let (headers, body) = parse_message(session.data.as_deref().unwrap());
    assert_eq!(headers["subject"], "Reset your password");
    assert!(body.contains("Your password reset token: tok-r"), "{body}");
}

#[tokio::test]
async fn smtp_mailer_fails_fast_when_nothing_listens() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    }; // dropped: nothing listens there any more
    let mailer = SmtpMailer::builder("127.0.0.1")
        .port(port)
        .tls(SmtpTls::None)
        .from("no-reply@example.com")
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let start = Instant::now();
    let result = tokio::time::timeout(
        Duration::from_secs(5),
        mailer.send(&mail(MailKind::Verify, "a@example.com", "t")),
    )
    .await
    .expect("no hang");
    assert!(matches!(result, Err(MailError::Smtp(_))), "{result:?}");
    assert!(start.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn smtp_mailer_times_out_on_a_silent_server() {
    // Accepts the connection, never greets.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop(stream);
    });
    let mailer = SmtpMailer::builder("127.0.0.1")
        .port(port)
        .tls(SmtpTls::None)
        .from("no-reply@example.com")
        .timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    let start = Instant::now();
    let result = tokio::time::timeout(
        Duration::from_secs(5),
        mailer.send(&mail(MailKind::Verify, "a@example.com", "t")),
    )
    .await
    .expect("no hang");
    assert!(matches!(result, Err(MailError::Smtp(_))), "{result:?}");
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
    server.abort();
}

#[tokio::test]
async fn smtp_mailer_rejects_a_bad_recipient_before_connecting() {
    let mailer = SmtpMailer::builder("127.0.0.1")
        .port(1)
        .tls(SmtpTls::None)
        .from("no-reply@example.com")
        .build()
        .unwrap();
    let err = mailer
        .send(&mail(MailKind::Verify, "not an address", "t"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, MailError::Smtp(ref m) if m.contains("recipient")),
        "{err:?}"
    );
}

// ------------------------------------------------------------------------------------------
// Configuration from variables
// ------------------------------------------------------------------------------------------

fn config_error(result: Result<SmtpMailer, MailError>) -> String {
    match result {
        Err(MailError::Config(message)) => message,
        other => panic!("expected a configuration error, got {other:?}"),
    }
}

#[test]
fn from_vars_requires_a_sender() {
    let message = config_error(SmtpMailer::from_vars(vars(&[(
        "AUTH_SMTP_HOST",
        "smtp.example.com",
    )])));
    assert!(message.contains("AUTH_SMTP_FROM"), "{message}");
    // Empty counts as unset.
    let message = config_error(SmtpMailer::from_vars(vars(&[
        ("AUTH_SMTP_HOST", "smtp.example.com"),
        ("AUTH_SMTP_FROM", ""),
    ])));
    assert!(message.contains("AUTH_SMTP_FROM"), "{message}");
}

#[test]
fn from_vars_rejects_malformed_settings() {
    let base = [
        ("AUTH_SMTP_HOST", "smtp.example.com"),
        ("AUTH_SMTP_FROM", "no-reply@example.com"),
    ];
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut all = base.to_vec();
        all.extend_from_slice(extra);
        SmtpMailer::from_vars(vars(&all))
    };
    assert!(config_error(with(&[("AUTH_SMTP_TLS", "ssl3")])).contains("AUTH_SMTP_TLS"));
    assert!(config_error(with(&[("AUTH_SMTP_PORT", "seventy")])).contains("AUTH_SMTP_PORT"));
    assert!(config_error(with(&[("AUTH_SMTP_PORT", "0")])).contains("AUTH_SMTP_PORT"));
    assert!(config_error(with(&[("AUTH_SMTP_USERNAME", "u")])).contains("AUTH_SMTP_PASSWORD"));
    assert!(config_error(with(&[("AUTH_SMTP_PASSWORD", "p")])).contains("AUTH_SMTP_USERNAME"));
    assert!(config_error(with(&[("AUTH_SMTP_TIMEOUT", "-1")])).contains("AUTH_SMTP_TIMEOUT"));
    let message = config_error(SmtpMailer::from_vars(vars(&[
        ("AUTH_SMTP_HOST", "smtp.example.com"),
        ("AUTH_SMTP_FROM", "not an address"),
    ])));
    assert!(message.contains("sender"), "{message}");
    assert!(config_error(SmtpMailer::from_vars(vars(&[]))).contains("AUTH_SMTP_HOST"));
}

#[test]
fn from_vars_defaults() {
    let mailer = SmtpMailer::from_vars(vars(&[
        ("AUTH_SMTP_HOST", "smtp.example.com"),
        ("AUTH_SMTP_FROM", "no-reply@example.com"),
    ]))
    .unwrap();
    assert_eq!(mailer.host(), "smtp.example.com");
    assert_eq!(mailer.port(), 587);
    assert_eq!(mailer.tls(), SmtpTls::StartTls);
    assert_eq!(mailer.timeout(), Duration::from_secs(10));

    let mailer = SmtpMailer::from_vars(vars(&[
        ("AUTH_SMTP_HOST", "smtp.example.com"),
        ("AUTH_SMTP_FROM", "no-reply@example.com"),
        ("AUTH_SMTP_TLS", "tls"),
        ("AUTH_SMTP_TIMEOUT", "2.5"),
    ]))
    .unwrap();
    assert_eq!((mailer.port(), mailer.tls()), (465, SmtpTls::Tls));
    assert_eq!(mailer.timeout(), Duration::from_millis(2500));

    let mailer = SmtpMailer::from_vars(vars(&[
        ("AUTH_SMTP_HOST", "smtp.example.com"),
        ("AUTH_SMTP_FROM", "no-reply@example.com"),
        ("AUTH_SMTP_TLS", "tls"),
        ("AUTH_SMTP_PORT", "2465"),
    ]))
    .unwrap();
    assert_eq!(mailer.port(), 2465);
}

#[tokio::test]
async fn mailer_from_vars_prefers_the_outbox() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("outbox.jsonl");
    let path_str = path.to_str().unwrap().to_string();
    // AUTH_OUTBOX wins even over a (here misconfigured) SMTP setting.
    let mailer = mailer_from_vars(vars(&[
        ("AUTH_OUTBOX", &path_str),
        ("AUTH_SMTP_HOST", "smtp.example.com"),
    ]))
    .unwrap();
    mailer
        .send(&mail(MailKind::ResetPassword, "a@example.com", "tok"))
        .await
        .unwrap();
    let lines = read_lines(&path);
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["kind"], "reset_password");
    assert_eq!(lines[0]["token"], "tok");
}

#[tokio::test]
async fn mailer_from_vars_smtp_and_log() {
    let err = mailer_from_vars(vars(&[("AUTH_SMTP_HOST", "smtp.example.com")]))
        .err()
        .expect("AUTH_SMTP_FROM missing");
    assert!(matches!(err, MailError::Config(_)), "{err:?}");

    // SMTP, chosen by AUTH_SMTP_HOST, delivering to the test listener.
    let (port, server) = smtp_server().await;
    let port = port.to_string();
    let mailer = mailer_from_vars(vars(&[
        ("AUTH_SMTP_HOST", "127.0.0.1"),
        ("AUTH_SMTP_PORT", &port),
        ("AUTH_SMTP_TLS", "none"),
        ("AUTH_SMTP_FROM", "no-reply@example.com"),
    ]))
    .unwrap();
    mailer
        .send(&mail(MailKind::Verify, "dave@example.com", "tok-d"))
        .await
        .unwrap();
    let session = tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(session.rcpt_to, ["<dave@example.com>"]);

    // Nothing configured (or only empty values): the log mailer, which always succeeds.
    let mailer = mailer_from_vars(vars(&[("AUTH_OUTBOX", ""), ("AUTH_SMTP_HOST", " ")])).unwrap();
    mailer
        .send(&mail(MailKind::Verify, "a@example.com", "t"))
        .await
        .unwrap();
}

#[test]
fn mail_debug_withholds_the_token() {
    let shown = format!(
        "{:?}",
        mail(MailKind::Verify, "a@example.com", "s3cr3t-token")
    );
    assert!(shown.contains("a@example.com"));
    assert!(!shown.contains("s3cr3t-token"));
}
