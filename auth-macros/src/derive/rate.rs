//! The value of a rate limit key: `"N/period"` or `"off"`.
//!
//! `N` is a whole number of at least 1 that fits a `u32`; `period` is an optional whole number
//! of at least 1 followed by a unit `s`, `m`, `h` or `d` (`"10/d"` is `"10/1d"`), and the window
//! it makes, in seconds, must fit a `u64`. Signs, spaces and other units are rejected.

/// The syntax, quoted in every error.
pub(crate) const EXPECTED: &str =
    "expected \"N/period\" such as \"5/15m\" (units s, m, h, d) or \"off\"";

/// At most `max` events per `window` seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Rate {
    pub(crate) max: u32,
    pub(crate) window: u64,
}

/// Parses the string written for `key`: `Ok(None)` for `"off"`, `Ok(Some(rate))` for a rate;
/// the error is a complete message.
pub(crate) fn parse(key: &str, written: &str) -> Result<Option<Rate>, String> {
    if written == "off" {
        return Ok(None);
    }
    let shown = format!("`{key} = {written:?}`");
    let Some((count, period)) = written.split_once('/') else {
        return Err(if written.eq_ignore_ascii_case("off") {
            format!("{shown}: write \"off\" in lower case; {EXPECTED}")
        } else {
            format!("{shown} has no `/`; {EXPECTED}")
        });
    };
    if count.is_empty() || !count.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "{shown}: the count {count:?} is not a whole number; {EXPECTED}"
        ));
    }
    let max = match count.parse::<u32>() {
        Ok(0) => {
            return Err(format!(
                "{shown} allows nothing: the count must be at least 1 \
                 (write \"off\" to turn the limit off)"
            ))
        }
        Ok(max) => max,
        Err(_) => {
            return Err(format!(
                "{shown}: the count {count} does not fit in a u32 (at most {})",
                u32::MAX
            ))
        }
    };

    let digits = period.bytes().take_while(u8::is_ascii_digit).count();
    let (number, unit) = period.split_at(digits);
    let seconds_per_unit: u64 = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 60 * 60,
        "d" => 24 * 60 * 60,
        "" if period.is_empty() => {
            return Err(format!(
                "{shown}: the period after `/` is missing; {EXPECTED}"
            ))
        }
        "" => {
            return Err(format!(
                "{shown}: the period {period:?} has no unit; {EXPECTED}"
            ))
        }
        _ => {
            return Err(format!(
                "{shown}: unknown unit {unit:?}; {EXPECTED}, where the units are s (seconds), \
                 m (minutes), h (hours) and d (days)"
            ))
        }
    };
    let units = if number.is_empty() {
        1
    } else {
        match number.parse::<u64>() {
            Ok(0) => {
                return Err(format!(
                    "{shown}: the period must be at least 1 second, e.g. \"5/15m\""
                ))
            }
            Ok(units) => units,
            Err(_) => return Err(too_long(&shown)),
        }
    };
    let window = units
        .checked_mul(seconds_per_unit)
        .ok_or_else(|| too_long(&shown))?;
    Ok(Some(Rate { max, window }))
}

fn too_long(shown: &str) -> String {
    format!(
        "{shown}: the period does not fit in a u64 number of seconds (at most {} s)",
        u64::MAX
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(written: &str) -> Result<Option<(u32, u64)>, String> {
        parse("login_per_account", written).map(|rate| rate.map(|r| (r.max, r.window)))
    }

    #[test]
    fn accepts_rates_and_off() {
        assert_eq!(rate("off"), Ok(None));
        assert_eq!(rate("5/15m"), Ok(Some((5, 900))));
        assert_eq!(rate("20/1h"), Ok(Some((20, 3600))));
        assert_eq!(rate("3/30s"), Ok(Some((3, 30))));
        assert_eq!(rate("10/d"), Ok(Some((10, 86400))));
        assert_eq!(rate("100/1d"), Ok(Some((100, 86400))));
        assert_eq!(rate("1/s"), Ok(Some((1, 1))));
        assert_eq!(rate("007/010m"), Ok(Some((7, 600))));
        assert_eq!(
            rate("4294967295/18446744073709551615s"),
            Ok(Some((u32::MAX, u64::MAX)))
        );
        assert_eq!(
            rate("1/213503982334601d"),
            Ok(Some((1, 213_503_982_334_601 * 86400)))
        );
    }

    #[test]
    fn rejects_with_precise_messages() {
        let err = |written: &str| rate(written).unwrap_err();
        assert_eq!(
            err("5 per minute"),
            format!("`login_per_account = \"5 per minute\"` has no `/`; {EXPECTED}")
        );
        assert!(err("OFF").contains("write \"off\" in lower case"));
        assert!(err("").contains("has no `/`"));
        for bad in ["/1m", "-1/1m", "+1/1m", " 1/1m", "1.5/1m", "x/1m", "1/2/3m"] {
            let message = err(bad);
            assert!(
                message.contains("is not a whole number") || message.contains("unknown unit"),
                "{bad}: {message}"
            );
            assert!(message.contains(EXPECTED), "{bad}: {message}");
        }
        assert_eq!(
            err("0/1m"),
            "`login_per_account = \"0/1m\"` allows nothing: the count must be at least 1 \
             (write \"off\" to turn the limit off)"
        );
        assert_eq!(
            err("4294967296/1m"),
            "`login_per_account = \"4294967296/1m\"`: the count 4294967296 does not fit in a u32 \
             (at most 4294967295)"
        );
        assert!(err("5/").contains("the period after `/` is missing"));
        assert!(err("5/15").contains("the period \"15\" has no unit"));
        for unit in ["w", "ms", "M", "H", "min", " m", "m ", "1m1s", "-1m", "+1m"] {
            let message = err(&format!("5/1{unit}"));
            assert!(message.contains("unknown unit"), "{unit}: {message}");
        }
        assert!(err("5/-1m").contains("unknown unit \"-1m\""));
        assert_eq!(
            err("5/0m"),
            "`login_per_account = \"5/0m\"`: the period must be at least 1 second, e.g. \"5/15m\""
        );
        assert!(err("5/0s").contains("at least 1 second"));
        for overflow in [
            "1/18446744073709551616s",
            "1/213503982334602d",
            "1/307445734561825861m",
            "1/99999999999999999999999h",
        ] {
            assert!(
                err(overflow).contains("does not fit in a u64 number of seconds"),
                "{overflow}"
            );
        }
    }
}
