//! e-Factura uploads: the UBL reader and the bounded ZIP reader (blocks::efactura::read_files).
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::run("efactura", data));
