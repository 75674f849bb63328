//! Sink: the RDF view in an Oxigraph store.
//!
//! In: a [`Knowledge`]. Out: quads following `docs/rdf-model.md` (entities,
//! articles, sources, relations with one `rdf:Statement` provenance record
//! per fact and article, statistics) and the ontology's quads for its own
//! named graph; dumping and loading whole stores. `sync` writes the quads
//! into the store file by file.

use std::path::Path;

use anyhow::{Context, Result};
use oxigraph::io::{RdfFormat, RdfParser, RdfSerializer};
use oxigraph::model::vocab::{rdf, rdfs, xsd};
use oxigraph::model::{
    BlankNode, GraphName, GraphNameRef, Literal, NamedNode, NamedOrBlankNode, Quad, Term,
};
use oxigraph::store::Store;
use sha2::{Digest, Sha256};

use crate::model::{EntityClass, EntityId, Knowledge};

pub const JD: &str = "https://w3id.org/jindu/ontology#";
pub const ID: &str = "https://w3id.org/jindu/id/";
pub const ONTOLOGY_GRAPH: &str = "https://w3id.org/jindu/graph/ontology";
const SKOS: &str = "http://www.w3.org/2004/02/skos/core#";
pub const PROV: &str = "http://www.w3.org/ns/prov#";
const DCTERMS: &str = "http://purl.org/dc/terms/";

/// The ontology shipped with the binary.
pub const ONTOLOGY_TTL: &str = include_str!("../ontology/jindu.ttl");

/// Escapes a key for use as one IRI path segment: Chinese stays readable;
/// characters IRIs forbid, and those with a meaning in paths, are
/// percent-encoded.
pub fn iri_segment(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for c in key.chars() {
        let plain =
            c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~' | '·' | '—' | '+');
        let wide = (c as u32) > 0x7F && !c.is_whitespace() && !c.is_control();
        if plain || wide {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

pub fn jd(local: &str) -> NamedNode {
    NamedNode::new_unchecked(format!("{JD}{local}"))
}

fn ns(base: &str, local: &str) -> NamedNode {
    NamedNode::new_unchecked(format!("{base}{local}"))
}

pub fn entity_iri(id: &EntityId) -> NamedNode {
    NamedNode::new_unchecked(format!(
        "{ID}{}/{}",
        id.class.iri_segment(),
        iri_segment(&id.key)
    ))
}

pub fn article_iri(kn: &Knowledge, article: usize) -> NamedNode {
    let a = &kn.articles[article];
    NamedNode::new_unchecked(format!(
        "{ID}article/{}-{}",
        kn.sources[a.source].key(),
        a.index
    ))
}

fn source_iri(kn: &Knowledge, source: usize) -> NamedNode {
    source_iri_for_hash(&kn.sources[source].sha256)
}

/// The IRI of a source file from the hex SHA-256 of its bytes.
pub fn source_iri_for_hash(sha256: &str) -> NamedNode {
    NamedNode::new_unchecked(format!("{ID}source/{}", &sha256[..16.min(sha256.len())]))
}

fn zh(text: &str) -> Term {
    Literal::new_language_tagged_literal_unchecked(text, "zh").into()
}

fn string(text: &str) -> Term {
    Literal::new_simple_literal(text).into()
}

fn integer(n: usize) -> Term {
    Literal::new_typed_literal(n.to_string(), xsd::INTEGER).into()
}

fn date(d: &str) -> Term {
    Literal::new_typed_literal(d, xsd::DATE).into()
}

/// Collects the quads of the default graph.
struct QuadSink {
    quads: Vec<Quad>,
}

impl QuadSink {
    fn add(&mut self, s: impl Into<NamedOrBlankNode>, p: NamedNode, o: impl Into<Term>) {
        self.quads.push(Quad::new(s, p, o, GraphName::DefaultGraph));
    }
}

/// Turns the knowledge into quads (default graph), in a deterministic order.
pub fn knowledge_quads(kn: &Knowledge) -> Vec<Quad> {
    let mut sink = QuadSink { quads: Vec::new() };
    let rdf_type = NamedNode::from(rdf::TYPE);
    let label = NamedNode::from(rdfs::LABEL);

    for (i, source) in kn.sources.iter().enumerate() {
        let s = source_iri(kn, i);
        sink.add(s.clone(), rdf_type.clone(), jd("Source"));
        sink.add(s.clone(), jd("fileName"), string(&source.name));
        sink.add(
            s.clone(),
            jd("contentHash"),
            string(&format!("sha256:{}", source.sha256)),
        );
        sink.add(s.clone(), jd("encoding"), string(&source.encoding));
        sink.add(s.clone(), jd("charLength"), integer(source.char_len));
        sink.add(s, jd("byteLength"), integer(source.byte_len));
    }
    for (i, article) in kn.articles.iter().enumerate() {
        let a = article_iri(kn, i);
        sink.add(a.clone(), rdf_type.clone(), jd("Article"));
        sink.add(
            a.clone(),
            jd("sourceFile"),
            string(&kn.sources[article.source].name),
        );
        sink.add(a.clone(), jd("fromSource"), source_iri(kn, article.source));
        sink.add(a.clone(), jd("articleIndex"), integer(article.index));
        sink.add(a.clone(), jd("charStart"), integer(article.char_start));
        sink.add(a.clone(), jd("charEnd"), integer(article.char_end));
        sink.add(
            a.clone(),
            jd("aboutDrugs"),
            Literal::from(article.about_drugs),
        );
        if let Some(title) = &article.title {
            sink.add(a.clone(), ns(DCTERMS, "title"), zh(title));
        }
        if let Some(d) = &article.date {
            sink.add(a, ns(DCTERMS, "date"), date(d));
        }
    }
    for entity in kn.entities.values() {
        let e = entity_iri(&entity.id);
        sink.add(e.clone(), rdf_type.clone(), jd(entity.id.class.name()));
        sink.add(e.clone(), label.clone(), zh(&entity.label));
        for alt in &entity.alt_labels {
            sink.add(e.clone(), ns(SKOS, "altLabel"), zh(alt));
        }
        for &a in &entity.mentioned_in {
            sink.add(e.clone(), jd("mentionedIn"), article_iri(kn, a));
        }
        if let Some(code) = &entity.admin_code {
            sink.add(e.clone(), jd("adminCode"), string(code));
        }
        if let Some(kind) = &entity.kind {
            let property = match entity.id.class {
                EntityClass::Region => "level",
                EntityClass::Agency => "agencyKind",
                EntityClass::Drug => "drugKind",
                EntityClass::Campaign => "campaignKind",
                EntityClass::Case => "caseKind",
            };
            sink.add(e.clone(), jd(property), string(kind));
        }
        if let Some(code) = &entity.code {
            match entity.id.class {
                EntityClass::Case => sink.add(e, jd("caseCode"), string(code)),
                EntityClass::Campaign => {
                    sink.add(e, jd("year"), Literal::new_typed_literal(code, xsd::G_YEAR))
                }
                _ => {}
            }
        }
    }
    // Per source: its articles, statistics and provenance records, counted
    // as the store will hold them (distinct nodes), for the source's record.
    let mut counts = vec![SourceCounts::default(); kn.sources.len()];
    for article in &kn.articles {
        counts[article.source].articles += 1;
    }
    for relation in kn.relations.values() {
        let s = entity_iri(&relation.key.subject);
        let p = jd(relation.key.property.name());
        let o = entity_iri(&relation.key.object);
        sink.add(s.clone(), p.clone(), o.clone());
        for ev in &relation.evidence {
            let article = article_iri(kn, ev.article);
            let node = assertion_iri(&s, &p, &o, &article, ev.char_start, ev.char_end);
            sink.add(
                node.clone(),
                rdf_type.clone(),
                NamedNode::from(rdf::STATEMENT),
            );
            sink.add(node.clone(), rdf_type.clone(), jd("Assertion"));
            sink.add(node.clone(), NamedNode::from(rdf::SUBJECT), s.clone());
            sink.add(node.clone(), NamedNode::from(rdf::PREDICATE), p.clone());
            sink.add(node.clone(), NamedNode::from(rdf::OBJECT), o.clone());
            sink.add(node.clone(), ns(PROV, "wasDerivedFrom"), article);
            sink.add(node.clone(), jd("sentence"), zh(&ev.sentence));
            sink.add(node.clone(), jd("charStart"), integer(ev.char_start));
            sink.add(node.clone(), jd("charEnd"), integer(ev.char_end));
            sink.add(node, jd("rule"), string(&ev.rule));
        }
    }
    let mut per_article: std::collections::HashMap<usize, usize> = Default::default();
    for stat in &kn.statistics {
        let k = per_article.entry(stat.evidence.article).or_insert(0);
        *k += 1;
        let a = &kn.articles[stat.evidence.article];
        counts[a.source].statistics += 1;
        let node = NamedNode::new_unchecked(format!(
            "{ID}statistic/{}-{}-{}",
            kn.sources[a.source].key(),
            a.index,
            k
        ));
        sink.add(node.clone(), rdf_type.clone(), jd("Statistic"));
        sink.add(node.clone(), jd("metric"), string(&stat.metric));
        sink.add(
            node.clone(),
            jd("value"),
            Literal::new_typed_literal(&stat.value, xsd::DECIMAL),
        );
        if stat.approximate {
            sink.add(node.clone(), jd("approximate"), Literal::from(true));
        }
        sink.add(node.clone(), jd("unit"), string(stat.unit));
        sink.add(
            node.clone(),
            jd("mentionedIn"),
            article_iri(kn, stat.evidence.article),
        );
        if let Some(d) = &stat.drug {
            sink.add(node.clone(), jd("drug"), entity_iri(d));
        }
        if let Some(r) = &stat.reported_by {
            sink.add(node.clone(), jd("reportedBy"), entity_iri(r));
        }
        if let Some(d) = &stat.period_start {
            sink.add(node.clone(), jd("periodStart"), date(d));
        }
        if let Some(d) = &stat.period_end {
            sink.add(node.clone(), jd("periodEnd"), date(d));
        }
        if let Some(t) = &stat.period_text {
            sink.add(node.clone(), jd("periodText"), zh(t));
        }
        sink.add(node.clone(), jd("sentence"), zh(&stat.evidence.sentence));
        sink.add(
            node.clone(),
            jd("charStart"),
            integer(stat.evidence.char_start),
        );
        sink.add(node.clone(), jd("charEnd"), integer(stat.evidence.char_end));
        sink.add(node, jd("rule"), string(&stat.evidence.rule));
    }
    let tallies = relation_tallies(kn);
    for tally in &tallies {
        counts[tally.source].records += tally.records;
    }
    for (i, c) in counts.iter().enumerate() {
        let s = source_iri(kn, i);
        sink.add(s.clone(), jd("articleCount"), integer(c.articles));
        sink.add(s.clone(), jd("statisticCount"), integer(c.statistics));
        sink.add(s, jd("assertionCount"), integer(c.records));
    }
    for tally in tallies {
        let source_node = source_iri(kn, tally.source);
        let node = NamedNode::new_unchecked(format!("{}/{}", source_node.as_str(), tally.property));
        sink.add(source_node, jd("relationTally"), node.clone());
        sink.add(node.clone(), rdf_type.clone(), jd("RelationTally"));
        sink.add(node.clone(), jd("tallyProperty"), jd(tally.property));
        sink.add(node.clone(), jd("tallyRecords"), integer(tally.records));
        sink.add(node, jd("tallyArticles"), integer(tally.articles));
    }
    sink.quads
}

/// One source's provenance records of one relation property, as its
/// `jd:relationTally` counts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RelationTally {
    /// The source's index in the knowledge.
    pub source: usize,
    /// The property's local name.
    pub property: &'static str,
    /// Its records: a record's node is minted from the fact, the article
    /// and the offsets, so a fact read at the same place of the same article
    /// by two rules is one record.
    pub records: usize,
    /// The distinct articles the records come from.
    pub articles: usize,
}

/// Per source and property (in that order), the records of `kn` and the
/// distinct articles they come from.
pub fn relation_tallies(kn: &Knowledge) -> Vec<RelationTally> {
    // (source, property, article, subject, object, start, end): what a
    // record's node is minted from, with the source first for the grouping
    let mut records = Vec::new();
    for relation in kn.relations.values() {
        let key = &relation.key;
        for ev in &relation.evidence {
            records.push((
                kn.articles[ev.article].source,
                key.property.name(),
                ev.article,
                &key.subject,
                &key.object,
                ev.char_start,
                ev.char_end,
            ));
        }
    }
    records.sort_unstable();
    records.dedup();
    records
        .chunk_by(|a, b| (a.0, a.1) == (b.0, b.1))
        .map(|group| {
            let mut articles = group.iter().map(|r| r.2).collect::<Vec<_>>();
            articles.dedup();
            RelationTally {
                source: group[0].0,
                property: group[0].1,
                records: group.len(),
                articles: articles.len(),
            }
        })
        .collect()
}

/// What one source contributed, written with its record (`jd:articleCount`,
/// `jd:statisticCount`, `jd:assertionCount`): the stored queries that list or
/// total the sources read these instead of counting millions of nodes.
#[derive(Debug, Clone, Copy, Default)]
struct SourceCounts {
    articles: usize,
    statistics: usize,
    records: usize,
}

pub(crate) fn assertion_iri(
    s: &NamedNode,
    p: &NamedNode,
    o: &NamedNode,
    article: &NamedNode,
    start: usize,
    end: usize,
) -> NamedNode {
    let mut h = Sha256::new();
    for part in [s.as_str(), p.as_str(), o.as_str(), article.as_str()] {
        h.update(part.as_bytes());
        h.update(b"|");
    }
    h.update(format!("{start}-{end}").as_bytes());
    let digest = h.finalize();
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    NamedNode::new_unchecked(format!("{ID}assertion/{hex}"))
}

/// The ontology's quads, in its own named graph.
pub fn ontology_quads() -> Result<Vec<Quad>> {
    let graph = NamedNode::new_unchecked(ONTOLOGY_GRAPH);
    let parser = RdfParser::from_format(RdfFormat::Turtle)
        .with_default_graph(graph)
        .for_slice(ONTOLOGY_TTL.as_bytes());
    let quads = parser
        .collect::<Result<Vec<_>, _>>()
        .context("the embedded ontology does not parse")?;
    // The parser names blank nodes at random; name them by order of first
    // appearance so that every build writes the same quads.
    let mut names: std::collections::HashMap<BlankNode, BlankNode> = Default::default();
    let mut rename = |b: &BlankNode| {
        let next = names.len();
        names
            .entry(b.clone())
            .or_insert_with(|| BlankNode::new_unchecked(format!("ontology{next}")))
            .clone()
    };
    Ok(quads
        .into_iter()
        .map(|q| {
            let subject = match q.subject {
                NamedOrBlankNode::BlankNode(b) => NamedOrBlankNode::from(rename(&b)),
                other => other,
            };
            let object = match q.object {
                Term::BlankNode(b) => Term::from(rename(&b)),
                other => other,
            };
            Quad::new(subject, q.predicate, object, q.graph_name)
        })
        .collect())
}

/// Opens an existing store read-only, with a clear error when there is none.
pub fn open_store(path: &Path) -> Result<Store> {
    if !path.exists() {
        anyhow::bail!(
            "no store at {}: run `jindu build` first (or give --store)",
            path.display()
        );
    }
    Store::open_read_only(path)
        .with_context(|| format!("cannot open the store at {}", path.display()))
}

/// The dump formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DumpFormat {
    /// Every graph, one quad a line: stable for comparing builds.
    Nquads,
    /// Every graph, with prefixes.
    Trig,
    /// The default graph (the data), with prefixes.
    Turtle,
    /// The default graph, one triple a line.
    Ntriples,
}

/// Writes the store in a format, deterministically. By default quads stream
/// in the store's index order, which depends only on the store's content
/// (terms are keyed by hashes of their text), so memory stays flat at any
/// size and two stores with the same quads give the same bytes. With
/// `sorted`, quads come in the order of their N-Quads text (readable diffs;
/// the whole store is held in memory). Returns the number of quads written.
pub fn dump(
    store: &Store,
    format: DumpFormat,
    sorted: bool,
    out: &mut dyn std::io::Write,
) -> Result<usize> {
    let data_only = matches!(format, DumpFormat::Turtle | DumpFormat::Ntriples);
    let rdf_format = match format {
        DumpFormat::Nquads => RdfFormat::NQuads,
        DumpFormat::Trig => RdfFormat::TriG,
        DumpFormat::Turtle => RdfFormat::Turtle,
        DumpFormat::Ntriples => RdfFormat::NTriples,
    };
    let mut serializer = RdfSerializer::from_format(rdf_format);
    if matches!(format, DumpFormat::Trig | DumpFormat::Turtle) {
        for (prefix, iri) in PREFIXES {
            serializer = serializer
                .with_prefix(*prefix, *iri)
                .with_context(|| format!("bad prefix {prefix}"))?;
        }
    }
    let mut writer = serializer.for_writer(out);
    let quads: Box<dyn Iterator<Item = Result<Quad>>> = if data_only {
        Box::new(
            store
                .quads_for_pattern(None, None, None, Some(GraphNameRef::DefaultGraph))
                .map(|q| q.context("cannot read the store")),
        )
    } else {
        Box::new(store.iter().map(|q| q.context("cannot read the store")))
    };
    let mut count = 0;
    if sorted {
        let mut all: Vec<(String, Quad)> = Vec::new();
        for quad in quads {
            let quad = quad?;
            all.push((quad.to_string(), quad));
        }
        all.sort_by(|a, b| a.0.cmp(&b.0));
        for (_, quad) in &all {
            writer
                .serialize_quad(quad)
                .context("cannot write the dump")?;
        }
        count = all.len();
    } else {
        for quad in quads {
            writer
                .serialize_quad(&quad?)
                .context("cannot write the dump")?;
            count += 1;
        }
    }
    writer.finish().context("cannot write the dump")?;
    Ok(count)
}

/// Prefixes used in Turtle and TriG output.
pub const PREFIXES: &[(&str, &str)] = &[
    ("jd", JD),
    ("jdi", ID),
    ("rdf", "http://www.w3.org/1999/02/22-rdf-syntax-ns#"),
    ("rdfs", "http://www.w3.org/2000/01/rdf-schema#"),
    ("xsd", "http://www.w3.org/2001/XMLSchema#"),
    ("skos", SKOS),
    ("prov", PROV),
    ("dcterms", DCTERMS),
    ("owl", "http://www.w3.org/2002/07/owl#"),
];

/// Loads an RDF file (format from its extension unless given) into the
/// store with the bulk loader; returns the number of quads the store gained.
pub fn load_file(store: &Store, path: &Path, format: Option<RdfFormat>) -> Result<usize> {
    let format = match format {
        Some(f) => f,
        None => path
            .extension()
            .and_then(|e| e.to_str())
            .and_then(RdfFormat::from_extension)
            .with_context(|| {
                format!(
                    "cannot tell the RDF format of {} from its extension; give --format",
                    path.display()
                )
            })?,
    };
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let before = store.len().context("cannot read the store")?;
    let mut loader = store.bulk_loader().with_max_memory_size_in_megabytes(1024);
    loader
        .load_from_reader(
            RdfParser::from_format(format),
            std::io::BufReader::new(file),
        )
        .with_context(|| format!("cannot load {}", path.display()))?;
    loader.commit().context("cannot commit the load")?;
    let after = store.len().context("cannot read the store")?;
    Ok(after.saturating_sub(before))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iri_segments_keep_chinese_and_escape_the_rest() {
        assert_eq!(iri_segment("开鲁县公安局"), "开鲁县公安局");
        assert_eq!(iri_segment("8·12特大运输毒品案"), "8·12特大运输毒品案");
        assert_eq!(iri_segment("a b/c#d"), "a%20b%2Fc%23d");
        assert!(NamedNode::new(format!("{ID}agency/{}", iri_segment("x y\"{}"))).is_ok());
    }

    #[test]
    fn ontology_parses() {
        assert!(ontology_quads().unwrap().len() > 50);
    }
}
