//! `#[derive(AuthConfig)]`: [`parse`] the `#[backend(..)]` and `#[auth(..)]` attributes into a
//! [`parse::Container`], [`validate`] the values and their combinations, [`expand`] to the
//! `AuthConfig` impl.

mod expand;
mod parse;
mod validate;

use proc_macro2::TokenStream;

use crate::ctxt::Ctxt;
use crate::fallback;

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
