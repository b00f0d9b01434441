//! A message's text (first byte: private chat or not): the command and its arguments.
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::run("command", data));
