//! The per-agency counts of the summary graph: how many relations each
//! agency takes part in, the campaigns it joins, the cases it handles and
//! its cooperation partners.
//!
//! In: the store's default graph (the relation facts at either end of each
//! agency), for every agency (a fresh build, a whole recount, an upgrade)
//! or for the agencies a change touched. Out: on each agency, in the
//! summary graph, `jd:relationCount`, `jd:campaignCount`, `jd:caseCount`
//! and `jd:partnerCount` (each absent when zero), which `busiest-agencies`
//! reads instead of counting 1.8 M fact ends at 1 GB (3.4 s of its time).
//!
//! The counts are those of the query's definitions, counted over the facts:
//! - a relation once per (property, other end) of the five properties that
//!   reach agencies (`jd:locatedIn`, `jd:subOrganizationOf`,
//!   `jd:participatesIn`, `jd:handledBy`, `jd:cooperatesWith`), whichever
//!   end the agency is at: the fact ends less the facts stated both ways
//!   (A p B and B p A are one relation of A);
//! - its campaigns: its `jd:participatesIn` facts;
//! - its cases: the `jd:handledBy` facts naming it;
//! - its partners: its `jd:cooperatesWith` ends less those stated both ways.
//!
//! The store does the counting (grouped on encoded terms, nothing decoded
//! but the agency and the property), so a whole recount holds one row per
//! agency and property.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Context, Result};
use oxigraph::model::{GraphName, GraphNameRef, Literal, NamedNode, Quad, Term};
use oxigraph::store::Store;

use crate::rdf::{JD, jd};
use crate::summary::{in_summary, summary_graph, write_difference};

/// The summary properties, in the order of [`AgencyCounts::values`].
pub const PREDICATES: [&str; 4] = [
    "relationCount",
    "campaignCount",
    "caseCount",
    "partnerCount",
];

/// The properties whose facts reach agencies.
const PROPERTIES: [&str; 5] = [
    "locatedIn",
    "subOrganizationOf",
    "participatesIn",
    "handledBy",
    "cooperatesWith",
];

/// Agencies counted one query per this many (a VALUES block).
const AGENCIES_PER_QUERY: usize = 256;

/// One agency's counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AgencyCounts {
    pub relations: i64,
    pub campaigns: i64,
    pub cases: i64,
    pub partners: i64,
}

impl AgencyCounts {
    fn values(&self) -> [i64; 4] {
        [self.relations, self.campaigns, self.cases, self.partners]
    }
}

/// The counts of the agencies `scope` (a SPARQL pattern binding `?agency`
/// to agencies) selects; agencies without any fact are absent.
fn count(store: &Store, scope: &str) -> Result<BTreeMap<String, AgencyCounts>> {
    let properties: Vec<String> = PROPERTIES.iter().map(|p| jd(p).to_string()).collect();
    let properties = properties.join(" ");
    let mut counts: BTreeMap<String, AgencyCounts> = BTreeMap::new();
    // The fact ends, per agency, property and direction.
    let ends = format!(
        "SELECT ?agency ?p ?out (COUNT(*) AS ?n) WHERE {{ {scope} VALUES ?p {{ {properties} }} \
           {{ ?agency ?p ?x BIND(true AS ?out) }} UNION {{ ?x ?p ?agency BIND(false AS ?out) }} }} \
         GROUP BY ?agency ?p ?out"
    );
    for row in crate::graph::select(store, &ends)? {
        let row = row.context("cannot read the store")?;
        let (Some(Term::NamedNode(agency)), Some(Term::NamedNode(p)), Some(out), Some(n)) = (
            row.get("agency"),
            row.get("p"),
            row.get("out"),
            row.get("n"),
        ) else {
            continue;
        };
        let out = matches!(out, Term::Literal(l) if l.value() == "true");
        let n = crate::graph::count_of(n) as i64;
        let c = counts.entry(agency.as_str().to_string()).or_default();
        c.relations += n;
        match p.as_str().strip_prefix(JD) {
            Some("participatesIn") if out => c.campaigns += n,
            Some("handledBy") if !out => c.cases += n,
            Some("cooperatesWith") => c.partners += n,
            _ => {}
        }
    }
    // The facts stated both ways (each direction scanned once, joined on
    // the agency, the property and the other end): two ends, one relation.
    let both_ways = format!(
        "SELECT ?agency ?p (COUNT(*) AS ?n) WHERE {{ \
           {{ SELECT ?agency ?p ?x WHERE {{ {scope} VALUES ?p {{ {properties} }} ?agency ?p ?x }} }} \
           {{ SELECT ?agency ?p ?x WHERE {{ {scope} VALUES ?p {{ {properties} }} ?x ?p ?agency }} }} }} \
         GROUP BY ?agency ?p"
    );
    for row in crate::graph::select(store, &both_ways)? {
        let row = row.context("cannot read the store")?;
        let (Some(Term::NamedNode(agency)), Some(Term::NamedNode(p)), Some(n)) =
            (row.get("agency"), row.get("p"), row.get("n"))
        else {
            continue;
        };
        let n = crate::graph::count_of(n) as i64;
        let c = counts.entry(agency.as_str().to_string()).or_default();
        c.relations -= n;
        if p.as_str().strip_prefix(JD) == Some("cooperatesWith") {
            c.partners -= n;
        }
    }
    Ok(counts)
}

/// The summary quads of `counts` (none for a zero).
fn quads(counts: &BTreeMap<String, AgencyCounts>) -> Vec<Quad> {
    let g = GraphName::NamedNode(summary_graph());
    let mut out = Vec::new();
    for (agency, c) in counts {
        let node = NamedNode::new_unchecked(agency.as_str());
        for (predicate, value) in PREDICATES.iter().zip(c.values()) {
            if value != 0 {
                out.push(Quad::new(
                    node.clone(),
                    jd(predicate),
                    Literal::from(value),
                    g.clone(),
                ));
            }
        }
    }
    out
}

/// The counts' quads of every agency, as counted from the store now (for
/// the one-pass reference recount of the tests).
#[cfg(test)]
pub(crate) fn store_quads(store: &Store) -> Result<Vec<Quad>> {
    Ok(quads(&count(store, &every_agency())?))
}

fn every_agency() -> String {
    format!("?agency a {} .", jd("Agency"))
}

/// Recounts every agency's counts, writing only what differs.
pub fn recount_all(store: &Store) -> Result<()> {
    let new = quads(&count(store, &every_agency())?);
    let graph = summary_graph();
    let mut old = Vec::new();
    for predicate in PREDICATES {
        let predicate = jd(predicate);
        for quad in store.quads_for_pattern(
            None,
            Some(predicate.as_ref()),
            None,
            Some(GraphNameRef::NamedNode(graph.as_ref())),
        ) {
            old.push(quad.context("cannot read the store")?);
        }
    }
    write_difference(store, old, new)
}

/// Recounts the counts of `entities` (IRIs; those not agencies have none),
/// as the store holds them after a change.
pub fn refresh(store: &Store, entities: &BTreeSet<String>) -> Result<()> {
    let entities: Vec<&String> = entities.iter().collect();
    for chunk in entities.chunks(AGENCIES_PER_QUERY) {
        let mut values = Vec::with_capacity(chunk.len());
        let mut old = Vec::new();
        for entity in chunk {
            let node =
                NamedNode::new(entity.as_str()).with_context(|| format!("bad IRI {entity}"))?;
            for predicate in PREDICATES {
                let predicate = jd(predicate);
                for quad in in_summary(store, node.as_ref(), Some(predicate.as_ref())) {
                    old.push(quad?);
                }
            }
            values.push(node.to_string());
        }
        let scope = format!(
            "VALUES ?agency {{ {} }} ?agency a {} .",
            values.join(" "),
            jd("Agency")
        );
        let new = quads(&count(store, &scope)?);
        write_difference(store, old, new)?;
    }
    Ok(())
}

/// The entities whose counts a change of these relations and entities may
/// move: the entities and both ends of the relations.
pub fn touched<'a>(
    relations: impl IntoIterator<Item = &'a crate::summary::RelationKey>,
    entities: impl IntoIterator<Item = &'a String>,
) -> BTreeSet<String> {
    let mut out: BTreeSet<String> = entities.into_iter().cloned().collect();
    for (s, _, o) in relations {
        out.insert(s.clone());
        out.insert(o.clone());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use oxigraph::io::RdfFormat;
    use std::collections::HashSet;

    const DATA: &str = r#"
        @prefix jd: <https://w3id.org/jindu/ontology#> .
        @prefix a: <https://w3id.org/jindu/id/agency/> .
        @prefix r: <https://w3id.org/jindu/id/region/> .
        @prefix c: <https://w3id.org/jindu/id/campaign/> .
        @prefix k: <https://w3id.org/jindu/id/case/> .
        a:A a jd:Agency . a:B a jd:Agency . a:C a jd:Agency . a:D a jd:Agency .
        a:A jd:locatedIn r:R ; jd:participatesIn c:X , c:Y ; jd:cooperatesWith a:B , a:C .
        a:B jd:cooperatesWith a:A ; jd:subOrganizationOf a:C .
        a:C jd:subOrganizationOf a:B .
        k:K1 jd:handledBy a:A . k:K2 jd:handledBy a:A , a:B .
    "#;

    fn store() -> Store {
        let store = Store::new().unwrap();
        store
            .load_from_reader(RdfFormat::Turtle, DATA.as_bytes())
            .unwrap();
        store
    }

    fn counts(relations: i64, campaigns: i64, cases: i64, partners: i64) -> AgencyCounts {
        AgencyCounts {
            relations,
            campaigns,
            cases,
            partners,
        }
    }

    #[test]
    fn a_relation_stated_both_ways_counts_once() {
        let store = store();
        let found = count(&store, &every_agency()).unwrap();
        let of = |name: &str| found[&format!("https://w3id.org/jindu/id/agency/{name}")];
        // A: R, X, Y, B (both ways), C, K1, K2.
        assert_eq!(of("A"), counts(7, 2, 2, 2));
        // B: A (both ways), C (parent, both ways), K2.
        assert_eq!(of("B"), counts(3, 0, 1, 1));
        // C: A, B (both ways).
        assert_eq!(of("C"), counts(2, 0, 0, 1));
        // D: no fact, no counts.
        assert_eq!(found.len(), 3);
    }

    #[test]
    fn a_refresh_of_some_agencies_gives_the_whole_recount() {
        let store = store();
        recount_all(&store).unwrap();
        let whole: HashSet<Quad> = store_quads(&store).unwrap().into_iter().collect();
        let stored = |store: &Store| -> HashSet<Quad> {
            PREDICATES
                .iter()
                .flat_map(|p| {
                    store
                        .quads_for_pattern(None, Some(jd(p).as_ref()), None, None)
                        .map(Result::unwrap)
                        .collect::<Vec<_>>()
                })
                .collect()
        };
        assert_eq!(stored(&store), whole);
        assert_eq!(whole.len(), 9);
        // A leaves its partners and campaigns: only A and its ends refreshed.
        let a = "https://w3id.org/jindu/id/agency/A";
        for quad in store
            .quads_for_pattern(
                Some(NamedNode::new_unchecked(a).as_ref().into()),
                None,
                None,
                Some(GraphNameRef::DefaultGraph),
            )
            .map(Result::unwrap)
            .collect::<Vec<_>>()
        {
            if quad.predicate != oxigraph::model::vocab::rdf::TYPE {
                store.remove(&quad).unwrap();
            }
        }
        let relations = ["B", "C"].map(|partner| {
            (
                a.to_string(),
                jd("cooperatesWith").into_string(),
                format!("https://w3id.org/jindu/id/agency/{partner}"),
            )
        });
        let touched = touched(&relations, &[a.to_string()]);
        refresh(&store, &touched).unwrap();
        let after: HashSet<Quad> = store_quads(&store).unwrap().into_iter().collect();
        assert_eq!(stored(&store), after);
        assert_ne!(after, whole);
    }
}
