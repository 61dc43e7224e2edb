//! Sending the verification and reset messages.
//!
//! A [`Mailer`] receives one [`Mail`] per message: what it is for ([`MailKind`]), the recipient
//! and the token the recipient needs. Three mailers come with the crate:
//!
//! - [`FileOutbox`]: appends one JSON object per message to a file, for development and tests;
//! - [`LogMailer`]: logs that a message would have been sent, never with the token at info level;
//! - [`SmtpMailer`]: sends real e-mail over SMTP (STARTTLS, implicit TLS or plain text).
//!
//! [`mailer_from_env`] picks one of them from the environment (`AUTH_OUTBOX`, `AUTH_SMTP_*`).
//!
//! ```
//! use axum_users_runtime::mailer::{mailer_from_vars, Mail, MailKind};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), axum_users_runtime::MailError> {
//! // Nothing configured: the log mailer.
//! let mailer = mailer_from_vars(|_| None)?;
//! let mail = Mail { kind: MailKind::Verify, to: "a@example.com".into(), token: "t0k3n".into() };
//! mailer.send(&mail).await?;
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// What a message is for. Serialises as `"verify"` or `"reset_password"`.
///
/// ```
/// use axum_users_runtime::MailKind;
///
/// assert_eq!(serde_json::to_string(&MailKind::Verify).unwrap(), r#""verify""#);
/// assert_eq!(serde_json::to_string(&MailKind::ResetPassword).unwrap(), r#""reset_password""#);
/// assert_eq!(MailKind::ResetPassword.as_str(), "reset_password");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MailKind {
    /// E-mail verification.
    Verify,
    /// Password reset.
    ResetPassword,
}

impl MailKind {
    /// The serialised name: `"verify"` or `"reset_password"`.
    ///
    /// ```
    /// use axum_users_runtime::MailKind;
    ///
    /// assert_eq!(MailKind::Verify.as_str(), "verify");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            MailKind::Verify => "verify",
            MailKind::ResetPassword => "reset_password",
        }
    }

    /// How log lines name the message: `"verification"` or `"password-reset"`.
    fn describe(self) -> &'static str {
        match self {
            MailKind::Verify => "verification",
            MailKind::ResetPassword => "password-reset",
        }
    }
}

impl fmt::Display for MailKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A message to send. Its `Debug` output withholds the token.
///
/// ```
/// use axum_users_runtime::{Mail, MailKind};
///
/// let mail = Mail { kind: MailKind::ResetPassword, to: "a@example.com".into(), token: "secret".into() };
/// let shown = format!("{mail:?}");
/// assert!(shown.contains("a@example.com"));
/// assert!(!shown.contains("secret"));
/// ```
#[derive(Clone)]
pub struct Mail {
    /// What it is for.
    pub kind: MailKind,
    /// Recipient.
    pub to: String,
    /// The token the recipient needs.
    pub token: String,
}

impl fmt::Debug for Mail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mail")
            .field("kind", &self.kind)
            .field("to", &self.to)
            .field("token", &"<redacted>")
            .finish()
    }
}

/// Why a message was not sent, or a mailer not built.
///
/// ```
/// use axum_users_runtime::{mailer::SmtpMailer, MailError};
///
/// // AUTH_SMTP_FROM is required.
/// let err = SmtpMailer::from_vars(|name| (name == "AUTH_SMTP_HOST").then(|| "localhost".to_string()))
///     .unwrap_err();
/// assert!(matches!(err, MailError::Config(_)));
/// ```
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// Writing failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The SMTP exchange failed (connection, TLS, authentication, refusal, time-out, or a
    /// recipient address that is not one).
    #[error("smtp: {0}")]
    Smtp(String),
    /// The mailer is misconfigured.
    #[error("mailer configuration: {0}")]
    Config(String),
}

/// Sends messages.
///
/// ```
/// use axum_users_runtime::{async_trait, Mail, MailError, Mailer};
///
/// /// Drops every message.
/// struct Nowhere;
///
/// #[async_trait]
/// impl Mailer for Nowhere {
///     async fn send(&self, _mail: &Mail) -> Result<(), MailError> {
///         Ok(())
///     }
/// }
/// ```
#[async_trait]
pub trait Mailer: Send + Sync + 'static {
    /// Sends one message.
    async fn send(&self, mail: &Mail) -> Result<(), MailError>;
}

// ---------------------------------------------------------------------------------------------
// File outbox
// ---------------------------------------------------------------------------------------------

/// Appends one JSON object per message to a file: `{"kind", "to", "token", "created_at"}`, one
/// per line (`created_at` is RFC 3339 UTC, e.g. `"2026-11-28T15:30:00Z"`). For development and
/// tests: it keeps the tokens in clear.
///
/// The file is opened in append mode (created if missing) for each message, and each line is
/// written whole under a lock, so concurrent sends never interleave. The I/O runs on tokio's
/// blocking pool.
///
/// ```
/// use axum_users_runtime::mailer::{FileOutbox, Mail, MailKind, Mailer};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), axum_users_runtime::MailError> {
/// let path = std::env::temp_dir().join(format!("outbox-doc-{}.jsonl", std::process::id()));
/// let outbox = FileOutbox::new(&path);
/// outbox
///     .send(&Mail { kind: MailKind::Verify, to: "a@example.com".into(), token: "t0k3n".into() })
///     .await?;
/// let text = std::fs::read_to_string(&path)?;
/// let line: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
/// assert_eq!(line["kind"], "verify");
/// assert_eq!(line["token"], "t0k3n");
/// # std::fs::remove_file(&path)?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct FileOutbox {
    path: PathBuf,
    lock: Arc<tokio::sync::Mutex<()>>,
}

impl FileOutbox {
    /// An outbox appending to `path`. Nothing is opened until the first message.
    ///
    /// ```
    /// use axum_users_runtime::mailer::FileOutbox;
    ///
    /// let outbox = FileOutbox::new("/tmp/outbox.jsonl");
    /// assert_eq!(outbox.path(), std::path::Path::new("/tmp/outbox.jsonl"));
    /// ```
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            lock: Arc::new(tokio::sync::Mutex::new(())),
        }
    }

    /// The file the outbox appends to.
    ///
    /// ```
    /// use axum_users_runtime::mailer::FileOutbox;
    ///
    /// assert_eq!(FileOutbox::new("out.jsonl").path().to_str(), Some("out.jsonl"));
    /// ```
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[derive(serde::Serialize)]
struct OutboxLine<'a> {
    kind: MailKind,
    to: &'a str,
    token: &'a str,
    created_at: String,
}

#[async_trait]
impl Mailer for FileOutbox {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let record = OutboxLine {
            kind: mail.kind,
            to: &mail.to,
            token: &mail.token,
            created_at: rfc3339_utc(SystemTime::now()),
        };
        let mut line = serde_json::to_vec(&record).map_err(std::io::Error::other)?;
        line.push(b'\n');
        let path = self.path.clone();
        let _guard = self.lock.lock().await;
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            use std::io::Write;
            let mut file = std::fs::OpenOptions::new()
                .append(true)
                .create(true)
                .open(&path)?;
            file.write_all(&line)?;
            file.flush()
        })
        .await
        .map_err(std::io::Error::other)??;
        Ok(())
    }
}

/// `t` as RFC 3339 in UTC with whole seconds: `2026-11-28T15:30:00Z`.
fn rfc3339_utc(t: SystemTime) -> String {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

// ---------------------------------------------------------------------------------------------
// Log mailer
// ---------------------------------------------------------------------------------------------

/// Sends nothing: logs at info level that a message would have gone out, e.g.
/// `verification e-mail for a@example.com (token withheld)`. The token appears only in a
/// separate debug-level event, never at info level or above.
///
/// ```
/// use axum_users_runtime::mailer::{LogMailer, Mail, MailKind, Mailer};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), axum_users_runtime::MailError> {
/// LogMailer
///     .send(&Mail { kind: MailKind::ResetPassword, to: "a@example.com".into(), token: "t".into() })
///     .await?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct LogMailer;

#[async_trait]
impl Mailer for LogMailer {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        tracing::info!(
            kind = mail.kind.as_str(),
            "{} e-mail for {} (token withheld)",
            mail.kind.describe(),
            mail.to
        );
        tracing::debug!(
            kind = mail.kind.as_str(),
            to = %mail.to,
            token = %mail.token,
            "{} token",
            mail.kind.describe()
        );
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// SMTP
// ---------------------------------------------------------------------------------------------

/// How [`SmtpMailer`] protects the connection (`AUTH_SMTP_TLS`).
///
/// ```
/// use axum_users_runtime::mailer::SmtpTls;
///
/// assert_eq!("starttls".parse::<SmtpTls>().unwrap(), SmtpTls::StartTls);
/// assert_eq!("TLS".parse::<SmtpTls>().unwrap(), SmtpTls::Tls);
/// assert_eq!("none".parse::<SmtpTls>().unwrap(), SmtpTls::None);
/// assert!("ssl3".parse::<SmtpTls>().is_err());
/// assert_eq!(SmtpTls::default(), SmtpTls::StartTls);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS, which is required: no credentials or message
    /// are sent if the server cannot upgrade. Default port 587.
    #[default]
    StartTls,
    /// TLS from the first byte ("implicit TLS", SMTPS). Default port 465.
    Tls,
    /// No encryption at all: only for a relay on the same host or a test server. Default port
    /// 587.
    None,
}

impl SmtpTls {
    /// The port used when none is given: 465 for [`SmtpTls::Tls`], 587 otherwise.
    ///
    /// ```
    /// use axum_users_runtime::mailer::SmtpTls;
    ///
    /// assert_eq!(SmtpTls::StartTls.default_port(), 587);
    /// assert_eq!(SmtpTls::Tls.default_port(), 465);
    /// ```
    pub fn default_port(self) -> u16 {
        match self {
            SmtpTls::Tls => 465,
            SmtpTls::StartTls | SmtpTls::None => 587,
        }
    }
}

impl std::str::FromStr for SmtpTls {
    type Err = MailError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "starttls" => Ok(SmtpTls::StartTls),
            "tls" => Ok(SmtpTls::Tls),
            "none" => Ok(SmtpTls::None),
            other => Err(MailError::Config(format!(
                "AUTH_SMTP_TLS must be starttls, tls or none, not {other:?}"
            ))),
        }
    }
}

/// Subject and plain-text body of one kind of message. `{token}` and `{to}` in either are
/// replaced by the token and the recipient's address; `{{` and `}}` stand for `{` and `}`.
///
/// ```
/// use axum_users_runtime::mailer::{Mail, MailKind, MailTemplate};
///
/// let template = MailTemplate::new(
///     "Reset your password",
///     "Open https://app.example.com/reset?token={token} to choose a new password.",
/// );
/// let mail = Mail { kind: MailKind::ResetPassword, to: "a@example.com".into(), token: "abc".into() };
/// let (subject, body) = template.render(&mail);
/// assert_eq!(subject, "Reset your password");
/// assert_eq!(body, "Open https://app.example.com/reset?token=abc to choose a new password.");
/// assert!(MailTemplate::default_for(MailKind::Verify).render(&mail).1.contains("abc"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailTemplate {
    /// The subject line.
    pub subject: String,
    /// The plain-text body.
    pub body: String,
}

impl MailTemplate {
    /// A template from a subject and a body.
    ///
    /// ```
    /// use axum_users_runtime::mailer::MailTemplate;
    ///
    /// let t = MailTemplate::new("Welcome", "Your code: {token}");
    /// assert_eq!(t.subject, "Welcome");
    /// ```
    pub fn new(subject: impl Into<String>, body: impl Into<String>) -> Self {
        Self {
            subject: subject.into(),
            body: body.into(),
        }
    }

    /// The built-in template for `kind`: a short subject and a plain-text body holding the
    /// token.
    ///
    /// ```
    /// use axum_users_runtime::mailer::{MailKind, MailTemplate};
    ///
    /// assert_eq!(MailTemplate::default_for(MailKind::Verify).subject, "Verify your e-mail address");
    /// assert!(MailTemplate::default_for(MailKind::ResetPassword).body.contains("{token}"));
    /// ```
    pub fn default_for(kind: MailKind) -> Self {
        match kind {
            MailKind::Verify => Self::new(
                "Verify your e-mail address",
                "Hello,\n\nYour verification token: {token}\n\n\
                 If you did not create an account, ignore this message.\n",
            ),
            MailKind::ResetPassword => Self::new(
                "Reset your password",
                "Hello,\n\nYour password reset token: {token}\n\n\
                 If you did not ask to reset your password, ignore this message.\n",
            ),
        }
    }

    /// The subject and body for `mail`, placeholders filled in.
    ///
    /// ```
    /// use axum_users_runtime::mailer::{Mail, MailKind, MailTemplate};
    ///
    /// let mail = Mail { kind: MailKind::Verify, to: "a@example.com".into(), token: "abc".into() };
    /// let (subject, body) = MailTemplate::new("For {to}", "{{{token}}}").render(&mail);
    /// assert_eq!(subject, "For a@example.com");
    /// assert_eq!(body, "{abc}");
    /// ```
    pub fn render(&self, mail: &Mail) -> (String, String) {
        (fill(&self.subject, mail), fill(&self.body, mail))
    }
}

/// Replaces `{token}` and `{to}` in one pass (a token containing `{to}` stays as it is);
/// `{{`/`}}` are escapes; anything else is copied.
fn fill(template: &str, mail: &Mail) -> String {
    let mut out = String::with_capacity(template.len() + mail.token.len());
    let mut rest = template;
    while let Some(i) = rest.find(['{', '}']) {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let (replacement, skip) = if rest.starts_with("{{") {
            ("{", 2)
        } else if rest.starts_with("}}") {
            ("}", 2)
        } else if rest.starts_with("{token}") {
            (mail.token.as_str(), "{token}".len())
        } else if rest.starts_with("{to}") {
            (mail.to.as_str(), "{to}".len())
        } else {
            (&rest[..1], 1)
        };
        out.push_str(replacement);
        rest = &rest[skip..];
    }
    out.push_str(rest);
    out
}

const DEFAULT_SMTP_TIMEOUT: Duration = Duration::from_secs(10);

/// Sends the messages as e-mail over SMTP, on lettre's async transport (tokio, rustls with the
/// Mozilla root certificates).
///
/// Each send opens a connection, authenticates if credentials are set (PLAIN or LOGIN),
/// sends one plain-text message and quits; the whole exchange is bounded by the
/// [timeout](SmtpMailerBuilder::timeout) (10 s by default), after which it fails with
/// [`MailError::Smtp`].
///
/// Built from explicit settings with [`SmtpMailer::builder`], or from the environment with
/// [`SmtpMailer::from_env`]. Its `Debug` output never shows the password.
///
/// ```
/// use std::time::Duration;
/// use axum_users_runtime::mailer::{MailKind, MailTemplate, SmtpMailer, SmtpTls};
///
/// let mailer = SmtpMailer::builder("smtp.example.com")
///     .tls(SmtpTls::StartTls)
///     .credentials("apikey", "s3cr3t")
///     .from("Example <no-reply@example.com>")
///     .timeout(Duration::from_secs(5))
///     .template(
///         MailKind::ResetPassword,
///         MailTemplate::new("Reset", "https://app.example.com/reset?token={token}"),
///     )
///     .build()?;
/// assert_eq!(mailer.port(), 587);
/// assert!(!format!("{mailer:?}").contains("s3cr3t"));
/// # Ok::<(), axum_users_runtime::MailError>(())
/// ```
#[derive(Clone)]
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    host: String,
    port: u16,
    tls: SmtpTls,
    username: Option<String>,
    timeout: Duration,
    verify: MailTemplate,
    reset: MailTemplate,
}

impl fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpMailer")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field("from", &self.from.to_string())
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// Settings for an [`SmtpMailer`]; see [`SmtpMailer::builder`].
///
/// ```
/// use axum_users_runtime::mailer::{SmtpMailer, SmtpTls};
///
/// let mailer = SmtpMailer::builder("127.0.0.1")
///     .port(2525)
///     .tls(SmtpTls::None)
///     .from("no-reply@example.com")
///     .build()?;
/// assert_eq!(mailer.port(), 2525);
/// # Ok::<(), axum_users_runtime::MailError>(())
/// ```
#[derive(Clone)]
pub struct SmtpMailerBuilder {
    host: String,
    port: Option<u16>,
    tls: SmtpTls,
    credentials: Option<(String, String)>,
    from: Option<String>,
    timeout: Duration,
    verify: MailTemplate,
    reset: MailTemplate,
}

impl fmt::Debug for SmtpMailerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpMailerBuilder")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("username", &self.credentials.as_ref().map(|(u, _)| u))
            .field("from", &self.from)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl SmtpMailerBuilder {
    /// The port; by default 587, or 465 with [`SmtpTls::Tls`].
    ///
    /// ```
    /// use axum_users_runtime::mailer::SmtpMailer;
    ///
    /// let mailer = SmtpMailer::builder("smtp.example.com").port(2587).from("a@example.com").build()?;
    /// assert_eq!(mailer.port(), 2587);
    /// # Ok::<(), axum_users_runtime::MailError>(())
    /// ```
    pub fn port(mut self, port: u16) -> Self {
        self.port = Some(port);
        self
    }

    /// How the connection is protected; [`SmtpTls::StartTls`] by default.
    ///
    /// ```
    /// use axum_users_runtime::mailer::{SmtpMailer, SmtpTls};
    ///
    /// let mailer = SmtpMailer::builder("smtp.example.com").tls(SmtpTls::Tls).from("a@example.com").build()?;
    /// assert_eq!(mailer.port(), 465);
    /// # Ok::<(), axum_users_runtime::MailError>(())
    /// ```
    pub fn tls(mut self, tls: SmtpTls) -> Self {
        self.tls = tls;
        self
    }

    /// The user name and password to authenticate with (AUTH PLAIN or LOGIN). Without them,
    /// no AUTH is attempted.
    ///
    /// ```
    /// use axum_users_runtime::mailer::SmtpMailer;
    ///
    /// let builder = SmtpMailer::builder("smtp.example.com").credentials("user", "hunter2");
    /// assert!(!format!("{builder:?}").contains("hunter2"));
    /// ```
    pub fn credentials(mut self, username: impl Into<String>, password: impl Into<String>) -> Self {
        self.credentials = Some((username.into(), password.into()));
        self
    }

    /// The sender: an address, or `Name <address>`. Required.
    ///
    /// ```
    /// use axum_users_runtime::mailer::SmtpMailer;
    ///
    /// assert!(SmtpMailer::builder("smtp.example.com").from("Example <no-reply@example.com>").build().is_ok());
    /// assert!(SmtpMailer::builder("smtp.example.com").from("not an address").build().is_err());
    /// ```
    pub fn from(mut self, from: impl Into<String>) -> Self {
        self.from = Some(from.into());
        self
    }

    /// The longest one send may take, connection included; 10 s by default.
    ///
    /// ```
    /// use std::time::Duration;
    /// use axum_users_runtime::mailer::SmtpMailer;
    ///
    /// let mailer = SmtpMailer::builder("smtp.example.com")
    ///     .from("a@example.com")
    ///     .timeout(Duration::from_secs(3))
    ///     .build()?;
    /// assert_eq!(mailer.timeout(), Duration::from_secs(3));
    /// # Ok::<(), axum_users_runtime::MailError>(())
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Replaces the subject and body of one kind of message
    /// (default: [`MailTemplate::default_for`]).
    ///
    /// ```
    /// use axum_users_runtime::mailer::{MailKind, MailTemplate, SmtpMailer};
    ///
    /// let mailer = SmtpMailer::builder("smtp.example.com")
    ///     .from("a@example.com")
    ///     .template(MailKind::Verify, MailTemplate::new("Welcome!", "Confirm with {token}"))
    ///     .build()?;
    /// assert_eq!(mailer.template(MailKind::Verify).subject, "Welcome!");
    /// # Ok::<(), axum_users_runtime::MailError>(())
    /// ```
    pub fn template(mut self, kind: MailKind, template: MailTemplate) -> Self {
        match kind {
            MailKind::Verify => self.verify = template,
            MailKind::ResetPassword => self.reset = template,
        }
        self
    }

    /// The mailer. Fails with [`MailError::Config`] without a valid sender address, with an
    /// empty host, a zero timeout, or when TLS cannot be set up for the host. Connects to
    /// nothing.
    ///
    /// ```
    /// use axum_users_runtime::{mailer::SmtpMailer, MailError};
    ///
    /// let err = SmtpMailer::builder("smtp.example.com").build().unwrap_err();
    /// assert!(matches!(err, MailError::Config(_)));
    /// ```
    pub fn build(self) -> Result<SmtpMailer, MailError> {
        let host = self.host.trim().to_string();
        if host.is_empty() {
            return Err(MailError::Config("the SMTP host is empty".into()));
        }
        let from = self
            .from
            .ok_or_else(|| MailError::Config("no sender address (AUTH_SMTP_FROM)".into()))?;
        let from: Mailbox = from
            .parse()
            .map_err(|err| MailError::Config(format!("invalid sender address {from:?}: {err}")))?;
        if self.timeout.is_zero() {
            return Err(MailError::Config(
                "the SMTP timeout must not be zero".into(),
            ));
        }
        let port = self.port.unwrap_or_else(|| self.tls.default_port());
        let tls = match self.tls {
            SmtpTls::None => Tls::None,
            SmtpTls::StartTls => Tls::Required(tls_parameters(&host)?),
            SmtpTls::Tls => Tls::Wrapper(tls_parameters(&host)?),
        };
        let mut transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host.clone())
            .port(port)
            .tls(tls)
            .timeout(Some(self.timeout));
        let username = match self.credentials {
            Some((username, password)) => {
                transport = transport.credentials(Credentials::new(username.clone(), password));
                Some(username)
            }
            None => None,
        };
        Ok(SmtpMailer {
            transport: transport.build(),
            from,
            host,
            port,
            tls: self.tls,
            username,
            timeout: self.timeout,
            verify: self.verify,
            reset: self.reset,
        })
    }
}

fn tls_parameters(host: &str) -> Result<TlsParameters, MailError> {
    TlsParameters::new(host.to_string())
        .map_err(|err| MailError::Config(format!("TLS for {host:?}: {err}")))
}

impl SmtpMailer {
    /// Starts the settings for an SMTP server at `host`.
    ///
    /// ```
    /// use axum_users_runtime::mailer::SmtpMailer;
    ///
    /// let mailer = SmtpMailer::builder("smtp.example.com").from("no-reply@example.com").build()?;
    /// assert_eq!(mailer.host(), "smtp.example.com");
    /// # Ok::<(), axum_users_runtime::MailError>(())
    /// ```
    pub fn builder(host: impl Into<String>) -> SmtpMailerBuilder {
        SmtpMailerBuilder {
            host: host.into(),
            port: None,
            tls: SmtpTls::default(),
            credentials: None,
            from: None,
            timeout: DEFAULT_SMTP_TIMEOUT,
            verify: MailTemplate::default_for(MailKind::Verify),
            reset: MailTemplate::default_for(MailKind::ResetPassword),
        }
    }

    /// The mailer configured by the process environment; see [`SmtpMailer::from_vars`].
    ///
    /// ```no_run
    /// use axum_users_runtime::mailer::SmtpMailer;
    ///
    /// // AUTH_SMTP_HOST=smtp.example.com AUTH_SMTP_FROM=no-reply@example.com ...
    /// let mailer = SmtpMailer::from_env()?;
    /// # Ok::<(), axum_users_runtime::MailError>(())
    /// ```
    pub fn from_env() -> Result<Self, MailError> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// The mailer configured by the variables that `var` returns (an empty value counts as
    /// unset):
    ///
    /// | variable | meaning |
    /// | --- | --- |
    /// | `AUTH_SMTP_HOST` | server host name (required) |
    /// | `AUTH_SMTP_PORT` | port (default 587; 465 with `AUTH_SMTP_TLS=tls`) |
    /// | `AUTH_SMTP_USERNAME`, `AUTH_SMTP_PASSWORD` | credentials, both or neither |
    /// | `AUTH_SMTP_FROM` | sender, `address` or `Name <address>` (required) |
    /// | `AUTH_SMTP_TLS` | `starttls` (default), `tls` or `none` |
    /// | `AUTH_SMTP_TIMEOUT` | seconds one send may take (default 10) |
    ///
    /// Anything missing or malformed is a [`MailError::Config`] naming the variable.
    ///
    /// ```
    /// use std::collections::HashMap;
    /// use axum_users_runtime::mailer::{SmtpMailer, SmtpTls};
    ///
    /// let vars = HashMap::from([
    ///     ("AUTH_SMTP_HOST", "smtp.example.com"),
    ///     ("AUTH_SMTP_FROM", "no-reply@example.com"),
    ///     ("AUTH_SMTP_TLS", "tls"),
    /// ]);
    /// let mailer = SmtpMailer::from_vars(|name| vars.get(name).map(|v| v.to_string()))?;
    /// assert_eq!((mailer.port(), mailer.tls()), (465, SmtpTls::Tls));
    /// # Ok::<(), axum_users_runtime::MailError>(())
    /// ```
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, MailError> {
        let get = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        let host = get("AUTH_SMTP_HOST")
            .ok_or_else(|| MailError::Config("AUTH_SMTP_HOST is not set".into()))?;
        let from = get("AUTH_SMTP_FROM")
            .ok_or_else(|| MailError::Config("AUTH_SMTP_FROM is not set".into()))?;
        let mut builder = Self::builder(host).from(from);
        if let Some(tls) = get("AUTH_SMTP_TLS") {
            builder = builder.tls(tls.parse()?);
        }
        if let Some(port) = get("AUTH_SMTP_PORT") {
            let port = port
                .trim()
                .parse::<u16>()
                .ok()
                .filter(|p| *p != 0)
                .ok_or_else(|| {
                    MailError::Config(format!("AUTH_SMTP_PORT is not a port number: {port:?}"))
                })?;
            builder = builder.port(port);
        }
        match (get("AUTH_SMTP_USERNAME"), get("AUTH_SMTP_PASSWORD")) {
            (Some(username), Some(password)) => builder = builder.credentials(username, password),
            (None, None) => {}
            (Some(_), None) => {
                return Err(MailError::Config(
                    "AUTH_SMTP_USERNAME is set but AUTH_SMTP_PASSWORD is not".into(),
                ))
            }
            (None, Some(_)) => {
                return Err(MailError::Config(
                    "AUTH_SMTP_PASSWORD is set but AUTH_SMTP_USERNAME is not".into(),
                ))
            }
        }
        if let Some(timeout) = get("AUTH_SMTP_TIMEOUT") {
            let secs = timeout
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|s| s.is_finite() && *s > 0.0 && *s <= 3600.0)
                .ok_or_else(|| {
                    MailError::Config(format!(
                        "AUTH_SMTP_TIMEOUT must be a number of seconds (0 < s <= 3600), not {timeout:?}"
                    ))
                })?;
            builder = builder.timeout(Duration::from_secs_f64(secs));
        }
        builder.build()
    }

    /// The server's host name.
    ///
    /// ```
    /// # use axum_users_runtime::mailer::SmtpMailer;
    /// let mailer = SmtpMailer::builder("mx.example.com").from("a@example.com").build()?;
    /// assert_eq!(mailer.host(), "mx.example.com");
    /// # Ok::<(), axum_users_runtime::MailError>(())
    /// ```
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The server's port.
    ///
    /// ```
    /// # use axum_users_runtime::mailer::SmtpMailer;
    /// let mailer = SmtpMailer::builder("mx.example.com").from("a@example.com").build()?;
    /// assert_eq!(mailer.port(), 587);
    /// # Ok::<(), axum_users_runtime::MailError>(())
    /// ```
    pub fn port(&self) -> u16 {
        self.port
    }

    /// How the connection is protected.
    ///
    /// ```
    /// # use axum_users_runtime::mailer::{SmtpMailer, SmtpTls};
    /// let mailer = SmtpMailer::builder("mx.example.com").from("a@example.com").build()?;
    /// assert_eq!(mailer.tls(), SmtpTls::StartTls);
    /// # Ok::<(), axum_users_runtime::MailError>(())
    /// ```
    pub fn tls(&self) -> SmtpTls {
        self.tls
    }

    /// The longest one send may take.
    ///
    /// ```
    /// # use axum_users_runtime::mailer::SmtpMailer;
    /// let mailer = SmtpMailer::builder("mx.example.com").from("a@example.com").build()?;
    /// assert_eq!(mailer.timeout(), std::time::Duration::from_secs(10));
    /// # Ok::<(), axum_users_runtime::MailError>(())
    /// ```
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The template used for `kind`.
    ///
    /// ```
    /// # use axum_users_runtime::mailer::{MailKind, MailTemplate, SmtpMailer};
    /// let mailer = SmtpMailer::builder("mx.example.com").from("a@example.com").build()?;
    /// assert_eq!(mailer.template(MailKind::Verify), &MailTemplate::default_for(MailKind::Verify));
    /// # Ok::<(), axum_users_runtime::MailError>(())
    /// ```
    pub fn template(&self, kind: MailKind) -> &MailTemplate {
        match kind {
            MailKind::Verify => &self.verify,
            MailKind::ResetPassword => &self.reset,
        }
    }

    fn message(&self, mail: &Mail) -> Result<Message, MailError> {
        let to: Mailbox = mail
            .to
            .parse()
            .map_err(|err| MailError::Smtp(format!("invalid recipient address: {err}")))?;
        let (subject, body) = self.template(mail.kind).render(mail);
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|err| MailError::Smtp(format!("cannot build the message: {err}")))
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let message = self.message(mail)?;
        match tokio::time::timeout(self.timeout, self.transport.send(message)).await {
            Ok(Ok(_response)) => {
                tracing::info!(
                    kind = mail.kind.as_str(),
                    "{} e-mail sent to {}",
                    mail.kind.describe(),
                    mail.to
                );
                Ok(())
            }
            Ok(Err(err)) => Err(MailError::Smtp(format!(
                "{}:{}: {err}",
                self.host, self.port
            ))),
            Err(_elapsed) => Err(MailError::Smtp(format!(
                "{}:{}: no answer within {:?}",
                self.host, self.port, self.timeout
            ))),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Choosing from the environment
// ---------------------------------------------------------------------------------------------

/// The mailer the process environment asks for; see [`mailer_from_vars`].
///
/// ```no_run
/// use axum_users_runtime::mailer::mailer_from_env;
///
/// let mailer = mailer_from_env()?; // give it to AuthState::builder(..).shared_mailer(mailer)
/// # Ok::<(), axum_users_runtime::MailError>(())
/// ```
pub fn mailer_from_env() -> Result<Arc<dyn Mailer>, MailError> {
    mailer_from_vars(|name| std::env::var(name).ok())
}

/// The mailer the variables that `var` returns ask for (an empty value counts as unset):
/// a [`FileOutbox`] on the file named by `AUTH_OUTBOX` if it is set; otherwise an
/// [`SmtpMailer`] from the `AUTH_SMTP_*` variables if `AUTH_SMTP_HOST` is set (see
/// [`SmtpMailer::from_vars`]; misconfiguration is an error); otherwise the [`LogMailer`].
///
/// ```
/// use std::collections::HashMap;
/// use axum_users_runtime::{mailer::mailer_from_vars, MailError};
///
/// let vars = HashMap::from([("AUTH_SMTP_HOST", "smtp.example.com")]); // no AUTH_SMTP_FROM
/// let err = mailer_from_vars(|name| vars.get(name).map(|v| v.to_string())).err().unwrap();
/// assert!(matches!(err, MailError::Config(_)));
/// assert!(mailer_from_vars(|_| None).is_ok()); // the log mailer
/// ```
pub fn mailer_from_vars(
    var: impl Fn(&str) -> Option<String>,
) -> Result<Arc<dyn Mailer>, MailError> {
    let get = |name: &str| var(name).filter(|v| !v.trim().is_empty());
    if let Some(path) = get("AUTH_OUTBOX") {
        tracing::info!("mailer: appending messages to the outbox file {path}");
        return Ok(Arc::new(FileOutbox::new(path)));
    }
    if get("AUTH_SMTP_HOST").is_some() {
        let mailer = SmtpMailer::from_vars(&var)?;
        tracing::info!(
            "mailer: SMTP via {}:{} ({:?})",
            mailer.host(),
            mailer.port(),
            mailer.tls()
        );
        return Ok(Arc::new(mailer));
    }
    tracing::info!("mailer: none configured (AUTH_OUTBOX, AUTH_SMTP_HOST); logging messages");
    Ok(Arc::new(LogMailer))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_dates() {
        let at = |secs: u64| rfc3339_utc(UNIX_EPOCH + Duration::from_secs(secs));
        assert_eq!(at(0), "1970-01-01T00:00:00Z");
        assert_eq!(at(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(at(1_795_879_800), "2026-11-28T15:30:00Z");
        assert_eq!(at(4_107_542_399), "2100-02-28T23:59:59Z");
        assert_eq!(at(4_107_542_400), "2100-03-01T00:00:00Z");
    }

    #[test]
    fn fill_is_one_pass() {
        let mail = Mail {
            kind: MailKind::Verify,
            to: "a@b.c".into(),
            token: "{to}".into(),
        };
        assert_eq!(
            fill("{token}|{to}|{x}|{{|}}|}", &mail),
            "{to}|a@b.c|{x}|{|}|}"
        );
    }
}
