//! Fuzz target `set_override`: see `set_override` in `fuzz/harness.rs`.
#![no_main]

#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = harness::run("set_override", harness::scratch(), data);
});
