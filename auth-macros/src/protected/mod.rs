//! `#[protected(..)]`: [`parse`] the options and the handler (with its checks), [`expand`] by
//! inserting the guard parameter. On any error the handler is re-emitted unchanged.

mod expand;
mod parse;

use proc_macro2::TokenStream;

use crate::fallback;

/// The whole attribute: the handler with its guard, or the original handler plus every error.
pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    match parse::Input::parse(args, item.clone()) {
        Ok(input) => expand::handler(input),
        Err(error) => fallback::protected(item, error),
    }
}
