//! Front end: the struct, its `#[backend(KIND, key = value, ..)]` attributes and its optional
//! `#[auth(key, key = value, ..)]`, as a typed model that keeps the tokens of every value for
//! error spans.
//!
//! This stage checks the grammar and the value *types*; [`super::validate`] checks the values.

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::punctuated::Punctuated;
use syn::{Expr, ExprLit, ExprPath, Lit, LitBool, LitInt, LitStr, Meta, MetaNameValue, Token};

use super::rate::{self, Rate};
use crate::ctxt::Ctxt;

/// The derive input.
pub(crate) struct Container<'a> {
    pub(crate) ident: &'a syn::Ident,
    /// The backends whose kind is known, in declared order.
    pub(crate) backends: Vec<Backend>,
    /// Whether a fallback `AuthConfig` impl may be emitted on error (a non-generic struct).
    pub(crate) stub_allowed: bool,
    /// The `#[auth(..)]` options.
    pub(crate) options: Options,
}

/// The `#[auth(..)]` options; `None` keeps the trait's default.
#[derive(Default)]
pub(crate) struct Options {
    pub(crate) requires_verification: Option<bool>,
    pub(crate) reset_token_lifetime: Option<Lifetime>,
    pub(crate) verify_token_lifetime: Option<Lifetime>,
    /// `rate_limits = true / false`.
    pub(crate) rate_limits: Option<Setting<bool>>,
    /// The rate limit keys given, in written order (each at most once).
    pub(crate) limits: Vec<Limit>,
}

/// `login_per_account = "5/15m"` (or another key of [`LIMIT_KEYS`]).
pub(crate) struct Limit {
    /// The key as written; also the field of `RateLimits` it sets.
    pub(crate) key: syn::Ident,
    /// `Some(None)` for `"off"`; `None` when the value was rejected (the error is in the
    /// `Ctxt`).
    pub(crate) rate: Option<Option<Rate>>,
}

/// The rate limit keys of `#[auth(..)]`, named after the fields of `RateLimits`.
pub(crate) const LIMIT_KEYS: &[&str] = &[
    "login_per_account",
    "login_per_client",
    "register_per_client",
    "mail_per_account",
    "mail_per_client",
];

const OPTIONS_ATTR: &str = "auth";
const OPTION_KEYS: &[&str] = &[
    "requires_verification",
    "reset_token_lifetime",
    "verify_token_lifetime",
    "rate_limits",
    "login_per_account",
    "login_per_client",
    "register_per_client",
    "mail_per_account",
    "mail_per_client",
];

impl Options {
    /// Parses one `#[auth(key, key = value, ..)]`; rejected keys are left `None`.
    fn from_attr(cx: &mut Ctxt, attr: &syn::Attribute) -> Self {
        let mut options = Options::default();
        let items = match &attr.meta {
            Meta::List(list) => {
                match list.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated) {
                    Ok(items) => items,
                    Err(error) => {
                        cx.syn_error(error);
                        return options;
                    }
                }
            }
            Meta::Path(_) => Punctuated::new(),
            Meta::NameValue(nv) => {
                cx.error_spanned_by(
                    nv,
                    format!(
                        "expected `#[auth(key, key = value, ..)]` with keys {}",
                        list(OPTION_KEYS)
                    ),
                );
                return options;
            }
        };
        if items.is_empty() {
            cx.error_spanned_by(
                attr,
                format!(
                    "empty `#[auth]`: give at least one of {}, or remove the attribute",
                    list(OPTION_KEYS)
                ),
            );
            return options;
        }

        let mut seen: Vec<String> = Vec::new();
        for item in items {
            let path = item.path();
            let key = path.get_ident().map_or_else(
                || path.to_token_stream().to_string().replace(' ', ""),
                ToString::to_string,
            );
            if !OPTION_KEYS.contains(&key.as_str()) {
                let elsewhere =
                    if ALL_KEYS.contains(&key.as_str()) || key == "jwt" || key == "cookie" {
                        format!("; `{key}` belongs in `#[backend(..)]`")
                    } else {
                        String::new()
                    };
                cx.error_spanned_by(
                    path,
                    format!(
                        "unknown key `{key}` in `#[auth(..)]`; expected one of {}{elsewhere}",
                        list(OPTION_KEYS)
                    ),
                );
                continue;
            }
            if seen.contains(&key) {
                cx.error_spanned_by(path, format!("duplicate key `{key}`"));
                continue;
            }
            seen.push(key.clone());

            match (key.as_str(), item) {
                ("requires_verification", Meta::Path(_)) => {
                    options.requires_verification = Some(true);
                }
                ("requires_verification", Meta::NameValue(nv)) => {
                    options.requires_verification =
                        boolean(cx, &nv, "requires_verification").map(|setting| setting.value);
                }
                ("requires_verification", other) => cx.error_spanned_by(
                    &other,
                    "expected `requires_verification` or `requires_verification = true`",
                ),
                ("reset_token_lifetime", Meta::NameValue(nv)) => {
                    options.reset_token_lifetime = lifetime(cx, &nv, "reset_token_lifetime");
                }
                ("verify_token_lifetime", Meta::NameValue(nv)) => {
                    options.verify_token_lifetime = lifetime(cx, &nv, "verify_token_lifetime");
                }
                ("rate_limits", Meta::NameValue(nv)) => {
                    options.rate_limits = boolean(cx, &nv, "rate_limits");
                }
                (limit, Meta::NameValue(nv)) if LIMIT_KEYS.contains(&limit) => {
                    let rate = rate_value(cx, &nv, limit);
                    options.limits.push(Limit {
                        key: nv.path.get_ident().expect("a known key").clone(),
                        rate,
                    });
                }
                (_, other) => cx.error_spanned_by(
                    &other,
                    format!("expected a value: `{key} = {}`", example(&key)),
                ),
            }
        }
        options
    }
}

/// The value checks of [`super::validate`], passed in so that they run on each attribute right
/// after it is parsed.
pub(crate) struct Checks {
    pub(crate) backend: fn(&mut Ctxt, &Backend),
    pub(crate) options: fn(&mut Ctxt, &Options),
}

/// One `#[backend(..)]` attribute; `None` fields take their defaults.
pub(crate) struct Backend {
    pub(crate) kind: Kind,
    /// The kind ident, where errors about the default name land.
    pub(crate) kind_span: Span,
    pub(crate) name: Option<LitStr>,
    /// `name = ..` was written but rejected: skip the uniqueness check rather than compare
    /// the default name.
    pub(crate) name_rejected: bool,
    pub(crate) lifetime: Option<Lifetime>,
    pub(crate) cookie_name: Option<LitStr>,
    pub(crate) path: Option<LitStr>,
    pub(crate) domain: Option<LitStr>,
    pub(crate) secure: Option<Setting<bool>>,
    pub(crate) http_only: Option<Setting<bool>>,
    pub(crate) same_site: Option<Setting<SameSite>>,
    pub(crate) strategy: Option<Setting<Strategy>>,
    pub(crate) csrf: Option<Setting<bool>>,
}

/// A parsed value and the tokens of the whole `key = value`, for errors about the setting.
pub(crate) struct Setting<T> {
    pub(crate) value: T,
    pub(crate) tokens: TokenStream,
}

/// `lifetime = N` (or `reset_token_lifetime = N`, ..): the value if it fits `u64` (otherwise an error was recorded), and its tokens.
pub(crate) struct Lifetime {
    pub(crate) value: u64,
    pub(crate) lit: LitInt,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Jwt,
    Cookie,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Strategy {
    Jwt,
    Database,
    Redis,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SameSite {
    Lax,
    Strict,
    None,
}

impl Kind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Kind::Jwt => "jwt",
            Kind::Cookie => "cookie",
        }
    }

    fn keys(self) -> &'static [&'static str] {
        match self {
            Kind::Jwt => COMMON_KEYS,
            Kind::Cookie => ALL_KEYS,
        }
    }
}

const ATTR: &str = "backend";
const COMMON_KEYS: &[&str] = &["name", "lifetime", "strategy"];
const COOKIE_KEYS: &[&str] = &[
    "cookie_name",
    "path",
    "domain",
    "secure",
    "http_only",
    "same_site",
    "csrf",
];
const ALL_KEYS: &[&str] = &[
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
];
const KIND_HELP: &str = "expected `jwt` or `cookie`";

impl<'a> Container<'a> {
    /// Reads the input, recording every problem in `cx`; `checks` run on each attribute right
    /// after it is parsed, so that errors come out in source order.
    pub(crate) fn from_ast(cx: &mut Ctxt, input: &'a syn::DeriveInput, checks: &Checks) -> Self {
        let mut stub_allowed = true;
        match &input.data {
            syn::Data::Struct(_) => {}
            syn::Data::Enum(data) => {
                stub_allowed = false;
                cx.error_spanned_by(
                    data.enum_token,
                    "`#[derive(AuthConfig)]` only supports structs, e.g. `struct Auth;`",
                );
            }
            syn::Data::Union(data) => {
                stub_allowed = false;
                cx.error_spanned_by(
                    data.union_token,
                    "`#[derive(AuthConfig)]` only supports structs, e.g. `struct Auth;`",
                );
            }
        }
        if !input.generics.params.is_empty() || input.generics.where_clause.is_some() {
            stub_allowed = false;
            cx.error_spanned_by(
                &input.generics,
                "`#[derive(AuthConfig)]` does not support generic parameters; \
                 declare the backends on a plain struct such as `struct Auth;`",
            );
        }

        if !input.attrs.iter().any(|attr| attr.path().is_ident(ATTR)) {
            cx.error_spanned_by(
                &input.ident,
                "`#[derive(AuthConfig)]` needs at least one `#[backend(..)]` attribute, \
                 e.g. `#[backend(jwt, name = \"jwt\", lifetime = 3600)]`",
            );
        }
        let mut backends = Vec::new();
        let mut options: Option<Options> = None;
        for attr in &input.attrs {
            if attr.path().is_ident(ATTR) {
                if let Some(backend) = Backend::from_attr(cx, attr) {
                    (checks.backend)(cx, &backend);
                    backends.push(backend);
                }
            } else if attr.path().is_ident(OPTIONS_ATTR) {
                if options.is_some() {
                    cx.error_spanned_by(
                        attr,
                        "`#[auth(..)]` may appear only once; merge its keys into the first one",
                    );
                    continue;
                }
                let parsed = Options::from_attr(cx, attr);
                (checks.options)(cx, &parsed);
                options = Some(parsed);
            }
        }

        Container {
            ident: &input.ident,
            backends,
            stub_allowed,
            options: options.unwrap_or_default(),
        }
    }
}

impl Backend {
    /// Parses one `#[backend(..)]`; `None` when its kind is missing or unknown (the errors are
    /// in `cx`, and the keys were still checked).
    fn from_attr(cx: &mut Ctxt, attr: &syn::Attribute) -> Option<Self> {
        let list = match &attr.meta {
            Meta::List(list) => list,
            Meta::Path(_) => {
                cx.error_spanned_by(
                    attr,
                    "missing backend kind: write `#[backend(jwt, ..)]` or `#[backend(cookie, ..)]`",
                );
                return None;
            }
            Meta::NameValue(nv) => {
                cx.error_spanned_by(
                    nv,
                    "expected `#[backend(KIND, key = value, ..)]` with KIND `jwt` or `cookie`",
                );
                return None;
            }
        };
        let items = match list.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated) {
            Ok(items) => items,
            Err(error) => {
                cx.syn_error(error);
                return None;
            }
        };

        let mut items = items.into_iter().peekable();
        let kind = match items.peek() {
            None => {
                cx.error_spanned_by(
                    attr,
                    "missing backend kind: write `#[backend(jwt, ..)]` or `#[backend(cookie, ..)]`",
                );
                None
            }
            Some(Meta::Path(path)) => {
                let parsed = parse_kind(cx, path);
                items.next();
                parsed
            }
            Some(first) => {
                cx.error_spanned_by(
                    first,
                    "missing backend kind: the first argument must be `jwt` or `cookie`, \
                     e.g. `#[backend(jwt, name = \"jwt\")]`",
                );
                None
            }
        };

        let mut backend = Backend {
            kind: kind.map_or(Kind::Jwt, |(kind, _)| kind),
            kind_span: kind.map_or_else(Span::call_site, |(_, span)| span),
            name: None,
            name_rejected: false,
            lifetime: None,
            cookie_name: None,
            path: None,
            domain: None,
            secure: None,
            http_only: None,
            same_site: None,
            strategy: None,
            csrf: None,
        };
        let mut seen: Vec<String> = Vec::new();
        for item in items {
            backend.parse_item(cx, kind.map(|(kind, _)| kind), &mut seen, item);
        }
        kind.map(|_| backend)
    }

    /// One `key = value`; `kind` is `None` when unknown, then every key is accepted.
    fn parse_item(
        &mut self,
        cx: &mut Ctxt,
        kind: Option<Kind>,
        seen: &mut Vec<String>,
        item: Meta,
    ) {
        let path = item.path();
        let key = path.get_ident().map_or_else(
            || path.to_token_stream().to_string().replace(' ', ""),
            ToString::to_string,
        );

        if !ALL_KEYS.contains(&key.as_str()) {
            let message = if key == "jwt" || key == "cookie" {
                format!("the backend kind `{key}` must be the first argument, and only one kind per `#[backend(..)]`")
            } else {
                let keys = kind.map_or(ALL_KEYS, Kind::keys);
                let for_kind = kind.map_or(String::new(), |kind| {
                    format!(" for a {} backend", kind.as_str())
                });
                let elsewhere = if OPTION_KEYS.contains(&key.as_str()) {
                    format!("; `{key}` belongs in `#[auth(..)]`")
                } else {
                    String::new()
                };
                format!(
                    "unknown key `{key}`{for_kind}; expected one of {}{elsewhere}",
                    list(keys)
                )
            };
            cx.error_spanned_by(path, message);
            return;
        }
        if kind == Some(Kind::Jwt) && COOKIE_KEYS.contains(&key.as_str()) {
            cx.error_spanned_by(path, format!("`{key}` only applies to cookie backends"));
            return;
        }
        if seen.contains(&key) {
            cx.error_spanned_by(path, format!("duplicate key `{key}`"));
            return;
        }
        seen.push(key.clone());

        let nv = match item {
            Meta::NameValue(nv) => nv,
            other => {
                cx.error_spanned_by(
                    &other,
                    format!("expected a value: `{key} = {}`", example(&key)),
                );
                self.name_rejected |= key == "name";
                return;
            }
        };
        match key.as_str() {
            "name" => {
                self.name = string(cx, &nv, "name");
                self.name_rejected = self.name.is_none();
            }
            "lifetime" => self.lifetime = lifetime(cx, &nv, "lifetime"),
            "cookie_name" => self.cookie_name = string(cx, &nv, "cookie_name"),
            "path" => self.path = string(cx, &nv, "path"),
            "domain" => self.domain = string(cx, &nv, "domain"),
            "secure" => self.secure = boolean(cx, &nv, "secure"),
            "http_only" => self.http_only = boolean(cx, &nv, "http_only"),
            "csrf" => self.csrf = boolean(cx, &nv, "csrf"),
            "same_site" => {
                self.same_site = choice(
                    cx,
                    &nv,
                    &[
                        ("lax", SameSite::Lax),
                        ("strict", SameSite::Strict),
                        ("none", SameSite::None),
                    ],
                    "expected `lax`, `strict` or `none`, e.g. `same_site = lax`",
                );
            }
            "strategy" => {
                self.strategy = choice(
                    cx,
                    &nv,
                    &[
                        ("jwt", Strategy::Jwt),
                        ("database", Strategy::Database),
                        ("redis", Strategy::Redis),
                    ],
                    "expected `jwt`, `database` or `redis`, e.g. `strategy = redis`",
                );
            }
            _ => unreachable!("key listed in ALL_KEYS"),
        }
    }
}

fn parse_kind(cx: &mut Ctxt, path: &syn::Path) -> Option<(Kind, Span)> {
    let kind = match path.get_ident() {
        Some(ident) if ident == "jwt" => Kind::Jwt,
        Some(ident) if ident == "cookie" => Kind::Cookie,
        _ => {
            let written = path.to_token_stream().to_string().replace(' ', "");
            let message = if ALL_KEYS.contains(&written.as_str()) {
                format!("missing backend kind before `{written}`: the first argument must be `jwt` or `cookie`")
            } else {
                format!("unknown backend kind `{written}`, {KIND_HELP}")
            };
            cx.error_spanned_by(path, message);
            return None;
        }
    };
    Some((kind, path.segments[0].ident.span()))
}

fn example(key: &str) -> &'static str {
    match key {
        "name" => "\"jwt\"",
        "lifetime" | "reset_token_lifetime" | "verify_token_lifetime" => "3600",
        "cookie_name" => "\"fastapiusersauth\"",
        "path" => "\"/\"",
        "domain" => "\"example.com\"",
        "secure" | "http_only" | "csrf" | "requires_verification" => "true",
        "rate_limits" => "false",
        "login_per_account"
        | "login_per_client"
        | "register_per_client"
        | "mail_per_account"
        | "mail_per_client" => "\"5/15m\"",
        "strategy" => "redis",
        _ => "lax",
    }
}

fn list(keys: &[&str]) -> String {
    keys.iter()
        .map(|key| format!("`{key}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The literal of `key = lit`, looking through invisible groups (from `macro_rules!` input).
fn literal(expr: &Expr) -> Option<&Lit> {
    match expr {
        Expr::Lit(ExprLit { lit, .. }) => Some(lit),
        Expr::Group(group) => literal(&group.expr),
        _ => None,
    }
}

fn string(cx: &mut Ctxt, nv: &MetaNameValue, key: &str) -> Option<LitStr> {
    match literal(&nv.value) {
        Some(Lit::Str(lit)) => Some(lit.clone()),
        _ => {
            cx.error_spanned_by(
                &nv.value,
                format!("expected a string literal, e.g. `{key} = {}`", example(key)),
            );
            None
        }
    }
}

fn lifetime(cx: &mut Ctxt, nv: &MetaNameValue, key: &str) -> Option<Lifetime> {
    match &nv.value {
        Expr::Unary(syn::ExprUnary {
            op: syn::UnOp::Neg(_),
            expr,
            ..
        }) if matches!(literal(expr), Some(Lit::Int(_))) => {
            cx.error_spanned_by(&nv.value, format!("`{key}` must be at least 1 second"));
            return None;
        }
        _ => {}
    }
    let Some(Lit::Int(lit)) = literal(&nv.value) else {
        cx.error_spanned_by(
            &nv.value,
            format!("expected an integer number of seconds, e.g. `{key} = 3600`"),
        );
        return None;
    };
    // `lifetime = -5` reaches here as one negative literal.
    if lit.base10_digits().starts_with('-') {
        cx.error_spanned_by(lit, format!("`{key}` must be at least 1 second"));
        return None;
    }
    if !matches!(lit.suffix(), "" | "u8" | "u16" | "u32" | "u64" | "usize") {
        cx.error_spanned_by(
            lit,
            format!(
                "`{key}` is a number of seconds of type u64, not `{}`",
                lit.suffix()
            ),
        );
        return None;
    }
    match lit.base10_parse::<u64>() {
        Ok(value) => Some(Lifetime {
            value,
            lit: lit.clone(),
        }),
        Err(_) => {
            cx.error_spanned_by(lit, format!("`{key}` does not fit in a u64"));
            None
        }
    }
}

/// `login_per_account = "5/15m"` or `= "off"`; the errors land on the value.
fn rate_value(cx: &mut Ctxt, nv: &MetaNameValue, key: &str) -> Option<Option<Rate>> {
    let Some(Lit::Str(lit)) = literal(&nv.value) else {
        cx.error_spanned_by(
            &nv.value,
            format!(
                "expected a string literal: {}, e.g. `{key} = \"5/15m\"`",
                rate::EXPECTED
            ),
        );
        return None;
    };
    match rate::parse(key, &lit.value()) {
        Ok(rate) => Some(rate),
        Err(message) => {
            cx.error_spanned_by(lit, message);
            None
        }
    }
}

fn boolean(cx: &mut Ctxt, nv: &MetaNameValue, key: &str) -> Option<Setting<bool>> {
    match literal(&nv.value) {
        Some(Lit::Bool(LitBool { value, .. })) => Some(Setting {
            value: *value,
            tokens: nv.to_token_stream(),
        }),
        _ => {
            cx.error_spanned_by(
                &nv.value,
                format!("expected `true` or `false`, e.g. `{key} = true`"),
            );
            None
        }
    }
}

/// `key = word` (an identifier or a string, compared case-insensitively) among `options`.
fn choice<T: Copy>(
    cx: &mut Ctxt,
    nv: &MetaNameValue,
    options: &[(&str, T)],
    help: &str,
) -> Option<Setting<T>> {
    let written = match (&nv.value, literal(&nv.value)) {
        (_, Some(Lit::Str(lit))) => Some(lit.value()),
        (
            Expr::Path(ExprPath {
                path, qself: None, ..
            }),
            _,
        ) => path.get_ident().map(ToString::to_string),
        _ => None,
    };
    let found = written.as_deref().and_then(|written| {
        options
            .iter()
            .find(|(word, _)| word.eq_ignore_ascii_case(written))
    });
    let Some(&(_, value)) = found else {
        cx.error_spanned_by(&nv.value, help);
        return None;
    };
    Some(Setting {
        value,
        tokens: nv.to_token_stream(),
    })
}
