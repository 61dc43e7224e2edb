//! Type-level description of what a guard requires: flags and the backends it may use.
//!
//! `#[protected(..)]` spells these types for you; write them yourself to use the guard
//! without the macro, e.g. `Protected<Req<false, false, true>>` for superusers.
//!
//! ```
//! use axum_users_runtime::requirement::{Req, Requirement};
//!
//! type VerifiedOnly = Req<false, true, false>; // `#[protected(verified)]`
//! assert!(VerifiedOnly::VERIFIED && VerifiedOnly::allows_backend("jwt"));
//! ```

use std::marker::PhantomData;

/// What a [`Protected`](crate::Protected) guard demands of the request.
///
/// [`Req`] implements it; the guard reads the constants and asks about backends:
///
/// ```
/// use axum_users_runtime::requirement::{Req, Requirement};
///
/// type Superuser = Req<false, false, true>; // `#[protected(superuser)]`
/// assert!(Superuser::SUPERUSER && !Superuser::VERIFIED && !Superuser::OPTIONAL);
/// assert!(Superuser::allows_backend("any-backend"));
/// assert_eq!(Superuser::backend_names(), None); // every backend
/// ```
pub trait Requirement: Send + Sync + 'static {
    /// Missing or failing credentials give `None` instead of a rejection.
    const OPTIONAL: bool;
    /// The user must be verified (403 otherwise).
    const VERIFIED: bool;
    /// The user must be a superuser (403 otherwise).
    const SUPERUSER: bool;
    /// Whether the backend called `name` may authenticate this request.
    fn allows_backend(name: &str) -> bool;
    /// The backend names this requirement restricts to (`None`: every backend).
    fn backend_names() -> Option<Vec<String>>;
    /// The first of [`backend_names`](Self::backend_names) that `declared` refuses (`None`:
    /// all declared, or every backend). The guard asks on every request: override it to answer
    /// without building the names.
    fn unknown_backend(declared: &dyn Fn(&str) -> bool) -> Option<String> {
        Self::backend_names()?.into_iter().find(|n| !declared(n))
    }
}

/// The requirement `#[protected(..)]` expands to.
///
/// `OPTIONAL`, `VERIFIED` and `SUPERUSER` are the macro's flags; `B` restricts the backends
/// ([`AllBackends`] by default, or a tuple of [`Name`]s).
///
/// ```
/// use axum_users_runtime::{CurrentUser, Protected, Req};
///
/// // What `#[protected(superuser)]` writes for you:
/// async fn admin(_: Protected<Req<false, false, true>>, user: CurrentUser) -> String {
///     user.email.clone()
/// }
/// ```
pub struct Req<const OPTIONAL: bool, const VERIFIED: bool, const SUPERUSER: bool, B = AllBackends>(
    PhantomData<fn() -> B>,
);

impl<const O: bool, const V: bool, const S: bool, B: BackendSet> Requirement for Req<O, V, S, B> {
    const OPTIONAL: bool = O;
    const VERIFIED: bool = V;
    const SUPERUSER: bool = S;
    fn allows_backend(name: &str) -> bool {
        B::contains(name)
    }
    fn backend_names() -> Option<Vec<String>> {
        B::names()
    }
    fn unknown_backend(declared: &dyn Fn(&str) -> bool) -> Option<String> {
        B::unknown(declared)
    }
}

/// A set of backend names, spelled as types: [`AllBackends`], or a tuple of up to eight
/// [`Name`]s.
///
/// ```
/// use axum_users_runtime::requirement::{encode_name, AllBackends, BackendSet, Name};
///
/// const JWT: (u128, u128) = match encode_name("jwt") { Some(p) => p, None => panic!() };
/// type JwtOnly = (Name<{ JWT.0 }, { JWT.1 }>,);
/// assert!(JwtOnly::contains("jwt") && !JwtOnly::contains("cookie"));
/// assert_eq!(JwtOnly::unknown(&|name| name == "cookie"), Some("jwt".to_owned()));
/// assert!(AllBackends::contains("cookie") && AllBackends::names().is_none());
/// ```
pub trait BackendSet: 'static {
    /// Whether `name` is in the set.
    fn contains(name: &str) -> bool;
    /// The names (`None`: every backend).
    fn names() -> Option<Vec<String>>;
    /// The first name that `declared` refuses (`None`: all declared, or every backend).
    fn unknown(declared: &dyn Fn(&str) -> bool) -> Option<String> {
        Self::names()?.into_iter().find(|n| !declared(n))
    }
}

/// Every declared backend: the default backend set of [`Req`].
///
/// ```
/// use axum_users_runtime::requirement::{AllBackends, BackendSet, Req, Requirement};
///
/// assert!(AllBackends::contains("whatever") && AllBackends::names().is_none());
/// assert!(<Req<false, false, false, AllBackends>>::allows_backend("jwt"));
/// ```
pub struct AllBackends;

impl BackendSet for AllBackends {
    fn contains(_: &str) -> bool {
        true
    }
    fn names() -> Option<Vec<String>> {
        None
    }
    fn unknown(_: &dyn Fn(&str) -> bool) -> Option<String> {
        None
    }
}

/// A backend name of at most 32 bytes encoded in two `u128`s: the bytes big-endian, padded with
/// zero bytes (`HI` holds bytes 0..16, `LO` bytes 16..32). Use [`encode_name`] to compute them.
///
/// What `#[protected(backends(jwt))]` writes, by hand:
///
/// ```
/// use axum_users_runtime::requirement::{encode_name, Name, Req, Requirement};
///
/// const JWT: (u128, u128) = match encode_name("jwt") { Some(p) => p, None => panic!() };
/// type JwtOnly = Req<false, false, false, (Name<{ JWT.0 }, { JWT.1 }>,)>;
/// assert!(JwtOnly::allows_backend("jwt") && !JwtOnly::allows_backend("cookie"));
/// assert_eq!(JwtOnly::backend_names(), Some(vec!["jwt".to_owned()]));
/// ```
pub struct Name<const HI: u128, const LO: u128>;

impl<const HI: u128, const LO: u128> Name<HI, LO> {
    fn decode() -> String {
        Self::with_name(str::to_owned)
    }

    /// `f` of the name, decoded on the stack (no allocation unless the bytes are not UTF-8).
    fn with_name<T>(f: impl FnOnce(&str) -> T) -> T {
        let mut bytes = [0u8; 32];
        bytes[..16].copy_from_slice(&HI.to_be_bytes());
        bytes[16..].copy_from_slice(&LO.to_be_bytes());
        let len = bytes.iter().rposition(|b| *b != 0).map_or(0, |i| i + 1);
        f(&String::from_utf8_lossy(&bytes[..len]))
    }
}

/// Encodes a backend name (at most 32 bytes, no NUL) as the two parameters of [`Name`].
///
/// ```
/// let (hi, lo) = axum_users_runtime::requirement::encode_name("jwt").unwrap();
/// assert_eq!(hi, u128::from_be_bytes(*b"jwt\0\0\0\0\0\0\0\0\0\0\0\0\0"));
/// assert_eq!(lo, 0);
/// ```
pub const fn encode_name(name: &str) -> Option<(u128, u128)> {
    let bytes = name.as_bytes();
    if bytes.is_empty() || bytes.len() > 32 {
        return None;
    }
    let mut buf = [0u8; 32];
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == 0 {
            return None;
        }
        buf[i] = bytes[i];
        i += 1;
    }
    let mut hi = [0u8; 16];
    let mut lo = [0u8; 16];
    let mut j = 0;
    while j < 16 {
        hi[j] = buf[j];
        lo[j] = buf[16 + j];
        j += 1;
    }
    Some((u128::from_be_bytes(hi), u128::from_be_bytes(lo)))
}

macro_rules! impl_tuple_set {
    ($($hi:ident $lo:ident),+) => {
        impl<$(const $hi: u128, const $lo: u128),+> BackendSet for ($(Name<$hi, $lo>,)+) {
            fn contains(name: &str) -> bool {
                $( Name::<$hi, $lo>::with_name(|n| n == name) )||+
            }
            fn names() -> Option<Vec<String>> {
                Some(vec![$( Name::<$hi, $lo>::decode() ),+])
            }
            fn unknown(declared: &dyn Fn(&str) -> bool) -> Option<String> {
                $(
                    if let Some(unknown) = Name::<$hi, $lo>::with_name(
                        |n| (!declared(n)).then(|| n.to_owned())
                    ) {
                        return Some(unknown);
                    }
                )+
                None
            }
        }
    };
}

impl_tuple_set!(A0 B0);
impl_tuple_set!(A0 B0, A1 B1);
impl_tuple_set!(A0 B0, A1 B1, A2 B2);
impl_tuple_set!(A0 B0, A1 B1, A2 B2, A3 B3);
impl_tuple_set!(A0 B0, A1 B1, A2 B2, A3 B3, A4 B4);
impl_tuple_set!(A0 B0, A1 B1, A2 B2, A3 B3, A4 B4, A5 B5);
impl_tuple_set!(A0 B0, A1 B1, A2 B2, A3 B3, A4 B4, A5 B5, A6 B6);
impl_tuple_set!(A0 B0, A1 B1, A2 B2, A3 B3, A4 B4, A5 B5, A6 B6, A7 B7);

#[cfg(test)]
mod tests {
    use super::*;

    macro_rules! name {
        ($s:literal) => {
            Name<
                { match encode_name($s) { Some((hi, _)) => hi, None => panic!() } },
                { match encode_name($s) { Some((_, lo)) => lo, None => panic!() } },
            >
        };
    }

    type Two = Req<false, false, false, (name!("jwt"), name!("a-name-of-exactly-thirty-two-b!!"))>;

    #[test]
    fn names_decode_and_match_without_building_them() {
        assert_eq!(
            Two::backend_names(),
            Some(vec![
                "jwt".to_owned(),
                "a-name-of-exactly-thirty-two-b!!".to_owned()
            ])
        );
        for name in ["jwt", "a-name-of-exactly-thirty-two-b!!"] {
            assert!(Two::allows_backend(name));
        }
        for name in [
            "",
            "jw",
            "jwt\0",
            "JWT",
            "cookie",
            "a-name-of-exactly-thirty-two-b!",
        ] {
            assert!(!Two::allows_backend(name), "{name:?}");
        }
        assert_eq!(Two::unknown_backend(&|_| true), None);
        assert_eq!(Two::unknown_backend(&|_| false), Some("jwt".to_owned()));
        assert_eq!(
            Two::unknown_backend(&|n| n == "jwt"),
            Some("a-name-of-exactly-thirty-two-b!!".to_owned())
        );
        type All = Req<false, false, false>;
        assert_eq!(All::unknown_backend(&|_| false), None);
        assert!(All::allows_backend("anything"));
    }
}
