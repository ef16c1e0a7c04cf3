//! Fuzz target `scenario_json`: see `scenario_json` in `fuzz/harness.rs`.
#![no_main]

#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = harness::run("scenario_json", harness::scratch(), data);
});
