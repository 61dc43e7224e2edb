//! Checks on the values and on their combinations, after parsing (thiserror-impl's `valid.rs`,
//! serde_derive's `check.rs`).

use super::parse::{Backend, SameSite};
use crate::ctxt::Ctxt;
use crate::names;

/// A check on a string value; the error is a complete message.
type ValueCheck = fn(&str) -> Result<(), String>;

/// The values of one backend.
pub(crate) fn check_backend(cx: &mut Ctxt, backend: &Backend) {
    if let Some(name) = &backend.name {
        if let Err(message) = names::check_backend_name(&name.value()) {
            cx.error_spanned_by(name, message);
        }
    }
    if let Some(lifetime) = &backend.lifetime {
        if lifetime.value == 0 {
            cx.error_spanned_by(&lifetime.lit, "`lifetime` must be at least 1 second");
        }
    }
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
        let container = Container::from_ast(&mut cx, &input, check_backend);
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
                "unknown key `colour` for a cookie backend; expected one of `name`, `lifetime`, \
                 `cookie_name`, `path`, `domain`, `secure`, `http_only`, `same_site`",
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
}
