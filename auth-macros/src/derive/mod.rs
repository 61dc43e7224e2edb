//! `#[derive(AuthConfig)]`: [`parse`] the `#[backend(..)]` and `#[auth(..)]` attributes into a
//! [`parse::Container`], [`validate`] the values and their combinations, [`expand`] to the
//! `AuthConfig` impl.

mod expand;
mod parse;
mod rate;
mod validate;

use proc_macro2::TokenStream;

use crate::ctxt::Ctxt;
use crate::fallback;

#[cfg(test)]
pub(crate) use parse::LIMIT_KEYS;

/// The derive from its input tokens (what `#[proc_macro_derive]` receives, as `proc_macro2`
/// tokens): the impl, or compile errors.
pub(crate) fn expand_tokens(input: TokenStream) -> TokenStream {
    match syn::parse2::<syn::DeriveInput>(input) {
        Ok(input) => expand(&input),
        Err(error) => error.into_compile_error(),
    }
}

/// The whole derive: the impl on success; otherwise every error, plus a stub impl when the
/// input is a struct the impl could be written for.
pub(crate) fn expand(input: &syn::DeriveInput) -> TokenStream {
    let mut cx = Ctxt::new();
    let container = parse::Container::from_ast(&mut cx, input, &validate::CHECKS);
    validate::check_unique_names(&mut cx, &container.backends);
    match cx.check() {
        Ok(()) => expand::auth_config(&container),
        Err(error) if container.stub_allowed => fallback::derive_auth_config(&input.ident, error),
        Err(error) => error.into_compile_error(),
    }
}
