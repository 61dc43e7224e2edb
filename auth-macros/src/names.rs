//! Backend names: the rules shared by `#[backend(name = ..)]` and `#[protected(backends(..))]`,
//! and their type-level encoding.

/// Longest backend name, in bytes (what two `u128`s hold).
pub(crate) const MAX_LEN: usize = 32;

/// Checks that `name` can be a path segment of `/auth/{name}/login` as it is: non-empty, at
/// most [`MAX_LEN`] bytes, only RFC 3986 unreserved characters, and not a dot-segment.
///
/// The error is a complete message.
pub(crate) fn check_backend_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("backend name must not be empty".to_owned());
    }
    if let Some(bad) = name.chars().find(|&c| !is_url_safe(c)) {
        return Err(format!(
            "backend name {name:?} contains {bad:?}, which is not URL-safe; \
             use only ASCII letters, digits, `-`, `.`, `_` and `~`"
        ));
    }
    if name == "." || name == ".." {
        return Err(format!(
            "backend name {name:?} is a dot-segment that URL normalization removes from \
             `/auth/{name}/login`; choose another name"
        ));
    }
    if name.len() > MAX_LEN {
        return Err(format!(
            "backend name {name:?} is {} bytes long; the limit is {MAX_LEN} bytes",
            name.len()
        ));
    }
    Ok(())
}

fn is_url_safe(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~')
}

/// Encodes a checked name as the two parameters of `Name<HI, LO>`: its bytes big-endian, padded
/// with zero bytes to 32; `HI` holds bytes 0..16 and `LO` bytes 16..32.
///
/// # Panics
/// If `name` is longer than [`MAX_LEN`] bytes (callers check first).
pub(crate) fn encode(name: &str) -> (u128, u128) {
    let bytes = name.as_bytes();
    assert!(
        bytes.len() <= MAX_LEN,
        "backend name longer than {MAX_LEN} bytes"
    );
    let mut buf = [0u8; MAX_LEN];
    buf[..bytes.len()].copy_from_slice(bytes);
    let (hi, lo) = buf.split_at(16);
    (
        u128::from_be_bytes(hi.try_into().expect("16 bytes")),
        u128::from_be_bytes(lo.try_into().expect("16 bytes")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_short_name() {
        assert_eq!(
            encode("jwt"),
            (u128::from_be_bytes(*b"jwt\0\0\0\0\0\0\0\0\0\0\0\0\0"), 0)
        );
    }

    #[test]
    fn encode_spans_both_halves() {
        let name = "0123456789abcdefXY";
        let (hi, lo) = encode(name);
        assert_eq!(hi.to_be_bytes(), *b"0123456789abcdef");
        assert_eq!(lo.to_be_bytes(), *b"XY\0\0\0\0\0\0\0\0\0\0\0\0\0\0");
    }

    #[test]
    fn encode_full_length_round_trips() {
        let name = "abcdefghijklmnopqrstuvwxyz012345";
        assert_eq!(name.len(), MAX_LEN);
        let (hi, lo) = encode(name);
        let mut bytes = hi.to_be_bytes().to_vec();
        bytes.extend_from_slice(&lo.to_be_bytes());
        assert_eq!(bytes, name.as_bytes());
    }

    #[test]
    fn accepts_unreserved_names() {
        for name in ["jwt", "cookie", "my-jwt", "a.b_c~d", "X9", "..."] {
            assert_eq!(check_backend_name(name), Ok(()), "{name}");
        }
        assert!(check_backend_name(&"a".repeat(32)).is_ok());
    }

    #[test]
    fn rejects_bad_names() {
        assert_eq!(
            check_backend_name(""),
            Err("backend name must not be empty".into())
        );
        let err = check_backend_name("my jwt").unwrap_err();
        assert!(err.contains("contains ' '"), "{err}");
        assert!(check_backend_name("a/b").unwrap_err().contains("'/'"));
        assert!(check_backend_name("é")
            .unwrap_err()
            .contains("not URL-safe"));
        assert!(check_backend_name("..")
            .unwrap_err()
            .contains("dot-segment"));
        assert!(check_backend_name(".").is_err());
        let err = check_backend_name(&"a".repeat(33)).unwrap_err();
        assert!(
            err.contains("33 bytes long; the limit is 32 bytes"),
            "{err}"
        );
    }
}
