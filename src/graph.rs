//! Sink and source: the petgraph view, for analytics and exports.
//!
//! In: a [`Knowledge`] (right after extraction, for `build`'s summary) or an
//! Oxigraph store written by `jindu build` (its default graph, and the
//! counts and first evidence records of its summary graph, see
//! [`crate::summary`]; the other named graphs hold copies or the ontology). Out: a [`KnowledgeGraph`]: a
//! directed multigraph whose nodes are entities keyed by their IRI (class,
//! labels, mention count, kind, the regions they lie in) and whose edges are
//! relations (property, number of supporting articles, the sentences behind
//! them). Nodes are sorted by IRI and edges by (subject, property, object), so
//! both ways of building give the same indexes and every output is
//! deterministic.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use anyhow::{Context, Result, bail};
use oxigraph::model::vocab::{rdf, rdfs};
use oxigraph::model::{NamedNode, NamedNodeRef, Term, TermRef};
use oxigraph::sparql::{QueryResults, SparqlEvaluator};
use oxigraph::store::Store;
use petgraph::Direction;
use petgraph::graph::{DiGraph, EdgeIndex, NodeIndex};
use petgraph::visit::EdgeRef;
use rayon::prelude::*;
use serde::Serialize;

use crate::model::{EntityClass, Knowledge, Property};
use crate::rdf::{article_iri, entity_iri, jd};

const SKOS_ALT_LABEL: &str = "http://www.w3.org/2004/02/skos/core#altLabel";
const PROV_WAS_DERIVED_FROM: &str = "http://www.w3.org/ns/prov#wasDerivedFrom";

/// How much of each relation's evidence to read from a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvidenceDetail {
    /// Sentence, offsets, rule, article, file.
    Full,
    /// Article and file only (sentences empty, offsets 0).
    Articles,
    /// The first this many evidence records of each edge (in evidence
    /// order; with `--drug-articles`, the first from articles about drugs),
    /// with the support counted over all of them. Read from the summary
    /// graph when it keeps that many, otherwise as [`EvidenceDetail::Full`].
    First(usize),
}

/// Candidates listed when a name is not found.
const MAX_CANDIDATES: usize = 12;

/// An entity of the graph.
#[derive(Debug, Clone, Serialize)]
pub struct Node {
    /// The entity's IRI in the store (the node's key in every export).
    pub iri: String,
    pub class: EntityClass,
    /// The canonical name (`rdfs:label`).
    pub label: String,
    /// Other surface forms (`skos:altLabel`), sorted.
    pub alt_labels: Vec<String>,
    /// Number of articles mentioning the entity.
    pub mentions: usize,
    /// Region level, agency kind, drug kind, campaign kind or case kind.
    pub kind: Option<String>,
    /// GB/T 2260 code of a Chinese region.
    pub admin_code: Option<String>,
    /// Labels of the regions the entity lies in (through `jd:locatedIn` or
    /// `jd:occurredIn`, then `jd:partOf` upwards); a region lists itself and
    /// its ancestors. Sorted.
    pub regions: Vec<String>,
    /// The top-level region (the root of the `jd:partOf` chain) the entity
    /// lies in, as (IRI, label): drawings cluster by it.
    pub top_region: Option<RegionRef>,
}

/// One place a relation was read.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct EdgeEvidence {
    /// The source file name (`jd:sourceFile` of the article).
    pub file: String,
    /// Unicode scalar offsets of the sentence in the decoded source.
    pub start: usize,
    pub end: usize,
    /// The article's IRI.
    pub article: String,
    pub sentence: String,
    pub rule: String,
    /// True when the article is about drugs (`jd:aboutDrugs`).
    #[serde(skip)]
    pub about_drugs: bool,
}

impl From<crate::summary::KeptEvidence> for EdgeEvidence {
    fn from(kept: crate::summary::KeptEvidence) -> Self {
        EdgeEvidence {
            file: kept.file,
            start: kept.start,
            end: kept.end,
            article: kept.article,
            sentence: kept.sentence,
            rule: kept.rule,
            about_drugs: kept.drug_rank.is_some(),
        }
    }
}

/// A relation between two entities.
#[derive(Debug, Clone, Serialize)]
pub struct Edge {
    pub property: Property,
    /// Number of distinct articles supporting the relation (0: from the gazetteer).
    pub support: usize,
    /// Where the relation was read, sorted by file and offsets. Empty when
    /// the graph was read with [`EvidenceDetail::Articles`] (the counts
    /// below then come from the store).
    pub evidence: Vec<EdgeEvidence>,
    /// Number of distinct supporting articles about drugs (`jd:aboutDrugs`),
    /// when known.
    #[serde(skip)]
    pub drug_support: Option<usize>,
    /// True when a `--drug-articles` filter kept only the evidence read in
    /// articles about drugs (so evidence loaded later keeps to those).
    #[serde(skip)]
    pub drug_only: bool,
    /// The number of evidence records when `evidence` holds only the first
    /// of them ([`EvidenceDetail::First`]); `None` when it holds them all.
    #[serde(skip)]
    pub evidence_total: Option<usize>,
    /// As `evidence_total`, among the records from articles about drugs.
    #[serde(skip)]
    pub drug_evidence_total: Option<usize>,
    /// True when the edge was loaded with [`LoadOptions::defer_evidence`]:
    /// `evidence` is empty and [`DeferredEvidence`] reads its records when
    /// a writer comes to the edge.
    #[serde(skip)]
    pub evidence_deferred: bool,
}

impl Edge {
    /// A relation without evidence.
    pub fn new(property: Property) -> Edge {
        Edge {
            property,
            support: 0,
            evidence: Vec::new(),
            drug_support: None,
            drug_only: false,
            evidence_total: None,
            drug_evidence_total: None,
            evidence_deferred: false,
        }
    }

    /// Recounts the distinct articles (all, and about drugs) of the evidence.
    pub fn recount_support(&mut self) {
        let articles: BTreeSet<&str> = self.evidence.iter().map(|e| e.article.as_str()).collect();
        self.support = articles.len();
        let drug: BTreeSet<&str> = self
            .evidence
            .iter()
            .filter(|e| e.about_drugs)
            .map(|e| e.article.as_str())
            .collect();
        self.drug_support = Some(drug.len());
    }
}

#[derive(Debug, Clone, Default)]
pub struct KnowledgeGraph {
    pub graph: DiGraph<Node, Edge>,
    /// Node of each entity IRI.
    pub index: HashMap<String, NodeIndex>,
}

impl KnowledgeGraph {
    /// Builds the graph from freshly extracted knowledge, with the same IRIs
    /// and evidence the store would hold.
    pub fn build(kn: &Knowledge) -> KnowledgeGraph {
        let nodes = kn
            .entities
            .values()
            .map(|entity| Node {
                iri: entity_iri(&entity.id).into_string(),
                class: entity.id.class,
                label: entity.label.clone(),
                alt_labels: entity.alt_labels.iter().cloned().collect(),
                mentions: entity.mentioned_in.len(),
                kind: entity.kind.clone(),
                admin_code: entity.admin_code.clone(),
                regions: Vec::new(),
                top_region: None,
            })
            .collect();
        let edges = kn
            .relations
            .values()
            .map(|relation| {
                let evidence = relation
                    .evidence
                    .iter()
                    .map(|ev| {
                        let article = &kn.articles[ev.article];
                        EdgeEvidence {
                            file: kn.sources[article.source].name.clone(),
                            start: ev.char_start,
                            end: ev.char_end,
                            article: article_iri(kn, ev.article).into_string(),
                            sentence: ev.sentence.to_string(),
                            rule: ev.rule.to_string(),
                            about_drugs: article.about_drugs,
                        }
                    })
                    .collect();
                (
                    entity_iri(&relation.key.subject).into_string(),
                    entity_iri(&relation.key.object).into_string(),
                    Edge {
                        evidence,
                        ..Edge::new(relation.key.property)
                    },
                )
            })
            .collect();
        KnowledgeGraph::assemble(nodes, edges, true)
    }

    /// Reads the graph from a store's default graph: entities (by their
    /// `rdf:type`), the direct triples of the relation properties between
    /// them, and the `jd:Assertion` records behind each relation.
    pub fn from_store(store: &Store) -> Result<KnowledgeGraph> {
        KnowledgeGraph::from_store_with(store, EvidenceDetail::Full)
    }

    /// As [`KnowledgeGraph::from_store`]; with [`EvidenceDetail::Articles`]
    /// the edges get their support counts (and the number of supporting
    /// articles about drugs) from the store but no evidence, which skips
    /// reading the sentences: see [`KnowledgeGraph::from_store_opts`].
    pub fn from_store_with(store: &Store, detail: EvidenceDetail) -> Result<KnowledgeGraph> {
        KnowledgeGraph::from_store_opts(
            store,
            LoadOptions {
                detail,
                drug_support: true,
                drug_evidence: false,
                defer_evidence: false,
            },
        )
    }

    /// Reads the graph from a store's default graph.
    ///
    /// Entity facts are read by one scan per property (a few per entity).
    /// What grows with the text (mentions, provenance records) comes from
    /// the summary graph the build keeps: one entry per relation or entity,
    /// and the first few evidence records per relation. Without it (a store
    /// built before it existed) it is counted inside the store by SPARQL
    /// aggregates over hash joins of whole property scans, so that only the
    /// results are decoded: decoding a term is a key lookup in the store,
    /// and reading every record term by term (several lookups each)
    /// dominated the load on large stores.
    pub fn from_store_opts(store: &Store, options: LoadOptions) -> Result<KnowledgeGraph> {
        // The summary graph (kept by the build) holds the counts and the
        // first evidence records; a store built before it existed is read
        // the slow way.
        let kept = if crate::summary::is_readable(store)? {
            crate::summary::evidence_kept(store)?
        } else {
            note_missing_summary(crate::summary::evidence_kept(store)?.is_some());
            None
        };
        // More records than the summary keeps are read from the default
        // graph: all of them at load, or (deferred) one subject's while an
        // export writes its edges, when the summary's rows allow it.
        let beyond_kept =
            matches!(options.detail, EvidenceDetail::First(n) if kept.is_some_and(|k| n > k));
        let detail = match options.detail {
            EvidenceDetail::First(_) if beyond_kept && options.defer_evidence => options.detail,
            EvidenceDetail::First(n) if kept.is_none_or(|k| n > k) => EvidenceDetail::Full,
            detail => detail,
        };
        let mut nodes: BTreeMap<String, Node> = BTreeMap::new();
        for class in EntityClass::ALL {
            let class_iri = jd(class.name());
            for (subject, _) in scan(store, rdf::TYPE, Some(class_iri.as_ref().into()))? {
                nodes.entry(subject.clone()).or_insert_with(|| Node {
                    label: fallback_label(&subject),
                    iri: subject,
                    class,
                    alt_labels: Vec::new(),
                    mentions: 0,
                    kind: None,
                    admin_code: None,
                    regions: Vec::new(),
                    top_region: None,
                });
            }
        }
        let mut labels: HashMap<String, String> = HashMap::new();
        for (subject, object) in scan(store, rdfs::LABEL, None)? {
            if nodes.contains_key(&subject) {
                let text = literal_text(&object);
                // One label per entity by the model; keep the smallest if a
                // loaded file added more, so the choice is stable.
                labels
                    .entry(subject)
                    .and_modify(|l| {
                        if text < *l {
                            *l = text.clone()
                        }
                    })
                    .or_insert(text);
            }
        }
        for (iri, label) in labels {
            if let Some(node) = nodes.get_mut(&iri) {
                node.label = label;
            }
        }
        for (subject, object) in scan(store, NamedNodeRef::new_unchecked(SKOS_ALT_LABEL), None)? {
            if let Some(node) = nodes.get_mut(&subject) {
                node.alt_labels.push(literal_text(&object));
            }
        }
        if kept.is_some() {
            for (iri, mentions) in crate::summary::read_mentions(store)? {
                if let Some(node) = nodes.get_mut(&iri) {
                    node.mentions = mentions;
                }
            }
        } else {
            count_mentions(store, &mut nodes)?;
        }
        for property in [
            "level",
            "agencyKind",
            "drugKind",
            "campaignKind",
            "caseKind",
        ] {
            for (subject, object) in scan(store, jd(property).as_ref(), None)? {
                if let Some(node) = nodes.get_mut(&subject) {
                    node.kind = Some(literal_text(&object));
                }
            }
        }
        for (subject, object) in scan(store, jd("adminCode").as_ref(), None)? {
            if let Some(node) = nodes.get_mut(&subject) {
                node.admin_code = Some(literal_text(&object));
            }
        }
        for node in nodes.values_mut() {
            node.alt_labels.sort();
            node.alt_labels.dedup();
        }

        // Relations: the direct triples between known entities, one scan
        // per property; as pairs of node keys when the summary has them.
        let node_keys = match kept {
            Some(_) => node_keys(store, &nodes)?,
            None => None,
        };
        let mut edges: BTreeMap<(String, Property, String), Edge> = BTreeMap::new();
        match &node_keys {
            Some(keys) => {
                for (s, property, o) in keyed_relations(store)? {
                    if let (Some(s), Some(o)) = (keys.get(&s), keys.get(&o)) {
                        if nodes.contains_key(s) && nodes.contains_key(o) {
                            edges.insert((s.clone(), property, o.clone()), Edge::new(property));
                        }
                    }
                }
            }
            None => {
                for property in Property::ALL {
                    for (subject, object) in scan(store, jd(property.name()).as_ref(), None)? {
                        let Term::NamedNode(object) = object else {
                            continue;
                        };
                        let object = object.into_string();
                        if nodes.contains_key(&subject) && nodes.contains_key(&object) {
                            edges.insert((subject, property, object), Edge::new(property));
                        }
                    }
                }
            }
        }
        let property_by_iri: HashMap<String, Property> = Property::ALL
            .into_iter()
            .map(|p| (jd(p.name()).into_string(), p))
            .collect();

        match detail {
            EvidenceDetail::Articles | EvidenceDetail::First(_) if kept.is_some() => {
                let first = match detail {
                    EvidenceDetail::First(n) => Some(n),
                    _ => None,
                };
                let reset = |edges: &mut BTreeMap<(String, Property, String), Edge>| {
                    for edge in edges.values_mut() {
                        edge.support = 0;
                        edge.evidence.clear();
                        edge.evidence_deferred = false;
                        edge.drug_support = (first.is_some() || options.drug_support).then_some(0);
                        if first.is_some() {
                            edge.evidence_total = Some(0);
                            edge.drug_evidence_total = Some(0);
                        }
                    }
                };
                reset(&mut edges);
                // Each entry goes to its edge as it is read: collecting
                // them first held every relation's key and records twice.
                let apply = |edges: &mut BTreeMap<(String, Property, String), Edge>,
                             key: (String, Property, String),
                             summary: crate::summary::RelationSummary,
                             deferred: bool| {
                    let Some(edge) = edges.get_mut(&key) else {
                        return;
                    };
                    edge.evidence_deferred = deferred;
                    edge.support = summary.support;
                    if edge.drug_support.is_some() {
                        edge.drug_support = Some(summary.drug_support);
                    }
                    if first.is_some() {
                        edge.evidence_total = Some(summary.evidence_count);
                        edge.drug_evidence_total = Some(summary.drug_evidence_count);
                    }
                    edge.evidence
                        .extend(summary.kept.into_iter().map(EdgeEvidence::from));
                };
                // With node keys, the per-subject rows (one lookup per
                // subject) when they cover every entry: the counts alone
                // (also when the records are deferred), or with evidence
                // the counts and kept records. Else the packs for evidence,
                // or the entries' counts by relation node (one lookup per
                // relation either way).
                let by_rows = match &node_keys {
                    Some(keys) => {
                        let deferred = first.is_some() && options.defer_evidence;
                        let take = |(s, property, o, summary): crate::summary::SubjectRow<'_>| {
                            if let Some(o) = keys.get(&o) {
                                let key = (s.to_string(), property, o.clone());
                                apply(&mut edges, key, summary, deferred);
                            }
                        };
                        let complete = match first {
                            None => crate::summary::read_subject_counts(store, take)?,
                            Some(_) if deferred => {
                                crate::summary::read_subject_counts(store, take)?
                            }
                            Some(n) => crate::summary::read_subject_evidence(
                                store,
                                n,
                                options.drug_evidence,
                                take,
                            )?,
                        };
                        if !complete {
                            reset(&mut edges);
                        }
                        complete
                    }
                    None => false,
                };
                if beyond_kept && !by_rows {
                    // (the packs keep too few records)
                    reset(&mut edges);
                    return KnowledgeGraph::with_full_evidence(
                        store,
                        nodes,
                        edges,
                        &property_by_iri,
                    );
                }
                if !by_rows {
                    let entries: Vec<(crate::summary::RelationKey, _)> = match first {
                        Some(n) => crate::summary::read_packed(store, n, options.drug_evidence)?,
                        None => {
                            let key_of_node: HashMap<String, crate::summary::RelationKey> = edges
                                .keys()
                                .map(|(s, p, o)| {
                                    let p = jd(p.name()).into_string();
                                    let node = crate::summary::relation_iri(s, &p, o);
                                    (node.into_string(), (s.clone(), p, o.clone()))
                                })
                                .collect();
                            crate::summary::read_relation_counts(store)?
                                .into_iter()
                                .filter_map(|(node, c)| {
                                    key_of_node.get(&node).map(|k| (k.clone(), c))
                                })
                                .collect()
                        }
                    };
                    for ((s, p, o), summary) in entries {
                        if let Some(&property) = property_by_iri.get(&p) {
                            apply(&mut edges, (s, property, o), summary, false);
                        }
                    }
                }
                if first.is_some() {
                    for edge in edges.values_mut() {
                        edge.evidence.sort();
                        edge.evidence.dedup();
                    }
                }
                let edges = edges.into_iter().map(|((s, _, o), e)| (s, o, e)).collect();
                Ok(KnowledgeGraph::assemble(
                    nodes.into_values().collect(),
                    edges,
                    false,
                ))
            }
            EvidenceDetail::Articles => {
                for edge in edges.values_mut() {
                    edge.drug_support = options.drug_support.then_some(0);
                }
                for (s, p, o, support, drug) in support_counts(store, options.drug_support)? {
                    let Some(&property) = property_by_iri.get(&p) else {
                        continue;
                    };
                    if let Some(edge) = edges.get_mut(&(s, property, o)) {
                        edge.support = support;
                        edge.drug_support = drug;
                    }
                }
                let edges = edges.into_iter().map(|((s, _, o), e)| (s, o, e)).collect();
                Ok(KnowledgeGraph::assemble(
                    nodes.into_values().collect(),
                    edges,
                    false,
                ))
            }
            EvidenceDetail::Full | EvidenceDetail::First(_) => {
                KnowledgeGraph::with_full_evidence(store, nodes, edges, &property_by_iri)
            }
        }
    }

    /// The graph of `nodes` and `edges` with every evidence record of the
    /// edges read from the default graph, and their support counted from
    /// them.
    fn with_full_evidence(
        store: &Store,
        nodes: BTreeMap<String, Node>,
        mut edges: BTreeMap<(String, Property, String), Edge>,
        property_by_iri: &HashMap<String, Property>,
    ) -> Result<KnowledgeGraph> {
        for edge in edges.values_mut() {
            *edge = Edge::new(edge.property);
        }
        read_full_evidence(store, &mut edges, property_by_iri)?;
        let edges = edges.into_iter().map(|((s, _, o), e)| (s, o, e)).collect();
        Ok(KnowledgeGraph::assemble(
            nodes.into_values().collect(),
            edges,
            true,
        ))
    }

    /// Reads the full evidence of one edge from the store, for a graph read
    /// with [`EvidenceDetail::Articles`]: one query for the provenance
    /// records of the edge's relation, cheap for the few edges a path shows.
    /// After a `--drug-articles` filter only records from articles about
    /// drugs are kept, so the filter still holds.
    pub fn load_evidence(&mut self, store: &Store, edge: EdgeIndex) -> Result<()> {
        let (s, o) = self
            .graph
            .edge_endpoints(edge)
            .context("no such edge in the graph")?;
        let iri = |n: NodeIndex| -> Result<String> {
            let iri = &self.graph[n].iri;
            NamedNode::new(iri.clone()).with_context(|| format!("bad IRI {iri}"))?;
            Ok(format!("<{iri}>"))
        };
        let query = format!(
            "PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> \
             PREFIX jd: <{jd}> \
             SELECT ?a ?sentence ?start ?end ?rule ?file ?drug WHERE {{ \
               ?r rdf:subject {s} ; rdf:object {o} ; rdf:predicate <{jd}{p}> ; a jd:Assertion . \
               OPTIONAL {{ ?r <{PROV_WAS_DERIVED_FROM}> ?a \
                 OPTIONAL {{ ?a jd:sourceFile ?file }} OPTIONAL {{ ?a jd:aboutDrugs ?drug }} }} \
               OPTIONAL {{ ?r jd:sentence ?sentence }} \
               OPTIONAL {{ ?r jd:charStart ?start }} \
               OPTIONAL {{ ?r jd:charEnd ?end }} \
               OPTIONAL {{ ?r jd:rule ?rule }} \
             }}",
            jd = crate::rdf::JD,
            s = iri(s)?,
            o = iri(o)?,
            p = self.graph[edge].property.name(),
        );
        let text = |row: &oxigraph::sparql::QuerySolution, name: &str| {
            row.get(name).map(literal_text).unwrap_or_default()
        };
        let mut evidence = Vec::new();
        for row in select(store, &query)? {
            let row = row.context("cannot read the store")?;
            let about_drugs = text(&row, "drug") == "true";
            if self.graph[edge].drug_only && !about_drugs {
                continue;
            }
            evidence.push(EdgeEvidence {
                file: text(&row, "file"),
                start: text(&row, "start").parse().unwrap_or(0),
                end: text(&row, "end").parse().unwrap_or(0),
                article: text(&row, "a"),
                sentence: text(&row, "sentence"),
                rule: text(&row, "rule"),
                about_drugs,
            });
        }
        evidence.sort();
        evidence.dedup();
        self.graph[edge].evidence = evidence;
        Ok(())
    }

    /// Sorts nodes and edges, builds the petgraph graph, counts support and
    /// annotates every node with its regions.
    /// With `recount`, the support counts come from the evidence (which is
    /// then sorted and deduplicated); otherwise they are kept as read.
    fn assemble(
        mut nodes: Vec<Node>,
        mut edges: Vec<(String, String, Edge)>,
        recount: bool,
    ) -> KnowledgeGraph {
        nodes.sort_by(|a, b| a.iri.cmp(&b.iri));
        nodes.dedup_by(|a, b| a.iri == b.iri);
        edges.sort_by(|a, b| {
            (&a.0, a.2.property.name(), &a.1).cmp(&(&b.0, b.2.property.name(), &b.1))
        });
        let mut graph = DiGraph::with_capacity(nodes.len(), edges.len());
        let mut index = HashMap::with_capacity(nodes.len());
        for node in nodes {
            let iri = node.iri.clone();
            index.insert(iri, graph.add_node(node));
        }
        for (subject, object, mut edge) in edges {
            let (Some(&s), Some(&o)) = (index.get(&subject), index.get(&object)) else {
                continue;
            };
            if recount {
                edge.evidence.sort();
                edge.evidence.dedup();
                edge.recount_support();
            }
            graph.add_edge(s, o, edge);
        }
        let mut kg = KnowledgeGraph { graph, index };
        kg.annotate_regions();
        kg
    }

    /// Fills [`Node::regions`] and [`Node::top_region`] from the
    /// `jd:locatedIn`, `jd:occurredIn` and `jd:partOf` edges.
    fn annotate_regions(&mut self) {
        let g = &self.graph;
        let is_region = |n: NodeIndex| g[n].class == EntityClass::Region;
        // Parents of each region, smallest IRI first (node order is IRI order).
        let parents = |n: NodeIndex| -> Vec<NodeIndex> {
            let mut p: Vec<NodeIndex> = g
                .edges_directed(n, Direction::Outgoing)
                .filter(|e| e.weight().property == Property::PartOf && is_region(e.target()))
                .map(|e| e.target())
                .collect();
            p.sort();
            p.dedup();
            p
        };
        let mut annotations: Vec<(Vec<String>, Option<RegionRef>)> = Vec::new();
        for n in g.node_indices() {
            let mut direct: Vec<NodeIndex> = if is_region(n) {
                vec![n]
            } else {
                g.edges_directed(n, Direction::Outgoing)
                    .filter(|e| {
                        matches!(
                            e.weight().property,
                            Property::LocatedIn | Property::OccurredIn
                        ) && is_region(e.target())
                    })
                    .map(|e| e.target())
                    .collect()
            };
            direct.sort();
            direct.dedup();
            let mut seen: BTreeSet<NodeIndex> = BTreeSet::new();
            let mut stack = direct.clone();
            while let Some(r) = stack.pop() {
                if seen.insert(r) {
                    stack.extend(parents(r));
                }
            }
            let labels: BTreeSet<String> = seen.iter().map(|&r| g[r].label.clone()).collect();
            // The root above the first direct region, following the first
            // parent each time (and stopping on a cycle).
            let top = direct.first().map(|&start| {
                let mut at = start;
                let mut visited = HashSet::from([at]);
                while let Some(&p) = parents(at).first() {
                    if !visited.insert(p) {
                        break;
                    }
                    at = p;
                }
                (g[at].iri.clone(), g[at].label.clone())
            });
            annotations.push((labels.into_iter().collect(), top));
        }
        for (n, (regions, top)) in self.graph.node_indices().zip(annotations) {
            self.graph[n].regions = regions;
            self.graph[n].top_region = top;
        }
    }

    /// Finds the entity a user names: by label, then by alternative label,
    /// then by IRI (full, or the part after `…/id/`). An unknown or ambiguous
    /// name is an error that lists the candidates.
    pub fn find(&self, name: &str, class: Option<EntityClass>) -> Result<NodeIndex> {
        let name = name.trim();
        let of_class = |n: &NodeIndex| class.is_none_or(|c| self.graph[*n].class == c);
        let by_label: Vec<NodeIndex> = self
            .graph
            .node_indices()
            .filter(|n| self.graph[*n].label == name)
            .filter(of_class)
            .collect();
        let candidates = if !by_label.is_empty() {
            by_label
        } else {
            let by_alt: Vec<NodeIndex> = self
                .graph
                .node_indices()
                .filter(|n| self.graph[*n].alt_labels.iter().any(|a| a == name))
                .filter(of_class)
                .collect();
            if !by_alt.is_empty() {
                by_alt
            } else {
                let full = if name.starts_with("http") {
                    name.to_string()
                } else {
                    format!("{}{}", crate::rdf::ID, name.trim_start_matches('/'))
                };
                self.index
                    .get(&full)
                    .copied()
                    .filter(of_class)
                    .into_iter()
                    .collect()
            }
        };
        let what = class.map_or("entity".to_string(), |c| c.name().to_string());
        match candidates.as_slice() {
            [one] => Ok(*one),
            [] => {
                let similar: Vec<String> = self
                    .graph
                    .node_indices()
                    .filter(of_class)
                    .filter(|n| {
                        let node = &self.graph[*n];
                        node.label.contains(name)
                            || (!node.label.is_empty() && name.contains(node.label.as_str()))
                            || node.alt_labels.iter().any(|a| a.contains(name))
                    })
                    .map(|n| self.describe(n))
                    .collect();
                if similar.is_empty() {
                    bail!(
                        "no {what} named {name} in the graph (give a label, an alternative label or an IRI)"
                    )
                }
                let more = match similar.len().saturating_sub(MAX_CANDIDATES) {
                    0 => String::new(),
                    k => format!("\n  … and {k} more"),
                };
                bail!(
                    "no {what} named exactly {name}; similar names:\n  {}{more}",
                    similar[..similar.len().min(MAX_CANDIDATES)].join("\n  ")
                )
            }
            many => bail!(
                "{name} names {} entities; give one of these IRIs instead:\n  {}",
                many.len(),
                many.iter()
                    .map(|&n| self.describe(n))
                    .collect::<Vec<_>>()
                    .join("\n  ")
            ),
        }
    }

    /// `label (Class) <iri>`, for messages.
    pub fn describe(&self, n: NodeIndex) -> String {
        let node = &self.graph[n];
        format!("{} ({}) <{}>", node.label, node.class.name(), node.iri)
    }

    /// Undirected degree of every node, highest first (ties by label),
    /// leaving out the region hierarchy that only the gazetteer implies.
    pub fn degree_ranking(&self, class: Option<EntityClass>) -> Vec<(String, usize)> {
        let mut out: Vec<(String, usize)> = self
            .graph
            .node_indices()
            .filter(|&n| class.is_none_or(|c| self.graph[n].class == c))
            .map(|n| {
                let degree = self
                    .graph
                    .edges_directed(n, Direction::Outgoing)
                    .chain(self.graph.edges_directed(n, Direction::Incoming))
                    .filter(|e| e.weight().property != Property::PartOf || e.weight().support > 0)
                    .count();
                (self.graph[n].label.clone(), degree)
            })
            .collect();
        out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        out
    }

    /// Number of weakly connected components.
    pub fn component_count(&self) -> usize {
        petgraph::algo::connected_components(&self.graph)
    }
}

/// A region as (IRI, label).
pub type RegionRef = (String, String);

/// Sets one field of a [`Record`] from an object term.
type RecordSetter = fn(&mut Record, Term);

/// The provenance record of one relation, as read from the store.
#[derive(Default)]
struct Record {
    subject: String,
    predicate: String,
    object: String,
    article: String,
    sentence: String,
    start: usize,
    end: usize,
    rule: String,
}

/// What [`KnowledgeGraph::from_store_opts`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadOptions {
    pub detail: EvidenceDetail,
    /// With [`EvidenceDetail::Articles`]: also count the supporting
    /// articles about drugs (what `--drug-articles` needs; one more join).
    pub drug_support: bool,
    /// With [`EvidenceDetail::First`]: the first evidence records among
    /// those from articles about drugs (what `--drug-articles` keeps).
    pub drug_evidence: bool,
    /// With [`EvidenceDetail::First`] and a summary with per-subject rows:
    /// load the counts only and leave the records to [`DeferredEvidence`],
    /// which reads them one subject at a time as an export writes the
    /// edges. Holding five records per edge took 3 GB for the 1 GB
    /// corpus's graph; otherwise ignored (the records are loaded).
    pub defer_evidence: bool,
}

/// The evidence records of edges loaded with
/// [`LoadOptions::defer_evidence`], read from the summary while a writer
/// goes through the edges: one lookup per subject (the loader orders the
/// edges by subject, so a subject's edges come together and its row is
/// read once), holding one subject's records at a time.
pub struct DeferredEvidence<'s> {
    store: &'s Store,
    /// As the load's [`EvidenceDetail::First`].
    limit: usize,
    /// As the load's [`LoadOptions::drug_evidence`].
    drug_evidence: bool,
    /// True when `limit` is more than the summary keeps: the subject's
    /// records are then read from the default graph.
    beyond_kept: bool,
    /// The rows of the subjects read last, by subject IRI, with their
    /// relations not yet taken.
    rows: std::cell::RefCell<HashMap<String, crate::summary::SubjectEvidence>>,
    /// As `rows`, with every record (when `beyond_kept`).
    records: std::cell::RefCell<HashMap<String, SubjectRecords>>,
}

/// How many subjects [`DeferredEvidence`] reads at a time, in parallel:
/// on a store larger than memory each is a random read, and several
/// outstanding reads overlap their waits; a few hundred subjects' rows are
/// a few megabytes.
const DEFERRED_SUBJECTS_PER_READ: usize = 256;

impl<'s> DeferredEvidence<'s> {
    pub fn new(
        store: &'s Store,
        limit: usize,
        drug_evidence: bool,
    ) -> Result<DeferredEvidence<'s>> {
        let kept = crate::summary::evidence_kept(store)?;
        Ok(DeferredEvidence {
            store,
            limit,
            drug_evidence,
            beyond_kept: kept.is_some_and(|k| limit > k),
            rows: Default::default(),
            records: Default::default(),
        })
    }

    /// The edge's evidence as a load without deferral holds it: its own
    /// when it was not deferred, else its subject's kept records (sorted,
    /// and only those from articles about drugs after `--drug-articles`).
    /// A relation missing from its subject's row (a damaged summary) is
    /// read from its pack; missing there too, it is an error.
    pub fn records<'g>(
        &self,
        kg: &'g KnowledgeGraph,
        e: EdgeIndex,
    ) -> Result<std::borrow::Cow<'g, [EdgeEvidence]>> {
        let edge = &kg.graph[e];
        if !edge.evidence_deferred {
            return Ok(std::borrow::Cow::Borrowed(&edge.evidence));
        }
        let (s, o) = kg
            .graph
            .edge_endpoints(e)
            .context("no such edge in the graph")?;
        let (s, o) = (&kg.graph[s].iri, &kg.graph[o].iri);
        if self.beyond_kept {
            let store = self.store;
            let mut records = self.records.borrow_mut();
            Self::read_ahead(kg, e, &mut records, |s| subject_records(store, s))?;
            let mut evidence = records
                .get_mut(s)
                .and_then(|r| r.remove(&(edge.property, o.clone())))
                .unwrap_or_default();
            if edge.drug_only {
                evidence.retain(|ev| ev.about_drugs);
            }
            return Ok(std::borrow::Cow::Owned(evidence));
        }
        let (store, limit, drug_evidence) = (self.store, self.limit, self.drug_evidence);
        let mut rows = self.rows.borrow_mut();
        Self::read_ahead(kg, e, &mut rows, |s| {
            crate::summary::subject_evidence(store, s, limit, drug_evidence)
        })?;
        let key = (edge.property, crate::summary::node_key(o));
        let summary = match rows.get_mut(s).and_then(|r| r.remove(&key)) {
            Some(summary) => summary,
            None => {
                let p = jd(edge.property.name());
                crate::summary::relation_evidence(
                    self.store,
                    (s, p.as_str(), o),
                    self.limit,
                    self.drug_evidence,
                )?
                .with_context(|| {
                    format!(
                        "the summary graph has no evidence for {s} {p} {o}: run `jindu build --summary` on the store"
                    )
                })?
            }
        };
        let mut evidence: Vec<EdgeEvidence> =
            summary.kept.into_iter().map(EdgeEvidence::from).collect();
        evidence.sort();
        evidence.dedup();
        if edge.drug_only {
            evidence.retain(|ev| ev.about_drugs);
        }
        Ok(std::borrow::Cow::Owned(evidence))
    }

    /// Makes `held` the reads of the subject of edge `e` and of the next
    /// subjects of deferred edges in index order (the order the writers
    /// go in), [`DEFERRED_SUBJECTS_PER_READ`] in all, read in parallel,
    /// unless it holds that subject already.
    fn read_ahead<T: Send>(
        kg: &KnowledgeGraph,
        e: EdgeIndex,
        held: &mut HashMap<String, T>,
        read: impl Fn(&str) -> Result<T> + Sync,
    ) -> Result<()> {
        let g = &kg.graph;
        let subject = |e: EdgeIndex| g.edge_endpoints(e).map(|(s, _)| &g[s].iri);
        if subject(e).is_some_and(|s| held.contains_key(s)) {
            return Ok(());
        }
        let mut next: Vec<&String> = Vec::new();
        let mut seen: HashSet<&String> = HashSet::new();
        for index in e.index()..g.edge_count() {
            let e = EdgeIndex::new(index);
            if !g[e].evidence_deferred {
                continue;
            }
            if let Some(s) = subject(e)
                && seen.insert(s)
            {
                next.push(s);
                if next.len() == DEFERRED_SUBJECTS_PER_READ {
                    break;
                }
            }
        }
        let read: Vec<(String, T)> = next
            .into_par_iter()
            .map(|s| Ok((s.clone(), read(s)?)))
            .collect::<Result<_>>()?;
        *held = read.into_iter().collect();
        Ok(())
    }
}

/// The solutions of a SELECT query on the store.
pub(crate) fn select(
    store: &Store,
    query: &str,
) -> Result<oxigraph::sparql::QuerySolutionIter<'static>> {
    let results = SparqlEvaluator::new()
        .parse_query(query)
        .with_context(|| format!("bad internal query {query}"))?
        .on_store(store)
        .execute()
        .context("cannot query the store")?;
    match results {
        QueryResults::Solutions(solutions) => Ok(solutions),
        _ => bail!("an internal query did not return solutions"),
    }
}

/// The value of a count in a solution.
pub(crate) fn count_of(term: &Term) -> usize {
    match term {
        Term::Literal(l) => l.value().parse().unwrap_or(0),
        _ => 0,
    }
}

/// Says once per run that the store has no summary graph.
fn note_missing_summary(outdated: bool) {
    static NOTED: std::sync::Once = std::sync::Once::new();
    NOTED.call_once(|| {
        if outdated {
            eprintln!(
                "jindu: note: the store's summary graph is of an older layout, so the counts are read from every provenance record (slow on large stores): `jindu build --summary` updates it"
            )
        } else {
            eprintln!(
                "jindu: note: the store has no summary graph, so the counts are read from every provenance record (slow on large stores): `jindu build --summary` adds it"
            )
        }
    });
}

/// Mentions counted per entity in the store (statistics mention articles
/// too, hence the join with the entity classes): the way without a summary.
fn count_mentions(store: &Store, nodes: &mut BTreeMap<String, Node>) -> Result<()> {
    let classes: Vec<String> = EntityClass::ALL
        .iter()
        .map(|c| format!("<{}>", jd(c.name()).as_str()))
        .collect();
    let mentions = format!(
        "SELECT ?e (COUNT(*) AS ?n) WHERE {{ \
               {{ SELECT DISTINCT ?e WHERE {{ VALUES ?c {{ {} }} ?e a ?c }} }} \
               {{ SELECT ?e ?a WHERE {{ ?e <{}mentionedIn> ?a }} }} \
             }} GROUP BY ?e",
        classes.join(" "),
        crate::rdf::JD
    );
    for row in select(store, &mentions)? {
        let row = row.context("cannot read the store")?;
        if let (Some(Term::NamedNode(e)), Some(n)) = (row.get("e"), row.get("n")) {
            if let Some(node) = nodes.get_mut(e.as_str()) {
                node.mentions = count_of(n);
            }
        }
    }
    Ok(())
}

/// The provenance records (`rdf:subject`, `rdf:predicate`, `rdf:object`,
/// `prov:wasDerivedFrom`) as hash joins of whole property scans: each
/// pattern in its own subquery, which Oxigraph's planner joins by hashing
/// rather than by one index lookup per record.
const RECORDS: &str = "{ SELECT ?r ?s WHERE { ?r <http://www.w3.org/1999/02/22-rdf-syntax-ns#subject> ?s } } \
    { SELECT ?r ?p WHERE { ?r <http://www.w3.org/1999/02/22-rdf-syntax-ns#predicate> ?p } } \
    { SELECT ?r ?o WHERE { ?r <http://www.w3.org/1999/02/22-rdf-syntax-ns#object> ?o } } \
    { SELECT ?r ?a WHERE { ?r <http://www.w3.org/ns/prov#wasDerivedFrom> ?a } }";

/// Per relation (subject, predicate, object IRIs): the number of distinct
/// articles of its provenance records and, when asked, of those about
/// drugs. Counted inside the store: only one row per relation is decoded.
type SupportRow = (String, String, String, usize, Option<usize>);

fn support_counts(store: &Store, drug_support: bool) -> Result<Vec<SupportRow>> {
    let query = if drug_support {
        format!(
            "SELECT ?s ?p ?o (COUNT(DISTINCT ?a) AS ?n) (COUNT(DISTINCT ?d) AS ?nd) WHERE {{ {RECORDS} \
               OPTIONAL {{ SELECT ?a (?a AS ?d) WHERE {{ ?a <{}aboutDrugs> true }} }} \
             }} GROUP BY ?s ?p ?o",
            crate::rdf::JD
        )
    } else {
        format!(
            "SELECT ?s ?p ?o (COUNT(DISTINCT ?a) AS ?n) WHERE {{ {RECORDS} }} GROUP BY ?s ?p ?o"
        )
    };
    let mut out = Vec::new();
    for row in select(store, &query)? {
        let row = row.context("cannot read the store")?;
        let (Some(Term::NamedNode(s)), Some(Term::NamedNode(p)), Some(Term::NamedNode(o))) =
            (row.get("s"), row.get("p"), row.get("o"))
        else {
            continue;
        };
        out.push((
            s.as_str().to_string(),
            p.as_str().to_string(),
            o.as_str().to_string(),
            row.get("n").map_or(0, count_of),
            row.get("nd").map(count_of),
        ));
    }
    Ok(out)
}

/// Reads every provenance record of the relations in `edges` into their
/// evidence, one property at a time (the scans in parallel).
fn read_full_evidence(
    store: &Store,
    edges: &mut BTreeMap<(String, Property, String), Edge>,
    property_by_iri: &HashMap<String, Property>,
) -> Result<()> {
    // Articles: their file name and whether they are about drugs.
    let mut article_files: HashMap<String, String> = HashMap::new();
    for (subject, object) in scan(store, jd("sourceFile").as_ref(), None)? {
        article_files.insert(subject, literal_text(&object));
    }
    let mut drug_articles: HashSet<String> = HashSet::new();
    for (subject, object) in scan(store, jd("aboutDrugs").as_ref(), None)? {
        if literal_text(&object) == "true" {
            drug_articles.insert(subject);
        }
    }
    let mut records: HashMap<String, Record> = HashMap::new();
    for (subject, _) in scan(store, rdf::TYPE, Some(jd("Assertion").as_ref().into()))? {
        records.insert(subject, Record::default());
    }
    let fields: [(NamedNode, RecordSetter); 8] = [
        (rdf::SUBJECT.into_owned(), |r, t| r.subject = iri_of(t)),
        (rdf::PREDICATE.into_owned(), |r, t| r.predicate = iri_of(t)),
        (rdf::OBJECT.into_owned(), |r, t| r.object = iri_of(t)),
        (NamedNode::new_unchecked(PROV_WAS_DERIVED_FROM), |r, t| {
            r.article = iri_of(t)
        }),
        (jd("sentence"), |r, t| r.sentence = literal_text(&t)),
        (jd("charStart"), |r, t| {
            r.start = literal_text(&t).parse().unwrap_or(0)
        }),
        (jd("charEnd"), |r, t| {
            r.end = literal_text(&t).parse().unwrap_or(0)
        }),
        (jd("rule"), |r, t| r.rule = literal_text(&t)),
    ];
    let scans: Vec<(RecordSetter, Vec<(String, Term)>)> = fields
        .into_par_iter()
        .map(|(predicate, set)| Ok((set, scan(store, predicate.as_ref(), None)?)))
        .collect::<Result<_>>()?;
    for (set, pairs) in scans {
        for (subject, object) in pairs {
            if let Some(record) = records.get_mut(&subject) {
                set(record, object);
            }
        }
    }
    for record in records.into_values() {
        let Some(&property) = property_by_iri.get(&record.predicate) else {
            continue;
        };
        let key = (record.subject, property, record.object);
        if let Some(edge) = edges.get_mut(&key) {
            edge.evidence.push(EdgeEvidence {
                file: article_files
                    .get(&record.article)
                    .cloned()
                    .unwrap_or_default(),
                start: record.start,
                end: record.end,
                about_drugs: drug_articles.contains(&record.article),
                article: record.article,
                sentence: record.sentence,
                rule: record.rule,
            });
        }
    }
    Ok(())
}

/// One subject's evidence records by property and object IRI.
type SubjectRecords = HashMap<(Property, String), Vec<EdgeEvidence>>;

/// Every provenance record of one subject's relations, read as
/// [`read_full_evidence`] reads them for every relation (fields a record
/// lacks are empty), sorted in evidence order without duplicates: one
/// query, whose index lookups start from the subject.
fn subject_records(store: &Store, subject: &str) -> Result<SubjectRecords> {
    let subject = NamedNodeRef::new(subject).with_context(|| format!("bad IRI {subject}"))?;
    let query = format!(
        "SELECT ?p ?o ?a ?sentence ?start ?end ?rule ?file ?drug WHERE {{ \
           ?st {rs} {subject} ; {rp} ?p ; {ro} ?o ; a {assertion} . \
           OPTIONAL {{ ?st <{PROV_WAS_DERIVED_FROM}> ?a \
                      OPTIONAL {{ ?a {file} ?file }} OPTIONAL {{ ?a {drug} ?drug }} }} \
           OPTIONAL {{ ?st {sentence} ?sentence }} OPTIONAL {{ ?st {start} ?start }} \
           OPTIONAL {{ ?st {end} ?end }} OPTIONAL {{ ?st {rule} ?rule }} }}",
        rs = rdf::SUBJECT,
        rp = rdf::PREDICATE,
        ro = rdf::OBJECT,
        assertion = jd("Assertion"),
        file = jd("sourceFile"),
        drug = jd("aboutDrugs"),
        sentence = jd("sentence"),
        start = jd("charStart"),
        end = jd("charEnd"),
        rule = jd("rule"),
    );
    let by_name: HashMap<String, Property> = Property::ALL
        .into_iter()
        .map(|p| (jd(p.name()).into_string(), p))
        .collect();
    let mut out: SubjectRecords = HashMap::new();
    for row in select(store, &query)? {
        let row = row.context("cannot read the store")?;
        let (Some(Term::NamedNode(p)), Some(Term::NamedNode(o))) = (row.get("p"), row.get("o"))
        else {
            continue;
        };
        let Some(&property) = by_name.get(p.as_str()) else {
            continue;
        };
        let text = |name: &str| row.get(name).map(literal_text).unwrap_or_default();
        let article = match row.get("a") {
            Some(a) => iri_of(a.clone()),
            None => String::new(),
        };
        out.entry((property, o.as_str().to_string()))
            .or_default()
            .push(EdgeEvidence {
                file: text("file"),
                start: text("start").parse().unwrap_or(0),
                end: text("end").parse().unwrap_or(0),
                article,
                sentence: text("sentence"),
                rule: text("rule"),
                about_drugs: text("drug") == "true",
            });
    }
    for evidence in out.values_mut() {
        evidence.sort();
        evidence.dedup();
    }
    Ok(out)
}

/// The entity IRIs by node key (see [`crate::summary::node_key`]) when the
/// summary keys every node and no two keys it holds are equal; `None`
/// otherwise (an older summary, or a collision), and the IRIs are read.
fn node_keys(
    store: &Store,
    nodes: &BTreeMap<String, Node>,
) -> Result<Option<HashMap<i64, String>>> {
    let mut by_key = HashMap::with_capacity(nodes.len());
    let mut keyed_nodes = 0;
    for (iri, key) in crate::summary::read_node_keys(store)? {
        if key != crate::summary::node_key(&iri) {
            return Ok(None);
        }
        keyed_nodes += usize::from(nodes.contains_key(&iri));
        if by_key.insert(key, iri).is_some() {
            return Ok(None);
        }
    }
    Ok((keyed_nodes == nodes.len()).then_some(by_key))
}

/// The relations of the default graph as (subject key, property, object
/// key), for subjects and objects with a node key: one query per property
/// whose results are integers stored inside the quads, so that nothing is
/// looked up in the store's string table (two lookups per relation when
/// read as IRIs, which dominated loading a large store).
fn keyed_relations(store: &Store) -> Result<Vec<crate::summary::KeyedRelation>> {
    let summary = crate::summary::SUMMARY_GRAPH;
    let key = jd("nodeKey");
    let mut out = Vec::new();
    for property in Property::ALL {
        // Sub-selects, so that the keys are hash-joined to the relations
        // rather than looked up once per relation.
        let query = format!(
            "SELECT ?sk ?ok WHERE {{ \
               {{ SELECT ?s ?o WHERE {{ ?s {p} ?o }} }} \
               {{ SELECT ?s ?sk WHERE {{ GRAPH <{summary}> {{ ?s {key} ?sk }} }} }} \
               {{ SELECT ?o ?ok WHERE {{ GRAPH <{summary}> {{ ?o {key} ?ok }} }} }} \
             }}",
            p = jd(property.name()),
        );
        for row in select(store, &query)? {
            let row = row.context("cannot read the store")?;
            if let (Some(s), Some(o)) = (integer_of(&row, "sk"), integer_of(&row, "ok")) {
                out.push((s, property, o));
            }
        }
    }
    Ok(out)
}

/// An integer binding of a query row.
pub(crate) fn integer_of(row: &oxigraph::sparql::QuerySolution, name: &str) -> Option<i64> {
    match row.get(name) {
        Some(Term::Literal(l)) => l.value().parse().ok(),
        _ => None,
    }
}

/// The (named subject, object) pairs of a predicate in the default graph,
/// optionally with a fixed object.
fn scan(
    store: &Store,
    predicate: NamedNodeRef<'_>,
    object: Option<TermRef<'_>>,
) -> Result<Vec<(String, Term)>> {
    // A projection query rather than a quad scan: a scan decodes every
    // term of every quad, the fixed predicate (and object) included, and
    // each IRI or long literal decoded is a store lookup.
    let query = match object {
        Some(object) => format!("SELECT ?s WHERE {{ ?s {predicate} {object} }}"),
        None => format!("SELECT ?s ?o WHERE {{ ?s {predicate} ?o }}"),
    };
    let mut out = Vec::new();
    for row in select(store, &query)? {
        let row = row.context("cannot read the store")?;
        let Some(Term::NamedNode(subject)) = row.get("s") else {
            continue;
        };
        let value = match object {
            Some(object) => object.into_owned(),
            None => match row.get("o") {
                Some(o) => o.clone(),
                None => continue,
            },
        };
        out.push((subject.as_str().to_string(), value));
    }
    Ok(out)
}

pub(crate) fn literal_text(term: &Term) -> String {
    match term {
        Term::Literal(l) => l.value().to_string(),
        Term::NamedNode(n) => n.as_str().to_string(),
        other => other.to_string(),
    }
}

fn iri_of(term: Term) -> String {
    match term {
        Term::NamedNode(n) => n.into_string(),
        other => other.to_string(),
    }
}

/// The last IRI segment, for an entity without `rdfs:label`.
fn fallback_label(iri: &str) -> String {
    iri.rsplit('/').next().unwrap_or(iri).to_string()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::{Entity, EntityId, Evidence};

    pub(crate) fn entity(class: EntityClass, key: &str) -> Entity {
        Entity {
            id: EntityId::new(class, key),
            label: key.to_string(),
            alt_labels: Default::default(),
            mentioned_in: [0].into(),
            admin_code: None,
            kind: None,
            code: None,
        }
    }

    pub(crate) fn evidence(article: usize) -> Evidence {
        Evidence {
            article,
            char_start: 0,
            char_end: 1,
            sentence: format!("sentence {article}").into(),
            rule: "test".into(),
        }
    }

    /// A knowledge value with sources and articles for the given number of
    /// articles (the odd ones about drugs).
    pub(crate) fn knowledge_with_articles(count: usize) -> Knowledge {
        let mut kn = Knowledge::default();
        kn.sources.push(crate::model::SourceInfo {
            name: "test.txt".into(),
            path: "test.txt".into(),
            sha256: "0123456789abcdef0123456789abcdef".into(),
            encoding: "UTF-8".into(),
            char_len: 10,
            byte_len: 10,
        });
        for i in 0..count {
            kn.articles.push(crate::model::ArticleInfo {
                source: 0,
                index: i + 1,
                title: None,
                char_start: 0,
                char_end: 1,
                about_drugs: i % 2 == 1,
                date: None,
            });
        }
        kn
    }

    #[test]
    fn builds_nodes_edges_and_degrees() {
        let mut kn = knowledge_with_articles(1);
        let a = kn.upsert_entity(entity(EntityClass::Agency, "开鲁县公安局"));
        let r = kn.upsert_entity(entity(EntityClass::Region, "开鲁县"));
        let c = kn.upsert_entity(entity(EntityClass::Campaign, "清源断流"));
        kn.add_relation(a.clone(), Property::LocatedIn, r, Some(evidence(0)));
        kn.add_relation(a, Property::ParticipatesIn, c, Some(evidence(0)));
        let g = KnowledgeGraph::build(&kn);
        assert_eq!(g.graph.node_count(), 3);
        assert_eq!(g.graph.edge_count(), 2);
        assert_eq!(g.degree_ranking(None)[0], ("开鲁县公安局".to_string(), 2));
        assert_eq!(g.component_count(), 1);
        let agency = g.find("开鲁县公安局", None).unwrap();
        assert_eq!(g.graph[agency].regions, vec!["开鲁县".to_string()]);
        assert!(g.graph[agency].iri.ends_with("agency/开鲁县公安局"));
    }

    #[test]
    fn a_store_reads_back_as_the_graph_it_was_built_from() {
        let mut kn = knowledge_with_articles(2);
        let mut a = entity(EntityClass::Agency, "开鲁县公安局");
        a.alt_labels.insert("开鲁公安".into());
        let a = kn.upsert_entity(a);
        let mut county = entity(EntityClass::Region, "开鲁县");
        county.admin_code = Some("150523".into());
        county.kind = Some("county".into());
        let county = kn.upsert_entity(county);
        let city = kn.upsert_entity(entity(EntityClass::Region, "通辽市"));
        let c = kn.upsert_entity(entity(EntityClass::Campaign, "清源断流"));
        kn.add_relation(
            a.clone(),
            Property::LocatedIn,
            county.clone(),
            Some(evidence(0)),
        );
        kn.add_relation(
            a.clone(),
            Property::LocatedIn,
            county.clone(),
            Some(evidence(1)),
        );
        kn.add_relation(a, Property::ParticipatesIn, c, Some(evidence(1)));
        kn.add_relation(county, Property::PartOf, city, None);
        let built = KnowledgeGraph::build(&kn);

        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path().join("store")).unwrap();
            store.extend(crate::rdf::knowledge_quads(&kn)).unwrap();
            store.flush().unwrap();
        }
        {
            // Copies of the data in a named graph (one per source, soon)
            // must not count twice.
            let rw = Store::open(dir.path().join("store")).unwrap();
            let copy = oxigraph::model::NamedNode::new("urn:jindu:test-copy").unwrap();
            let quads: Vec<oxigraph::model::Quad> = rw
                .quads_for_pattern(
                    None,
                    None,
                    None,
                    Some(oxigraph::model::GraphNameRef::DefaultGraph),
                )
                .map(|q| {
                    let q = q.unwrap();
                    oxigraph::model::Quad::new(q.subject, q.predicate, q.object, copy.clone())
                })
                .collect();
            rw.extend(quads).unwrap();
            rw.flush().unwrap();
        }
        let store = crate::rdf::open_store(&dir.path().join("store")).unwrap();
        let read = KnowledgeGraph::from_store(&store).unwrap();
        let nodes = |g: &KnowledgeGraph| {
            serde_json::to_string(&g.graph.node_weights().collect::<Vec<_>>()).unwrap()
        };
        let edges = |g: &KnowledgeGraph| {
            g.graph
                .edge_indices()
                .map(|e| {
                    let (s, o) = g.graph.edge_endpoints(e).unwrap();
                    (
                        g.graph[s].iri.clone(),
                        g.graph[o].iri.clone(),
                        serde_json::to_string(&g.graph[e]).unwrap(),
                    )
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(nodes(&read), nodes(&built));
        assert_eq!(edges(&read), edges(&built));
        let located = read
            .graph
            .edge_weights()
            .find(|e| e.property == Property::LocatedIn)
            .unwrap();
        assert_eq!(located.support, 2);
        assert_eq!(located.evidence[0].file, "test.txt");
        // Articles only: same support, counted in the store, no evidence.
        let mut light = KnowledgeGraph::from_store_with(&store, EvidenceDetail::Articles).unwrap();
        let located = light
            .graph
            .edge_weights()
            .find(|e| e.property == Property::LocatedIn)
            .unwrap();
        assert_eq!(located.support, 2);
        assert!(located.evidence.is_empty());
        assert_eq!(located.drug_support, Some(1));
        let supports = |g: &KnowledgeGraph| {
            g.graph
                .edge_weights()
                .map(|e| (e.support, e.drug_support))
                .collect::<Vec<_>>()
        };
        assert_eq!(supports(&light), supports(&read));
        let edge = light
            .graph
            .edge_indices()
            .find(|&e| light.graph[e].property == Property::LocatedIn)
            .unwrap();
        light.load_evidence(&store, edge).unwrap();
        let full = read
            .graph
            .edge_weights()
            .find(|e| e.property == Property::LocatedIn)
            .unwrap();
        assert_eq!(light.graph[edge].evidence, full.evidence);

        // With the summary graph: the same counts and first evidence.
        drop((store, light));
        {
            let rw = Store::open(dir.path().join("store")).unwrap();
            crate::summary::refresh_all(&rw).unwrap();
            rw.flush().unwrap();
        }
        let store = crate::rdf::open_store(&dir.path().join("store")).unwrap();
        let first = KnowledgeGraph::from_store_with(&store, EvidenceDetail::First(5)).unwrap();
        assert_eq!(nodes(&first), nodes(&read));
        assert_eq!(edges(&first), edges(&read));
        let light = KnowledgeGraph::from_store_with(&store, EvidenceDetail::Articles).unwrap();
        assert_eq!(supports(&light), supports(&read));
        let one = KnowledgeGraph::from_store_with(&store, EvidenceDetail::First(1)).unwrap();
        let located = one
            .graph
            .edge_weights()
            .find(|e| e.property == Property::LocatedIn)
            .unwrap();
        assert_eq!(located.evidence.len(), 1);
        assert_eq!(located.evidence_total, Some(2));
        let one_edges = edges(&one);
        // Those reads went by node keys (every node has one) …
        let mut by_iri = BTreeMap::new();
        for n in read.graph.node_weights() {
            by_iri.insert(n.iri.clone(), n.clone());
        }
        assert!(node_keys(&store, &by_iri).unwrap().is_some());
        assert!(crate::summary::read_subject_counts(&store, |_| ()).unwrap());
        assert!(crate::summary::read_subject_evidence(&store, 5, false, |_| ()).unwrap());
        // Deferred records, read as an export writes the edges, are those
        // the load would have held.
        let deferred_edges = |store: &Store, n: usize| -> Result<_> {
            let options = LoadOptions {
                detail: EvidenceDetail::First(n),
                drug_support: true,
                drug_evidence: false,
                defer_evidence: true,
            };
            let mut g = KnowledgeGraph::from_store_opts(store, options)?;
            let reader = DeferredEvidence::new(store, n, false)?;
            let mut deferred = 0;
            for e in g.graph.edge_indices().collect::<Vec<_>>() {
                let records = reader.records(&g, e)?.into_owned();
                deferred += usize::from(g.graph[e].evidence_deferred);
                g.graph[e].evidence = records;
                g.graph[e].evidence_deferred = false;
            }
            Ok((edges(&g), deferred))
        };
        assert_eq!(deferred_edges(&store, 5).unwrap(), (edges(&read), 2));
        assert_eq!(deferred_edges(&store, 1).unwrap(), (one_edges.clone(), 2));
        // (more than the summary keeps: from the default graph)
        assert_eq!(deferred_edges(&store, 9).unwrap(), (edges(&read), 2));
        drop((store, first, light, one));
        let remove = |predicate: &str| {
            let rw = Store::open(dir.path().join("store")).unwrap();
            let quads: Vec<_> = rw
                .quads_for_pattern(None, Some(jd(predicate).as_ref()), None, None)
                .map(|q| q.unwrap())
                .collect();
            for quad in &quads {
                rw.remove(quad).unwrap();
            }
            rw.flush().unwrap();
            quads.len()
        };
        // … without the per-subject evidence (or with some of it: the rows
        // read are undone), the evidence is read from the relations' packs …
        {
            let rw = Store::open(dir.path().join("store")).unwrap();
            let quads: Vec<_> = rw
                .quads_for_pattern(None, Some(jd("relationEvidence").as_ref()), None, None)
                .map(|q| q.unwrap())
                .collect();
            // The agency's literal without its last row, and another
            // sentence in the first.
            let [quad] = &quads[..] else {
                panic!("one subject")
            };
            let Term::Literal(rows) = &quad.object else {
                panic!("a literal")
            };
            let mut rows: Vec<serde_json::Value> = serde_json::from_str(rows.value()).unwrap();
            assert_eq!(rows.len(), 2);
            rows.pop();
            // (a record the packs do not hold: kept, it would show)
            rows[0][6][0]["sentence"] = "不在证据包中".into();
            rw.remove(quad).unwrap();
            let fewer = oxigraph::model::Literal::new_typed_literal(
                serde_json::to_string(&rows).unwrap(),
                NamedNodeRef::new_unchecked("http://www.w3.org/1999/02/22-rdf-syntax-ns#JSON"),
            );
            rw.insert(&oxigraph::model::Quad::new(
                quad.subject.clone(),
                quad.predicate.clone(),
                fewer,
                quad.graph_name.clone(),
            ))
            .unwrap();
            rw.flush().unwrap();
        }
        let store = crate::rdf::open_store(&dir.path().join("store")).unwrap();
        assert!(!crate::summary::read_subject_evidence(&store, 5, false, |_| ()).unwrap());
        let first = KnowledgeGraph::from_store_with(&store, EvidenceDetail::First(5)).unwrap();
        assert_eq!(edges(&first), edges(&read));
        // (deferred, each relation is read from its subject's row while
        // it has one, else from its pack: the row left shows its sentence)
        let (with_rows, _) = deferred_edges(&store, 5).unwrap();
        let changed: Vec<_> = with_rows
            .iter()
            .zip(edges(&read))
            .filter(|(d, r)| **d != *r)
            .collect();
        assert_eq!(changed.len(), 1);
        assert!(changed[0].0.2.contains("不在证据包中"));
        drop((store, first));
        assert!(remove("relationEvidence") > 0);
        let store = crate::rdf::open_store(&dir.path().join("store")).unwrap();
        assert!(!crate::summary::read_subject_evidence(&store, 5, false, |_| ()).unwrap());
        let first = KnowledgeGraph::from_store_with(&store, EvidenceDetail::First(5)).unwrap();
        assert_eq!(edges(&first), edges(&read));
        let one = KnowledgeGraph::from_store_with(&store, EvidenceDetail::First(1)).unwrap();
        assert_eq!(edges(&one), one_edges);
        assert_eq!(deferred_edges(&store, 5).unwrap(), (edges(&read), 2));
        // (a relation in neither is an error, not an edge without evidence)
        drop((store, first, one));
        let packs = {
            let rw = Store::open(dir.path().join("store")).unwrap();
            let quads: Vec<_> = rw
                .quads_for_pattern(None, Some(jd("evidencePack").as_ref()), None, None)
                .map(|q| q.unwrap())
                .collect();
            quads
        };
        assert_eq!(remove("evidencePack"), 2);
        let store = crate::rdf::open_store(&dir.path().join("store")).unwrap();
        let error = deferred_edges(&store, 5).unwrap_err().to_string();
        assert!(error.contains("no evidence for"), "{error}");
        drop(store);
        {
            let rw = Store::open(dir.path().join("store")).unwrap();
            rw.extend(packs).unwrap();
            rw.flush().unwrap();
        }
        // … without the per-subject counts, the counts are read by
        // relation node …
        assert!(remove("relationCounts") > 0);
        let store = crate::rdf::open_store(&dir.path().join("store")).unwrap();
        assert!(!crate::summary::read_subject_counts(&store, |_| ()).unwrap());
        let light = KnowledgeGraph::from_store_with(&store, EvidenceDetail::Articles).unwrap();
        assert_eq!(supports(&light), supports(&read));
        // (nothing deferred then: the kept records come from the packs, more
        // from the default graph at load)
        assert_eq!(deferred_edges(&store, 5).unwrap(), (edges(&read), 0));
        assert_eq!(deferred_edges(&store, 9).unwrap(), (edges(&read), 0));
        // … and without the keys (an older summary) the IRIs are read, to
        // the same graph.
        drop((store, light));
        assert_eq!(remove("nodeKey"), by_iri.len());
        let store = crate::rdf::open_store(&dir.path().join("store")).unwrap();
        assert!(node_keys(&store, &by_iri).unwrap().is_none());
        let first = KnowledgeGraph::from_store_with(&store, EvidenceDetail::First(5)).unwrap();
        assert_eq!(edges(&first), edges(&read));
        let light = KnowledgeGraph::from_store_with(&store, EvidenceDetail::Articles).unwrap();
        assert_eq!(supports(&light), supports(&read));
    }

    #[test]
    fn deferred_evidence_beyond_the_kept_records_reads_the_default_graph() {
        // One relation with more records than the summary keeps.
        let records = crate::summary::EVIDENCE_KEPT + 3;
        let mut kn = knowledge_with_articles(records);
        let a = kn.upsert_entity(entity(EntityClass::Agency, "开鲁县公安局"));
        let r = kn.upsert_entity(entity(EntityClass::Region, "开鲁县"));
        for i in 0..records {
            kn.add_relation(a.clone(), Property::LocatedIn, r.clone(), Some(evidence(i)));
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store");
        {
            let rw = Store::open(&path).unwrap();
            rw.extend(crate::rdf::knowledge_quads(&kn)).unwrap();
            crate::summary::refresh_all(&rw).unwrap();
            rw.flush().unwrap();
        }
        let load = |limit: usize, drug: bool, defer: bool| {
            let store = crate::rdf::open_store(&path).unwrap();
            let options = LoadOptions {
                detail: EvidenceDetail::First(limit),
                drug_support: drug,
                drug_evidence: drug,
                defer_evidence: defer,
            };
            let mut g = KnowledgeGraph::from_store_opts(&store, options).unwrap();
            if drug {
                g = crate::filter::GraphFilter {
                    drug_articles: true,
                    ..Default::default()
                }
                .apply(&g)
                .unwrap();
            }
            let reader = DeferredEvidence::new(&store, limit, drug).unwrap();
            let e = g.graph.edge_indices().next().unwrap();
            let deferred = g.graph[e].evidence_deferred;
            let sentences: Vec<String> = reader
                .records(&g, e)
                .unwrap()
                .iter()
                .map(|ev| ev.sentence.clone())
                .collect();
            (sentences, deferred)
        };
        let all: Vec<String> = (0..records).map(|i| format!("sentence {i}")).collect();
        let drug: Vec<String> = all.iter().skip(1).step_by(2).cloned().collect();
        assert_eq!(load(records + 1, false, false), (all.clone(), false));
        assert_eq!(load(records + 1, false, true), (all.clone(), true));
        assert_eq!(load(records + 1, true, true), (drug.clone(), true));
        let kept = crate::summary::EVIDENCE_KEPT;
        assert_eq!(load(kept, false, true), (all[..kept].to_vec(), true));
        // Without the per-subject rows, the load reads them all itself
        // (the packs keep too few).
        {
            let rw = Store::open(&path).unwrap();
            let counts: Vec<_> = rw
                .quads_for_pattern(None, Some(jd("relationCounts").as_ref()), None, None)
                .map(|q| q.unwrap())
                .collect();
            assert_eq!(counts.len(), 1);
            rw.remove(&counts[0]).unwrap();
            rw.flush().unwrap();
        }
        assert_eq!(load(records + 1, false, true), (all, false));
        assert_eq!(load(records + 1, true, true), (drug, false));
    }

    #[test]
    fn regions_roll_up_and_names_resolve_with_candidates() {
        let mut kn = knowledge_with_articles(1);
        let a = kn.upsert_entity(entity(EntityClass::Agency, "开鲁县公安局"));
        let county = kn.upsert_entity(entity(EntityClass::Region, "开鲁县"));
        let city = kn.upsert_entity(entity(EntityClass::Region, "通辽市"));
        let province = kn.upsert_entity(entity(EntityClass::Region, "内蒙古自治区"));
        kn.add_relation(a, Property::LocatedIn, county.clone(), Some(evidence(0)));
        kn.add_relation(county, Property::PartOf, city.clone(), None);
        kn.add_relation(city, Property::PartOf, province, None);
        let g = KnowledgeGraph::build(&kn);
        let agency = g.find("开鲁县公安局", None).unwrap();
        assert_eq!(
            g.graph[agency].regions,
            ["内蒙古自治区", "开鲁县", "通辽市"]
        );
        assert!(
            g.graph[agency]
                .top_region
                .as_ref()
                .is_some_and(
                    |(iri, label)| iri.ends_with("内蒙古自治区") && label == "内蒙古自治区"
                )
        );
        assert!(g.find("region/开鲁县", None).is_ok());
        let err = g.find("开鲁", None).unwrap_err().to_string();
        assert!(
            err.contains("开鲁县公安局") && err.contains("开鲁县 (Region)"),
            "{err}"
        );
        assert!(g.find("开鲁县", Some(EntityClass::Agency)).is_err());
    }
}
