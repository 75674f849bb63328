//! Filters shared by `jindu graph` and `jindu export`.
//!
//! In: a whole [`KnowledgeGraph`] and the filter options of the command
//! line. Out: a new, smaller [`KnowledgeGraph`] with the same node and edge
//! order. Node filters (class, region, campaign) are decided on the whole
//! graph; edge filters (relation, drug articles, support) then keep edges
//! whose both ends were kept.

use std::collections::BTreeSet;

use anyhow::{Result, bail};
use petgraph::Direction;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;

use crate::graph::KnowledgeGraph;
use crate::model::{EntityClass, Property};

/// Which part of the graph to look at.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct GraphFilter {
    /// Keep only entities of these classes (comma-separated: Agency, Region,
    /// Campaign, Case, Drug).
    #[arg(long = "class", value_delimiter = ',', value_name = "CLASS")]
    pub classes: Vec<String>,
    /// Keep only relations of these properties (comma-separated: locatedIn,
    /// subOrganizationOf, participatesIn, handledBy, occurredIn,
    /// underCampaign, cooperatesWith, involvesDrug, partOf, supervisedBy).
    #[arg(long = "relation", value_delimiter = ',', value_name = "PROPERTY")]
    pub relations: Vec<String>,
    /// Keep a region, the regions under it (jd:partOf) and the entities
    /// located in, occurring in or part of any of them.
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// Keep a campaign, its editions (jd:partOf) and the entities linked to
    /// any of them.
    #[arg(long, value_name = "CAMPAIGN")]
    pub campaign: Option<String>,
    /// Keep only relations read in articles about drugs (jd:aboutDrugs);
    /// relations implied by the gazetteer have no article and are dropped.
    #[arg(long)]
    pub drug_articles: bool,
    /// Keep only relations supported by at least N articles.
    #[arg(long, value_name = "N")]
    pub min_support: Option<usize>,
    /// Drop the entities left without any relation by the filters.
    #[arg(long)]
    pub drop_isolated: bool,
}

impl GraphFilter {
    /// True when no option is set.
    pub fn is_empty(&self) -> bool {
        self.classes.is_empty()
            && self.relations.is_empty()
            && self.region.is_none()
            && self.campaign.is_none()
            && !self.drug_articles
            && self.min_support.is_none()
            && !self.drop_isolated
    }

    /// The options as text, for reports and export metadata (`none` when empty).
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if !self.classes.is_empty() {
            parts.push(format!("class={}", self.classes.join(",")));
        }
        if !self.relations.is_empty() {
            parts.push(format!("relation={}", self.relations.join(",")));
        }
        if let Some(r) = &self.region {
            parts.push(format!("region={r}"));
        }
        if let Some(c) = &self.campaign {
            parts.push(format!("campaign={c}"));
        }
        if self.drug_articles {
            parts.push("drug-articles".into());
        }
        if let Some(n) = self.min_support {
            parts.push(format!("min-support={n}"));
        }
        if self.drop_isolated {
            parts.push("drop-isolated".into());
        }
        if parts.is_empty() {
            "none".into()
        } else {
            parts.join("; ")
        }
    }

    fn parsed_classes(&self) -> Result<Option<BTreeSet<EntityClass>>> {
        if self.classes.is_empty() {
            return Ok(None);
        }
        let mut out = BTreeSet::new();
        for name in &self.classes {
            match EntityClass::parse(name.trim()) {
                Some(c) => {
                    out.insert(c);
                }
                None => bail!(
                    "unknown class {name}; the classes are {}",
                    EntityClass::ALL.map(|c| c.name()).join(", ")
                ),
            }
        }
        Ok(Some(out))
    }

    fn parsed_relations(&self) -> Result<Option<BTreeSet<Property>>> {
        if self.relations.is_empty() {
            return Ok(None);
        }
        let mut out = BTreeSet::new();
        for name in &self.relations {
            let name = name.trim();
            match Property::ALL
                .into_iter()
                .find(|p| p.name().eq_ignore_ascii_case(name))
            {
                Some(p) => {
                    out.insert(p);
                }
                None => bail!(
                    "unknown relation {name}; the relations are {}",
                    Property::ALL.map(|p| p.name()).join(", ")
                ),
            }
        }
        Ok(Some(out))
    }

    /// Applies the filter; the whole graph comes back unchanged (cloned)
    /// when no option is set.
    pub fn apply(&self, kg: &KnowledgeGraph) -> Result<KnowledgeGraph> {
        let classes = self.parsed_classes()?;
        let relations = self.parsed_relations()?;
        if self.is_empty() {
            return Ok(kg.clone());
        }
        let g = &kg.graph;
        let mut keep: Vec<bool> = g
            .node_indices()
            .map(|n| classes.as_ref().is_none_or(|c| c.contains(&g[n].class)))
            .collect();
        if let Some(name) = &self.region {
            let root = kg.find(name, Some(EntityClass::Region))?;
            let regions = descendants_by_part_of(kg, root);
            let mut in_region = vec![false; g.node_count()];
            for &r in &regions {
                in_region[r.index()] = true;
                for e in g.edges_directed(r, Direction::Incoming) {
                    if matches!(
                        e.weight().property,
                        Property::LocatedIn | Property::OccurredIn | Property::PartOf
                    ) {
                        in_region[e.source().index()] = true;
                    }
                }
            }
            for (k, inside) in keep.iter_mut().zip(in_region) {
                *k &= inside;
            }
        }
        if let Some(name) = &self.campaign {
            let root = kg.find(name, Some(EntityClass::Campaign))?;
            let campaigns = descendants_by_part_of(kg, root);
            let mut linked = vec![false; g.node_count()];
            for &c in &campaigns {
                linked[c.index()] = true;
                for e in g.edges_directed(c, Direction::Incoming) {
                    linked[e.source().index()] = true;
                }
                for e in g.edges_directed(c, Direction::Outgoing) {
                    linked[e.target().index()] = true;
                }
            }
            for (k, inside) in keep.iter_mut().zip(linked) {
                *k &= inside;
            }
        }

        let mut edges = Vec::new();
        for e in g.edge_references() {
            if !keep[e.source().index()] || !keep[e.target().index()] {
                continue;
            }
            if relations
                .as_ref()
                .is_some_and(|r| !r.contains(&e.weight().property))
            {
                continue;
            }
            let mut edge = e.weight().clone();
            if self.drug_articles {
                // The evidence when it was read, else the counts read from
                // the store without it.
                if edge.drug_support.is_none() {
                    edge.recount_support();
                }
                edge.evidence.retain(|ev| ev.about_drugs);
                match edge.drug_support {
                    Some(0) | None => continue,
                    Some(n) => edge.support = n,
                }
                edge.drug_only = true;
                edge.evidence_total = edge.drug_evidence_total;
            }
            if self.min_support.is_some_and(|n| edge.support < n) {
                continue;
            }
            edges.push((e.source(), e.target(), edge));
        }
        if self.drop_isolated {
            keep.iter_mut().for_each(|k| *k = false);
            for (s, t, _) in &edges {
                keep[s.index()] = true;
                keep[t.index()] = true;
            }
        }

        let mut graph = DiGraph::new();
        let mut index = std::collections::HashMap::new();
        let mut new_index: Vec<Option<NodeIndex>> = vec![None; g.node_count()];
        for n in g.node_indices() {
            if keep[n.index()] {
                let m = graph.add_node(g[n].clone());
                index.insert(g[n].iri.clone(), m);
                new_index[n.index()] = Some(m);
            }
        }
        for (s, t, edge) in edges {
            if let (Some(s), Some(t)) = (new_index[s.index()], new_index[t.index()]) {
                graph.add_edge(s, t, edge);
            }
        }
        Ok(KnowledgeGraph { graph, index })
    }
}

/// The node and everything below it through incoming `jd:partOf` edges of
/// the same class.
fn descendants_by_part_of(kg: &KnowledgeGraph, root: NodeIndex) -> Vec<NodeIndex> {
    let g = &kg.graph;
    let class = g[root].class;
    let mut seen = BTreeSet::from([root]);
    let mut stack = vec![root];
    while let Some(n) = stack.pop() {
        for e in g.edges_directed(n, Direction::Incoming) {
            if e.weight().property == Property::PartOf
                && g[e.source()].class == class
                && seen.insert(e.source())
            {
                stack.push(e.source());
            }
        }
    }
    seen.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::tests::{entity, evidence, knowledge_with_articles};

    /// 内蒙古 ⊃ 通辽市 ⊃ 开鲁县; 开鲁县公安局 in 开鲁县 takes part in
    /// 清源断流—2023 (an edition of 清源断流); 拉萨市公安局 in 西藏.
    fn tiny() -> KnowledgeGraph {
        let mut kn = knowledge_with_articles(2);
        let a = kn.upsert_entity(entity(EntityClass::Agency, "开鲁县公安局"));
        let b = kn.upsert_entity(entity(EntityClass::Agency, "拉萨市公安局"));
        let county = kn.upsert_entity(entity(EntityClass::Region, "开鲁县"));
        let city = kn.upsert_entity(entity(EntityClass::Region, "通辽市"));
        let nm = kn.upsert_entity(entity(EntityClass::Region, "内蒙古自治区"));
        let xz = kn.upsert_entity(entity(EntityClass::Region, "西藏自治区"));
        let campaign = kn.upsert_entity(entity(EntityClass::Campaign, "清源断流"));
        let edition = kn.upsert_entity(entity(EntityClass::Campaign, "清源断流—2023"));
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
        kn.add_relation(b.clone(), Property::LocatedIn, xz, Some(evidence(0)));
        kn.add_relation(county, Property::PartOf, city.clone(), None);
        kn.add_relation(city, Property::PartOf, nm, None);
        kn.add_relation(edition.clone(), Property::PartOf, campaign, None);
        kn.add_relation(
            a.clone(),
            Property::ParticipatesIn,
            edition,
            Some(evidence(0)),
        );
        kn.add_relation(a, Property::CooperatesWith, b, Some(evidence(1)));
        KnowledgeGraph::build(&kn)
    }

    fn labels(kg: &KnowledgeGraph) -> Vec<String> {
        let mut l: Vec<String> = kg.graph.node_weights().map(|n| n.label.clone()).collect();
        l.sort();
        l
    }

    #[test]
    fn region_filter_keeps_sub_regions_and_what_lies_in_them() {
        let kg = tiny();
        let f = GraphFilter {
            region: Some("内蒙古自治区".into()),
            ..Default::default()
        };
        let out = f.apply(&kg).unwrap();
        assert_eq!(
            labels(&out),
            ["内蒙古自治区", "开鲁县", "开鲁县公安局", "通辽市"]
        );
        assert_eq!(out.graph.edge_count(), 3);
    }

    #[test]
    fn campaign_class_relation_and_support_filters() {
        let kg = tiny();
        let f = GraphFilter {
            campaign: Some("清源断流".into()),
            ..Default::default()
        };
        assert_eq!(
            labels(&f.apply(&kg).unwrap()),
            ["开鲁县公安局", "清源断流", "清源断流—2023"]
        );
        let f = GraphFilter {
            classes: vec!["Agency".into()],
            ..Default::default()
        };
        let out = f.apply(&kg).unwrap();
        assert_eq!(out.graph.node_count(), 2);
        assert_eq!(out.graph.edge_count(), 1);
        let f = GraphFilter {
            relations: vec!["locatedIn".into()],
            min_support: Some(2),
            drop_isolated: true,
            ..Default::default()
        };
        assert_eq!(labels(&f.apply(&kg).unwrap()), ["开鲁县", "开鲁县公安局"]);
        let f = GraphFilter {
            drug_articles: true,
            ..Default::default()
        };
        let out = f.apply(&kg).unwrap();
        // Article 1 is the only one about drugs: the second locatedIn
        // sentence and the cooperation.
        assert_eq!(out.graph.edge_count(), 2);
        assert!(out.graph.edge_weights().all(|e| e.support == 1));
        let bad = GraphFilter {
            classes: vec!["Person".into()],
            ..Default::default()
        };
        assert!(bad.apply(&kg).unwrap_err().to_string().contains("Agency"));
    }
}
