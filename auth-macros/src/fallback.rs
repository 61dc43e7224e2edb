//! What to emit when the input is rejected, so that the errors are the only ones the user sees
//! (thiserror-impl's `fallback.rs`, tokio-macros' `token_stream_with_error`).

use proc_macro2::TokenStream;
use quote::quote;

/// `#[derive(AuthConfig)]` failed on a non-generic struct: the errors plus an impl with no
/// backends, so that `Auth::router()` and `Protected<..>` in the rest of the crate still
/// type-check.
pub(crate) fn derive_auth_config(ident: &syn::Ident, error: syn::Error) -> TokenStream {
    let error = error.into_compile_error();
    quote! {
        #error
        #[automatically_derived]
        impl ::axum_users::__private::AuthConfig for #ident {
            const BACKENDS: &'static [::axum_users::__private::BackendSpec] = &[];
        }
    }
}

/// `#[protected]` failed: the item exactly as written plus the errors, so that routing code
/// that uses the handler still type-checks.
pub(crate) fn protected(item: TokenStream, error: syn::Error) -> TokenStream {
    let error = error.into_compile_error();
    quote! {
        #item
        #error
    }
}
