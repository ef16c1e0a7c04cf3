//! `metrics::StagedDir`: a run's output directory appears whole or not at all, never mixes two
//! runs, never replaces a directory lbsim did not write, never follows links inside an old
//! output, and cleans the staging debris of killed runs (issue 11, "Outputs that are safe and
//! whole").

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};

use lbsim::metrics::staging::MARKER;
use lbsim::metrics::{StagedDir, StagingError};

/// Writes a minimal lbsim output (summary.json with identity, metrics.csv) into `dir`.
fn fake_output(dir: &Path, scenario: &str, seed: u64, metrics: &str) {
    fs::create_dir_all(dir).unwrap();
    fs::write(
        dir.join("summary.json"),
        format!(r#"{{"scenario": "{scenario}", "seed": {seed}, "complete": true}}"#),
    )
    .unwrap();
    fs::write(dir.join("metrics.csv"), metrics).unwrap();
}

/// Names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Hidden lbsim staging or moved-aside siblings in `dir`.
fn debris(dir: &Path) -> Vec<String> {
    names(dir)
        .into_iter()
        .filter(|n| n.contains(".lbsim-"))
        .collect()
}

/// Stages `target` for (`scenario`, `seed`), writes `metrics.csv` = `metrics` and commits.
fn run(target: &Path, scenario: &str, seed: u64, overwrite: bool, metrics: &str) -> PathBuf {
    let staged = StagedDir::begin(target, scenario, seed, overwrite).unwrap();
    fake_output(staged.path(), scenario, seed, metrics);
    staged.commit().unwrap()
}

#[test]
fn fresh_target_is_created_whole_under_a_new_parent() {
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("a/b/out");
    let staged = StagedDir::begin(&target, "s", 1, false).unwrap();
    assert_eq!(staged.target(), target);
    // The staging directory is a hidden sibling named after the target and our pid.
    assert_eq!(staged.path().parent().unwrap(), tmp.path().join("a/b"));
    let staging_name = staged.path().file_name().unwrap().to_string_lossy();
    assert!(
        staging_name.starts_with(&format!(".out.lbsim-{}-", std::process::id())),
        "{staging_name}"
    );
    assert!(!target.exists(), "nothing at the target before the commit");
    assert!(staged.path().join(MARKER).is_file());
    fake_output(staged.path(), "s", 1, "new");
    assert_eq!(staged.commit().unwrap(), target);
    assert_eq!(names(&target), [MARKER, "metrics.csv", "summary.json"]);
    assert_eq!(
        fs::read_to_string(target.join(MARKER)).unwrap(),
        "{\"scenario\":\"s\",\"seed\":1}\n"
    );
    assert!(debris(&tmp.path().join("a/b")).is_empty());
}

#[test]
fn same_scenario_and_seed_is_replaced_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("out");
    fake_output(&target, "s", 7, "old");
    fs::write(target.join("events.csv"), "only in the old run").unwrap();
    run(&target, "s", 7, false, "new");
    assert_eq!(
        fs::read_to_string(target.join("metrics.csv")).unwrap(),
        "new"
    );
    // Nothing of the old run is mixed in.
    assert!(!target.join("events.csv").exists());
    assert!(debris(tmp.path()).is_empty(), "{:?}", names(tmp.path()));
}

#[test]
fn another_run_is_refused_without_overwrite_and_replaced_with_it() {
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("out");
    fake_output(&target, "a", 1, "a1");
    for (scenario, seed) in [("b", 2), ("a", 2), ("b", 1)] {
        let err = StagedDir::begin(&target, scenario, seed, false).unwrap_err();
        assert!(matches!(err, StagingError::OtherRun { .. }), "{err}");
        let msg = err.to_string();
        assert!(msg.contains(&target.display().to_string()), "{msg}");
        assert!(
            msg.contains("scenario \"a\" seed 1;")
                && msg.contains(&format!("this run is scenario \"{scenario}\" seed {seed}"))
                && msg.contains("--overwrite"),
            "{msg}"
        );
    }
    assert_eq!(
        fs::read_to_string(target.join("metrics.csv")).unwrap(),
        "a1"
    );
    assert!(debris(tmp.path()).is_empty());
    run(&target, "b", 2, true, "b2");
    assert_eq!(
        fs::read_to_string(target.join("metrics.csv")).unwrap(),
        "b2"
    );
    assert!(debris(tmp.path()).is_empty());
}

#[test]
fn a_partial_output_with_only_the_marker_counts_as_lbsim_output() {
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("out");
    fs::create_dir(&target).unwrap();
    fs::write(target.join(MARKER), r#"{"scenario":"a","seed":1}"#).unwrap();
    fs::write(target.join("metrics.csv"), "partial").unwrap();
    let err = StagedDir::begin(&target, "b", 1, false).unwrap_err();
    assert!(matches!(err, StagingError::OtherRun { .. }), "{err}");
    run(&target, "a", 1, false, "whole");
    assert_eq!(
        fs::read_to_string(target.join("metrics.csv")).unwrap(),
        "whole"
    );
}

#[test]
fn a_directory_lbsim_did_not_write_is_never_replaced() {
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("home");
    fs::create_dir(&target).unwrap();
    fs::write(target.join("thesis.tex"), "years of work").unwrap();
    // A summary.json of someone else's tool, and a link to a real lbsim summary: neither proves
    // the directory is lbsim's.
    fs::write(target.join("summary.json"), r#"{"total": 3}"#).unwrap();
    let elsewhere = tmp.path().join("elsewhere");
    fake_output(&elsewhere, "s", 1, "x");
    #[cfg(unix)]
    std::os::unix::fs::symlink(elsewhere.join("summary.json"), target.join(MARKER)).unwrap();
    for overwrite in [false, true] {
        let err = StagedDir::begin(&target, "s", 1, overwrite).unwrap_err();
        assert!(matches!(err, StagingError::NotLbsimOutput { .. }), "{err}");
        let msg = err.to_string();
        assert!(
            msg.contains(&target.display().to_string()) && msg.contains("even with --overwrite"),
            "{msg}"
        );
    }
    assert_eq!(
        fs::read_to_string(target.join("thesis.tex")).unwrap(),
        "years of work"
    );
    assert!(debris(tmp.path()).is_empty());
}

#[test]
fn current_directory_and_root_are_refused() {
    // `--out .` in a source tree: a non-empty directory that is not an lbsim output.
    let err = StagedDir::begin(Path::new("."), "s", 1, true).unwrap_err();
    assert!(matches!(err, StagingError::NotLbsimOutput { .. }), "{err}");
    let err = StagedDir::begin(Path::new("/"), "s", 1, true).unwrap_err();
    assert!(matches!(err, StagingError::NoName { .. }), "{err}");
}

#[test]
fn an_empty_directory_is_used() {
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("out");
    fs::create_dir(&target).unwrap();
    run(&target, "s", 1, false, "new");
    assert_eq!(
        fs::read_to_string(target.join("metrics.csv")).unwrap(),
        "new"
    );
    assert!(debris(tmp.path()).is_empty());
}

#[test]
fn a_file_target_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("out");
    fs::write(&target, "a file").unwrap();
    for overwrite in [false, true] {
        let err = StagedDir::begin(&target, "s", 1, overwrite).unwrap_err();
        assert!(matches!(err, StagingError::NotADirectory { .. }), "{err}");
        assert!(err.to_string().contains("not a directory"), "{err}");
    }
    assert_eq!(fs::read_to_string(&target).unwrap(), "a file");
    assert!(debris(tmp.path()).is_empty());
}

#[test]
fn dropping_without_commit_removes_staging_and_keeps_the_target() {
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("out");
    fake_output(&target, "s", 1, "old");
    let staged = StagedDir::begin(&target, "s", 1, false).unwrap();
    let staging = staged.path().to_path_buf();
    fake_output(&staging, "s", 1, "half-written");
    drop(staged);
    assert!(!staging.exists());
    assert!(debris(tmp.path()).is_empty());
    assert_eq!(names(&target), ["metrics.csv", "summary.json"]);
    assert_eq!(
        fs::read_to_string(target.join("metrics.csv")).unwrap(),
        "old"
    );
}

#[test]
fn commit_checks_the_target_again() {
    // Another run of another seed committed to the same target in the meantime.
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("out");
    let staged = StagedDir::begin(&target, "s", 1, false).unwrap();
    fake_output(&target, "s", 2, "other");
    let err = staged.commit().unwrap_err();
    assert!(matches!(err, StagingError::OtherRun { .. }), "{err}");
    assert_eq!(
        fs::read_to_string(target.join("metrics.csv")).unwrap(),
        "other"
    );
    assert!(debris(tmp.path()).is_empty());
}

#[cfg(unix)]
mod unix {
    use std::os::unix::fs::symlink;

    use super::*;

    #[test]
    fn a_symlinked_target_is_resolved_and_the_real_directory_replaced() {
        let tmp = tempfile::tempdir().unwrap();
        let real_parent = tmp.path().join("real");
        let real = real_parent.join("out");
        fake_output(&real, "s", 1, "old");
        let link = tmp.path().join("link");
        symlink(&real, &link).unwrap();
        let staged = StagedDir::begin(&link, "s", 1, false).unwrap();
        let real_canon = fs::canonicalize(&real).unwrap();
        assert_eq!(staged.target(), real_canon);
        // Staged beside the real directory, not beside the link.
        assert_eq!(
            staged.path().parent().unwrap(),
            real_canon.parent().unwrap()
        );
        fake_output(staged.path(), "s", 1, "new");
        staged.commit().unwrap();
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(fs::read_to_string(link.join("metrics.csv")).unwrap(), "new");
        assert_eq!(fs::read_to_string(real.join("metrics.csv")).unwrap(), "new");
        assert!(debris(&real_parent).is_empty() && debris(tmp.path()).is_empty());
    }

    #[test]
    fn dangling_links_and_links_to_files_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let dangling = tmp.path().join("dangling");
        symlink(tmp.path().join("nothing"), &dangling).unwrap();
        let err = StagedDir::begin(&dangling, "s", 1, true).unwrap_err();
        assert!(matches!(err, StagingError::BadSymlink { .. }), "{err}");
        assert!(!tmp.path().join("nothing").exists());

        let file = tmp.path().join("file");
        fs::write(&file, "x").unwrap();
        let to_file = tmp.path().join("to_file");
        symlink(&file, &to_file).unwrap();
        let err = StagedDir::begin(&to_file, "s", 1, true).unwrap_err();
        assert!(matches!(err, StagingError::BadSymlink { .. }), "{err}");
        assert!(err.to_string().contains("not a directory"), "{err}");
        assert_eq!(fs::read_to_string(&file).unwrap(), "x");
        assert!(debris(tmp.path()).is_empty());
    }

    #[test]
    fn links_inside_an_old_output_are_not_followed() {
        let tmp = tempfile::tempdir().unwrap();
        let outside_dir = tmp.path().join("outside");
        fs::create_dir(&outside_dir).unwrap();
        let outside = outside_dir.join("precious.csv");
        fs::write(&outside, "precious").unwrap();
        fs::write(outside_dir.join("keep.txt"), "keep").unwrap();

        let target = tmp.path().join("out");
        fs::create_dir(&target).unwrap();
        fs::write(
            target.join("summary.json"),
            r#"{"scenario": "s", "seed": 1}"#,
        )
        .unwrap();
        symlink(&outside, target.join("metrics.csv")).unwrap();
        symlink(&outside_dir, target.join("plots")).unwrap();

        run(&target, "s", 1, false, "new");
        assert_eq!(fs::read_to_string(&outside).unwrap(), "precious");
        assert_eq!(names(&outside_dir), ["keep.txt", "precious.csv"]);
        let meta = fs::symlink_metadata(target.join("metrics.csv")).unwrap();
        assert!(meta.file_type().is_file());
        assert_eq!(
            fs::read_to_string(target.join("metrics.csv")).unwrap(),
            "new"
        );
        assert!(!target.join("plots").exists());
        assert!(debris(tmp.path()).is_empty());
    }

    /// A pid that is not running: a child that has exited and been reaped.
    fn dead_pid() -> u32 {
        let mut child = Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        pid
    }

    /// Kills and reaps a child at the end of a test, even if it fails.
    struct Reap(Child);
    impl Drop for Reap {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    #[test]
    fn stale_staging_of_dead_runs_is_removed_and_live_ones_kept() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("out");
        let dead = dead_pid();
        let live = Reap(Command::new("sleep").arg("30").spawn().unwrap());
        let live_pid = live.0.id();

        let make = |name: String| {
            let d = tmp.path().join(name);
            fake_output(&d, "s", 1, "debris");
            d
        };
        let dead_staging = make(format!(".out.lbsim-{dead}-Abc0123xyz"));
        let dead_old = make(format!(".out.lbsim-old-{dead}-Abc0123xyz"));
        let live_staging = make(format!(".out.lbsim-{live_pid}-Abc0123xyz"));
        let own_staging = make(format!(".out.lbsim-{}-Abc0123xyz", std::process::id()));
        // Another target's debris and a name that is not ours are left alone.
        let other_target = make(format!(".other.lbsim-{dead}-Abc0123xyz"));
        let not_ours = make(format!(".out.lbsim-{dead}-notrandom!"));
        // A file with a staging name is not a staging directory.
        let file = tmp.path().join(format!(".out.lbsim-{dead}-File012345"));
        fs::write(&file, "x").unwrap();

        let staged = StagedDir::begin(&target, "s", 1, false).unwrap();
        assert!(!dead_staging.exists(), "dead run's staging removed");
        assert!(!dead_old.exists(), "dead run's moved-aside output removed");
        assert!(live_staging.exists(), "a live run's staging is kept");
        assert!(own_staging.exists(), "our own process is alive");
        assert!(other_target.exists() && not_ours.exists() && file.exists());
        drop(staged);
        drop(live);
    }
}
