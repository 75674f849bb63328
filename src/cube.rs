//! The statistics cube: the reported figures summed per cell, kept in the
//! summary graph.
//!
//! In: statistics, from one file's [`Knowledge`] (a fresh build, through
//! the summary builder), from the store for the sources a change touches
//! (an incremental build or `jindu remove`), or from every statistic in the
//! store (a recount). Out: one `jd:StatisticCell` node in the summary graph
//! per distinct cell, and readers for them ([`read_cells`]).
//!
//! A cell is a metric, its reporter, its drug, its period (start, end and
//! text as written) and, for a figure with no period start or end, the year
//! of its article's date: every field the statistics queries group or
//! filter on. It holds the number of figures (`jd:figureCount`), the exact
//! sum of their values (`jd:valueSum`, an `xsd:decimal` summed as Oxigraph
//! sums them, so a sum over cells equals the sum over the figures) and how
//! many of them are approximate (`jd:approximateCount`).
//!
//! Why: `statistics-by-region-metric` and `seizures-by-drug-region-time`
//! read every statistic of the store, a store lookup per field; at 1 GB that
//! is 6.57 M statistics, past 20 s, with or without a parameter. The cells
//! are several times fewer and carry their totals.
//!
//! How it stays exact: a statistic's IRI is minted from its source's content
//! hash, so the cube is the sum of the sources' shares ([`source_share`]).
//! A change notes the share of every source it touches before it happens
//! ([`CubeChange::note`]), and adds the difference between the share after
//! and the share before ([`apply_change`]). Two files with the same bytes
//! share a source, and so count once, as their statistics do.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::str::FromStr;
use std::sync::Arc;

use anyhow::{Context, Result};
use oxigraph::model::vocab::{rdf, xsd};
use oxigraph::model::{
    GraphName, GraphNameRef, Literal, NamedNode, NamedNodeRef, NamedOrBlankNode, Quad, Term,
};
use oxigraph::store::Store;
use oxsdatatypes::Decimal;
use sha2::{Digest, Sha256};

use crate::model::Knowledge;
use crate::rdf::{ID, entity_iri, jd};

const DCTERMS_DATE: &str = "http://purl.org/dc/terms/date";

/// What a cell is keyed by (the fields as written in the store: IRIs, and
/// the lexical forms of the literals).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CellKey {
    pub metric: Arc<str>,
    pub reporter: Option<Arc<str>>,
    pub drug: Option<Arc<str>>,
    pub period_start: Option<Arc<str>>,
    pub period_end: Option<Arc<str>>,
    pub period_text: Option<Arc<str>>,
    /// The year of the article's date, for a figure with no period start or
    /// end (the statistics queries fall back to it).
    pub year: Option<Arc<str>>,
}

impl CellKey {
    /// The cell's IRI: 16 hex digits of the SHA-256 of its fields.
    pub fn iri(&self) -> NamedNode {
        let mut hasher = Sha256::new();
        for field in [
            Some(&self.metric),
            self.reporter.as_ref(),
            self.drug.as_ref(),
            self.period_start.as_ref(),
            self.period_end.as_ref(),
            self.period_text.as_ref(),
            self.year.as_ref(),
        ] {
            // A field is its length and bytes, so that no two keys join to
            // the same text; an absent one is a lone marker.
            match field {
                Some(text) => {
                    hasher.update((text.len() as u64).to_be_bytes());
                    hasher.update(text.as_bytes());
                }
                None => hasher.update([0xff]),
            }
        }
        let digest = hasher.finalize();
        let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
        NamedNode::new_unchecked(format!("{ID}cell/{hex}"))
    }

    /// The same key with its texts shared with the other keys of `names`.
    fn interned(&self, names: &mut HashSet<Arc<str>>) -> CellKey {
        let mut share = |text: &Arc<str>| -> Arc<str> {
            if let Some(shared) = names.get(text) {
                return shared.clone();
            }
            names.insert(text.clone());
            text.clone()
        };
        CellKey {
            metric: share(&self.metric),
            reporter: self.reporter.as_ref().map(&mut share),
            drug: self.drug.as_ref().map(&mut share),
            period_start: self.period_start.as_ref().map(&mut share),
            period_end: self.period_end.as_ref().map(&mut share),
            period_text: self.period_text.as_ref().map(&mut share),
            year: self.year.as_ref().map(&mut share),
        }
    }
}

/// A cell's totals.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CellTotals {
    pub figures: i64,
    pub sum: Decimal,
    pub approximate: i64,
}

impl CellTotals {
    fn of_figure(value: Decimal, approximate: bool) -> CellTotals {
        CellTotals {
            figures: 1,
            sum: value,
            approximate: i64::from(approximate),
        }
    }

    /// `self + sign × other`; `None` when the sum leaves the decimal range
    /// (about ±1.7 × 10²⁰ with 18 decimals, as in Oxigraph).
    fn combined(self, other: CellTotals, sign: i64) -> Option<CellTotals> {
        Some(CellTotals {
            figures: self.figures + sign * other.figures,
            sum: if sign >= 0 {
                self.sum.checked_add(other.sum)?
            } else {
                self.sum.checked_sub(other.sum)?
            },
            approximate: self.approximate + sign * other.approximate,
        })
    }

    fn is_zero(&self) -> bool {
        self.figures == 0 && self.approximate == 0 && self.sum == Decimal::from(0)
    }
}

/// Cells and their totals.
#[derive(Debug, Default, Clone)]
pub struct Cube {
    cells: HashMap<CellKey, CellTotals>,
    /// The texts of the keys, shared between keys.
    names: HashSet<Arc<str>>,
}

impl PartialEq for Cube {
    fn eq(&self, other: &Cube) -> bool {
        self.cells == other.cells
    }
}

impl Cube {
    pub fn len(&self) -> usize {
        self.cells.len()
    }

    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }

    /// Adds (`sign` 1) or takes away (-1) `totals` at `key`, dropping a
    /// cell that comes to nothing.
    fn add(&mut self, key: &CellKey, totals: CellTotals, sign: i64) -> Result<()> {
        let current = self.cells.get(key).copied().unwrap_or_default();
        let combined = current
            .combined(totals, sign)
            .with_context(|| format!("the sum of the figures of {} overflows", key.iri()))?;
        if combined.is_zero() {
            self.cells.remove(key);
        } else if let Some(cell) = self.cells.get_mut(key) {
            *cell = combined;
        } else {
            let key = key.interned(&mut self.names);
            self.cells.insert(key, combined);
        }
        Ok(())
    }

    /// Adds every cell of `other`.
    pub fn merge(&mut self, other: &Cube) -> Result<()> {
        for (key, totals) in &other.cells {
            self.add(key, *totals, 1)?;
        }
        Ok(())
    }

    /// The cells in key order (for deterministic output).
    pub fn sorted(&self) -> BTreeMap<&CellKey, &CellTotals> {
        self.cells.iter().collect()
    }

    pub fn get(&self, key: &CellKey) -> Option<&CellTotals> {
        self.cells.get(key)
    }

    /// The cube's quads in the summary graph, in key order, made as they
    /// are taken (a million cells make eleven million quads).
    pub fn into_quads(self, graph: &NamedNode) -> impl Iterator<Item = Quad> + use<> {
        let mut cells: Vec<(CellKey, CellTotals)> = self.cells.into_iter().collect();
        cells.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let graph = graph.clone();
        cells
            .into_iter()
            .flat_map(move |(key, totals)| cell_quads(&key, &totals, &graph))
    }
}

/// The cube of one file's knowledge (its statistics, each counted once).
pub fn knowledge_cube(kn: &Knowledge) -> Cube {
    let mut cube = Cube::default();
    for stat in &kn.statistics {
        let Ok(value) = Decimal::from_str(&stat.value) else {
            // The extractor writes decimals only; a value it cannot read
            // back would be refused by the store's parser too.
            continue;
        };
        let year = match (&stat.period_start, &stat.period_end) {
            (None, None) => kn.articles[stat.evidence.article]
                .date
                .as_deref()
                .and_then(year_of),
            _ => None,
        };
        let key = CellKey {
            metric: Arc::from(&*stat.metric),
            reporter: stat
                .reported_by
                .as_ref()
                .map(|r| Arc::from(entity_iri(r).as_str())),
            drug: stat
                .drug
                .as_ref()
                .map(|d| Arc::from(entity_iri(d).as_str())),
            period_start: stat.period_start.as_deref().map(Arc::from),
            period_end: stat.period_end.as_deref().map(Arc::from),
            period_text: stat.period_text.as_deref().map(Arc::from),
            year,
        };
        // (an overflow is left to the recount, which reports it)
        let _ = cube.add(&key, CellTotals::of_figure(value, stat.approximate), 1);
    }
    cube
}

/// The first four characters of a date, as the queries take its year.
fn year_of(date: &str) -> Option<Arc<str>> {
    let year: String = date.chars().take(4).collect();
    (!year.is_empty()).then(|| Arc::from(year.as_str()))
}

/// One statistic's cell and totals, read from the default graph; `None` for
/// a node without a metric or a decimal value. `dates` caches the year of
/// the last article looked up (a source's statistics come article by
/// article).
fn read_figure(
    store: &Store,
    stat: NamedNodeRef<'_>,
    dates: &mut Option<(NamedNode, Option<Arc<str>>)>,
) -> Result<Option<(CellKey, CellTotals)>> {
    let default = Some(GraphNameRef::DefaultGraph);
    let (mut metric, mut value, mut approximate) = (None, None, false);
    let (mut reporter, mut drug, mut article) = (None, None, None);
    let (mut start, mut end, mut text) = (None, None, None);
    for quad in store.quads_for_pattern(Some(stat.into()), None, None, default) {
        let quad = quad.context("cannot read the store")?;
        let Some(local) = quad.predicate.as_str().strip_prefix(crate::rdf::JD) else {
            continue;
        };
        let iri = || match &quad.object {
            Term::NamedNode(n) => Some(Arc::from(n.as_str())),
            _ => None,
        };
        let lexical = || match &quad.object {
            Term::Literal(l) => Some(Arc::from(l.value())),
            _ => None,
        };
        // (the first value of each, in index order, as the queries' SAMPLE
        // would take one; the extractor writes one)
        match local {
            "metric" if metric.is_none() => metric = lexical(),
            "value" if value.is_none() => {
                value = match &quad.object {
                    Term::Literal(l) => Decimal::from_str(l.value()).ok(),
                    _ => None,
                }
            }
            "approximate" => {
                approximate |= matches!(&quad.object, Term::Literal(l) if l.value() == "true" || l.value() == "1")
            }
            "reportedBy" if reporter.is_none() => reporter = iri(),
            "drug" if drug.is_none() => drug = iri(),
            "mentionedIn" if article.is_none() => {
                if let Term::NamedNode(n) = &quad.object {
                    article = Some(n.clone());
                }
            }
            "periodStart" if start.is_none() => start = lexical(),
            "periodEnd" if end.is_none() => end = lexical(),
            "periodText" if text.is_none() => text = lexical(),
            _ => {}
        }
    }
    let (Some(metric), Some(value)) = (metric, value) else {
        return Ok(None);
    };
    let year = match (&start, &end, article) {
        (None, None, Some(article)) => match dates {
            Some((last, year)) if *last == article => year.clone(),
            _ => {
                let date = NamedNode::new_unchecked(DCTERMS_DATE);
                let mut year = None;
                for quad in store.quads_for_pattern(
                    Some(article.as_ref().into()),
                    Some(date.as_ref()),
                    None,
                    default,
                ) {
                    if let Term::Literal(l) = quad.context("cannot read the store")?.object {
                        year = year_of(l.value());
                        break;
                    }
                }
                *dates = Some((article, year.clone()));
                year
            }
        },
        _ => None,
    };
    Ok(Some((
        CellKey {
            metric,
            reporter,
            drug,
            period_start: start,
            period_end: end,
            period_text: text,
            year,
        },
        CellTotals::of_figure(value, approximate),
    )))
}

/// The cube of every statistic in the store's default graph, in one query:
/// the engine joins the fields on its encoded terms and decodes only the
/// reporter, the drug and the short literals (a scan reading each
/// statistic's quads decoded every term of each, its sentence too: about
/// 80 µs a statistic). A statistic with two values of a field (not one
/// jindu writes) gives consecutive rows, of which the first counts.
pub fn store_cube(store: &Store) -> Result<Cube> {
    let query = format!(
        "PREFIX jd: <{JD}> SELECT ?stat ?m ?v ?ap ?r ?d ?ps ?pe ?pt ?date WHERE {{ \
           ?stat a jd:Statistic ; jd:metric ?m ; jd:value ?v . \
           OPTIONAL {{ ?stat jd:approximate ?ap }} OPTIONAL {{ ?stat jd:reportedBy ?r }} \
           OPTIONAL {{ ?stat jd:drug ?d }} OPTIONAL {{ ?stat jd:periodStart ?ps }} \
           OPTIONAL {{ ?stat jd:periodEnd ?pe }} OPTIONAL {{ ?stat jd:periodText ?pt }} \
           OPTIONAL {{ FILTER(!BOUND(?ps) && !BOUND(?pe)) \
                       ?stat jd:mentionedIn ?article . ?article <{DCTERMS_DATE}> ?date }} }}",
        JD = crate::rdf::JD
    );
    let mut cube = Cube::default();
    let mut skipped = 0usize;
    let mut last: Option<NamedNode> = None;
    for row in crate::graph::select(store, &query)? {
        let row = row.context("cannot read the store")?;
        let Some(Term::NamedNode(stat)) = row.get("stat") else {
            skipped += 1;
            continue;
        };
        if last.as_ref() == Some(stat) {
            continue;
        }
        last = Some(stat.clone());
        let text = |name: &str| -> Option<Arc<str>> {
            match row.get(name) {
                Some(Term::Literal(l)) => Some(Arc::from(l.value())),
                Some(Term::NamedNode(n)) => Some(Arc::from(n.as_str())),
                _ => None,
            }
        };
        let (Some(metric), Some(value)) = (
            text("m"),
            text("v").and_then(|v| Decimal::from_str(&v).ok()),
        ) else {
            skipped += 1;
            continue;
        };
        let approximate = text("ap").is_some_and(|a| &*a == "true" || &*a == "1");
        let (start, end) = (text("ps"), text("pe"));
        let year = match (&start, &end) {
            (None, None) => text("date").and_then(|d| year_of(&d)),
            _ => None,
        };
        let key = CellKey {
            metric,
            reporter: text("r"),
            drug: text("d"),
            period_start: start,
            period_end: end,
            period_text: text("pt"),
            year,
        };
        cube.add(&key, CellTotals::of_figure(value, approximate), 1)?;
    }
    note_skipped(skipped);
    Ok(cube)
}

/// [`store_cube`] by reading each statistic's quads (the reference the
/// query is tested against).
#[cfg(test)]
fn store_cube_by_quads(store: &Store) -> Result<Cube> {
    let statistic = jd("Statistic");
    let mut cube = Cube::default();
    let mut dates = None;
    let mut skipped = 0usize;
    for quad in store.quads_for_pattern(
        None,
        Some(rdf::TYPE),
        Some(statistic.as_ref().into()),
        Some(GraphNameRef::DefaultGraph),
    ) {
        let NamedOrBlankNode::NamedNode(stat) = quad.context("cannot read the store")?.subject
        else {
            skipped += 1;
            continue;
        };
        match read_figure(store, stat.as_ref(), &mut dates)? {
            Some((key, totals)) => cube.add(&key, totals, 1)?,
            None => skipped += 1,
        }
    }
    note_skipped(skipped);
    Ok(cube)
}

fn note_skipped(skipped: usize) {
    if skipped > 0 {
        eprintln!(
            "jindu: note: {skipped} statistic(s) without a jd:metric or an xsd:decimal jd:value are left out of the statistics cube"
        );
    }
}

/// The share of the cube of one source (`jd:Source` IRI): the statistics
/// mentioned in its articles, as the store holds them now.
pub fn source_share(store: &Store, source: NamedNodeRef<'_>) -> Result<Cube> {
    let default = Some(GraphNameRef::DefaultGraph);
    let (from_source, mentioned_in, statistic) =
        (jd("fromSource"), jd("mentionedIn"), jd("Statistic"));
    let mut cube = Cube::default();
    let mut dates = None;
    let mut skipped = 0usize;
    let mut seen: HashSet<NamedNode> = HashSet::new();
    for article in store.quads_for_pattern(
        None,
        Some(from_source.as_ref()),
        Some(source.into()),
        default,
    ) {
        let NamedOrBlankNode::NamedNode(article) =
            article.context("cannot read the store")?.subject
        else {
            continue;
        };
        for quad in store.quads_for_pattern(
            None,
            Some(mentioned_in.as_ref()),
            Some(article.as_ref().into()),
            default,
        ) {
            let NamedOrBlankNode::NamedNode(node) = quad.context("cannot read the store")?.subject
            else {
                continue;
            };
            let typed = Quad::new(
                node.clone(),
                rdf::TYPE.into_owned(),
                statistic.clone(),
                GraphName::DefaultGraph,
            );
            if !store.contains(&typed).context("cannot read the store")?
                || !seen.insert(node.clone())
            {
                continue;
            }
            match read_figure(store, node.as_ref(), &mut dates)? {
                Some((key, totals)) => cube.add(&key, totals, 1)?,
                None => skipped += 1,
            }
        }
    }
    note_skipped(skipped);
    Ok(cube)
}

/// The sources a change touches, with their shares of the cube before it.
#[derive(Debug, Default, Clone)]
pub struct CubeChange {
    before: BTreeMap<String, Cube>,
}

impl CubeChange {
    /// Notes the shares of `sources` as the store holds them now (before the
    /// change), unless noted already.
    pub fn note<'a>(
        &mut self,
        store: &Store,
        sources: impl IntoIterator<Item = &'a str>,
    ) -> Result<()> {
        for source in sources {
            if self.before.contains_key(source) {
                continue;
            }
            let node = NamedNode::new(source).with_context(|| format!("bad IRI {source}"))?;
            let share = source_share(store, node.as_ref())?;
            self.before.insert(source.to_string(), share);
        }
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.before.is_empty()
    }

    pub fn extend(&mut self, other: CubeChange) {
        for (source, share) in other.before {
            self.before.entry(source).or_insert(share);
        }
    }

    /// The cells to add (`+`) and take away (`-`): the shares now against
    /// the shares noted.
    fn difference(&self, store: &Store) -> Result<(Cube, Cube)> {
        let (mut plus, mut minus) = (Cube::default(), Cube::default());
        for (source, before) in &self.before {
            let node = NamedNode::new_unchecked(source.as_str());
            let after = source_share(store, node.as_ref())?;
            if after != *before {
                plus.merge(&after)?;
                minus.merge(before)?;
            }
        }
        Ok((plus, minus))
    }
}

/// The sources of the files known by `ids` (their `jd:filePath`), as IRIs.
pub fn sources_of_files(store: &Store, ids: &[String]) -> Result<BTreeSet<String>> {
    let file_path = jd("filePath");
    let mut out = BTreeSet::new();
    for id in ids {
        let id = Literal::new_simple_literal(id);
        for quad in store.quads_for_pattern(
            None,
            Some(file_path.as_ref()),
            Some(id.as_ref().into()),
            Some(GraphNameRef::DefaultGraph),
        ) {
            if let NamedOrBlankNode::NamedNode(s) = quad.context("cannot read the store")?.subject {
                out.insert(s.into_string());
            }
        }
    }
    Ok(out)
}

/// Brings the cube's cells in the summary graph in line with the change
/// (the store as it is after it). Returns false, having written nothing,
/// when the stored cells do not agree with the change (a cell would go
/// below nothing): the caller then recounts the whole cube.
pub fn apply_change(store: &Store, change: &CubeChange, graph: &NamedNode) -> Result<bool> {
    if change.is_empty() {
        return Ok(true);
    }
    let (plus, minus) = change.difference(store)?;
    let mut keys: BTreeSet<&CellKey> = plus.cells.keys().collect();
    keys.extend(minus.cells.keys());
    let mut old = Vec::new();
    let mut new = Vec::new();
    for key in keys {
        let node = key.iri();
        let stored = read_cell(store, node.as_ref(), graph)?;
        let mut totals = match &stored {
            Some((stored_key, totals, quads)) => {
                if stored_key != key {
                    // (a hash collision or a hand-edited cell)
                    return Ok(false);
                }
                old.extend(quads.iter().cloned());
                *totals
            }
            None => CellTotals::default(),
        };
        if let Some(p) = plus.get(key) {
            totals = totals
                .combined(*p, 1)
                .with_context(|| format!("the sum of the figures of {node} overflows"))?;
        }
        if let Some(m) = minus.get(key) {
            totals = totals
                .combined(*m, -1)
                .with_context(|| format!("the sum of the figures of {node} overflows"))?;
        }
        if totals.figures < 0
            || totals.approximate < 0
            || (totals.figures == 0 && !totals.is_zero())
        {
            return Ok(false);
        }
        if totals.figures > 0 {
            new.extend(cell_quads(key, &totals, graph));
        }
    }
    write_difference(store, old, new)?;
    Ok(true)
}

/// Replaces every cell of the summary graph with those of `cube`, writing
/// only what differs.
pub fn replace_all(store: &Store, cube: Cube, graph: &NamedNode) -> Result<()> {
    let mut cube = cube;
    let cell_class = jd("StatisticCell");
    let g = GraphNameRef::NamedNode(graph.as_ref());
    let stored: Vec<NamedNode> = store
        .quads_for_pattern(
            None,
            Some(rdf::TYPE),
            Some(cell_class.as_ref().into()),
            Some(g),
        )
        .filter_map(|q| match q {
            Ok(q) => match q.subject {
                NamedOrBlankNode::NamedNode(n) => Some(Ok(n)),
                _ => None,
            },
            Err(e) => Some(Err(e)),
        })
        .collect::<Result<_, _>>()
        .context("cannot read the store")?;
    let mut gone = Vec::new();
    for node in stored {
        match read_cell(store, node.as_ref(), graph)? {
            Some((key, totals, quads)) => {
                if cube.get(&key) == Some(&totals) && key.iri() == node {
                    cube.cells.remove(&key);
                } else {
                    gone.extend(quads);
                }
            }
            None => gone.extend(in_graph(store, node.as_ref(), graph)?),
        }
        if gone.len() >= 65_536 {
            remove_quads(store, std::mem::take(&mut gone))?;
        }
    }
    remove_quads(store, gone)?;
    if !cube.is_empty() {
        let mut loader = store.bulk_loader();
        loader
            .load_quads(cube.into_quads(graph))
            .context("cannot write the statistics cube")?;
        loader
            .commit()
            .context("cannot commit the statistics cube")?;
    }
    Ok(())
}

/// Recounts the whole cube from the store's statistics.
pub fn recount_all(store: &Store, graph: &NamedNode) -> Result<()> {
    let cube = store_cube(store)?;
    replace_all(store, cube, graph)
}

fn in_graph(store: &Store, node: NamedNodeRef<'_>, graph: &NamedNode) -> Result<Vec<Quad>> {
    store
        .quads_for_pattern(
            Some(node.into()),
            None,
            None,
            Some(GraphNameRef::NamedNode(graph.as_ref())),
        )
        .map(|q| q.context("cannot read the store"))
        .collect()
}

fn remove_quads(store: &Store, quads: Vec<Quad>) -> Result<()> {
    if quads.is_empty() {
        return Ok(());
    }
    let mut transaction = store
        .start_transaction()
        .context("cannot start a transaction")?;
    for quad in &quads {
        transaction.remove(quad);
    }
    transaction
        .commit()
        .context("cannot commit the statistics cube")
}

fn write_difference(store: &Store, old: Vec<Quad>, new: Vec<Quad>) -> Result<()> {
    let old_set: HashSet<&Quad> = old.iter().collect();
    let new_set: HashSet<&Quad> = new.iter().collect();
    let mut transaction = store
        .start_transaction()
        .context("cannot start a transaction")?;
    for quad in old.iter().filter(|q| !new_set.contains(q)) {
        transaction.remove(quad);
    }
    for quad in new.iter().filter(|q| !old_set.contains(q)) {
        transaction.insert(quad);
    }
    transaction
        .commit()
        .context("cannot commit the statistics cube")
}

/// The quads of one cell.
fn cell_quads(key: &CellKey, totals: &CellTotals, graph: &NamedNode) -> Vec<Quad> {
    let g = GraphName::NamedNode(graph.clone());
    let node = key.iri();
    let mut out = Vec::with_capacity(11);
    out.push(Quad::new(
        node.clone(),
        rdf::TYPE.into_owned(),
        jd("StatisticCell"),
        g.clone(),
    ));
    let mut add = |predicate: &str, object: Term| {
        out.push(Quad::new(node.clone(), jd(predicate), object, g.clone()));
    };
    add(
        "cellMetric",
        Literal::new_simple_literal(&*key.metric).into(),
    );
    if let Some(r) = &key.reporter {
        add("cellReporter", NamedNode::new_unchecked(&**r).into());
    }
    if let Some(d) = &key.drug {
        add("cellDrug", NamedNode::new_unchecked(&**d).into());
    }
    if let Some(s) = &key.period_start {
        add(
            "cellPeriodStart",
            Literal::new_typed_literal(&**s, xsd::DATE).into(),
        );
    }
    if let Some(e) = &key.period_end {
        add(
            "cellPeriodEnd",
            Literal::new_typed_literal(&**e, xsd::DATE).into(),
        );
    }
    if let Some(t) = &key.period_text {
        add(
            "cellPeriodText",
            Literal::new_language_tagged_literal_unchecked(&**t, "zh").into(),
        );
    }
    if let Some(y) = &key.year {
        add("cellYear", Literal::new_simple_literal(&**y).into());
    }
    add("figureCount", Literal::from(totals.figures).into());
    add(
        "valueSum",
        Literal::new_typed_literal(totals.sum.to_string(), xsd::DECIMAL).into(),
    );
    add("approximateCount", Literal::from(totals.approximate).into());
    out
}

/// A stored cell: its key, its totals and its quads; `None` when the node
/// lacks a metric or a total (not a cell this version wrote).
fn read_cell(
    store: &Store,
    node: NamedNodeRef<'_>,
    graph: &NamedNode,
) -> Result<Option<(CellKey, CellTotals, Vec<Quad>)>> {
    let quads = in_graph(store, node, graph)?;
    let mut key = CellKey {
        metric: Arc::from(""),
        reporter: None,
        drug: None,
        period_start: None,
        period_end: None,
        period_text: None,
        year: None,
    };
    let (mut metric, mut figures, mut sum, mut approximate) = (false, None, None, None);
    for quad in &quads {
        let Some(local) = quad.predicate.as_str().strip_prefix(crate::rdf::JD) else {
            continue;
        };
        let text: Option<Arc<str>> = match &quad.object {
            Term::NamedNode(n) => Some(Arc::from(n.as_str())),
            Term::Literal(l) => Some(Arc::from(l.value())),
            _ => None,
        };
        match local {
            "cellMetric" => {
                if let Some(t) = text {
                    key.metric = t;
                    metric = true;
                }
            }
            "cellReporter" => key.reporter = text,
            "cellDrug" => key.drug = text,
            "cellPeriodStart" => key.period_start = text,
            "cellPeriodEnd" => key.period_end = text,
            "cellPeriodText" => key.period_text = text,
            "cellYear" => key.year = text,
            "figureCount" => figures = text.and_then(|t| t.parse::<i64>().ok()),
            "valueSum" => sum = text.and_then(|t| Decimal::from_str(&t).ok()),
            "approximateCount" => approximate = text.and_then(|t| t.parse::<i64>().ok()),
            _ => {}
        }
    }
    Ok(match (metric, figures, sum, approximate) {
        (true, Some(figures), Some(sum), Some(approximate)) => Some((
            key,
            CellTotals {
                figures,
                sum,
                approximate,
            },
            quads,
        )),
        _ => None,
    })
}

/// Every cell of the summary graph (for the tests and `jindu stats`).
pub fn read_cells(store: &Store, graph: &NamedNode) -> Result<Cube> {
    let cell_class = jd("StatisticCell");
    let mut cube = Cube::default();
    for quad in store.quads_for_pattern(
        None,
        Some(rdf::TYPE),
        Some(cell_class.as_ref().into()),
        Some(GraphNameRef::NamedNode(graph.as_ref())),
    ) {
        if let NamedOrBlankNode::NamedNode(node) = quad.context("cannot read the store")?.subject {
            if let Some((key, totals, _)) = read_cell(store, node.as_ref(), graph)? {
                cube.add(&key, totals, 1)?;
            }
        }
    }
    Ok(cube)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::graph::tests::{entity, evidence, knowledge_with_articles};
    use crate::model::{EntityClass, Statistic};

    /// Adds `n` figures to `kn`, one per article in turn, spread over two
    /// reporters (and none), a drug (and none), a period (and none, with and
    /// without an article date) and approximate ones, with values whose sum
    /// is exact only in decimals (0.1 + 0.2).
    pub(crate) fn add_figures(kn: &mut Knowledge, n: usize) {
        let agency = kn.upsert_entity(entity(EntityClass::Agency, "开鲁县公安局"));
        let region = kn.upsert_entity(entity(EntityClass::Region, "开鲁县"));
        let drug = kn.upsert_entity(entity(EntityClass::Drug, "海洛因"));
        let articles = kn.articles.len();
        for (i, article) in kn.articles.iter_mut().enumerate() {
            if i % 3 == 0 {
                article.date = Some(format!("202{}-05-0{}", i % 2, 1 + i % 9));
            }
        }
        for i in 0..n {
            let article = i % articles;
            let (start, end, text) = match i % 4 {
                0 => (Some("2024-01-01"), Some("2024-06-30"), Some("今年上半年")),
                1 => (Some("2023-01-01"), None, Some("2023年以来")),
                _ => (None, None, None),
            };
            kn.statistics.push(Statistic {
                metric: Arc::from(if i % 5 == 4 {
                    "casesSolved"
                } else {
                    "drugsSeized"
                }),
                value: ["0.1", "0.2", "1000", "4100.25", "3"][i % 5].to_string(),
                approximate: i % 6 == 1,
                unit: "克",
                drug: (i % 2 == 0).then(|| drug.clone()),
                reported_by: match i % 3 {
                    0 => Some(agency.clone()),
                    1 => Some(region.clone()),
                    _ => None,
                },
                period_start: start.map(String::from),
                period_end: end.map(String::from),
                period_text: text.map(String::from),
                evidence: crate::model::Evidence {
                    char_start: 10 + i,
                    char_end: 12 + i,
                    ..evidence(article)
                },
            });
        }
    }

    fn graph() -> NamedNode {
        NamedNode::new_unchecked(crate::summary::SUMMARY_GRAPH)
    }

    fn store_of(files: &[(&Knowledge, &str)]) -> Store {
        let store = Store::new().unwrap();
        for (kn, id) in files {
            store
                .extend(crate::sync::file_quads(kn, id, "1970-01-01T00:00:00Z", "x"))
                .unwrap();
        }
        store
    }

    fn file(hash: &str, articles: usize, figures: usize) -> Knowledge {
        let mut kn = knowledge_with_articles(articles);
        kn.sources[0].sha256 = hash.into();
        add_figures(&mut kn, figures);
        kn
    }

    fn key(cube: &Cube, reporter: Option<&str>, metric: &str, year: Option<&str>) -> CellTotals {
        let found: Vec<_> = cube
            .cells
            .iter()
            .filter(|(k, _)| {
                &*k.metric == metric
                    && k.reporter.as_deref().map(|r| r.rsplit('/').next().unwrap()) == reporter
                    && k.year.as_deref() == year
                    && k.period_start.is_none()
                    && k.period_end.is_none()
                    && k.drug.is_none()
            })
            .map(|(_, t)| *t)
            .collect();
        assert_eq!(found.len(), 1, "{reporter:?} {metric} {year:?}");
        found[0]
    }

    #[test]
    fn figures_are_summed_per_cell_exactly() {
        let kn = file("aaaaaaaaaaaaaaaa0000", 1, 60);
        let cube = knowledge_cube(&kn);
        let figures: i64 = cube.cells.values().map(|t| t.figures).sum();
        assert_eq!(figures, 60);
        let approximate: i64 = cube.cells.values().map(|t| t.approximate).sum();
        assert_eq!(approximate, 10);
        // The drugsSeized figures without a period or a drug (odd i,
        // i % 4 == 3) and with no reporter (i % 3 == 2), in one cell of the
        // article's year (article 0 is dated 2020): i = 11, 23, 35, 47 (59
        // is casesSolved), whose values are 0.2, 4100.25, 0.1 and 1000.
        let cell = key(&cube, None, "drugsSeized", Some("2020"));
        assert_eq!(cell.figures, 4);
        assert_eq!(cell.sum.to_string(), "5100.55");
        assert_eq!(cell.approximate, 0, "approximate ones have i % 6 == 1");
        // A figure with a period does not take its article's year.
        assert!(
            cube.cells
                .keys()
                .all(|k| k.year.is_none() || (k.period_start.is_none() && k.period_end.is_none()))
        );
    }

    #[test]
    fn a_cell_iri_tells_an_absent_field_from_an_empty_one() {
        let base = CellKey {
            metric: Arc::from("drugsSeized"),
            reporter: None,
            drug: None,
            period_start: None,
            period_end: None,
            period_text: None,
            year: None,
        };
        let empty = CellKey {
            reporter: Some(Arc::from("")),
            ..base.clone()
        };
        let moved = CellKey {
            drug: Some(Arc::from("")),
            ..base.clone()
        };
        assert_ne!(base.iri(), empty.iri());
        assert_ne!(empty.iri(), moved.iri());
        assert_eq!(base.iri(), base.clone().iri());
        assert!(base.iri().as_str().starts_with(&format!("{ID}cell/")));
    }

    #[test]
    fn the_store_gives_the_cube_of_the_knowledge_and_reads_it_back() {
        let a = file("aaaaaaaaaaaaaaaa0000", 4, 40);
        let b = file("bbbbbbbbbbbbbbbb0000", 3, 25);
        let store = store_of(&[(&a, "a.txt"), (&b, "b.txt")]);
        let mut expected = knowledge_cube(&a);
        expected.merge(&knowledge_cube(&b)).unwrap();
        assert_eq!(store_cube(&store).unwrap(), expected);
        assert_eq!(store_cube_by_quads(&store).unwrap(), expected);
        let a_source = crate::rdf::source_iri_for_hash(&a.sources[0].sha256);
        assert_eq!(
            source_share(&store, a_source.as_ref()).unwrap(),
            knowledge_cube(&a)
        );
        recount_all(&store, &graph()).unwrap();
        assert_eq!(read_cells(&store, &graph()).unwrap(), expected);
        // A second recount finds every cell as it is and writes nothing.
        let before: Vec<Quad> = store.iter().map(Result::unwrap).collect();
        recount_all(&store, &graph()).unwrap();
        let after: Vec<Quad> = store.iter().map(Result::unwrap).collect();
        assert_eq!(before, after);
    }

    #[test]
    fn a_change_moves_the_cube_by_the_touched_sources_shares() {
        let a = file("aaaaaaaaaaaaaaaa0000", 4, 40);
        let b = file("bbbbbbbbbbbbbbbb0000", 3, 25);
        let store = store_of(&[(&a, "a.txt")]);
        recount_all(&store, &graph()).unwrap();
        let source =
            |kn: &Knowledge| crate::rdf::source_iri_for_hash(&kn.sources[0].sha256).into_string();
        let steps: [(&str, &Knowledge, bool); 4] = [
            // b arrives; a copy of b arrives (no change to the cube); b
            // leaves (its copy keeps its statistics); the copy leaves.
            ("b.txt", &b, true),
            ("copy.txt", &b, true),
            ("b.txt", &b, false),
            ("copy.txt", &b, false),
        ];
        for (id, kn, arriving) in steps {
            let mut change = CubeChange::default();
            if arriving {
                change.note(&store, [source(kn).as_str()]).unwrap();
                store
                    .extend(crate::sync::file_quads(kn, id, "1970-01-01T00:00:00Z", "x"))
                    .unwrap();
            } else {
                let sources = sources_of_files(&store, &[id.to_string()]).unwrap();
                assert_eq!(sources, BTreeSet::from([source(kn)]));
                change
                    .note(&store, sources.iter().map(String::as_str))
                    .unwrap();
                crate::sync::remove_graphs(&store, &[crate::sync::file_graph(id)]).unwrap();
            }
            assert!(apply_change(&store, &change, &graph()).unwrap());
            assert_eq!(
                read_cells(&store, &graph()).unwrap(),
                store_cube(&store).unwrap(),
                "after {id} {}",
                if arriving { "arrives" } else { "leaves" }
            );
        }
        assert_eq!(read_cells(&store, &graph()).unwrap(), knowledge_cube(&a));

        // A change the stored cells cannot take (they were emptied by hand)
        // is refused, for the caller to recount.
        let mut change = CubeChange::default();
        change.note(&store, [source(&a).as_str()]).unwrap();
        crate::sync::remove_graphs(&store, &[crate::sync::file_graph("a.txt")]).unwrap();
        replace_all(&store, Cube::default(), &graph()).unwrap();
        assert!(!apply_change(&store, &change, &graph()).unwrap());
    }
}
