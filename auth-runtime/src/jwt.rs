//! JSON Web Tokens in fastapi-users' format.

use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::ConfigError;

/// Audience of access tokens.
pub const AUTH_AUDIENCE: &str = "fastapi-users:auth";

/// Audience of password-reset tokens.
pub const RESET_AUDIENCE: &str = "fastapi-users:reset";

/// Audience of e-mail verification tokens.
pub const VERIFY_AUDIENCE: &str = "fastapi-users:verify";

/// The shortest HMAC secret accepted, in bytes.
pub const MIN_SECRET_LEN: usize = 32;

/// Signing and verification keys for one algorithm (HS256, RS256 or ES256).
///
/// ```
/// use axum_users_runtime::JwtKeys;
///
/// assert!(JwtKeys::hs256("too short").is_err());
/// let keys = JwtKeys::hs256("0123456789abcdef0123456789abcdef").unwrap();
/// let id = uuid::Uuid::new_v4();
/// let token = keys.access_token(id, 3600).unwrap();
/// assert_eq!(keys.read_access_token(&token, 0), Some(id));
/// ```
#[derive(Clone)]
pub struct JwtKeys {
    algorithm: Algorithm,
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl std::fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtKeys")
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize)]
struct AccessClaims<'a> {
    sub: String,
    aud: [&'a str; 1],
    exp: u64,
}

#[derive(Deserialize)]
struct SubjectClaim {
    sub: String,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl JwtKeys {
    /// HS256 with a shared secret of at least 32 bytes (fastapi-users' default algorithm).
    pub fn hs256(secret: impl AsRef<[u8]>) -> Result<Self, ConfigError> {
        let secret = secret.as_ref();
        if secret.len() < MIN_SECRET_LEN {
            return Err(ConfigError::WeakSecret { len: secret.len() });
        }
        let invalid = |what| {
            move |source| ConfigError::InvalidKey {
                what,
                alg: Algorithm::HS256,
                source,
            }
        };
        Ok(JwtKeys {
            algorithm: Algorithm::HS256,
            encoding: EncodingKey::from_secret(secret).map_err(invalid("secret"))?,
            decoding: DecodingKey::from_secret(secret).map_err(invalid("secret"))?,
        })
    }

    /// RS256 or ES256 with PEM keys (private: PKCS#8 or PKCS#1 for RSA, PKCS#8 for EC).
    pub fn from_pem(
        algorithm: Algorithm,
        private_pem: &[u8],
        public_pem: &[u8],
    ) -> Result<Self, ConfigError> {
        let invalid = |what| {
            move |source| ConfigError::InvalidKey {
                what,
                alg: algorithm,
                source,
            }
        };
        let (encoding, decoding) = match algorithm {
            Algorithm::RS256 => (
                EncodingKey::from_rsa_pem(private_pem).map_err(invalid("private"))?,
                DecodingKey::from_rsa_pem(public_pem).map_err(invalid("public"))?,
            ),
            Algorithm::ES256 => (
                EncodingKey::from_ec_pem(private_pem).map_err(invalid("private"))?,
                DecodingKey::from_ec_pem(public_pem).map_err(invalid("public"))?,
            ),
            other => return Err(ConfigError::UnsupportedAlgorithm(other)),
        };
        let keys = JwtKeys {
            algorithm,
            encoding,
            decoding,
        };
        let probe = Uuid::nil();
        match keys.access_token(probe, 60) {
            Ok(token) if keys.read_access_token(&token, 0) == Some(probe) => Ok(keys),
            _ => Err(ConfigError::KeyMismatch),
        }
    }

    /// The signing algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// Signs `claims` (which should carry `aud` and `exp`).
    pub fn encode<T: Serialize>(&self, claims: &T) -> Result<String, jsonwebtoken::errors::Error> {
        encode(&Header::new(self.algorithm), claims, &self.encoding)
    }

    /// Verifies signature, algorithm (only the configured one), audience, `exp`, `nbf` and `iat`
    /// as PyJWT does (`leeway` seconds of tolerance) and that every claim of `required` (among `exp`, `aud`, `sub`, `iss`,
    /// `nbf`) is present; `None` for any failure.
    pub fn decode<T: DeserializeOwned>(
        &self,
        token: &str,
        audience: &str,
        required: &[&str],
        leeway: u64,
    ) -> Option<T> {
        let mut validation = Validation::new(self.algorithm);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(required);
        validation.leeway = leeway;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        // PyJWT's rule: expired once `exp <= now` (jsonwebtoken alone accepts `exp == now`).
        validation.reject_tokens_expiring_in_less_than = 1;
        let claims = decode::<serde_json::Value>(token, &self.decoding, &validation)
            .ok()?
            .claims;
        // PyJWT also refuses a token issued in the future.
        if let Some(iat) = claims.get("iat") {
            let iat = iat.as_f64()?;
            if iat > now().saturating_add(leeway) as f64 {
                return None;
            }
        }
        serde_json::from_value(claims).ok()
    }

    /// An access token for `user_id`: `{"sub": id, "aud": ["fastapi-users:auth"], "exp": now + lifetime}`.
    pub fn access_token(
        &self,
        user_id: Uuid,
        lifetime: u64,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        self.encode(&AccessClaims {
            sub: user_id.hyphenated().to_string(),
            aud: [AUTH_AUDIENCE],
            exp: now().saturating_add(lifetime),
        })
    }

    /// Signs `claims` for `audience` (a plain string, as fastapi-users writes reset and
    /// verification tokens) with `exp = now + lifetime`.
    pub fn purpose_token(
        &self,
        mut claims: serde_json::Map<String, serde_json::Value>,
        audience: &str,
        lifetime: u64,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        claims.insert("aud".into(), audience.into());
        claims.insert("exp".into(), now().saturating_add(lifetime).into());
        self.encode(&claims)
    }

    /// The user id of a valid access token (which must carry `sub`, `aud` and `exp`).
    pub fn read_access_token(&self, token: &str, leeway: u64) -> Option<Uuid> {
        let claims: SubjectClaim =
            self.decode(token, AUTH_AUDIENCE, &["exp", "aud", "sub"], leeway)?;
        Uuid::parse_str(&claims.sub).ok()
    }
}
