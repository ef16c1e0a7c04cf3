//! Plots drawn from a run's, a sweep's or a comparison's CSV files with
//! [plotters](https://docs.rs/plotters): SVG by default, PNG on request.
//!
//! Every plot is drawn from the output files alone (never from the model), so results of old
//! runs and of other machines can be drawn again (`lbsim plot DIR`). The same CSV files give
//! byte-identical plots: no clock, no randomness, no hash-map order reaches a picture.
//!
//! Files, in `<dir>/plots/` (stable names other tools link to; `.png` instead of `.svg`
//! with [`Format::Png`]):
//! - a run ([`run_plots`], from `metrics.csv`, `latency.csv`, `alarms.csv` and the scenario's
//!   name in `summary.json`): `dashboard.svg` (time series sharing one time axis: offered and
//!   served request rate, latency p50/p90/p99, error responses by cause, ECS tasks and
//!   targets by state, CPU and memory utilisation with the target-tracking scaling target,
//!   cumulative cost) and `latency_cdf.svg` (the latency distribution, p50 and p99 marked);
//! - a sweep ([`sweep_plots`], from `sweep_summary.csv`): `sweep_<metric>.svg` per chosen
//!   metric (mean against the first varied parameter with its 95 % confidence band, one
//!   line per value of the other varied parameters) and `sweep.svg` (all of them in a grid);
//! - a comparison ([`compare_plots`], from `compare.csv`): `compare.svg`, a forest plot of
//!   the paired differences (alternative − baseline) with their 95 % confidence intervals,
//!   one panel per metric, significant differences filled and coloured.
//!
//! Text is drawn with DejaVu Sans (bundled in `assets/fonts/`, Bitstream Vera licence):
//! SVG files name the `sans-serif` family and leave the font to the viewer; PNG files are
//! rasterised with the bundled font, so no system library or font is needed.

mod compare;
mod data;
mod run;
mod style;
mod sweep;

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

pub use compare::compare_plots;
pub use run::run_plots;
pub use sweep::{default_sweep_metrics, sweep_plots};

/// The file format of the plots.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    /// Scalable vector graphics (text as `<text>` elements): the default.
    #[default]
    Svg,
    /// A bitmap (8-bit RGB PNG), text rasterised with the bundled font.
    Png,
}

impl Format {
    /// The file extension, without the dot: `svg` or `png`.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Svg => "svg",
            Format::Png => "png",
        }
    }
}

/// What kind of output directory a directory is, by the file that marks it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DirKind {
    /// A run's directory (`metrics.csv`).
    Run,
    /// A sweep's directory (`sweep_summary.csv`).
    Sweep,
    /// A comparison's directory (`compare.csv`; it also has a sweep's files).
    Compare,
}

/// Why a plot could not be drawn. Every error names the file.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// A file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A CSV file is malformed: a cell that is not a number, a row of the wrong length.
    #[error("{}: line {line}{}: {message}", path.display(), column.as_ref().map(|c| format!(", column {c}")).unwrap_or_default())]
    Csv {
        /// The file.
        path: PathBuf,
        /// The line (1-based; the header is line 1).
        line: u64,
        /// The column's name, when the fault is in one cell.
        column: Option<String>,
        /// What is wrong.
        message: String,
    },
    /// A file lacks a column the plot cannot do without.
    #[error("{}: no column {column:?}", path.display())]
    MissingColumn {
        /// The file.
        path: PathBuf,
        /// The column.
        column: String,
    },
    /// A metric was asked for (`--metric`) that the file does not have.
    #[error("{}: no metric {metric:?} (it has: {})", path.display(), available.join(", "))]
    UnknownMetric {
        /// The file.
        path: PathBuf,
        /// The metric asked for.
        metric: String,
        /// The metrics the file has, in its order.
        available: Vec<String>,
    },
    /// A plot file could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The drawing library failed.
    #[error("drawing {}: {message}", path.display())]
    Draw {
        /// The plot file being drawn.
        path: PathBuf,
        /// The library's message.
        message: String,
    },
    /// The directory is not a run's, a sweep's or a comparison's.
    #[error(
        "{} is not a run, sweep or comparison output directory (it has no metrics.csv, sweep_summary.csv or compare.csv)",
        dir.display()
    )]
    NotAnOutputDir {
        /// The directory.
        dir: PathBuf,
    },
}

/// What kind of output directory `dir` is: [`DirKind::Compare`] when it has `compare.csv`,
/// else [`DirKind::Sweep`] with `sweep_summary.csv`, else [`DirKind::Run`] with
/// `metrics.csv`.
///
/// # Errors
/// [`PlotError::NotAnOutputDir`] when it has none of these files.
pub fn detect(dir: &Path) -> Result<DirKind, PlotError> {
    if dir.join("compare.csv").is_file() {
        Ok(DirKind::Compare)
    } else if dir.join("sweep_summary.csv").is_file() {
        Ok(DirKind::Sweep)
    } else if dir.join("metrics.csv").is_file() {
        Ok(DirKind::Run)
    } else {
        Err(PlotError::NotAnOutputDir {
            dir: dir.to_path_buf(),
        })
    }
}

/// Draws every plot of the output directory `dir` (run, sweep or comparison, see
/// [`detect`]) into `dir/plots/`; `metrics` chooses a sweep's and a comparison's metrics
/// (empty: the defaults). A comparison gets its sweep plots and `compare.svg`.
///
/// # Errors
/// As [`detect`], [`run_plots`], [`sweep_plots`] and [`compare_plots`].
pub fn plot_dir(
    dir: &Path,
    format: Format,
    metrics: &[String],
) -> Result<(DirKind, Vec<PathBuf>), PlotError> {
    let kind = detect(dir)?;
    let files = match kind {
        DirKind::Run => run_plots(dir, format)?,
        DirKind::Sweep => sweep_plots(dir, format, metrics)?,
        DirKind::Compare => {
            let mut files = Vec::new();
            if dir.join("sweep_summary.csv").is_file() {
                files = sweep_plots(dir, format, metrics)?;
            }
            files.extend(compare_plots(dir, format, metrics)?);
            files
        }
    };
    Ok((kind, files))
}

/// The DejaVu Sans font, for text measurement (layout) and PNG text.
static FONT: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");

fn register_font() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // The font is bundled and known good; a failure would show as a drawing error.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

/// One picture: its size and how to draw it on any plotters backend.
pub(crate) trait Figure {
    /// Width and height, pixels.
    fn size(&self) -> (u32, u32);
    /// Draws the picture on `root` (already filled white).
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String>;
}

/// Shorthand: a plotters error as a message.
pub(crate) fn de<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

/// Draws `fig` into `<plots>/<stem>.<ext>`, written to a temporary file then renamed.
pub(crate) fn render<F: Figure>(
    plots: &Path,
    stem: &str,
    format: Format,
    fig: &F,
) -> Result<PathBuf, PlotError> {
    register_font();
    let path = plots.join(format!("{stem}.{}", format.extension()));
    let draw_err = |message: String| PlotError::Draw {
        path: path.clone(),
        message,
    };
    let (w, h) = fig.size();
    let bytes = match format {
        Format::Svg => {
            let mut s = String::new();
            {
                let root = SVGBackend::with_string(&mut s, (w, h)).into_drawing_area();
                root.fill(&WHITE).map_err(|e| draw_err(de(e)))?;
                fig.draw(&root).map_err(draw_err)?;
                root.present().map_err(|e| draw_err(de(e)))?;
            }
            s.into_bytes()
        }
        Format::Png => {
            let mut buf = vec![0u8; w as usize * h as usize * 3];
            {
                let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
                root.fill(&WHITE).map_err(|e| draw_err(de(e)))?;
                fig.draw(&root).map_err(draw_err)?;
                root.present().map_err(|e| draw_err(de(e)))?;
            }
            encode_png(&buf, w, h).map_err(|e| draw_err(de(e)))?
        }
    };
    write_atomic(&path, &bytes)?;
    Ok(path)
}

fn encode_png(rgb: &[u8], w: u32, h: u32) -> Result<Vec<u8>, png::EncodingError> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut writer = enc.write_header()?;
        writer.write_image_data(rgb)?;
    }
    Ok(out)
}

/// Writes `bytes` to a temporary file beside `path`, then renames it to `path`.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), PlotError> {
    let err = |source| PlotError::Write {
        path: path.to_path_buf(),
        source,
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    std::fs::write(&tmp, bytes).map_err(err)?;
    std::fs::rename(&tmp, path).map_err(err)
}

/// Creates `dir/plots/` and returns it.
pub(crate) fn plots_dir(dir: &Path) -> Result<PathBuf, PlotError> {
    let plots = dir.join("plots");
    std::fs::create_dir_all(&plots).map_err(|source| PlotError::Write {
        path: plots.clone(),
        source,
    })?;
    Ok(plots)
}
