//! Back end: the handler with the guard as its first parameter.

use proc_macro2::{Literal, Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::FnArg;

use super::parse::{Input, Options};
use crate::names;

/// Inserts `_: Protected<Req<..>>` first (after `self`), spanned at the attribute so that a
/// state that does not provide authentication is reported on `#[protected]`.
pub(crate) fn handler(input: Input) -> TokenStream {
    let Input {
        options,
        mut function,
    } = input;
    let guard = guard_param(&options, Span::call_site());
    let guard: FnArg = syn::parse2(guard).expect("the guard parameter is a valid FnArg");
    let at = usize::from(matches!(
        function.sig.inputs.first(),
        Some(FnArg::Receiver(_))
    ));
    function.sig.inputs.insert(at, guard);
    quote!(#function)
}

/// `_: ::axum_users::__private::Protected<::axum_users::__private::Req<O, V, S[, (Name<HI, LO>, ..)]>>`
fn guard_param(options: &Options, span: Span) -> TokenStream {
    let Options {
        optional,
        verified,
        superuser,
        backends,
    } = options;
    let backends = backends.as_ref().map(|backends| {
        let names = backends.iter().map(|name| {
            let (hi, lo) = names::encode(name);
            let (hi, lo) = (Literal::u128_suffixed(hi), Literal::u128_suffixed(lo));
            quote_spanned!(span=> ::axum_users::__private::Name<#hi, #lo>,)
        });
        quote_spanned!(span=> , (#(#names)*))
    });
    quote_spanned! {span=>
        _: ::axum_users::__private::Protected<
            ::axum_users::__private::Req<#optional, #verified, #superuser #backends>
        >
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand(args: TokenStream, item: TokenStream) -> String {
        normalize(crate::protected::expand(args, item))
    }

    /// Token text without the trailing commas rustfmt adds to the expected code.
    fn normalize(tokens: TokenStream) -> String {
        tokens
            .to_string()
            .replace(">>", "> >")
            .replace(" , >", " >")
            .replace(" ,)", ")")
    }

    #[test]
    fn inserts_the_guard_first() {
        assert_eq!(
            expand(
                quote!(verified),
                quote!(
                    pub async fn me(user: CurrentUser) -> String {
                        user.email
                    }
                )
            ),
            normalize(quote!(
                pub async fn me(
                    _: ::axum_users::__private::Protected<
                        ::axum_users::__private::Req<false, true, false>,
                    >,
                    user: CurrentUser,
                ) -> String {
                    user.email
                }
            ))
        );
    }

    #[test]
    fn after_the_receiver_keeping_generics_and_attributes() {
        assert_eq!(
            expand(
                quote!(optional, superuser),
                quote!(
                    #[doc = "x"]
                    async fn h<T: Send>(&self, t: T)
                    where
                        T: Sync,
                    {
                    }
                )
            ),
            normalize(quote!(
                #[doc = "x"]
                async fn h<T: Send>(
                    &self,
                    _: ::axum_users::__private::Protected<
                        ::axum_users::__private::Req<true, false, true>,
                    >,
                    t: T,
                ) where
                    T: Sync,
                {
                }
            ))
        );
    }

    #[test]
    fn encodes_backend_names() {
        let jwt = u128::from_be_bytes(*b"jwt\0\0\0\0\0\0\0\0\0\0\0\0\0");
        let long_hi = u128::from_be_bytes(*b"0123456789abcdef");
        let long_lo = u128::from_be_bytes(*b"g\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0");
        let (jwt, long_hi, long_lo) = (
            Literal::u128_suffixed(jwt),
            Literal::u128_suffixed(long_hi),
            Literal::u128_suffixed(long_lo),
        );
        assert_eq!(
            expand(
                quote!(backends("jwt", "0123456789abcdefg")),
                quote!(
                    async fn h() {}
                )
            ),
            normalize(quote!(
                async fn h(
                    _: ::axum_users::__private::Protected<::axum_users::__private::Req<
                        false, false, false,
                        (
                            ::axum_users::__private::Name<#jwt, 0u128>,
                            ::axum_users::__private::Name<#long_hi, #long_lo>,
                        )
                    >>
                ) {}
            ))
        );
    }

    #[test]
    fn errors_keep_the_original_function() {
        let item = quote!(
            fn h(x: u8) {}
        );
        let output = expand(quote!(verified), item.clone());
        assert!(output.starts_with(&item.to_string()), "{output}");
        assert!(output.contains("compile_error"), "{output}");
    }
}
