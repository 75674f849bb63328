//! Graph analytics on a [`KnowledgeGraph`].
//!
//! In: a (possibly filtered) knowledge graph. Out: per-node scores (degree,
//! weighted degree, PageRank, betweenness), connected components, Louvain
//! communities, shortest paths and k-hop neighbourhoods. Everything is
//! deterministic: nodes are visited in IRI order, there is no randomness
//! except the seeded sampling of betweenness on very large graphs, and
//! parallel parts sum their results in a fixed order.
//!
//! The measures that ignore direction (PageRank, betweenness, components,
//! communities, paths) read an undirected simple view: parallel relations
//! between two entities become one link whose weight is the sum of their
//! supports, each relation counting at least 1 (relations implied by the
//! gazetteer have no article but are real links).

use std::collections::VecDeque;

use petgraph::graph::{NodeIndex, UnGraph};
use petgraph::unionfind::UnionFind;
use petgraph::visit::EdgeRef;
use rayon::prelude::*;
use serde::Serialize;

use crate::graph::KnowledgeGraph;

/// Graphs up to this many nodes get exact betweenness by default.
pub const EXACT_BETWEENNESS_MAX_NODES: usize = 5000;
/// Sources sampled for betweenness on larger graphs, by default.
pub const DEFAULT_BETWEENNESS_SAMPLES: usize = 500;
/// The seed of the betweenness sampling, fixed so runs agree.
const SAMPLING_SEED: u64 = 0x6a69_6e64_7521;
const PAGERANK_DAMPING: f64 = 0.85;
const PAGERANK_MAX_ITERATIONS: usize = 200;
const PAGERANK_TOLERANCE: f64 = 1e-12;

/// The undirected simple view in compressed adjacency form (neighbours of
/// node `i` are `targets[offsets[i]..offsets[i + 1]]`, sorted).
#[derive(Debug, Clone)]
pub struct Adjacency {
    offsets: Vec<usize>,
    targets: Vec<u32>,
    weights: Vec<f64>,
}

impl Adjacency {
    pub fn new(kg: &KnowledgeGraph) -> Adjacency {
        let n = kg.graph.node_count();
        let mut pairs: Vec<(u32, u32, f64)> = Vec::with_capacity(kg.graph.edge_count() * 2);
        for e in kg.graph.edge_references() {
            let (s, t) = (e.source().index() as u32, e.target().index() as u32);
            if s == t {
                continue;
            }
            let w = e.weight().support.max(1) as f64;
            pairs.push((s, t, w));
            pairs.push((t, s, w));
        }
        Adjacency::from_pairs(n, pairs)
    }

    fn from_pairs(n: usize, mut pairs: Vec<(u32, u32, f64)>) -> Adjacency {
        pairs.sort_by_key(|a| (a.0, a.1));
        let mut offsets = vec![0usize; n + 1];
        let mut targets = Vec::with_capacity(pairs.len());
        let mut weights: Vec<f64> = Vec::with_capacity(pairs.len());
        let mut last: Option<(u32, u32)> = None;
        for (s, t, w) in pairs {
            if last == Some((s, t)) {
                *weights.last_mut().expect("a previous pair") += w;
                continue;
            }
            last = Some((s, t));
            targets.push(t);
            weights.push(w);
            offsets[s as usize + 1] += 1;
        }
        for i in 0..n {
            offsets[i + 1] += offsets[i];
        }
        Adjacency {
            offsets,
            targets,
            weights,
        }
    }

    pub fn node_count(&self) -> usize {
        self.offsets.len() - 1
    }

    fn neighbours(&self, i: usize) -> &[u32] {
        &self.targets[self.offsets[i]..self.offsets[i + 1]]
    }

    fn neighbour_weights(&self, i: usize) -> &[f64] {
        &self.weights[self.offsets[i]..self.offsets[i + 1]]
    }
}

/// How to compute betweenness.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Betweenness {
    /// Exact up to [`EXACT_BETWEENNESS_MAX_NODES`] nodes, sampled above.
    Auto,
    /// Brandes from every node.
    Exact,
    /// Brandes from this many sources drawn with a fixed seed, scaled up.
    Sampled(usize),
    /// Not computed (all zero).
    Skip,
}

impl Betweenness {
    /// From `--betweenness-samples`: none → Auto, 0 → Exact, K → Sampled(K).
    pub fn from_samples(samples: Option<usize>) -> Betweenness {
        match samples {
            None => Betweenness::Auto,
            Some(0) => Betweenness::Exact,
            Some(k) => Betweenness::Sampled(k),
        }
    }
}

/// Every per-node measure, indexed by node index.
#[derive(Debug, Clone, Serialize)]
pub struct Analysis {
    /// Number of relations touching the node (both directions).
    pub degree: Vec<usize>,
    /// Sum of the supports (articles) of those relations.
    pub weighted_degree: Vec<usize>,
    /// Undirected, support-weighted PageRank (damping 0.85); sums to 1.
    pub pagerank: Vec<f64>,
    /// Normalised undirected betweenness (0..1).
    pub betweenness: Vec<f64>,
    /// How betweenness was computed: `exact`, `sampled K sources` or `skipped`.
    pub betweenness_method: String,
    /// Weakly connected component of each node (0 = the largest).
    pub component: Vec<usize>,
    /// Louvain community of each node (0 = the largest).
    pub community: Vec<usize>,
    /// Modularity of the community partition.
    pub modularity: f64,
}

impl Analysis {
    pub fn compute(kg: &KnowledgeGraph, betweenness: Betweenness) -> Analysis {
        let adjacency = Adjacency::new(kg);
        let n = kg.graph.node_count();
        let mut degree = vec![0usize; n];
        let mut weighted_degree = vec![0usize; n];
        for e in kg.graph.edge_references() {
            for end in [e.source(), e.target()] {
                degree[end.index()] += 1;
                weighted_degree[end.index()] += e.weight().support;
            }
        }
        let mode = match betweenness {
            Betweenness::Auto if n <= EXACT_BETWEENNESS_MAX_NODES => Betweenness::Exact,
            Betweenness::Auto => Betweenness::Sampled(DEFAULT_BETWEENNESS_SAMPLES),
            Betweenness::Sampled(k) if k >= n => Betweenness::Exact,
            other => other,
        };
        let (betweenness, betweenness_method) = match mode {
            Betweenness::Skip => (vec![0.0; n], "skipped".to_string()),
            Betweenness::Sampled(k) => (
                betweenness_centrality(&adjacency, Some(k)),
                format!("sampled {k} sources"),
            ),
            _ => (
                betweenness_centrality(&adjacency, None),
                "exact".to_string(),
            ),
        };
        let (community, modularity) = louvain(&adjacency);
        Analysis {
            degree,
            weighted_degree,
            pagerank: pagerank(&adjacency),
            betweenness,
            betweenness_method,
            component: components(kg),
            community,
            modularity,
        }
    }
}

/// Undirected weighted PageRank by power iteration over the adjacency,
/// O(edges) per iteration. (petgraph's `page_rank` compares every pair of
/// nodes each iteration, which does not scale to 100k nodes.) A node
/// without links spreads its rank evenly, as the random surfer jumps.
pub fn pagerank(adjacency: &Adjacency) -> Vec<f64> {
    let n = adjacency.node_count();
    if n == 0 {
        return Vec::new();
    }
    let strength: Vec<f64> = (0..n)
        .map(|i| adjacency.neighbour_weights(i).iter().sum())
        .collect();
    let uniform = 1.0 / n as f64;
    let mut rank = vec![uniform; n];
    for _ in 0..PAGERANK_MAX_ITERATIONS {
        let dangling: f64 = (0..n)
            .filter(|&i| strength[i] == 0.0)
            .map(|i| rank[i])
            .sum();
        let base = (1.0 - PAGERANK_DAMPING) * uniform + PAGERANK_DAMPING * dangling * uniform;
        let next: Vec<f64> = (0..n)
            .into_par_iter()
            .map(|v| {
                let inflow: f64 = adjacency
                    .neighbours(v)
                    .iter()
                    .zip(adjacency.neighbour_weights(v))
                    .map(|(&u, &w)| rank[u as usize] * w / strength[u as usize])
                    .sum();
                base + PAGERANK_DAMPING * inflow
            })
            .collect();
        let change: f64 = next.iter().zip(&rank).map(|(a, b)| (a - b).abs()).sum();
        rank = next;
        if change < PAGERANK_TOLERANCE {
            break;
        }
    }
    rank
}

/// Brandes' betweenness on the unweighted undirected view, normalised by
/// the number of pairs of other nodes. With `samples`, only that many
/// sources (drawn with a fixed seed) are used and the sums are scaled up.
pub fn betweenness_centrality(adjacency: &Adjacency, samples: Option<usize>) -> Vec<f64> {
    let n = adjacency.node_count();
    let sources: Vec<usize> = match samples {
        Some(k) if k < n => sample_without_replacement(n, k, SAMPLING_SEED),
        _ => (0..n).collect(),
    };
    // Fixed chunks, summed in chunk order: the result does not depend on
    // how rayon schedules them.
    let chunk = sources.len().div_ceil(64).max(1);
    let partials: Vec<Vec<f64>> = sources
        .par_chunks(chunk)
        .map(|chunk| {
            let mut bc = vec![0.0; n];
            let mut state = BrandesState::new(n);
            for &s in chunk {
                state.accumulate_from(adjacency, s, &mut bc);
            }
            bc
        })
        .collect();
    let mut bc = vec![0.0; n];
    for partial in partials {
        for (total, p) in bc.iter_mut().zip(partial) {
            *total += p;
        }
    }
    let scale = n as f64 / sources.len().max(1) as f64;
    // Each unordered pair is counted from both ends.
    let pairs = if n > 2 {
        ((n - 1) * (n - 2)) as f64 / 2.0
    } else {
        1.0
    };
    bc.iter().map(|b| b * scale / 2.0 / pairs).collect()
}

/// Reusable buffers of one Brandes pass.
struct BrandesState {
    distance: Vec<i64>,
    paths: Vec<f64>,
    dependency: Vec<f64>,
    order: Vec<usize>,
    queue: VecDeque<usize>,
}

impl BrandesState {
    fn new(n: usize) -> BrandesState {
        BrandesState {
            distance: vec![-1; n],
            paths: vec![0.0; n],
            dependency: vec![0.0; n],
            order: Vec::new(),
            queue: VecDeque::new(),
        }
    }

    fn accumulate_from(&mut self, adjacency: &Adjacency, source: usize, bc: &mut [f64]) {
        self.distance[source] = 0;
        self.paths[source] = 1.0;
        self.queue.push_back(source);
        while let Some(v) = self.queue.pop_front() {
            self.order.push(v);
            for &w in adjacency.neighbours(v) {
                let w = w as usize;
                if self.distance[w] < 0 {
                    self.distance[w] = self.distance[v] + 1;
                    self.queue.push_back(w);
                }
                if self.distance[w] == self.distance[v] + 1 {
                    self.paths[w] += self.paths[v];
                }
            }
        }
        for &w in self.order.iter().rev() {
            for &v in adjacency.neighbours(w) {
                let v = v as usize;
                if self.distance[v] == self.distance[w] - 1 {
                    self.dependency[v] +=
                        self.paths[v] / self.paths[w] * (1.0 + self.dependency[w]);
                }
            }
            if w != source {
                bc[w] += self.dependency[w];
            }
        }
        for &v in &self.order {
            self.distance[v] = -1;
            self.paths[v] = 0.0;
            self.dependency[v] = 0.0;
        }
        self.order.clear();
    }
}

/// `k` distinct numbers below `n`, sorted, from a seeded SplitMix64
/// (a partial Fisher–Yates shuffle).
fn sample_without_replacement(n: usize, k: usize, seed: u64) -> Vec<usize> {
    let mut state = seed;
    let mut next = || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let mut pool: Vec<usize> = (0..n).collect();
    for i in 0..k.min(n) {
        let j = i + (next() % (n - i) as u64) as usize;
        pool.swap(i, j);
    }
    let mut out = pool[..k.min(n)].to_vec();
    out.sort_unstable();
    out
}

/// Weakly connected components (petgraph's union-find), numbered by size,
/// largest first, ties by their first node.
pub fn components(kg: &KnowledgeGraph) -> Vec<usize> {
    let n = kg.graph.node_count();
    let mut sets = UnionFind::<usize>::new(n);
    for e in kg.graph.edge_references() {
        sets.union(e.source().index(), e.target().index());
    }
    let labels: Vec<usize> = (0..n).map(|i| sets.find(i)).collect();
    renumber_by_size(&labels)
}

/// Renumbers group labels 0.. by group size (largest first), ties by the
/// smallest member, so numbering does not depend on how groups were found.
fn renumber_by_size(labels: &[usize]) -> Vec<usize> {
    let mut groups: std::collections::HashMap<usize, (usize, usize)> = Default::default();
    for (i, &l) in labels.iter().enumerate() {
        let entry = groups.entry(l).or_insert((0, i));
        entry.0 += 1;
    }
    let mut order: Vec<(usize, usize, usize)> = groups
        .into_iter()
        .map(|(label, (size, first))| (size, first, label))
        .collect();
    order.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut new_label: std::collections::HashMap<usize, usize> = Default::default();
    for (rank, (_, _, label)) in order.into_iter().enumerate() {
        new_label.insert(label, rank);
    }
    labels.iter().map(|l| new_label[l]).collect()
}

/// Louvain community detection (Blondel et al. 2008) on the weighted
/// undirected view: local moving in node order until no move gains
/// modularity, then aggregation, repeated while the partition changes. Ties
/// keep the current community or take the first neighbour community found,
/// so the result is deterministic. Returns the community of each node
/// (numbered by size) and the modularity.
pub fn louvain(adjacency: &Adjacency) -> (Vec<usize>, f64) {
    let n = adjacency.node_count();
    let mut membership: Vec<usize> = (0..n).collect();
    let mut level = LouvainLevel {
        adjacency: adjacency.clone(),
        self_loops: vec![0.0; n],
    };
    while let Some(communities) = level.local_moving() {
        for m in membership.iter_mut() {
            *m = communities[*m];
        }
        level = level.aggregate(&communities);
    }
    let membership = renumber_by_size(&membership);
    let q = modularity(adjacency, &membership);
    (membership, q)
}

/// Newman's modularity of a partition of the weighted undirected view.
pub fn modularity(adjacency: &Adjacency, community: &[usize]) -> f64 {
    let n = adjacency.node_count();
    let two_m: f64 = adjacency.weights.iter().sum();
    if two_m == 0.0 {
        return 0.0;
    }
    let groups = community.iter().copied().max().map_or(0, |m| m + 1);
    let mut inside = vec![0.0; groups];
    let mut total = vec![0.0; groups];
    for i in 0..n {
        for (&j, &w) in adjacency
            .neighbours(i)
            .iter()
            .zip(adjacency.neighbour_weights(i))
        {
            total[community[i]] += w;
            if community[j as usize] == community[i] {
                inside[community[i]] += w;
            }
        }
    }
    inside
        .iter()
        .zip(&total)
        .map(|(&in_c, &tot)| in_c / two_m - (tot / two_m).powi(2))
        .sum()
}

/// One level of Louvain: a graph whose nodes are the previous level's
/// communities, with the weight inside each as a self-loop.
struct LouvainLevel {
    adjacency: Adjacency,
    /// Weight of each node's self-loop, counted once.
    self_loops: Vec<f64>,
}

impl LouvainLevel {
    /// Moves nodes between communities while modularity grows. Returns the
    /// community of each node (numbered 0.. by first appearance), or None
    /// when no node moved.
    fn local_moving(&self) -> Option<Vec<usize>> {
        let adjacency = &self.adjacency;
        let n = adjacency.node_count();
        let strength: Vec<f64> = (0..n)
            .map(|i| adjacency.neighbour_weights(i).iter().sum::<f64>() + 2.0 * self.self_loops[i])
            .collect();
        let two_m: f64 = strength.iter().sum();
        if two_m == 0.0 {
            return None;
        }
        let mut community: Vec<usize> = (0..n).collect();
        let mut total: Vec<f64> = strength.clone();
        let mut link_to: Vec<f64> = vec![0.0; n];
        let mut touched: Vec<usize> = Vec::new();
        let mut moved_at_all = false;
        for _pass in 0..1000 {
            let mut moved = false;
            for i in 0..n {
                let current = community[i];
                for (&j, &w) in adjacency
                    .neighbours(i)
                    .iter()
                    .zip(adjacency.neighbour_weights(i))
                {
                    let c = community[j as usize];
                    if link_to[c] == 0.0 {
                        touched.push(c);
                    }
                    link_to[c] += w;
                }
                total[current] -= strength[i];
                let gain = |c: usize| link_to[c] - total[c] * strength[i] / two_m;
                let mut best = current;
                let mut best_gain = gain(current);
                for &c in &touched {
                    let g = gain(c);
                    if g > best_gain + 1e-12 {
                        best = c;
                        best_gain = g;
                    }
                }
                total[best] += strength[i];
                if best != current {
                    community[i] = best;
                    moved = true;
                    moved_at_all = true;
                }
                for &c in &touched {
                    link_to[c] = 0.0;
                }
                touched.clear();
            }
            if !moved {
                break;
            }
        }
        if !moved_at_all {
            return None;
        }
        let mut number = vec![usize::MAX; n];
        let mut next = 0;
        for c in community.iter_mut() {
            if number[*c] == usize::MAX {
                number[*c] = next;
                next += 1;
            }
            *c = number[*c];
        }
        Some(community)
    }

    /// The graph of communities.
    fn aggregate(&self, community: &[usize]) -> LouvainLevel {
        let groups = community.iter().copied().max().map_or(0, |m| m + 1);
        let mut self_loops = vec![0.0; groups];
        let mut pairs = Vec::new();
        for i in 0..self.adjacency.node_count() {
            let ci = community[i];
            self_loops[ci] += self.self_loops[i];
            for (&j, &w) in self
                .adjacency
                .neighbours(i)
                .iter()
                .zip(self.adjacency.neighbour_weights(i))
            {
                let cj = community[j as usize];
                if ci == cj {
                    // Seen from both ends: half each time.
                    self_loops[ci] += w / 2.0;
                } else {
                    pairs.push((ci as u32, cj as u32, w));
                }
            }
        }
        LouvainLevel {
            adjacency: Adjacency::from_pairs(groups, pairs),
            self_loops,
        }
    }
}

/// The fewest-hop path between two nodes in the undirected view, by
/// petgraph's A* with a zero heuristic. Among paths of equal length the one
/// whose links have more supporting articles wins (each hop costs 1 plus a
/// tie-breaker below 1/n, so hop count always comes first).
pub fn shortest_path(
    kg: &KnowledgeGraph,
    from: NodeIndex,
    to: NodeIndex,
) -> Option<Vec<NodeIndex>> {
    let adjacency = Adjacency::new(kg);
    let n = adjacency.node_count();
    let mut undirected: UnGraph<(), f64> = UnGraph::with_capacity(n, adjacency.targets.len() / 2);
    for _ in 0..n {
        undirected.add_node(());
    }
    let tie_breaker = 1.0 / (n as f64 + 1.0);
    for i in 0..n {
        for (&j, &w) in adjacency
            .neighbours(i)
            .iter()
            .zip(adjacency.neighbour_weights(i))
        {
            if (i as u32) < j {
                undirected.add_edge(
                    NodeIndex::new(i),
                    NodeIndex::new(j as usize),
                    1.0 + tie_breaker / (1.0 + w),
                );
            }
        }
    }
    petgraph::algo::astar(
        &undirected,
        NodeIndex::new(from.index()),
        |n| n.index() == to.index(),
        |e| *e.weight(),
        |_| 0.0,
    )
    .map(|(_, path)| {
        path.into_iter()
            .map(|n| NodeIndex::new(n.index()))
            .collect()
    })
}

/// The nodes within `hops` links of `start` (undirected), with their hop
/// distance and the node they were reached from, in breadth-first order
/// (neighbours in IRI order). The start comes first, at distance 0.
pub fn neighbourhood(
    kg: &KnowledgeGraph,
    start: NodeIndex,
    hops: usize,
) -> Vec<(NodeIndex, usize, Option<NodeIndex>)> {
    let adjacency = Adjacency::new(kg);
    let mut distance = vec![usize::MAX; adjacency.node_count()];
    distance[start.index()] = 0;
    let mut out = vec![(start, 0, None)];
    let mut queue = VecDeque::from([start.index()]);
    while let Some(v) = queue.pop_front() {
        if distance[v] >= hops {
            continue;
        }
        for &w in adjacency.neighbours(v) {
            let w = w as usize;
            if distance[w] == usize::MAX {
                distance[w] = distance[v] + 1;
                out.push((NodeIndex::new(w), distance[w], Some(NodeIndex::new(v))));
                queue.push_back(w);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::tests::{entity, evidence, knowledge_with_articles};
    use crate::model::{EntityClass, Property};

    /// A graph of agencies named by the given keys, linked by cooperation.
    fn agencies(keys: &[&str], links: &[(&str, &str)]) -> KnowledgeGraph {
        let mut kn = knowledge_with_articles(1);
        for k in keys {
            kn.upsert_entity(entity(EntityClass::Agency, k));
        }
        for (a, b) in links {
            kn.add_relation(
                crate::model::EntityId::new(EntityClass::Agency, *a),
                Property::CooperatesWith,
                crate::model::EntityId::new(EntityClass::Agency, *b),
                Some(evidence(0)),
            );
        }
        KnowledgeGraph::build(&kn)
    }

    fn score(kg: &KnowledgeGraph, values: &[f64], label: &str) -> f64 {
        values[kg.find(label, None).unwrap().index()]
    }

    #[test]
    fn path_graph_middle_node_has_all_betweenness() {
        let kg = agencies(&["a", "b", "c"], &[("a", "b"), ("b", "c")]);
        let analysis = Analysis::compute(&kg, Betweenness::Auto);
        assert!((score(&kg, &analysis.betweenness, "b") - 1.0).abs() < 1e-12);
        assert_eq!(score(&kg, &analysis.betweenness, "a"), 0.0);
        let a = kg.find("a", None).unwrap();
        let c = kg.find("c", None).unwrap();
        let path = shortest_path(&kg, a, c).unwrap();
        let labels: Vec<&str> = path.iter().map(|&n| kg.graph[n].label.as_str()).collect();
        assert_eq!(labels, ["a", "b", "c"]);
        let around = neighbourhood(&kg, a, 1);
        assert_eq!(around.len(), 2);
        assert_eq!(neighbourhood(&kg, a, 2).len(), 3);
        assert_eq!(analysis.betweenness_method, "exact");
    }

    #[test]
    fn star_centre_has_highest_degree_and_pagerank() {
        let kg = agencies(
            &["hub", "l1", "l2", "l3", "l4"],
            &[("hub", "l1"), ("hub", "l2"), ("hub", "l3"), ("hub", "l4")],
        );
        let analysis = Analysis::compute(&kg, Betweenness::Auto);
        let hub = kg.find("hub", None).unwrap().index();
        assert_eq!(analysis.degree[hub], 4);
        assert_eq!(analysis.weighted_degree[hub], 4);
        for i in 0..5 {
            if i != hub {
                assert!(analysis.pagerank[hub] > analysis.pagerank[i]);
                assert_eq!(analysis.degree[i], 1);
            }
        }
        let total: f64 = analysis.pagerank.iter().sum();
        assert!((total - 1.0).abs() < 1e-9);
        assert_eq!(analysis.component, vec![0; 5]);
    }

    #[test]
    fn two_cliques_and_a_bridge_make_two_communities() {
        let left = ["a1", "a2", "a3", "a4"];
        let right = ["b1", "b2", "b3", "b4"];
        let mut links = Vec::new();
        for side in [&left, &right] {
            for i in 0..4 {
                for j in i + 1..4 {
                    links.push((side[i], side[j]));
                }
            }
        }
        links.push(("a1", "b1"));
        let keys: Vec<&str> = left.iter().chain(&right).copied().collect();
        let kg = agencies(&keys, &links);
        let analysis = Analysis::compute(&kg, Betweenness::Exact);
        let community = |l: &str| analysis.community[kg.find(l, None).unwrap().index()];
        for l in left {
            assert_eq!(community(l), community("a1"));
        }
        for l in right {
            assert_eq!(community(l), community("b1"));
        }
        assert_ne!(community("a1"), community("b1"));
        assert!(analysis.modularity > 0.3, "{}", analysis.modularity);
        let top = analysis
            .betweenness
            .iter()
            .cloned()
            .fold(f64::MIN, f64::max);
        assert_eq!(score(&kg, &analysis.betweenness, "a1"), top);
        assert_eq!(score(&kg, &analysis.betweenness, "b1"), top);
        // Sampling every node is the exact answer.
        let adjacency = Adjacency::new(&kg);
        assert_eq!(
            betweenness_centrality(&adjacency, Some(8)),
            analysis.betweenness
        );
    }

    #[test]
    fn components_are_numbered_by_size_and_empty_graphs_work() {
        let kg = agencies(
            &["a", "b", "c", "d", "e"],
            &[("a", "b"), ("b", "c"), ("d", "e")],
        );
        assert_eq!(components(&kg), vec![0, 0, 0, 1, 1]);
        let empty = KnowledgeGraph::default();
        let analysis = Analysis::compute(&empty, Betweenness::Auto);
        assert!(analysis.pagerank.is_empty() && analysis.community.is_empty());
        let sample = sample_without_replacement(100, 10, 7);
        assert_eq!(sample.len(), 10);
        assert_eq!(sample, sample_without_replacement(100, 10, 7));
    }
}
