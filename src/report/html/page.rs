//! The page around the sections: head, style, plots and table cells.

use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::read::{Plot, Table};

/// No script, nothing from outside: images only from `data:` URIs, styles only inline.
const CSP: &str = "default-src 'none'; img-src data:; style-src 'unsafe-inline'";

/// Greys only, so that the colour on a screenshot of the page is the plots' (the browser
/// test counts coloured pixels to tell a drawn plot from a blank one).
const CSS: &str = "\
body{font-family:system-ui,'DejaVu Sans',Arial,sans-serif;color:#222;background:#fff;\
max-width:1200px;margin:0 auto;padding:0.5rem 1.5rem 3rem;line-height:1.35}\
h1{font-size:1.5rem;margin:0.6rem 0 0.3rem}\
h2{font-size:1.15rem;margin:1.8rem 0 0.4rem;border-bottom:1px solid #ccc}\
table{border-collapse:collapse;margin:0.4rem 0;font-size:0.85rem}\
th,td{border:1px solid #ddd;padding:0.15rem 0.5rem;text-align:left;vertical-align:top}\
th{background:#f2f2f2;font-weight:600}\
.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\
.ci{color:#666;font-size:0.75rem}\
tr.sig td{font-weight:700}\
.note{color:#555;font-size:0.85rem}\
.warn{border-left:4px solid #444;padding:0.2rem 0.6rem;background:#f2f2f2}\
.plots{display:grid;grid-template-columns:repeat(auto-fill,minmax(540px,1fr));gap:1rem}\
figure{margin:0}\
.plots figure.full{grid-column:1/-1}\
figure img{width:100%;height:auto;border:1px solid #eee}\
figcaption{font-size:0.8rem;color:#555}\
pre{background:#f6f6f6;border:1px solid #e4e4e4;padding:0.5rem;overflow:auto;\
max-height:40rem;font-size:0.8rem}\
details{margin:0.6rem 0}\
summary{cursor:pointer}\
.wide{overflow-x:auto}";

/// The whole document: `title` in the head and as the heading, then `body`.
pub(super) fn document(title: &str, body: Markup) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta http-equiv="Content-Security-Policy" content=(CSP);
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="generator" content=(concat!("lbsim ", env!("CARGO_PKG_VERSION")));
                title { (title) }
                style { (PreEscaped(CSS)) }
            }
            body {
                h1 { (title) }
                (body)
            }
        }
    }
    .into_string()
}

/// The plots section (nothing when there are none).
pub(super) fn plots(plots: &[Plot]) -> Markup {
    html! {
        @if !plots.is_empty() {
            section #plots {
                h2 { "Plots" }
                div.plots {
                    @for p in plots {
                        // Dashboards and grids of panels take the page's width.
                        figure.full[matches!(p.name.split('.').next(), Some("dashboard" | "sweep" | "compare"))] {
                            img src=(p.data_uri) alt=(p.name);
                            figcaption { "plots/" (p.name) }
                        }
                    }
                }
            }
        }
    }
}

/// A name's display label and unit, from its suffix: `latency_p99_ms` is `latency_p99`
/// in ms, `time_s` is `time` in s, `task_seconds` stays in s, `fraction_5xx` is 0–1.
pub(super) fn split_unit(name: &str) -> (&str, Option<&'static str>) {
    const SUFFIXES: [(&str, &str); 6] = [
        ("_ms", "ms"),
        ("_pct", "%"),
        ("_usd", "USD"),
        ("_rps", "requests/s"),
        ("_mib", "MiB"),
        ("_s", "s"),
    ];
    for (suffix, unit) in SUFFIXES {
        if let Some(stem) = name.strip_suffix(suffix)
            && !stem.is_empty()
        {
            return (stem, Some(unit));
        }
    }
    let last = name.rsplit('.').next().unwrap_or(name);
    if last.ends_with("_seconds") {
        (name, Some("s"))
    } else if last.ends_with("_hours") {
        (name, Some("h"))
    } else if last.starts_with("fraction_") {
        (name, Some("0–1"))
    } else {
        (name, None)
    }
}

/// A column header for the CSV column or flat metric `name`: its label, then its unit in
/// parentheses; the full name as a tooltip.
pub(super) fn header(name: &str) -> Markup {
    let (label, unit) = split_unit(name);
    html! {
        th title=(name) {
            (label)
            @if let Some(u) = unit { " (" (u) ")" }
        }
    }
}

/// Whether a cell holds a number (right-aligned, reformatted). Words such as `inf` or
/// `nan` that Rust would parse are not numbers here.
pub(super) fn parse_number(s: &str) -> Option<f64> {
    let first = s.chars().next()?;
    if !(first.is_ascii_digit() || matches!(first, '-' | '+' | '.')) {
        return None;
    }
    s.parse::<f64>().ok().filter(|x| x.is_finite())
}

/// A number with at most 5 significant digits after the point (integers as they are),
/// trailing zeros dropped.
pub(super) fn number(x: f64) -> String {
    if !x.is_finite() {
        return x.to_string();
    }
    if x == x.trunc() && x.abs() < 1e15 {
        return format!("{:.0}", x + 0.0);
    }
    let magnitude = x.abs().log10().floor() as i32;
    let decimals = (4 - magnitude).clamp(0, 12) as usize;
    let s = format!("{x:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// A CSV cell as a table cell: numbers right-aligned and shortened (integer cells, such
/// as seeds, as written), other text as it is.
pub(super) fn cell(s: &str) -> Markup {
    match parse_number(s) {
        Some(x) => {
            // `-0` (a sum of negative zeros) reads as 0.
            let shown = if s.contains(['.', 'e', 'E']) || x == 0.0 {
                number(x)
            } else {
                s.to_string()
            };
            html! { td.n title=(s) { (shown) } }
        }
        None => html! { td { (s) } },
    }
}

/// An optional number as a right-aligned cell (empty when `None`).
pub(super) fn num_cell(x: Option<f64>) -> Markup {
    html! { td.n { @if let Some(x) = x { (number(x)) } } }
}

/// A table of `columns` of `t` (all of them when `None`), with a note when the file had
/// more rows than shown.
pub(super) fn csv_table(t: &Table, file: &str, columns: Option<&[usize]>) -> Markup {
    let all: Vec<usize> = (0..t.header.len()).collect();
    let cols = columns.unwrap_or(&all);
    html! {
        @if t.total > t.rows.len() {
            p.note {
                "The first " (t.rows.len()) " of " (t.total) " rows; all are in " (file) "."
            }
        }
        div.wide {
            table {
                thead { tr { @for &c in cols { (header(&t.header[c])) } } }
                tbody {
                    @for row in &t.rows {
                        tr { @for &c in cols { (cell(row.get(c).map_or("", String::as_str))) } }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_short_and_integers_untouched() {
        assert_eq!(number(1234.56789), "1234.6");
        assert_eq!(number(0.084269123), "0.084269");
        assert_eq!(number(12.0), "12");
        assert_eq!(number(-0.5), "-0.5");
        assert_eq!(number(-0.0), "0");
        assert_eq!(number(0.000123456789), "0.00012346");
        assert_eq!(parse_number("inf"), None);
        assert_eq!(parse_number("30s"), None);
        assert_eq!(parse_number("-2.5"), Some(-2.5));
    }

    #[test]
    fn units_come_from_suffixes() {
        assert_eq!(split_unit("latency_p99_ms"), ("latency_p99", Some("ms")));
        assert_eq!(split_unit("time_s"), ("time", Some("s")));
        assert_eq!(split_unit("task_seconds"), ("task_seconds", Some("s")));
        assert_eq!(split_unit("fraction_5xx"), ("fraction_5xx", Some("0–1")));
        assert_eq!(
            split_unit("tg.api.cpu_utilization_mean_pct"),
            ("tg.api.cpu_utilization_mean", Some("%"))
        );
        assert_eq!(split_unit("requests_ok"), ("requests_ok", None));
    }

    #[test]
    fn text_is_escaped() {
        let m = cell("<script>alert(1)</script>").into_string();
        assert!(!m.contains("<script>"), "{m}");
        assert!(m.contains("&lt;script&gt;"), "{m}");
    }
}
