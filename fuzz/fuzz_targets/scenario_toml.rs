//! Fuzz target `scenario_toml`: see `scenario_toml` in `fuzz/harness.rs`.
#![no_main]

#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = harness::run("scenario_toml", harness::scratch(), data);
});
