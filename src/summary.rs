//! The materialized summary of the relations and entities, kept by the build.
//!
//! In: an Oxigraph store's default graph (provenance records, articles,
//! `jd:mentionedIn`) and the keys a change touched ([`AffectedKeys`],
//! gathered from the store before a removal and after a load); or, during a
//! fresh build, each extracted file's [`Knowledge`]. Out: the named
//! graph `<https://w3id.org/jindu/graph/summary>` brought up to date, and
//! readers for it ([`read_packed`], [`read_relation_counts`], [`read_mentions`],
//! and for the graph loader [`read_node_keys`], [`read_subject_counts`] and
//! [`read_subject_evidence`]).
//!
//! What grows with the text (provenance records, mentions) is what made the
//! graph commands and exports slow: counting or reading it costs a term
//! lookup per record. The summary holds per relation (subject, property,
//! object) its support (distinct supporting articles), its support from
//! articles about drugs, its number of evidence records (all, and from
//! articles about drugs) and copies of its first [`EVIDENCE_KEPT`] evidence
//! records (in the graph's evidence order: file, offsets, article), per
//! entity its number of mentioning articles and its [`node_key`], and per
//! subject its relations' counts in one literal; so readers scan one entry
//! per relation (or per entity) instead of every record. docs/rdf-model.md
//! describes the RDF.
//!
//! A fresh build (no data in the store yet) does not read the store: it
//! hands each file's [`FilePart`] (from its knowledge) to a
//! [`SummaryBuilder`], whose [`BuiltSummary`] goes into the build's bulk
//! load; the few relations it cannot order are [`recount`]ed afterwards.
//!
//! Otherwise every entry is recounted from the store as it is after the change, so two
//! files with identical bytes (which share their articles) still give the
//! counts the aggregates over the records give. Only the affected keys are
//! recounted, unless they are most of the store (a fresh build, `--rebuild`,
//! `jindu load`), when one pass over all records is cheaper.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::rc::Rc;
use std::sync::Arc;

use anyhow::{Context, Result};
use oxigraph::model::vocab::{rdf, xsd};
use oxigraph::model::{
    GraphName, GraphNameRef, Literal, NamedNode, NamedNodeRef, NamedOrBlankNode, Quad, Term,
};
use oxigraph::sparql::QuerySolution;
use oxigraph::store::Store;
use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::graph::{literal_text, select};
use crate::model::{EntityClass, Knowledge, Property};
use crate::rdf::{ID, JD, article_iri, assertion_iri, entity_iri, jd};

/// The named graph holding the summary.
pub const SUMMARY_GRAPH: &str = "https://w3id.org/jindu/graph/summary";

/// Evidence records copied per relation (and again per relation among those
/// from articles about drugs): the default `--evidence-limit` of the viewer.
pub const EVIDENCE_KEPT: usize = 5;

/// The summary's layout, on the graph's IRI as `jd:summaryFormat`: a store
/// whose summary has another (or none) is recounted by the next build that
/// keeps it, and read the slow way until then. 2: each relation also has
/// its counts and kept evidence packed in one `jd:evidencePack`. 3: each
/// entity also has its `jd:nodeKey` ([`node_key`]). 4: each subject of a
/// relation also has its `jd:relationCounts`. 5: and its
/// `jd:relationEvidence`. 6: the statistics rollups ([`crate::rollup`]).
/// 7: the relation totals (same module). 8: the per-agency counts
/// ([`crate::agency_counts`]). A summary of format 2 to 7 is brought to 8
/// by adding what it lacks ([`refresh`]), without recounting the
/// relations, and read as before until then (but for the rollups, totals
/// and agency counts, which only the formats that have them have).
pub const SUMMARY_FORMAT: usize = 8;

/// The first format with the statistics rollups.
const ROLLUPS_SINCE: usize = 6;

/// The first format with the relation totals.
const RELATION_TOTALS_SINCE: usize = 7;

/// The first format with the per-agency counts.
const AGENCY_COUNTS_SINCE: usize = 8;

/// The oldest layout the readers take: format 2 lacks only the node keys
/// and per-subject counts, whose absence the graph loader notices (and
/// reads the IRIs or the entries' counts by relation node instead).
const READABLE_FROM: usize = 2;

const PROV_WAS_DERIVED_FROM: &str = "http://www.w3.org/ns/prov#wasDerivedFrom";

/// Keys recounted one query per this many: large enough to amortise a
/// query, small enough for the planner to look each key up.
const KEYS_PER_QUERY: usize = 256;

/// A relation as (subject IRI, property IRI, object IRI).
pub type RelationKey = (String, String, String);

/// A relation as (subject's [`node_key`], property, object's node key).
pub type KeyedRelation = (i64, Property, i64);

/// The summary entries a change touched.
#[derive(Debug, Default, Clone)]
pub struct AffectedKeys {
    /// Recount everything (a fresh build, a rebuild, a load of external RDF).
    pub all: bool,
    pub relations: BTreeSet<RelationKey>,
    pub entities: BTreeSet<String>,
    /// The sources the change touches, with their shares of the statistics
    /// rollups before it (noted by the caller before the change).
    pub statistics: crate::rollup::RollupChange,
}

impl AffectedKeys {
    pub fn all() -> AffectedKeys {
        AffectedKeys {
            all: true,
            ..Default::default()
        }
    }

    pub fn extend(&mut self, other: AffectedKeys) {
        self.all |= other.all;
        self.relations.extend(other.relations);
        self.entities.extend(other.entities);
        self.statistics.extend(other.statistics);
    }

    fn is_empty(&self) -> bool {
        !self.all
            && self.relations.is_empty()
            && self.entities.is_empty()
            && self.statistics.is_empty()
    }
}

/// The keys the files known by `ids` (their `jd:filePath`) touch in the
/// store as it is now: the relations of the provenance records of their
/// articles and the entities mentioned in them. When the files are half the
/// store or more, everything is recounted instead.
pub fn keys_of_files(store: &Store, ids: &[String]) -> Result<AffectedKeys> {
    if ids.is_empty() {
        return Ok(AffectedKeys::default());
    }
    let files = count(
        store,
        &format!("SELECT (COUNT(*) AS ?n) WHERE {{ ?source <{JD}filePath> ?id }}"),
    )?;
    if ids.len() * 2 >= files {
        return Ok(AffectedKeys::all());
    }
    gather_keys(store, ids)
}

/// Notes in `keys`, before a change, the statistics-rollup shares of the
/// sources of the files known by `ids` (those leaving) and of `sources`
/// (those arriving, by IRI), so that the rollups can be brought up to date
/// after it. Nothing is noted when everything is recounted anyway.
pub fn note_sources(
    store: &Store,
    keys: &mut AffectedKeys,
    ids: &[String],
    sources: &[String],
) -> Result<()> {
    if keys.all {
        return Ok(());
    }
    let leaving = crate::rollup::sources_of_files(store, ids)?;
    keys.statistics
        .note(store, leaving.iter().chain(sources).map(String::as_str))
}

/// The keys the files known by `ids` touch (see [`keys_of_files`]).
fn gather_keys(store: &Store, ids: &[String]) -> Result<AffectedKeys> {
    let mut keys = AffectedKeys::default();
    for chunk in ids.chunks(KEYS_PER_QUERY) {
        let values: Vec<String> = chunk
            .iter()
            .map(|id| Literal::new_simple_literal(id).to_string())
            .collect();
        let articles = format!(
            "VALUES ?id {{ {} }} ?source <{JD}filePath> ?id . ?a <{JD}fromSource> ?source .",
            values.join(" ")
        );
        let relations = format!(
            "SELECT DISTINCT ?s ?p ?o WHERE {{ {articles} \
               ?r <{PROV_WAS_DERIVED_FROM}> ?a ; <{}> ?s ; <{}> ?p ; <{}> ?o }}",
            rdf::SUBJECT.as_str(),
            rdf::PREDICATE.as_str(),
            rdf::OBJECT.as_str()
        );
        for row in select(store, &relations)? {
            let row = row.context("cannot read the store")?;
            if let (Some(s), Some(p), Some(o)) = (iri(&row, "s"), iri(&row, "p"), iri(&row, "o")) {
                keys.relations.insert((s, p, o));
            }
        }
        let entities = format!("SELECT DISTINCT ?e WHERE {{ {articles} ?e <{JD}mentionedIn> ?a }}");
        for row in select(store, &entities)? {
            let row = row.context("cannot read the store")?;
            if let Some(e) = iri(&row, "e") {
                keys.entities.insert(e);
            }
        }
    }
    Ok(keys)
}

/// Brings the summary entries of `keys` in line with the store. Recounts
/// everything when asked to, when the store has no summary yet, or when the
/// keys are a large part of it.
pub fn refresh(store: &Store, mut keys: AffectedKeys) -> Result<()> {
    if upgrade(store)? {
        // The rollups were counted from the store as it is after the change.
        keys.statistics = crate::rollup::RollupChange::default();
    }
    let current = is_current(store)?;
    if keys.is_empty() && current {
        return Ok(());
    }
    let global = keys.all
        || !current
        || keys.relations.len() * 4
            > count(
                store,
                &format!(
                    "SELECT (COUNT(*) AS ?n) FROM <{SUMMARY_GRAPH}> WHERE {{ ?x a <{JD}RelationSummary> }}"
                ),
            )?;
    if global {
        return refresh_all(store);
    }
    refresh_some(store, keys)
}

/// Recounts the entries of `keys`, then the per-subject rows of their
/// relations' subjects, then the node keys.
fn refresh_some(store: &Store, mut keys: AffectedKeys) -> Result<()> {
    let subjects = subjects_of(&keys.relations);
    let agencies = crate::agency_counts::touched(&keys.relations, &keys.entities);
    let statistics = std::mem::take(&mut keys.statistics);
    if !crate::rollup::apply_change(store, &statistics)? {
        eprintln!(
            "jindu: note: the statistics rollups did not agree with the store; they are counted again"
        );
        crate::rollup::recount_all(store)?;
    }
    refresh_keys(store, keys)?;
    update_subject_rows(store, Some(&subjects))?;
    crate::agency_counts::refresh(store, &agencies)?;
    // The entities a change touches include some no article mentions
    // (regions the gazetteer adds as parents): the keys are compared whole.
    sync_node_keys(store)
}

fn subjects_of<'a>(relations: impl IntoIterator<Item = &'a RelationKey>) -> BTreeSet<String> {
    relations.into_iter().map(|(s, _, _)| s.clone()).collect()
}

/// Brings a format-2 to -5 summary (entries and packs as now) to this
/// format by adding what it lacks: below format 5 the node keys and the
/// per-subject rows from the packs (a recount would read every record),
/// below 7 the statistics rollups and relation totals, below 8 the
/// per-agency counts, counted from the store. Returns whether the rollups
/// and totals were counted.
fn upgrade(store: &Store) -> Result<bool> {
    let Some(found) = format(store)? else {
        return Ok(false);
    };
    if !(READABLE_FROM..SUMMARY_FORMAT).contains(&found)
        || evidence_kept(store)? != Some(EVIDENCE_KEPT)
    {
        return Ok(false);
    }
    if found < 5 {
        sync_node_keys(store)?;
        update_subject_rows(store, None)?;
    }
    // (a recount writes only what differs: a format-6 summary's rollups stay)
    let rollups = found < RELATION_TOTALS_SINCE;
    if rollups {
        crate::rollup::recount_all(store)?;
    }
    if found < AGENCY_COUNTS_SINCE {
        crate::agency_counts::recount_all(store)?;
    }
    write_markers(store)?;
    Ok(rollups)
}

/// Replaces the summary's markers with this version's.
fn write_markers(store: &Store) -> Result<()> {
    let graph = summary_graph();
    let mut transaction = store
        .start_transaction()
        .context("cannot start a transaction")?;
    for marker in [jd("evidenceKept"), jd("summaryFormat")] {
        for quad in in_summary(store, graph.as_ref(), Some(marker.as_ref())) {
            transaction.remove(&quad?);
        }
    }
    for quad in marker_quads() {
        transaction.insert(&quad);
    }
    transaction
        .commit()
        .context("cannot commit the summary marker")
}

/// The key of an entity in the summary (`jd:nodeKey`): the first 63 bits
/// of the SHA-256 of its IRI, as an `xsd:integer`. Oxigraph stores such an
/// integer inside the quad (an IRI is a lookup in its string table), so
/// the graph loader reads the relations between entities as pairs of keys
/// and decodes each entity's IRI once instead of once per relation. Keys
/// may collide; the loader checks that they do not among its entities.
pub fn node_key(iri: &str) -> i64 {
    let digest = Sha256::digest(iri.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    (u64::from_be_bytes(first) >> 1) as i64
}

fn node_key_quad(entity: &str, graph: &NamedNode) -> Quad {
    Quad::new(
        NamedNode::new_unchecked(entity),
        jd("nodeKey"),
        Literal::from(node_key(entity)),
        GraphName::NamedNode(graph.clone()),
    )
}

/// Makes the summary's node keys those of the entities the default graph
/// types (one of [`EntityClass::ALL`]): a lookup per entity, not per fact.
pub fn sync_node_keys(store: &Store) -> Result<()> {
    let graph = summary_graph();
    let mut new = Vec::new();
    for class in EntityClass::ALL {
        let query = format!("SELECT ?e WHERE {{ ?e a <{JD}{}> }}", class.name());
        for row in select(store, &query)? {
            if let Some(e) = iri(&row.context("cannot read the store")?, "e") {
                new.push(node_key_quad(&e, &graph));
            }
        }
    }
    let old = summary_quads_of(store, jd("nodeKey").as_ref())?;
    write_difference(store, old, new)
}

/// Every quad of the summary graph with this predicate.
fn summary_quads_of(store: &Store, predicate: NamedNodeRef<'_>) -> Result<Vec<Quad>> {
    let graph = summary_graph();
    store
        .quads_for_pattern(
            None,
            Some(predicate),
            None,
            Some(GraphNameRef::NamedNode(graph.as_ref())),
        )
        .map(|quad| quad.context("cannot read the store"))
        .collect()
}

/// One relation in its subject's `jd:relationCounts`: the property's local
/// name, the object's [`node_key`], the support, the drug support, the
/// evidence count and the drug evidence count.
type CountRow = (String, i64, usize, usize, usize, usize);

/// `counts`: support, drug support, evidence count, drug evidence count.
fn count_row(property: &str, object: &str, counts: [usize; 4]) -> CountRow {
    let [support, drug_support, evidence, drug_evidence] = counts;
    (
        property.strip_prefix(JD).unwrap_or(property).to_string(),
        node_key(object),
        support,
        drug_support,
        evidence,
        drug_evidence,
    )
}

impl RelationSummary {
    fn counts(&self) -> [usize; 4] {
        [
            self.support,
            self.drug_support,
            self.evidence_count,
            self.drug_evidence_count,
        ]
    }
}

/// One relation in its subject's `jd:relationEvidence`: a [`CountRow`]'s
/// fields and the records its pack keeps, as the pack has them.
type EvidenceRow = (String, i64, usize, usize, usize, usize, Vec<PackedEvidence>);

/// The rows of one relation for its subject's two literals.
fn subject_rows(
    property: &str,
    object: &str,
    counts: [usize; 4],
    evidence: Vec<PackedEvidence>,
) -> (CountRow, EvidenceRow) {
    let row = count_row(property, object, counts);
    let evidence = (row.0.clone(), row.1, row.2, row.3, row.4, row.5, evidence);
    (row, evidence)
}

/// One `rdf:JSON` literal of `predicate` per subject of `rows` (subject IRI
/// and row, in any order), its rows sorted.
fn subject_rows_quads<R: Ord + serde::Serialize>(
    rows: impl IntoIterator<Item = (String, R)>,
    predicate: &str,
    graph: &NamedNode,
) -> Vec<Quad> {
    let mut by_subject: BTreeMap<String, Vec<R>> = BTreeMap::new();
    for (subject, row) in rows {
        by_subject.entry(subject).or_default().push(row);
    }
    by_subject
        .into_iter()
        .map(|(subject, rows)| subject_rows_quad(&subject, rows, predicate, graph))
        .collect()
}

fn subject_rows_quad<R: Ord + serde::Serialize>(
    subject: &str,
    mut rows: Vec<R>,
    predicate: &str,
    graph: &NamedNode,
) -> Quad {
    rows.sort();
    let json = serde_json::to_string(&rows).expect("summary rows serialise");
    Quad::new(
        NamedNode::new_unchecked(subject),
        jd(predicate),
        Literal::new_typed_literal(json, NamedNode::new_unchecked(RDF_JSON)),
        GraphName::NamedNode(graph.clone()),
    )
}

/// Subjects whose rows are rewritten per query.
const SUBJECTS_PER_QUERY: usize = 256;

/// The two per-subject literals, in the order [`subject_rows`] gives them.
const SUBJECT_PREDICATES: [&str; 2] = ["relationCounts", "relationEvidence"];

/// Subjects whose rows are rewritten per write: a whole summary's evidence
/// rows (1.2 M relations' records at 1 GB) are never held at once.
const SUBJECTS_PER_WRITE: usize = 2048;

/// Rewrites the `jd:relationCounts` and `jd:relationEvidence` of `subjects`
/// (all when `None`: every subject of an entry, and every subject with
/// rows, whose rows go when it has no entry left) from their relations'
/// packs in the summary, which must be up to date: one term per relation.
fn update_subject_rows(store: &Store, subjects: Option<&BTreeSet<String>>) -> Result<()> {
    let all;
    let subjects: Vec<&String> = match subjects {
        Some(subjects) => subjects.iter().collect(),
        None => {
            let mut queries = vec![format!(
                "SELECT DISTINCT ?s FROM <{SUMMARY_GRAPH}> WHERE {{ ?x <{}> ?s }}",
                rdf::SUBJECT.as_str()
            )];
            for predicate in SUBJECT_PREDICATES {
                // (only ?s is decoded: the rows are not read)
                queries.push(format!(
                    "SELECT ?s FROM <{SUMMARY_GRAPH}> WHERE {{ ?s <{JD}{predicate}> ?rows }}"
                ));
            }
            let mut found = BTreeSet::new();
            for query in queries {
                for row in select(store, &query)? {
                    if let Some(s) = iri(&row.context("cannot read the store")?, "s") {
                        found.insert(s);
                    }
                }
            }
            all = found;
            all.iter().collect()
        }
    };
    for batch in subjects.chunks(SUBJECTS_PER_WRITE) {
        rewrite_subject_rows(store, batch)?;
    }
    Ok(())
}

/// [`update_subject_rows`] for one batch of subjects.
fn rewrite_subject_rows(store: &Store, subjects: &[&String]) -> Result<()> {
    let graph = summary_graph();
    let mut old = Vec::new();
    let mut packs = Vec::new();
    for chunk in subjects.chunks(SUBJECTS_PER_QUERY) {
        let mut values = Vec::with_capacity(chunk.len());
        for subject in chunk {
            values.push(term(subject)?);
            let node = NamedNode::new_unchecked(subject.as_str());
            for predicate in SUBJECT_PREDICATES {
                for quad in in_summary(store, node.as_ref(), Some(jd(predicate).as_ref())) {
                    old.push(quad?);
                }
            }
        }
        let pattern = format!(
            "VALUES ?s {{ {} }} ?x <{}> ?s . ",
            values.join(" "),
            rdf::SUBJECT.as_str()
        );
        packs.extend(read_packs(store, &pattern)?);
    }
    let mut counts = Vec::with_capacity(packs.len());
    let mut evidence = Vec::with_capacity(packs.len());
    for packed in packs {
        let (c, e) = subject_rows(
            &packed.predicate,
            &packed.object,
            [
                packed.support,
                packed.drug_support,
                packed.evidence_count,
                packed.drug_evidence_count,
            ],
            packed.evidence,
        );
        counts.push((packed.subject.clone(), c));
        evidence.push((packed.subject, e));
    }
    let [c, e] = SUBJECT_PREDICATES;
    let mut new = subject_rows_quads(counts, c, &graph);
    new.extend(subject_rows_quads(evidence, e, &graph));
    write_difference(store, old, new)
}

/// Every subject's rows of `predicate` (one lookup per subject), each
/// taken by `take` as it is read, or `None` when they do not hold as many
/// relations as the summary has entries (a summary written before them,
/// or damaged).
fn read_subject_rows<R: serde::de::DeserializeOwned>(
    store: &Store,
    predicate: &str,
    mut take: impl FnMut(&str, R),
) -> Result<Option<()>> {
    let query = format!("SELECT ?s ?c FROM <{SUMMARY_GRAPH}> WHERE {{ ?s <{JD}{predicate}> ?c }}");
    let mut entries = 0;
    for row in select(store, &query)? {
        let row = row.context("cannot read the store")?;
        let (Some(s), Some(Term::Literal(c))) = (iri(&row, "s"), row.get("c")) else {
            continue;
        };
        let rows: Vec<R> = json_of(c.value(), format_args!("jd:{predicate}"))?;
        entries += rows.len();
        for r in rows {
            take(&s, r);
        }
    }
    let relations = count(
        store,
        &format!(
            "SELECT (COUNT(*) AS ?n) FROM <{SUMMARY_GRAPH}> WHERE {{ ?x a <{JD}RelationSummary> }}"
        ),
    )?;
    Ok((entries == relations).then_some(()))
}

/// One relation as the per-subject readers give it: subject IRI, property,
/// the object's [`node_key`] and the summary.
pub type SubjectRow<'a> = (&'a str, Property, i64, RelationSummary);

/// The counts of every relation in the summary from the subjects'
/// `jd:relationCounts`, each handed to `take` as it is read (nothing is
/// collected): one lookup per subject instead of a hash join of every
/// relation with its keys and counts. False when the rows do not cover
/// every entry ([`read_relation_counts`] then serves; `take` has seen
/// some).
pub fn read_subject_counts(store: &Store, take: impl FnMut(SubjectRow<'_>)) -> Result<bool> {
    let as_row = |(p, o, n, nd, ne, nde): CountRow| (p, o, n, nd, ne, nde, Vec::new());
    read_subject_summaries(store, "relationCounts", as_row, 0, false, take)
}

/// As [`read_packed`], from the subjects' `jd:relationEvidence`, handed to
/// `take` as [`read_subject_counts`] does: one lookup per subject, not per
/// relation (on a store larger than memory the per-relation packs are a
/// random disk read each). False when the rows are incomplete.
pub fn read_subject_evidence(
    store: &Store,
    limit: usize,
    drug_only: bool,
    take: impl FnMut(SubjectRow<'_>),
) -> Result<bool> {
    let as_row = |row: EvidenceRow| row;
    read_subject_summaries(store, "relationEvidence", as_row, limit, drug_only, take)
}

/// The rows of `predicate` (read as `R`, made [`EvidenceRow`]s by `as_row`)
/// as relation summaries keeping the records up to `limit` (see
/// [`kept_of`]), handed to `take`; false when incomplete.
fn read_subject_summaries<R: serde::de::DeserializeOwned>(
    store: &Store,
    predicate: &str,
    as_row: impl Fn(R) -> EvidenceRow,
    limit: usize,
    drug_only: bool,
    mut take: impl FnMut(SubjectRow<'_>),
) -> Result<bool> {
    let by_name = property_by_name();
    let complete = read_subject_rows(store, predicate, |s, row: R| {
        let (p, o, n, nd, ne, nde, evidence) = as_row(row);
        if let Some(&property) = by_name.get(p.as_str()) {
            let summary = RelationSummary::kept([n, nd, ne, nde], evidence, limit, drug_only);
            take((s, property, o, summary));
        }
    })?;
    Ok(complete.is_some())
}

/// One subject's relation summaries by property and object key.
pub type SubjectEvidence = HashMap<(Property, i64), RelationSummary>;

/// One subject's relations from its `jd:relationEvidence` (one lookup),
/// by property and the object's [`node_key`], with the records kept up to
/// `limit` as [`read_subject_evidence`] keeps them: what an export reads
/// while it writes that subject's edges, instead of holding every edge's
/// records from the load on. Empty when the subject has no rows.
pub fn subject_evidence(
    store: &Store,
    subject: &str,
    limit: usize,
    drug_only: bool,
) -> Result<SubjectEvidence> {
    let by_name = property_by_name();
    let mut out = HashMap::new();
    let subject = NamedNodeRef::new(subject).with_context(|| format!("bad IRI {subject}"))?;
    let predicate = jd("relationEvidence");
    for quad in in_summary(store, subject, Some(predicate.as_ref())) {
        let Term::Literal(rows) = quad?.object else {
            continue;
        };
        let rows: Vec<EvidenceRow> = json_of(
            rows.value(),
            format_args!("jd:relationEvidence of {subject}"),
        )?;
        for (p, o, n, nd, ne, nde, evidence) in rows {
            if let Some(&property) = by_name.get(p.as_str()) {
                let summary = RelationSummary::kept([n, nd, ne, nde], evidence, limit, drug_only);
                out.insert((property, o), summary);
            }
        }
    }
    Ok(out)
}

/// One relation's summary from its pack (one lookup), with the records
/// kept as [`read_packed`] keeps them; `None` when the summary has no
/// entry for it.
pub fn relation_evidence(
    store: &Store,
    (subject, property, object): (&str, &str, &str),
    limit: usize,
    drug_only: bool,
) -> Result<Option<RelationSummary>> {
    let node = relation_iri(subject, property, object);
    let predicate = jd("evidencePack");
    let Some(quad) = in_summary(store, node.as_ref(), Some(predicate.as_ref())).next() else {
        return Ok(None);
    };
    let Term::Literal(pack) = quad?.object else {
        return Ok(None);
    };
    let packed: PackedRelation = json_of(pack.value(), "jd:evidencePack")?;
    Ok(Some(RelationSummary::of_pack(packed, limit, drug_only).1))
}

/// A JSON literal of the summary (`what` names it) read as `R`; the error
/// quotes its start.
fn json_of<R: serde::de::DeserializeOwned>(value: &str, what: impl std::fmt::Display) -> Result<R> {
    serde_json::from_str(value).with_context(|| {
        let start: String = value.chars().take(120).collect();
        format!("bad {what} in the summary graph: {start}")
    })
}

fn property_by_name() -> HashMap<&'static str, Property> {
    Property::ALL.iter().map(|p| (p.name(), *p)).collect()
}

/// Every `jd:nodeKey` of the summary, by entity IRI.
pub fn read_node_keys(store: &Store) -> Result<Vec<(String, i64)>> {
    let query = format!("SELECT ?e ?k FROM <{SUMMARY_GRAPH}> WHERE {{ ?e <{JD}nodeKey> ?k }}");
    let mut out = Vec::new();
    for row in select(store, &query)? {
        let row = row.context("cannot read the store")?;
        if let (Some(e), Some(k)) = (iri(&row, "e"), crate::graph::integer_of(&row, "k")) {
            out.push((e, k));
        }
    }
    Ok(out)
}

/// Recounts the summary entries of `keys` one by one (the store must hold a
/// summary already).
fn refresh_keys(store: &Store, keys: AffectedKeys) -> Result<()> {
    let relations: Vec<RelationKey> = keys.relations.into_iter().collect();
    let summaries = summarize_relations(store, Some(&relations))?;
    let entities: Vec<String> = keys.entities.into_iter().collect();
    let mentions = count_mentions(store, Some(&entities))?;
    let graph = summary_graph();
    let mut old = Vec::new();
    for (s, p, o) in &relations {
        let node = relation_iri(s, p, o);
        for quad in in_summary(store, node.as_ref(), None) {
            let quad = quad?;
            if quad.predicate == jd("evidence") {
                if let Term::NamedNode(record) = &quad.object {
                    for q in in_summary(store, record.as_ref(), None) {
                        old.push(q?);
                    }
                }
            }
            old.push(quad);
        }
    }
    let mention_count = jd("mentionCount");
    for entity in &entities {
        let node = NamedNode::new(entity.clone()).with_context(|| format!("bad IRI {entity}"))?;
        for quad in in_summary(store, node.as_ref(), Some(mention_count.as_ref())) {
            old.push(quad?);
        }
    }
    let mut new = relation_quads(&summaries, &graph);
    new.extend(mention_quads(&mentions, &graph));
    write_difference(store, old, new)
}

/// Replaces the summary quads `old` with `new`, writing only the difference.
pub(crate) fn write_difference(store: &Store, old: Vec<Quad>, new: Vec<Quad>) -> Result<()> {
    let old: HashSet<Quad> = old.into_iter().collect();
    let mut transaction = store
        .start_transaction()
        .context("cannot start a transaction")?;
    let kept: HashSet<&Quad> = new.iter().filter(|q| old.contains(q)).collect();
    for quad in old.iter().filter(|q| !kept.contains(q)) {
        transaction.remove(quad);
    }
    let added: Vec<Quad> = new.iter().filter(|q| !old.contains(q)).cloned().collect();
    if added.len() < BULK_WRITE_FROM {
        for quad in &added {
            transaction.insert(quad);
        }
        transaction
            .commit()
            .context("cannot commit the summary update")?;
    } else {
        transaction
            .commit()
            .context("cannot commit the summary update")?;
        // Through a transaction, large writes pile up in RocksDB's write
        // buffers (over 2 GB of memory recounting a 100 MB corpus); the
        // bulk loader writes sorted files instead.
        let mut loader = store.bulk_loader();
        loader
            .load_quads(added)
            .context("cannot write the summary")?;
        loader.commit().context("cannot commit the summary")?;
    }
    Ok(())
}

/// Summary quads written through the bulk loader from this many on.
const BULK_WRITE_FROM: usize = 10_000;

/// Keys recounted per transaction when the whole summary is recounted:
/// bounds the memory of a recount whatever the size of the store.
const KEYS_PER_BATCH: usize = 8192;

/// Recomputes the whole summary graph from the store, a batch of keys at a
/// time: every asserted relation and every entity, and every key the
/// summary already holds (so that entries of facts that are gone go too).
/// (Counting all provenance records in one query held them all in memory:
/// 3.6 GB and more for the 1.8 M records of a 100 MB corpus.)
pub fn refresh_all(store: &Store) -> Result<()> {
    let default = Some(GraphNameRef::DefaultGraph);
    let mut relations: BTreeSet<RelationKey> = BTreeSet::new();
    for property in Property::ALL {
        let p = jd(property.name());
        for quad in store.quads_for_pattern(None, Some(p.as_ref()), None, default) {
            let quad = quad.context("cannot read the store")?;
            if let (NamedOrBlankNode::NamedNode(s), Term::NamedNode(o)) =
                (&quad.subject, &quad.object)
            {
                relations.insert((
                    s.as_str().to_string(),
                    p.as_str().to_string(),
                    o.as_str().to_string(),
                ));
            }
        }
    }
    let mut entities: BTreeSet<String> = BTreeSet::new();
    for class in EntityClass::ALL {
        let c = jd(class.name());
        for quad in store.quads_for_pattern(None, Some(rdf::TYPE), Some(c.as_ref().into()), default)
        {
            if let NamedOrBlankNode::NamedNode(e) = quad.context("cannot read the store")?.subject {
                entities.insert(e.into_string());
            }
        }
    }
    let kept = evidence_kept(store)?;
    if kept.is_some() {
        relations.extend(read_relations(store)?.into_iter().map(|(key, _)| key));
        entities.extend(read_mentions(store)?.into_iter().map(|(e, _)| e));
    }
    if !is_current(store)? {
        write_markers(store)?;
    }
    let relations: Vec<RelationKey> = relations.into_iter().collect();
    let entities: Vec<String> = entities.into_iter().collect();
    let batches = relations.len().max(entities.len()).div_ceil(KEYS_PER_BATCH);
    for i in 0..batches {
        let range = |n: usize| (i * KEYS_PER_BATCH).min(n)..((i + 1) * KEYS_PER_BATCH).min(n);
        refresh_keys(
            store,
            AffectedKeys {
                all: false,
                relations: relations[range(relations.len())].iter().cloned().collect(),
                entities: entities[range(entities.len())].iter().cloned().collect(),
                ..Default::default()
            },
        )?;
    }
    update_subject_rows(store, None)?;
    sync_node_keys(store)?;
    crate::agency_counts::recount_all(store)?;
    crate::rollup::recount_all(store)
}

/// The whole summary in one pass over every record (the reference the
/// batched recount is tested against; it holds every record in memory).
#[cfg(test)]
pub(crate) fn refresh_all_at_once(store: &Store) -> Result<()> {
    let summaries = summarize_relations(store, None)?;
    let mentions = count_mentions(store, None)?;
    let graph = summary_graph();
    let mut quads = marker_quads();
    quads.extend(relation_quads(&summaries, &graph));
    quads.extend(mention_quads(&mentions, &graph));
    quads.extend(crate::rollup::store_rollups(store)?.into_quads());
    quads.extend(crate::agency_counts::store_quads(store)?);
    let (counts, evidence): (Vec<_>, Vec<_>) = summaries
        .iter()
        .map(|((s, p, o), summary)| {
            let (c, e) = subject_rows(p, o, summary.counts(), packed_evidence(&summary.kept));
            ((s.clone(), c), (s.clone(), e))
        })
        .unzip();
    let [c, e] = SUBJECT_PREDICATES;
    quads.extend(subject_rows_quads(counts, c, &graph));
    quads.extend(subject_rows_quads(evidence, e, &graph));
    for class in EntityClass::ALL {
        let c = jd(class.name());
        for quad in store.quads_for_pattern(
            None,
            Some(rdf::TYPE),
            Some(c.as_ref().into()),
            Some(GraphNameRef::DefaultGraph),
        ) {
            if let NamedOrBlankNode::NamedNode(e) = quad.context("cannot read the store")?.subject {
                quads.push(node_key_quad(e.as_str(), &graph));
            }
        }
    }
    // Only the difference is written: Oxigraph's clear_graph rereads the
    // graph from its start after each batch of deletions, which grows with
    // the square of the graph's size, and an unchanged entry costs nothing.
    let mut old: HashSet<Quad> = HashSet::new();
    for quad in store.quads_for_pattern(
        None,
        None,
        None,
        Some(GraphNameRef::NamedNode(graph.as_ref())),
    ) {
        old.insert(quad.context("cannot read the store")?);
    }
    let added: Vec<Quad> = if old.is_empty() {
        quads
    } else {
        let new: HashSet<&Quad> = quads.iter().collect();
        let mut transaction = store
            .start_transaction()
            .context("cannot start a transaction")?;
        for quad in old.iter().filter(|q| !new.contains(q)) {
            transaction.remove(quad);
        }
        transaction
            .commit()
            .context("cannot commit the summary update")?;
        quads.into_iter().filter(|q| !old.contains(q)).collect()
    };
    // The bulk loader writes large sets much faster than a transaction.
    let mut loader = store.bulk_loader();
    loader
        .load_quads(added)
        .context("cannot write the summary")?;
    loader.commit().context("cannot commit the summary")?;
    Ok(())
}

/// One file's share of the summary, computed on the worker thread that
/// extracted it (from its [`Knowledge`], the same facts its quads state), so
/// that a fresh build fills the summary without reading the store back.
pub struct FilePart {
    /// The `jd:sourceFile` of its articles; `None` when the knowledge is not
    /// one file's (then the build recounts the summary from the store).
    name: Option<String>,
    /// The content key its article IRIs are minted from: files with
    /// identical bytes share their articles.
    key: String,
    articles: Vec<(String, bool)>,
    relations: Vec<(RelationKey, PartRelation)>,
    mentions: Vec<(String, usize)>,
    /// Every entity the file's quads type (they get node keys).
    entities: Vec<String>,
    /// Its statistics folded per metric and reporter.
    rollups: crate::rollup::Rollups,
}

struct PartRelation {
    support: usize,
    drug_support: usize,
    /// The relation's records in this file, in evidence order.
    records: Vec<PartRecord>,
    /// Two records share an IRI but differ in sentence or rule: which one
    /// the store shows depends on its index order, so the relation is
    /// recounted from the store.
    ambiguous: bool,
}

struct PartRecord {
    start: usize,
    end: usize,
    /// Index into [`FilePart::articles`].
    article: usize,
    /// IRI, sentence and rule, only for the records among the file's first
    /// [`EVIDENCE_KEPT`] (or first among those from articles about drugs):
    /// no record further down can be among the corpus's first.
    text: Option<Box<(String, String, String)>>,
}

impl FilePart {
    pub fn of(kn: &Knowledge) -> FilePart {
        let name = match kn.sources.as_slice() {
            [source] => Some(source.name.clone()),
            _ => None,
        };
        let key = kn
            .sources
            .first()
            .map(|s| s.key().to_string())
            .unwrap_or_default();
        let articles: Vec<(String, bool)> = (0..kn.articles.len())
            .map(|i| (article_iri(kn, i).into_string(), kn.articles[i].about_drugs))
            .collect();
        let mut relations = Vec::with_capacity(kn.relations.len());
        for relation in kn.relations.values() {
            if relation.evidence.is_empty() {
                continue;
            }
            let s = entity_iri(&relation.key.subject);
            let p = jd(relation.key.property.name());
            let o = entity_iri(&relation.key.object);
            let mut order: Vec<&crate::model::Evidence> = relation.evidence.iter().collect();
            order.sort_by(|a, b| {
                (a.char_start, a.char_end, articles[a.article].0.as_str()).cmp(&(
                    b.char_start,
                    b.char_end,
                    articles[b.article].0.as_str(),
                ))
            });
            let mut ambiguous = false;
            // Equal offsets and article make the same record IRI.
            order.dedup_by(|b, a| {
                let same =
                    (a.char_start, a.char_end, a.article) == (b.char_start, b.char_end, b.article);
                ambiguous |= same;
                same
            });
            let mut distinct = HashSet::new();
            let mut drug_distinct = HashSet::new();
            let mut drug_rank = 0;
            let mut records = Vec::with_capacity(order.len());
            for (i, ev) in order.iter().enumerate() {
                let (article, drug) = &articles[ev.article];
                distinct.insert(article.as_str());
                if *drug {
                    drug_distinct.insert(article.as_str());
                    drug_rank += 1;
                }
                let kept = i < EVIDENCE_KEPT || (*drug && drug_rank <= EVIDENCE_KEPT);
                let text = kept.then(|| {
                    let article = NamedNode::new_unchecked(article.as_str());
                    let record = assertion_iri(&s, &p, &o, &article, ev.char_start, ev.char_end);
                    Box::new((
                        record.into_string(),
                        ev.sentence.to_string(),
                        ev.rule.to_string(),
                    ))
                });
                records.push(PartRecord {
                    start: ev.char_start,
                    end: ev.char_end,
                    article: ev.article,
                    text,
                });
            }
            relations.push((
                (s.into_string(), p.as_str().to_string(), o.into_string()),
                PartRelation {
                    support: distinct.len(),
                    drug_support: drug_distinct.len(),
                    records,
                    ambiguous,
                },
            ));
        }
        let mut mentions = Vec::new();
        let mut entities = Vec::with_capacity(kn.entities.len());
        for entity in kn.entities.values() {
            let iri = entity_iri(&entity.id).into_string();
            let distinct: HashSet<&str> = entity
                .mentioned_in
                .iter()
                .map(|&a| articles[a].0.as_str())
                .collect();
            if !distinct.is_empty() {
                mentions.push((iri.clone(), distinct.len()));
            }
            entities.push(iri);
        }
        FilePart {
            name,
            key,
            articles,
            relations,
            mentions,
            entities,
            rollups: crate::rollup::knowledge_rollups(kn),
        }
    }
}

/// The summary of a fresh build, aggregated from the files' [`FilePart`]s
/// as they are extracted: what it holds is bounded by the number of
/// distinct relations and entities (plus the parts of the few files that
/// arrive ahead of their turn), not by the text.
///
/// Evidence order starts with the file name, so the parts are merged in the
/// order of their files' names (the build extracts in that order; parts
/// that arrive early wait for their turn): each record's rank is then the
/// number of the relation's records merged before it, and only the kept
/// ones are held. Files with the same name are merged together.
#[derive(Default)]
pub struct SummaryBuilder {
    /// The position in name order of the next part to merge.
    next: usize,
    waiting: BTreeMap<usize, Option<FilePart>>,
    /// The parts of the files named like the last one merged.
    group: Vec<FilePart>,
    /// Content keys merged, with the file name they were merged under.
    seen: HashMap<String, String>,
    /// Keyed by interned IRIs: the entities recur across relations, and
    /// the map is the one part of the builder that grows with the corpus.
    relations: HashMap<SharedKey, Aggregate>,
    names: HashSet<Arc<str>>,
    mentions: HashMap<String, usize>,
    /// Every entity of the parts (for the node keys).
    entities: HashSet<String>,
    /// The statistics rollups of the parts (each content once).
    rollups: crate::rollup::Rollups,
    /// The kept records, written out as they are decided: held in memory
    /// they grew with the number of relations (about 1.6 KB each, 300 MB
    /// at 100 MB of text), the one part of the build that did.
    spill: Option<Spill>,
    /// Relations whose evidence order the parts cannot tell (a file with
    /// the same bytes as another under another name: their shared articles
    /// show one of the two names, by the store's index order); recounted
    /// from the store after the load.
    dirty: HashSet<RelationKey>,
    /// The parts did not come in name order (or a part was not one file's):
    /// the summary is recounted from the store instead.
    broken: bool,
}

/// A [`RelationKey`] whose IRIs are shared with the other keys naming them.
type SharedKey = (Arc<str>, Arc<str>, Arc<str>);

/// The shared copy of `name` (made on first use).
fn intern(names: &mut HashSet<Arc<str>>, name: &str) -> Arc<str> {
    if let Some(shared) = names.get(name) {
        return shared.clone();
    }
    let shared: Arc<str> = Arc::from(name);
    names.insert(shared.clone());
    shared
}

/// A relation's counts while the parts are merged, and where its kept
/// records are in the [`Spill`].
#[derive(Default)]
struct Aggregate {
    support: usize,
    drug_support: usize,
    evidence_count: usize,
    drug_evidence_count: usize,
    kept: Vec<(u64, u32)>,
}

impl Aggregate {
    fn counts(&self) -> [usize; 4] {
        [
            self.support,
            self.drug_support,
            self.evidence_count,
            self.drug_evidence_count,
        ]
    }
}

/// An unnamed temporary file of kept records (JSON, one after another),
/// read back by offset when the summary's quads are made.
struct Spill {
    writer: std::io::BufWriter<std::fs::File>,
    len: u64,
}

impl Spill {
    /// A file in the temporary folder (`TMPDIR`), unlinked at once so that
    /// nothing is left behind whatever happens to the build.
    fn create() -> std::io::Result<Spill> {
        static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("jindu-summary-{}-{n}.spill", std::process::id()));
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)?;
        // On Unix the open file outlives its name; elsewhere the removal
        // fails while it is open and the file is left to the system.
        let _ = std::fs::remove_file(&path);
        Ok(Spill {
            writer: std::io::BufWriter::with_capacity(1 << 20, file),
            len: 0,
        })
    }

    fn write(&mut self, record: &KeptEvidence) -> std::io::Result<(u64, u32)> {
        use std::io::Write;
        let bytes = serde_json::to_vec(record).map_err(std::io::Error::other)?;
        let at = self.len;
        self.writer.write_all(&bytes)?;
        self.len += bytes.len() as u64;
        Ok((at, bytes.len() as u32))
    }

    fn into_reader(self) -> std::io::Result<SpillReader> {
        Ok(SpillReader {
            file: self.writer.into_inner().map_err(|e| e.into_error())?,
        })
    }
}

struct SpillReader {
    file: std::fs::File,
}

impl SpillReader {
    fn read(&mut self, (at, len): (u64, u32)) -> std::io::Result<KeptEvidence> {
        use std::io::{Read, Seek, SeekFrom};
        let mut bytes = vec![0; len as usize];
        self.file.seek(SeekFrom::Start(at))?;
        self.file.read_exact(&mut bytes)?;
        serde_json::from_slice(&bytes).map_err(std::io::Error::other)
    }
}

impl SummaryBuilder {
    pub fn new() -> SummaryBuilder {
        SummaryBuilder::default()
    }

    /// Takes the part of the file at `position` in name order (`None` for a
    /// file that could not be extracted).
    pub fn add(&mut self, position: usize, part: Option<FilePart>) {
        self.waiting.insert(position, part);
        while let Some(part) = self.waiting.remove(&self.next) {
            self.next += 1;
            if let Some(part) = part {
                self.merge(part);
            }
        }
    }

    fn merge(&mut self, part: FilePart) {
        let Some(name) = &part.name else {
            self.broken = true;
            return;
        };
        if let Some(last) = self.group.first().and_then(|p| p.name.as_ref()) {
            if name < last {
                self.broken = true;
            }
            if name != last {
                self.flush();
            }
        }
        if !self.broken {
            self.group.push(part);
        }
    }

    /// Merges the group of parts of one file name.
    fn flush(&mut self) {
        let group = std::mem::take(&mut self.group);
        let mut parts = Vec::with_capacity(group.len());
        for part in &group {
            let name = part.name.clone().unwrap_or_default();
            match self.seen.get(&part.key) {
                Some(first) => {
                    // Identical bytes: its articles and facts are those
                    // merged already; only the name they show may change.
                    if *first != name {
                        self.dirty
                            .extend(part.relations.iter().map(|(key, _)| key.clone()));
                    }
                    continue;
                }
                None => {
                    self.seen.insert(part.key.clone(), name);
                }
            }
            for (e, n) in &part.mentions {
                *self.mentions.entry(e.clone()).or_default() += n;
            }
            for e in &part.entities {
                if !self.entities.contains(e) {
                    self.entities.insert(e.clone());
                }
            }
            if let Err(e) = self.rollups.merge(&part.rollups) {
                eprintln!("jindu: note: {e:#}; the summary is counted from the store instead");
                self.broken = true;
                return;
            }
            parts.push(part);
        }
        // The group's records per relation, from every part.
        let mut records: BTreeMap<&RelationKey, Vec<(&FilePart, &PartRelation)>> = BTreeMap::new();
        for part in parts {
            for (key, relation) in &part.relations {
                if relation.ambiguous {
                    self.dirty.insert(key.clone());
                }
                records.entry(key).or_default().push((part, relation));
            }
        }
        for (key, from) in records {
            let shared = (
                intern(&mut self.names, &key.0),
                intern(&mut self.names, &key.1),
                intern(&mut self.names, &key.2),
            );
            let summary = self.relations.entry(shared).or_default();
            let mut rows: Vec<(&FilePart, &PartRecord)> = Vec::new();
            for (part, relation) in &from {
                summary.support += relation.support;
                summary.drug_support += relation.drug_support;
                rows.extend(relation.records.iter().map(|r| (*part, r)));
            }
            if from.len() > 1 {
                rows.sort_by(|(pa, a), (pb, b)| {
                    (a.start, a.end, pa.articles[a.article].0.as_str()).cmp(&(
                        b.start,
                        b.end,
                        pb.articles[b.article].0.as_str(),
                    ))
                });
            }
            for (part, r) in rows {
                let (article, drug) = &part.articles[r.article];
                summary.evidence_count += 1;
                let rank = summary.evidence_count;
                let drug_rank = drug.then(|| {
                    summary.drug_evidence_count += 1;
                    summary.drug_evidence_count
                });
                if rank > EVIDENCE_KEPT && drug_rank.is_none_or(|d| d > EVIDENCE_KEPT) {
                    continue;
                }
                let Some(text) = &r.text else {
                    // Cannot happen (a record kept here is among its
                    // file's first); recount rather than guess.
                    self.dirty.insert(key.clone());
                    continue;
                };
                let kept = KeptEvidence {
                    record: text.0.clone(),
                    file: part.name.clone().unwrap_or_default(),
                    start: r.start,
                    end: r.end,
                    article: article.clone(),
                    sentence: text.1.clone(),
                    rule: text.2.clone(),
                    rank,
                    drug_rank,
                };
                if self.spill.is_none() {
                    match Spill::create() {
                        Ok(spill) => self.spill = Some(spill),
                        Err(e) => {
                            eprintln!(
                                "jindu: note: cannot create a temporary file ({e}); the summary is counted from the store instead"
                            );
                            self.broken = true;
                            return;
                        }
                    }
                }
                let Some(spill) = self.spill.as_mut() else {
                    return;
                };
                match spill.write(&kept) {
                    Ok(at) => summary.kept.push(at),
                    Err(e) => {
                        eprintln!(
                            "jindu: note: cannot write a temporary file ({e}); the summary is counted from the store instead"
                        );
                        self.broken = true;
                        return;
                    }
                }
            }
        }
    }

    /// The aggregated summary, or `None` when it has to be recounted from
    /// the store (`SummaryBuilder::broken`).
    pub fn finish(mut self) -> Option<BuiltSummary> {
        if !self.waiting.is_empty() {
            self.broken = true;
        }
        self.flush();
        if self.broken {
            return None;
        }
        let spill = match self.spill.map(Spill::into_reader).transpose() {
            Ok(spill) => spill,
            Err(e) => {
                eprintln!(
                    "jindu: note: cannot write a temporary file ({e}); the summary is counted from the store instead"
                );
                return None;
            }
        };
        let mut relations = BTreeMap::new();
        for ((s, p, o), summary) in self.relations {
            let key = (s.to_string(), p.to_string(), o.to_string());
            if !self.dirty.contains(&key) {
                relations.insert((s, p, o), summary);
            }
        }
        Some(BuiltSummary {
            relations,
            mentions: self.mentions.into_iter().collect(),
            entities: self.entities.into_iter().collect(),
            rollups: self.rollups,
            dirty: self.dirty.into_iter().collect(),
            spill,
        })
    }
}

/// A summary aggregated by a [`SummaryBuilder`].
pub struct BuiltSummary {
    relations: BTreeMap<SharedKey, Aggregate>,
    mentions: BTreeMap<String, usize>,
    entities: BTreeSet<String>,
    rollups: crate::rollup::Rollups,
    /// Relations left to recount from the store.
    dirty: BTreeSet<RelationKey>,
    /// The kept records (none when no relation kept any).
    spill: Option<SpillReader>,
}

impl BuiltSummary {
    /// The summary's quads (made as they are loaded, so that they are not
    /// all held at once), and the relations left to [`recount`]: those the
    /// parts could not order, and any whose kept records could not be read
    /// back (added while the quads are made, so read it after them).
    pub fn into_quads(self) -> (impl Iterator<Item = Quad>, Rc<RefCell<Vec<RelationKey>>>) {
        let graph = summary_graph();
        let g = graph.clone();
        let [counts_predicate, evidence_predicate] = SUBJECT_PREDICATES;
        let counts = subject_rows_quads(
            self.relations
                .iter()
                .map(|((s, p, o), agg)| (s.to_string(), count_row(p, o, agg.counts()))),
            counts_predicate,
            &graph,
        );
        let left = Rc::new(RefCell::new(self.dirty.into_iter().collect::<Vec<_>>()));
        let unreadable = left.clone();
        let mut spill = self.spill;
        // The subjects' evidence rows are made as the relations go by, in
        // subject order: one subject's rows are held at a time.
        let pending: Rc<RefCell<(String, Vec<EvidenceRow>)>> = Rc::default();
        let last_pending = pending.clone();
        let (evidence_graph, last_graph) = (graph.clone(), graph.clone());
        let relations = self
            .relations
            .into_iter()
            .flat_map(move |((s, p, o), agg)| {
                let key = (s.to_string(), p.to_string(), o.to_string());
                let mut out = Vec::new();
                let mut pending = pending.borrow_mut();
                if pending.0 != key.0 {
                    let (subject, rows) =
                        std::mem::replace(&mut *pending, (key.0.clone(), Vec::new()));
                    if !rows.is_empty() {
                        out.push(subject_rows_quad(
                            &subject,
                            rows,
                            evidence_predicate,
                            &evidence_graph,
                        ));
                    }
                }
                let mut kept = Vec::with_capacity(agg.kept.len());
                for &at in &agg.kept {
                    match spill.as_mut().map(|spill| spill.read(at)) {
                        Some(Ok(record)) => kept.push(record),
                        _ => {
                            // Its entry (and its row in its subject's
                            // evidence) is left out here and recounted
                            // from the store after the load.
                            unreadable.borrow_mut().push(key);
                            return out;
                        }
                    }
                }
                let summary = RelationSummary {
                    support: agg.support,
                    drug_support: agg.drug_support,
                    evidence_count: agg.evidence_count,
                    drug_evidence_count: agg.drug_evidence_count,
                    kept,
                };
                let (_, row) = subject_rows(
                    &key.1,
                    &key.2,
                    summary.counts(),
                    packed_evidence(&summary.kept),
                );
                pending.1.push(row);
                out.extend(relation_entry_quads(&key, &summary, &g));
                out
            });
        let last_evidence = std::iter::once_with(move || {
            let (subject, rows) = std::mem::take(&mut *last_pending.borrow_mut());
            (!rows.is_empty())
                .then(|| subject_rows_quad(&subject, rows, evidence_predicate, &last_graph))
        })
        .flatten();
        let key_graph = graph.clone();
        let mentions = self
            .mentions
            .into_iter()
            .map(move |(e, n)| mention_quad(&e, n, &graph));
        let rollups = self.rollups.into_quads();
        let keys = self
            .entities
            .into_iter()
            .map(move |e| node_key_quad(&e, &key_graph));
        (
            marker_quads()
                .into_iter()
                .chain(relations)
                .chain(last_evidence)
                .chain(mentions)
                .chain(keys)
                .chain(rollups)
                .chain(counts),
            left,
        )
    }
}

/// Recounts from the store the relations a [`SummaryBuilder`] could not
/// order (its summary loaded already).
pub fn recount(store: &Store, relations: Vec<RelationKey>) -> Result<()> {
    let subjects = subjects_of(&relations);
    for chunk in relations.chunks(KEYS_PER_BATCH) {
        refresh_keys(
            store,
            AffectedKeys {
                all: false,
                relations: chunk.iter().cloned().collect(),
                ..Default::default()
            },
        )?;
    }
    if !subjects.is_empty() {
        update_subject_rows(store, Some(&subjects))?;
    }
    // (the builder does not count them: they are counted over the facts,
    // once they are all in the store)
    crate::agency_counts::recount_all(store)
}

/// Whether the store's summary graph is empty but for its markers.
pub fn is_blank(store: &Store) -> Result<bool> {
    let graph = summary_graph();
    for quad in store.quads_for_pattern(
        None,
        None,
        None,
        Some(GraphNameRef::NamedNode(graph.as_ref())),
    ) {
        if quad.context("cannot read the store")?.subject != graph.as_ref().into() {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The number of evidence records the store's summary keeps per relation,
/// or `None` when the store has no summary (built before it existed).
pub fn evidence_kept(store: &Store) -> Result<Option<usize>> {
    let graph = summary_graph();
    let kept = jd("evidenceKept");
    for quad in store.quads_for_pattern(
        Some(graph.as_ref().into()),
        Some(kept.as_ref()),
        None,
        Some(GraphNameRef::NamedNode(graph.as_ref())),
    ) {
        let quad = quad.context("cannot read the store")?;
        if let Term::Literal(l) = quad.object {
            return Ok(l.value().parse().ok());
        }
    }
    Ok(None)
}

/// Whether the store's summary is complete and of this version's layout
/// ([`EVIDENCE_KEPT`] records, [`SUMMARY_FORMAT`]): what the readers need.
pub fn is_current(store: &Store) -> Result<bool> {
    Ok(format(store)? == Some(SUMMARY_FORMAT) && evidence_kept(store)? == Some(EVIDENCE_KEPT))
}

/// Whether the store's summary has the statistics rollups (and is readable).
pub fn has_rollups(store: &Store) -> Result<bool> {
    has_since(store, ROLLUPS_SINCE)
}

/// Whether the store's summary has the relation totals (and is readable).
pub fn has_relation_totals(store: &Store) -> Result<bool> {
    has_since(store, RELATION_TOTALS_SINCE)
}

/// Whether the store's summary has the per-agency counts (and is readable).
pub fn has_agency_counts(store: &Store) -> Result<bool> {
    has_since(store, AGENCY_COUNTS_SINCE)
}

fn has_since(store: &Store, since: usize) -> Result<bool> {
    Ok(
        format(store)?.is_some_and(|f| (since..=SUMMARY_FORMAT).contains(&f))
            && evidence_kept(store)? == Some(EVIDENCE_KEPT),
    )
}

/// Whether the readers can take the store's summary: complete, and of this
/// layout or one that lacks only what they can do without (the node keys).
pub fn is_readable(store: &Store) -> Result<bool> {
    Ok(
        format(store)?.is_some_and(|f| (READABLE_FROM..=SUMMARY_FORMAT).contains(&f))
            && evidence_kept(store)? == Some(EVIDENCE_KEPT),
    )
}

/// The summary's `jd:summaryFormat` (the largest, if a load left several).
fn format(store: &Store) -> Result<Option<usize>> {
    let graph = summary_graph();
    let format = jd("summaryFormat");
    let mut found = None;
    for quad in in_summary(store, graph.as_ref(), Some(format.as_ref())) {
        if let Ok(f) = literal_text(&quad?.object).parse::<usize>() {
            found = found.max(Some(f));
        }
    }
    Ok(found)
}

/// The quads on the summary graph's IRI that say what it keeps.
fn marker_quads() -> Vec<Quad> {
    let graph = summary_graph();
    let g = GraphName::NamedNode(graph.clone());
    vec![
        Quad::new(
            graph.clone(),
            jd("evidenceKept"),
            integer(EVIDENCE_KEPT),
            g.clone(),
        ),
        Quad::new(graph, jd("summaryFormat"), integer(SUMMARY_FORMAT), g),
    ]
}

/// One relation's summary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RelationSummary {
    pub support: usize,
    pub drug_support: usize,
    pub evidence_count: usize,
    pub drug_evidence_count: usize,
    /// The kept evidence records, in evidence order.
    pub kept: Vec<KeptEvidence>,
}

impl RelationSummary {
    /// From the four counts (support, drug support, evidence count, drug
    /// evidence count) and the packed records, keeping those up to `limit`
    /// (see [`kept_of`]).
    fn kept(
        [support, drug_support, evidence_count, drug_evidence_count]: [usize; 4],
        evidence: Vec<PackedEvidence>,
        limit: usize,
        drug_only: bool,
    ) -> RelationSummary {
        RelationSummary {
            support,
            drug_support,
            evidence_count,
            drug_evidence_count,
            kept: kept_of(evidence, limit, drug_only),
        }
    }

    /// A pack as its relation's key and summary, as [`RelationSummary::kept`].
    fn of_pack(packed: PackedRelation, limit: usize, drug_only: bool) -> (RelationKey, Self) {
        let counts = [
            packed.support,
            packed.drug_support,
            packed.evidence_count,
            packed.drug_evidence_count,
        ];
        (
            (packed.subject, packed.predicate, packed.object),
            RelationSummary::kept(counts, packed.evidence, limit, drug_only),
        )
    }
}

/// One evidence record copied into the summary.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KeptEvidence {
    pub record: String,
    pub file: String,
    pub start: usize,
    pub end: usize,
    pub article: String,
    pub sentence: String,
    pub rule: String,
    /// 1-based position among all the relation's records (kept when ≤
    /// [`EVIDENCE_KEPT`]).
    pub rank: usize,
    /// 1-based position among the records from articles about drugs.
    pub drug_rank: Option<usize>,
}

/// A provenance record as the recount reads it.
struct RecordRow {
    record: String,
    article: String,
    start: usize,
    end: usize,
}

/// Summarises the relations of `keys` (all when `None`) from the provenance
/// records in the default graph.
fn summarize_relations(
    store: &Store,
    keys: Option<&[RelationKey]>,
) -> Result<BTreeMap<RelationKey, RelationSummary>> {
    let assertion = format!("<{JD}Assertion>");
    let (subject, predicate, object) = (
        rdf::SUBJECT.as_str(),
        rdf::PREDICATE.as_str(),
        rdf::OBJECT.as_str(),
    );
    let queries: Vec<String> = match keys {
        // Each pattern in its own subquery: Oxigraph joins them by hashing
        // whole property scans instead of one lookup per record. (One query
        // per property, in parallel, was slower: each rescans every record.)
        None => vec![format!(
            "SELECT ?s ?p ?o ?r ?a ?start ?end WHERE {{ \
               {{ SELECT ?r WHERE {{ ?r a {assertion} }} }} \
               {{ SELECT ?r ?s WHERE {{ ?r <{subject}> ?s }} }} \
               {{ SELECT ?r ?p WHERE {{ ?r <{predicate}> ?p }} }} \
               {{ SELECT ?r ?o WHERE {{ ?r <{object}> ?o }} }} \
               {{ SELECT ?r ?a WHERE {{ ?r <{PROV_WAS_DERIVED_FROM}> ?a }} }} \
               OPTIONAL {{ SELECT ?r ?start WHERE {{ ?r <{JD}charStart> ?start }} }} \
               OPTIONAL {{ SELECT ?r ?end WHERE {{ ?r <{JD}charEnd> ?end }} }} \
             }}"
        )],
        Some(keys) => keys
            .chunks(KEYS_PER_QUERY)
            .map(|chunk| -> Result<String> {
                let mut values = Vec::with_capacity(chunk.len());
                for (s, p, o) in chunk {
                    values.push(format!("({} {} {})", term(s)?, term(p)?, term(o)?));
                }
                Ok(format!(
                    "SELECT ?s ?p ?o ?r ?a ?start ?end WHERE {{ \
                       VALUES (?s ?p ?o) {{ {} }} \
                       ?r <{subject}> ?s ; <{predicate}> ?p ; <{object}> ?o ; a {assertion} ; \
                          <{PROV_WAS_DERIVED_FROM}> ?a . \
                       OPTIONAL {{ ?r <{JD}charStart> ?start }} \
                       OPTIONAL {{ ?r <{JD}charEnd> ?end }} \
                     }}",
                    values.join(" ")
                ))
            })
            .collect::<Result<_>>()?,
    };
    let read: Vec<Vec<(RelationKey, RecordRow)>> = queries
        .par_iter()
        .map(|query| -> Result<Vec<(RelationKey, RecordRow)>> {
            let mut out = Vec::new();
            for row in select(store, query)? {
                let row = row.context("cannot read the store")?;
                let (Some(s), Some(p), Some(o), Some(record), Some(article)) = (
                    iri(&row, "s"),
                    iri(&row, "p"),
                    iri(&row, "o"),
                    iri(&row, "r"),
                    iri(&row, "a"),
                ) else {
                    continue;
                };
                out.push((
                    (s, p, o),
                    RecordRow {
                        record,
                        article,
                        start: number(&row, "start"),
                        end: number(&row, "end"),
                    },
                ));
            }
            Ok(out)
        })
        .collect::<Result<_>>()?;
    let mut rows: HashMap<RelationKey, Vec<RecordRow>> = HashMap::new();
    for (key, row) in read.into_iter().flatten() {
        rows.entry(key).or_default().push(row);
    }

    let articles = ArticleInfo::read(store, keys.is_none(), rows.values().flatten())?;
    let mut out = BTreeMap::new();
    for (key, mut records) in rows {
        // A record with a repeated field comes once per value: keep its
        // first row, as the graph keeps one value per field.
        records.sort_by(|a, b| a.record.cmp(&b.record));
        records.dedup_by(|a, b| a.record == b.record);
        let mut distinct = HashSet::new();
        let mut drug_distinct = HashSet::new();
        for r in &records {
            distinct.insert(r.article.as_str());
            if articles.about_drugs(&r.article) {
                drug_distinct.insert(r.article.as_str());
            }
        }
        let mut evidence: Vec<(&str, &RecordRow)> = records
            .iter()
            .map(|r| (articles.file(&r.article), r))
            .collect();
        evidence.sort_by(|(fa, a), (fb, b)| {
            (*fa, a.start, a.end, &a.article, &a.record)
                .cmp(&(*fb, b.start, b.end, &b.article, &b.record))
        });
        let mut summary = RelationSummary {
            support: distinct.len(),
            drug_support: drug_distinct.len(),
            evidence_count: evidence.len(),
            ..Default::default()
        };
        let mut drug_rank = 0;
        for (i, (file, r)) in evidence.iter().enumerate() {
            let drug = articles.about_drugs(&r.article);
            let this_drug_rank = drug.then(|| {
                drug_rank += 1;
                drug_rank
            });
            if i < EVIDENCE_KEPT || this_drug_rank.is_some_and(|d| d <= EVIDENCE_KEPT) {
                summary.kept.push(KeptEvidence {
                    record: r.record.clone(),
                    file: file.to_string(),
                    start: r.start,
                    end: r.end,
                    article: r.article.clone(),
                    sentence: String::new(),
                    rule: String::new(),
                    rank: i + 1,
                    drug_rank: this_drug_rank,
                });
            }
        }
        summary.drug_evidence_count = drug_rank;
        out.insert(key, summary);
    }
    // Sentences and rules only for the kept records: one lookup each.
    let sentence = jd("sentence");
    let rule = jd("rule");
    out.par_iter_mut()
        .try_for_each(|(_, summary)| -> Result<()> {
            for kept in &mut summary.kept {
                let record = NamedNode::new(kept.record.clone())
                    .with_context(|| format!("bad IRI {}", kept.record))?;
                kept.sentence = last_value(store, record.as_ref(), sentence.as_ref())?;
                kept.rule = last_value(store, record.as_ref(), rule.as_ref())?;
            }
            Ok(())
        })?;
    Ok(out)
}

/// File name and topic of the articles of the records.
struct ArticleInfo {
    files: HashMap<String, String>,
    drug: HashSet<String>,
}

impl ArticleInfo {
    /// With `all`, by one scan of each property (what the full read of the
    /// graph does: the last file name in index order wins when two files
    /// with identical bytes share an article); otherwise by one lookup per
    /// article, which gives the same choice.
    fn read<'a>(
        store: &Store,
        all: bool,
        records: impl Iterator<Item = &'a RecordRow>,
    ) -> Result<ArticleInfo> {
        let source_file = jd("sourceFile");
        let about_drugs = jd("aboutDrugs");
        let mut info = ArticleInfo {
            files: HashMap::new(),
            drug: HashSet::new(),
        };
        if all {
            for quad in store.quads_for_pattern(
                None,
                Some(source_file.as_ref()),
                None,
                Some(GraphNameRef::DefaultGraph),
            ) {
                let quad = quad.context("cannot read the store")?;
                if let NamedOrBlankNode::NamedNode(a) = quad.subject {
                    info.files
                        .insert(a.into_string(), literal_text(&quad.object));
                }
            }
            let yes: Term = Literal::from(true).into();
            for quad in store.quads_for_pattern(
                None,
                Some(about_drugs.as_ref()),
                Some(yes.as_ref()),
                Some(GraphNameRef::DefaultGraph),
            ) {
                let quad = quad.context("cannot read the store")?;
                if let NamedOrBlankNode::NamedNode(a) = quad.subject {
                    info.drug.insert(a.into_string());
                }
            }
            return Ok(info);
        }
        let articles: BTreeSet<&str> = records.map(|r| r.article.as_str()).collect();
        for article in articles {
            let node = NamedNode::new(article.to_string())
                .with_context(|| format!("bad IRI {article}"))?;
            info.files.insert(
                article.to_string(),
                last_value(store, node.as_ref(), source_file.as_ref())?,
            );
            if last_value(store, node.as_ref(), about_drugs.as_ref())? == "true" {
                info.drug.insert(article.to_string());
            }
        }
        Ok(info)
    }

    fn file(&self, article: &str) -> &str {
        self.files.get(article).map_or("", String::as_str)
    }

    fn about_drugs(&self, article: &str) -> bool {
        self.drug.contains(article)
    }
}

/// Mentioning articles per entity (of the entity classes: statistics
/// mention articles too), for `entities` or all.
fn count_mentions(store: &Store, entities: Option<&[String]>) -> Result<BTreeMap<String, usize>> {
    let classes: Vec<String> = EntityClass::ALL
        .iter()
        .map(|c| format!("<{}>", jd(c.name()).as_str()))
        .collect();
    let mut out = BTreeMap::new();
    let mut read = |query: &str| -> Result<()> {
        for row in select(store, query)? {
            let row = row.context("cannot read the store")?;
            if let Some(e) = iri(&row, "e") {
                out.insert(e, number(&row, "n"));
            }
        }
        Ok(())
    };
    match entities {
        None => read(&format!(
            "SELECT ?e (COUNT(*) AS ?n) WHERE {{ \
               {{ SELECT DISTINCT ?e WHERE {{ VALUES ?c {{ {} }} ?e a ?c }} }} \
               {{ SELECT ?e ?a WHERE {{ ?e <{JD}mentionedIn> ?a }} }} \
             }} GROUP BY ?e",
            classes.join(" ")
        ))?,
        Some(entities) => {
            for chunk in entities.chunks(KEYS_PER_QUERY) {
                let mut values = Vec::with_capacity(chunk.len());
                for e in chunk {
                    values.push(term(e)?);
                }
                read(&format!(
                    "SELECT ?e (COUNT(*) AS ?n) WHERE {{ \
                       VALUES ?e {{ {} }} \
                       FILTER EXISTS {{ VALUES ?c {{ {} }} ?e a ?c }} \
                       ?e <{JD}mentionedIn> ?a \
                     }} GROUP BY ?e",
                    values.join(" "),
                    classes.join(" ")
                ))?;
            }
        }
    }
    Ok(out)
}

/// The node of a relation in the summary: `jdi:relation/` + 16 hex of the
/// SHA-256 of `subject|property|object`.
pub fn relation_iri(subject: &str, property: &str, object: &str) -> NamedNode {
    let digest = Sha256::digest(format!("{subject}|{property}|{object}").as_bytes());
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    NamedNode::new_unchecked(format!("{ID}relation/{hex}"))
}

pub(crate) fn summary_graph() -> NamedNode {
    NamedNode::new_unchecked(SUMMARY_GRAPH)
}

fn relation_quads(
    summaries: &BTreeMap<RelationKey, RelationSummary>,
    graph: &NamedNode,
) -> Vec<Quad> {
    summaries
        .iter()
        .flat_map(|(key, summary)| relation_entry_quads(key, summary, graph))
        .collect()
}

/// The quads of one relation's entry.
fn relation_entry_quads(
    (s, p, o): &RelationKey,
    summary: &RelationSummary,
    graph: &NamedNode,
) -> Vec<Quad> {
    let g = GraphName::NamedNode(graph.clone());
    let mut out = Vec::with_capacity(8 + 8 * summary.kept.len());
    let node = relation_iri(s, p, o);
    let mut add = |subject: &NamedNode, predicate: NamedNode, object: Term| {
        out.push(Quad::new(subject.clone(), predicate, object, g.clone()));
    };
    let iri = |i: &str| -> Term { NamedNode::new_unchecked(i).into() };
    add(&node, rdf::TYPE.into_owned(), jd("RelationSummary").into());
    add(&node, rdf::SUBJECT.into_owned(), iri(s));
    add(&node, rdf::PREDICATE.into_owned(), iri(p));
    add(&node, rdf::OBJECT.into_owned(), iri(o));
    add(&node, jd("support"), integer(summary.support));
    add(&node, jd("drugSupport"), integer(summary.drug_support));
    add(&node, jd("evidenceCount"), integer(summary.evidence_count));
    add(
        &node,
        jd("drugEvidenceCount"),
        integer(summary.drug_evidence_count),
    );
    add(&node, jd("evidencePack"), pack((s, p, o), summary));
    for kept in &summary.kept {
        let record = NamedNode::new_unchecked(kept.record.as_str());
        add(&node, jd("evidence"), record.clone().into());
        add(&record, jd("evidenceRank"), integer(kept.rank));
        if let Some(rank) = kept.drug_rank {
            add(&record, jd("drugEvidenceRank"), integer(rank));
        }
        // The record's fields are in the default graph, and copied in the
        // pack for the readers: copied again here as triples, they took a
        // third of a 100 MB store (1.8 GB of 5.6).
    }
    out
}

/// A relation's counts and kept evidence as one JSON literal
/// (`rdf:JSON`): readers of the whole summary read one term per relation
/// instead of eight per kept record (each IRI or long literal a store
/// lookup).
fn pack((s, p, o): (&str, &str, &str), summary: &RelationSummary) -> Term {
    let packed = PackedRelation {
        subject: s.to_string(),
        predicate: p.to_string(),
        object: o.to_string(),
        support: summary.support,
        drug_support: summary.drug_support,
        evidence_count: summary.evidence_count,
        drug_evidence_count: summary.drug_evidence_count,
        evidence: packed_evidence(&summary.kept),
    };
    let json = serde_json::to_string(&packed).expect("a summary serialises");
    Literal::new_typed_literal(json, NamedNode::new_unchecked(RDF_JSON)).into()
}

fn packed_evidence(kept: &[KeptEvidence]) -> Vec<PackedEvidence> {
    kept.iter()
        .map(|k| PackedEvidence {
            rank: k.rank,
            drug_rank: k.drug_rank,
            article: k.article.clone(),
            file: k.file.clone(),
            start: k.start,
            end: k.end,
            rule: k.rule.clone(),
            sentence: k.sentence.clone(),
        })
        .collect()
}

const RDF_JSON: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#JSON";

/// The JSON of `jd:evidencePack` (documented in docs/rdf-model.md).
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct PackedRelation {
    subject: String,
    predicate: String,
    object: String,
    support: usize,
    drug_support: usize,
    evidence_count: usize,
    drug_evidence_count: usize,
    evidence: Vec<PackedEvidence>,
}

#[derive(PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct PackedEvidence {
    rank: usize,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    drug_rank: Option<usize>,
    article: String,
    file: String,
    start: usize,
    end: usize,
    rule: String,
    sentence: String,
}

/// Every relation of the summary from its packs, with the kept evidence up
/// to `limit` per relation (at most [`EVIDENCE_KEPT`]): the first by rank,
/// or with `drug_only` the first among the records from articles about
/// drugs. The store's summary must be current ([`is_current`]).
pub fn read_packed(
    store: &Store,
    limit: usize,
    drug_only: bool,
) -> Result<Vec<(RelationKey, RelationSummary)>> {
    Ok(read_packs(store, "")?
        .into_iter()
        .map(|packed| RelationSummary::of_pack(packed, limit, drug_only))
        .collect())
}

/// The packs of the relation nodes `?x` that `pattern` (SPARQL, empty for
/// all) selects. Only the packs are returned (the relation's key is
/// inside): one term, so one string lookup, per relation.
fn read_packs(store: &Store, pattern: &str) -> Result<Vec<PackedRelation>> {
    let query = format!(
        "SELECT ?pack FROM <{SUMMARY_GRAPH}> WHERE {{ {pattern}?x <{JD}evidencePack> ?pack }}"
    );
    let mut out = Vec::new();
    for row in select(store, &query)? {
        let row = row.context("cannot read the store")?;
        let Some(Term::Literal(pack)) = row.get("pack") else {
            continue;
        };
        out.push(json_of(pack.value(), "jd:evidencePack")?);
    }
    Ok(out)
}

/// The packed records up to `limit` by rank (or with `drug_only`, by rank
/// among the records from articles about drugs).
fn kept_of(evidence: Vec<PackedEvidence>, limit: usize, drug_only: bool) -> Vec<KeptEvidence> {
    evidence
        .into_iter()
        .filter(|e| {
            let rank = if drug_only { e.drug_rank } else { Some(e.rank) };
            rank.is_some_and(|r| r <= limit)
        })
        .map(|e| KeptEvidence {
            record: String::new(),
            file: e.file,
            start: e.start,
            end: e.end,
            article: e.article,
            sentence: e.sentence,
            rule: e.rule,
            rank: e.rank,
            drug_rank: e.drug_rank,
        })
        .collect()
}

fn mention_quads(mentions: &BTreeMap<String, usize>, graph: &NamedNode) -> Vec<Quad> {
    mentions
        .iter()
        .map(|(e, n)| mention_quad(e, *n, graph))
        .collect()
}

fn mention_quad(entity: &str, n: usize, graph: &NamedNode) -> Quad {
    Quad::new(
        NamedNode::new_unchecked(entity),
        jd("mentionCount"),
        integer(n),
        GraphName::NamedNode(graph.clone()),
    )
}

/// The counts of every relation in the summary, by relation key (for the
/// recount, which needs the subject, property and object).
pub fn read_relations(store: &Store) -> Result<Vec<(RelationKey, RelationSummary)>> {
    let query = format!(
        "SELECT ?s ?p ?o ?n ?nd ?ne ?nde FROM <{SUMMARY_GRAPH}> WHERE {{ \
           {{ SELECT ?x ?s WHERE {{ ?x <{}> ?s }} }} \
           {{ SELECT ?x ?p WHERE {{ ?x <{}> ?p }} }} \
           {{ SELECT ?x ?o WHERE {{ ?x <{}> ?o }} }} \
           {} \
         }}",
        rdf::SUBJECT.as_str(),
        rdf::PREDICATE.as_str(),
        rdf::OBJECT.as_str(),
        count_joins()
    );
    let mut out = Vec::new();
    for row in select(store, &query)? {
        let row = row.context("cannot read the store")?;
        let (Some(s), Some(p), Some(o)) = (iri(&row, "s"), iri(&row, "p"), iri(&row, "o")) else {
            continue;
        };
        out.push(((s, p, o), counts_of(&row)));
    }
    Ok(out)
}

/// The counts of every relation in the summary, by the relation's summary
/// node ([`relation_iri`]). Readers that know their relations look them up
/// by node: every term a result carries costs a store lookup, and the node is
/// one term where the key is three.
pub fn read_relation_counts(store: &Store) -> Result<Vec<(String, RelationSummary)>> {
    let query = format!(
        "SELECT ?x ?n ?nd ?ne ?nde FROM <{SUMMARY_GRAPH}> WHERE {{ {} }}",
        count_joins()
    );
    let mut out = Vec::new();
    for row in select(store, &query)? {
        let row = row.context("cannot read the store")?;
        if let Some(x) = iri(&row, "x") {
            out.push((x, counts_of(&row)));
        }
    }
    Ok(out)
}

/// The hash joins of a relation node `?x` with its four counts (sub-selects,
/// so that Oxigraph scans each property once instead of looking every node
/// up).
fn count_joins() -> String {
    format!(
        "{{ SELECT ?x ?n WHERE {{ ?x <{JD}support> ?n }} }} \
         {{ SELECT ?x ?nd WHERE {{ ?x <{JD}drugSupport> ?nd }} }} \
         {{ SELECT ?x ?ne WHERE {{ ?x <{JD}evidenceCount> ?ne }} }} \
         {{ SELECT ?x ?nde WHERE {{ ?x <{JD}drugEvidenceCount> ?nde }} }}"
    )
}

fn counts_of(row: &QuerySolution) -> RelationSummary {
    RelationSummary {
        support: number(row, "n"),
        drug_support: number(row, "nd"),
        evidence_count: number(row, "ne"),
        drug_evidence_count: number(row, "nde"),
        kept: Vec::new(),
    }
}

/// The mention count of every entity in the summary.
pub fn read_mentions(store: &Store) -> Result<Vec<(String, usize)>> {
    // A query, not a quad scan: a scan decodes the predicate and the graph
    // name of every quad too, each a store lookup.
    let query = format!("SELECT ?e ?n FROM <{SUMMARY_GRAPH}> WHERE {{ ?e <{JD}mentionCount> ?n }}");
    let mut out = Vec::new();
    for row in select(store, &query)? {
        let row = row.context("cannot read the store")?;
        if let Some(e) = iri(&row, "e") {
            out.push((e, number(&row, "n")));
        }
    }
    Ok(out)
}

/// The quads of a subject in the summary graph (of one predicate when given).
pub(crate) fn in_summary<'a>(
    store: &'a Store,
    subject: NamedNodeRef<'a>,
    predicate: Option<NamedNodeRef<'a>>,
) -> impl Iterator<Item = Result<Quad>> + 'a {
    store
        .quads_for_pattern(
            Some(subject.into()),
            predicate,
            None,
            Some(GraphNameRef::NamedNode(NamedNodeRef::new_unchecked(
                SUMMARY_GRAPH,
            ))),
        )
        .map(|q| q.context("cannot read the store"))
}

/// The last value (in index order) of a property in the default graph, as
/// text; empty when there is none.
fn last_value(
    store: &Store,
    subject: NamedNodeRef<'_>,
    predicate: NamedNodeRef<'_>,
) -> Result<String> {
    let mut value = String::new();
    for quad in store.quads_for_pattern(
        Some(subject.into()),
        Some(predicate),
        None,
        Some(GraphNameRef::DefaultGraph),
    ) {
        value = literal_text(&quad.context("cannot read the store")?.object);
    }
    Ok(value)
}

/// The single count a `SELECT (COUNT(*) AS ?n)` query returns.
fn count(store: &Store, query: &str) -> Result<usize> {
    match select(store, query)?.next() {
        Some(row) => Ok(number(&row.context("cannot read the store")?, "n")),
        None => Ok(0),
    }
}

/// An IRI as a SPARQL term, refused when it is not a valid IRI.
fn term(iri: &str) -> Result<String> {
    Ok(NamedNode::new(iri)
        .with_context(|| format!("bad IRI {iri}"))?
        .to_string())
}

fn iri(row: &QuerySolution, name: &str) -> Option<String> {
    match row.get(name) {
        Some(Term::NamedNode(n)) => Some(n.as_str().to_string()),
        _ => None,
    }
}

fn number(row: &QuerySolution, name: &str) -> usize {
    row.get(name)
        .map(|t| literal_text(t).parse().unwrap_or(0))
        .unwrap_or(0)
}

fn integer(n: usize) -> Term {
    Literal::new_typed_literal(n.to_string(), xsd::INTEGER).into()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::graph::tests::{entity, evidence, knowledge_with_articles};
    use crate::model::{EntityId, Knowledge, Property};

    /// The summary graph's quads that `keep` keeps.
    fn summary_quads_where(store: &Store, keep: impl Fn(&Quad) -> bool) -> Vec<Quad> {
        store
            .quads_for_pattern(
                None,
                None,
                None,
                Some(GraphNameRef::NamedNode(summary_graph().as_ref())),
            )
            .map(|q| q.unwrap())
            .filter(|q| keep(q))
            .collect()
    }

    /// The summary graph as sorted N-Quads lines.
    fn summary_lines(store: &Store) -> Vec<String> {
        let mut lines: Vec<String> = store
            .quads_for_pattern(
                None,
                None,
                None,
                Some(GraphNameRef::NamedNode(summary_graph().as_ref())),
            )
            .map(|q| q.unwrap().to_string())
            .collect();
        lines.sort();
        lines
    }

    /// A file of `articles` articles, with figures for the statistics rollups.
    fn file(hash: &str, name: &str, articles: usize) -> Knowledge {
        let mut kn = knowledge_with_articles(articles);
        kn.sources[0].sha256 = hash.into();
        kn.sources[0].name = name.into();
        crate::rollup::tests::add_figures(&mut kn, 3 * articles);
        kn
    }

    /// A store holding the files' quads (no summary).
    pub(crate) fn store_of(files: &[(&Knowledge, &str)]) -> Store {
        let store = Store::new().unwrap();
        for (kn, id) in files {
            store
                .extend(crate::sync::file_quads(kn, id, "1970-01-01T00:00:00Z", "x"))
                .unwrap();
        }
        store
    }

    #[test]
    fn the_builder_gives_the_summary_of_a_full_recount() {
        let mut a = file("aaaaaaaaaaaaaaaa0000", "a.txt", 8);
        relate(&mut a, 8);
        let mut b = file("bbbbbbbbbbbbbbbb0000", "b.txt", 8);
        relate(&mut b, 8);
        // Other bytes under b's name: one group, records interleaved.
        let mut b2 = file("cccccccccccccccc0000", "b.txt", 3);
        relate(&mut b2, 3);
        let mut c = file("dddddddddddddddd0000", "c.txt", 2);
        relate(&mut c, 2);
        // Subjects before and after the agency, so that the per-subject
        // evidence is written as the subject changes and at the end.
        let agency = c.upsert_entity(entity(EntityClass::Agency, "开鲁县公安局"));
        let case = c.upsert_entity(entity(EntityClass::Case, "甲乙贩毒案"));
        let county = c.upsert_entity(entity(EntityClass::Region, "开鲁县"));
        let other = c.upsert_entity(entity(EntityClass::Agency, "甲乙县公安局"));
        relate_each(
            &mut c,
            &[
                (case, Property::HandledBy, agency),
                (other, Property::LocatedIn, county),
            ],
            2,
        );
        let files = [
            (&a, "a.txt"),
            (&b, "x/b.txt"),
            (&b2, "y/b.txt"),
            (&c, "c.txt"),
        ];
        let store = store_of(&files);
        let mut builder = SummaryBuilder::new();
        // Parts arriving out of turn wait for it.
        for i in [3, 1, 0, 2] {
            builder.add(i, Some(FilePart::of(files[i].0)));
        }
        let (quads, dirty) = builder.finish().expect("in name order").into_quads();
        store.extend(quads).unwrap();
        assert!(dirty.borrow().is_empty());
        // (as the build finishes: what the builder cannot count, the agency
        // counts, is counted from the store)
        recount(&store, dirty.take()).unwrap();
        let fresh = store_of(&files);
        refresh_all_at_once(&fresh).unwrap();
        assert_eq!(summary_lines(&store), summary_lines(&fresh));
        let evidence_rows = summary_lines(&store)
            .iter()
            .filter(|l| l.contains("relationEvidence"))
            .count();
        assert_eq!(evidence_rows, 3, "one per subject");

        // The same bytes as a under a later name: the relation is recounted.
        let mut a_copy = file("aaaaaaaaaaaaaaaa0000", "z.txt", 8);
        relate(&mut a_copy, 8);
        let files = [(&a, "a.txt"), (&c, "c.txt"), (&a_copy, "z.txt")];
        let store = store_of(&files);
        let mut builder = SummaryBuilder::new();
        for (i, (kn, _)) in files.iter().enumerate() {
            builder.add(i, Some(FilePart::of(kn)));
        }
        let (quads, dirty) = builder.finish().unwrap().into_quads();
        store.extend(quads).unwrap();
        assert_eq!(dirty.borrow().len(), 1);
        recount(&store, dirty.take()).unwrap();
        let fresh = store_of(&files);
        refresh_all_at_once(&fresh).unwrap();
        assert_eq!(summary_lines(&store), summary_lines(&fresh));

        // Names out of order: the builder gives up (the build recounts).
        let mut builder = SummaryBuilder::new();
        builder.add(0, Some(FilePart::of(&c)));
        builder.add(1, Some(FilePart::of(&a)));
        assert!(builder.finish().is_none());
    }

    #[test]
    fn per_key_updates_give_the_summary_of_a_full_recount() {
        // Two files sharing a relation, a third with identical bytes to the
        // second under another name (so they share articles).
        let mut a = file("aaaaaaaaaaaaaaaa0000", "a.txt", 3);
        relate(&mut a, 3);
        let file_b = |name: &str| {
            let mut b = file("bbbbbbbbbbbbbbbb0000", name, 8);
            let agency = b.upsert_entity(entity(EntityClass::Agency, "开鲁县公安局"));
            let county = b.upsert_entity(entity(EntityClass::Region, "开鲁县"));
            let case = b.upsert_entity(entity(EntityClass::Case, "案件"));
            relate_each(
                &mut b,
                &[
                    (agency.clone(), Property::LocatedIn, county),
                    (case, Property::HandledBy, agency),
                ],
                8,
            );
            b
        };
        let (b, b_copy) = (file_b("b.txt"), file_b("copy.txt"));

        let store = store_of(&[(&a, "a.txt")]);
        refresh_all(&store).unwrap();
        for (kn, id) in [(&b, "b.txt"), (&b_copy, "copy.txt")] {
            // (the rollups' shares of the arriving source, before it arrives)
            let mut noted = AffectedKeys::default();
            let source = crate::rdf::source_iri_for_hash(&kn.sources[0].sha256).into_string();
            note_sources(&store, &mut noted, &[], &[source]).unwrap();
            store
                .extend(crate::sync::file_quads(kn, id, "1970-01-01T00:00:00Z", "x"))
                .unwrap();
            let mut keys = gather_keys(&store, &[id.to_string()]).unwrap();
            assert!(!keys.all && !keys.relations.is_empty());
            keys.extend(noted);
            refresh_some(&store, keys).unwrap();
        }
        let fresh = store_of(&[(&a, "a.txt"), (&b, "b.txt"), (&b_copy, "copy.txt")]);
        refresh_all_at_once(&fresh).unwrap();
        assert_eq!(summary_lines(&store), summary_lines(&fresh));
        let located = read_relations(&store)
            .unwrap()
            .into_iter()
            .find(|((_, p, _), _)| p.ends_with("locatedIn"))
            .unwrap()
            .1;
        assert_eq!(located.support, 11);
        assert_eq!(located.drug_support, 1 + 4);
        let kept: usize = read_packed(&store, 5, false)
            .unwrap()
            .iter()
            .map(|(_, r)| r.kept.len())
            .sum();
        assert_eq!(kept, 10);

        // Removing the copy keeps the shared articles; removing b too
        // leaves a's summary.
        for (id, left) in [
            ("copy.txt", vec![(&a, "a.txt"), (&b, "b.txt")]),
            ("b.txt", vec![(&a, "a.txt")]),
        ] {
            let mut keys = gather_keys(&store, &[id.to_string()]).unwrap();
            note_sources(&store, &mut keys, &[id.to_string()], &[]).unwrap();
            crate::sync::remove_graphs(&store, &[crate::sync::file_graph(id)]).unwrap();
            refresh_some(&store, keys).unwrap();
            let fresh = store_of(&left);
            refresh_all_at_once(&fresh).unwrap();
            assert_eq!(
                summary_lines(&store),
                summary_lines(&fresh),
                "after removing {id}"
            );
        }
    }

    #[test]
    fn packs_agree_with_the_triples_and_an_older_layout_is_recounted() {
        let mut kn = file("cccccccccccccccc0000", "c.txt", 7);
        relate(&mut kn, 7);
        let store = store_of(&[(&kn, "c.txt")]);
        refresh_all_at_once(&store).unwrap();
        assert!(is_current(&store).unwrap());
        let reference = summary_lines(&store);

        // The pack holds what the triples hold: counts, and the first
        // EVIDENCE_KEPT records (fewer when asked for fewer).
        let by_triples = read_relation_counts(&store).unwrap();
        let packed = read_packed(&store, EVIDENCE_KEPT, false).unwrap();
        assert_eq!(packed.len(), 1);
        let (s, p, o) = &packed[0].0;
        assert_eq!(relation_iri(s, p, o).into_string(), by_triples[0].0);
        assert_eq!(packed[0].1.evidence_count, 7);
        assert_eq!(
            (packed[0].1.support, packed[0].1.evidence_count),
            (by_triples[0].1.support, by_triples[0].1.evidence_count)
        );
        let ranks: Vec<usize> = packed[0].1.kept.iter().map(|k| k.rank).collect();
        assert_eq!(ranks, (1..=EVIDENCE_KEPT).collect::<Vec<_>>());
        assert_eq!(read_packed(&store, 2, false).unwrap()[0].1.kept.len(), 2);

        // A summary written before the packs (no format marker, no packs)
        // is not current; the next refresh recounts it whole.
        let graph = summary_graph();
        let old = summary_quads_where(&store, |q| {
            q.predicate == jd("evidencePack") || q.predicate == jd("summaryFormat")
        });
        assert_eq!(old.len(), 2);
        for quad in &old {
            store.remove(quad).unwrap();
        }
        assert!(evidence_kept(&store).unwrap().is_some());
        assert!(!is_current(&store).unwrap());
        refresh(&store, AffectedKeys::default()).unwrap();
        assert!(is_current(&store).unwrap());
        assert_eq!(summary_lines(&store), reference);

        // A format-2 summary (no node keys, no per-subject counts) is still
        // read, and the next refresh adds them without recounting: an
        // entry changed by hand stays as it is (and its subject's counts
        // follow it).
        let keys: Vec<Quad> = store
            .quads_for_pattern(None, None, None, None)
            .map(|q| q.unwrap())
            .filter(|q| {
                q.predicate == jd("nodeKey")
                    || q.predicate == jd("relationCounts")
                    || q.predicate == jd("relationEvidence")
            })
            .collect();
        assert_eq!(
            keys.len(),
            5,
            "the agency's, the county's and the drug's keys, the agency's counts and evidence"
        );
        for quad in &keys {
            store.remove(quad).unwrap();
        }
        let format = |n: usize| {
            Quad::new(
                graph.clone(),
                jd("summaryFormat"),
                integer(n),
                GraphName::NamedNode(graph.clone()),
            )
        };
        store.remove(&format(SUMMARY_FORMAT)).unwrap();
        store.insert(&format(2)).unwrap();
        assert!(!is_current(&store).unwrap());
        assert!(is_readable(&store).unwrap());
        // (by hand: the support in the entry's triple and in its pack)
        let node = relation_iri(s, p, o);
        let g = GraphName::NamedNode(graph.clone());
        let support = |n: usize| Quad::new(node.clone(), jd("support"), integer(n), g.clone());
        store.remove(&support(7)).unwrap();
        store.insert(&support(99)).unwrap();
        let pack = in_summary(&store, node.as_ref(), Some(jd("evidencePack").as_ref()))
            .next()
            .unwrap()
            .unwrap();
        let Term::Literal(text) = &pack.object else {
            panic!("a pack is a literal")
        };
        let edited = text.value().replace("\"support\":7", "\"support\":99");
        assert_ne!(edited, text.value());
        store.remove(&pack).unwrap();
        let edited = Literal::new_typed_literal(edited, NamedNode::new_unchecked(RDF_JSON));
        store
            .insert(&Quad::new(
                node.clone(),
                jd("evidencePack"),
                edited,
                g.clone(),
            ))
            .unwrap();
        refresh(&store, AffectedKeys::default()).unwrap();
        assert!(is_current(&store).unwrap());
        let upgraded = summary_lines(&store);
        assert_eq!(upgraded.len(), reference.len());
        let differing: Vec<&String> = upgraded.iter().filter(|l| !reference.contains(l)).collect();
        assert_eq!(differing.len(), 4, "{differing:?}");
        assert!(differing.iter().all(|l| l.contains("99")), "{differing:?}");
        let mut counts = Vec::new();
        assert!(
            read_subject_counts(&store, |(s, p, o, c)| counts.push((s.to_string(), p, o, c)))
                .unwrap()
        );
        assert_eq!(counts.len(), 1);
        assert_eq!(
            (counts[0].0.as_str(), counts[0].2),
            (packed[0].0.0.as_str(), node_key(o))
        );
        assert_eq!((counts[0].3.support, counts[0].3.evidence_count), (99, 7));
        let mut evidence = Vec::new();
        assert!(read_subject_evidence(&store, 2, false, |(_, _, _, c)| evidence.push(c)).unwrap());
        assert_eq!(evidence.len(), 1);
        assert_eq!((evidence[0].support, evidence[0].kept.len()), (99, 2));
        assert_eq!(evidence[0].kept, packed[0].1.kept[..2]);
        for (entity, key) in read_node_keys(&store).unwrap() {
            assert_eq!(key, node_key(&entity));
            assert!(key >= 0);
        }

        // A summary of format 5, 6 or 7 lacks what later formats added (the
        // statistics rollups, the relation totals, the agency counts): it is
        // readable, and the next refresh counts what it lacks, and only that.
        let older =
            |found: usize, part: &dyn Fn(&Quad) -> bool, has: fn(&Store) -> Result<bool>| {
                let quads = summary_quads_where(&store, part);
                assert!(!quads.is_empty(), "format {found}");
                for quad in &quads {
                    store.remove(quad).unwrap();
                }
                store.remove(&format(SUMMARY_FORMAT)).unwrap();
                store.insert(&format(found)).unwrap();
                assert!(is_readable(&store).unwrap() && !has(&store).unwrap());
                refresh(&store, AffectedKeys::default()).unwrap();
                assert!(has(&store).unwrap(), "format {found}");
                assert_eq!(summary_lines(&store), upgraded, "format {found}");
            };
        older(
            5,
            &|q| q.subject.to_string().contains("/id/rollup/"),
            has_rollups,
        );
        older(
            6,
            &|q| q.subject.to_string().contains("/id/relation-total/"),
            has_relation_totals,
        );
        older(
            7,
            &|q| {
                crate::agency_counts::PREDICATES
                    .iter()
                    .any(|p| q.predicate == jd(p))
            },
            has_agency_counts,
        );
    }

    #[test]
    fn node_keys_are_the_documented_hash() {
        // docs/rdf-model.md shows this key; python3 -c "import hashlib;
        // print(int.from_bytes(hashlib.sha256(IRI.encode()).digest()[:8], 'big') >> 1)"
        assert_eq!(
            node_key("https://w3id.org/jindu/id/agency/开鲁县公安局"),
            8565503389009907571
        );
    }

    /// `n` records of each relation, from articles 0..n (in turn).
    fn relate_each(kn: &mut Knowledge, relations: &[(EntityId, Property, EntityId)], n: usize) {
        for i in 0..n {
            for (s, p, o) in relations {
                kn.add_relation(s.clone(), *p, o.clone(), Some(evidence(i)));
            }
        }
    }

    /// `n` records of 开鲁县公安局 locatedIn 开鲁县, from articles 0..n.
    fn relate(kn: &mut Knowledge, n: usize) {
        let agency = kn.upsert_entity(entity(EntityClass::Agency, "开鲁县公安局"));
        let county = kn.upsert_entity(entity(EntityClass::Region, "开鲁县"));
        for i in 0..n {
            kn.add_relation(
                agency.clone(),
                Property::LocatedIn,
                county.clone(),
                Some(evidence(i)),
            );
        }
    }
}
