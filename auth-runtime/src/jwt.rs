//! JSON Web Tokens in fastapi-users' format, signed and verified with a rotating key set.

use std::borrow::Cow;
use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use jsonwebtoken::{
    decode, decode_header, encode, Algorithm, DecodingKey, EncodingKey, Header, TokenData,
    Validation,
};
use serde::de::{self, DeserializeOwned, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::fmt::Hyphenated;
use uuid::Uuid;

use crate::error::ConfigError;

/// Audience of access tokens.
///
/// ```
/// use axum_users_runtime::{AUTH_AUDIENCE, RESET_AUDIENCE, VERIFY_AUDIENCE};
///
/// assert_eq!(AUTH_AUDIENCE, "fastapi-users:auth"); // as fastapi-users, so tokens interoperate
/// assert_eq!(RESET_AUDIENCE, "fastapi-users:reset");
/// assert_eq!(VERIFY_AUDIENCE, "fastapi-users:verify");
/// ```
pub const AUTH_AUDIENCE: &str = "fastapi-users:auth";

/// Audience of password-reset tokens. Example: see [`AUTH_AUDIENCE`], [`JwtKeys::decode`].
pub const RESET_AUDIENCE: &str = "fastapi-users:reset";

/// Audience of e-mail verification tokens. Example: see [`AUTH_AUDIENCE`].
pub const VERIFY_AUDIENCE: &str = "fastapi-users:verify";

/// The shortest HMAC secret accepted, in bytes.
///
/// ```
/// use axum_users_runtime::{JwtKeys, MIN_SECRET_LEN};
///
/// assert!(JwtKeys::hs256(vec![b'k'; MIN_SECRET_LEN - 1]).is_err());
/// assert!(JwtKeys::hs256(vec![b'k'; MIN_SECRET_LEN]).is_ok());
/// ```
pub const MIN_SECRET_LEN: usize = 32;

/// The longest `kid` accepted by [`JwtKeys::with_kid`], in bytes.
const MAX_KID_LEN: usize = 128;

/// A key set: one signing key (HS256, RS256 or ES256) and, for rotation, verification-only
/// previous keys, each with its key id (`kid`) and its own algorithm.
///
/// New tokens carry the signing key's `kid` in their header. A token with a `kid` is verified
/// with exactly that key (an unknown `kid` is refused); a token without one (fastapi-users
/// writes none) with each key in turn, newest first. A token's `alg` must be its key's
/// algorithm, so an HS256 token never passes against an RSA or EC key, nor the reverse.
///
/// The automatic `kid` names a key without revealing anything about it: base64url of the
/// first 6 bytes of HMAC-SHA256(secret, `"axum-users key id"`) for HS256, of SHA-256 of the
/// public key PEM for RS256/ES256. Debug output shows algorithms, key ids and the issuer,
/// never key material.
///
/// ```
/// use axum_users_runtime::JwtKeys;
///
/// assert!(JwtKeys::hs256("too short").is_err());
/// let old = JwtKeys::hs256("the old secret, of at least 32 bytes").unwrap();
/// let id = uuid::Uuid::new_v4();
/// let old_token = old.access_token(id, 3600).unwrap();
///
/// // Rotation: sign with the new secret, keep verifying with the old one until its tokens
/// // expire.
/// let keys = JwtKeys::hs256("the new secret, of at least 32 bytes")
///     .unwrap()
///     .with_previous(old.clone())
///     .unwrap();
/// let token = keys.access_token(id, 3600).unwrap();
/// assert_eq!(keys.read_access_token(&token, 0), Some(id));
/// assert_eq!(keys.read_access_token(&old_token, 0), Some(id));
/// assert_eq!(old.read_access_token(&token, 0), None);
/// assert_eq!(keys.kids().collect::<Vec<_>>(), [keys.kid(), old.kid()]);
/// assert!(!format!("{keys:?}").contains("secret"));
/// ```
#[derive(Clone)]
pub struct JwtKeys {
    /// `{"typ": "JWT", "alg": .., "kid": ..}` of the signing key, built once.
    header: Header,
    /// The signing key's private half.
    encoding: EncodingKey,
    /// The signing key's public half (its secret for HS256).
    signing: Key,
    /// Verification-only keys, newest first.
    previous: Vec<Key>,
    /// `iss` of new tokens, required of every token when set.
    issuer: Option<Arc<str>>,
}

/// One verification key of a [`JwtKeys`] set.
#[derive(Clone)]
struct Key {
    kid: Arc<str>,
    /// Whether `kid` was computed from the key material (so equal ids mean equal keys).
    derived_kid: bool,
    algorithm: Algorithm,
    decoding: DecodingKey,
    /// The validations of the usual checks, built once (shared by clones).
    validations: Arc<Validations>,
}

impl Key {
    /// Verifies `token` with this key: signature, algorithm, claims.
    fn decode<T: DeserializeOwned>(
        &self,
        token: &str,
        audience: &str,
        required: &[&str],
        leeway: u64,
    ) -> Option<TokenData<T>> {
        let validation = self.validation(audience, required, leeway);
        decode::<T>(token, &self.decoding, &validation).ok()
    }

    /// The validation of `audience`, `required` and `leeway`: a ready one when there is.
    fn validation(&self, audience: &str, required: &[&str], leeway: u64) -> Cow<'_, Validation> {
        let ready = &*self.validations;
        let issuer = ready.issuer.as_deref();
        let fresh = || {
            Cow::Owned(validation(
                self.algorithm,
                issuer,
                audience,
                required,
                leeway,
            ))
        };
        let cached = CACHED_AUDIENCES
            .iter()
            .position(|a| *a == audience)
            .filter(|_| is_cached_required(required));
        let Some(i) = cached else {
            return fresh();
        };
        if leeway == 0 {
            return Cow::Borrowed(&ready.no_leeway[i]);
        }
        let (first, built) = ready.leeway[i].get_or_init(|| {
            (
                leeway,
                validation(self.algorithm, issuer, audience, required, leeway),
            )
        });
        if *first == leeway {
            Cow::Borrowed(built)
        } else {
            fresh()
        }
    }
}

/// The audiences whose validations a [`Key`] keeps ready, with the claims they all require.
const CACHED_AUDIENCES: [&str; 3] = [AUTH_AUDIENCE, RESET_AUDIENCE, VERIFY_AUDIENCE];
const CACHED_REQUIRED: [&str; 3] = ["exp", "aud", "sub"];

/// Ready-made [`Validation`]s for [`CACHED_AUDIENCES`] with [`CACHED_REQUIRED`]: for no
/// leeway, and for the first other leeway asked for (an [`AuthState`](crate::AuthState) always
/// asks with the same one).
struct Validations {
    issuer: Option<Arc<str>>,
    no_leeway: [Validation; 3],
    leeway: [OnceLock<(u64, Validation)>; 3],
}

impl Validations {
    fn new(algorithm: Algorithm, issuer: Option<Arc<str>>) -> Self {
        Validations {
            no_leeway: CACHED_AUDIENCES
                .map(|aud| validation(algorithm, issuer.as_deref(), aud, &CACHED_REQUIRED, 0)),
            issuer,
            leeway: Default::default(),
        }
    }
}

/// The checks of [`JwtKeys::decode`], as jsonwebtoken spells them. With an `issuer`, `iss` is
/// required and must equal it; without, `iss` is not looked at (as in fastapi-users).
fn validation(
    algorithm: Algorithm,
    issuer: Option<&str>,
    audience: &str,
    required: &[&str],
    leeway: u64,
) -> Validation {
    let mut validation = Validation::new(algorithm);
    validation.set_audience(&[audience]);
    match issuer {
        Some(issuer) => {
            validation.set_issuer(&[issuer]);
            let mut required = required.to_vec();
            required.push("iss");
            validation.set_required_spec_claims(&required);
        }
        None => validation.set_required_spec_claims(required),
    }
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

/// The automatic key id: base64url of the first 6 bytes of a digest (8 characters; 48 bits
/// tell a handful of keys apart, and a longer header would cost an access token one more
/// SHA-256 block to verify).
fn kid_of(digest: &[u8]) -> Arc<str> {
    URL_SAFE_NO_PAD.encode(&digest[..6]).into()
}

impl fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Previous<'a>(&'a [Key]);
        impl fmt::Debug for Previous<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_list()
                    .entries(self.0.iter().map(|k| (&*k.kid, k.algorithm)))
                    .finish()
            }
        }
        f.debug_struct("JwtKeys")
            .field("algorithm", &self.signing.algorithm)
            .field("kid", &&*self.signing.kid)
            .field("previous", &Previous(&self.previous))
            .field("issuer", &self.issuer.as_deref())
            .finish_non_exhaustive()
    }
}

#[derive(Serialize)]
struct AccessClaims<'a> {
    sub: Hyphenated,
    aud: [&'a str; 1],
    exp: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    iss: Option<&'a str>,
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
/// `sub`, the last `iat` and the kind of the last `iss`, each as the claims map (`serde_json::Value`) would hold it (a later
/// duplicate key wins), every other claim parsed as strictly as into a `serde_json::Value`
/// (UTF-8 of strings, range of numbers, nesting limit) but not built.
#[derive(Default)]
struct AccessClaimsIn {
    /// `None`: absent; `Some(None)`: not a string, or not a UUID.
    sub: Option<Option<Uuid>>,
    /// `None`: absent; `Some(None)`: not a number.
    iat: Option<Option<f64>>,
    /// Whether `iss` is a string (jsonwebtoken also takes an array of issuers).
    iss_is_string: bool,
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
                ClaimKey::Iss => {
                    claims.iss_is_string = map.next_value::<AnyJson<Text>>()?.0.is_some();
                }
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
    Iss,
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
                    "iss" => ClaimKey::Iss,
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

/// Any string.
struct Text;

impl JsonScalar for Text {
    type Out = ();
    fn from_str(_: &str) -> Option<()> {
        Some(())
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
    ///
    /// ```
    /// use axum_users_runtime::{Algorithm, JwtKeys};
    ///
    /// let keys = JwtKeys::hs256("0123456789abcdef0123456789abcdef").unwrap();
    /// assert_eq!(keys.algorithm(), Algorithm::HS256);
    /// assert_eq!(keys.kid().len(), 8);
    /// assert!(JwtKeys::hs256("too short").is_err());
    /// ```
    pub fn hs256(secret: impl AsRef<[u8]>) -> Result<Self, ConfigError> {
        let secret = secret.as_ref();
        let weak = ConfigError::WeakSecret { len: secret.len() };
        if secret.len() < MIN_SECRET_LEN {
            return Err(weak);
        }
        let invalid = |what| {
            move |source| ConfigError::InvalidKey {
                what,
                alg: Algorithm::HS256,
                source,
            }
        };
        let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(secret) else {
            return Err(weak);
        };
        mac.update(b"axum-users key id");
        let kid = kid_of(&mac.finalize().into_bytes());
        Ok(JwtKeys::new(
            Algorithm::HS256,
            kid,
            EncodingKey::from_secret(secret).map_err(invalid("secret"))?,
            DecodingKey::from_secret(secret).map_err(invalid("secret"))?,
        ))
    }

    /// RS256 or ES256 with PEM keys (private: PKCS#8 or PKCS#1 for RSA, PKCS#8 for EC).
    ///
    /// ```
    /// use axum_users_runtime::{Algorithm, JwtKeys};
    ///
    /// let err = JwtKeys::from_pem(Algorithm::RS256, b"not a key", b"not a key").unwrap_err();
    /// assert!(err.to_string().contains("invalid private key"));
    /// ```
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
        let kid = kid_of(&Sha256::digest(public_pem));
        let keys = JwtKeys::new(algorithm, kid, encoding, decoding);
        let probe = Uuid::nil();
        match keys.access_token(probe, 60) {
            Ok(token) if keys.read_access_token(&token, 0) == Some(probe) => Ok(keys),
            _ => Err(ConfigError::KeyMismatch),
        }
    }

    fn new(
        algorithm: Algorithm,
        kid: Arc<str>,
        encoding: EncodingKey,
        decoding: DecodingKey,
    ) -> Self {
        let mut header = Header::new(algorithm);
        header.kid = Some(kid.to_string());
        JwtKeys {
            header,
            encoding,
            signing: Key {
                kid,
                derived_kid: true,
                algorithm,
                decoding,
                validations: Arc::new(Validations::new(algorithm, None)),
            },
            previous: Vec::new(),
            issuer: None,
        }
    }

    /// Every key, the signing key first.
    fn all(&self) -> impl Iterator<Item = &Key> {
        std::iter::once(&self.signing).chain(&self.previous)
    }

    /// Names the signing key `kid` instead of the automatic id (1 to 128 bytes, and not the id
    /// of a previous key).
    ///
    /// ```
    /// use axum_users_runtime::JwtKeys;
    ///
    /// let keys = JwtKeys::hs256("0123456789abcdef0123456789abcdef")
    ///     .unwrap()
    ///     .with_kid("2025-06")
    ///     .unwrap();
    /// assert_eq!(keys.kid(), "2025-06");
    /// assert!(keys.with_kid("").is_err());
    /// ```
    pub fn with_kid(mut self, kid: impl Into<String>) -> Result<Self, ConfigError> {
        let kid = kid.into();
        let invalid = |problem| ConfigError::InvalidKeyId {
            kid: kid.clone(),
            problem,
        };
        if kid.is_empty() || kid.len() > MAX_KID_LEN {
            return Err(invalid("empty or longer than 128 bytes"));
        }
        if self.previous.iter().any(|k| *k.kid == *kid) {
            return Err(invalid("already the id of another key of the set"));
        }
        self.signing.kid = kid.as_str().into();
        self.signing.derived_kid = false;
        self.header.kid = Some(kid);
        Ok(self)
    }

    /// Adds the keys of `older` (its signing key, then its own previous keys) as
    /// verification-only keys, after those already there: tokens they signed stay valid until
    /// they expire, new tokens are signed by `self`'s key. A key already in the set is skipped;
    /// a different key with a `kid` already in the set is an error.
    ///
    /// ```
    /// use axum_users_runtime::JwtKeys;
    ///
    /// let new = JwtKeys::hs256("the new secret, of at least 32 bytes").unwrap();
    /// let old = JwtKeys::hs256("the old secret, of at least 32 bytes").unwrap();
    /// let keys = new.clone().with_previous(old.clone()).unwrap();
    /// assert_eq!(keys.kids().count(), 2);
    /// // Adding the same key twice changes nothing.
    /// assert_eq!(keys.with_previous(new).unwrap().kids().count(), 2);
    /// ```
    pub fn with_previous(mut self, older: JwtKeys) -> Result<Self, ConfigError> {
        let JwtKeys {
            signing, previous, ..
        } = older;
        for mut key in std::iter::once(signing).chain(previous) {
            if let Some(known) = self.all().find(|k| k.kid == key.kid) {
                if known.derived_kid && key.derived_kid && known.algorithm == key.algorithm {
                    continue;
                }
                return Err(ConfigError::InvalidKeyId {
                    kid: key.kid.to_string(),
                    problem: "already the id of another key of the set",
                });
            }
            key.validations = Arc::new(Validations::new(key.algorithm, self.issuer.clone()));
            self.previous.push(key);
        }
        Ok(self)
    }

    /// Puts `iss: issuer` into new tokens and refuses tokens without it or with another one.
    /// Without an issuer (the default, as in fastapi-users), `iss` is not looked at.
    ///
    /// ```
    /// use axum_users_runtime::JwtKeys;
    ///
    /// let plain = JwtKeys::hs256("0123456789abcdef0123456789abcdef").unwrap();
    /// let keys = plain.clone().with_issuer("https://auth.example.com").unwrap();
    /// let id = uuid::Uuid::new_v4();
    /// assert_eq!(keys.read_access_token(&keys.access_token(id, 60).unwrap(), 0), Some(id));
    /// assert_eq!(plain.read_access_token(&keys.access_token(id, 60).unwrap(), 0), Some(id));
    /// assert_eq!(keys.read_access_token(&plain.access_token(id, 60).unwrap(), 0), None);
    /// ```
    pub fn with_issuer(mut self, issuer: impl Into<String>) -> Result<Self, ConfigError> {
        let issuer: Arc<str> = issuer.into().into();
        if issuer.is_empty() {
            return Err(ConfigError::EmptyIssuer);
        }
        self.issuer = Some(issuer);
        for key in std::iter::once(&mut self.signing).chain(&mut self.previous) {
            key.validations = Arc::new(Validations::new(key.algorithm, self.issuer.clone()));
        }
        Ok(self)
    }

    /// The signing algorithm.
    ///
    /// With the other getters, [`kid`](Self::kid), [`kids`](Self::kids) and
    /// [`issuer`](Self::issuer):
    ///
    /// ```
    /// use axum_users_runtime::{Algorithm, JwtKeys};
    ///
    /// let old = JwtKeys::hs256("the old secret, of at least 32 bytes").unwrap().with_kid("v1").unwrap();
    /// let keys = JwtKeys::hs256("the new secret, of at least 32 bytes").unwrap().with_kid("v2").unwrap();
    /// let keys = keys.with_previous(old).unwrap().with_issuer("https://auth.example.com").unwrap();
    /// assert_eq!(keys.algorithm(), Algorithm::HS256);
    /// assert_eq!(keys.kid(), "v2");
    /// assert_eq!(keys.kids().collect::<Vec<_>>(), ["v2", "v1"]);
    /// assert_eq!(keys.issuer(), Some("https://auth.example.com"));
    /// ```
    pub fn algorithm(&self) -> Algorithm {
        self.signing.algorithm
    }

    /// The signing key's id: the `kid` header of new tokens. Example: see
    /// [`algorithm`](Self::algorithm).
    pub fn kid(&self) -> &str {
        &self.signing.kid
    }

    /// The ids of every key, the signing key first, then the previous keys, newest first.
    /// Example: see [`algorithm`](Self::algorithm).
    pub fn kids(&self) -> impl Iterator<Item = &str> {
        self.all().map(|k| &*k.kid)
    }

    /// The issuer new tokens carry and every token must carry, if one is configured.
    /// Example: see [`algorithm`](Self::algorithm).
    pub fn issuer(&self) -> Option<&str> {
        self.issuer.as_deref()
    }

    /// Signs `claims` (which should carry `aud` and `exp`, and `iss` when an issuer is set)
    /// with the signing key; the header carries its `kid`.
    ///
    /// ```
    /// use axum_users_runtime::JwtKeys;
    ///
    /// let keys = JwtKeys::hs256("an example secret of at least 32 bytes!").unwrap();
    /// let exp = 4_102_444_800u64; // 2100-01-01
    /// let token = keys.encode(&serde_json::json!({"sub": "42", "aud": "my-app", "exp": exp})).unwrap();
    /// let claims: serde_json::Value = keys.decode(&token, "my-app", &["sub"], 0).unwrap();
    /// assert_eq!(claims["sub"], "42");
    /// ```
    pub fn encode<T: Serialize>(&self, claims: &T) -> Result<String, jsonwebtoken::errors::Error> {
        encode(&self.header, claims, &self.encoding)
    }

    /// The claims of `token` when a key of the set verifies it: by `kid` when the header has
    /// one, else each key in turn, newest first.
    fn verify<T: DeserializeOwned>(
        &self,
        token: &str,
        audience: &str,
        required: &[&str],
        leeway: u64,
    ) -> Option<T> {
        if self.previous.is_empty() {
            // One key: no second look at the header, its `kid` comes with the claims.
            let TokenData { header, claims } = self
                .signing
                .decode::<T>(token, audience, required, leeway)?;
            return match header.kid {
                Some(kid) if *kid != *self.signing.kid => None,
                _ => Some(claims),
            };
        }
        let header = decode_header(token).ok()?;
        match header.kid {
            Some(kid) => self
                .all()
                .find(|k| *k.kid == *kid)?
                .decode(token, audience, required, leeway)
                .map(|data| data.claims),
            None => self
                .all()
                .filter(|k| k.algorithm == header.alg)
                .find_map(|k| k.decode(token, audience, required, leeway))
                .map(|data| data.claims),
        }
    }

    /// Verifies signature, algorithm (only the selected key's), audience, `exp`, `nbf`, `iat`
    /// as PyJWT does (`leeway` seconds of tolerance), `iss` when an issuer is set, and that
    /// every claim of `required` (among `exp`, `aud`, `sub`, `iss`, `nbf`) is present; `None`
    /// for any failure.
    ///
    /// ```
    /// use axum_users_runtime::{JwtKeys, RESET_AUDIENCE};
    ///
    /// let keys = JwtKeys::hs256("0123456789abcdef0123456789abcdef").unwrap();
    /// let mut claims = serde_json::Map::new();
    /// claims.insert("sub".into(), "42".into());
    /// let token = keys.purpose_token(claims, RESET_AUDIENCE, 60).unwrap();
    /// let read: serde_json::Value = keys.decode(&token, RESET_AUDIENCE, &["sub"], 0).unwrap();
    /// assert_eq!(read["sub"], "42");
    /// assert!(keys.decode::<serde_json::Value>(&token, "other", &["sub"], 0).is_none());
    /// ```
    pub fn decode<T: DeserializeOwned>(
        &self,
        token: &str,
        audience: &str,
        required: &[&str],
        leeway: u64,
    ) -> Option<T> {
        let claims: serde_json::Value = self.verify(token, audience, required, leeway)?;
        if self.issuer.is_some() && !claims.get("iss").is_some_and(serde_json::Value::is_string) {
            return None;
        }
        if let Some(iat) = claims.get("iat") {
            if !issued_in_the_past(iat.as_f64()?, leeway) {
                return None;
            }
        }
        serde_json::from_value(claims).ok()
    }

    /// An access token for `user_id`: `{"sub": id, "aud": ["fastapi-users:auth"], "exp": now +
    /// lifetime}`, plus `iss` when an issuer is set.
    ///
    /// ```
    /// use axum_users_runtime::JwtKeys;
    ///
    /// let keys = JwtKeys::hs256("an example secret of at least 32 bytes!").unwrap();
    /// let id = uuid::Uuid::new_v4();
    /// let token = keys.access_token(id, 3600).unwrap();
    /// assert_eq!(keys.read_access_token(&token, 0), Some(id));
    /// assert_eq!(keys.read_access_token("not.a.token", 0), None);
    /// ```
    pub fn access_token(
        &self,
        user_id: Uuid,
        lifetime: u64,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        self.encode(&AccessClaims {
            sub: user_id.hyphenated(),
            aud: [AUTH_AUDIENCE],
            exp: now().saturating_add(lifetime),
            iss: self.issuer.as_deref(),
        })
    }

    /// Signs `claims` for `audience` (a plain string, as fastapi-users writes reset and
    /// verification tokens) with `exp = now + lifetime`, and `iss` when an issuer is set.
    ///
    /// Example: see [`decode`](Self::decode).
    pub fn purpose_token(
        &self,
        mut claims: serde_json::Map<String, serde_json::Value>,
        audience: &str,
        lifetime: u64,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        claims.insert("aud".into(), audience.into());
        claims.insert("exp".into(), now().saturating_add(lifetime).into());
        if let Some(issuer) = &self.issuer {
            claims.insert("iss".into(), (**issuer).into());
        }
        self.encode(&claims)
    }

    /// The user id of a valid access token (which must carry `sub`, `aud` and `exp`).
    ///
    /// The same checks as [`decode`](Self::decode), the claims read in one pass without
    /// building them.
    ///
    /// Example: see [`access_token`](Self::access_token).
    pub fn read_access_token(&self, token: &str, leeway: u64) -> Option<Uuid> {
        let AccessClaimsIn {
            sub,
            iat,
            iss_is_string,
        } = self.verify::<AccessClaimsIn>(token, AUTH_AUDIENCE, &CACHED_REQUIRED, leeway)?;
        // jsonwebtoken checked `iss` against the issuer, but also takes an array (PyJWT and
        // RFC 7519 do not).
        if self.issuer.is_some() && !iss_is_string {
            return None;
        }
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
            jsonwebtoken::crypto::sign(message.as_bytes(), &keys.encoding, keys.algorithm())
                .unwrap();
        format!("{message}.{signature}")
    }

    /// `read_access_token` as it was written before it read the claims in one pass: through a
    /// `serde_json::Value`, with a `Validation` built for the call.
    fn reference(keys: &JwtKeys, token: &str, leeway: u64) -> Option<Uuid> {
        #[derive(Deserialize)]
        struct SubjectClaim {
            sub: String,
        }
        let validation = validation(
            keys.algorithm(),
            None,
            AUTH_AUDIENCE,
            &CACHED_REQUIRED,
            leeway,
        );
        let claims = decode::<Value>(token, &keys.signing.decoding, &validation)
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
            jsonwebtoken::crypto::sign(message.as_bytes(), &keys.encoding, keys.algorithm())
                .unwrap();
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
            &Header {
                kid: Some(keys.kid().to_owned()),
                ..Header::new(Algorithm::HS256)
            },
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
                iss: None,
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
                    let got = keys.signing.validation(audience, required, leeway);
                    let want = validation(keys.algorithm(), None, audience, required, leeway);
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
        // With an issuer, `iss` is required and checked, in the cached ones too.
        let keys = keys.with_issuer("https://auth.example.com").unwrap();
        for leeway in [0, 5] {
            let got = keys
                .signing
                .validation(AUTH_AUDIENCE, &CACHED_REQUIRED, leeway);
            let want = validation(
                keys.algorithm(),
                Some("https://auth.example.com"),
                AUTH_AUDIENCE,
                &CACHED_REQUIRED,
                leeway,
            );
            assert!(got.required_spec_claims.contains("iss"));
            assert_eq!(got.required_spec_claims, want.required_spec_claims);
            assert_eq!(got.iss, want.iss);
            assert_eq!(got.leeway, leeway);
        }
        // A clone shares the ready validations.
        assert!(Arc::ptr_eq(
            &keys.signing.validations,
            &keys.clone().signing.validations
        ));
    }
}
