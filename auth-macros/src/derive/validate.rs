//! Checks on the values and on their combinations, after parsing (thiserror-impl's `valid.rs`,
//! serde_derive's `check.rs`).

use super::parse::{Backend, Checks, Lifetime, Options, SameSite, Setting};
use crate::ctxt::Ctxt;
use crate::names;

/// A check on a string value; the error is a complete message.
type ValueCheck = fn(&str) -> Result<(), String>;

/// What [`super::parse::Container::from_ast`] runs on each attribute.
pub(crate) const CHECKS: Checks = Checks {
    backend: check_backend,
    options: check_options,
};

/// The values of one backend.
pub(crate) fn check_backend(cx: &mut Ctxt, backend: &Backend) {
    if let Some(name) = &backend.name {
        if let Err(message) = names::check_backend_name(&name.value()) {
            cx.error_spanned_by(name, message);
        }
    }
    check_lifetime(cx, backend.lifetime.as_ref(), "lifetime");
    let checks: [(_, ValueCheck); 3] = [
        (&backend.cookie_name, check_cookie_name),
        (&backend.path, check_cookie_path),
        (&backend.domain, check_cookie_domain),
    ];
    for (lit, check) in checks {
        if let Some(lit) = lit {
            if let Err(message) = check(&lit.value()) {
                cx.error_spanned_by(lit, message);
            }
        }
    }
    if let (Some(same_site), Some(secure)) = (&backend.same_site, &backend.secure) {
        if same_site.value == SameSite::None && !secure.value {
            cx.error_spanned_by(
                &secure.tokens,
                "`same_site = none` requires `secure = true`: \
                 browsers reject `SameSite=None` cookies that are not `Secure`",
            );
        }
    }
}

/// The values of `#[auth(..)]`.
pub(crate) fn check_options(cx: &mut Ctxt, options: &Options) {
    check_lifetime(
        cx,
        options.reset_token_lifetime.as_ref(),
        "reset_token_lifetime",
    );
    check_lifetime(
        cx,
        options.verify_token_lifetime.as_ref(),
        "verify_token_lifetime",
    );
    if let Some(Setting { value: false, .. }) = &options.rate_limits {
        for limit in &options.limits {
            cx.error_spanned_by(
                &limit.key,
                "`rate_limits = false` turns every limit off; remove one of them",
            );
        }
    }
}

/// Lifetimes are at least 1 second (negative ones were rejected by the parser).
fn check_lifetime(cx: &mut Ctxt, lifetime: Option<&Lifetime>, key: &str) {
    if let Some(lifetime) = lifetime {
        if lifetime.value == 0 {
            cx.error_spanned_by(&lifetime.lit, format!("`{key}` must be at least 1 second"));
        }
    }
}

/// Names form the route paths `/auth/{name}/login`, so two backends may not share one.
pub(crate) fn check_unique_names(cx: &mut Ctxt, backends: &[Backend]) {
    let mut seen: Vec<String> = Vec::new();
    for backend in backends {
        if backend.name_rejected {
            continue;
        }
        let name = backend
            .name
            .as_ref()
            .map_or_else(|| backend.kind.as_str().to_owned(), syn::LitStr::value);
        if seen.contains(&name) {
            let message = format!(
                "duplicate backend name {name:?}: backend names must be unique because \
                 they form the route path `/auth/{name}/login`"
            );
            match &backend.name {
                Some(lit) => cx.error_spanned_by(lit, message),
                None => cx.syn_error(syn::Error::new(
                    backend.kind_span,
                    format!(
                        "{message}; a backend without `name` is named after its kind, \
                         so give this one a `name = \"..\"`"
                    ),
                )),
            }
        } else {
            seen.push(name);
        }
    }
}

/// RFC 6265 `cookie-name`: a non-empty token of visible ASCII without separators.
pub(crate) fn check_cookie_name(name: &str) -> Result<(), String> {
    const SEPARATORS: &str = "()<>@,;:\\\"/[]?={}";
    if name.is_empty() {
        return Err("`cookie_name` must not be empty".to_owned());
    }
    match name
        .chars()
        .find(|&c| !c.is_ascii_graphic() || SEPARATORS.contains(c))
    {
        Some(bad) => Err(format!(
            "`cookie_name` {name:?} contains {bad:?}; a cookie name is an RFC 6265 token: \
             visible ASCII characters except separators `()<>@,;:\\\"/[]?={{}}` and spaces"
        )),
        None => Ok(()),
    }
}

/// The `Path` attribute: absolute, and nothing that would end or corrupt the attribute.
pub(crate) fn check_cookie_path(path: &str) -> Result<(), String> {
    if !path.starts_with('/') {
        return Err(format!(
            "`path` {path:?} must start with `/`, e.g. `path = \"/\"`"
        ));
    }
    if let Some(bad) = path.chars().find(|&c| c == ';' || c.is_control()) {
        return Err(format!("`path` {path:?} must not contain {bad:?}"));
    }
    Ok(())
}

/// The `Domain` attribute: non-empty, without `;`, whitespace or control characters.
pub(crate) fn check_cookie_domain(domain: &str) -> Result<(), String> {
    if domain.is_empty() {
        return Err("`domain` must not be empty; leave it out for a host-only cookie".to_owned());
    }
    if let Some(bad) = domain
        .chars()
        .find(|&c| c == ';' || c.is_whitespace() || c.is_control())
    {
        return Err(format!("`domain` {domain:?} must not contain {bad:?}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::derive::parse::Container;

    fn errors(input: syn::DeriveInput) -> Vec<String> {
        let mut cx = Ctxt::new();
        let container = Container::from_ast(&mut cx, &input, &CHECKS);
        check_unique_names(&mut cx, &container.backends);
        match cx.check() {
            Ok(()) => Vec::new(),
            Err(error) => error.into_iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn cookie_name_is_a_token() {
        assert!(check_cookie_name("fastapiusersauth").is_ok());
        assert!(check_cookie_name("__Host-id!#$%&'*+.^_`|~").is_ok());
        assert!(check_cookie_name("").is_err());
        for bad in ["a b", "a;b", "a=b", "a\"b", "a{b", "é", "a\tb"] {
            assert!(check_cookie_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn cookie_path_and_domain() {
        assert!(check_cookie_path("/").is_ok());
        assert!(check_cookie_path("/api/v1").is_ok());
        assert!(check_cookie_path("api")
            .unwrap_err()
            .contains("must start with `/`"));
        assert!(check_cookie_path("/a;b").is_err());
        assert!(check_cookie_path("/a\nb").is_err());
        assert!(check_cookie_domain("example.com").is_ok());
        assert!(check_cookie_domain("").is_err());
        assert!(check_cookie_domain("a b").is_err());
        assert!(check_cookie_domain("a;b").is_err());
        assert!(check_cookie_domain("a\u{7f}").is_err());
    }

    #[test]
    fn valid_input_has_no_errors() {
        assert_eq!(
            errors(syn::parse_quote! {
                #[backend(jwt)]
                #[backend(cookie, name = "web", lifetime = 60, cookie_name = "sid", path = "/app",
                          domain = "example.com", secure = true, http_only = false, same_site = "None")]
                struct Auth;
            }),
            Vec::<String>::new()
        );
    }

    #[test]
    fn reports_every_error() {
        let errors = errors(syn::parse_quote! {
            #[backend(jwt, lifetime = 0, cookie_name = "x")]
            #[backend(cookie, lifetime = "1h", secure = "yes", same_site = sometimes)]
            #[backend(jwt, name = jwt, lifetime = 1, lifetime = 2)]
            #[backend(oauth)]
            #[backend(cookie, name = "jwt", colour = "red")]
            #[backend(cookie, same_site = none, secure = false)]
            struct Auth;
        });
        assert_eq!(
            errors,
            [
                "`cookie_name` only applies to cookie backends",
                "`lifetime` must be at least 1 second",
                "expected an integer number of seconds, e.g. `lifetime = 3600`",
                "expected `true` or `false`, e.g. `secure = true`",
                "expected `lax`, `strict` or `none`, e.g. `same_site = lax`",
                "expected a string literal, e.g. `name = \"jwt\"`",
                "duplicate key `lifetime`",
                "unknown backend kind `oauth`, expected `jwt` or `cookie`",
                "unknown key `colour` for a cookie backend; expected one of `name`, `lifetime`, `strategy`, \
                 `cookie_name`, `path`, `domain`, `secure`, `http_only`, `same_site`, `csrf`",
                "`same_site = none` requires `secure = true`: browsers reject `SameSite=None` \
                 cookies that are not `Secure`",
                "duplicate backend name \"jwt\": backend names must be unique because they form \
                 the route path `/auth/jwt/login`",
                "duplicate backend name \"cookie\": backend names must be unique because they form \
                 the route path `/auth/cookie/login`; a backend without `name` is named after its \
                 kind, so give this one a `name = \"..\"`",
            ]
        );
    }

    #[test]
    fn shape_errors() {
        assert_eq!(
            errors(syn::parse_quote! { struct Auth; }),
            [
                "`#[derive(AuthConfig)]` needs at least one `#[backend(..)]` attribute, \
              e.g. `#[backend(jwt, name = \"jwt\", lifetime = 3600)]`"
            ]
        );
        let errors = errors(syn::parse_quote! {
            #[backend(jwt)]
            enum Auth<T> { A(T) }
        });
        assert_eq!(errors.len(), 2);
        assert!(errors[0].contains("only supports structs"));
        assert!(errors[1].contains("does not support generic parameters"));
    }

    #[test]
    fn missing_kind() {
        let errors = errors(syn::parse_quote! {
            #[backend]
            #[backend()]
            #[backend(name = "x")]
            #[backend(lifetime)]
            struct Auth;
        });
        assert_eq!(errors.len(), 4, "{errors:?}");
        assert!(
            errors.iter().all(|e| e.contains("missing backend kind")),
            "{errors:?}"
        );
    }

    const OPTION_KEYS: &str =
        "`requires_verification`, `reset_token_lifetime`, `verify_token_lifetime`, \
         `rate_limits`, `login_per_account`, `login_per_client`, `register_per_client`, \
         `mail_per_account`, `mail_per_client`";

    #[test]
    fn valid_options_have_no_errors() {
        for input in [
            syn::parse_quote! {
                #[auth(requires_verification, reset_token_lifetime = 900, verify_token_lifetime = 1)]
                #[backend(jwt)]
                struct Auth;
            },
            syn::parse_quote! {
                #[backend(jwt)]
                #[auth(verify_token_lifetime = 86400u64, requires_verification = false)]
                struct Auth;
            },
        ] {
            assert_eq!(errors(input), Vec::<String>::new());
        }
    }

    #[test]
    fn option_errors() {
        let errors = errors(syn::parse_quote! {
            #[auth(requires_verification = "yes", reset_token_lifetime = 0, colour = 1,
                   verify_token_lifetime = "1h", reset_token_lifetime = 5, lifetime = 60)]
            #[backend(jwt)]
            struct Auth;
        });
        assert_eq!(
            errors,
            [
                "expected `true` or `false`, e.g. `requires_verification = true`".to_owned(),
                format!("unknown key `colour` in `#[auth(..)]`; expected one of {OPTION_KEYS}"),
                "expected an integer number of seconds, e.g. `verify_token_lifetime = 3600`"
                    .to_owned(),
                "duplicate key `reset_token_lifetime`".to_owned(),
                format!(
                    "unknown key `lifetime` in `#[auth(..)]`; expected one of {OPTION_KEYS}; \
                     `lifetime` belongs in `#[backend(..)]`"
                ),
                // Value checks run once the attribute is parsed, as for `#[backend]`.
                "`reset_token_lifetime` must be at least 1 second".to_owned(),
            ]
        );
    }

    #[test]
    fn option_shapes() {
        let shapes = errors(syn::parse_quote! {
            #[backend(jwt)]
            #[auth(requires_verification(true), reset_token_lifetime, verify_token_lifetime = -5)]
            struct Auth;
        });
        assert_eq!(
            shapes,
            [
                "expected `requires_verification` or `requires_verification = true`",
                "expected a value: `reset_token_lifetime = 3600`",
                "`verify_token_lifetime` must be at least 1 second",
            ]
        );

        let empty =
            format!("empty `#[auth]`: give at least one of {OPTION_KEYS}, or remove the attribute");
        for input in [
            syn::parse_quote! { #[backend(jwt)] #[auth] struct Auth; },
            syn::parse_quote! { #[backend(jwt)] #[auth()] struct Auth; },
        ] {
            assert_eq!(errors(input), [empty.as_str()]);
        }
        assert_eq!(
            errors(syn::parse_quote! { #[backend(jwt)] #[auth = 1] struct Auth; }),
            [format!(
                "expected `#[auth(key, key = value, ..)]` with keys {OPTION_KEYS}"
            )]
        );
    }

    #[test]
    fn options_at_most_once_in_source_order() {
        let errors = errors(syn::parse_quote! {
            #[backend(jwt, lifetime = 0)]
            #[auth(reset_token_lifetime = 0)]
            #[backend(cookie, secure = 1)]
            #[auth(requires_verification)]
            #[auth(colour)]
            struct Auth;
        });
        assert_eq!(
            errors,
            [
                "`lifetime` must be at least 1 second",
                "`reset_token_lifetime` must be at least 1 second",
                "expected `true` or `false`, e.g. `secure = true`",
                "`#[auth(..)]` may appear only once; merge its keys into the first one",
                "`#[auth(..)]` may appear only once; merge its keys into the first one",
            ]
        );
    }

    const RATE_EXPECTED: &str =
        "expected \"N/period\" such as \"5/15m\" (units s, m, h, d) or \"off\"";

    #[test]
    fn valid_rate_limits_have_no_errors() {
        for input in [
            syn::parse_quote! {
                #[backend(jwt)]
                #[auth(login_per_account = "3/30m", login_per_client = "off",
                       register_per_client = "10/d", mail_per_account = "1/1s",
                       mail_per_client = "100/1d", rate_limits = true)]
                struct Auth;
            },
            syn::parse_quote! {
                #[auth(rate_limits = false, requires_verification)]
                #[backend(cookie, csrf = false)]
                struct Auth;
            },
        ] {
            assert_eq!(errors(input), Vec::<String>::new());
        }
    }

    #[test]
    fn rate_limit_errors_in_source_order() {
        let errors = errors(syn::parse_quote! {
            #[backend(jwt)]
            #[auth(login_per_account = "5 per 15m", login_per_client = "0/1m",
                   register_per_client = "4294967296/1h", mail_per_account = "1/2w",
                   mail_per_client = 5, login_per_account = "off", rate_limits = "no",
                   mail_per_client, rate_limits(false))]
            struct Auth;
        });
        assert_eq!(
            errors,
            [
                format!("`login_per_account = \"5 per 15m\"` has no `/`; {RATE_EXPECTED}"),
                "`login_per_client = \"0/1m\"` allows nothing: the count must be at least 1 \
                 (write \"off\" to turn the limit off)"
                    .to_owned(),
                "`register_per_client = \"4294967296/1h\"`: the count 4294967296 does not fit \
                 in a u32 (at most 4294967295)"
                    .to_owned(),
                format!(
                    "`mail_per_account = \"1/2w\"`: unknown unit \"w\"; {RATE_EXPECTED}, where the \
                     units are s (seconds), m (minutes), h (hours) and d (days)"
                ),
                format!(
                    "expected a string literal: {RATE_EXPECTED}, e.g. `mail_per_client = \"5/15m\"`"
                ),
                "duplicate key `login_per_account`".to_owned(),
                "expected `true` or `false`, e.g. `rate_limits = true`".to_owned(),
                "duplicate key `mail_per_client`".to_owned(),
                "duplicate key `rate_limits`".to_owned(),
            ]
        );

        let shapes = super::tests::errors(syn::parse_quote! {
            #[backend(jwt)]
            #[auth(rate_limits, login_per_account, login_per_client = -3)]
            struct Auth;
        });
        assert_eq!(
            shapes,
            [
                "expected a value: `rate_limits = false`".to_owned(),
                "expected a value: `login_per_account = \"5/15m\"`".to_owned(),
                format!(
                    "expected a string literal: {RATE_EXPECTED}, e.g. `login_per_client = \"5/15m\"`"
                ),
            ]
        );
    }

    #[test]
    fn rate_limits_false_conflicts_with_every_limit_key() {
        let conflict = "`rate_limits = false` turns every limit off; remove one of them";
        let errors = errors(syn::parse_quote! {
            #[backend(jwt)]
            #[auth(login_per_account = "5/15m", rate_limits = false, mail_per_client = "off",
                   register_per_client = "0/1m")]
            struct Auth;
        });
        assert_eq!(errors.len(), 4, "{errors:?}");
        assert!(errors[0].contains("allows nothing"), "{errors:?}");
        assert_eq!(errors[1..], [conflict, conflict, conflict]);
        // `rate_limits = true` is the defaults: no conflict.
        assert!(super::tests::errors(syn::parse_quote! {
            #[backend(jwt)]
            #[auth(login_per_account = "5/15m", rate_limits = true)]
            struct Auth;
        })
        .is_empty());
    }

    #[test]
    fn csrf_is_a_cookie_bool() {
        let errors = errors(syn::parse_quote! {
            #[backend(jwt, csrf = false)]
            #[backend(cookie, name = "a", csrf = "no")]
            #[backend(cookie, name = "b", csrf, csrf = true)]
            #[backend(cookie, name = "c", csrf = true, csrf = false)]
            #[backend(jwt, name = "d", login_per_account = "5/15m")]
            struct Auth;
        });
        assert_eq!(
            errors,
            [
                "`csrf` only applies to cookie backends",
                "expected `true` or `false`, e.g. `csrf = true`",
                "expected a value: `csrf = true`",
                "duplicate key `csrf`",
                "duplicate key `csrf`",
                "unknown key `login_per_account` for a jwt backend; expected one of `name`, \
                 `lifetime`, `strategy`; `login_per_account` belongs in `#[auth(..)]`",
            ]
        );
    }
}
