//! The user record.

use serde::de::DeserializeOwned;
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};
use uuid::Uuid;

/// A stored user, as in fastapi-users' `user` table.
///
/// Serialises to fastapi-users' user JSON: the password hash is never written out.
///
/// ```
/// use axum_users_runtime::User;
///
/// let user = User::new("King.Arthur@camelot.bt", "$argon2id$...");
/// let json = serde_json::to_value(&user).unwrap();
/// assert_eq!(json["email"], "King.Arthur@camelot.bt");
/// assert_eq!(json["is_active"], true);
/// assert!(json.get("hashed_password").is_none());
/// ```
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct User {
    /// Primary key, serialised as a lowercase hyphenated UUID.
    #[serde(serialize_with = "hyphenated")]
    pub id: Uuid,
    /// E-mail address (domain lower-cased, local part as typed).
    pub email: String,
    /// PHC string (argon2id) or a legacy bcrypt hash.
    #[serde(skip)]
    pub hashed_password: String,
    /// Inactive users cannot log in and are rejected by every guard.
    pub is_active: bool,
    /// Superusers pass `#[protected(superuser)]`.
    pub is_superuser: bool,
    /// Verified users pass `#[protected(verified)]`.
    pub is_verified: bool,
    /// The application's custom fields ([`UserFields`](crate::UserFields)), serialised beside
    /// the others.
    #[serde(flatten)]
    pub fields: Map<String, Value>,
}

impl User {
    /// A new active, unverified, non-superuser user with a random id.
    ///
    /// ```
    /// use axum_users_runtime::User;
    ///
    /// let user = User::new("ada@example.com", "$argon2id$...");
    /// assert!(user.is_active && !user.is_verified && !user.is_superuser);
    /// assert_ne!(user.id, User::new("ada@example.com", "$argon2id$...").id);
    /// ```
    pub fn new(email: impl Into<String>, hashed_password: impl Into<String>) -> Self {
        User {
            id: Uuid::new_v4(),
            email: email.into(),
            hashed_password: hashed_password.into(),
            is_active: true,
            is_superuser: false,
            is_verified: false,
            fields: Map::new(),
        }
    }

    /// The custom fields as the application's type.
    ///
    /// ```
    /// use axum_users_runtime::User;
    ///
    /// #[derive(serde::Deserialize)]
    /// struct Profile { display_name: Option<String> }
    ///
    /// let mut user = User::new("a@example.com", "hash");
    /// user.fields.insert("display_name".into(), "Arthur".into());
    /// let profile: Profile = user.fields_as().unwrap();
    /// assert_eq!(profile.display_name.as_deref(), Some("Arthur"));
    /// ```
    pub fn fields_as<F: DeserializeOwned>(&self) -> Result<F, serde_json::Error> {
        serde_json::from_value(Value::Object(self.fields.clone()))
    }
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("hashed_password", &"<redacted>")
            .field("is_active", &self.is_active)
            .field("is_superuser", &self.is_superuser)
            .field("is_verified", &self.is_verified)
            .field("fields", &self.fields)
            .finish()
    }
}

fn hyphenated<S: Serializer>(id: &Uuid, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&id.hyphenated())
}
