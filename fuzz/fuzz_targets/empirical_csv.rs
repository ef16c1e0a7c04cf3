//! Fuzz target `empirical_csv`: see `empirical_csv` in `fuzz/harness.rs`.
#![no_main]

#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = harness::run("empirical_csv", harness::scratch(), data);
});
