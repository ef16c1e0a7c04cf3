//! A redirect action's host, path and query (`RedirectActionConfig` `Host`, `Path`, `Query`),
//! with AWS's reserved keywords, and the rewritten request the client follows.
//!
//! AWS (<https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_RedirectActionConfig.html>,
//! <https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-listeners.html#redirect-actions>):
//! a URI is `protocol://hostname:port/path?query`; components not given keep their values.
//! The reserved keywords `#{protocol}`, `#{host}`, `#{port}`, `#{path}` (the original path
//! with its leading `/` removed) and `#{query}` reuse the original's components:
//! - `Host`: 1–128 characters, may contain `#{host}`; default `#{host}`;
//! - `Path`: 1–128 characters, starts with `/`, may contain `#{host}`, `#{path}` and
//!   `#{port}`; default `/#{path}`;
//! - `Query`: 0–128 characters, without the leading `?`, may contain any keyword; default
//!   `#{query}`.
//!
//! The model renders the templates when the load balancer answers the redirect and keeps
//! the result (host, path, query parameters) beside the request's seed until the client
//! re-sends it ([`PendingRedirect`]); the listener redirected to matches its rules against
//! the rewritten request (same method, headers and source address). A rendered query is
//! split into parameters at `&` and `=` (no percent-decoding: AWS does not percent-encode
//! either).

use super::rules::RequestView;

/// Longest `host` and `path` (AWS: 1–128 characters).
pub const MAX_HOST_PATH_LEN: usize = 128;
/// Longest `query` (AWS: 0–128 characters).
pub const MAX_QUERY_LEN: usize = 128;

/// Which of a redirect's components a template is: it decides the keywords allowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Component {
    /// `Host`: `#{host}`.
    Host,
    /// `Path`: `#{host}`, `#{path}`, `#{port}`.
    Path,
    /// `Query`: every keyword.
    Query,
}

impl Component {
    /// The keywords (without `#{` `}`) this component may contain.
    pub fn keywords(self) -> &'static [&'static str] {
        match self {
            Component::Host => &["host"],
            Component::Path => &["host", "path", "port"],
            Component::Query => &["protocol", "host", "port", "path", "query"],
        }
    }
}

/// Checks `template` for `component`: length, a path's leading `/`, and that every `#{...}`
/// is closed and allowed.
///
/// # Errors
/// A message naming what is allowed.
pub fn check(component: Component, template: &str) -> Result<(), String> {
    let n = template.chars().count();
    let (lo, hi) = match component {
        Component::Query => (0, MAX_QUERY_LEN),
        _ => (1, MAX_HOST_PATH_LEN),
    };
    if n < lo || n > hi {
        return Err(format!(
            "\"{template}\": {n} characters; AWS allows {lo}–{hi}"
        ));
    }
    if component == Component::Path && !template.starts_with('/') {
        return Err(format!(
            "\"{template}\": a redirect path is absolute: it starts with \"/\" (AWS)"
        ));
    }
    if component == Component::Query && template.starts_with('?') {
        return Err(format!(
            "\"{template}\": write the query without its leading \"?\" (AWS adds it)"
        ));
    }
    let allowed = component.keywords();
    let mut rest = template;
    while let Some(at) = rest.find("#{") {
        let after = &rest[at + 2..];
        let Some(close) = after.find('}') else {
            return Err(format!("\"{template}\": a \"#{{\" is not closed by \"}}\""));
        };
        let word = &after[..close];
        if !allowed.contains(&word) {
            let list: Vec<String> = allowed.iter().map(|w| format!("#{{{w}}}")).collect();
            return Err(format!(
                "\"{template}\": #{{{word}}} is not allowed here; this component may contain {} (AWS)",
                list.join(", ")
            ));
        }
        rest = &after[close + 1..];
    }
    Ok(())
}

/// A redirect's rewrite of the request's host, path and query: the templates, `None` for a
/// component left as it was (AWS's defaults `#{host}`, `/#{path}`, `#{query}`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RewriteSpec {
    /// `Host` template.
    pub host: Option<String>,
    /// `Path` template.
    pub path: Option<String>,
    /// `Query` template.
    pub query: Option<String>,
}

impl RewriteSpec {
    /// True when every component is left as it was (no template, or exactly AWS's default).
    pub fn is_identity(&self) -> bool {
        self.host.as_deref().is_none_or(|h| h == "#{host}")
            && self.path.as_deref().is_none_or(|p| p == "/#{path}")
            && self.query.as_deref().is_none_or(|q| q == "#{query}")
    }

    /// True when the host or the path changes (with protocol and port, what AWS counts as a
    /// modification that avoids a redirect loop; the query does not count).
    pub fn changes_host_or_path(&self) -> bool {
        self.host.as_deref().is_some_and(|h| h != "#{host}")
            || self.path.as_deref().is_some_and(|p| p != "/#{path}")
    }

    /// The request the client follows the redirect with: `r` (answered by a listener with
    /// `protocol` and `port`) with each template rendered.
    pub fn apply(&self, r: &RequestView<'_>, protocol: &str, port: u16) -> Rewritten {
        let original_query = || {
            r.query
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("&")
        };
        let render = |t: &str| {
            let mut out = String::with_capacity(t.len() + 16);
            let mut rest = t;
            while let Some(at) = rest.find("#{") {
                out.push_str(&rest[..at]);
                let after = &rest[at + 2..];
                let Some(close) = after.find('}') else {
                    out.push_str(&rest[at..]);
                    rest = "";
                    break;
                };
                match &after[..close] {
                    "protocol" => out.push_str(protocol),
                    "host" => out.push_str(r.host),
                    "port" => out.push_str(&port.to_string()),
                    "path" => out.push_str(r.path.strip_prefix('/').unwrap_or(r.path)),
                    "query" => out.push_str(&original_query()),
                    other => {
                        out.push_str("#{");
                        out.push_str(other);
                        out.push('}');
                    }
                }
                rest = &after[close + 1..];
            }
            out.push_str(rest);
            out
        };
        Rewritten {
            host: self
                .host
                .as_deref()
                .map_or_else(|| r.host.to_string(), render),
            path: self
                .path
                .as_deref()
                .map_or_else(|| r.path.to_string(), render),
            query: match self.query.as_deref() {
                None => r.query.to_vec(),
                Some(q) => parse_query(&render(q)),
            },
        }
    }
}

/// Splits a query string into parameters: `a=1&b&c=` is `(a, 1)`, `(b, "")`, `(c, "")`;
/// empty pieces are skipped.
pub fn parse_query(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (p.to_string(), String::new()),
        })
        .collect()
}

/// The host, path and query a followed redirect carries instead of its mix entry's.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rewritten {
    /// `Host` header.
    pub host: String,
    /// Path, without the query string.
    pub path: String,
    /// Query parameters.
    pub query: Vec<(String, String)>,
}

impl Rewritten {
    /// `r` with this host, path and query.
    pub fn view<'a>(&'a self, r: RequestView<'a>) -> RequestView<'a> {
        RequestView {
            host: &self.host,
            path: &self.path,
            query: &self.query,
            ..r
        }
    }
}

/// A redirect the client will follow: the request's seed and session, and its rewritten
/// host, path and query (`None`: the mix entry's, as drawn from the seed). Kept in the
/// world's `redirects` slab so the event stays 16 bytes and `Request` does not grow.
#[derive(Clone, Debug)]
pub struct PendingRedirect {
    /// The request's seed.
    pub seed: u64,
    /// Its session.
    pub session: u32,
    /// Its rewritten components, if a redirect on its way rewrote them.
    pub rewritten: Option<Box<Rewritten>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view<'a>(host: &'a str, path: &'a str, q: &'a [(String, String)]) -> RequestView<'a> {
        RequestView {
            method: "GET",
            host,
            path,
            query: q,
            headers: &[],
            source_ip: std::net::Ipv4Addr::UNSPECIFIED.into(),
        }
    }

    #[test]
    fn templates_render_aws_keywords() {
        let q = vec![("a".to_string(), "1".to_string())];
        let r = view("shop.example.com", "/old/items/7", &q);
        let rw = |host: Option<&str>, path: Option<&str>, query: Option<&str>| {
            RewriteSpec {
                host: host.map(str::to_string),
                path: path.map(str::to_string),
                query: query.map(str::to_string),
            }
            .apply(&r, "HTTP", 80)
        };
        // AWS's own examples: "/new/#{path}", "example.#{host}", "#{query}&value=xyz".
        let out = rw(
            Some("example.#{host}"),
            Some("/new/#{path}"),
            Some("#{query}&value=xyz"),
        );
        assert_eq!(out.host, "example.shop.example.com");
        assert_eq!(
            out.path, "/new/old/items/7",
            "#{{path}} drops the leading /"
        );
        assert_eq!(
            out.query,
            vec![
                ("a".to_string(), "1".to_string()),
                ("value".to_string(), "xyz".to_string())
            ]
        );
        // Defaults: unchanged.
        let same = rw(None, None, None);
        assert_eq!((same.host.as_str(), same.path.as_str()), (r.host, r.path));
        assert_eq!(same.query, q);
        assert!(RewriteSpec::default().is_identity());
        // Literals, port and protocol.
        let lit = rw(
            Some("api.example.com"),
            Some("/v2/#{port}"),
            Some("from=#{protocol}"),
        );
        assert_eq!(lit.host, "api.example.com");
        assert_eq!(lit.path, "/v2/80");
        assert_eq!(lit.query, vec![("from".to_string(), "HTTP".to_string())]);
        assert_eq!(rw(None, None, Some("")).query, vec![]);
    }

    #[test]
    fn checks_follow_the_aws_constraints() {
        assert!(check(Component::Path, "/new/#{path}").is_ok());
        assert!(check(Component::Path, "/#{host}/#{port}").is_ok());
        assert!(
            check(Component::Path, "new")
                .unwrap_err()
                .contains("starts with \"/\"")
        );
        assert!(check(Component::Path, "").unwrap_err().contains("1–128"));
        let long = format!("/{}", "x".repeat(128));
        assert!(check(Component::Path, &long).unwrap_err().contains("1–128"));
        assert!(
            check(Component::Path, "/#{query}")
                .unwrap_err()
                .contains("#{path}")
        );
        assert!(
            check(Component::Host, "#{path}.example.com")
                .unwrap_err()
                .contains("#{host}")
        );
        assert!(
            check(Component::Host, "x.#{host")
                .unwrap_err()
                .contains("not closed")
        );
        assert!(check(Component::Query, "").is_ok());
        assert!(check(Component::Query, "#{protocol}&#{query}").is_ok());
        assert!(
            check(Component::Query, "?a=1")
                .unwrap_err()
                .contains("leading")
        );
        assert!(
            check(Component::Query, &"q".repeat(129))
                .unwrap_err()
                .contains("0–128")
        );
    }
}
