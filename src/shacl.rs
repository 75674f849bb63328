//! Sink check: SHACL Core validation of the store's data.
//!
//! In: a shapes graph (Turtle; by default the embedded `ontology/shapes.ttl`)
//! and a store whose default graph holds the data. Out: a [`Report`] of
//! validation results (focus node, path, value, constraint component, source
//! shape, severity, message), printable as a table, as JSON, or as a W3C
//! `sh:ValidationReport` in Turtle.
//!
//! This is an engine for SHACL Core as the W3C recommendation defines it:
//! targets (`sh:targetNode`, `sh:targetClass` with `rdfs:subClassOf*`,
//! `sh:targetSubjectsOf`, `sh:targetObjectsOf`), node and property shapes,
//! predicate, inverse, sequence and alternative paths, and the constraint
//! components class, datatype, nodeKind, min/maxCount, min/max
//! Inclusive/Exclusive, min/maxLength, pattern (with flags), languageIn,
//! uniqueLang, equals, disjoint, lessThan, lessThanOrEquals, not, and, or,
//! xone, node, property, hasValue, in and closed. A shapes graph that uses
//! anything else (qualified value shapes, SPARQL constraints, `*`/`+`/`?`
//! paths) is refused with the feature named, never silently ignored.
//! (The Rust SHACL crates on crates.io did not build together when this
//! was written; the test suite checks this engine against pyshacl on the
//! same data, conforming and broken.)

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use anyhow::{Context, Result, bail};
use oxigraph::io::{RdfFormat, RdfParser, RdfSerializer};
use oxigraph::model::vocab::{rdf, rdfs, xsd};
use oxigraph::model::{
    BlankNode, Graph, GraphNameRef, Literal, NamedNode, NamedNodeRef, NamedOrBlankNode, Term,
    TermRef, Triple,
};
use oxigraph::store::Store;
use regex::Regex;
use serde::Serialize;

/// The shapes shipped with the binary.
pub const SHAPES_TTL: &str = include_str!("../ontology/shapes.ttl");

const SH: &str = "http://www.w3.org/ns/shacl#";

fn sh(local: &str) -> NamedNode {
    NamedNode::new_unchecked(format!("{SH}{local}"))
}

/// A SHACL property path.
#[derive(Debug, Clone)]
enum Path {
    Predicate(NamedNode),
    Inverse(Box<Path>),
    Sequence(Vec<Path>),
    Alternative(Vec<Path>),
}

impl Path {
    /// The path as SHACL writes it in a report (a term, blank nodes for
    /// complex paths are written as text).
    fn text(&self) -> String {
        match self {
            Path::Predicate(p) => p.as_str().to_string(),
            Path::Inverse(p) => format!("^{}", p.text()),
            Path::Sequence(ps) => ps.iter().map(Path::text).collect::<Vec<_>>().join("/"),
            Path::Alternative(ps) => ps.iter().map(Path::text).collect::<Vec<_>>().join("|"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Severity {
    Violation,
    Warning,
    Info,
}

impl Severity {
    fn iri(self) -> NamedNode {
        sh(match self {
            Severity::Violation => "Violation",
            Severity::Warning => "Warning",
            Severity::Info => "Info",
        })
    }
}

type ShapeId = usize;

#[derive(Debug, Clone)]
enum Constraint {
    Class(NamedNode),
    Datatype(NamedNode),
    NodeKind(NamedNode),
    MinCount(usize),
    MaxCount(usize),
    MinInclusive(Literal),
    MaxInclusive(Literal),
    MinExclusive(Literal),
    MaxExclusive(Literal),
    MinLength(usize),
    MaxLength(usize),
    Pattern(Regex),
    LanguageIn(Vec<String>),
    UniqueLang,
    Equals(NamedNode),
    Disjoint(NamedNode),
    LessThan(NamedNode),
    LessThanOrEquals(NamedNode),
    Not(ShapeId),
    And(Vec<ShapeId>),
    Or(Vec<ShapeId>),
    Xone(Vec<ShapeId>),
    Node(ShapeId),
    Property(ShapeId),
    HasValue(Term),
    In(Vec<Term>),
    Closed { allowed: HashSet<NamedNode> },
}

impl Constraint {
    /// The constraint component's local name (`ClassConstraintComponent`).
    fn component(&self) -> &'static str {
        match self {
            Constraint::Class(_) => "ClassConstraintComponent",
            Constraint::Datatype(_) => "DatatypeConstraintComponent",
            Constraint::NodeKind(_) => "NodeKindConstraintComponent",
            Constraint::MinCount(_) => "MinCountConstraintComponent",
            Constraint::MaxCount(_) => "MaxCountConstraintComponent",
            Constraint::MinInclusive(_) => "MinInclusiveConstraintComponent",
            Constraint::MaxInclusive(_) => "MaxInclusiveConstraintComponent",
            Constraint::MinExclusive(_) => "MinExclusiveConstraintComponent",
            Constraint::MaxExclusive(_) => "MaxExclusiveConstraintComponent",
            Constraint::MinLength(_) => "MinLengthConstraintComponent",
            Constraint::MaxLength(_) => "MaxLengthConstraintComponent",
            Constraint::Pattern(_) => "PatternConstraintComponent",
            Constraint::LanguageIn(_) => "LanguageInConstraintComponent",
            Constraint::UniqueLang => "UniqueLangConstraintComponent",
            Constraint::Equals(_) => "EqualsConstraintComponent",
            Constraint::Disjoint(_) => "DisjointConstraintComponent",
            Constraint::LessThan(_) => "LessThanConstraintComponent",
            Constraint::LessThanOrEquals(_) => "LessThanOrEqualsConstraintComponent",
            Constraint::Not(_) => "NotConstraintComponent",
            Constraint::And(_) => "AndConstraintComponent",
            Constraint::Or(_) => "OrConstraintComponent",
            Constraint::Xone(_) => "XoneConstraintComponent",
            Constraint::Node(_) => "NodeConstraintComponent",
            Constraint::Property(_) => "PropertyConstraintComponent",
            Constraint::HasValue(_) => "HasValueConstraintComponent",
            Constraint::In(_) => "InConstraintComponent",
            Constraint::Closed { .. } => "ClosedConstraintComponent",
        }
    }
}

#[derive(Debug)]
struct Shape {
    node: Term,
    path: Option<Path>,
    targets: Vec<Target>,
    constraints: Vec<Constraint>,
    severity: Severity,
    message: Option<String>,
    deactivated: bool,
}

#[derive(Debug)]
enum Target {
    Node(Term),
    Class(NamedNode),
    SubjectsOf(NamedNode),
    ObjectsOf(NamedNode),
}

/// A parsed shapes graph.
pub struct Shapes {
    shapes: Vec<Shape>,
}

/// One validation result.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ValidationResult {
    pub severity: Severity,
    pub focus: String,
    pub path: Option<String>,
    pub value: Option<String>,
    /// The constraint component's IRI.
    pub component: String,
    /// The shape the constraint belongs to (an IRI, or `_:` text for a blank node).
    pub source_shape: String,
    pub message: Option<String>,
}

/// The outcome of a validation.
#[derive(Debug, Serialize)]
pub struct Report {
    /// True when there is no result at all (SHACL's definition).
    pub conforms: bool,
    pub focus_nodes: usize,
    pub results: Vec<ValidationResult>,
}

impl Report {
    pub fn count(&self, severity: Severity) -> usize {
        self.results
            .iter()
            .filter(|r| r.severity == severity)
            .count()
    }
}

impl Shapes {
    /// The embedded shapes.
    pub fn embedded() -> Result<Shapes> {
        Shapes::parse(SHAPES_TTL, "ontology/shapes.ttl")
    }

    /// Parses a shapes graph written in Turtle; `name` is used in errors.
    pub fn parse(turtle: &str, name: &str) -> Result<Shapes> {
        let mut graph = Graph::new();
        for triple in RdfParser::from_format(RdfFormat::Turtle).for_slice(turtle.as_bytes()) {
            let quad = triple.with_context(|| format!("{name} does not parse"))?;
            graph.insert(&Triple::new(quad.subject, quad.predicate, quad.object));
        }
        let mut parser = ShapeParser {
            graph: &graph,
            shapes: Vec::new(),
            ids: HashMap::new(),
        };
        // Every node declared a shape, or with a target, or reached from one.
        let mut roots: BTreeSet<String> = BTreeSet::new();
        let mut root_terms = Vec::new();
        for class in ["NodeShape", "PropertyShape"] {
            for s in graph.subjects_for_predicate_object(rdf::TYPE, &sh(class)) {
                if roots.insert(s.to_string()) {
                    root_terms.push(Term::from(s.into_owned()));
                }
            }
        }
        for target in [
            "targetNode",
            "targetClass",
            "targetSubjectsOf",
            "targetObjectsOf",
        ] {
            for t in graph.triples_for_predicate(&sh(target)) {
                if roots.insert(t.subject.to_string()) {
                    root_terms.push(Term::from(t.subject.into_owned()));
                }
            }
        }
        for term in root_terms {
            parser.shape(&term)?;
        }
        Ok(Shapes {
            shapes: parser.shapes,
        })
    }

    /// Validates the default graph of `store`.
    pub fn validate(&self, store: &Store) -> Result<Report> {
        let data = Data {
            store,
            subclass_cache: Default::default(),
        };
        let mut results = BTreeSet::new();
        let mut focus_count = 0;
        for (id, shape) in self.shapes.iter().enumerate() {
            if shape.deactivated || shape.targets.is_empty() {
                continue;
            }
            let focus = data.focus_nodes(&shape.targets)?;
            focus_count += focus.len();
            for node in &focus {
                self.validate_node(&data, id, node, &mut results)?;
            }
        }
        let results: Vec<ValidationResult> = results.into_iter().collect();
        Ok(Report {
            conforms: results.is_empty(),
            focus_nodes: focus_count,
            results,
        })
    }

    /// Checks `focus` against shape `id`, adding the results.
    fn validate_node(
        &self,
        data: &Data,
        id: ShapeId,
        focus: &Term,
        out: &mut BTreeSet<ValidationResult>,
    ) -> Result<()> {
        let shape = &self.shapes[id];
        if shape.deactivated {
            return Ok(());
        }
        let values: Vec<Term> = match &shape.path {
            Some(path) => data.values(focus, path)?,
            None => vec![focus.clone()],
        };
        let result = |value: Option<&Term>, constraint: &Constraint| ValidationResult {
            severity: shape.severity,
            focus: term_text(focus),
            path: shape.path.as_ref().map(Path::text),
            value: value.map(term_text),
            component: format!("{SH}{}", constraint.component()),
            source_shape: term_text(&shape.node),
            message: shape.message.clone(),
        };
        for constraint in &shape.constraints {
            match constraint {
                Constraint::MinCount(n) => {
                    if values.len() < *n {
                        out.insert(result(None, constraint));
                    }
                }
                Constraint::MaxCount(n) => {
                    if values.len() > *n {
                        out.insert(result(None, constraint));
                    }
                }
                Constraint::UniqueLang => {
                    let mut seen: HashMap<String, usize> = HashMap::new();
                    for v in &values {
                        if let Term::Literal(l) = v
                            && let Some(lang) = l.language()
                        {
                            *seen.entry(lang.to_lowercase()).or_default() += 1;
                        }
                    }
                    for _ in seen.values().filter(|&&n| n > 1) {
                        out.insert(result(None, constraint));
                    }
                }
                Constraint::HasValue(wanted) => {
                    if !values.contains(wanted) {
                        out.insert(result(None, constraint));
                    }
                }
                Constraint::Equals(p) | Constraint::Disjoint(p) => {
                    let other: BTreeSet<String> = data
                        .values(focus, &Path::Predicate(p.clone()))?
                        .iter()
                        .map(|t| t.to_string())
                        .collect();
                    let mine: BTreeSet<String> = values.iter().map(|t| t.to_string()).collect();
                    let bad: Vec<&String> = if matches!(constraint, Constraint::Equals(_)) {
                        mine.symmetric_difference(&other).collect()
                    } else {
                        mine.intersection(&other).collect()
                    };
                    for b in bad {
                        let value = values
                            .iter()
                            .find(|t| &t.to_string() == b)
                            .cloned()
                            .or_else(|| {
                                data.values(focus, &Path::Predicate(p.clone()))
                                    .ok()
                                    .and_then(|vs| vs.into_iter().find(|t| &t.to_string() == b))
                            });
                        out.insert(result(value.as_ref(), constraint));
                    }
                }
                Constraint::LessThan(p) | Constraint::LessThanOrEquals(p) => {
                    let others = data.values(focus, &Path::Predicate(p.clone()))?;
                    let or_equal = matches!(constraint, Constraint::LessThanOrEquals(_));
                    for v in &values {
                        for o in &others {
                            let ok = match compare(v, o) {
                                Some(std::cmp::Ordering::Less) => true,
                                Some(std::cmp::Ordering::Equal) => or_equal,
                                _ => false,
                            };
                            if !ok {
                                out.insert(result(Some(v), constraint));
                            }
                        }
                    }
                }
                Constraint::Property(child) => {
                    for v in &values {
                        self.validate_node(data, *child, v, out)?;
                    }
                }
                Constraint::Closed { allowed } => {
                    for v in &values {
                        for (p, o) in data.properties(v)? {
                            if !allowed.contains(&p) {
                                let mut r = result(Some(&o), constraint);
                                r.path = Some(p.as_str().to_string());
                                out.insert(r);
                            }
                        }
                    }
                }
                _ => {
                    for v in &values {
                        if !self.value_conforms(data, constraint, v)? {
                            out.insert(result(Some(v), constraint));
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Whether a value node satisfies a value-type, string, range or
    /// logical constraint.
    fn value_conforms(&self, data: &Data, constraint: &Constraint, v: &Term) -> Result<bool> {
        Ok(match constraint {
            Constraint::Class(c) => data.is_instance(v, c)?,
            Constraint::Datatype(d) => match v {
                Term::Literal(l) => l.datatype() == d.as_ref() && well_formed(l),
                _ => false,
            },
            Constraint::NodeKind(kind) => {
                let (iri, blank, literal) = match v {
                    Term::NamedNode(_) => (true, false, false),
                    Term::BlankNode(_) => (false, true, false),
                    Term::Literal(_) => (false, false, true),
                    #[allow(unreachable_patterns)]
                    _ => (false, false, false),
                };
                match kind.as_str().strip_prefix(SH).unwrap_or("") {
                    "IRI" => iri,
                    "BlankNode" => blank,
                    "Literal" => literal,
                    "BlankNodeOrIRI" => blank || iri,
                    "BlankNodeOrLiteral" => blank || literal,
                    "IRIOrLiteral" => iri || literal,
                    _ => false,
                }
            }
            Constraint::MinInclusive(b) => matches!(
                compare(v, &Term::from(b.clone())),
                Some(std::cmp::Ordering::Greater | std::cmp::Ordering::Equal)
            ),
            Constraint::MinExclusive(b) => {
                compare(v, &Term::from(b.clone())) == Some(std::cmp::Ordering::Greater)
            }
            Constraint::MaxInclusive(b) => matches!(
                compare(v, &Term::from(b.clone())),
                Some(std::cmp::Ordering::Less | std::cmp::Ordering::Equal)
            ),
            Constraint::MaxExclusive(b) => {
                compare(v, &Term::from(b.clone())) == Some(std::cmp::Ordering::Less)
            }
            Constraint::MinLength(n) => string_value(v).is_some_and(|s| s.chars().count() >= *n),
            Constraint::MaxLength(n) => string_value(v).is_some_and(|s| s.chars().count() <= *n),
            Constraint::Pattern(re) => string_value(v).is_some_and(|s| re.is_match(&s)),
            Constraint::LanguageIn(langs) => match v {
                Term::Literal(l) => l
                    .language()
                    .is_some_and(|tag| langs.iter().any(|range| language_matches(tag, range))),
                _ => false,
            },
            Constraint::In(list) => list.contains(v),
            Constraint::Not(s) => !self.conforms(data, *s, v)?,
            Constraint::And(ss) => {
                let mut all = true;
                for s in ss {
                    all &= self.conforms(data, *s, v)?;
                }
                all
            }
            Constraint::Or(ss) => {
                let mut any = false;
                for s in ss {
                    if self.conforms(data, *s, v)? {
                        any = true;
                        break;
                    }
                }
                any
            }
            Constraint::Xone(ss) => {
                let mut n = 0;
                for s in ss {
                    n += usize::from(self.conforms(data, *s, v)?);
                }
                n == 1
            }
            Constraint::Node(s) => self.conforms(data, *s, v)?,
            // Handled per focus node in validate_node.
            _ => true,
        })
    }

    /// Whether `node` conforms to shape `id` (no result of any severity).
    fn conforms(&self, data: &Data, id: ShapeId, node: &Term) -> Result<bool> {
        let mut results = BTreeSet::new();
        self.validate_node(data, id, node, &mut results)?;
        Ok(results.is_empty())
    }
}

/// Reads shapes out of the shapes graph.
struct ShapeParser<'g> {
    graph: &'g Graph,
    shapes: Vec<Shape>,
    ids: HashMap<String, ShapeId>,
}

/// Predicates a shape may carry that are not constraints.
const NON_CONSTRAINTS: &[&str] = &[
    "message",
    "severity",
    "name",
    "description",
    "order",
    "group",
    "defaultValue",
    "deactivated",
    "path",
    "flags",
    "targetNode",
    "targetClass",
    "targetSubjectsOf",
    "targetObjectsOf",
    "ignoredProperties",
];

impl ShapeParser<'_> {
    fn objects(&self, node: &Term, local: &str) -> Vec<Term> {
        let Some(subject) = as_subject(node) else {
            return Vec::new();
        };
        let mut out: Vec<Term> = self
            .graph
            .objects_for_subject_predicate(&subject, &sh(local))
            .map(|t| t.into_owned())
            .collect();
        out.sort_by_key(|t| t.to_string());
        out
    }

    fn list(&self, head: &Term) -> Result<Vec<Term>> {
        let mut items = Vec::new();
        let mut node = head.clone();
        let nil = Term::from(NamedNode::from(rdf::NIL));
        while node != nil {
            let subject = as_subject(&node).context("a SHACL list node is a literal")?;
            let first = self
                .graph
                .object_for_subject_predicate(&subject, rdf::FIRST)
                .with_context(|| format!("SHACL list {node} has no rdf:first"))?;
            items.push(first.into_owned());
            node = self
                .graph
                .object_for_subject_predicate(&subject, rdf::REST)
                .with_context(|| format!("SHACL list {node} has no rdf:rest"))?
                .into_owned();
            if items.len() > 100_000 {
                bail!("SHACL list {head} does not end");
            }
        }
        Ok(items)
    }

    fn path(&self, node: &Term) -> Result<Path> {
        if let Term::NamedNode(p) = node {
            return Ok(Path::Predicate(p.clone()));
        }
        if let Some(inner) = self.objects(node, "inversePath").first() {
            return Ok(Path::Inverse(Box::new(self.path(inner)?)));
        }
        if let Some(list) = self.objects(node, "alternativePath").first() {
            let parts = self.list(list)?;
            return Ok(Path::Alternative(
                parts.iter().map(|p| self.path(p)).collect::<Result<_>>()?,
            ));
        }
        for unsupported in ["zeroOrMorePath", "oneOrMorePath", "zeroOrOnePath"] {
            if !self.objects(node, unsupported).is_empty() {
                bail!("unsupported SHACL path sh:{unsupported} at {node}");
            }
        }
        if let Some(subject) = as_subject(node)
            && self
                .graph
                .object_for_subject_predicate(&subject, rdf::FIRST)
                .is_some()
        {
            let parts = self.list(node)?;
            return Ok(Path::Sequence(
                parts.iter().map(|p| self.path(p)).collect::<Result<_>>()?,
            ));
        }
        bail!("cannot read the SHACL path {node}")
    }

    fn shape(&mut self, node: &Term) -> Result<ShapeId> {
        let key = node.to_string();
        if let Some(&id) = self.ids.get(&key) {
            return Ok(id);
        }
        let id = self.shapes.len();
        self.ids.insert(key, id);
        self.shapes.push(Shape {
            node: node.clone(),
            path: None,
            targets: Vec::new(),
            constraints: Vec::new(),
            severity: Severity::Violation,
            message: None,
            deactivated: false,
        });
        let path = match self.objects(node, "path").first() {
            Some(p) => Some(self.path(p)?),
            None => None,
        };
        let mut targets = Vec::new();
        for t in self.objects(node, "targetNode") {
            targets.push(Target::Node(t));
        }
        for (local, make) in [
            ("targetClass", Target::Class as fn(NamedNode) -> Target),
            ("targetSubjectsOf", Target::SubjectsOf),
            ("targetObjectsOf", Target::ObjectsOf),
        ] {
            for t in self.objects(node, local) {
                match t {
                    Term::NamedNode(n) => targets.push(make(n)),
                    other => bail!("sh:{local} of {node} is not an IRI: {other}"),
                }
            }
        }
        let severity = match self.objects(node, "severity").first() {
            Some(Term::NamedNode(n)) if n.as_str() == format!("{SH}Warning") => Severity::Warning,
            Some(Term::NamedNode(n)) if n.as_str() == format!("{SH}Info") => Severity::Info,
            _ => Severity::Violation,
        };
        let messages = self.objects(node, "message");
        let message = messages
            .iter()
            .find(|m| matches!(m, Term::Literal(l) if l.language() == Some("en")))
            .or(messages.first())
            .and_then(|m| match m {
                Term::Literal(l) => Some(l.value().to_string()),
                _ => None,
            });
        let deactivated = self
            .objects(node, "deactivated")
            .iter()
            .any(|t| matches!(t, Term::Literal(l) if l.value() == "true"));
        let constraints = self.constraints(node)?;
        let shape = &mut self.shapes[id];
        shape.path = path;
        shape.targets = targets;
        shape.severity = severity;
        shape.message = message;
        shape.deactivated = deactivated;
        shape.constraints = constraints;
        Ok(id)
    }

    fn constraints(&mut self, node: &Term) -> Result<Vec<Constraint>> {
        let Some(subject) = as_subject(node) else {
            bail!("a shape cannot be the literal {node}");
        };
        let mut predicates: BTreeSet<String> = BTreeSet::new();
        for t in self.graph.triples_for_subject(&subject) {
            if let Some(local) = t.predicate.as_str().strip_prefix(SH) {
                predicates.insert(local.to_string());
            }
        }
        let mut out = Vec::new();
        let literal_usize = |t: &Term, what: &str| -> Result<usize> {
            match t {
                Term::Literal(l) => l
                    .value()
                    .parse()
                    .with_context(|| format!("sh:{what} of {node} is not a count")),
                _ => bail!("sh:{what} of {node} is not a literal"),
            }
        };
        let literal = |t: Term, what: &str| -> Result<Literal> {
            match t {
                Term::Literal(l) => Ok(l),
                other => bail!("sh:{what} of {node} is not a literal: {other}"),
            }
        };
        let iri = |t: Term, what: &str| -> Result<NamedNode> {
            match t {
                Term::NamedNode(n) => Ok(n),
                other => bail!("sh:{what} of {node} is not an IRI: {other}"),
            }
        };
        for local in &predicates {
            if NON_CONSTRAINTS.contains(&local.as_str()) {
                continue;
            }
            for value in self.objects(node, local) {
                let c = match local.as_str() {
                    "class" => Constraint::Class(iri(value, local)?),
                    "datatype" => Constraint::Datatype(iri(value, local)?),
                    "nodeKind" => Constraint::NodeKind(iri(value, local)?),
                    "minCount" => Constraint::MinCount(literal_usize(&value, local)?),
                    "maxCount" => Constraint::MaxCount(literal_usize(&value, local)?),
                    "minLength" => Constraint::MinLength(literal_usize(&value, local)?),
                    "maxLength" => Constraint::MaxLength(literal_usize(&value, local)?),
                    "minInclusive" => Constraint::MinInclusive(literal(value, local)?),
                    "maxInclusive" => Constraint::MaxInclusive(literal(value, local)?),
                    "minExclusive" => Constraint::MinExclusive(literal(value, local)?),
                    "maxExclusive" => Constraint::MaxExclusive(literal(value, local)?),
                    "pattern" => {
                        let pattern = literal(value, local)?;
                        let flags = self
                            .objects(node, "flags")
                            .first()
                            .map(|f| match f {
                                Term::Literal(l) => l.value().to_string(),
                                _ => String::new(),
                            })
                            .unwrap_or_default();
                        Constraint::Pattern(regex_with_flags(pattern.value(), &flags)?)
                    }
                    "languageIn" => Constraint::LanguageIn(
                        self.list(&value)?
                            .into_iter()
                            .map(|t| match t {
                                Term::Literal(l) => Ok(l.value().to_string()),
                                other => bail!("sh:languageIn of {node} lists {other}"),
                            })
                            .collect::<Result<_>>()?,
                    ),
                    "uniqueLang" => {
                        if matches!(&value, Term::Literal(l) if l.value() == "true") {
                            Constraint::UniqueLang
                        } else {
                            continue;
                        }
                    }
                    "equals" => Constraint::Equals(iri(value, local)?),
                    "disjoint" => Constraint::Disjoint(iri(value, local)?),
                    "lessThan" => Constraint::LessThan(iri(value, local)?),
                    "lessThanOrEquals" => Constraint::LessThanOrEquals(iri(value, local)?),
                    "not" => Constraint::Not(self.shape(&value)?),
                    "node" => Constraint::Node(self.shape(&value)?),
                    "property" => Constraint::Property(self.shape(&value)?),
                    "and" | "or" | "xone" => {
                        let members = self.list(&value)?;
                        let ids = members
                            .iter()
                            .map(|m| self.shape(m))
                            .collect::<Result<Vec<_>>>()?;
                        match local.as_str() {
                            "and" => Constraint::And(ids),
                            "or" => Constraint::Or(ids),
                            _ => Constraint::Xone(ids),
                        }
                    }
                    "hasValue" => Constraint::HasValue(value),
                    "in" => Constraint::In(self.list(&value)?),
                    "closed" => {
                        if !matches!(&value, Term::Literal(l) if l.value() == "true") {
                            continue;
                        }
                        let mut allowed = HashSet::new();
                        for p in self.objects(node, "property") {
                            if let Some(Term::NamedNode(path)) = self.objects(&p, "path").first() {
                                allowed.insert(path.clone());
                            }
                        }
                        for list in self.objects(node, "ignoredProperties") {
                            for t in self.list(&list)? {
                                if let Term::NamedNode(n) = t {
                                    allowed.insert(n);
                                }
                            }
                        }
                        Constraint::Closed { allowed }
                    }
                    other => bail!(
                        "unsupported SHACL feature sh:{other} on shape {node} (this engine covers SHACL Core without qualified value shapes)"
                    ),
                };
                out.push(c);
            }
        }
        Ok(out)
    }
}

fn as_subject(term: &Term) -> Option<NamedOrBlankNode> {
    match term {
        Term::NamedNode(n) => Some(n.clone().into()),
        Term::BlankNode(b) => Some(b.clone().into()),
        _ => None,
    }
}

/// The data graph: the store's default graph.
struct Data<'s> {
    store: &'s Store,
    subclass_cache: std::cell::RefCell<HashMap<NamedNode, HashSet<NamedNode>>>,
}

impl Data<'_> {
    fn objects(&self, s: &NamedOrBlankNode, p: NamedNodeRef<'_>) -> Result<Vec<Term>> {
        let mut out = Vec::new();
        for q in self.store.quads_for_pattern(
            Some(s.as_ref()),
            Some(p),
            None,
            Some(GraphNameRef::DefaultGraph),
        ) {
            out.push(q.context("cannot read the store")?.object);
        }
        Ok(out)
    }

    fn subjects(&self, p: NamedNodeRef<'_>, o: TermRef<'_>) -> Result<Vec<Term>> {
        let mut out = Vec::new();
        for q in
            self.store
                .quads_for_pattern(None, Some(p), Some(o), Some(GraphNameRef::DefaultGraph))
        {
            out.push(q.context("cannot read the store")?.subject.into());
        }
        Ok(out)
    }

    /// Every property and value of a node.
    fn properties(&self, node: &Term) -> Result<Vec<(NamedNode, Term)>> {
        let Some(s) = as_subject(node) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for q in self.store.quads_for_pattern(
            Some(s.as_ref()),
            None,
            None,
            Some(GraphNameRef::DefaultGraph),
        ) {
            let q = q.context("cannot read the store")?;
            out.push((q.predicate, q.object));
        }
        Ok(out)
    }

    /// The value nodes of `path` from `focus`, without repeats.
    fn values(&self, focus: &Term, path: &Path) -> Result<Vec<Term>> {
        let mut out = match path {
            Path::Predicate(p) => match as_subject(focus) {
                Some(s) => self.objects(&s, p.as_ref())?,
                None => Vec::new(),
            },
            Path::Inverse(inner) => match inner.as_ref() {
                Path::Predicate(p) => self.subjects(p.as_ref(), focus.as_ref())?,
                other => bail!("unsupported SHACL path: inverse of {}", other.text()),
            },
            Path::Sequence(parts) => {
                let mut nodes = vec![focus.clone()];
                for part in parts {
                    let mut next = Vec::new();
                    for n in &nodes {
                        next.extend(self.values(n, part)?);
                    }
                    nodes = next;
                }
                nodes
            }
            Path::Alternative(parts) => {
                let mut nodes = Vec::new();
                for part in parts {
                    nodes.extend(self.values(focus, part)?);
                }
                nodes
            }
        };
        let mut seen = HashSet::new();
        out.retain(|t| seen.insert(t.to_string()));
        Ok(out)
    }

    /// The class and its subclasses (rdfs:subClassOf* in the data graph).
    fn subclasses(&self, class: &NamedNode) -> Result<HashSet<NamedNode>> {
        if let Some(s) = self.subclass_cache.borrow().get(class) {
            return Ok(s.clone());
        }
        let mut all = HashSet::from([class.clone()]);
        let mut todo = vec![class.clone()];
        while let Some(c) = todo.pop() {
            for s in self.subjects(rdfs::SUB_CLASS_OF, TermRef::from(c.as_ref()))? {
                if let Term::NamedNode(n) = s
                    && all.insert(n.clone())
                {
                    todo.push(n);
                }
            }
        }
        self.subclass_cache
            .borrow_mut()
            .insert(class.clone(), all.clone());
        Ok(all)
    }

    fn is_instance(&self, node: &Term, class: &NamedNode) -> Result<bool> {
        let Some(s) = as_subject(node) else {
            return Ok(false);
        };
        let classes = self.subclasses(class)?;
        Ok(self
            .objects(&s, rdf::TYPE)?
            .iter()
            .any(|t| matches!(t, Term::NamedNode(n) if classes.contains(n))))
    }

    fn focus_nodes(&self, targets: &[Target]) -> Result<Vec<Term>> {
        let mut out: Vec<Term> = Vec::new();
        for target in targets {
            match target {
                Target::Node(n) => out.push(n.clone()),
                Target::Class(c) => {
                    for class in self.subclasses(c)? {
                        out.extend(self.subjects(rdf::TYPE, TermRef::from(class.as_ref()))?);
                    }
                }
                Target::SubjectsOf(p) | Target::ObjectsOf(p) => {
                    for q in self.store.quads_for_pattern(
                        None,
                        Some(p.as_ref()),
                        None,
                        Some(GraphNameRef::DefaultGraph),
                    ) {
                        let q = q.context("cannot read the store")?;
                        out.push(match target {
                            Target::SubjectsOf(_) => q.subject.into(),
                            _ => q.object,
                        });
                    }
                }
            }
        }
        let mut seen = HashSet::new();
        out.retain(|t| seen.insert(t.to_string()));
        out.sort_by_key(|t| t.to_string());
        Ok(out)
    }
}

/// `sh:pattern` with `sh:flags` (`i`, `m`, `s`, `x`; `q` quotes the pattern).
fn regex_with_flags(pattern: &str, flags: &str) -> Result<Regex> {
    let mut inline = String::new();
    let mut quoted = false;
    for f in flags.chars() {
        match f {
            'i' | 'm' | 's' | 'x' => inline.push(f),
            'q' => quoted = true,
            other => bail!("unsupported sh:flags letter {other}"),
        }
    }
    let body = if quoted {
        regex::escape(pattern)
    } else {
        pattern.to_string()
    };
    let full = if inline.is_empty() {
        body
    } else {
        format!("(?{inline}){body}")
    };
    Regex::new(&full).with_context(|| format!("sh:pattern {pattern:?} is not a valid expression"))
}

/// The string a pattern or length constraint reads (none for blank nodes).
fn string_value(t: &Term) -> Option<String> {
    match t {
        Term::NamedNode(n) => Some(n.as_str().to_string()),
        Term::Literal(l) => Some(l.value().to_string()),
        _ => None,
    }
}

/// Basic language-range matching (RFC 4647 §3.3.1), as SPARQL's langMatches.
fn language_matches(tag: &str, range: &str) -> bool {
    if range == "*" {
        return !tag.is_empty();
    }
    let tag = tag.to_ascii_lowercase();
    let range = range.to_ascii_lowercase();
    tag == range || tag.starts_with(&format!("{range}-"))
}

const NUMERIC: &[&str] = &[
    "integer",
    "decimal",
    "double",
    "float",
    "int",
    "long",
    "short",
    "byte",
    "nonNegativeInteger",
    "positiveInteger",
    "negativeInteger",
    "nonPositiveInteger",
    "unsignedInt",
    "unsignedLong",
    "unsignedShort",
    "unsignedByte",
];

fn xsd_local(l: &Literal) -> Option<&str> {
    l.datatype()
        .as_str()
        .strip_prefix("http://www.w3.org/2001/XMLSchema#")
}

/// Whether a literal of a checked datatype is well formed.
fn well_formed(l: &Literal) -> bool {
    match xsd_local(l) {
        Some(t) if NUMERIC.contains(&t) => l.value().trim().parse::<f64>().is_ok(),
        Some("boolean") => matches!(l.value(), "true" | "false" | "1" | "0"),
        Some("date") => chrono::NaiveDate::parse_from_str(l.value(), "%Y-%m-%d").is_ok(),
        Some("dateTime") => {
            chrono::DateTime::parse_from_rfc3339(l.value()).is_ok()
                || chrono::NaiveDateTime::parse_from_str(l.value(), "%Y-%m-%dT%H:%M:%S").is_ok()
        }
        Some("gYear") => {
            let v = l.value().trim_start_matches('-');
            v.len() >= 4 && v[..4].chars().all(|c| c.is_ascii_digit())
        }
        _ => true,
    }
}

/// Compares two terms as SPARQL's `<` would: numbers numerically, dates
/// and times and strings of the same datatype by their lexical order (the
/// order of their values for the canonical forms jindu writes). None when
/// they are not comparable, which SHACL counts as a violation.
fn compare(a: &Term, b: &Term) -> Option<std::cmp::Ordering> {
    let (Term::Literal(a), Term::Literal(b)) = (a, b) else {
        return None;
    };
    let (ta, tb) = (xsd_local(a)?, xsd_local(b)?);
    if NUMERIC.contains(&ta) && NUMERIC.contains(&tb) {
        let x: f64 = a.value().trim().parse().ok()?;
        let y: f64 = b.value().trim().parse().ok()?;
        return x.partial_cmp(&y);
    }
    if ta == tb && matches!(ta, "date" | "dateTime" | "time" | "gYear" | "string") {
        return Some(a.value().cmp(b.value()));
    }
    None
}

fn term_text(t: &Term) -> String {
    match t {
        Term::NamedNode(n) => n.as_str().to_string(),
        Term::BlankNode(b) => format!("_:{}", b.as_str()),
        Term::Literal(l) => l.value().to_string(),
        #[allow(unreachable_patterns)]
        other => other.to_string(),
    }
}

/// Writes the report as a W3C `sh:ValidationReport` in Turtle.
pub fn write_turtle(report: &Report, out: &mut dyn std::io::Write) -> Result<()> {
    let mut graph: Vec<Triple> = Vec::new();
    let root = BlankNode::new_unchecked("report");
    let ty = NamedNode::from(rdf::TYPE);
    graph.push(Triple::new(
        root.clone(),
        ty.clone(),
        sh("ValidationReport"),
    ));
    graph.push(Triple::new(
        root.clone(),
        sh("conforms"),
        Literal::from(report.conforms),
    ));
    let node_term = |text: &str| -> Term {
        if let Some(b) = text.strip_prefix("_:") {
            BlankNode::new_unchecked(b).into()
        } else if let Ok(n) = NamedNode::new(text) {
            n.into()
        } else {
            Literal::new_simple_literal(text).into()
        }
    };
    for (i, r) in report.results.iter().enumerate() {
        let node = BlankNode::new_unchecked(format!("r{i}"));
        graph.push(Triple::new(root.clone(), sh("result"), node.clone()));
        graph.push(Triple::new(
            node.clone(),
            ty.clone(),
            sh("ValidationResult"),
        ));
        graph.push(Triple::new(
            node.clone(),
            sh("focusNode"),
            node_term(&r.focus),
        ));
        if let Some(p) = &r.path
            && let Ok(p) = NamedNode::new(p)
        {
            graph.push(Triple::new(node.clone(), sh("resultPath"), p));
        }
        if let Some(v) = &r.value {
            graph.push(Triple::new(
                node.clone(),
                sh("value"),
                Literal::new_simple_literal(v),
            ));
        }
        graph.push(Triple::new(
            node.clone(),
            sh("sourceConstraintComponent"),
            NamedNode::new_unchecked(&r.component),
        ));
        graph.push(Triple::new(
            node.clone(),
            sh("sourceShape"),
            node_term(&r.source_shape),
        ));
        graph.push(Triple::new(
            node.clone(),
            sh("resultSeverity"),
            r.severity.iri(),
        ));
        if let Some(m) = &r.message {
            graph.push(Triple::new(
                node.clone(),
                sh("resultMessage"),
                Literal::new_language_tagged_literal_unchecked(m, "en"),
            ));
        }
    }
    let mut writer = RdfSerializer::from_format(RdfFormat::Turtle)
        .with_prefix("sh", SH)?
        .with_prefix("xsd", xsd::STRING.as_str().trim_end_matches("string"))?
        .for_writer(out);
    for t in &graph {
        writer.serialize_triple(t)?;
    }
    writer.finish()?;
    Ok(())
}

/// Counts of results by component local name, for summaries.
pub fn by_component(report: &Report) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for r in &report.results {
        let local = r.component.trim_start_matches(SH).to_string();
        *counts.entry(local).or_default() += 1;
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;
    use oxigraph::model::Quad;

    const PREFIXES: &str = "@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://example.org/> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> . @prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .\n";

    fn store_with(turtle: &str) -> Store {
        let store = Store::new().unwrap();
        store
            .load_from_reader(
                RdfParser::from_format(RdfFormat::Turtle),
                format!("{PREFIXES}{turtle}").as_bytes(),
            )
            .unwrap();
        store
    }

    fn validate(shapes: &str, data: &str) -> Report {
        Shapes::parse(&format!("{PREFIXES}{shapes}"), "test")
            .unwrap()
            .validate(&store_with(data))
            .unwrap()
    }

    fn components(report: &Report) -> Vec<String> {
        report
            .results
            .iter()
            .map(|r| r.component.trim_start_matches(SH).to_string())
            .collect()
    }

    #[test]
    fn counts_datatypes_patterns_and_lists() {
        let shapes = r#"
            ex:S a sh:NodeShape ; sh:targetClass ex:Region ;
              sh:property [ sh:path ex:code ; sh:minCount 1 ; sh:maxCount 1 ;
                            sh:datatype xsd:string ; sh:pattern "^[0-9]{6}$" ] ,
                          [ sh:path ex:level ; sh:in ( "province" "county" ) ] ."#;
        let good = validate(
            shapes,
            r#"ex:a a ex:Region ; ex:code "150000" ; ex:level "province" ."#,
        );
        assert!(good.conforms, "{:?}", good.results);
        let bad = validate(
            shapes,
            r#"ex:a a ex:Region ; ex:code "15" , "150000" ; ex:level "planet" .
               ex:b a ex:Region ."#,
        );
        let mut got = components(&bad);
        got.sort();
        assert_eq!(
            got,
            [
                "InConstraintComponent",
                "MaxCountConstraintComponent",
                "MinCountConstraintComponent",
                "PatternConstraintComponent"
            ]
        );
        let pattern = bad
            .results
            .iter()
            .find(|r| r.component.ends_with("PatternConstraintComponent"))
            .unwrap();
        assert_eq!(pattern.focus, "http://example.org/a");
        assert_eq!(pattern.value.as_deref(), Some("15"));
        assert_eq!(pattern.path.as_deref(), Some("http://example.org/code"));
    }

    #[test]
    fn logical_constraints_class_and_comparisons() {
        let shapes = r#"
            ex:Range a sh:NodeShape ; sh:targetObjectsOf ex:locatedIn ; sh:class ex:Region .
            ex:One a sh:NodeShape ; sh:targetSubjectsOf ex:locatedIn ;
              sh:xone ( [ sh:class ex:Agency ] [ sh:class ex:Region ] ) .
            ex:Span a sh:NodeShape ; sh:targetClass ex:Stat ;
              sh:property [ sh:path ex:start ; sh:lessThanOrEquals ex:end ; sh:minInclusive 0 ] ;
              sh:not [ sh:path ex:flag ; sh:hasValue "bad" ] ."#;
        let good = validate(
            shapes,
            r#"ex:a a ex:Agency ; ex:locatedIn ex:r . ex:r a ex:Region .
               ex:s a ex:Stat ; ex:start 3 ; ex:end 5 ."#,
        );
        assert!(good.conforms, "{:?}", good.results);
        let bad = validate(
            shapes,
            r#"ex:a a ex:Agency , ex:Region ; ex:locatedIn ex:x .
               ex:s a ex:Stat ; ex:start 7 ; ex:end 5 ; ex:flag "bad" .
               ex:t a ex:Stat ; ex:start -1 ."#,
        );
        let mut got = components(&bad);
        got.sort();
        assert_eq!(
            got,
            [
                "ClassConstraintComponent",
                "LessThanOrEqualsConstraintComponent",
                "MinInclusiveConstraintComponent",
                "NotConstraintComponent",
                "XoneConstraintComponent"
            ]
        );
    }

    #[test]
    fn unsupported_features_are_refused_by_name() {
        let err = Shapes::parse(
            &format!(
                "{PREFIXES} ex:S a sh:NodeShape ; sh:targetNode ex:a ; sh:qualifiedMinCount 1 ."
            ),
            "t",
        )
        .err()
        .unwrap();
        assert!(err.to_string().contains("qualifiedMinCount"), "{err}");
    }

    #[test]
    fn the_embedded_shapes_parse_and_a_broken_entity_is_caught() {
        let shapes = Shapes::embedded().unwrap();
        let store = Store::new().unwrap();
        let jd = |l: &str| NamedNode::new_unchecked(format!("https://w3id.org/jindu/ontology#{l}"));
        let a = NamedNode::new_unchecked("https://w3id.org/jindu/id/agency/x");
        store
            .insert(&Quad::new(
                a.clone(),
                rdf::TYPE,
                jd("Agency"),
                oxigraph::model::GraphName::DefaultGraph,
            ))
            .unwrap();
        let report = shapes.validate(&store).unwrap();
        assert!(!report.conforms);
        assert!(
            report
                .results
                .iter()
                .any(|r| r.focus == a.as_str()
                    && r.component.ends_with("MinCountConstraintComponent")),
            "{:?}",
            report.results
        );
    }
}
