//! Property tests of the attribute parsers: random `#[backend(..)]`, `#[auth(..)]` and
//! `#[protected(..)]` contents, built from a grammar of fragments (the real keys and wrong
//! ones, `=`, `,`, literals of every kind, negative and huge numbers, odd strings, nested
//! groups, paths), go through the macros' `proc_macro2` entry points. Whatever the input, the
//! macro must not panic and must emit well-formed items: the expansion, or `compile_error!`s
//! (plus the stub impl or the unchanged handler).
//!
//! A second property feeds only valid rate limits and checks the emitted values.

use proc_macro2::{Delimiter, Group, Literal, TokenStream, TokenTree};
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::Config;
use quote::quote;

/// 1000 cases per property (about 2 s each in a debug build), or `PROPTEST_CASES`.
fn config() -> Config {
    let default = Config::default();
    Config {
        cases: if std::env::var_os("PROPTEST_CASES").is_some() {
            default.cases
        } else {
            1000
        },
        // Failures print the shrunk input; nothing is written into the source tree.
        failure_persistence: None,
        ..default
    }
}

fn tokens(source: &str) -> TokenStream {
    source
        .parse()
        .unwrap_or_else(|error| panic!("fragment {source:?} does not lex: {error}"))
}

/// Keys and options, right and wrong, and a few paths.
fn word() -> impl Strategy<Value = TokenStream> {
    const WORDS: &[&str] = &[
        "jwt",
        "cookie",
        "name",
        "lifetime",
        "strategy",
        "cookie_name",
        "path",
        "domain",
        "secure",
        "http_only",
        "same_site",
        "csrf",
        "requires_verification",
        "reset_token_lifetime",
        "verify_token_lifetime",
        "rate_limits",
        "login_per_account",
        "login_per_client",
        "register_per_client",
        "mail_per_account",
        "mail_per_client",
        "verified",
        "superuser",
        "optional",
        "backends",
        "off",
        "none",
        "lax",
        "Strict",
        "redis",
        "database",
        "true",
        "false",
        "colour",
        "Name",
        "CSRF",
        "self",
        "crate",
        "async",
        "_",
        "r#name",
        "r#csrf",
        "a::b",
        "::jwt",
        "backend::name",
        "auth",
        "Self::x",
        "<T as X>::y",
    ];
    select(WORDS).prop_map(tokens)
}

/// Strings shaped like rates, right and wrong.
fn rate_string() -> impl Strategy<Value = String> {
    let count = prop_oneof![
        select(
            &[
                "0",
                "1",
                "5",
                "007",
                "4294967295",
                "4294967296",
                "99999999999999999999999",
                "-1",
                "+2",
                " 3",
                "",
                "x",
                "1.5",
                "٣",
            ][..]
        )
        .prop_map(str::to_owned),
        (1u32..100).prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
    ];
    let number = prop_oneof![
        select(
            &[
                "",
                "0",
                "1",
                "15",
                "18446744073709551615",
                "18446744073709551616",
                "213503982334601",
                "213503982334602",
                "-1",
                "+1",
                "1_0",
            ][..]
        )
        .prop_map(str::to_owned),
        (0u32..100).prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
    ];
    let unit = prop_oneof![
        2 => select(&["s", "m", "h", "d"][..]),
        1 => select(&["", "w", "ms", "M", " s", "s ", "ss", "/", "é"][..]),
    ];
    prop_oneof![
        6 => (count, number, unit).prop_map(|(c, n, u)| format!("{c}/{n}{u}")),
        1 => select(&["off", "OFF", "Off", "", "/", "//", "5/15m/1h", "off/5m"][..])
            .prop_map(str::to_owned),
    ]
}

/// One literal token (or a sign and a literal).
fn literal() -> impl Strategy<Value = TokenStream> {
    fn lit(literal: Literal) -> TokenStream {
        TokenTree::Literal(literal).into()
    }
    prop_oneof![
        1 => any::<u128>().prop_map(|n| lit(Literal::u128_unsuffixed(n))),
        // A negative value makes one negative literal token, as a macro_rules! caller can.
        1 => any::<i64>().prop_map(|n| lit(Literal::i64_unsuffixed(n))),
        1 => (0u64..100_000).prop_map(|n| lit(Literal::u64_unsuffixed(n))),
        1 => any::<u8>().prop_map(|n| lit(Literal::u8_suffixed(n))),
        1 => any::<i32>().prop_map(|n| lit(Literal::i32_suffixed(n))),
        1 => (-1e9f64..1e9).prop_map(|x| lit(Literal::f64_unsuffixed(x))),
        3 => rate_string().prop_map(|s| lit(Literal::string(&s))),
        1 => any::<String>().prop_map(|s| lit(Literal::string(&s))),
        1 => "[a-z/.~ \\-_;=\"\\\\]{0,12}".prop_map(|s| lit(Literal::string(&s))),
        1 => any::<char>().prop_map(|c| lit(Literal::character(c))),
        1 => prop::collection::vec(any::<u8>(), 0..8).prop_map(|b| lit(Literal::byte_string(&b))),
        1 => select(&[
            "340282366920938463463374607431768211456",
            "1_000",
            "0x1F",
            "0b101",
            "0o17",
            "1e10",
            "5u8",
            "7i128",
            "3usize",
            "60u16",
            "1.5f32",
            "r#\"raw \" string\"#",
            "b'x'",
            "'a'",
            "\"5/15m\"suffix",
            "\"\"",
            "\"off\"",
            "\"\\u{0}\\n\"",
            "true",
            "false",
            "- 5",
            "-0",
            "--1",
        ][..])
        .prop_map(tokens),
    ]
}

fn punct() -> impl Strategy<Value = TokenStream> {
    select(
        &[
            "=", ",", "-", "::", "#", "!", ".", "..", "=>", ";", "/", "&", "?", "@",
        ][..],
    )
    .prop_map(tokens)
}

/// A fragment: a word, a literal, a punctuation, or a group of fragments.
fn fragment() -> impl Strategy<Value = TokenStream> {
    let leaf = prop_oneof![3 => word(), 3 => literal(), 2 => punct()];
    leaf.prop_recursive(3, 32, 6, |inner| {
        (
            select(
                &[
                    Delimiter::Parenthesis,
                    Delimiter::Bracket,
                    Delimiter::Brace,
                    Delimiter::None,
                ][..],
            ),
            prop::collection::vec(inner, 0..6),
        )
            .prop_map(|(delimiter, parts)| {
                TokenTree::Group(Group::new(delimiter, parts.into_iter().collect())).into()
            })
    })
}

fn fragments(max: usize) -> impl Strategy<Value = TokenStream> {
    prop::collection::vec(fragment(), 0..max).prop_map(|parts| parts.into_iter().collect())
}

/// A real key with a plausible value, right or wrong, so that some inputs are accepted.
fn plausible() -> impl Strategy<Value = TokenStream> {
    let limit = (
        select(crate::derive::LIMIT_KEYS),
        prop_oneof![valid_rate().prop_map(|(written, _)| written), rate_string()],
    )
        .prop_map(|(key, value)| {
            let key = quote::format_ident!("{key}");
            quote!(#key = #value)
        });
    prop_oneof![
        3 => select(&[
            "name = \"web\"",
            "name = \"jwt\"",
            "name = \"a b\"",
            "lifetime = 60",
            "lifetime = 0",
            "strategy = redis",
            "strategy = \"Database\"",
            "secure = false",
            "secure = true",
            "http_only = false",
            "same_site = none",
            "same_site = \"strict\"",
            "csrf = false",
            "csrf = true",
            "cookie_name = \"sid\"",
            "path = \"/app\"",
            "domain = \"example.com\"",
            "requires_verification",
            "reset_token_lifetime = 900",
            "verify_token_lifetime = 1",
            "rate_limits = true",
            "rate_limits = false",
            "verified",
            "superuser",
            "optional",
            "backends(\"jwt\", \"web\")",
        ][..])
        .prop_map(tokens),
        2 => limit,
    ]
}

/// One argument: mostly `key`, `key = value` or `key(..)`, sometimes noise.
fn argument() -> impl Strategy<Value = TokenStream> {
    let value = prop_oneof![
        4 => literal(),
        2 => word(),
        1 => literal().prop_map(|lit| quote!(-#lit)),
        1 => fragment(),
    ];
    prop_oneof![
        20 => plausible(),
        2 => word(),
        6 => (word(), value).prop_map(|(key, value)| quote!(#key = #value)),
        1 => (word(), fragments(4)).prop_map(|(key, inner)| quote!(#key(#inner))),
        1 => fragments(4),
    ]
}

/// Arguments separated mostly by commas.
fn arguments() -> impl Strategy<Value = TokenStream> {
    let separator = prop_oneof![16 => Just(quote!(,)), 1 => Just(quote!()), 1 => punct()];
    (
        prop::collection::vec((argument(), separator), 0..6),
        any::<bool>(),
    )
        .prop_map(|(parts, trailing)| {
            let mut out = TokenStream::new();
            let count = parts.len();
            for (index, (argument, separator)) in parts.into_iter().enumerate() {
                out.extend(argument);
                if index + 1 < count || trailing {
                    out.extend(separator);
                }
            }
            out
        })
}

/// `#[backend(..)]`, `#[auth(..)]` (or another attribute) as a list, a path or `= literal`.
fn attribute() -> impl Strategy<Value = TokenStream> {
    let name =
        select(&["backend", "backend", "backend", "auth", "auth", "doc"][..]).prop_map(tokens);
    let kind = prop_oneof![
        3 => select(&["jwt,", "cookie,"][..]).prop_map(tokens),
        1 => Just(TokenStream::new()),
    ];
    prop_oneof![
        8 => (name.clone(), kind, arguments())
            .prop_map(|(name, kind, args)| quote!(#[#name(#kind #args)])),
        1 => name.clone().prop_map(|name| quote!(#[#name])),
        1 => (name, literal()).prop_map(|(name, value)| quote!(#[#name = #value])),
    ]
}

fn data_shape() -> impl Strategy<Value = TokenStream> {
    prop_oneof![
        6 => Just(quote!(struct Auth;)),
        1 => Just(quote!(struct Auth { a: u8 })),
        1 => Just(quote!(pub(crate) struct Auth(u8);)),
        1 => Just(quote!(struct Auth<T>(T);)),
        1 => Just(quote!(struct Auth where Self: Sized;)),
        1 => Just(quote!(enum Auth { A })),
        1 => Just(quote!(union Auth { a: u8 })),
    ]
}

/// What a `compile_error!` item looks like: `::core::compile_error! { "message" }`.
fn is_compile_error(item: &syn::Item) -> bool {
    match item {
        syn::Item::Macro(item) => {
            item.mac.path.segments.last().unwrap().ident == "compile_error"
                && syn::parse2::<syn::LitStr>(item.mac.tokens.clone())
                    .is_ok_and(|message| !message.value().is_empty())
        }
        _ => false,
    }
}

/// The derive's output: one `impl AuthConfig`, or errors with at most one (stub) impl.
/// Returns whether the input was accepted.
fn check_derive_output(output: TokenStream) -> Result<bool, TestCaseError> {
    let file: syn::File = syn::parse2(output.clone())
        .map_err(|error| TestCaseError::fail(format!("not items ({error}): {output}")))?;
    let (mut errors, mut impls) = (0, 0);
    for item in &file.items {
        match item {
            item if is_compile_error(item) => errors += 1,
            syn::Item::Impl(item)
                if item.trait_.as_ref().is_some_and(|(_, path, _)| {
                    path.segments.last().unwrap().ident == "AuthConfig"
                }) =>
            {
                impls += 1;
            }
            _ => return Err(TestCaseError::fail(format!("unexpected item in {output}"))),
        }
    }
    prop_assert!(impls <= 1, "{output}");
    prop_assert!(errors > 0 || impls == 1, "{output}");
    Ok(errors == 0)
}

/// Items `#[protected]` is applied to (the compiler only ever passes an item).
fn handler() -> impl Strategy<Value = TokenStream> {
    prop_oneof![
        Just(quote!(
            async fn h() {}
        )),
        Just(quote!(
            async fn h(user: CurrentUser) -> String {
                user.email
            }
        )),
        Just(quote!(
            pub async fn h(&self, a: A, (b, c): (B, C)) {}
        )),
        Just(quote!(
            fn h() {}
        )),
        Just(quote!(
            #[protected]
            async fn h() {}
        )),
        Just(quote!(
            #[doc = "x"]
            async unsafe extern "C" fn h<T: X>(t: T)
            where
                T: Y,
            {
            }
        )),
        Just(quote!(
            struct S;
        )),
        Just(quote!(impl X for Y {})),
        (0usize..18).prop_map(|count| {
            let params = (0..count).map(|i| {
                let name = quote::format_ident!("p{i}");
                quote!(#name: u8)
            });
            quote!(async fn h(#(#params),*) {})
        }),
    ]
}

fn typed_params(function: &syn::ItemFn) -> usize {
    function
        .sig
        .inputs
        .iter()
        .filter(|arg| matches!(arg, syn::FnArg::Typed(_)))
        .count()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn derive_never_panics_and_emits_items(
        attrs in prop::collection::vec(attribute(), 0..4),
        shape in data_shape(),
    ) {
        let input = quote!(#(#attrs)* #shape);
        check_derive_output(crate::derive::expand_tokens(input))?;
    }

    #[test]
    fn protected_never_panics_and_emits_items(args in arguments(), item in handler()) {
        let output = crate::protected::expand(args, item.clone());
        let file: syn::File = syn::parse2(output.clone())
            .map_err(|error| TestCaseError::fail(format!("not items ({error}): {output}")))?;
        let errors = file.items.iter().filter(|item| is_compile_error(item)).count();
        if errors == 0 {
            // The handler with one more parameter, the guard.
            prop_assert_eq!(file.items.len(), 1, "{}", output);
            let syn::Item::Fn(function) = &file.items[0] else {
                return Err(TestCaseError::fail(format!("not a fn: {output}")));
            };
            let original: syn::ItemFn = syn::parse2(item).expect("accepted, so a fn");
            prop_assert_eq!(typed_params(function), typed_params(&original) + 1);
        } else {
            // The handler unchanged, then the errors.
            prop_assert_eq!(errors, file.items.len() - 1, "{}", output);
            let original: syn::Item = syn::parse2(item).expect("an item");
            prop_assert_eq!(&file.items[0], &original);
        }
    }

    #[test]
    fn valid_rate_limits_are_emitted_exactly(
        limits in prop::sample::subsequence(crate::derive::LIMIT_KEYS, 0..=5).prop_shuffle(),
        rates in prop::collection::vec(valid_rate(), 5),
        defaults in prop::option::of(Just(quote!(rate_limits = true,))),
        csrf in prop::option::of(any::<bool>()),
    ) {
        let pairs: Vec<_> = limits.iter().zip(&rates).collect();
        let keys = pairs.iter().map(|(key, (written, _))| {
            let key = quote::format_ident!("{key}");
            quote!(#key = #written,)
        });
        let csrf_key = csrf.map(|value| quote!(, csrf = #value));
        let input = quote! {
            #[backend(cookie #csrf_key)]
            #[auth(#defaults #(#keys)* requires_verification)]
            struct Auth;
        };
        let output = crate::derive::expand_tokens(input);
        prop_assert!(check_derive_output(output.clone())?, "rejected: {}", output);
        let output = output.to_string();
        for (key, (_, rate)) in &pairs {
            let value = match rate {
                Some((max, window)) => format!(
                    ":: core :: option :: Option :: Some \
                     (:: axum_users :: __private :: Rate :: new ({max}u32 , {window}u64))"
                ),
                None => ":: core :: option :: Option :: None".to_owned(),
            };
            let field = format!("{key} : {value} ,");
            prop_assert!(output.contains(&field), "{} not in {}", field, output);
        }
        let emitted = !limits.is_empty() || defaults.is_some();
        prop_assert_eq!(output.contains("const RATE_LIMITS"), emitted);
        let csrf_value = format!("csrf : {}", csrf.unwrap_or(true));
        prop_assert!(output.contains(&csrf_value), "{}", output);
    }
}

/// A valid rate as written and its value: `"off"` or `"N/period"` in every accepted form.
fn valid_rate() -> impl Strategy<Value = (String, Option<(u32, u64)>)> {
    let unit = select(&[("s", 1u64), ("m", 60), ("h", 3600), ("d", 86400)][..]);
    let rate = (1u32.., unit, any::<bool>(), any::<u64>(), any::<bool>()).prop_map(
        |(max, (unit, seconds), bare, number, zero_padded)| {
            let number = number % (u64::MAX / seconds) + 1;
            let period = match (bare, zero_padded) {
                (true, _) => unit.to_owned(),
                (false, false) => format!("{number}{unit}"),
                (false, true) => format!("0{number}{unit}"),
            };
            let window = if bare { seconds } else { number * seconds };
            (format!("{max}/{period}"), Some((max, window)))
        },
    );
    prop_oneof![5 => rate, 1 => Just(("off".to_owned(), None))]
}
