//! Amounts: parse_decimal, parse_human, parse_signed_human and their round trips.
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::run("amount", data));
