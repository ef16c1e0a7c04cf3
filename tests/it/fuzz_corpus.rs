//! The fuzz corpus and findings as a regression test, without cargo-fuzz: every file under
//! `fuzz/corpus/<target>/` and `fuzz/regressions/<target>/` goes through the same entry
//! point as the fuzz target (`fuzz/harness.rs`, included here), and none may panic (the
//! harness's own checks included: errors name a file, accepted inputs are sound).
//!
//! A file in `regressions/` is named `err-*` when it is bad input that must be refused with
//! an error, or `ok-*` when it is valid input that must be accepted.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

#[path = "../../fuzz/harness.rs"]
mod harness;

/// The files of `fuzz/<kind>/<target>/`, sorted (none when the folder does not exist).
fn inputs(kind: &str, target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz")
        .join(kind)
        .join(target);
    let mut v: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(rd) => rd
            .map(|e| e.expect("a directory entry").path())
            .filter(|p| p.is_file())
            .collect(),
        Err(_) => vec![],
    };
    v.sort();
    v
}

/// Runs target `t` on the file at `p`: `Ok(accepted)`, or `Err(the panic's message)`.
fn run(t: &str, dir: &Path, p: &Path) -> Result<bool, String> {
    let data = std::fs::read(p).expect("read a corpus file");
    catch_unwind(AssertUnwindSafe(|| harness::run(t, dir, &data).is_ok())).map_err(|e| {
        e.downcast_ref::<String>()
            .cloned()
            .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default()
    })
}

#[test]
fn every_saved_fuzz_input_ends_in_a_value_not_a_panic() {
    let scratch = tempfile::tempdir().expect("a temporary directory");
    harness::prepare(scratch.path());
    let mut failures = Vec::new();
    for t in harness::TARGETS {
        let (mut accepted, mut refused) = (0, 0);
        for p in inputs("corpus", t) {
            match run(t, scratch.path(), &p) {
                Ok(true) => accepted += 1,
                Ok(false) => refused += 1,
                Err(m) => failures.push(format!("{}: panicked: {m}", p.display())),
            }
        }
        // Each corpus holds inputs the parser accepts and inputs it refuses.
        assert!(
            accepted > 0 && refused > 0,
            "{t}: {accepted} accepted, {refused} refused"
        );
        for p in inputs("regressions", t) {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            let want = if name.starts_with("ok-") {
                true
            } else {
                assert!(
                    name.starts_with("err-"),
                    "{}: name it ok-* or err-*",
                    p.display()
                );
                false
            };
            match run(t, scratch.path(), &p) {
                Ok(got) if got == want => {}
                Ok(got) => failures.push(format!(
                    "{}: {} (expected {})",
                    p.display(),
                    if got { "accepted" } else { "refused" },
                    if want { "accepted" } else { "refused" }
                )),
                Err(m) => failures.push(format!("{}: panicked: {m}", p.display())),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
