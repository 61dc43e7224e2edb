//! Sending the verification and reset messages.
//! (Minimal version: the file outbox, log and SMTP mailers are being added alongside.)

use async_trait::async_trait;

/// What a message is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MailKind {
    /// E-mail verification.
    Verify,
    /// Password reset.
    ResetPassword,
}

/// A message to send.
#[derive(Clone)]
pub struct Mail {
    /// What it is for.
    pub kind: MailKind,
    /// Recipient.
    pub to: String,
    /// The token the recipient needs.
    pub token: String,
}

impl std::fmt::Debug for Mail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mail")
            .field("kind", &self.kind)
            .field("to", &self.to)
            .field("token", &"<redacted>")
            .finish()
    }
}

/// Why a message was not sent.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// Writing failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The SMTP exchange failed.
    #[error("smtp: {0}")]
    Smtp(String),
    /// The mailer is misconfigured.
    #[error("mailer configuration: {0}")]
    Config(String),
}

/// Sends messages.
#[async_trait]
pub trait Mailer: Send + Sync + 'static {
    /// Sends one message.
    async fn send(&self, mail: &Mail) -> Result<(), MailError>;
}
