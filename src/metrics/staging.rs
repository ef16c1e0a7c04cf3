//! A run's output directory as one unit: written whole into a hidden staging directory beside
//! the target, then put in place of the target in one step.
//!
//! Why: a run that is killed or fails while writing must neither leave debris in the output
//! directory nor mix its files with those of an earlier run (issue 11, "Outputs that are safe
//! and whole"). With [`StagedDir`], readers of the target see either the previous complete
//! outputs or the new complete outputs, never a mixture.
//!
//! **Names.** For a target `<parent>/<name>`, the staging directory is
//! `<parent>/.<name>.lbsim-<pid>-<random>` (`<random>`: 10 ASCII letters and digits). When the
//! operating system cannot exchange two directories in one step, the previous target is moved
//! aside to `<parent>/.<name>.lbsim-old-<pid>-<random>` for the instant of the swap. Nothing is
//! ever created or removed outside `<parent>`, and every name is derived from the target path.
//!
//! **Stale staging.** [`StagedDir::begin`] removes the staging and moved-aside siblings of the
//! same target whose process is gone (a run killed by SIGKILL or a power cut). On Unix a process
//! is gone when `kill(pid, 0)` fails with `ESRCH`; elsewhere, when the directory is older than
//! one hour. A live process's staging directory is never removed. (A pid recycled by an
//! unrelated process keeps its debris until that process ends; a run in another pid namespace
//! sharing the same directory would look dead: do not point two containers at one output
//! directory.)
//!
//! **Whose directory.** An existing target is replaced only if it is empty or is an lbsim
//! output: it holds [`MARKER`] (written by `begin` into every staging directory, so even a
//! partial output counts) or, for outputs written before the marker existed, a `summary.json`
//! with `scenario` and `seed` fields. Both must be regular files (a symbolic link proves
//! nothing). An lbsim output of another scenario or seed is replaced only with `overwrite`; a
//! non-empty directory lbsim did not write (`--out .`, `--out ~`) is never replaced, even with
//! `overwrite`.
//!
//! **Symbolic links.** A target that is a symbolic link to a directory is resolved: the real
//! directory is replaced and the link keeps pointing at it. Links *inside* an existing target
//! are never followed: the whole directory is replaced (and removed with
//! [`std::fs::remove_dir_all`], which removes links, not what they point to), never written
//! into.

use std::ffi::{OsStr, OsString};
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Name of the marker file that [`StagedDir::begin`] writes into every staging directory (and
/// so into every output directory it commits): `{"scenario": "...", "seed": N}`. It tells a
/// later run that the directory is lbsim's to replace, and whose outputs it holds, even when
/// the run stopped before writing `summary.json`.
pub const MARKER: &str = ".lbsim-output";

/// Length of the random part of a staging directory's name.
const RAND_LEN: usize = 10;

/// Age after which a staging directory counts as stale where the operating
/// system cannot tell whether a pid is alive (not Unix).
#[cfg(not(unix))]
const STALE_AGE: std::time::Duration = std::time::Duration::from_secs(3600);

/// Why an output directory could not be staged or committed. Every message names the path and
/// what to do.
#[derive(Debug, thiserror::Error)]
pub enum StagingError {
    /// A file-system operation failed (permissions, full disk, a path that cannot be created).
    #[error("{}: cannot {action}: {source}", path.display())]
    Io {
        /// The file or directory the operation was about.
        path: PathBuf,
        /// What was being done ("create the staging directory", "rename" ...).
        action: &'static str,
        /// The underlying error.
        source: io::Error,
    },
    /// The target path has no final name to stage beside (`/`, `..`).
    #[error(
        "{} cannot be an output directory: it has no name of its own; choose a path such as out/run1",
        path.display()
    )]
    NoName {
        /// The target as given.
        path: PathBuf,
    },
    /// The target exists and is a file (or another non-directory).
    #[error(
        "{} exists and is not a directory: choose another --out or remove it",
        path.display()
    )]
    NotADirectory {
        /// The target.
        path: PathBuf,
    },
    /// The target is a symbolic link that does not lead to a directory.
    #[error(
        "{} is a symbolic link {problem}: choose another --out or fix the link",
        path.display()
    )]
    BadSymlink {
        /// The link.
        path: PathBuf,
        /// What is wrong ("to nothing", "to a file: /x").
        problem: String,
    },
    /// The target is a non-empty directory that lbsim did not write. Never replaced.
    #[error(
        "{} is not empty and holds no lbsim output (no {MARKER} or summary.json with scenario and seed): \
         lbsim never replaces a directory it did not write, even with --overwrite; \
         choose a new or empty --out directory",
        path.display()
    )]
    NotLbsimOutput {
        /// The target.
        path: PathBuf,
    },
    /// The target holds the outputs of another scenario or seed, and `overwrite` was not given.
    #[error(
        "{} holds the outputs of scenario {found_scenario:?} seed {found_seed}; \
         this run is scenario {scenario:?} seed {seed}: choose another --out or pass --overwrite",
        path.display()
    )]
    OtherRun {
        /// The target.
        path: PathBuf,
        /// Scenario name found in the target.
        found_scenario: String,
        /// Seed found in the target.
        found_seed: u64,
        /// Scenario name of this run.
        scenario: String,
        /// Seed of this run.
        seed: u64,
    },
}

fn io_err(path: &Path, action: &'static str) -> impl FnOnce(io::Error) -> StagingError {
    let path = path.to_path_buf();
    move |source| StagingError::Io {
        path,
        action,
        source,
    }
}

/// The identity of a run, as stored in [`MARKER`] and `summary.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Identity {
    scenario: String,
    seed: u64,
}

/// What an existing target is.
#[derive(Debug, PartialEq, Eq)]
enum Existing {
    /// Nothing there.
    Absent,
    /// An empty directory.
    Empty,
    /// An lbsim output directory of this identity.
    Ours(Identity),
    /// A non-empty directory lbsim did not write.
    Foreign,
}

/// Reads an [`Identity`] from `path` if it is a regular file (not a link) holding one.
fn read_identity(path: &Path) -> Option<Identity> {
    let meta = fs::symlink_metadata(path).ok()?;
    if !meta.file_type().is_file() {
        return None;
    }
    // summary.json is small; the limit keeps a hostile file from costing much.
    let file = fs::File::open(path).ok()?.take(64 << 20);
    serde_json::from_reader(io::BufReader::new(file)).ok()
}

/// Classifies the directory (or absence) at `dir`, never following a link at `dir` or inside.
fn classify(dir: &Path) -> Result<Existing, StagingError> {
    let meta = match fs::symlink_metadata(dir) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Existing::Absent),
        Err(e) => return Err(io_err(dir, "inspect the output directory")(e)),
    };
    if !meta.file_type().is_dir() {
        return Err(StagingError::NotADirectory {
            path: dir.to_path_buf(),
        });
    }
    let mut entries = fs::read_dir(dir).map_err(io_err(dir, "read the output directory"))?;
    if entries.next().is_none() {
        return Ok(Existing::Empty);
    }
    match read_identity(&dir.join(MARKER)).or_else(|| read_identity(&dir.join("summary.json"))) {
        Some(id) => Ok(Existing::Ours(id)),
        None => Ok(Existing::Foreign),
    }
}

/// May a run of identity `ours` replace `dir`, which is `existing`?
fn check_replaceable(
    dir: &Path,
    existing: Existing,
    ours: &Identity,
    overwrite: bool,
) -> Result<(), StagingError> {
    match existing {
        Existing::Absent | Existing::Empty => Ok(()),
        Existing::Ours(found) if found == *ours || overwrite => Ok(()),
        Existing::Ours(found) => Err(StagingError::OtherRun {
            path: dir.to_path_buf(),
            found_scenario: found.scenario,
            found_seed: found.seed,
            scenario: ours.scenario.clone(),
            seed: ours.seed,
        }),
        Existing::Foreign => Err(StagingError::NotLbsimOutput {
            path: dir.to_path_buf(),
        }),
    }
}

/// The target to stage for, as (target, parent, name): a link to a directory resolved, a path
/// without a final name (`.`) resolved if it exists.
fn resolve(target: &Path) -> Result<(PathBuf, PathBuf, OsString), StagingError> {
    let resolved = match fs::symlink_metadata(target) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => target.to_path_buf(),
        Err(e) => return Err(io_err(target, "inspect the output directory")(e)),
        Ok(meta) if meta.file_type().is_symlink() => {
            let real = fs::canonicalize(target).map_err(|e| StagingError::BadSymlink {
                path: target.to_path_buf(),
                problem: format!("that leads nowhere ({e})"),
            })?;
            if !real.is_dir() {
                return Err(StagingError::BadSymlink {
                    path: target.to_path_buf(),
                    problem: format!("to {}, which is not a directory", real.display()),
                });
            }
            real
        }
        Ok(meta) if !meta.file_type().is_dir() => {
            return Err(StagingError::NotADirectory {
                path: target.to_path_buf(),
            });
        }
        Ok(_) if target.file_name().is_none() => {
            fs::canonicalize(target).map_err(io_err(target, "resolve the output directory"))?
        }
        Ok(_) => target.to_path_buf(),
    };
    let name = resolved
        .file_name()
        .ok_or_else(|| StagingError::NoName {
            path: target.to_path_buf(),
        })?
        .to_os_string();
    let parent = match resolved.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Ok((resolved, parent, name))
}

/// `.<name>.lbsim-`: the start of every staging or moved-aside sibling of target `name`.
fn sibling_prefix(name: &OsStr) -> OsString {
    let mut p = OsString::from(".");
    p.push(name);
    p.push(".lbsim-");
    p
}

/// The pid in `file_name` if it is a staging (`<prefix><pid>-<random>`) or moved-aside
/// (`<prefix>old-<pid>-<random>`) name for the target with `prefix`; `None` for any other name.
fn sibling_pid(file_name: &OsStr, prefix: &OsStr) -> Option<u32> {
    let rest = file_name
        .as_encoded_bytes()
        .strip_prefix(prefix.as_encoded_bytes())?;
    let rest = rest.strip_prefix(b"old-").unwrap_or(rest);
    let dash = rest.iter().position(|&b| b == b'-')?;
    let (pid, random) = (&rest[..dash], &rest[dash + 1..]);
    let ok = !pid.is_empty()
        && pid.len() <= 10
        && pid.iter().all(u8::is_ascii_digit)
        && random.len() == RAND_LEN
        && random.iter().all(u8::is_ascii_alphanumeric);
    if !ok {
        return None;
    }
    // ASCII digits only, at most 10 of them: parses unless above u32::MAX.
    let pid: u32 = std::str::from_utf8(pid).ok()?.parse().ok()?;
    (pid != 0).then_some(pid)
}

/// Is the staging directory `path` of process `pid` stale (its process gone)?
#[cfg(unix)]
fn is_stale(_path: &Path, pid: u32) -> bool {
    use rustix::io::Errno;
    let Some(pid) = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    else {
        return false;
    };
    // Ok: alive. EPERM: alive but another user's. Only ESRCH means gone.
    matches!(rustix::process::test_kill_process(pid), Err(Errno::SRCH))
}

/// Is the staging directory `path` stale? Without a way to probe a pid: older than an hour.
#[cfg(not(unix))]
fn is_stale(path: &Path, _pid: u32) -> bool {
    fs::symlink_metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .is_some_and(|age| age > STALE_AGE)
}

/// Removes the stale staging and moved-aside directories of target `name` in `parent`.
/// Best effort: a sibling that cannot be removed is left for a later run.
fn remove_stale(parent: &Path, name: &OsStr) {
    let prefix = sibling_prefix(name);
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let Some(pid) = sibling_pid(&entry.file_name(), &prefix) else {
            continue;
        };
        // Only directories (never a link or file that happens to have such a name).
        if !entry.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        let path = entry.path();
        if is_stale(&path, pid) {
            let _ = fs::remove_dir_all(&path);
        }
    }
}

/// Flushes the parent directory's entries (the renames) to disk; best effort.
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

/// Swaps the directories `a` and `b` in one step. `Ok(false)`: the system or file system cannot.
#[cfg(any(target_os = "linux", target_os = "android", target_vendor = "apple"))]
fn exchange(a: &Path, b: &Path) -> io::Result<bool> {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    use rustix::io::Errno;
    match renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE) {
        Ok(()) => Ok(true),
        // EOPNOTSUPP and ENOTSUP are one value on Linux, two on other systems.
        Err(e)
            if e == Errno::INVAL
                || e == Errno::NOSYS
                || e == Errno::OPNOTSUPP
                || e == Errno::NOTSUP =>
        {
            Ok(false)
        }
        Err(e) => Err(e.into()),
    }
}

/// Swaps the directories `a` and `b` in one step: not available here.
#[cfg(not(any(target_os = "linux", target_os = "android", target_vendor = "apple")))]
fn exchange(_a: &Path, _b: &Path) -> io::Result<bool> {
    Ok(false)
}

/// Puts `staging` in place of the existing directory `target` and removes the previous target.
/// `try_exchange`: try the one-step exchange first (false only in tests of the fallback).
fn swap_in(
    staging: &Path,
    target: &Path,
    parent: &Path,
    try_exchange: bool,
) -> Result<(), StagingError> {
    if try_exchange
        && exchange(staging, target).map_err(io_err(target, "swap in the new outputs at"))?
    {
        // The previous outputs are now at the staging path.
        let _ = fs::remove_dir_all(staging);
        return Ok(());
    }
    // `.<name>.lbsim-old-<pid>-<random>`, with the staging name's `<pid>-<random>`.
    let prefix = sibling_prefix(target.file_name().expect("a resolved target has a name"));
    let staging_name = staging.file_name().expect("a staging directory has a name");
    let suffix = &staging_name.as_encoded_bytes()[prefix.len()..];
    let mut old_name = prefix;
    old_name.push("old-");
    old_name.push(String::from_utf8_lossy(suffix).as_ref());
    let old = parent.join(old_name);
    fs::rename(target, &old).map_err(io_err(target, "move aside the previous outputs at"))?;
    if let Err(e) = fs::rename(staging, target) {
        let _ = fs::rename(&old, target);
        return Err(io_err(target, "rename the staging directory to")(e));
    }
    let _ = fs::remove_dir_all(&old);
    Ok(())
}

/// An output directory being written: files go into a fresh hidden directory beside the target,
/// which replaces the target in one step when the run is complete ([`StagedDir::commit`]).
/// Dropped without a commit (an error, a panic, an early return), it removes the staging
/// directory and leaves the target as it was.
#[derive(Debug)]
pub struct StagedDir {
    /// The staging directory; `None` once committed.
    staging: Option<PathBuf>,
    /// The final directory (a link to a directory resolved).
    target: PathBuf,
    /// The directory holding both.
    parent: PathBuf,
    /// Who writes: checked again against the target at commit.
    identity: Identity,
    /// May replace an lbsim output of another scenario or seed.
    overwrite: bool,
}

impl StagedDir {
    /// Starts an output directory for a run: checks that `target` may be replaced, removes
    /// stale staging directories of the same target left by killed runs, creates the target's
    /// parent if needed and a fresh staging directory beside the target, and writes [`MARKER`]
    /// into it.
    ///
    /// `target`: the chosen output directory (may not exist yet; a link to a directory is
    /// resolved). `scenario`, `seed`: identity of the run, compared with an existing target's.
    /// `overwrite`: may replace an lbsim output of another scenario or seed.
    ///
    /// # Errors
    /// [`StagingError::NotADirectory`] (the target is a file), [`StagingError::BadSymlink`]
    /// (a dangling link or a link to a file), [`StagingError::NoName`] (`/`),
    /// [`StagingError::NotLbsimOutput`] (a non-empty directory lbsim did not write, whatever
    /// `overwrite`), [`StagingError::OtherRun`] (another run's outputs without `overwrite`),
    /// [`StagingError::Io`] (the parent or staging directory cannot be created or written).
    /// On error nothing has been created except, possibly, the target's parent.
    pub fn begin(
        target: &Path,
        scenario: &str,
        seed: u64,
        overwrite: bool,
    ) -> Result<StagedDir, StagingError> {
        let identity = Identity {
            scenario: scenario.to_owned(),
            seed,
        };
        let (target, parent, name) = resolve(target)?;
        check_replaceable(&target, classify(&target)?, &identity, overwrite)?;
        fs::create_dir_all(&parent).map_err(io_err(&parent, "create the output's parent"))?;
        remove_stale(&parent, &name);

        let mut prefix = sibling_prefix(&name);
        prefix.push(format!("{}-", std::process::id()));
        let staging = tempfile::Builder::new()
            .prefix(&prefix)
            .rand_bytes(RAND_LEN)
            .tempdir_in(&parent)
            .map_err(io_err(&parent, "create a staging directory in"))?
            .keep();
        let staged = StagedDir {
            staging: Some(staging),
            target,
            parent,
            identity,
            overwrite,
        };
        // From here on, an error drops `staged`, which removes the staging directory.
        let marker = staged.path().join(MARKER);
        let mut json = serde_json::to_string(&staged.identity).expect("identity serialises");
        json.push('\n');
        fs::write(&marker, json).map_err(io_err(&marker, "write"))?;
        Ok(staged)
    }

    /// Where to write the files now: the hidden staging directory beside the target.
    pub fn path(&self) -> &Path {
        self.staging
            .as_deref()
            .expect("a StagedDir has its staging directory until commit consumes it")
    }

    /// The final directory: the target given to [`StagedDir::begin`], or the directory it links
    /// to.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Puts the staged directory in place of the target and removes the previous target;
    /// returns the target. The target is checked again (it may have changed since `begin`).
    ///
    /// On Linux and macOS the two directories are exchanged in one step (`renameat2`
    /// `RENAME_EXCHANGE`, `renameatx_np` `RENAME_SWAP`), so the target always holds one whole
    /// run. Where that is not supported (some file systems, other systems), the previous target
    /// is moved aside to `.<name>.lbsim-old-<pid>-<random>` and the staging directory renamed
    /// into its place: a process killed between the two renames leaves no target, and the next
    /// run removes both leftovers. A previous target that cannot be removed after the swap is
    /// left under its hidden name for the next run to remove; the commit still succeeds.
    ///
    /// # Errors
    /// The errors of [`StagedDir::begin`]'s checks if the target changed since, and
    /// [`StagingError::Io`] if a rename fails; the staging directory is then removed and the
    /// target left as it was.
    pub fn commit(mut self) -> Result<PathBuf, StagingError> {
        let staging = self.path().to_path_buf();
        let target = self.target.clone();
        let existing = classify(&target)?;
        let absent = existing == Existing::Absent;
        check_replaceable(&target, existing, &self.identity, self.overwrite)?;
        if absent {
            fs::rename(&staging, &target)
                .map_err(io_err(&target, "rename the staging directory to"))?;
        } else {
            swap_in(&staging, &target, &self.parent, true)?;
        }
        self.staging = None;
        sync_dir(&self.parent);
        Ok(target)
    }
}

impl Drop for StagedDir {
    /// Removes the staging directory if the run was not committed (best effort): an abandoned
    /// run leaves no debris and the target untouched.
    fn drop(&mut self) {
        if let Some(staging) = self.staging.take() {
            let _ = fs::remove_dir_all(staging);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str, seed: u64) -> Identity {
        Identity {
            scenario: s.into(),
            seed,
        }
    }

    #[test]
    fn sibling_names_are_parsed_strictly() {
        let prefix = sibling_prefix(OsStr::new("out"));
        let pid = |n: &str| sibling_pid(OsStr::new(n), &prefix);
        assert_eq!(pid(".out.lbsim-123-abcDEF0123"), Some(123));
        assert_eq!(pid(".out.lbsim-old-77-abcDEF0123"), Some(77));
        // Another target, a wrong random part, a missing pid, pid 0, too big a pid.
        assert_eq!(pid(".out2.lbsim-123-abcDEF0123"), None);
        assert_eq!(pid(".out.lbsim-123-abc"), None);
        assert_eq!(pid(".out.lbsim-123-abcDEF012."), None);
        assert_eq!(pid(".out.lbsim--abcDEF0123"), None);
        assert_eq!(pid(".out.lbsim-0-abcDEF0123"), None);
        assert_eq!(pid(".out.lbsim-99999999999-abcDEF0123"), None);
        assert_eq!(pid(".out.lbsim-4294967296-abcDEF0123"), None);
        // A target whose own name looks like a staging name is a different target.
        assert_eq!(pid(".out.lbsim-5-abcDEF0123.lbsim-6-abcDEF0123"), None);
        assert_eq!(pid("out"), None);
    }

    #[test]
    fn classify_tells_empty_ours_and_foreign_apart() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path().join("d");
        assert_eq!(classify(&d).unwrap(), Existing::Absent);
        fs::create_dir(&d).unwrap();
        assert_eq!(classify(&d).unwrap(), Existing::Empty);
        fs::write(d.join("notes.txt"), "mine").unwrap();
        assert_eq!(classify(&d).unwrap(), Existing::Foreign);
        // A summary.json without the identity fields is not lbsim's.
        fs::write(d.join("summary.json"), r#"{"complete": true}"#).unwrap();
        assert_eq!(classify(&d).unwrap(), Existing::Foreign);
        fs::write(
            d.join("summary.json"),
            r#"{"scenario": "a", "seed": 1, "x": [1]}"#,
        )
        .unwrap();
        assert_eq!(classify(&d).unwrap(), Existing::Ours(id("a", 1)));
        // The marker wins over summary.json.
        fs::write(d.join(MARKER), r#"{"scenario": "b", "seed": 2}"#).unwrap();
        assert_eq!(classify(&d).unwrap(), Existing::Ours(id("b", 2)));
        fs::write(d.join("f"), "").unwrap();
        assert!(matches!(
            classify(&d.join("f")),
            Err(StagingError::NotADirectory { .. })
        ));
    }

    #[test]
    fn replace_rules() {
        let p = Path::new("out/x");
        let me = id("b", 2);
        let ok = |e, o| check_replaceable(p, e, &me, o).is_ok();
        assert!(ok(Existing::Absent, false));
        assert!(ok(Existing::Empty, false));
        assert!(ok(Existing::Ours(id("b", 2)), false));
        assert!(!ok(Existing::Ours(id("a", 1)), false));
        assert!(!ok(Existing::Ours(id("b", 3)), false));
        assert!(ok(Existing::Ours(id("a", 1)), true));
        assert!(!ok(Existing::Foreign, false));
        assert!(!ok(Existing::Foreign, true));
        let msg = check_replaceable(p, Existing::Ours(id("a", 1)), &me, false)
            .unwrap_err()
            .to_string();
        assert_eq!(
            msg,
            "out/x holds the outputs of scenario \"a\" seed 1; this run is scenario \"b\" seed 2: \
             choose another --out or pass --overwrite"
        );
    }

    #[test]
    fn fallback_without_exchange_replaces_whole_and_leaves_no_debris() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("out");
        fs::create_dir(&target).unwrap();
        fs::write(target.join("old.csv"), "old").unwrap();
        let staging = tmp.path().join(".out.lbsim-1-abcDEF0123");
        fs::create_dir(&staging).unwrap();
        fs::write(staging.join("new.csv"), "new").unwrap();
        swap_in(&staging, &target, tmp.path(), false).unwrap();
        assert_eq!(fs::read_to_string(target.join("new.csv")).unwrap(), "new");
        assert!(!target.join("old.csv").exists());
        let left: Vec<_> = fs::read_dir(tmp.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "only the target is left: {left:?}");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn exchange_swaps_two_directories_on_linux() {
        let tmp = tempfile::tempdir().unwrap();
        let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
        fs::create_dir(&a).unwrap();
        fs::create_dir(&b).unwrap();
        fs::write(a.join("from_a"), "").unwrap();
        // tmpfs, ext4, btrfs, xfs and overlayfs all support RENAME_EXCHANGE.
        assert!(exchange(&a, &b).unwrap());
        assert!(b.join("from_a").exists() && !a.join("from_a").exists());
    }

    #[test]
    fn root_has_no_name() {
        assert!(matches!(
            resolve(Path::new("/")),
            Err(StagingError::NoName { .. })
        ));
    }
}
