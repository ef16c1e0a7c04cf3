//! Reading the output CSV files: columns by name, cells as numbers, errors naming the file,
//! the line and the column.

use std::path::{Path, PathBuf};

use super::PlotError;

/// A CSV file held in memory: its header and its rows, as text.
pub(crate) struct Table {
    /// The file (for messages).
    pub path: PathBuf,
    /// The column names.
    pub headers: Vec<String>,
    /// The rows (each as long as the header).
    pub rows: Vec<Vec<String>>,
    /// The line of each row in the file (1-based).
    pub lines: Vec<u64>,
}

impl Table {
    /// Reads `path`. An empty file is a table with no columns and no rows.
    pub fn read(path: &Path) -> Result<Table, PlotError> {
        let bytes = std::fs::read(path).map_err(|source| PlotError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let csv_err = |e: csv::Error| PlotError::Csv {
            path: path.to_path_buf(),
            line: e.position().map_or(0, |p| p.line()),
            column: None,
            message: match e.kind() {
                csv::ErrorKind::UnequalLengths {
                    expected_len, len, ..
                } => format!("{len} cells where the header has {expected_len}"),
                _ => e.to_string(),
            },
        };
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_reader(bytes.as_slice());
        let headers = rdr
            .headers()
            .map_err(csv_err)?
            .iter()
            .map(str::to_string)
            .collect();
        let mut rows = Vec::new();
        let mut lines = Vec::new();
        for rec in rdr.records() {
            let rec = rec.map_err(csv_err)?;
            lines.push(rec.position().map_or(0, |p| p.line()));
            rows.push(rec.iter().map(str::to_string).collect());
        }
        Ok(Table {
            path: path.to_path_buf(),
            headers,
            rows,
            lines,
        })
    }

    /// The index of the column `name`.
    pub fn col(&self, name: &str) -> Option<usize> {
        self.headers.iter().position(|h| h == name)
    }

    /// The index of the column `name`, or an error naming the file.
    pub fn need(&self, name: &str) -> Result<usize, PlotError> {
        self.col(name).ok_or_else(|| PlotError::MissingColumn {
            path: self.path.clone(),
            column: name.to_string(),
        })
    }

    /// Row `r`'s cell of column `c` as a number; `None` when empty.
    ///
    /// # Errors
    /// A cell that is not a number, naming the line and the column.
    pub fn num(&self, r: usize, c: usize) -> Result<Option<f64>, PlotError> {
        let cell = self.rows[r][c].trim();
        if cell.is_empty() {
            return Ok(None);
        }
        match cell.parse::<f64>() {
            Ok(x) if x.is_finite() => Ok(Some(x)),
            _ => Err(PlotError::Csv {
                path: self.path.clone(),
                line: self.lines[r],
                column: Some(self.headers[c].clone()),
                message: format!("{cell:?} is not a number"),
            }),
        }
    }

    /// Every row's cell of column `name` as a number; `None` when the column is missing.
    pub fn nums(&self, name: &str) -> Result<Option<Vec<Option<f64>>>, PlotError> {
        let Some(c) = self.col(name) else {
            return Ok(None);
        };
        (0..self.rows.len())
            .map(|r| self.num(r, c))
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    /// Row `r`'s cell of column `c`, as text.
    pub fn text(&self, r: usize, c: usize) -> &str {
        &self.rows[r][c]
    }
}

/// A value of a varied parameter, for an axis: a number (durations in seconds) or a word.
pub(crate) fn parse_value(v: &str) -> Option<f64> {
    let v = v.trim();
    if let Ok(x) = v.parse::<f64>() {
        return x.is_finite().then_some(x);
    }
    humantime::parse_duration(v).ok().map(|d| d.as_secs_f64())
}

/// Whether a varied value is a duration (as opposed to a plain number).
pub(crate) fn is_duration(v: &str) -> bool {
    v.trim().parse::<f64>().is_err() && humantime::parse_duration(v.trim()).is_ok()
}
