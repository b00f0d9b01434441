//! A raw webhook body: update_id, the frankenstein Update, Incoming, then the command or button data.
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::run("intake", data));
