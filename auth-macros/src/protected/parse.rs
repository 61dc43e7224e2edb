//! Front end: the options of `#[protected(..)]` and the checks on the handler.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Expr, FnArg, ItemFn, Lit, LitStr, Meta, Token};

use crate::ctxt::Ctxt;
use crate::names;

/// What the guard requires.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Options {
    pub(crate) optional: bool,
    pub(crate) verified: bool,
    pub(crate) superuser: bool,
    /// `backends(..)`, checked names in written order; `None`: every backend.
    pub(crate) backends: Option<Vec<String>>,
}

/// A checked handler and its options.
pub(crate) struct Input {
    pub(crate) options: Options,
    pub(crate) function: ItemFn,
}

/// axum implements `Handler` for functions of at most 16 extractors; the guard is one.
const MAX_PARAMS: usize = 15;
const OPTIONS_HELP: &str =
    "expected one of `verified`, `superuser`, `optional`, `backends(\"..\")`";

impl Input {
    /// Parses and checks everything, returning all the errors at once.
    pub(crate) fn parse(args: TokenStream, item: TokenStream) -> syn::Result<Self> {
        let mut cx = Ctxt::new();
        let options = Options::parse(&mut cx, args);
        let function = match syn::parse2::<ItemFn>(item.clone()) {
            Ok(function) => {
                check_handler(&mut cx, &function);
                Some(function)
            }
            Err(error) => {
                cx.syn_error(not_a_function(item, error));
                None
            }
        };
        cx.check()?;
        Ok(Input {
            options,
            function: function.expect("no error, so the item parsed"),
        })
    }
}

/// Rewords syn's "expected `fn`" when the item is some other item.
fn not_a_function(item: TokenStream, error: syn::Error) -> syn::Error {
    if syn::parse2::<syn::Item>(item).is_ok() {
        syn::Error::new(
            error.span(),
            "`#[protected]` applies to `async fn` handlers only",
        )
    } else {
        error
    }
}

fn check_handler(cx: &mut Ctxt, function: &ItemFn) {
    let sig = &function.sig;
    if sig.asyncness.is_none() {
        cx.error_spanned_by(sig.fn_token, "`#[protected]` handlers must be `async fn`");
    }
    if let Some(again) = function.attrs.iter().find(|attr| is_protected(attr)) {
        cx.error_spanned_by(
            again,
            "`#[protected]` is applied more than once; merge the options into one attribute",
        );
    }
    let params: Vec<&FnArg> = sig
        .inputs
        .iter()
        .filter(|arg| matches!(arg, FnArg::Typed(_)))
        .collect();
    if params.len() > MAX_PARAMS {
        cx.error_spanned_by(
            params[MAX_PARAMS],
            format!(
                "a protected handler can take at most {MAX_PARAMS} parameters; the guard takes one \
                 (axum handlers take at most 16 extractors)"
            ),
        );
    }
}

/// `#[protected]`, `#[protected(..)]`, `#[axum_users::protected]`, ...
fn is_protected(attr: &syn::Attribute) -> bool {
    attr.path()
        .segments
        .last()
        .is_some_and(|segment| segment.ident == "protected")
}

impl Options {
    pub(crate) fn parse(cx: &mut Ctxt, args: TokenStream) -> Self {
        let mut options = Options::default();
        let items = match Punctuated::<Meta, Token![,]>::parse_terminated.parse2(args) {
            Ok(items) => items,
            Err(error) => {
                cx.syn_error(error);
                return options;
            }
        };
        let mut seen: Vec<String> = Vec::new();
        for item in items {
            let path = item.path();
            let Some(option) = path.get_ident().map(ToString::to_string) else {
                let written = path.to_token_stream().to_string().replace(' ', "");
                cx.error_spanned_by(path, format!("unknown option `{written}`; {OPTIONS_HELP}"));
                continue;
            };
            let flag = match option.as_str() {
                "optional" => &mut options.optional,
                "verified" => &mut options.verified,
                "superuser" => &mut options.superuser,
                "backends" => {
                    if seen.contains(&option) {
                        cx.error_spanned_by(
                            path,
                            "duplicate option `backends`; list every backend in one `backends(..)`",
                        );
                        continue;
                    }
                    seen.push(option);
                    options.backends = backends(cx, &item);
                    continue;
                }
                _ => {
                    cx.error_spanned_by(path, format!("unknown option `{option}`; {OPTIONS_HELP}"));
                    continue;
                }
            };
            if seen.contains(&option) {
                cx.error_spanned_by(path, format!("duplicate option `{option}`"));
                continue;
            }
            if !matches!(item, Meta::Path(_)) {
                cx.error_spanned_by(
                    &item,
                    format!("`{option}` takes no value; write `#[protected({option})]`"),
                );
            }
            *flag = true;
            seen.push(option);
        }
        options
    }
}

/// `backends("a", "b")`: a non-empty list of distinct valid names.
fn backends(cx: &mut Ctxt, item: &Meta) -> Option<Vec<String>> {
    let Meta::List(list) = item else {
        cx.error_spanned_by(
            item,
            "expected a list of backend names, e.g. `backends(\"jwt\")`",
        );
        return None;
    };
    let exprs = match list.parse_args_with(Punctuated::<Expr, Token![,]>::parse_terminated) {
        Ok(exprs) => exprs,
        Err(error) => {
            cx.syn_error(error);
            return None;
        }
    };
    if exprs.is_empty() {
        cx.error_spanned_by(
            list,
            "`backends(..)` needs at least one backend name, e.g. `backends(\"jwt\")`",
        );
        return None;
    }
    let mut names: Vec<String> = Vec::new();
    let mut ok = true;
    for expr in &exprs {
        let Some(lit) = string_literal(expr) else {
            cx.error_spanned_by(
                expr,
                "expected a backend name as a string literal, e.g. `backends(\"jwt\")`",
            );
            ok = false;
            continue;
        };
        let name = lit.value();
        if let Err(message) = names::check_backend_name(&name) {
            cx.error_spanned_by(lit, message);
            ok = false;
        } else if names.contains(&name) {
            cx.error_spanned_by(
                lit,
                format!("backend {name:?} is listed twice in `backends(..)`"),
            );
            ok = false;
        } else {
            names.push(name);
        }
    }
    ok.then_some(names)
}

fn string_literal(expr: &Expr) -> Option<&LitStr> {
    match expr {
        Expr::Lit(syn::ExprLit {
            lit: Lit::Str(lit), ..
        }) => Some(lit),
        Expr::Group(group) => string_literal(&group.expr),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn options(args: TokenStream) -> Result<Options, Vec<String>> {
        let mut cx = Ctxt::new();
        let options = Options::parse(&mut cx, args);
        match cx.check() {
            Ok(()) => Ok(options),
            Err(error) => Err(error.into_iter().map(|e| e.to_string()).collect()),
        }
    }

    fn errors(args: TokenStream, item: TokenStream) -> Vec<String> {
        match Input::parse(args, item) {
            Ok(_) => Vec::new(),
            Err(error) => error.into_iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn flags_in_any_order() {
        assert_eq!(options(quote!()), Ok(Options::default()));
        assert_eq!(
            options(quote!(superuser, optional, verified,)),
            Ok(Options {
                optional: true,
                verified: true,
                superuser: true,
                backends: None
            })
        );
        assert_eq!(
            options(quote!(backends("jwt", "my-cookie"), verified)),
            Ok(Options {
                verified: true,
                backends: Some(vec!["jwt".into(), "my-cookie".into()]),
                ..Options::default()
            })
        );
    }

    #[test]
    fn option_errors() {
        assert_eq!(
            options(quote!(admin, verified, verified, optional = true)),
            Err(vec![
                format!("unknown option `admin`; {OPTIONS_HELP}"),
                "duplicate option `verified`".into(),
                "`optional` takes no value; write `#[protected(optional)]`".into(),
            ])
        );
        assert_eq!(
            options(quote!(backends())),
            Err(vec![
                "`backends(..)` needs at least one backend name, e.g. `backends(\"jwt\")`".into()
            ])
        );
        let errors = options(quote!(
            backends(
                jwt,
                "a b",
                "jwt",
                "jwt",
                "0123456789abcdef0123456789abcdefX"
            ),
            backends("x")
        ))
        .unwrap_err();
        assert_eq!(errors.len(), 5, "{errors:?}");
        assert!(errors[0].starts_with("expected a backend name as a string literal"));
        assert!(errors[1].contains("not URL-safe"));
        assert_eq!(
            errors[2],
            "backend \"jwt\" is listed twice in `backends(..)`"
        );
        assert!(errors[3].contains("the limit is 32 bytes"));
        assert!(errors[4].starts_with("duplicate option `backends`"));
    }

    #[test]
    fn handler_errors() {
        assert_eq!(
            errors(
                quote!(),
                quote!(
                    fn f() {}
                )
            ),
            ["`#[protected]` handlers must be `async fn`"]
        );
        assert_eq!(
            errors(
                quote!(),
                quote!(
                    struct S;
                )
            ),
            ["`#[protected]` applies to `async fn` handlers only"]
        );
        assert_eq!(
            errors(
                quote!(),
                quote!(
                    #[axum_users::protected(verified)]
                    async fn f() {}
                )
            ),
            ["`#[protected]` is applied more than once; merge the options into one attribute"]
        );
        let fifteen = quote!(
            async fn f(
                a: A,
                b: B,
                c: C,
                d: D,
                e: E,
                f: F,
                g: G,
                h: H,
                i: I,
                j: J,
                k: K,
                l: L,
                m: M,
                n: N,
                o: O,
            ) {
            }
        );
        assert!(errors(quote!(), fifteen).is_empty());
        let sixteen = quote!(
            async fn f(
                &self,
                a: A,
                b: B,
                c: C,
                d: D,
                e: E,
                f: F,
                g: G,
                h: H,
                i: I,
                j: J,
                k: K,
                l: L,
                m: M,
                n: N,
                o: O,
                p: P,
            ) {
            }
        );
        let errors = errors(quote!(bogus), sixteen);
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors[1].starts_with(
            "a protected handler can take at most 15 parameters; the guard takes one"
        ));
    }
}
