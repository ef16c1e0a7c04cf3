//! Reading an output directory's files for the report: optional files, JSON, CSV and the
//! plots, every error naming its file.

use std::path::{Path, PathBuf};

use base64::Engine as _;

use super::ReportError;

/// The text of `path`, `None` if it does not exist.
pub(super) fn optional_text(path: &Path) -> Result<Option<String>, ReportError> {
    match std::fs::read_to_string(path) {
        Ok(t) => Ok(Some(t)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(ReportError::Read {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// The text of `path`, which must exist.
pub(super) fn required_text(path: &Path) -> Result<String, ReportError> {
    std::fs::read_to_string(path).map_err(|source| ReportError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// `text` (the content of `path`) parsed as JSON into `T`, with the failing field's path.
pub(super) fn json<T: serde::de::DeserializeOwned>(
    path: &Path,
    text: &str,
) -> Result<T, ReportError> {
    let de = &mut serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|e| ReportError::Parse {
        path: path.to_path_buf(),
        message: if e.path().iter().next().is_some() {
            format!("{}: {}", e.path(), e.inner())
        } else {
            e.inner().to_string()
        },
    })
}

fn csv_error(path: &Path, e: &csv::Error) -> ReportError {
    ReportError::Parse {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// An open CSV file whose header has been read.
pub(super) struct CsvFile {
    path: PathBuf,
    /// Column names.
    pub header: Vec<String>,
    rdr: csv::Reader<std::io::BufReader<std::fs::File>>,
}

impl CsvFile {
    /// The index of column `name`.
    pub fn col(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }

    /// Calls `row` on every record, in order. Rows may not have the header's length.
    pub fn for_each(mut self, mut row: impl FnMut(&csv::StringRecord)) -> Result<(), ReportError> {
        let mut rec = csv::StringRecord::new();
        loop {
            match self.rdr.read_record(&mut rec) {
                Ok(true) => row(&rec),
                Ok(false) => return Ok(()),
                Err(e) => return Err(csv_error(&self.path, &e)),
            }
        }
    }
}

/// The CSV file `path` with its header read, `None` if it does not exist.
pub(super) fn open_csv(path: &Path) -> Result<Option<CsvFile>, ReportError> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(ReportError::Read {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(std::io::BufReader::new(file));
    let header: Vec<String> = rdr
        .headers()
        .map_err(|e| csv_error(path, &e))?
        .iter()
        .map(String::from)
        .collect();
    Ok(Some(CsvFile {
        path: path.to_path_buf(),
        header,
        rdr,
    }))
}

/// A CSV file read into memory, its first rows only.
pub(super) struct Table {
    /// Column names.
    pub header: Vec<String>,
    /// The first rows, at most the limit given to [`table`].
    pub rows: Vec<Vec<String>>,
    /// How many rows the file has.
    pub total: usize,
}

impl Table {
    /// The index of column `name`.
    pub fn col(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }
}

/// The CSV file `path` with its first `limit` rows, `None` if it does not exist.
pub(super) fn table(path: &Path, limit: usize) -> Result<Option<Table>, ReportError> {
    let Some(file) = open_csv(path)? else {
        return Ok(None);
    };
    let header = file.header.clone();
    let mut rows = Vec::new();
    let mut total = 0usize;
    file.for_each(|r| {
        total += 1;
        if rows.len() < limit {
            rows.push(r.iter().map(String::from).collect());
        }
    })?;
    Ok(Some(Table {
        header,
        rows,
        total,
    }))
}

/// A plot of the directory's `plots/`.
pub(super) struct Plot {
    /// Its file name (`latency.svg`).
    pub name: String,
    /// `data:image/svg+xml;base64,...`.
    pub data_uri: String,
}

/// Every `<dir>/plots/*.svg`, in file-name order; none if there is no `plots/`.
pub(super) fn plots(dir: &Path) -> Result<Vec<Plot>, ReportError> {
    let plots_dir = dir.join("plots");
    let read_err = |path: PathBuf| move |source| ReportError::Read { path, source };
    let entries = match std::fs::read_dir(&plots_dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
        Err(e) => return Err(read_err(plots_dir)(e)),
    };
    let mut paths = Vec::new();
    for entry in entries {
        let path = entry.map_err(read_err(plots_dir.clone()))?.path();
        if path
            .extension()
            .is_some_and(|x| x.eq_ignore_ascii_case("svg"))
            && path.is_file()
        {
            paths.push(path);
        }
    }
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let bytes = std::fs::read(&path).map_err(read_err(path.clone()))?;
            Ok(Plot {
                name: path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                data_uri: format!(
                    "data:image/svg+xml;base64,{}",
                    base64::engine::general_purpose::STANDARD.encode(bytes)
                ),
            })
        })
        .collect()
}
