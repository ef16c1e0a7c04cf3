//! Each kind of `report.html` opened in headless Chromium: no console message at all (the
//! page has no script, so any message is an error: a blocked load, a policy violation, a
//! script that should not exist), and plots that are drawn (coloured pixels on the
//! screenshot; the page's own style is greys only).
//!
//! Chromium is Debian's `chromium` (`.ci/run` installs it), or `LBSIM_CHROMIUM`. Without
//! it the tests say why and pass, unless `LBSIM_REQUIRE_CHROMIUM=1` (set by `.ci/run`),
//! when they fail.

use std::fs::{self, File};
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use lbsim::report::html::{compare_report, run_report, sweep_report};

use crate::report::{ensure_plot, evil_run, evil_sweep_and_compare, sweep_fixture};

/// Set to `1` to make a missing browser a failure.
const REQUIRE: &str = "LBSIM_REQUIRE_CHROMIUM";

/// The least number of coloured pixels that counts as a drawn plot: two 3-pixel lines
/// across a half-width plot make several thousand; greys, black text and a blank plot make
/// none.
const MIN_COLOURED: usize = 500;

fn find_chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("LBSIM_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).find_map(|dir| {
        [
            "chromium",
            "chromium-browser",
            "google-chrome",
            "google-chrome-stable",
        ]
        .iter()
        .map(|name| dir.join(name))
        .find(|p| p.is_file())
    })
}

/// The browser; or, after saying why, `None` (the test then passes), unless CI requires it.
fn chromium(test: &str) -> Option<PathBuf> {
    let found = find_chromium();
    if found.is_none() {
        let why = "no Chromium (chromium, chromium-browser or google-chrome on PATH, or \
                   LBSIM_CHROMIUM): `apt-get install chromium` to run it";
        assert!(
            std::env::var(REQUIRE).as_deref() != Ok("1"),
            "{test}: {why}; {REQUIRE}=1 requires it"
        );
        eprintln!("skipped {test}: {why}");
    }
    found
}

/// What a page did in the browser.
struct Loaded {
    /// Console messages (Chromium's `CONSOLE` log lines).
    console: Vec<String>,
    /// Pixels of the screenshot that are clearly not grey.
    coloured: usize,
}

/// `file://` URL of `path`, bytes outside a safe set percent-encoded.
fn file_url(path: &Path) -> String {
    let mut url = String::from("file://");
    for b in path.to_str().expect("a UTF-8 path").bytes() {
        if b.is_ascii_alphanumeric() || b"/._-~".contains(&b) {
            url.push(b as char);
        } else {
            url.push_str(&format!("%{b:02X}"));
        }
    }
    url
}

/// Opens `page` in headless Chromium (1200 × 2000 window, fresh profile, no network
/// services) and takes a screenshot.
fn load(browser: &Path, page: &Path) -> Loaded {
    let work = tempfile::tempdir().unwrap();
    let shot = work.path().join("shot.png");
    let log = work.path().join("chromium.log");
    let page = page.canonicalize().unwrap();
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1200,2000",
        ])
        .arg(format!(
            "--user-data-dir={}",
            work.path().join("profile").display()
        ))
        .arg(format!("--screenshot={}", shot.display()))
        .arg(file_url(&page))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(File::create(&log).unwrap())
        .spawn()
        .unwrap_or_else(|e| panic!("{}: {e}", browser.display()));
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "Chromium took over 120 s on {}:\n{}",
                page.display(),
                fs::read_to_string(&log).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let stderr = fs::read_to_string(&log).unwrap_or_default();
    assert!(
        status.success() && shot.exists(),
        "Chromium failed ({status}) on {}:\n{stderr}",
        page.display()
    );
    let console = stderr
        .lines()
        .filter(|l| l.contains(":CONSOLE") || l.contains("Uncaught"))
        .map(String::from)
        .collect();
    Loaded {
        console,
        coloured: coloured_pixels(&shot),
    }
}

/// Pixels of the PNG at `path` whose channels differ by 64 or more (plot lines; not text,
/// not the page's greys).
fn coloured_pixels(path: &Path) -> usize {
    let mut decoder = png::Decoder::new(BufReader::new(File::open(path).unwrap()));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    assert!(
        info.width >= 1000 && info.height >= 1000,
        "screenshot {}×{}",
        info.width,
        info.height
    );
    buf[..info.buffer_size()]
        .chunks_exact(channels)
        .filter(|px| {
            channels >= 3 && {
                let (lo, hi) = (px[..3].iter().min().unwrap(), px[..3].iter().max().unwrap());
                hi - lo >= 64
            }
        })
        .count()
}

/// A report that opens cleanly and shows its plots.
fn assert_clean_and_drawn(what: &str, l: &Loaded) {
    assert!(
        l.console.is_empty(),
        "{what}: console messages:\n{}",
        l.console.join("\n")
    );
    assert!(
        l.coloured >= MIN_COLOURED,
        "{what}: the plots look blank ({} coloured pixels < {MIN_COLOURED})",
        l.coloured
    );
}

#[test]
fn a_run_report_opens_cleanly_with_its_plots() {
    let Some(browser) = chromium("a_run_report_opens_cleanly_with_its_plots") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = evil_run(&dir);
    // Until `lbsim run` draws plots of its own, a hand-made one.
    if ensure_plot(&out, false) {
        run_report(&out).unwrap();
    }
    let l = load(&browser, &out.join("report.html"));
    assert_clean_and_drawn("run", &l);
}

#[test]
fn sweep_and_compare_reports_open_cleanly_with_their_plots() {
    let Some(browser) = chromium("sweep_and_compare_reports_open_cleanly_with_their_plots") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let sweep = dir.path().join("sweep");
    sweep_fixture(&sweep, false);
    ensure_plot(&sweep, false);
    let l = load(&browser, &sweep_report(&sweep).unwrap());
    assert_clean_and_drawn("sweep", &l);

    let cmp = dir.path().join("compare");
    sweep_fixture(&cmp, true);
    ensure_plot(&cmp, false);
    let l = load(&browser, &compare_report(&cmp).unwrap());
    assert_clean_and_drawn("compare", &l);
}

#[test]
fn reports_of_lbsim_sweep_and_compare_open_cleanly_with_their_plots() {
    let Some(browser) =
        chromium("reports_of_lbsim_sweep_and_compare_open_cleanly_with_their_plots")
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (sweep, cmp) = evil_sweep_and_compare(&dir);
    // Until `lbsim` draws plots of its own, a hand-made one.
    if ensure_plot(&sweep, false) {
        sweep_report(&sweep).unwrap();
    }
    if ensure_plot(&cmp, false) {
        compare_report(&cmp).unwrap();
    }
    assert_clean_and_drawn("sweep", &load(&browser, &sweep.join("report.html")));
    assert_clean_and_drawn("compare", &load(&browser, &cmp.join("report.html")));
}

/// The checks can fail: a script error is seen on the console, and a report whose plot is
/// blank (axes and a title, no data) has no coloured pixel.
#[test]
fn the_browser_checks_catch_a_script_error_and_a_blank_plot() {
    let Some(browser) = chromium("the_browser_checks_catch_a_script_error_and_a_blank_plot") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.html");
    fs::write(
        &bad,
        "<!DOCTYPE html><html><body><p>x</p><script>undefinedFunction();</script></body></html>",
    )
    .unwrap();
    let l = load(&browser, &bad);
    assert!(
        l.console
            .iter()
            .any(|m| m.contains("Uncaught ReferenceError")),
        "the script error was not seen: {:?}",
        l.console
    );

    let blank = dir.path().join("blank");
    sweep_fixture(&blank, false);
    ensure_plot(&blank, true);
    let l = load(&browser, &sweep_report(&blank).unwrap());
    assert!(l.console.is_empty(), "{:?}", l.console);
    assert!(
        l.coloured < MIN_COLOURED,
        "a blank plot passed for drawn: {} coloured pixels",
        l.coloured
    );
}
