//! GraphML (<http://graphml.graphdrawing.org>) with yEd's extension.
//!
//! Typed `<key>`s carry the entity's label, class, IRI and scores and the
//! relation's property and support, which Cytoscape, Gephi and networkx
//! read; the `yfiles.type="nodegraphics"` and `"edgegraphics"` keys hold
//! `<y:ShapeNode>` / `<y:PolyLineEdge>` so yEd shows names, class colours
//! and arrows (yEd ignores plain keys for drawing). Nodes start on a grid;
//! run one of yEd's layouts after opening.

use std::io::Write;

use anyhow::Result;
use petgraph::visit::EdgeRef;
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

use super::{ExportContext, class_color, generator, xml_text};
use crate::model::EntityClass;

const GRAPHML_NS: &str = "http://graphml.graphdrawing.org/xmlns";
const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";
const YED_NS: &str = "http://www.yworks.com/xml/graphml";
const SCHEMA_LOCATION: &str = "http://graphml.graphdrawing.org/xmlns http://www.yworks.com/xml/schema/graphml/1.1/ygraphml.xsd";

/// (id, for, attr.name, attr.type) of the typed keys.
const KEYS: &[(&str, &str, &str, &str)] = &[
    ("label", "node", "label", "string"),
    ("class", "node", "class", "string"),
    ("iri", "node", "iri", "string"),
    ("altLabels", "node", "altLabels", "string"),
    ("regions", "node", "regions", "string"),
    ("mentions", "node", "mentions", "int"),
    ("degree", "node", "degree", "int"),
    ("weightedDegree", "node", "weightedDegree", "int"),
    ("pagerank", "node", "pagerank", "double"),
    ("betweenness", "node", "betweenness", "double"),
    ("community", "node", "community", "int"),
    ("property", "edge", "property", "string"),
    ("edgeLabel", "edge", "label", "string"),
    ("support", "edge", "support", "int"),
    ("weight", "edge", "weight", "double"),
    ("sentence", "edge", "sentence", "string"),
];

/// yEd shapes per class.
fn shape(class: EntityClass) -> &'static str {
    match class {
        EntityClass::Agency => "roundrectangle",
        EntityClass::Region => "ellipse",
        EntityClass::Campaign => "hexagon",
        EntityClass::Case => "octagon",
        EntityClass::Drug => "diamond",
    }
}

pub(super) fn write_graphml(ctx: &ExportContext<'_>, out: &mut dyn Write) -> Result<()> {
    let g = &ctx.graph.graph;
    let a = ctx.analysis;
    let mut w = Writer::new_with_indent(out, b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    w.write_event(Event::Start(BytesStart::new("graphml").with_attributes([
        ("xmlns", GRAPHML_NS),
        ("xmlns:xsi", XSI_NS),
        ("xmlns:y", YED_NS),
        ("xsi:schemaLocation", SCHEMA_LOCATION),
    ])))?;
    w.write_event(Event::Comment(quick_xml::events::BytesText::from_escaped(
        format!(
            " {} export of the jindu knowledge graph; filters: {} ",
            generator(),
            xml_text(&ctx.filters).replace("--", "- -")
        ),
    )))?;
    for (id, target, name, kind) in KEYS {
        w.create_element("key")
            .with_attributes([
                ("id", *id),
                ("for", *target),
                ("attr.name", *name),
                ("attr.type", *kind),
            ])
            .write_empty()?;
    }
    w.create_element("key")
        .with_attributes([
            ("id", "nodegraphics"),
            ("for", "node"),
            ("yfiles.type", "nodegraphics"),
        ])
        .write_empty()?;
    w.create_element("key")
        .with_attributes([
            ("id", "edgegraphics"),
            ("for", "edge"),
            ("yfiles.type", "edgegraphics"),
        ])
        .write_empty()?;
    w.write_event(Event::Start(
        BytesStart::new("graph").with_attributes([("id", "G"), ("edgedefault", "directed")]),
    ))?;

    let columns = ((g.node_count() as f64).sqrt().ceil() as usize).max(1);
    for n in g.node_indices() {
        let node = &g[n];
        let i = n.index();
        w.write_event(Event::Start(
            BytesStart::new("node").with_attributes([("id", xml_text(&node.iri).as_ref())]),
        ))?;
        let data: [(&str, String); 11] = [
            ("label", node.label.clone()),
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
        ];
        for (key, value) in data {
            w.create_element("data")
                .with_attribute(("key", key))
                .write_text_content(BytesText::new(&xml_text(&value)))?;
        }
        let label = xml_text(&node.label);
        let width = (label.chars().count() * 14 + 20) as f64;
        let (x, y) = ((i % columns) as f64 * 240.0, (i / columns) as f64 * 70.0);
        w.create_element("data")
            .with_attribute(("key", "nodegraphics"))
            .write_inner_content(|w| {
                w.create_element("y:ShapeNode").write_inner_content(|w| {
                    w.create_element("y:Geometry")
                        .with_attributes([
                            ("height", "30.0"),
                            ("width", format!("{width:.1}").as_str()),
                            ("x", format!("{x:.1}").as_str()),
                            ("y", format!("{y:.1}").as_str()),
                        ])
                        .write_empty()?;
                    w.create_element("y:Fill")
                        .with_attributes([
                            ("color", class_color(node.class)),
                            ("transparent", "false"),
                        ])
                        .write_empty()?;
                    w.create_element("y:BorderStyle")
                        .with_attributes([("color", "#000000"), ("type", "line"), ("width", "1.0")])
                        .write_empty()?;
                    w.create_element("y:NodeLabel")
                        .with_attributes([("textColor", "#000000"), ("fontSize", "12")])
                        .write_text_content(BytesText::new(&label))?;
                    w.create_element("y:Shape")
                        .with_attribute(("type", shape(node.class)))
                        .write_empty()?;
                    Ok(())
                })?;
                Ok(())
            })?;
        w.write_event(Event::End(BytesEnd::new("node")))?;
    }

    for e in g.edge_references() {
        let edge = e.weight();
        let id = format!("e{}", e.id().index());
        w.write_event(Event::Start(BytesStart::new("edge").with_attributes([
            ("id", id.as_str()),
            ("source", xml_text(&g[e.source()].iri).as_ref()),
            ("target", xml_text(&g[e.target()].iri).as_ref()),
        ])))?;
        let (sentence, _) = ctx.first_sentence(e.id())?;
        let data: [(&str, String); 5] = [
            ("property", edge.property.name().to_string()),
            ("edgeLabel", edge.property.name().to_string()),
            ("support", edge.support.to_string()),
            ("weight", edge.support.max(1).to_string()),
            ("sentence", sentence),
        ];
        for (key, value) in data {
            w.create_element("data")
                .with_attribute(("key", key))
                .write_text_content(BytesText::new(&xml_text(&value)))?;
        }
        w.create_element("data")
            .with_attribute(("key", "edgegraphics"))
            .write_inner_content(|w| {
                w.create_element("y:PolyLineEdge")
                    .write_inner_content(|w| {
                        w.create_element("y:LineStyle")
                            .with_attributes([
                                ("color", "#808080"),
                                ("type", "line"),
                                ("width", "1.0"),
                            ])
                            .write_empty()?;
                        w.create_element("y:Arrows")
                            .with_attributes([("source", "none"), ("target", "standard")])
                            .write_empty()?;
                        w.create_element("y:EdgeLabel")
                            .write_text_content(BytesText::new(edge.property.name()))?;
                        Ok(())
                    })?;
                Ok(())
            })?;
        w.write_event(Event::End(BytesEnd::new("edge")))?;
    }
    w.write_event(Event::End(BytesEnd::new("graph")))?;
    w.write_event(Event::End(BytesEnd::new("graphml")))?;
    w.get_mut().write_all(b"\n")?;
    Ok(())
}
