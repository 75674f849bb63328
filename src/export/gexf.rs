//! GEXF 1.3 (<https://gexf.net/schema.html>), Gephi's own format.
//!
//! Node attributes are declared in `<attributes class="node">` (class, IRI,
//! scores, community) and edge attributes in `<attributes class="edge">`;
//! `viz:color` gives the class colour and `viz:size` grows with PageRank.
//! Edge label and `kind` = property (GEXF 1.3's `kind` keeps parallel
//! relations of different properties apart in Gephi), weight = support (at
//! least 1: gazetteer links have no article but still count once). No `lastmodifieddate`, so the
//! file does not change from one run to the next.

use std::io::Write;

use anyhow::Result;
use petgraph::visit::EdgeRef;
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

use super::{ExportContext, class_color, generator, rgb, xml_text};

const GEXF_NS: &str = "http://gexf.net/1.3";
const VIZ_NS: &str = "http://gexf.net/1.3/viz";
const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";
const SCHEMA_LOCATION: &str = "http://gexf.net/1.3 http://gexf.net/1.3/gexf.xsd";

const NODE_ATTRIBUTES: &[(&str, &str)] = &[
    ("class", "string"),
    ("iri", "string"),
    ("altLabels", "string"),
    ("regions", "string"),
    ("mentions", "integer"),
    ("degree", "integer"),
    ("weightedDegree", "integer"),
    ("pagerank", "double"),
    ("betweenness", "double"),
    ("community", "integer"),
];
const EDGE_ATTRIBUTES: &[(&str, &str)] = &[
    ("property", "string"),
    ("support", "integer"),
    ("sentence", "string"),
];

fn declare(w: &mut Writer<&mut dyn Write>, class: &str, attributes: &[(&str, &str)]) -> Result<()> {
    w.create_element("attributes")
        .with_attribute(("class", class))
        .write_inner_content(|w| {
            for (id, kind) in attributes {
                w.create_element("attribute")
                    .with_attributes([("id", *id), ("title", *id), ("type", *kind)])
                    .write_empty()?;
            }
            Ok(())
        })?;
    Ok(())
}

fn attvalues(w: &mut Writer<&mut dyn Write>, values: &[(&str, String)]) -> Result<()> {
    w.create_element("attvalues").write_inner_content(|w| {
        for (id, value) in values {
            w.create_element("attvalue")
                .with_attributes([("for", *id), ("value", xml_text(value).as_ref())])
                .write_empty()?;
        }
        Ok(())
    })?;
    Ok(())
}

pub(super) fn write_gexf(ctx: &ExportContext<'_>, out: &mut dyn Write) -> Result<()> {
    let g = &ctx.graph.graph;
    let a = ctx.analysis;
    let mut w = Writer::new_with_indent(out, b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    w.write_event(Event::Start(BytesStart::new("gexf").with_attributes([
        ("xmlns", GEXF_NS),
        ("xmlns:viz", VIZ_NS),
        ("xmlns:xsi", XSI_NS),
        ("xsi:schemaLocation", SCHEMA_LOCATION),
        ("version", "1.3"),
    ])))?;
    w.create_element("meta").write_inner_content(|w| {
        w.create_element("creator")
            .write_text_content(BytesText::new(&generator()))?;
        w.create_element("description")
            .write_text_content(BytesText::new(&xml_text(&format!(
                "{}; filters: {}",
                ctx.title, ctx.filters
            ))))?;
        Ok(())
    })?;
    w.write_event(Event::Start(BytesStart::new("graph").with_attributes([
        ("defaultedgetype", "directed"),
        ("mode", "static"),
    ])))?;
    declare(&mut w, "node", NODE_ATTRIBUTES)?;
    declare(&mut w, "edge", EDGE_ATTRIBUTES)?;

    let top_rank = a.pagerank.iter().copied().fold(0.0, f64::max);
    w.write_event(Event::Start(BytesStart::new("nodes")))?;
    for n in g.node_indices() {
        let node = &g[n];
        let i = n.index();
        w.write_event(Event::Start(BytesStart::new("node").with_attributes([
            ("id", xml_text(&node.iri).as_ref()),
            ("label", xml_text(&node.label).as_ref()),
        ])))?;
        attvalues(
            &mut w,
            &[
                ("class", node.class.name().to_string()),
                ("iri", node.iri.clone()),
                ("altLabels", node.alt_labels.join("; ")),
                ("regions", node.regions.join("; ")),
                ("mentions", node.mentions.to_string()),
                ("degree", a.degree[i].to_string()),
                ("weightedDegree", a.weighted_degree[i].to_string()),
                ("pagerank", a.pagerank[i].to_string()),
                ("betweenness", a.betweenness[i].to_string()),
                ("community", a.community[i].to_string()),
            ],
        )?;
        let (r, gr, b) = rgb(class_color(node.class));
        w.create_element("viz:color")
            .with_attributes([
                ("r", r.to_string().as_str()),
                ("g", gr.to_string().as_str()),
                ("b", b.to_string().as_str()),
            ])
            .write_empty()?;
        let size = if top_rank > 0.0 {
            4.0 + 36.0 * a.pagerank[i] / top_rank
        } else {
            4.0
        };
        w.create_element("viz:size")
            .with_attribute(("value", format!("{size:.3}").as_str()))
            .write_empty()?;
        w.write_event(Event::End(BytesEnd::new("node")))?;
    }
    w.write_event(Event::End(BytesEnd::new("nodes")))?;

    w.write_event(Event::Start(BytesStart::new("edges")))?;
    for e in g.edge_references() {
        let edge = e.weight();
        let id = format!("e{}", e.id().index());
        let weight = edge.support.max(1).to_string();
        w.write_event(Event::Start(BytesStart::new("edge").with_attributes([
            ("id", id.as_str()),
            ("source", xml_text(&g[e.source()].iri).as_ref()),
            ("target", xml_text(&g[e.target()].iri).as_ref()),
            ("label", edge.property.name()),
            ("weight", weight.as_str()),
            ("kind", edge.property.name()),
        ])))?;
        attvalues(
            &mut w,
            &[
                ("property", edge.property.name().to_string()),
                ("support", edge.support.to_string()),
                ("sentence", ctx.first_sentence(e.id())?.0),
            ],
        )?;
        w.write_event(Event::End(BytesEnd::new("edge")))?;
    }
    w.write_event(Event::End(BytesEnd::new("edges")))?;
    w.write_event(Event::End(BytesEnd::new("graph")))?;
    w.write_event(Event::End(BytesEnd::new("gexf")))?;
    w.get_mut().write_all(b"\n")?;
    Ok(())
}
