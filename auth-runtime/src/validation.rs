//! Request bodies, checked the way FastAPI checks them, with FastAPI-shaped 422 answers.
//!
//! ```
//! use axum::http::HeaderMap;
//! use axum_users_runtime::{validation::email_body, ApiError};
//!
//! let err = email_body(&HeaderMap::new(), br#"{"mail": "x"}"#).unwrap_err();
//! assert_eq!(err.status(), 422);
//! assert_eq!(err.body()["detail"][0]["type"], "missing");
//! ```

use axum::body::Bytes;
use axum::http::{header, HeaderMap};
use serde_json::{json, Map, Value};

use crate::error::{ApiError, ValidationIssue};

/// Why an e-mail address was refused (email-validator's wording).
///
/// [`normalize_email`] returns it; [`at`](Self::at) makes it a 422 entry:
///
/// ```
/// use axum_users_runtime::validation::normalize_email;
///
/// let issue = normalize_email("no-at-sign").unwrap_err();
/// let entry = issue.at(&["body", "email"], "no-at-sign");
/// assert_eq!(entry.kind, "value_error");
/// assert!(entry.msg.starts_with("value is not a valid email address"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailIssue(pub String);

impl EmailIssue {
    /// As a 422 entry at `loc`. Example: see [`EmailIssue`].
    pub fn at(&self, loc: &[&str], input: &str) -> ValidationIssue {
        ValidationIssue {
            kind: "value_error",
            loc: loc.iter().map(|s| json!(s)).collect(),
            msg: format!("value is not a valid email address: {}", self.0),
            input: json!(input),
            ctx: Some(json!({ "reason": self.0 })),
        }
    }
}

fn email_issue(reason: &str) -> EmailIssue {
    EmailIssue(reason.to_owned())
}

const LOCAL_SPECIALS: &str = "!#$%&'*+-/=?^_`{|}~.";

/// Checks the syntax of an e-mail address and returns it with the domain lower-cased (the
/// local part is kept as typed).
///
/// ```
/// use axum_users_runtime::validation::normalize_email;
/// assert_eq!(normalize_email("King.Arthur@Camelot.BT").unwrap(), "King.Arthur@camelot.bt");
/// assert!(normalize_email("no-at-sign").is_err());
/// assert!(normalize_email("a@localhost").is_err());
/// ```
pub fn normalize_email(email: &str) -> Result<String, EmailIssue> {
    let Some((local, domain)) = email.rsplit_once('@') else {
        return Err(email_issue("An email address must have an @-sign."));
    };
    if local.is_empty() {
        return Err(email_issue("There must be something before the @-sign."));
    }
    if domain.is_empty() {
        return Err(email_issue("There must be something after the @-sign."));
    }
    if local.chars().count() > 64 {
        return Err(email_issue(
            "The email address is too long before the @-sign.",
        ));
    }
    if email.chars().count() > 254 {
        return Err(email_issue("The email address is too long."));
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return Err(email_issue(
            "The email address contains invalid periods before the @-sign.",
        ));
    }
    if let Some(bad) = local
        .chars()
        .find(|c| !(c.is_alphanumeric() || LOCAL_SPECIALS.contains(*c)))
    {
        return Err(EmailIssue(format!(
            "The email address contains invalid characters before the @-sign: '{bad}'."
        )));
    }
    let domain = domain.to_lowercase();
    if !domain.contains('.') {
        return Err(email_issue(
            "The part after the @-sign is not valid. It should have a period.",
        ));
    }
    for label in domain.split('.') {
        if label.is_empty() {
            return Err(email_issue(
                "An email address cannot have two periods in a row, or a period at the start or end of the domain.",
            ));
        }
        if label.chars().count() > 63 {
            return Err(email_issue(
                "After the @-sign, periods cannot be separated by so many characters.",
            ));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(email_issue(
                "An email address cannot have a hyphen immediately before or after a period in the domain.",
            ));
        }
        if let Some(bad) = label.chars().find(|c| !(c.is_alphanumeric() || *c == '-')) {
            return Err(EmailIssue(format!(
                "The part after the @-sign contains invalid characters: '{bad}'."
            )));
        }
    }
    if domain
        .rsplit('.')
        .next()
        .is_some_and(|tld| tld.chars().all(|c| c.is_ascii_digit()))
    {
        return Err(email_issue(
            "The part after the @-sign is not valid. It is not within a valid top-level domain.",
        ));
    }
    Ok(format!("{local}@{domain}"))
}

fn content_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

/// The OAuth2 password form of the login routes (example: [`LoginForm::parse`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginForm {
    /// The e-mail.
    pub username: String,
    /// The clear-text password.
    pub password: String,
}

impl LoginForm {
    /// Parses `application/x-www-form-urlencoded` or `multipart/form-data` (what a browser's
    /// `FormData` sends); any other content type reads as an empty form, as in FastAPI. Empty
    /// fields count as missing; `grant_type`, if sent, must be `password`.
    ///
    /// ```
    /// use axum::{body::Bytes, http::{header, HeaderMap}};
    /// use axum_users_runtime::validation::LoginForm;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let mut headers = HeaderMap::new();
    /// headers.insert(header::CONTENT_TYPE, "application/x-www-form-urlencoded".parse().unwrap());
    /// let body = Bytes::from_static(b"username=ada%40example.com&password=secret");
    /// let form = LoginForm::parse(&headers, body).await.unwrap();
    /// assert_eq!((form.username.as_str(), form.password.as_str()), ("ada@example.com", "secret"));
    /// # }
    /// ```
    pub async fn parse(headers: &HeaderMap, body: Bytes) -> Result<Self, ApiError> {
        let pairs: Vec<(String, String)> = match content_type(headers).as_str() {
            "application/x-www-form-urlencoded" => {
                form_urlencoded::parse(&body).into_owned().collect()
            }
            "multipart/form-data" => multipart_fields(headers, body).await,
            _ => Vec::new(),
        };
        // Starlette keeps the last value of a repeated field; empty fields are missing.
        let field = |name: &str| {
            pairs
                .iter()
                .rev()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
                .filter(|v| !v.is_empty())
        };
        let mut issues = Vec::new();
        if let Some(grant_type) = field("grant_type") {
            if grant_type != "password" {
                issues.push(ValidationIssue {
                    kind: "string_pattern_mismatch",
                    loc: vec![json!("body"), json!("grant_type")],
                    msg: "String should match pattern '^password$'".into(),
                    input: json!(grant_type),
                    ctx: Some(json!({ "pattern": "^password$" })),
                });
            }
        }
        let username = field("username");
        let password = field("password");
        if username.is_none() {
            issues.push(ValidationIssue::missing("username"));
        }
        if password.is_none() {
            issues.push(ValidationIssue::missing("password"));
        }
        match (username, password) {
            (Some(username), Some(password)) if issues.is_empty() => {
                Ok(LoginForm { username, password })
            }
            _ => Err(ApiError::Validation(issues)),
        }
    }
}

/// The text fields of a multipart body (files and malformed parts are skipped, so they read as
/// missing fields).
async fn multipart_fields(headers: &HeaderMap, body: Bytes) -> Vec<(String, String)> {
    let Some(boundary) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| multer::parse_boundary(v).ok())
    else {
        return Vec::new();
    };
    let stream = futures_util::stream::once(async move { Ok::<_, std::convert::Infallible>(body) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    let mut fields = Vec::new();
    while let Ok(Some(field)) = multipart.next_field().await {
        let (Some(name), None) = (field.name().map(str::to_owned), field.file_name()) else {
            continue;
        };
        // UTF-8 as Starlette decodes it: a leading byte-order mark is part of the value (multer's
        // `text()` would drop it, so the same password would not match through a urlencoded form).
        match field.bytes().await {
            Ok(bytes) => fields.push((name, String::from_utf8_lossy(&bytes).into_owned())),
            Err(_) => break,
        }
    }
    fields
}

/// A JSON object body, or the 422 FastAPI gives for anything else.
///
/// ```
/// use axum::http::{header, HeaderMap};
/// use axum_users_runtime::validation::json_object;
///
/// let mut headers = HeaderMap::new();
/// headers.insert(header::CONTENT_TYPE, "application/json".parse().unwrap());
/// assert_eq!(json_object(&headers, br#"{"a": 1}"#).unwrap()["a"], 1);
/// assert!(json_object(&headers, b"[1, 2]").is_err()); // 422: not an object
/// assert!(json_object(&headers, b"").is_err()); // 422: body missing
/// ```
pub fn json_object(headers: &HeaderMap, body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    let ct = content_type(headers);
    let is_json = ct.is_empty() || ct == "application/json" || ct.ends_with("+json");
    if body.is_empty() {
        return Err(ApiError::Validation(vec![ValidationIssue {
            kind: "missing",
            loc: vec![json!("body")],
            msg: "Field required".into(),
            input: Value::Null,
            ctx: None,
        }]));
    }
    let not_object = |input: Value| {
        ApiError::Validation(vec![ValidationIssue {
            kind: "model_attributes_type",
            loc: vec![json!("body")],
            msg: "Input should be a valid dictionary or object to extract fields from".into(),
            input,
            ctx: None,
        }])
    };
    if !is_json {
        return Err(not_object(json!(String::from_utf8_lossy(body))));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(not_object(other)),
        Err(err) => Err(ApiError::Validation(vec![ValidationIssue {
            kind: "json_invalid",
            loc: vec![json!("body"), json!(byte_offset(body, &err))],
            msg: "JSON decode error".into(),
            input: json!({}),
            ctx: Some(json!({ "error": err.to_string() })),
        }])),
    }
}

/// The position Python's decoder reports: the end of the input for a truncated document, else
/// the offending character.
fn byte_offset(body: &[u8], err: &serde_json::Error) -> usize {
    if err.classify() == serde_json::error::Category::Eof {
        return String::from_utf8_lossy(body).chars().count();
    }
    let (line, column) = (err.line(), err.column());
    let mut offset = 0;
    for (i, text) in body.split(|b| *b == b'\n').enumerate() {
        if i + 1 == line {
            return offset + column.saturating_sub(1).min(text.len());
        }
        offset += text.len() + 1;
    }
    body.len()
}

/// pydantic's `string_type` issue for `body.<name>`.
fn not_a_string(name: &str, input: &Value) -> ValidationIssue {
    ValidationIssue {
        kind: "string_type",
        loc: vec![json!("body"), json!(name)],
        msg: "Input should be a valid string".into(),
        input: input.clone(),
        ctx: None,
    }
}

/// Normalises the e-mail `raw` read from `body.<name>`, recording the issue when it is invalid.
fn email_at(raw: &str, name: &str, issues: &mut Vec<ValidationIssue>) -> Option<String> {
    normalize_email(raw)
        .map_err(|issue| issues.push(issue.at(&["body", name], raw)))
        .ok()
}

/// Reads a required string field of a JSON body, recording a FastAPI issue when it is missing
/// or not a string.
///
/// ```
/// use axum_users_runtime::validation::required_string;
///
/// let map = serde_json::json!({"name": "Ada", "age": 36}).as_object().unwrap().clone();
/// let mut issues = Vec::new();
/// assert_eq!(required_string(&map, "name", &mut issues).as_deref(), Some("Ada"));
/// assert_eq!(required_string(&map, "age", &mut issues), None); // not a string
/// assert_eq!(required_string(&map, "city", &mut issues), None); // missing
/// assert_eq!(issues.len(), 2);
/// ```
pub fn required_string(
    map: &Map<String, Value>,
    name: &str,
    issues: &mut Vec<ValidationIssue>,
) -> Option<String> {
    if !map.contains_key(name) {
        // pydantic reports the model object the field is missing from.
        issues.push(ValidationIssue {
            input: Value::Object(map.clone()),
            ..ValidationIssue::missing(name)
        });
        return None;
    }
    embedded_string(map, name, issues)
}

/// Like [`required_string`] for FastAPI's `Body(..., embed=True)` parameters (the e-mail of
/// forgot-password, the tokens of reset and verify), whose `missing` entries carry
/// `"input": null`.
fn embedded_string(
    map: &Map<String, Value>,
    name: &str,
    issues: &mut Vec<ValidationIssue>,
) -> Option<String> {
    match map.get(name) {
        None => {
            issues.push(ValidationIssue::missing(name));
            None
        }
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => {
            issues.push(not_a_string(name, other));
            None
        }
    }
}

/// Checks an optional boolean field as pydantic's lax mode does (flags sent to registration are
/// type-checked, then ignored).
///
/// ```
/// use axum_users_runtime::validation::optional_bool;
///
/// let map = serde_json::json!({"a": "yes", "b": 0, "c": "maybe"}).as_object().unwrap().clone();
/// let mut issues = Vec::new();
/// assert_eq!(optional_bool(&map, "a", &mut issues), Some(true));
/// assert_eq!(optional_bool(&map, "b", &mut issues), Some(false));
/// assert_eq!(optional_bool(&map, "absent", &mut issues), None);
/// assert_eq!(optional_bool(&map, "c", &mut issues), None);
/// assert_eq!(issues[0].kind, "bool_parsing"); // only "c" is an issue
/// ```
pub fn optional_bool(
    map: &Map<String, Value>,
    name: &str,
    issues: &mut Vec<ValidationIssue>,
) -> Option<bool> {
    let value = map.get(name)?;
    let parsed = match value {
        Value::Null => return None,
        Value::Bool(b) => Some(*b),
        Value::Number(n) if n.as_f64() == Some(0.0) => Some(false),
        Value::Number(n) if n.as_f64() == Some(1.0) => Some(true),
        Value::String(s) => match s.to_ascii_lowercase().as_str() {
            "0" | "off" | "f" | "false" | "n" | "no" => Some(false),
            "1" | "on" | "t" | "true" | "y" | "yes" => Some(true),
            _ => None,
        },
        _ => None,
    };
    if parsed.is_none() {
        issues.push(ValidationIssue {
            kind: "bool_parsing",
            loc: vec![json!("body"), json!(name)],
            msg: "Input should be a valid boolean, unable to interpret input".into(),
            input: value.clone(),
            ctx: None,
        });
    }
    parsed
}

/// The body of `POST /auth/register` (example: [`RegisterBody::parse`]).
#[derive(Debug, Clone)]
pub struct RegisterBody {
    /// Normalised e-mail.
    pub email: String,
    /// Clear-text password.
    pub password: String,
    /// The object as sent (custom fields are read from it).
    pub raw: Map<String, Value>,
}

impl RegisterBody {
    /// Parses and validates; `id` and the flags are checked for type and then ignored.
    ///
    /// ```
    /// use axum::http::{header, HeaderMap};
    /// use axum_users_runtime::validation::RegisterBody;
    ///
    /// let mut headers = HeaderMap::new();
    /// headers.insert(header::CONTENT_TYPE, "application/json".parse().unwrap());
    /// let body = br#"{"email": "Ada@Example.COM", "password": "pw", "nick": "ada"}"#;
    /// let reg = RegisterBody::parse(&headers, body).unwrap();
    /// assert_eq!(reg.email, "Ada@example.com");
    /// assert_eq!(reg.raw["nick"], "ada"); // custom fields stay in `raw`
    /// ```
    pub fn parse(headers: &HeaderMap, body: &[u8]) -> Result<Self, ApiError> {
        let map = json_object(headers, body)?;
        let mut issues = Vec::new();
        let email = required_string(&map, "email", &mut issues)
            .and_then(|raw| email_at(&raw, "email", &mut issues));
        let password = required_string(&map, "password", &mut issues);
        for flag in ["is_active", "is_superuser", "is_verified"] {
            optional_bool(&map, flag, &mut issues);
        }
        match (email, password) {
            (Some(email), Some(password)) if issues.is_empty() => Ok(RegisterBody {
                email,
                password,
                raw: map,
            }),
            _ => Err(ApiError::Validation(issues)),
        }
    }
}

/// Reads an optional e-mail field: absent or `null` → `None`; otherwise validated and normalised.
fn optional_email(
    map: &Map<String, Value>,
    name: &str,
    issues: &mut Vec<ValidationIssue>,
) -> Option<String> {
    match map.get(name) {
        None | Some(Value::Null) => None,
        Some(Value::String(raw)) => email_at(raw, name, issues),
        Some(other) => {
            issues.push(not_a_string(name, other));
            None
        }
    }
}

/// The body `{"email": ...}` of `POST /auth/forgot-password` and
/// `POST /auth/request-verify-token`: the normalised e-mail.
///
/// ```
/// use axum::http::{header, HeaderMap};
/// use axum_users_runtime::validation::email_body;
///
/// let mut headers = HeaderMap::new();
/// headers.insert(header::CONTENT_TYPE, "application/json".parse().unwrap());
/// assert_eq!(email_body(&headers, br#"{"email": "ada@EXAMPLE.com"}"#).unwrap(), "ada@example.com");
/// assert!(email_body(&headers, br#"{"email": "nope"}"#).is_err());
/// ```
pub fn email_body(headers: &HeaderMap, body: &[u8]) -> Result<String, ApiError> {
    let map = json_object(headers, body)?;
    let mut issues = Vec::new();
    let email = embedded_string(&map, "email", &mut issues)
        .and_then(|raw| email_at(&raw, "email", &mut issues));
    match email {
        Some(email) if issues.is_empty() => Ok(email),
        _ => Err(ApiError::Validation(issues)),
    }
}

/// Required string fields of a JSON body, in order (e.g. `["token", "password"]`), as FastAPI's
/// embedded body parameters.
///
/// ```
/// use axum::http::{header, HeaderMap};
/// use axum_users_runtime::validation::string_fields;
///
/// let mut headers = HeaderMap::new();
/// headers.insert(header::CONTENT_TYPE, "application/json".parse().unwrap());
/// let body = br#"{"token": "t0k", "password": "new"}"#;
/// let [token, password] = string_fields(&headers, body, ["token", "password"]).unwrap();
/// assert_eq!((token.as_str(), password.as_str()), ("t0k", "new"));
/// assert!(string_fields(&headers, br#"{"token": "t0k"}"#, ["token", "password"]).is_err());
/// ```
pub fn string_fields<const N: usize>(
    headers: &HeaderMap,
    body: &[u8],
    names: [&str; N],
) -> Result<[String; N], ApiError> {
    let map = json_object(headers, body)?;
    let mut issues = Vec::new();
    let values = names.map(|name| embedded_string(&map, name, &mut issues).unwrap_or_default());
    if issues.is_empty() {
        Ok(values)
    } else {
        Err(ApiError::Validation(issues))
    }
}

/// The body of `PATCH /users/me` and `PATCH /users/{id}`: every field optional; `null` counts
/// as absent (example: [`UserUpdate::parse`]).
#[derive(Debug, Clone, Default)]
pub struct UserUpdate {
    /// New e-mail, normalised.
    pub email: Option<String>,
    /// New clear-text password.
    pub password: Option<String>,
    /// New `is_active` (superuser updates only).
    pub is_active: Option<bool>,
    /// New `is_superuser` (superuser updates only).
    pub is_superuser: Option<bool>,
    /// New `is_verified` (superuser updates only).
    pub is_verified: Option<bool>,
}

impl UserUpdate {
    /// Parses and validates; returns the update and the object as sent.
    ///
    /// ```
    /// use axum::http::{header, HeaderMap};
    /// use axum_users_runtime::validation::UserUpdate;
    ///
    /// let mut headers = HeaderMap::new();
    /// headers.insert(header::CONTENT_TYPE, "application/json".parse().unwrap());
    /// let (update, raw) = UserUpdate::parse(&headers, br#"{"password": "new", "email": null}"#).unwrap();
    /// assert_eq!(update.password.as_deref(), Some("new"));
    /// assert_eq!(update.email, None); // `null` counts as absent
    /// assert!(raw.contains_key("email"));
    /// ```
    pub fn parse(headers: &HeaderMap, body: &[u8]) -> Result<(Self, Map<String, Value>), ApiError> {
        let map = json_object(headers, body)?;
        let mut issues = Vec::new();
        let email = optional_email(&map, "email", &mut issues);
        let password = match map.get("password") {
            None | Some(Value::Null) => None,
            Some(_) => required_string(&map, "password", &mut issues),
        };
        let update = UserUpdate {
            email,
            password,
            is_active: optional_bool(&map, "is_active", &mut issues),
            is_superuser: optional_bool(&map, "is_superuser", &mut issues),
            is_verified: optional_bool(&map, "is_verified", &mut issues),
        };
        if issues.is_empty() {
            Ok((update, map))
        } else {
            Err(ApiError::Validation(issues))
        }
    }
}
