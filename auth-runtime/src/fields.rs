//! Custom user fields: the application's own columns in the `user` table.

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::error::{ApiError, ValidationIssue};

/// The type of a custom field, and so of its column (example: [`Field`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// A JSON string; `TEXT` in SQLite.
    Text,
    /// A JSON integer; `BIGINT`.
    Integer,
    /// A JSON number; `DOUBLE PRECISION` / `REAL`.
    Float,
    /// A JSON boolean; `BOOLEAN`.
    Boolean,
}

/// One custom field.
///
/// ```
/// use axum_users_runtime::{Field, FieldKind};
///
/// const FIELDS: &[Field] = &[
///     Field::optional("display_name", FieldKind::Text),
///     Field::required("age", FieldKind::Integer),
/// ];
/// assert!(FIELDS[0].nullable && !FIELDS[1].nullable);
/// assert_eq!(FIELDS[1].kind, FieldKind::Integer);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    /// Column and JSON key; ASCII letters, digits and `_`, not starting with a digit.
    pub name: &'static str,
    /// Type.
    pub kind: FieldKind,
    /// Whether it may be `null` (and be left out at registration).
    pub nullable: bool,
}

impl Field {
    /// A nullable field, optional at registration. Example: see [`Field`].
    pub const fn optional(name: &'static str, kind: FieldKind) -> Self {
        Field {
            name,
            kind,
            nullable: true,
        }
    }

    /// A non-null field, required at registration. Example: see [`Field`].
    pub const fn required(name: &'static str, kind: FieldKind) -> Self {
        Field {
            name,
            kind,
            nullable: false,
        }
    }

    pub(crate) fn is_valid_name(name: &str) -> bool {
        const RESERVED: [&str; 6] = [
            "id",
            "email",
            "hashed_password",
            "is_active",
            "is_superuser",
            "is_verified",
        ];
        !name.is_empty()
            && !name.starts_with(|c: char| c.is_ascii_digit())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !RESERVED.contains(&name)
            && name != "password"
    }
}

/// The application's custom fields, as a serde type: the user JSON, registration and `PATCH`
/// accept and return them, and the stores keep them in extra columns of the `user` table.
///
/// ```
/// use axum_users_runtime::{Field, FieldKind, UserFields};
///
/// #[derive(serde::Serialize, serde::Deserialize)]
/// struct Profile {
///     display_name: Option<String>,
/// }
///
/// impl UserFields for Profile {
///     const FIELDS: &'static [Field] = &[Field::optional("display_name", FieldKind::Text)];
/// }
/// ```
///
/// Give it to the state with `AuthStateBuilder::user_fields::<Profile>()` and to the SQL store
/// with `SqliteStore::with_fields(Profile::FIELDS)` (which adds missing columns); read it from a
/// user with [`User::fields_as`](crate::User::fields_as).
pub trait UserFields: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The fields, one column each.
    const FIELDS: &'static [Field];
}

/// What the state knows of the custom fields: their list and a check by the application's type.
#[derive(Clone, Copy)]
pub(crate) struct FieldSchema {
    pub fields: &'static [Field],
    pub check: fn(&Map<String, Value>) -> Result<(), String>,
}

impl FieldSchema {
    pub const NONE: FieldSchema = FieldSchema {
        fields: &[],
        check: |_| Ok(()),
    };

    pub fn of<F: UserFields>() -> FieldSchema {
        FieldSchema {
            fields: F::FIELDS,
            check: |map| {
                serde_json::from_value::<F>(Value::Object(map.clone()))
                    .map(drop)
                    .map_err(|e| e.to_string())
            },
        }
    }

    /// Reads the custom fields of a JSON body. `complete`: registration (missing nullable
    /// fields become `null`, missing required ones are 422); otherwise an update (only the
    /// fields sent).
    pub fn read(
        &self,
        body: &Map<String, Value>,
        complete: bool,
        issues: &mut Vec<ValidationIssue>,
    ) -> Map<String, Value> {
        let mut out = Map::new();
        for field in self.fields {
            let loc = vec![json!("body"), json!(field.name)];
            let issue = |kind: &'static str, msg: &str, input: &Value| ValidationIssue {
                kind,
                loc: loc.clone(),
                msg: msg.into(),
                input: input.clone(),
                ctx: None,
            };
            let value = match body.get(field.name) {
                None if complete && field.nullable => Value::Null,
                None if complete => {
                    issues.push(ValidationIssue {
                        input: Value::Object(body.clone()),
                        ..ValidationIssue::missing(field.name)
                    });
                    continue;
                }
                None => continue,
                Some(Value::Null) if field.nullable => Value::Null,
                Some(value) => match (field.kind, value) {
                    (FieldKind::Text, Value::String(_)) => value.clone(),
                    (FieldKind::Text, _) => {
                        issues.push(issue(
                            "string_type",
                            "Input should be a valid string",
                            value,
                        ));
                        continue;
                    }
                    (FieldKind::Integer, Value::Number(n)) if n.is_i64() => value.clone(),
                    (FieldKind::Integer, _) => {
                        issues.push(issue("int_type", "Input should be a valid integer", value));
                        continue;
                    }
                    (FieldKind::Float, Value::Number(_)) => value.clone(),
                    (FieldKind::Float, _) => {
                        issues.push(issue("float_type", "Input should be a valid number", value));
                        continue;
                    }
                    (FieldKind::Boolean, Value::Bool(_)) => value.clone(),
                    (FieldKind::Boolean, _) => {
                        issues.push(issue("bool_type", "Input should be a valid boolean", value));
                        continue;
                    }
                },
            };
            out.insert(field.name.to_owned(), value);
        }
        out
    }

    /// Checks the complete set of fields (stored values merged with `update`) with the
    /// application's type.
    pub fn check_with_type(
        &self,
        stored: &Map<String, Value>,
        update: &Map<String, Value>,
    ) -> Result<(), ApiError> {
        if self.fields.is_empty() {
            return Ok(());
        }
        let mut merged = stored.clone();
        merged.extend(update.clone());
        (self.check)(&merged).map_err(|msg| {
            ApiError::Validation(vec![ValidationIssue {
                kind: "value_error",
                loc: vec![json!("body")],
                msg: format!("Value error, {msg}"),
                input: Value::Object(update.clone()),
                ctx: Some(json!({ "error": msg })),
            }])
        })
    }
}
