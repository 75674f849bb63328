//! Graphviz DOT.
//!
//! Node ids are the quoted IRIs; labels are the entity names, filled with
//! the class colour. Nodes are grouped in `cluster_…` subgraphs by their
//! top-level region (each node in the cluster of the province it is located
//! in or occurred in; regions in their own province's cluster; nodes
//! without a region outside) or by Louvain community. Fonts: Noto Sans CJK
//! SC when installed (Debian `fonts-noto-cjk`), else whatever fontconfig
//! substitutes.

use std::collections::BTreeMap;
use std::io::Write;

use anyhow::Result;
use petgraph::graph::NodeIndex;
use petgraph::visit::EdgeRef;

use super::{Cluster, ExportContext, class_color, generator};

const FONT: &str = "Noto Sans CJK SC";

/// A DOT double-quoted string: backslashes and quotes escaped, line breaks
/// as `\n`, other control characters dropped.
fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

pub(super) fn write_dot(ctx: &ExportContext<'_>, out: &mut dyn Write) -> Result<()> {
    let g = &ctx.graph.graph;
    let a = ctx.analysis;
    writeln!(
        out,
        "// {} export of the jindu knowledge graph; filters: {}",
        generator(),
        ctx.filters.replace('\n', " ")
    )?;
    writeln!(out, "digraph {} {{", quoted("jindu"))?;
    writeln!(
        out,
        "  graph [charset=\"UTF-8\", fontname={f}, label={}, labelloc=t, rankdir=LR, overlap=false, splines=true];",
        quoted(&if ctx.filters == "none" {
            ctx.title.clone()
        } else {
            format!("{} ({})", ctx.title, ctx.filters)
        }),
        f = quoted(FONT)
    )?;
    writeln!(
        out,
        "  node [shape=box, style=\"rounded,filled\", fontname={f}, fontsize=10, fontcolor=\"#000000\"];",
        f = quoted(FONT)
    )?;
    writeln!(
        out,
        "  edge [fontname={f}, fontsize=8, color=\"#808080\", fontcolor=\"#555555\"];",
        f = quoted(FONT)
    )?;

    // Cluster key (sortable) → (cluster label, members); None = outside.
    let mut clusters: BTreeMap<String, (String, Vec<NodeIndex>)> = BTreeMap::new();
    let mut outside: Vec<NodeIndex> = Vec::new();
    let community_size = |c: usize| a.community.iter().filter(|&&x| x == c).count();
    let mut sizes: BTreeMap<usize, usize> = BTreeMap::new();
    if ctx.cluster == Cluster::Community {
        for &c in &a.community {
            *sizes.entry(c).or_insert(0) += 1;
        }
    }
    for n in g.node_indices() {
        let key = match ctx.cluster {
            Cluster::Region => g[n].top_region.clone(),
            Cluster::Community => {
                let c = a.community[n.index()];
                let size = sizes.get(&c).copied().unwrap_or_else(|| community_size(c));
                (size > 1).then(|| (format!("{c:08}"), format!("community {c}")))
            }
            Cluster::None => None,
        };
        match key {
            Some((key, label)) => clusters.entry(key).or_insert((label, Vec::new())).1.push(n),
            None => outside.push(n),
        }
    }
    let node_line = |n: NodeIndex| {
        let node = &g[n];
        format!(
            "{} [label={}, fillcolor={}, tooltip={}];",
            quoted(&node.iri),
            quoted(&node.label),
            quoted(class_color(node.class)),
            quoted(&format!(
                "{} · {} · PageRank {:.4}",
                node.class.name(),
                node.iri,
                a.pagerank[n.index()]
            ))
        )
    };
    for (i, (label, members)) in clusters.values().enumerate() {
        writeln!(out, "  subgraph {} {{", quoted(&format!("cluster_{i}")))?;
        writeln!(
            out,
            "    label={}; style=\"rounded\"; color=\"#b0b0b0\"; fontname={};",
            quoted(label),
            quoted(FONT)
        )?;
        for &n in members {
            writeln!(out, "    {}", node_line(n))?;
        }
        writeln!(out, "  }}")?;
    }
    for n in outside {
        writeln!(out, "  {}", node_line(n))?;
    }
    for e in g.edge_references() {
        let edge = e.weight();
        let width = 1.0 + (edge.support as f64).ln_1p();
        writeln!(
            out,
            "  {} -> {} [label={}, penwidth={:.2}, tooltip={}];",
            quoted(&g[e.source()].iri),
            quoted(&g[e.target()].iri),
            quoted(edge.property.name()),
            width,
            quoted(&format!(
                "{} · support {}",
                edge.property.name(),
                edge.support
            )),
        )?;
    }
    writeln!(out, "}}")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::quoted;

    #[test]
    fn dot_strings_are_escaped() {
        assert_eq!(quoted("a\"b\\c\nd"), "\"a\\\"b\\\\c\\nd\"");
    }
}
