//! The statistics rollups: the reported figures of each reporter and
//! metric folded together, kept in the summary graph.
//!
//! In: statistics, from one file's [`Knowledge`] (a fresh build, through
//! the summary builder), from the store for the sources a change touches
//! (an incremental build or `jindu remove`), or from every statistic in the
//! store (a recount). Out: one `jd:StatisticRollup` node in the summary
//! graph per metric and reporter (or none), and the readers the tests use.
//!
//! A rollup holds the number of figures (`jd:figureCount`), the exact sum
//! of their values (`jd:valueSum`, an `xsd:decimal` summed as Oxigraph sums
//! them, so that a sum of rollups equals the sum of the figures), how many
//! are approximate (`jd:approximateCount`), the earliest period start and
//! the latest period end (`jd:rollupPeriodFrom`, `jd:rollupPeriodTo`) and
//! the distinct period texts (`jd:rollupPeriodText`): every aggregate
//! `statistics-by-region-metric` reports, which then reads one rollup per
//! reporter and metric instead of every statistic (6.57 M at 1 GB, past
//! 20 s). Its `jd:rollupPack` (`rdf:JSON`) holds what an update needs to
//! take figures away again: the figures per period start and per text, and
//! how many end on the latest end.
//!
//! Why rollups and not finer cells (per drug and period as well): on a
//! large corpus a period mostly ends on its article's date, so such cells
//! held one figure each, as many as the statistics, and did not fit the
//! build's memory bound. Rollups grow with the reporters, not the text.
//!
//! How they stay exact: a statistic's IRI is minted from its source's
//! content hash, so the rollups are the sum of the sources' shares
//! ([`source_share`]). A change notes the share of every source it touches
//! before it happens ([`RollupChange::note`]), then takes the shares before
//! away from the stored rollups and adds the shares after ([`apply_change`]).
//! Two files with the same bytes share a source, and so count once, as their
//! statistics do. When figures ending on a rollup's latest end all leave,
//! its new latest end is read from the store.
//!
//! The same shares carry the relation totals: per relation property, the
//! records and distinct articles of every source's `jd:relationTally`,
//! summed (`jd:RelationTotal`, one per property), which `relation-counts`
//! reads instead of the tallies (806,785 at 1 GB). A source's tallies are
//! written with its record, so they come and go with it, as its statistics
//! do.

use std::collections::{BTreeMap, BTreeSet, HashSet};
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
use crate::rdf::{ID, JD, entity_iri, jd};
use crate::summary::{in_summary, summary_graph, write_difference};

const RDF_JSON: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#JSON";

/// One statistic, as far as the rollups need it.
#[derive(Debug, Clone, PartialEq)]
struct Figure {
    metric: Arc<str>,
    reporter: Option<Arc<str>>,
    value: Decimal,
    approximate: bool,
    start: Option<Arc<str>>,
    end: Option<Arc<str>>,
    text: Option<Arc<str>>,
}

/// A metric and a reporter (or none): what a [`Rollup`] folds the figures
/// of.
pub type RollupKey = (Arc<str>, Option<Arc<str>>);

/// The figures of one metric and reporter folded together.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rollup {
    figures: i64,
    #[serde(with = "decimal_text")]
    sum: Decimal,
    approximate: i64,
    /// Figures per period start (those with one).
    starts: BTreeMap<String, i64>,
    /// Figures per period text (those with one).
    texts: BTreeMap<String, i64>,
    /// Figures with a period end.
    with_end: i64,
    /// The latest period end, and how many figures end on it. (The ends
    /// themselves mostly are their articles' dates: keeping them all would
    /// make the rollups grow with the text.)
    latest_end: Option<String>,
    at_latest_end: i64,
}

/// A decimal as its canonical text in JSON (a JSON number would lose digits).
mod decimal_text {
    use super::*;

    pub fn serialize<S: serde::Serializer>(value: &Decimal, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&value.to_string())
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
        let text: String = serde::Deserialize::deserialize(d)?;
        Decimal::from_str(&text).map_err(serde::de::Error::custom)
    }
}

/// What taking figures away from a rollup left.
#[derive(Debug, PartialEq, Eq)]
enum Taken {
    Done,
    /// Every figure on the latest end left while others with an end stay:
    /// the new latest end is to be read from the store.
    LatestEndUnknown,
    /// More was taken than there was (the stored rollup does not agree with
    /// the store), or a sum overflowed.
    Inconsistent,
}

impl Rollup {
    fn of_figure(figure: &Figure) -> Rollup {
        let mut rollup = Rollup {
            figures: 1,
            sum: figure.value,
            approximate: i64::from(figure.approximate),
            ..Default::default()
        };
        if let Some(start) = &figure.start {
            rollup.starts.insert(start.to_string(), 1);
        }
        if let Some(text) = &figure.text {
            rollup.texts.insert(text.to_string(), 1);
        }
        if let Some(end) = &figure.end {
            rollup.with_end = 1;
            rollup.latest_end = Some(end.to_string());
            rollup.at_latest_end = 1;
        }
        rollup
    }

    /// Adds another rollup's figures; `None` when the sum overflows (about
    /// ±1.7 × 10²⁰ with 18 decimals, as in Oxigraph).
    fn merge(&mut self, other: &Rollup) -> Option<()> {
        self.sum = self.sum.checked_add(other.sum)?;
        self.figures += other.figures;
        self.approximate += other.approximate;
        for (mine, theirs) in [
            (&mut self.starts, &other.starts),
            (&mut self.texts, &other.texts),
        ] {
            for (value, n) in theirs {
                *mine.entry(value.clone()).or_default() += n;
            }
        }
        self.with_end += other.with_end;
        match (&self.latest_end, &other.latest_end) {
            (_, None) => {}
            (Some(mine), Some(theirs)) if mine == theirs => {
                self.at_latest_end += other.at_latest_end
            }
            (Some(mine), Some(theirs)) if mine > theirs => {}
            _ => {
                self.latest_end = other.latest_end.clone();
                self.at_latest_end = other.at_latest_end;
            }
        }
        Some(())
    }

    /// Takes away figures `other` holds (a share noted before a change).
    fn take(&mut self, other: &Rollup) -> Taken {
        let Some(sum) = self.sum.checked_sub(other.sum) else {
            return Taken::Inconsistent;
        };
        self.sum = sum;
        self.figures -= other.figures;
        self.approximate -= other.approximate;
        self.with_end -= other.with_end;
        for (mine, theirs) in [
            (&mut self.starts, &other.starts),
            (&mut self.texts, &other.texts),
        ] {
            for (value, n) in theirs {
                let Some(count) = mine.get_mut(value) else {
                    return Taken::Inconsistent;
                };
                *count -= n;
                match (*count).cmp(&0) {
                    std::cmp::Ordering::Less => return Taken::Inconsistent,
                    std::cmp::Ordering::Equal => {
                        mine.remove(value);
                    }
                    std::cmp::Ordering::Greater => {}
                }
            }
        }
        if self.figures < 0 || self.approximate < 0 || self.with_end < 0 {
            return Taken::Inconsistent;
        }
        if self.figures == 0
            && (self.approximate != 0
                || self.sum != Decimal::from(0)
                || !self.starts.is_empty()
                || !self.texts.is_empty()
                || self.with_end != 0)
        {
            return Taken::Inconsistent;
        }
        let mut outcome = Taken::Done;
        if let Some(theirs) = &other.latest_end {
            match &self.latest_end {
                Some(mine) if mine == theirs => {
                    self.at_latest_end -= other.at_latest_end;
                    if self.at_latest_end < 0 {
                        return Taken::Inconsistent;
                    }
                    if self.at_latest_end == 0 {
                        self.latest_end = None;
                        if self.with_end > 0 {
                            outcome = Taken::LatestEndUnknown;
                        }
                    }
                }
                Some(mine) if mine > theirs => {}
                // (figures ending later than the latest end)
                _ => return Taken::Inconsistent,
            }
        }
        if self.with_end == 0 && self.latest_end.is_some() {
            return Taken::Inconsistent;
        }
        outcome
    }
}

/// The rollup's IRI: 16 hex digits of the SHA-256 of its metric and
/// reporter, each as its length (8 bytes, big-endian) and UTF-8 bytes, an
/// absent reporter as the byte 0xFF.
pub fn rollup_iri((metric, reporter): &RollupKey) -> NamedNode {
    let mut hasher = Sha256::new();
    for field in [Some(metric), reporter.as_ref()] {
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
    NamedNode::new_unchecked(format!("{ID}rollup/{hex}"))
}

/// The records and articles of one relation property's tallies, summed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RelationTotal {
    records: i64,
    articles: i64,
}

impl RelationTotal {
    /// Takes `other` away; `None` when that would leave less than nothing
    /// (the stored total does not agree with the store).
    fn minus(self, other: RelationTotal) -> Option<RelationTotal> {
        let total = RelationTotal {
            records: self.records.checked_sub(other.records)?,
            articles: self.articles.checked_sub(other.articles)?,
        };
        (total.records >= 0 && total.articles >= 0).then_some(total)
    }

    fn plus(self, other: RelationTotal) -> RelationTotal {
        RelationTotal {
            records: self.records + other.records,
            articles: self.articles + other.articles,
        }
    }
}

/// Rollups by key and relation totals by property IRI, in key order (for
/// deterministic output).
#[derive(Debug, Default, Clone)]
pub struct Rollups {
    map: BTreeMap<RollupKey, Rollup>,
    relations: BTreeMap<Arc<str>, RelationTotal>,
    /// The keys' texts, shared between keys.
    names: HashSet<Arc<str>>,
}

impl PartialEq for Rollups {
    fn eq(&self, other: &Rollups) -> bool {
        self.map == other.map && self.relations == other.relations
    }
}

impl Rollups {
    /// The number of statistics rollups.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty() && self.relations.is_empty()
    }

    fn add_tally(&mut self, property: &str, records: i64, articles: i64) {
        let property = self.shared(&Arc::from(property));
        let total = self.relations.entry(property).or_default();
        *total = total.plus(RelationTotal { records, articles });
    }

    fn shared(&mut self, text: &Arc<str>) -> Arc<str> {
        if let Some(shared) = self.names.get(text) {
            return shared.clone();
        }
        self.names.insert(text.clone());
        text.clone()
    }

    fn entry(&mut self, key: &RollupKey) -> &mut Rollup {
        if !self.map.contains_key(key) {
            let key = (self.shared(&key.0), key.1.as_ref().map(|r| self.shared(r)));
            self.map.insert(key, Rollup::default());
        }
        self.map.get_mut(key).expect("inserted above")
    }

    fn add_figure(&mut self, figure: &Figure) -> Result<()> {
        let key = (figure.metric.clone(), figure.reporter.clone());
        self.entry(&key)
            .merge(&Rollup::of_figure(figure))
            .with_context(|| format!("the sum of the figures of {} overflows", rollup_iri(&key)))
    }

    /// Adds every figure and tally of `other`.
    pub fn merge(&mut self, other: &Rollups) -> Result<()> {
        for (key, rollup) in &other.map {
            self.entry(key).merge(rollup).with_context(|| {
                format!("the sum of the figures of {} overflows", rollup_iri(key))
            })?;
        }
        for (property, total) in &other.relations {
            self.add_tally(property, total.records, total.articles);
        }
        Ok(())
    }

    /// The rollups' and totals' quads in the summary graph, in key order,
    /// made as they are taken.
    pub fn into_quads(self) -> impl Iterator<Item = Quad> + use<> {
        let totals = self
            .relations
            .into_iter()
            .flat_map(|(property, total)| total_quads(&property, total));
        self.map
            .into_iter()
            .flat_map(move |(key, rollup)| rollup_quads(&key, &rollup))
            .chain(totals)
    }
}

/// The rollups of one file's knowledge (its statistics, each counted once).
pub fn knowledge_rollups(kn: &Knowledge) -> Rollups {
    let mut rollups = Rollups::default();
    for stat in &kn.statistics {
        let Ok(value) = Decimal::from_str(&stat.value) else {
            // The extractor writes decimals only; the store's parser would
            // refuse anything else too.
            continue;
        };
        let figure = Figure {
            metric: Arc::from(&*stat.metric),
            reporter: stat
                .reported_by
                .as_ref()
                .map(|r| Arc::from(entity_iri(r).as_str())),
            value,
            approximate: stat.approximate,
            start: stat.period_start.as_deref().map(Arc::from),
            end: stat.period_end.as_deref().map(Arc::from),
            text: stat.period_text.as_deref().map(Arc::from),
        };
        // (an overflow is left to the recount, which reports it)
        let _ = rollups.add_figure(&figure);
    }
    for tally in crate::rdf::relation_tallies(kn) {
        rollups.add_tally(
            jd(tally.property).as_str(),
            tally.records as i64,
            tally.articles as i64,
        );
    }
    rollups
}

/// The rollups of every statistic in the store's default graph, in one
/// streaming query: the engine joins the fields on its encoded terms and
/// decodes only the statistic, the reporter and the short literals, and
/// the rollups, not the statistics, are held. A statistic with two values
/// of a field (not one jindu writes) gives consecutive rows, of which the
/// first counts.
pub fn store_rollups(store: &Store) -> Result<Rollups> {
    let mut rollups = rollups_of_statistics(store, "")?;
    add_tallies(&mut rollups, store, "")?;
    Ok(rollups)
}

/// Adds the relation tallies `scope` (a SPARQL pattern binding `?tally`, or
/// nothing for every tally) selects, summed per property by the engine.
fn add_tallies(rollups: &mut Rollups, store: &Store, scope: &str) -> Result<()> {
    let query = format!(
        "PREFIX jd: <{JD}> SELECT ?p (SUM(?r) AS ?records) (SUM(?a) AS ?articles) WHERE {{ \
           {scope} ?tally jd:tallyProperty ?p ; jd:tallyRecords ?r ; jd:tallyArticles ?a . }} \
         GROUP BY ?p"
    );
    for row in crate::graph::select(store, &query)? {
        let row = row.context("cannot read the store")?;
        let (Some(Term::NamedNode(property)), Some(records), Some(articles)) =
            (row.get("p"), row.get("records"), row.get("articles"))
        else {
            continue;
        };
        let count = |term: &Term| match term {
            Term::Literal(l) => l.value().parse::<i64>().ok(),
            _ => None,
        };
        let (Some(records), Some(articles)) = (count(records), count(articles)) else {
            eprintln!(
                "jindu: note: the relation tallies of {property} do not sum to integers; they are left out of the relation totals"
            );
            continue;
        };
        rollups.add_tally(property.as_str(), records, articles);
    }
    Ok(())
}

/// The rollups of the statistics `scope` (a SPARQL pattern binding `?stat`,
/// or nothing for every statistic) selects.
fn rollups_of_statistics(store: &Store, scope: &str) -> Result<Rollups> {
    let query = format!(
        "PREFIX jd: <{JD}> SELECT ?stat ?m ?v ?ap ?r ?ps ?pe ?pt WHERE {{ {scope} \
           ?stat a jd:Statistic ; jd:metric ?m ; jd:value ?v . \
           OPTIONAL {{ ?stat jd:approximate ?ap }} OPTIONAL {{ ?stat jd:reportedBy ?r }} \
           OPTIONAL {{ ?stat jd:periodStart ?ps }} OPTIONAL {{ ?stat jd:periodEnd ?pe }} \
           OPTIONAL {{ ?stat jd:periodText ?pt }} }}"
    );
    let mut rollups = Rollups::default();
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
        rollups.add_figure(&Figure {
            metric,
            reporter: text("r"),
            value,
            approximate: text("ap").is_some_and(|a| &*a == "true" || &*a == "1"),
            start: text("ps"),
            end: text("pe"),
            text: text("pt"),
        })?;
    }
    note_skipped(skipped);
    Ok(rollups)
}

fn note_skipped(skipped: usize) {
    if skipped > 0 {
        eprintln!(
            "jindu: note: {skipped} statistic(s) without a jd:metric or an xsd:decimal jd:value are left out of the statistics rollups"
        );
    }
}

/// The share of the rollups of one source (`jd:Source` IRI): the
/// statistics mentioned in its articles, as the store holds them now.
pub fn source_share(store: &Store, source: NamedNodeRef<'_>) -> Result<Rollups> {
    let mut share = rollups_of_statistics(
        store,
        &format!("?article jd:fromSource {source} . ?stat jd:mentionedIn ?article ."),
    )?;
    add_tallies(
        &mut share,
        store,
        &format!("{source} jd:relationTally ?tally ."),
    )?;
    Ok(share)
}

/// The sources a change touches, with their shares of the rollups before
/// it.
#[derive(Debug, Default, Clone)]
pub struct RollupChange {
    before: BTreeMap<String, Rollups>,
}

impl RollupChange {
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

    pub fn extend(&mut self, other: RollupChange) {
        for (source, share) in other.before {
            self.before.entry(source).or_insert(share);
        }
    }

    /// The figures to add (the shares now) and to take away (the shares
    /// noted), over the sources whose share changed.
    fn difference(&self, store: &Store) -> Result<(Rollups, Rollups)> {
        let (mut plus, mut minus) = (Rollups::default(), Rollups::default());
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

/// Brings the stored rollups in line with the change (the store as it is
/// after it). Returns false, having written nothing, when they do not agree
/// with it (more figures would leave a rollup than it holds): the caller
/// then recounts them all.
pub fn apply_change(store: &Store, change: &RollupChange) -> Result<bool> {
    if change.is_empty() {
        return Ok(true);
    }
    let (plus, minus) = change.difference(store)?;
    let keys: BTreeSet<&RollupKey> = plus.map.keys().chain(minus.map.keys()).collect();
    let (mut old, mut new) = (Vec::new(), Vec::new());
    for key in keys {
        let node = rollup_iri(key);
        let (stored, quads) = read_rollup(store, node.as_ref())?;
        let mut rollup = match stored {
            Some(rollup) => rollup,
            None if quads.is_empty() => Rollup::default(),
            // (a node without a readable pack: not one this version wrote)
            None => return Ok(false),
        };
        old.extend(quads);
        let mut unknown_end = false;
        if let Some(taken) = minus.map.get(key) {
            match rollup.take(taken) {
                Taken::Done => {}
                Taken::LatestEndUnknown => unknown_end = true,
                Taken::Inconsistent => return Ok(false),
            }
        }
        if let Some(added) = plus.map.get(key) {
            if rollup.merge(added).is_none() {
                return Ok(false);
            }
        }
        if unknown_end {
            // The store is as it is after the change: its latest end for
            // this key is the rollup's.
            (rollup.latest_end, rollup.at_latest_end) = latest_end_in_store(store, key)?;
        }
        if rollup.figures > 0 {
            new.extend(rollup_quads(key, &rollup));
        }
    }
    let properties: BTreeSet<&Arc<str>> = plus
        .relations
        .keys()
        .chain(minus.relations.keys())
        .collect();
    for property in properties {
        let (stored, quads) = read_total(store, property)?;
        let Some(total) = stored else {
            return Ok(false);
        };
        old.extend(quads);
        let taken = minus.relations.get(property).copied().unwrap_or_default();
        let Some(total) = total.minus(taken) else {
            return Ok(false);
        };
        let total = total.plus(plus.relations.get(property).copied().unwrap_or_default());
        if total != RelationTotal::default() {
            new.extend(total_quads(property, total));
        }
    }
    write_difference(store, old, new)?;
    Ok(true)
}

/// The latest period end of the statistics of `key` in the store, and how
/// many end on it. A reporter's statistics are found by index; those with
/// no reporter by reading every statistic of the metric.
fn latest_end_in_store(
    store: &Store,
    (metric, reporter): &RollupKey,
) -> Result<(Option<String>, i64)> {
    let metric = Literal::new_simple_literal(&**metric);
    let who = match reporter {
        Some(r) => format!(
            "?stat <{JD}reportedBy> {} .",
            NamedNode::new(&**r).with_context(|| format!("bad IRI {r}"))?
        ),
        None => format!("FILTER NOT EXISTS {{ ?stat <{JD}reportedBy> ?anyone }}"),
    };
    let query = format!(
        "SELECT ?end (COUNT(*) AS ?n) WHERE {{ ?stat <{JD}metric> {metric} ; \
           <{JD}periodEnd> ?end ; a <{JD}Statistic> . {who} }} \
         GROUP BY ?end ORDER BY DESC(?end) LIMIT 1"
    );
    match crate::graph::select(store, &query)?.next() {
        Some(row) => {
            let row = row.context("cannot read the store")?;
            let end = match row.get("end") {
                Some(Term::Literal(l)) => Some(l.value().to_string()),
                _ => None,
            };
            let n = row.get("n").map_or(0, crate::graph::count_of) as i64;
            Ok((end, n))
        }
        None => Ok((None, 0)),
    }
}

/// Replaces every rollup and relation total of the summary graph with
/// `rollups`, writing only what differs.
pub fn replace_all(store: &Store, rollups: Rollups) -> Result<()> {
    let totals_wanted = rollups.relations;
    let mut rollups = rollups.map;
    let (metric, reporter) = (jd("rollupMetric"), jd("rollupReporter"));
    let mut gone = Vec::new();
    for node in typed_in(store, "StatisticRollup")? {
        let (_, quads) = read_rollup(store, node.as_ref())?;
        // (a literal metric and an IRI reporter: a rollup this version wrote)
        let value_of = |predicate: &NamedNode| -> Option<&Term> {
            quads
                .iter()
                .find(|q| q.predicate == *predicate)
                .map(|q| &q.object)
        };
        let key = match value_of(&metric) {
            Some(Term::Literal(m)) => Some((
                Arc::<str>::from(m.value()),
                match value_of(&reporter) {
                    Some(Term::NamedNode(r)) => Some(Arc::<str>::from(r.as_str())),
                    _ => None,
                },
            )),
            _ => None,
        };
        let unchanged = key.as_ref().is_some_and(|key| {
            rollup_iri(key) == node
                && rollups
                    .get(key)
                    .is_some_and(|rollup| holds_exactly(&quads, rollup_quads(key, rollup)))
        });
        match key {
            Some(key) if unchanged => {
                rollups.remove(&key);
            }
            _ => gone.extend(quads),
        }
        if gone.len() >= 65_536 {
            write_difference(store, std::mem::take(&mut gone), Vec::new())?;
        }
    }
    // The totals: few, compared whole.
    let mut totals: BTreeMap<NamedNode, Vec<Quad>> = totals_wanted
        .iter()
        .map(|(property, total)| (relation_total_iri(property), total_quads(property, *total)))
        .collect();
    for node in typed_in(store, "RelationTotal")? {
        let quads: Vec<Quad> = in_summary(store, node.as_ref(), None).collect::<Result<_>>()?;
        let unchanged = totals
            .get(&node)
            .is_some_and(|want| holds_exactly(&quads, want.clone()));
        if unchanged {
            totals.remove(&node);
        } else {
            gone.extend(quads);
        }
    }
    write_difference(store, gone, Vec::new())?;
    if !rollups.is_empty() || !totals.is_empty() {
        let mut loader = store.bulk_loader();
        loader
            .load_quads(
                rollups
                    .iter()
                    .flat_map(|(key, rollup)| rollup_quads(key, rollup))
                    .chain(totals.into_values().flatten()),
            )
            .context("cannot write the statistics rollups")?;
        loader
            .commit()
            .context("cannot commit the statistics rollups")?;
    }
    Ok(())
}

/// Whether the stored quads `have` are exactly `want` (as sets).
fn holds_exactly(have: &[Quad], want: Vec<Quad>) -> bool {
    let want: HashSet<Quad> = want.into_iter().collect();
    want.len() == have.len() && have.iter().all(|q| want.contains(q))
}

/// Recounts every rollup and relation total from the store's statistics
/// and tallies.
pub fn recount_all(store: &Store) -> Result<()> {
    let rollups = store_rollups(store)?;
    replace_all(store, rollups)
}

/// The nodes of the summary graph typed `jd:{class}`.
fn typed_in(store: &Store, class: &str) -> Result<Vec<NamedNode>> {
    let (class, graph) = (jd(class), summary_graph());
    store
        .quads_for_pattern(
            None,
            Some(rdf::TYPE),
            Some(class.as_ref().into()),
            Some(GraphNameRef::NamedNode(graph.as_ref())),
        )
        .filter_map(|q| match q {
            Ok(q) => match q.subject {
                NamedOrBlankNode::NamedNode(n) => Some(Ok(n)),
                _ => None,
            },
            Err(e) => Some(Err(e)),
        })
        .collect::<Result<_, _>>()
        .context("cannot read the store")
}

/// The quads of one rollup.
fn rollup_quads(key: &RollupKey, rollup: &Rollup) -> Vec<Quad> {
    let g = GraphName::NamedNode(summary_graph());
    let node = rollup_iri(key);
    let mut out = Vec::with_capacity(10 + rollup.texts.len());
    out.push(Quad::new(
        node.clone(),
        rdf::TYPE.into_owned(),
        jd("StatisticRollup"),
        g.clone(),
    ));
    let mut add = |predicate: &str, object: Term| {
        out.push(Quad::new(node.clone(), jd(predicate), object, g.clone()));
    };
    add("rollupMetric", Literal::new_simple_literal(&*key.0).into());
    if let Some(r) = &key.1 {
        add("rollupReporter", NamedNode::new_unchecked(&**r).into());
    }
    add("figureCount", Literal::from(rollup.figures).into());
    add(
        "valueSum",
        Literal::new_typed_literal(rollup.sum.to_string(), xsd::DECIMAL).into(),
    );
    add("approximateCount", Literal::from(rollup.approximate).into());
    if let Some(first) = rollup.starts.keys().next() {
        add(
            "rollupPeriodFrom",
            Literal::new_typed_literal(first.as_str(), xsd::DATE).into(),
        );
    }
    if let Some(last) = &rollup.latest_end {
        add(
            "rollupPeriodTo",
            Literal::new_typed_literal(last.as_str(), xsd::DATE).into(),
        );
    }
    for text in rollup.texts.keys() {
        add(
            "rollupPeriodText",
            Literal::new_language_tagged_literal_unchecked(text.as_str(), "zh").into(),
        );
    }
    let pack = serde_json::to_string(rollup).expect("a rollup serialises");
    add(
        "rollupPack",
        Literal::new_typed_literal(pack, NamedNode::new_unchecked(RDF_JSON)).into(),
    );
    out
}

/// The relation total's IRI: `jdi:relation-total/` and the property's local
/// name (its whole IRI, escaped, outside jindu's namespace).
pub fn relation_total_iri(property: &str) -> NamedNode {
    let local = property.strip_prefix(JD).unwrap_or(property);
    NamedNode::new_unchecked(format!(
        "{ID}relation-total/{}",
        crate::rdf::iri_segment(local)
    ))
}

/// The quads of one relation total.
fn total_quads(property: &str, total: RelationTotal) -> Vec<Quad> {
    let g = GraphName::NamedNode(summary_graph());
    let node = relation_total_iri(property);
    let quad =
        |predicate: NamedNode, object: Term| Quad::new(node.clone(), predicate, object, g.clone());
    vec![
        quad(rdf::TYPE.into_owned(), jd("RelationTotal").into()),
        quad(
            jd("totalProperty"),
            NamedNode::new_unchecked(property).into(),
        ),
        quad(jd("totalRecords"), Literal::from(total.records).into()),
        quad(jd("totalArticles"), Literal::from(total.articles).into()),
    ]
}

/// A stored relation total and its quads: a zero total when there is none,
/// no total when its counts are not integers (not one this version wrote).
fn read_total(store: &Store, property: &str) -> Result<(Option<RelationTotal>, Vec<Quad>)> {
    let node = relation_total_iri(property);
    let quads: Vec<Quad> = in_summary(store, node.as_ref(), None).collect::<Result<_>>()?;
    if quads.is_empty() {
        return Ok((Some(RelationTotal::default()), quads));
    }
    let count = |predicate: &str| {
        let predicate = jd(predicate);
        quads
            .iter()
            .find(|q| q.predicate == predicate)
            .and_then(|q| match &q.object {
                Term::Literal(l) => l.value().parse::<i64>().ok(),
                _ => None,
            })
    };
    let total = count("totalRecords")
        .zip(count("totalArticles"))
        .map(|(records, articles)| RelationTotal { records, articles });
    Ok((total, quads))
}

/// A stored rollup: its state (from its pack) and its quads; no state when
/// it has no readable pack.
fn read_rollup(store: &Store, node: NamedNodeRef<'_>) -> Result<(Option<Rollup>, Vec<Quad>)> {
    let quads: Vec<Quad> = in_summary(store, node, None).collect::<Result<_>>()?;
    let pack = jd("rollupPack");
    let rollup = quads
        .iter()
        .find(|q| q.predicate == pack)
        .and_then(|q| match &q.object {
            Term::Literal(l) => serde_json::from_str(l.value()).ok(),
            _ => None,
        });
    Ok((rollup, quads))
}

/// Every stored rollup, by its pack (for the tests).
#[cfg(test)]
fn read_rollups(store: &Store) -> Result<BTreeMap<String, Rollup>> {
    let mut out = BTreeMap::new();
    for node in typed_in(store, "StatisticRollup")? {
        let (rollup, _) = read_rollup(store, node.as_ref())?;
        out.insert(node.into_string(), rollup.expect("a pack"));
    }
    Ok(out)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::graph::tests::{entity, evidence, knowledge_with_articles};
    use crate::model::{EntityClass, Property, Statistic};
    use crate::summary::tests::store_of;

    /// Adds `n` figures to `kn`, one per article in turn, spread over two
    /// reporters (and none), two metrics, periods (and none) and
    /// approximate ones, with values whose sum is exact only in decimals
    /// (0.1 + 0.2).
    pub(crate) fn add_figures(kn: &mut Knowledge, n: usize) {
        let agency = kn.upsert_entity(entity(EntityClass::Agency, "开鲁县公安局"));
        let region = kn.upsert_entity(entity(EntityClass::Region, "开鲁县"));
        let drug = kn.upsert_entity(entity(EntityClass::Drug, "海洛因"));
        let articles = kn.articles.len();
        for i in 0..n {
            let article = i % articles;
            let (start, end, text) = match i % 4 {
                0 => (
                    Some("2024-01-01".to_string()),
                    Some(format!("2024-06-{:02}", 10 + article % 20)),
                    Some("今年以来"),
                ),
                1 => (Some("2023-01-01".to_string()), None, Some("2023年以来")),
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
                period_start: start,
                period_end: end,
                period_text: text.map(String::from),
                evidence: crate::model::Evidence {
                    char_start: 10 + i,
                    char_end: 12 + i,
                    ..evidence(article)
                },
            });
        }
    }

    /// Adds relations with records in every article: each article places
    /// the agency, the even ones twice (two places: two records) and once
    /// more by another rule at the same place (the same record).
    fn add_relations(kn: &mut Knowledge) {
        let agency = kn.upsert_entity(entity(EntityClass::Agency, "开鲁县公安局"));
        let region = kn.upsert_entity(entity(EntityClass::Region, "开鲁县"));
        let campaign = kn.upsert_entity(entity(EntityClass::Campaign, "清源断流"));
        for article in 0..kn.articles.len() {
            kn.add_relation(
                agency.clone(),
                Property::LocatedIn,
                region.clone(),
                Some(evidence(article)),
            );
            if article % 2 == 0 {
                for (start, rule) in [(5, "test"), (5, "other"), (9, "test")] {
                    let ev = crate::model::Evidence {
                        char_start: start,
                        char_end: start + 2,
                        rule: rule.into(),
                        ..evidence(article)
                    };
                    kn.add_relation(
                        agency.clone(),
                        Property::ParticipatesIn,
                        campaign.clone(),
                        Some(ev),
                    );
                }
            }
        }
    }

    fn file(hash: &str, articles: usize, figures: usize) -> Knowledge {
        let mut kn = knowledge_with_articles(articles);
        kn.sources[0].sha256 = hash.into();
        add_figures(&mut kn, figures);
        add_relations(&mut kn);
        kn
    }

    /// The stored rollups and relation totals equal those recounted from
    /// every statistic and tally.
    fn assert_current(store: &Store, when: &str) {
        let recounted = store_rollups(store).unwrap();
        let totals: BTreeMap<String, RelationTotal> = recounted
            .relations
            .iter()
            .map(|(property, total)| (relation_total_iri(property).into_string(), *total))
            .collect();
        let recounted: BTreeMap<String, Rollup> = recounted
            .map
            .into_iter()
            .map(|(key, rollup)| (rollup_iri(&key).into_string(), rollup))
            .collect();
        assert_eq!(read_rollups(store).unwrap(), recounted, "{when}");
        let mut stored = BTreeMap::new();
        for node in typed_in(store, "RelationTotal").unwrap() {
            let quad = in_summary(store, node.as_ref(), Some(jd("totalProperty").as_ref()))
                .next()
                .unwrap()
                .unwrap();
            let Term::NamedNode(property) = quad.object else {
                panic!("{when}: a total's property is an IRI")
            };
            let (total, _) = read_total(store, property.as_str()).unwrap();
            stored.insert(node.into_string(), total.unwrap());
        }
        assert_eq!(stored, totals, "{when}");
    }

    #[test]
    fn relation_totals_count_each_record_once_per_source_and_property() {
        let a = file("aaaaaaaaaaaaaaaa0000", 4, 0);
        let totals = knowledge_rollups(&a).relations;
        let total = |local: &str| totals[jd(local).as_str()];
        // 4 articles place the agency once each; the 2 even ones name the
        // campaign at two places, one of them read by two rules.
        assert_eq!(
            total("locatedIn"),
            RelationTotal {
                records: 4,
                articles: 4
            }
        );
        assert_eq!(
            total("participatesIn"),
            RelationTotal {
                records: 4,
                articles: 2
            }
        );
        assert_eq!(totals.len(), 2);
        // Taking more than there is leaves less than nothing: refused.
        assert_eq!(
            total("locatedIn").minus(RelationTotal {
                records: 5,
                articles: 1
            }),
            None
        );
    }

    fn key(metric: &str, reporter: Option<&str>) -> RollupKey {
        (Arc::from(metric), reporter.map(Arc::from))
    }

    #[test]
    fn figures_are_folded_per_metric_and_reporter_exactly() {
        let kn = file("aaaaaaaaaaaaaaaa0000", 1, 60);
        let rollups = knowledge_rollups(&kn);
        // Two metrics, three reporters (none among them).
        assert_eq!(rollups.len(), 6);
        let figures: i64 = rollups.map.values().map(|r| r.figures).sum();
        assert_eq!(figures, 60);
        // drugsSeized with no reporter (i % 3 == 2, i % 5 != 4): i = 2, 5, 8,
        // 11, 17, 20, … ; their values cycle through 0.1, 0.2, 1000, 4100.25
        // and 3 by i % 5, summed exactly.
        let none = &rollups.map[&key("drugsSeized", None)];
        let values = ["0.1", "0.2", "1000", "4100.25", "3"];
        let want = (0..60)
            .filter(|i| i % 3 == 2 && i % 5 != 4)
            .map(|i| Decimal::from_str(values[i % 5]).unwrap())
            .fold(Decimal::from(0), |a, b| a.checked_add(b).unwrap());
        assert_eq!(none.sum, want);
        assert_eq!(none.figures, 16);
        // The earliest start, the latest end and the texts.
        let agency = &rollups.map[&key(
            "drugsSeized",
            Some("https://w3id.org/jindu/id/agency/开鲁县公安局"),
        )];
        assert_eq!(agency.starts.keys().next().unwrap(), "2023-01-01");
        assert_eq!(agency.latest_end.as_deref(), Some("2024-06-10"));
        assert_eq!(agency.texts.len(), 2);
    }

    #[test]
    fn taking_figures_away_keeps_the_latest_end_or_says_it_is_unknown() {
        let figure = |end: Option<&str>, text: Option<&str>| Figure {
            metric: Arc::from("drugsSeized"),
            reporter: None,
            value: Decimal::from(2),
            approximate: false,
            start: None,
            end: end.map(Arc::from),
            text: text.map(Arc::from),
        };
        let mut all = Rollup::default();
        for f in [
            figure(Some("2024-05-01"), Some("今年以来")),
            figure(Some("2024-06-01"), None),
            figure(Some("2024-06-01"), Some("今年以来")),
            figure(None, None),
        ] {
            all.merge(&Rollup::of_figure(&f)).unwrap();
        }
        assert_eq!(
            (all.latest_end.as_deref(), all.at_latest_end),
            (Some("2024-06-01"), 2)
        );
        let mut left = all.clone();
        assert_eq!(
            left.take(&Rollup::of_figure(&figure(Some("2024-06-01"), None))),
            Taken::Done
        );
        assert_eq!(left.at_latest_end, 1);
        assert_eq!(
            left.take(&Rollup::of_figure(&figure(
                Some("2024-06-01"),
                Some("今年以来")
            ))),
            Taken::LatestEndUnknown
        );
        assert_eq!(left.texts["今年以来"], 1);
        let mut left = all.clone();
        assert_eq!(
            left.take(&Rollup::of_figure(&figure(Some("2024-07-01"), None))),
            Taken::Inconsistent
        );
        let mut left = all.clone();
        left.take(&all);
        assert_eq!(left.figures, 0);
        assert_eq!(left, Rollup::default());
    }

    #[test]
    fn the_store_gives_the_rollups_of_the_knowledge_and_reads_them_back() {
        let a = file("aaaaaaaaaaaaaaaa0000", 4, 40);
        let b = file("bbbbbbbbbbbbbbbb0000", 3, 25);
        let store = store_of(&[(&a, "a.txt"), (&b, "b.txt")]);
        let mut expected = knowledge_rollups(&a);
        expected.merge(&knowledge_rollups(&b)).unwrap();
        assert_eq!(store_rollups(&store).unwrap(), expected);
        let a_source = crate::rdf::source_iri_for_hash(&a.sources[0].sha256);
        assert_eq!(
            source_share(&store, a_source.as_ref()).unwrap(),
            knowledge_rollups(&a)
        );
        recount_all(&store).unwrap();
        assert_current(&store, "recounted");
        // A second recount finds every rollup as it is and writes nothing.
        let before: Vec<Quad> = store.iter().map(Result::unwrap).collect();
        recount_all(&store).unwrap();
        let after: Vec<Quad> = store.iter().map(Result::unwrap).collect();
        assert_eq!(before, after);
    }

    #[test]
    fn a_change_moves_the_rollups_by_the_touched_sources_shares() {
        // b's figures end later than a's (articles 0..3 end on 06-10..06-12;
        // b has 6 articles, ending up to 06-15), so that b leaving takes the
        // latest end away.
        let a = file("aaaaaaaaaaaaaaaa0000", 3, 40);
        let b = file("bbbbbbbbbbbbbbbb0000", 6, 25);
        let store = store_of(&[(&a, "a.txt")]);
        recount_all(&store).unwrap();
        let source =
            |kn: &Knowledge| crate::rdf::source_iri_for_hash(&kn.sources[0].sha256).into_string();
        let steps: [(&str, &Knowledge, bool); 4] = [
            // b arrives; a copy of b arrives (no change); b leaves (its copy
            // keeps its statistics); the copy leaves.
            ("b.txt", &b, true),
            ("copy.txt", &b, true),
            ("b.txt", &b, false),
            ("copy.txt", &b, false),
        ];
        for (id, kn, arriving) in steps {
            let mut change = RollupChange::default();
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
            assert!(apply_change(&store, &change).unwrap());
            let when = format!("after {id} {}", if arriving { "arrives" } else { "leaves" });
            assert_current(&store, &when);
        }
        let mut only_a = Rollups::default();
        only_a.merge(&knowledge_rollups(&a)).unwrap();
        assert_eq!(store_rollups(&store).unwrap(), only_a);

        // A change the stored rollups cannot take (emptied by hand) is
        // refused, for the caller to recount.
        let mut change = RollupChange::default();
        change.note(&store, [source(&a).as_str()]).unwrap();
        crate::sync::remove_graphs(&store, &[crate::sync::file_graph("a.txt")]).unwrap();
        replace_all(&store, Rollups::default()).unwrap();
        assert!(!apply_change(&store, &change).unwrap());
    }
}
