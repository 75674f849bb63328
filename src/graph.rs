//! Sink: the petgraph view, for analytics and exports.
//!
//! In: a [`Knowledge`]. Out: a [`KnowledgeGraph`]: a directed graph whose
//! nodes are entities (class, label, IRI key) and whose edges are relations
//! (property, number of supporting articles), in a deterministic order.

use std::collections::{BTreeSet, HashMap};

use petgraph::graph::{DiGraph, NodeIndex};
use serde::Serialize;

use crate::model::{EntityClass, EntityId, Knowledge, Property};

#[derive(Debug, Clone, Serialize)]
pub struct Node {
    pub id: EntityId,
    pub label: String,
    /// Number of articles mentioning the entity.
    pub mentions: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Edge {
    pub property: Property,
    /// Number of distinct articles supporting the relation (0: from the gazetteer).
    pub support: usize,
}

pub struct KnowledgeGraph {
    pub graph: DiGraph<Node, Edge>,
    pub index: HashMap<EntityId, NodeIndex>,
}

impl KnowledgeGraph {
    /// Builds the graph; entity and relation order follows the model's
    /// sorted maps, so node and edge indexes are stable.
    pub fn build(kn: &Knowledge) -> KnowledgeGraph {
        let mut graph = DiGraph::new();
        let mut index = HashMap::new();
        for entity in kn.entities.values() {
            let n = graph.add_node(Node {
                id: entity.id.clone(),
                label: entity.label.clone(),
                mentions: entity.mentioned_in.len(),
            });
            index.insert(entity.id.clone(), n);
        }
        for relation in kn.relations.values() {
            let (Some(&s), Some(&o)) = (
                index.get(&relation.key.subject),
                index.get(&relation.key.object),
            ) else {
                continue;
            };
            let articles: BTreeSet<usize> = relation.evidence.iter().map(|e| e.article).collect();
            graph.add_edge(
                s,
                o,
                Edge {
                    property: relation.key.property,
                    support: articles.len(),
                },
            );
        }
        KnowledgeGraph { graph, index }
    }

    /// Undirected degree of every node, highest first (ties by label).
    pub fn degree_ranking(&self, class: Option<EntityClass>) -> Vec<(String, usize)> {
        let mut out: Vec<(String, usize)> = self
            .graph
            .node_indices()
            .filter(|&n| class.is_none_or(|c| self.graph[n].id.class == c))
            .map(|n| {
                let degree = self
                    .graph
                    .edges_directed(n, petgraph::Direction::Outgoing)
                    .chain(self.graph.edges_directed(n, petgraph::Direction::Incoming))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Entity, Evidence};

    fn entity(class: EntityClass, key: &str) -> Entity {
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

    #[test]
    fn builds_nodes_edges_and_degrees() {
        let mut kn = Knowledge::default();
        let a = kn.upsert_entity(entity(EntityClass::Agency, "开鲁县公安局"));
        let r = kn.upsert_entity(entity(EntityClass::Region, "开鲁县"));
        let c = kn.upsert_entity(entity(EntityClass::Campaign, "清源断流"));
        let ev = Evidence {
            article: 0,
            char_start: 0,
            char_end: 1,
            sentence: String::new(),
            rule: String::new(),
        };
        kn.add_relation(a.clone(), Property::LocatedIn, r, Some(ev.clone()));
        kn.add_relation(a, Property::ParticipatesIn, c, Some(ev));
        let g = KnowledgeGraph::build(&kn);
        assert_eq!(g.graph.node_count(), 3);
        assert_eq!(g.graph.edge_count(), 2);
        assert_eq!(g.degree_ranking(None)[0], ("开鲁县公安局".to_string(), 2));
        assert_eq!(g.component_count(), 1);
    }
}
