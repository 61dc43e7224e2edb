//! Compile-fail and compile-pass tests of `#[derive(AuthConfig)]` and `#[protected]`.
//!
//! Every file in `tests/ui/fail/` is one misuse; its `.stderr` snapshot is the complete
//! compiler output, so it also proves that no follow-on error appears. The snapshots depend on
//! the compiler version; regenerate them with
//! `TRYBUILD=overwrite cargo test -p axum-users --test compile_fail` and review the diff.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/fail/*.rs");
    t.pass("tests/ui/pass/*.rs");
}
