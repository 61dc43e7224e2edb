//! Back end: the `AuthConfig` impl of a valid [`Container`].

use proc_macro2::{Span, TokenStream};
use quote::quote;

use super::parse::{Backend, Container, Kind, Options, SameSite, Setting, Strategy};
use super::rate::Rate;

/// `impl AuthConfig for Auth { const BACKENDS: .. = &[BackendSpec { .. }, ..]; }`, one spec per
/// `#[backend]` in declared order, defaults filled in, plus one const per `#[auth(..)]` key that
/// was given (the others keep the trait's defaults). `router()` is the trait's provided method.
pub(crate) fn auth_config(container: &Container) -> TokenStream {
    let ident = container.ident;
    let specs = container.backends.iter().map(backend_spec);
    let options = &container.options;
    let requires_verification = options
        .requires_verification
        .map(|value| quote!(const REQUIRES_VERIFICATION: bool = #value;));
    let reset = options
        .reset_token_lifetime
        .as_ref()
        .map(|lifetime| lifetime.value)
        .map(|value| quote!(const RESET_TOKEN_LIFETIME: u64 = #value;));
    let verify = options
        .verify_token_lifetime
        .as_ref()
        .map(|lifetime| lifetime.value)
        .map(|value| quote!(const VERIFY_TOKEN_LIFETIME: u64 = #value;));
    let rate_limits = rate_limits(options);
    quote! {
        #[automatically_derived]
        impl ::axum_users::__private::AuthConfig for #ident {
            const BACKENDS: &'static [::axum_users::__private::BackendSpec] = &[
                #(#specs,)*
            ];
            #requires_verification
            #reset
            #verify
            #rate_limits
        }
    }
}

/// `const RATE_LIMITS` when `rate_limits` or a limit key was given: the given limits over
/// `RateLimits::DEFAULT`, or over `RateLimits::OFF` after `rate_limits = false`.
fn rate_limits(options: &Options) -> Option<TokenStream> {
    if options.rate_limits.is_none() && options.limits.is_empty() {
        return None;
    }
    let base = match &options.rate_limits {
        Some(Setting { value: false, .. }) => quote!(::axum_users::__private::RateLimits::OFF),
        _ => quote!(::axum_users::__private::RateLimits::DEFAULT),
    };
    // A rejected value (`rate: None`) was an error, so this runs only with every value known.
    let fields = options.limits.iter().filter_map(|limit| {
        let field = syn::Ident::new(&limit.key.to_string(), Span::call_site());
        let value = match limit.rate? {
            Some(Rate { max, window }) => quote!(::core::option::Option::Some(
                ::axum_users::__private::Rate::new(#max, #window)
            )),
            None => quote!(::core::option::Option::None),
        };
        Some(quote!(#field: #value,))
    });
    Some(quote! {
        const RATE_LIMITS: ::axum_users::__private::RateLimits =
            ::axum_users::__private::RateLimits { #(#fields)* ..#base };
    })
}

fn backend_spec(backend: &Backend) -> TokenStream {
    let name = backend
        .name
        .as_ref()
        .map_or_else(|| backend.kind.as_str().to_owned(), syn::LitStr::value);
    let kind = match backend.kind {
        Kind::Jwt => quote!(::axum_users::__private::BackendKind::Jwt),
        Kind::Cookie => quote!(::axum_users::__private::BackendKind::Cookie),
    };
    let lifetime = backend
        .lifetime
        .as_ref()
        .map_or(3600, |lifetime| lifetime.value);
    let cookie_name = backend
        .cookie_name
        .as_ref()
        .map_or_else(|| "fastapiusersauth".to_owned(), syn::LitStr::value);
    let path = backend
        .path
        .as_ref()
        .map_or_else(|| "/".to_owned(), syn::LitStr::value);
    let domain = match &backend.domain {
        Some(lit) => {
            let domain = lit.value();
            quote!(::core::option::Option::Some(#domain))
        }
        None => quote!(::core::option::Option::None),
    };
    let secure = backend.secure.as_ref().is_none_or(|setting| setting.value);
    let http_only = backend
        .http_only
        .as_ref()
        .is_none_or(|setting| setting.value);
    let csrf = backend.csrf.as_ref().is_none_or(|setting| setting.value);
    let same_site = match backend
        .same_site
        .as_ref()
        .map_or(SameSite::Lax, |s| s.value)
    {
        SameSite::Lax => quote!(::axum_users::__private::SameSite::Lax),
        SameSite::Strict => quote!(::axum_users::__private::SameSite::Strict),
        SameSite::None => quote!(::axum_users::__private::SameSite::None),
    };
    let strategy = match backend.strategy.as_ref().map_or(Strategy::Jwt, |s| s.value) {
        Strategy::Jwt => quote!(::axum_users::__private::Strategy::Jwt),
        Strategy::Database => quote!(::axum_users::__private::Strategy::Database),
        Strategy::Redis => quote!(::axum_users::__private::Strategy::Redis),
    };
    quote! {
        ::axum_users::__private::BackendSpec {
            name: #name,
            kind: #kind,
            strategy: #strategy,
            lifetime: #lifetime,
            cookie: ::axum_users::__private::CookieSpec {
                name: #cookie_name,
                path: #path,
                domain: #domain,
                secure: #secure,
                http_only: #http_only,
                same_site: #same_site,
                csrf: #csrf,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::derive::expand;

    fn normalize(tokens: proc_macro2::TokenStream) -> String {
        tokens.to_string()
    }

    #[test]
    fn defaults() {
        let output = expand(&syn::parse_quote! {
            #[backend(jwt)]
            #[backend(cookie)]
            struct Auth;
        });
        let expected = quote::quote! {
            #[automatically_derived]
            impl ::axum_users::__private::AuthConfig for Auth {
                const BACKENDS: &'static [::axum_users::__private::BackendSpec] = &[
                    ::axum_users::__private::BackendSpec {
                        name: "jwt",
                        kind: ::axum_users::__private::BackendKind::Jwt,
                        strategy: ::axum_users::__private::Strategy::Jwt,
                        lifetime: 3600u64,
                        cookie: ::axum_users::__private::CookieSpec {
                            name: "fastapiusersauth",
                            path: "/",
                            domain: ::core::option::Option::None,
                            secure: true,
                            http_only: true,
                            same_site: ::axum_users::__private::SameSite::Lax,
                            csrf: true,
                        },
                    },
                    ::axum_users::__private::BackendSpec {
                        name: "cookie",
                        kind: ::axum_users::__private::BackendKind::Cookie,
                        strategy: ::axum_users::__private::Strategy::Jwt,
                        lifetime: 3600u64,
                        cookie: ::axum_users::__private::CookieSpec {
                            name: "fastapiusersauth",
                            path: "/",
                            domain: ::core::option::Option::None,
                            secure: true,
                            http_only: true,
                            same_site: ::axum_users::__private::SameSite::Lax,
                            csrf: true,
                        },
                    },
                ];
            }
        };
        assert_eq!(normalize(output), normalize(expected));
    }

    #[test]
    fn every_key() {
        let output = expand(&syn::parse_quote! {
            #[backend(cookie, name = "web", lifetime = 60, cookie_name = "sid", path = "/app",
                      domain = "example.com", secure = true, http_only = false, same_site = "STRICT")]
            struct Auth {
                unused: u8,
            }
        })
        .to_string();
        for expected in [
            "name : \"web\"",
            "BackendKind :: Cookie",
            "lifetime : 60u64",
            "name : \"sid\"",
            "path : \"/app\"",
            "domain : :: core :: option :: Option :: Some (\"example.com\")",
            "secure : true",
            "http_only : false",
            "SameSite :: Strict",
        ] {
            assert!(output.contains(expected), "{expected} not in {output}");
        }
    }

    #[test]
    fn errors_come_with_a_stub_impl_on_structs_only() {
        let output = expand(&syn::parse_quote! {
            #[backend(jwt, lifetime = 0)]
            struct Auth;
        })
        .to_string();
        assert!(output.contains("compile_error"), "{output}");
        assert!(
            output.contains(
                "BACKENDS : & 'static [:: axum_users :: __private :: BackendSpec] = & []"
            ),
            "{output}"
        );

        let output = expand(&syn::parse_quote! {
            #[backend(jwt)]
            struct Auth<T>(T);
        })
        .to_string();
        assert!(output.contains("compile_error"), "{output}");
        assert!(!output.contains("impl"), "{output}");
    }

    #[test]
    fn options_emit_only_the_given_consts() {
        let output = expand(&syn::parse_quote! {
            #[backend(jwt)]
            #[auth(requires_verification, reset_token_lifetime = 900u32, verify_token_lifetime = 86400)]
            struct Auth;
        })
        .to_string();
        for expected in [
            "const REQUIRES_VERIFICATION : bool = true ;",
            "const RESET_TOKEN_LIFETIME : u64 = 900u64 ;",
            "const VERIFY_TOKEN_LIFETIME : u64 = 86400u64 ;",
        ] {
            assert!(output.contains(expected), "{expected} not in {output}");
        }

        let output = expand(&syn::parse_quote! {
            #[auth(requires_verification = false)]
            #[backend(jwt)]
            struct Auth;
        })
        .to_string();
        assert!(
            output.contains("const REQUIRES_VERIFICATION : bool = false ;"),
            "{output}"
        );
        assert!(!output.contains("RESET_TOKEN_LIFETIME"), "{output}");
        assert!(!output.contains("VERIFY_TOKEN_LIFETIME"), "{output}");

        let output = expand(&syn::parse_quote! {
            #[backend(jwt)]
            struct Auth;
        })
        .to_string();
        assert!(!output.contains("REQUIRES_VERIFICATION"), "{output}");
    }

    #[test]
    fn option_errors_keep_the_stub_impl() {
        let output = expand(&syn::parse_quote! {
            #[backend(jwt)]
            #[auth(requires_verification, reset_token_lifetime = 0)]
            struct Auth;
        })
        .to_string();
        assert!(output.contains("compile_error"), "{output}");
        assert!(output.contains("= & []"), "{output}");
        assert!(!output.contains("REQUIRES_VERIFICATION"), "{output}");
    }

    #[test]
    fn rate_limits_over_the_defaults() {
        let output = expand(&syn::parse_quote! {
            #[backend(jwt)]
            #[auth(login_per_account = "5/15m", mail_per_client = "off", register_per_client = "10/d")]
            struct Auth;
        });
        let expected = quote::quote! {
            #[automatically_derived]
            impl ::axum_users::__private::AuthConfig for Auth {
                const BACKENDS: &'static [::axum_users::__private::BackendSpec] = &[
                    ::axum_users::__private::BackendSpec {
                        name: "jwt",
                        kind: ::axum_users::__private::BackendKind::Jwt,
                        strategy: ::axum_users::__private::Strategy::Jwt,
                        lifetime: 3600u64,
                        cookie: ::axum_users::__private::CookieSpec {
                            name: "fastapiusersauth",
                            path: "/",
                            domain: ::core::option::Option::None,
                            secure: true,
                            http_only: true,
                            same_site: ::axum_users::__private::SameSite::Lax,
                            csrf: true,
                        },
                    },
                ];
                const RATE_LIMITS: ::axum_users::__private::RateLimits =
                    ::axum_users::__private::RateLimits {
                        login_per_account: ::core::option::Option::Some(
                            ::axum_users::__private::Rate::new(5u32, 900u64)
                        ),
                        mail_per_client: ::core::option::Option::None,
                        register_per_client: ::core::option::Option::Some(
                            ::axum_users::__private::Rate::new(10u32, 86400u64)
                        ),
                        ..::axum_users::__private::RateLimits::DEFAULT
                    };
            }
        };
        assert_eq!(normalize(output), normalize(expected));
    }

    #[test]
    fn rate_limits_off_and_absent() {
        let output = expand(&syn::parse_quote! {
            #[backend(jwt)]
            #[auth(rate_limits = false)]
            struct Auth;
        })
        .to_string();
        assert!(
            output.contains(
                "const RATE_LIMITS : :: axum_users :: __private :: RateLimits = :: axum_users :: \
                 __private :: RateLimits { .. :: axum_users :: __private :: RateLimits :: OFF } ;"
            ),
            "{output}"
        );

        let output = expand(&syn::parse_quote! {
            #[backend(jwt)]
            #[auth(rate_limits = true, login_client_typo = "1/s")]
            struct Auth;
        })
        .to_string();
        assert!(output.contains("compile_error"), "{output}");
        assert!(!output.contains("RATE_LIMITS"), "{output}");

        let output = expand(&syn::parse_quote! {
            #[backend(jwt)]
            #[auth(rate_limits = true, requires_verification)]
            struct Auth;
        })
        .to_string();
        assert!(
            output
                .contains("RateLimits { .. :: axum_users :: __private :: RateLimits :: DEFAULT }"),
            "{output}"
        );

        for input in [
            syn::parse_quote! { #[backend(jwt)] struct Auth; },
            syn::parse_quote! { #[backend(jwt)] #[auth(requires_verification)] struct Auth; },
        ] {
            let output = expand(&input).to_string();
            assert!(!output.contains("RATE_LIMITS"), "{output}");
        }
    }

    #[test]
    fn csrf_setting() {
        let output = expand(&syn::parse_quote! {
            #[backend(cookie, name = "a", csrf = false)]
            #[backend(cookie, name = "b", csrf = true)]
            #[backend(cookie, name = "c")]
            struct Auth;
        })
        .to_string();
        let csrf: Vec<&str> = output
            .match_indices("csrf : ")
            .map(|(at, _)| &output[at + 7..at + 12])
            .collect();
        assert_eq!(csrf, ["false", "true ", "true "], "{output}");
    }
}
