//! Type-level description of what a guard requires: flags and the backends it may use.
//!
//! `#[protected(..)]` spells these types for you; write them yourself to use the guard
//! without the macro, e.g. `Protected<Req<false, false, true>>` for superusers.

use std::marker::PhantomData;

/// What a [`Protected`](crate::Protected) guard demands of the request.
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
}

/// A set of backend names, spelled as types.
pub trait BackendSet: 'static {
    /// Whether `name` is in the set.
    fn contains(name: &str) -> bool;
    /// The names (`None`: every backend).
    fn names() -> Option<Vec<String>>;
}

/// Every declared backend.
pub struct AllBackends;

impl BackendSet for AllBackends {
    fn contains(_: &str) -> bool {
        true
    }
    fn names() -> Option<Vec<String>> {
        None
    }
}

/// A backend name of at most 32 bytes encoded in two `u128`s: the bytes big-endian, padded with
/// zero bytes (`HI` holds bytes 0..16, `LO` bytes 16..32). Use [`encode_name`] to compute them.
pub struct Name<const HI: u128, const LO: u128>;

impl<const HI: u128, const LO: u128> Name<HI, LO> {
    fn decode() -> String {
        let mut bytes = Vec::with_capacity(32);
        bytes.extend_from_slice(&HI.to_be_bytes());
        bytes.extend_from_slice(&LO.to_be_bytes());
        while bytes.last() == Some(&0) {
            bytes.pop();
        }
        String::from_utf8_lossy(&bytes).into_owned()
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
                $( Name::<$hi, $lo>::decode() == name )||+
            }
            fn names() -> Option<Vec<String>> {
                Some(vec![$( Name::<$hi, $lo>::decode() ),+])
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
