//! Stored SPARQL queries: loading, parameter binding and result output.
//!
//! In: a query name (a file of `queries/`, embedded in the binary, or of a
//! folder given with `--queries`) or a path to a `.rq` file, `NAME=VALUE`
//! parameters and an open store. Out: the results written as a table, CSV,
//! TSV, SPARQL JSON or XML (SELECT/ASK), or as Turtle, N-Triples or JSON-LD
//! (CONSTRUCT/DESCRIBE). Parameters are bound as RDF literals through
//! Oxigraph's variable substitution, never spliced into the query text, so a
//! value cannot change the query.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use oxigraph::io::{RdfFormat, RdfSerializer};
use oxigraph::model::{Literal, Term, Variable};
use oxigraph::sparql::results::{QueryResultsFormat, QueryResultsSerializer};
use oxigraph::sparql::{CancellationToken, PreparedSparqlQuery, QueryResults, SparqlEvaluator};
use oxigraph::store::Store;

/// The stored queries shipped with the binary: (file name, text).
pub const EMBEDDED_QUERIES: &[(&str, &str)] = &include!(concat!(env!("OUT_DIR"), "/queries.rs"));

/// A stored query with its header.
#[derive(Debug, Clone)]
pub struct StoredQuery {
    pub name: String,
    pub title: String,
    pub description: String,
    /// (name, default, explanation)
    pub params: Vec<(String, String, String)>,
    pub example: Option<String>,
    /// What the query reads beyond the facts (`# requires:`, comma-separated):
    /// [`Requirement`]s checked on the store before it runs.
    pub requires: Vec<String>,
    pub text: String,
}

/// Something a stored query reads that a store may lack, named in its
/// header (`# requires: summary, source-counts`): the totals the build
/// keeps so that whole-store queries need not count millions of nodes.
/// Without them the query would answer with wrong numbers, so it is refused
/// with what to run instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requirement {
    /// The summary graph (`jd:mentionCount` of every mentioned entity,
    /// per-relation counts), of a layout the readers take.
    Summary,
    /// Each source's `jd:articleCount`, `jd:statisticCount` and
    /// `jd:assertionCount`, and its `jd:relationTally`s: written with its
    /// record since quads layout [`crate::sync::SOURCE_COUNTS_SINCE`].
    SourceCounts,
    /// The statistics rollups in the summary graph (`jd:StatisticRollup`,
    /// see [`crate::rollup`]), kept since summary format 6.
    StatisticsRollups,
    /// The relation totals in the summary graph (`jd:RelationTotal`, the
    /// sources' tallies summed per property), kept since summary format 7.
    RelationTotals,
    /// The per-agency counts in the summary graph (`jd:relationCount` and
    /// the others, see [`crate::agency_counts`]), kept since summary format 8.
    AgencyCounts,
}

impl Requirement {
    const ALL: [(&'static str, Requirement); 5] = [
        ("summary", Requirement::Summary),
        ("source-counts", Requirement::SourceCounts),
        ("statistics-rollups", Requirement::StatisticsRollups),
        ("relation-totals", Requirement::RelationTotals),
        ("agency-counts", Requirement::AgencyCounts),
    ];

    pub fn parse(name: &str) -> Result<Requirement> {
        Self::ALL
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, r)| *r)
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "unknown requirement {name:?} (known: {})",
                    Self::ALL.map(|(n, _)| n).join(", ")
                )
            })
    }

    /// `Ok(())` when the store has what the query reads, else why not and
    /// what to run.
    pub fn check(self, store: &Store, query: &str) -> Result<()> {
        match self {
            Requirement::Summary => {
                if !crate::summary::is_readable(store)? {
                    bail!(
                        "query {query} reads the summary graph, which this store lacks (built with \
                         --no-summary, or by an older jindu): run `jindu build --summary` on it"
                    );
                }
            }
            Requirement::StatisticsRollups
            | Requirement::RelationTotals
            | Requirement::AgencyCounts => {
                let (what, has): (&str, fn(&Store) -> Result<bool>) = match self {
                    Requirement::StatisticsRollups => {
                        ("statistics rollups", crate::summary::has_rollups)
                    }
                    Requirement::RelationTotals => {
                        ("relation totals", crate::summary::has_relation_totals)
                    }
                    _ => ("per-agency counts", crate::summary::has_agency_counts),
                };
                if !has(store)? {
                    bail!(
                        "query {query} reads the {what} of the summary graph, which this store \
                         lacks (built with --no-summary, or by a jindu older than them): run \
                         `jindu build --summary` on it, which adds them"
                    );
                }
            }
            Requirement::SourceCounts => {
                if let Some(source) = source_without_counts(store)? {
                    bail!(
                        "query {query} reads the counts written with each source's record, which \
                         {source} lacks (its file was extracted by an older jindu): run `jindu \
                         build` again, which re-extracts such files"
                    );
                }
            }
        }
        Ok(())
    }
}

/// The first source whose record lacks the counts: its `jd:extractedWith`
/// names a quads layout older than [`crate::sync::SOURCE_COUNTS_SINCE`] (or
/// none), so its file was written before the build kept them. One scan of
/// the extractor identities (one per source).
fn source_without_counts(store: &Store) -> Result<Option<String>> {
    use oxigraph::model::GraphNameRef;
    let extracted_with = crate::rdf::jd("extractedWith");
    // The identities are few (one per jindu that extracted files): DISTINCT
    // compares the encoded terms and decodes each identity once, where
    // reading every source's literal cost 1.5 s at 1 GB (108,606 sources).
    let identities = crate::graph::select(
        store,
        &format!("SELECT DISTINCT ?identity WHERE {{ ?source {extracted_with} ?identity }}"),
    )?;
    for row in identities {
        let row = row.context("cannot read the store")?;
        let Some(identity) = row.get("identity") else {
            continue;
        };
        let text = match identity {
            Term::Literal(l) => l.value().to_string(),
            other => other.to_string(),
        };
        if crate::sync::quads_layout(&text).is_some_and(|n| n >= crate::sync::SOURCE_COUNTS_SINCE) {
            continue;
        }
        // A source extracted by that jindu, to name.
        if let Some(quad) = store
            .quads_for_pattern(
                None,
                Some(extracted_with.as_ref()),
                Some(identity.as_ref()),
                Some(GraphNameRef::DefaultGraph),
            )
            .next()
        {
            let quad = quad.context("cannot read the store")?;
            return Ok(Some(quad.subject.to_string()));
        }
    }
    Ok(None)
}

/// Reads the comment header (`# title:`, `# description:`, `# param:`, `# example:`).
pub fn parse_header(name: &str, text: &str) -> StoredQuery {
    let mut q = StoredQuery {
        name: name.to_string(),
        title: String::new(),
        description: String::new(),
        params: Vec::new(),
        example: None,
        requires: Vec::new(),
        text: text.to_string(),
    };
    for line in text.lines() {
        let Some(rest) = line.trim_start().strip_prefix('#') else {
            if line.trim().is_empty() {
                continue;
            }
            break;
        };
        let rest = rest.trim();
        if let Some(v) = rest.strip_prefix("title:") {
            q.title = v.trim().to_string();
        } else if let Some(v) = rest.strip_prefix("description:") {
            q.description = v.trim().to_string();
        } else if let Some(v) = rest.strip_prefix("param:") {
            let (name, rest) = v.split_once('=').unwrap_or((v, ""));
            let rest = rest.trim();
            let (default, explanation) = match rest.find('(') {
                Some(i) => (rest[..i].trim(), rest[i..].trim()),
                None => (rest, ""),
            };
            q.params.push((
                name.trim().to_string(),
                default.to_string(),
                explanation
                    .trim_start_matches('(')
                    .trim_end_matches(')')
                    .to_string(),
            ));
        } else if let Some(v) = rest.strip_prefix("example:") {
            q.example = Some(v.trim().to_string());
        } else if let Some(v) = rest.strip_prefix("requires:") {
            q.requires.extend(
                v.split(',')
                    .map(str::trim)
                    .filter(|r| !r.is_empty())
                    .map(str::to_string),
            );
        } else if !q.description.is_empty() && !rest.is_empty() && q.params.is_empty() {
            q.description.push(' ');
            q.description.push_str(rest);
        }
    }
    q
}

/// All stored queries: the embedded ones, replaced or extended by the
/// `.rq` files of `dir` when given. Sorted by name.
pub fn stored_queries(dir: Option<&Path>) -> Result<Vec<StoredQuery>> {
    let mut by_name: BTreeMap<String, StoredQuery> = BTreeMap::new();
    for (file, text) in EMBEDDED_QUERIES {
        let name = file.trim_end_matches(".rq");
        by_name.insert(name.to_string(), parse_header(name, text));
    }
    if let Some(dir) = dir {
        let entries = std::fs::read_dir(dir)
            .with_context(|| format!("cannot list the queries folder {}", dir.display()))?;
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for path in paths
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "rq"))
        {
            let name = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            by_name.insert(name.clone(), parse_header(&name, &text));
        }
    }
    Ok(by_name.into_values().collect())
}

/// Finds a query by stored name, or reads it from a file path.
pub fn find_query(name_or_path: &str, dir: Option<&Path>) -> Result<StoredQuery> {
    let path = Path::new(name_or_path);
    if name_or_path.ends_with(".rq") || name_or_path.contains('/') {
        if path.exists() {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            return Ok(parse_header(name_or_path, &text));
        }
        if name_or_path.contains('/') {
            bail!("no query file {name_or_path}");
        }
    }
    let name = name_or_path.trim_end_matches(".rq");
    let all = stored_queries(dir)?;
    match all.iter().find(|q| q.name == name) {
        Some(q) => Ok(q.clone()),
        None => bail!(
            "no stored query named {name}; `jindu query --list` shows them: {}",
            all.iter()
                .map(|q| q.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Table,
    Csv,
    Tsv,
    Json,
    Xml,
    Turtle,
    Ntriples,
    Jsonld,
}

/// How long a cancelled query may take to notice before the process ends.
const CANCEL_GRACE: Duration = Duration::from_secs(2);

/// Checks what the query requires of the store, parses it and binds its
/// parameters (the defaults, overridden by `params`).
fn prepare(
    store: &Store,
    query: &StoredQuery,
    params: &[(String, String)],
    evaluator: SparqlEvaluator,
) -> Result<PreparedSparqlQuery> {
    let mut values: BTreeMap<String, String> = query
        .params
        .iter()
        .map(|(n, d, _)| (n.clone(), d.clone()))
        .collect();
    for (name, value) in params {
        if !query.params.iter().any(|(n, _, _)| n == name) {
            bail!(
                "query {} has no parameter {name}; its parameters: {}",
                query.name,
                if query.params.is_empty() {
                    "none".to_string()
                } else {
                    query
                        .params
                        .iter()
                        .map(|p| p.0.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            );
        }
        values.insert(name.clone(), value.clone());
    }
    for name in &query.requires {
        Requirement::parse(name)
            .with_context(|| format!("query {} is malformed", query.name))?
            .check(store, &query.name)?;
    }
    let mut prepared = evaluator
        .parse_query(&query.text)
        .map_err(|e| anyhow::anyhow!("query {} is malformed: {e}", query.name))?;
    for (name, value) in &values {
        let variable = Variable::new(name.as_str())
            .with_context(|| format!("parameter name {name} is not a SPARQL variable name"))?;
        prepared =
            prepared.substitute_variable(variable, Term::from(Literal::new_simple_literal(value)));
    }
    Ok(prepared)
}

/// Runs a query with its parameters bound and writes how Oxigraph evaluated
/// it (`jindu query --explain`): the plan as JSON, each step with the rows it
/// gave and the time it took, for finding what makes a query slow. The
/// results themselves are read (so the figures are complete) and counted,
/// not written.
pub fn explain_query(
    store: &Store,
    query: &StoredQuery,
    params: &[(String, String)],
    out: &mut dyn Write,
) -> Result<usize> {
    let prepared = prepare(store, query, params, SparqlEvaluator::new())?;
    let (results, explanation) = prepared.on_store(store).compute_statistics().explain();
    // Every result is read, so that the plan's figures cover the whole run.
    fn count<T, E: std::error::Error + Send + Sync + 'static>(
        mut items: impl Iterator<Item = std::result::Result<T, E>>,
    ) -> Result<usize> {
        items.try_fold(0, |n, item| {
            item.context("query evaluation failed")?;
            Ok(n + 1)
        })
    }
    let rows = match results.context("query evaluation failed")? {
        QueryResults::Solutions(solutions) => count(solutions)?,
        QueryResults::Boolean(_) => 1,
        QueryResults::Graph(triples) => count(triples)?,
    };
    explanation.write_in_json(&mut *out)?;
    writeln!(out)?;
    Ok(rows)
}

/// Runs a query with parameters bound and writes its results.
pub fn run_query(
    store: &Store,
    query: &StoredQuery,
    params: &[(String, String)],
    format: OutputFormat,
    timeout: Option<Duration>,
    out: &mut dyn Write,
) -> Result<usize> {
    let token = CancellationToken::new();
    let prepared = prepare(
        store,
        query,
        params,
        SparqlEvaluator::new().with_cancellation_token(token.clone()),
    )?;
    let timer = timeout.map(|limit| {
        let token = token.clone();
        let name = query.name.clone();
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let handle = std::thread::spawn(move || {
            if rx.recv_timeout(limit).is_err() {
                token.cancel();
                // Oxigraph checks the token between solutions; an aggregate
                // over a huge join may not produce one for a long time. The
                // user asked for a limit: give the evaluator a moment to
                // stop on its own, then end the process with the message.
                if rx.recv_timeout(CANCEL_GRACE).is_err() {
                    eprintln!(
                        "jindu: error: query {name} stopped: it ran longer than the timeout of {limit:?}"
                    );
                    std::process::exit(1);
                }
            }
        });
        (tx, handle)
    });
    let result = write_results(prepared.on_store(store).execute(), format, out);
    if let Some((tx, handle)) = timer {
        let _ = tx.send(());
        let _ = handle.join();
    }
    match result {
        Err(e) if token.is_cancelled() => bail!(
            "query {} stopped: it ran longer than the timeout of {:?} ({e})",
            query.name,
            timeout.unwrap_or_default()
        ),
        other => other,
    }
}

fn write_results(
    results: Result<QueryResults<'static>, oxigraph::sparql::QueryEvaluationError>,
    format: OutputFormat,
    out: &mut dyn Write,
) -> Result<usize> {
    let results = results.context("query evaluation failed")?;
    match results {
        QueryResults::Solutions(solutions) => {
            let variables = solutions.variables().to_vec();
            let mut rows = Vec::new();
            for s in solutions {
                rows.push(s.context("query evaluation failed")?);
            }
            let n = rows.len();
            match format {
                OutputFormat::Table => {
                    let cells: Vec<Vec<String>> = rows
                        .iter()
                        .map(|r| {
                            variables
                                .iter()
                                .map(|v| r.get(v).map(term_text).unwrap_or_default())
                                .collect()
                        })
                        .collect();
                    let header: Vec<String> =
                        variables.iter().map(|v| v.as_str().to_string()).collect();
                    write_table(out, &header, &cells)?;
                    writeln!(out, "({n} row{})", if n == 1 { "" } else { "s" })?;
                }
                _ => {
                    let rf = match format {
                        OutputFormat::Csv => QueryResultsFormat::Csv,
                        OutputFormat::Tsv => QueryResultsFormat::Tsv,
                        OutputFormat::Json => QueryResultsFormat::Json,
                        OutputFormat::Xml => QueryResultsFormat::Xml,
                        other => bail!(
                            "{other:?} is for CONSTRUCT/DESCRIBE queries; use table, csv, tsv, json or xml"
                        ),
                    };
                    let mut ser = QueryResultsSerializer::from_format(rf)
                        .serialize_solutions_to_writer(&mut *out, variables)?;
                    for r in &rows {
                        ser.serialize(r)?;
                    }
                    ser.finish()?;
                }
            }
            Ok(n)
        }
        QueryResults::Boolean(b) => {
            match format {
                OutputFormat::Table => writeln!(out, "{b}")?,
                OutputFormat::Csv | OutputFormat::Tsv | OutputFormat::Json | OutputFormat::Xml => {
                    let rf = match format {
                        OutputFormat::Csv => QueryResultsFormat::Csv,
                        OutputFormat::Tsv => QueryResultsFormat::Tsv,
                        OutputFormat::Xml => QueryResultsFormat::Xml,
                        _ => QueryResultsFormat::Json,
                    };
                    QueryResultsSerializer::from_format(rf)
                        .serialize_boolean_to_writer(&mut *out, b)?;
                }
                other => bail!("{other:?} is for CONSTRUCT/DESCRIBE queries"),
            }
            Ok(1)
        }
        QueryResults::Graph(triples) => {
            let rf = match format {
                OutputFormat::Turtle | OutputFormat::Table => RdfFormat::Turtle,
                OutputFormat::Ntriples => RdfFormat::NTriples,
                OutputFormat::Jsonld => RdfFormat::JsonLd {
                    profile: oxigraph::io::JsonLdProfileSet::empty(),
                },
                other => {
                    bail!("{other:?} is for SELECT/ASK queries; use turtle, ntriples or jsonld")
                }
            };
            let mut ser = RdfSerializer::from_format(rf).for_writer(&mut *out);
            let mut n = 0;
            for t in triples {
                ser.serialize_triple(&t.context("query evaluation failed")?)?;
                n += 1;
            }
            ser.finish()?;
            Ok(n)
        }
    }
}

/// A term as a person reads it: IRIs in full, literals by their value.
/// IRIs are shortened with the project's prefixes (jdi:agency/开鲁县公安局).
pub fn term_text(term: &Term) -> String {
    match term {
        Term::NamedNode(n) => shorten_iri(n.as_str()),
        Term::BlankNode(b) => format!("_:{}", b.as_str()),
        Term::Literal(l) => l.value().to_string(),
        #[allow(unreachable_patterns)]
        other => other.to_string(),
    }
}

/// An IRI shortened with the project's prefixes (jdi:agency/开鲁县公安局).
pub fn shorten_iri(iri: &str) -> String {
    crate::rdf::PREFIXES
        .iter()
        .find_map(|(prefix, base)| {
            iri.strip_prefix(base)
                .map(|rest| format!("{prefix}:{rest}"))
        })
        .unwrap_or_else(|| iri.to_string())
}

/// Display width: East Asian wide characters take two columns.
pub fn display_width(s: &str) -> usize {
    s.chars()
        .map(|c| {
            let u = c as u32;
            if (0x1100..=0x115F).contains(&u)
                || (0x2E80..=0xA4CF).contains(&u)
                || (0xAC00..=0xD7A3).contains(&u)
                || (0xF900..=0xFAFF).contains(&u)
                || (0xFE30..=0xFE4F).contains(&u)
                || (0xFF00..=0xFF60).contains(&u)
                || (0xFFE0..=0xFFE6).contains(&u)
                || (0x20000..=0x3FFFD).contains(&u)
            {
                2
            } else {
                1
            }
        })
        .sum()
}

/// Writes an aligned text table.
pub fn write_table(out: &mut dyn Write, header: &[String], rows: &[Vec<String>]) -> Result<()> {
    let mut widths: Vec<usize> = header.iter().map(|h| display_width(h)).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(display_width(cell).min(60));
        }
    }
    let line = |out: &mut dyn Write, cells: &[String]| -> Result<()> {
        let mut s = String::new();
        for (i, cell) in cells.iter().enumerate() {
            let cell = truncate(cell, 60);
            s.push_str(&cell);
            if i + 1 < cells.len() {
                s.push_str(&" ".repeat(widths[i].saturating_sub(display_width(&cell)) + 2));
            }
        }
        writeln!(out, "{}", s.trim_end())?;
        Ok(())
    };
    line(out, header)?;
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    line(out, &rule)?;
    for row in rows {
        line(out, row)?;
    }
    Ok(())
}

fn truncate(s: &str, max: usize) -> String {
    if display_width(s) <= max {
        return s.to_string();
    }
    let mut out = String::new();
    let mut w = 0;
    for c in s.chars() {
        let cw = display_width(c.encode_utf8(&mut [0; 4]));
        if w + cw > max - 1 {
            break;
        }
        w += cw;
        out.push(c);
    }
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_headers() {
        let q = parse_header(
            "x",
            "# title: Agencies by region\n# description: Agencies in a region.\n# param: region = 内蒙古自治区 (the region's label)\n# example: jindu query x --param region=拉萨市\nSELECT * WHERE {}",
        );
        assert_eq!(q.title, "Agencies by region");
        assert_eq!(
            q.params,
            vec![(
                "region".into(),
                "内蒙古自治区".into(),
                "the region's label".into()
            )]
        );
        assert_eq!(
            q.example.as_deref(),
            Some("jindu query x --param region=拉萨市")
        );
    }

    #[test]
    fn reads_what_a_query_requires() {
        let q = parse_header(
            "x",
            "# title: T\n# description: D.\n# requires: summary, source-counts\n# param: a = (b)\nSELECT * WHERE {}",
        );
        assert_eq!(q.requires, ["summary", "source-counts"]);
        assert_eq!(q.description, "D.");
        assert_eq!(q.params.len(), 1);
        assert!(q.requires.iter().all(|r| Requirement::parse(r).is_ok()));
        let err = Requirement::parse("summaries").unwrap_err().to_string();
        assert!(
            err.contains("summaries") && err.contains("source-counts"),
            "{err}"
        );
    }

    #[test]
    fn at_least_eight_embedded_queries_parse() {
        let all = stored_queries(None).unwrap();
        assert!(all.len() >= 8, "{}", all.len());
        for q in &all {
            assert!(!q.title.is_empty(), "{} has no title", q.name);
            for r in &q.requires {
                if let Err(e) = Requirement::parse(r) {
                    panic!("{}: {e}", q.name);
                }
            }
            if let Err(e) = SparqlEvaluator::new().parse_query(&q.text) {
                panic!("{}: {e}", q.name);
            }
        }
    }

    #[test]
    fn widths_count_chinese_double() {
        assert_eq!(display_width("开鲁abc"), 7);
    }
}
