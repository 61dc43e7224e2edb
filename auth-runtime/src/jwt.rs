//! JSON Web Tokens in fastapi-users' format.

use std::borrow::Cow;
use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::de::{self, DeserializeOwned, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use uuid::fmt::Hyphenated;
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
    /// `{"typ": "JWT", "alg": ..}`, built once.
    header: Header,
    encoding: EncodingKey,
    decoding: DecodingKey,
    /// The validations of the usual checks, built once (shared by clones).
    validations: Arc<Validations>,
}

/// The audiences whose validations [`JwtKeys`] keeps ready, with the claims they all require.
const CACHED_AUDIENCES: [&str; 3] = [AUTH_AUDIENCE, RESET_AUDIENCE, VERIFY_AUDIENCE];
const CACHED_REQUIRED: [&str; 3] = ["exp", "aud", "sub"];

/// Ready-made [`Validation`]s for [`CACHED_AUDIENCES`] with [`CACHED_REQUIRED`]: for no
/// leeway, and for the first other leeway asked for (an [`AuthState`](crate::AuthState) always
/// asks with the same one).
struct Validations {
    no_leeway: [Validation; 3],
    leeway: [OnceLock<(u64, Validation)>; 3],
}

impl Validations {
    fn new(algorithm: Algorithm) -> Self {
        Validations {
            no_leeway: CACHED_AUDIENCES.map(|aud| validation(algorithm, aud, &CACHED_REQUIRED, 0)),
            leeway: Default::default(),
        }
    }
}

/// The checks of [`JwtKeys::decode`], as jsonwebtoken spells them.
fn validation(algorithm: Algorithm, audience: &str, required: &[&str], leeway: u64) -> Validation {
    let mut validation = Validation::new(algorithm);
    validation.set_audience(&[audience]);
    validation.set_required_spec_claims(required);
    validation.leeway = leeway;
    validation.validate_exp = true;
    validation.validate_nbf = true;
    // PyJWT's rule: expired once `exp <= now` (jsonwebtoken alone accepts `exp == now`).
    validation.reject_tokens_expiring_in_less_than = 1;
    validation
}

/// Whether `required` names the same set of claims as [`CACHED_REQUIRED`].
fn is_cached_required(required: &[&str]) -> bool {
    CACHED_REQUIRED.iter().all(|c| required.contains(c))
        && required.iter().all(|r| CACHED_REQUIRED.contains(r))
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
    sub: Hyphenated,
    aud: [&'a str; 1],
    exp: u64,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// PyJWT also refuses a token issued in the future.
fn issued_in_the_past(iat: f64, leeway: u64) -> bool {
    iat <= now().saturating_add(leeway) as f64
}

/// What [`JwtKeys::read_access_token`] reads of the claims, straight from the JSON: the last
/// `sub` and the last `iat`, each as the claims map (`serde_json::Value`) would hold it (a later
/// duplicate key wins), every other claim parsed as strictly as into a `serde_json::Value`
/// (UTF-8 of strings, range of numbers, nesting limit) but not built.
#[derive(Default)]
struct AccessClaimsIn {
    /// `None`: absent; `Some(None)`: not a string, or not a UUID.
    sub: Option<Option<Uuid>>,
    /// `None`: absent; `Some(None)`: not a number.
    iat: Option<Option<f64>>,
}

impl<'de> Deserialize<'de> for AccessClaimsIn {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(AccessClaimsVisitor)
    }
}

struct AccessClaimsVisitor;

impl<'de> Visitor<'de> for AccessClaimsVisitor {
    type Value = AccessClaimsIn;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object of claims")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<AccessClaimsIn, A::Error> {
        let mut claims = AccessClaimsIn::default();
        while let Some(key) = map.next_key::<ClaimKey>()? {
            match key {
                ClaimKey::Sub => claims.sub = Some(map.next_value::<AnyJson<SubjectUuid>>()?.0),
                ClaimKey::Iat => claims.iat = Some(map.next_value::<AnyJson<Number>>()?.0),
                ClaimKey::Other => {
                    map.next_value::<AnyJson<Nothing>>()?;
                }
            }
        }
        Ok(claims)
    }
}

/// A claim name (escapes decoded, as in a `serde_json::Map`).
enum ClaimKey {
    Sub,
    Iat,
    Other,
}

impl<'de> Deserialize<'de> for ClaimKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = ClaimKey;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a claim name")
            }
            fn visit_str<E: de::Error>(self, key: &str) -> Result<ClaimKey, E> {
                Ok(match key {
                    "sub" => ClaimKey::Sub,
                    "iat" => ClaimKey::Iat,
                    _ => ClaimKey::Other,
                })
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// Reads one JSON value of any kind, through `deserialize_any` as `serde_json::Value` does (so
/// with the same checks): `Some` of what `T` makes of a string or a number, `None` for every
/// other kind (consumed, nothing built).
struct AnyJson<T: JsonScalar>(Option<T::Out>);

/// What [`AnyJson`] keeps of a string or a number.
trait JsonScalar {
    type Out;
    fn from_str(_: &str) -> Option<Self::Out> {
        None
    }
    fn from_f64(_: f64) -> Option<Self::Out> {
        None
    }
}

/// Nothing: the value is only checked.
struct Nothing;

impl JsonScalar for Nothing {
    type Out = ();
}

/// A string that parses as a UUID (`Uuid::parse_str`).
struct SubjectUuid;

impl JsonScalar for SubjectUuid {
    type Out = Uuid;
    fn from_str(s: &str) -> Option<Uuid> {
        Uuid::parse_str(s).ok()
    }
}

/// Any number, as `serde_json::Value::as_f64` gives it.
struct Number;

impl JsonScalar for Number {
    type Out = f64;
    fn from_f64(n: f64) -> Option<f64> {
        Some(n)
    }
}

impl<'de, T: JsonScalar> Deserialize<'de> for AnyJson<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct AnyVisitor<T>(std::marker::PhantomData<T>);
        impl<'de, T: JsonScalar> Visitor<'de> for AnyVisitor<T> {
            type Value = AnyJson<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(AnyJson(T::from_str(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(AnyJson(T::from_f64(v as f64)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(AnyJson(T::from_f64(v as f64)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Ok(AnyJson(T::from_f64(v)))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(AnyJson(None))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(AnyJson(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<AnyJson<Nothing>>()?.is_some() {}
                Ok(AnyJson(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map
                    .next_entry::<AnyJson<Nothing>, AnyJson<Nothing>>()?
                    .is_some()
                {}
                Ok(AnyJson(None))
            }
        }
        deserializer.deserialize_any(AnyVisitor(std::marker::PhantomData))
    }
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
        Ok(JwtKeys::new(
            Algorithm::HS256,
            EncodingKey::from_secret(secret).map_err(invalid("secret"))?,
            DecodingKey::from_secret(secret).map_err(invalid("secret"))?,
        ))
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
        let keys = JwtKeys::new(algorithm, encoding, decoding);
        let probe = Uuid::nil();
        match keys.access_token(probe, 60) {
            Ok(token) if keys.read_access_token(&token, 0) == Some(probe) => Ok(keys),
            _ => Err(ConfigError::KeyMismatch),
        }
    }

    fn new(algorithm: Algorithm, encoding: EncodingKey, decoding: DecodingKey) -> Self {
        JwtKeys {
            algorithm,
            header: Header::new(algorithm),
            encoding,
            decoding,
            validations: Arc::new(Validations::new(algorithm)),
        }
    }

    /// The validation of `audience`, `required` and `leeway`: a ready one when there is.
    fn validation(&self, audience: &str, required: &[&str], leeway: u64) -> Cow<'_, Validation> {
        let fresh = || Cow::Owned(validation(self.algorithm, audience, required, leeway));
        let cached = CACHED_AUDIENCES
            .iter()
            .position(|a| *a == audience)
            .filter(|_| is_cached_required(required));
        let Some(i) = cached else {
            return fresh();
        };
        if leeway == 0 {
            return Cow::Borrowed(&self.validations.no_leeway[i]);
        }
        let (first, ready) = self.validations.leeway[i].get_or_init(|| {
            (
                leeway,
                validation(self.algorithm, audience, required, leeway),
            )
        });
        if *first == leeway {
            Cow::Borrowed(ready)
        } else {
            fresh()
        }
    }

    /// The signing algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// Signs `claims` (which should carry `aud` and `exp`).
    pub fn encode<T: Serialize>(&self, claims: &T) -> Result<String, jsonwebtoken::errors::Error> {
        encode(&self.header, claims, &self.encoding)
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
        let validation = self.validation(audience, required, leeway);
        let claims = decode::<serde_json::Value>(token, &self.decoding, &validation)
            .ok()?
            .claims;
        if let Some(iat) = claims.get("iat") {
            if !issued_in_the_past(iat.as_f64()?, leeway) {
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
            sub: user_id.hyphenated(),
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
    ///
    /// The same checks as [`decode`](Self::decode), the claims read in one pass without
    /// building them.
    pub fn read_access_token(&self, token: &str, leeway: u64) -> Option<Uuid> {
        let validation = self.validation(AUTH_AUDIENCE, &CACHED_REQUIRED, leeway);
        let AccessClaimsIn { sub, iat } =
            decode::<AccessClaimsIn>(token, &self.decoding, &validation)
                .ok()?
                .claims;
        if let Some(iat) = iat {
            if !issued_in_the_past(iat?, leeway) {
                return None;
            }
        }
        sub?
    }
}

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    use serde_json::{json, Value};

    use super::*;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    /// A token over the raw JSON `payload` (so that duplicate keys and odd values survive).
    fn raw_token(keys: &JwtKeys, payload: &str) -> String {
        let header = URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"HS256"}"#);
        let message = format!("{header}.{}", URL_SAFE_NO_PAD.encode(payload));
        let signature =
            jsonwebtoken::crypto::sign(message.as_bytes(), &keys.encoding, keys.algorithm).unwrap();
        format!("{message}.{signature}")
    }

    /// `read_access_token` as it was written before it read the claims in one pass: through a
    /// `serde_json::Value`, with a `Validation` built for the call.
    fn reference(keys: &JwtKeys, token: &str, leeway: u64) -> Option<Uuid> {
        #[derive(Deserialize)]
        struct SubjectClaim {
            sub: String,
        }
        let validation = validation(keys.algorithm, AUTH_AUDIENCE, &CACHED_REQUIRED, leeway);
        let claims = decode::<Value>(token, &keys.decoding, &validation)
            .ok()?
            .claims;
        if let Some(iat) = claims.get("iat") {
            let iat = iat.as_f64()?;
            if iat > now().saturating_add(leeway) as f64 {
                return None;
            }
        }
        let claims: SubjectClaim = serde_json::from_value(claims).ok()?;
        Uuid::parse_str(&claims.sub).ok()
    }

    #[test]
    fn access_tokens_read_as_through_a_json_value() {
        let keys = JwtKeys::hs256(SECRET).unwrap();
        let id = Uuid::new_v4();
        let (now, exp) = (now(), now() + 3600);
        let aud = r#""aud":["fastapi-users:auth"]"#;
        let payloads = [
            format!(r#"{{"sub":"{id}",{aud},"exp":{exp}}}"#),
            format!(r#"{{"sub":"{id}","aud":"fastapi-users:auth","exp":{exp}}}"#),
            format!(r#"{{"sub":"{}",{aud},"exp":{exp}}}"#, id.simple()),
            format!(r#"{{"sub":"{}",{aud},"exp":{exp}}}"#, id.braced()),
            format!(r#"{{"s\u0075b":"{id}",{aud},"exp":{exp}}}"#),
            format!(
                r#"{{"sub":"\u0030{}",{aud},"exp":{exp}}}"#,
                &id.to_string()[1..]
            ),
            format!(r#"{{"sub":"not-a-uuid",{aud},"exp":{exp}}}"#),
            format!(r#"{{"sub":42,{aud},"exp":{exp}}}"#),
            format!(r#"{{"sub":null,{aud},"exp":{exp}}}"#),
            format!(r#"{{"sub":"nope","sub":"{id}",{aud},"exp":{exp}}}"#),
            format!(r#"{{"sub":"{id}","sub":"nope",{aud},"exp":{exp}}}"#),
            format!(r#"{{"sub":7,"sub":"{id}",{aud},"exp":{exp}}}"#),
            format!(r#"{{"sub":"{id}",{aud},"exp":{exp},"iat":{now}}}"#),
            format!(r#"{{"sub":"{id}",{aud},"exp":{exp},"iat":{}.5}}"#, now - 10),
            format!(r#"{{"sub":"{id}",{aud},"exp":{exp},"iat":-5}}"#),
            format!(r#"{{"sub":"{id}",{aud},"exp":{exp},"iat":{}}}"#, now + 120),
            format!(r#"{{"sub":"{id}",{aud},"exp":{exp},"iat":"{now}"}}"#),
            format!(r#"{{"sub":"{id}",{aud},"exp":{exp},"iat":null}}"#),
            format!(r#"{{"sub":"{id}",{aud},"exp":{exp},"iat":[1]}}"#),
            format!(r#"{{"sub":"{id}",{aud},"exp":{exp},"iat":"x","iat":{now}}}"#),
            format!(r#"{{"sub":"{id}",{aud},"exp":{exp},"iat":{now},"iat":"x"}}"#),
            format!(r#"{{"sub":"{id}",{aud},"exp":{exp},"iat":1e400}}"#),
            format!(r#"{{"sub":"{id}",{aud},"exp":{exp},"x":1e400}}"#),
            format!(r#"{{"sub":"{id}",{aud},"exp":{exp},"x":{{"a":[1,{{"b":null}}],"a":true}}}}"#),
            format!(r#"{{"sub":"{id}",{aud},"exp":{exp},"x":"\ud800"}}"#),
            format!(r#"{{"sub":"{id}",{aud},"exp":{exp},"x":"\q"}}"#),
            format!(
                r#"{{"sub":"{id}",{aud},"exp":{exp},"x":{}1{}}}"#,
                "[".repeat(130),
                "]".repeat(130)
            ),
            format!(r#"{{"sub":"{id}",{aud},"exp":{exp},"nbf":{}}}"#, now + 120),
            format!(r#"{{"sub":"{id}",{aud},"exp":{now}}}"#),
            format!(r#"{{"sub":"{id}",{aud},"exp":{}}}"#, now - 30),
            format!(r#"{{"sub":"{id}",{aud}}}"#),
            format!(r#"{{"sub":"{id}","aud":["fastapi-users:reset"],"exp":{exp}}}"#),
            format!(r#"{{"sub":"{id}",{aud},"exp":{exp}}} "#),
            format!(r#"{{"sub":"{id}",{aud},"exp":{exp}}}x"#),
            format!(r#"["{id}",0,"{id}",null,["fastapi-users:auth"]]"#),
            format!(r#"{{"sub":"{id}",{aud},"exp":{exp},}}"#),
        ];
        let mut accepted = 0;
        for payload in &payloads {
            let token = raw_token(&keys, payload);
            for leeway in [0, 60, 3600] {
                let expected = reference(&keys, &token, leeway);
                assert_eq!(
                    keys.read_access_token(&token, leeway),
                    expected,
                    "{payload} (leeway {leeway})"
                );
                accepted += usize::from(expected.is_some());
            }
        }
        assert!(
            accepted > 20,
            "only {accepted} accepted: the cases test nothing"
        );
        // Invalid UTF-8 in a claim nobody reads is refused, as by a JSON parser.
        let id = id.hyphenated().to_string();
        let mut bytes = format!(r#"{{"sub":"{id}",{aud},"exp":{exp},"x":"_"}}"#).into_bytes();
        let at = bytes.len() - 3;
        bytes[at] = 0xff;
        let header = URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"HS256"}"#);
        let message = format!("{header}.{}", URL_SAFE_NO_PAD.encode(&bytes));
        let signature =
            jsonwebtoken::crypto::sign(message.as_bytes(), &keys.encoding, keys.algorithm).unwrap();
        let token = format!("{message}.{signature}");
        assert_eq!(reference(&keys, &token, 0), None);
        assert_eq!(keys.read_access_token(&token, 0), None);
    }

    #[test]
    fn access_tokens_are_written_as_before() {
        let keys = JwtKeys::hs256(SECRET).unwrap();
        let id = Uuid::new_v4();
        let token = keys.access_token(id, 3600).unwrap();
        let expected = encode(
            &Header::new(Algorithm::HS256),
            &json!({"sub": id.to_string(), "aud": [AUTH_AUDIENCE], "exp": now() + 3600}),
            &keys.encoding,
        )
        .unwrap();
        // The same bytes, unless the second turned between the two.
        let (header, rest) = token.split_once('.').unwrap();
        assert_eq!(header, expected.split_once('.').unwrap().0);
        let claims = rest.split_once('.').unwrap().0;
        let claims: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).unwrap()).unwrap();
        assert_eq!(claims["sub"], id.hyphenated().to_string());
        assert_eq!(claims["aud"], json!([AUTH_AUDIENCE]));
        assert_eq!(
            serde_json::to_string(&AccessClaims {
                sub: id.hyphenated(),
                aud: [AUTH_AUDIENCE],
                exp: 7,
            })
            .unwrap(),
            format!(r#"{{"sub":"{id}","aud":["fastapi-users:auth"],"exp":7}}"#)
        );
    }

    #[test]
    fn cached_validations_match_fresh_ones() {
        let keys = JwtKeys::hs256(SECRET).unwrap();
        for audience in [AUTH_AUDIENCE, RESET_AUDIENCE, VERIFY_AUDIENCE, "other"] {
            for required in [&["exp", "aud", "sub"][..], &["sub", "exp", "aud"], &["exp"]] {
                for leeway in [0, 5, 0, 7, 5] {
                    let got = keys.validation(audience, required, leeway);
                    let want = validation(keys.algorithm, audience, required, leeway);
                    assert_eq!(got.aud, want.aud);
                    assert_eq!(got.required_spec_claims, want.required_spec_claims);
                    assert_eq!(got.leeway, want.leeway);
                    assert_eq!(got.algorithms, want.algorithms);
                    assert_eq!(
                        (got.validate_exp, got.validate_nbf, got.validate_aud),
                        (want.validate_exp, want.validate_nbf, want.validate_aud)
                    );
                    assert_eq!(
                        got.reject_tokens_expiring_in_less_than,
                        want.reject_tokens_expiring_in_less_than
                    );
                }
            }
        }
        // A clone shares the ready validations.
        assert!(Arc::ptr_eq(&keys.validations, &keys.clone().validations));
    }
}
