#!/usr/bin/env python3
"""Independent check of jindu's ontology, SHACL shapes and stored queries.

Needs: pip install rdflib pyshacl
Run from the repository root:  python3 queries/tests/validate.py [-v]

1. Parses ontology/jindu.ttl and ontology/shapes.ttl with rdflib and checks
   that every jd: class and property has zh and en labels, an en comment and
   (for properties) a domain and a range, and that every jd: term used by the
   shapes, the queries and the sample data is declared in the ontology.
2. Parses the header of every queries/*.rq (title, description, params,
   example) and checks the parameter convention (see queries/README.md).
3. Prepares every query with rdflib.plugins.sparql.prepareQuery, binds the
   parameters with a VALUES clause inserted at the top of the outermost
   WHERE and runs it in rdflib on queries/tests/sample.trig (default graph)
   with the ontology in the named graph <https://w3id.org/jindu/graph/ontology>;
   runs it in Oxigraph (pyoxigraph, if installed) with the parameters bound
   by substitution (what jindu does) and by the same VALUES clause; checks
   that all give the same rows. Runs with the defaults, with the header's
   example, and with every parameter empty.
4. Validates the sample with pyshacl (expects conformance: no result of any
   severity) and a broken copy of it (expects the listed violations).
Exits non-zero on any failure.
"""
import glob
import os
import re
import sys

import rdflib
from rdflib import Dataset, Graph, Literal, Namespace, URIRef
from rdflib.namespace import OWL, RDF, RDFS
from rdflib.plugins.sparql import prepareQuery

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
ONTO = os.path.join(ROOT, "ontology", "jindu.ttl")
SHAPES = os.path.join(ROOT, "ontology", "shapes.ttl")
SAMPLE = os.path.join(ROOT, "queries", "tests", "sample.trig")
JD = Namespace("https://w3id.org/jindu/ontology#")
ONT_GRAPH = URIRef("https://w3id.org/jindu/graph/ontology")
VERBOSE = "-v" in sys.argv

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL:", msg)


# ---------------------------------------------------------------------------
# 1. Ontology and shapes
# ---------------------------------------------------------------------------
onto = Graph().parse(ONTO, format="turtle")
shapes = Graph().parse(SHAPES, format="turtle")
print(f"ontology/jindu.ttl: {len(onto)} triples, parsed")
print(f"ontology/shapes.ttl: {len(shapes)} triples, parsed")

declared = set()
for kind in (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty,
             rdflib.URIRef("http://www.w3.org/2004/02/skos/core#ConceptScheme")):
    for s in onto.subjects(RDF.type, kind):
        if isinstance(s, URIRef) and str(s).startswith(str(JD)):
            declared.add(s)
for s in sorted(declared):
    types = set(onto.objects(s, RDF.type))
    if OWL.AnnotationProperty in types or not (types & {OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty}):
        continue
    langs = {l.language for l in onto.objects(s, RDFS.label)}
    if not {"zh", "en"} <= langs:
        fail(f"{s} lacks a zh or en rdfs:label")
    if not any(c.language == "en" for c in onto.objects(s, RDFS.comment)):
        fail(f"{s} lacks an en rdfs:comment")
    if types & {OWL.ObjectProperty, OWL.DatatypeProperty}:
        if (s, RDFS.domain, None) not in onto or (s, RDFS.range, None) not in onto:
            fail(f"{s} lacks a domain or a range")
required = """Agency Region Campaign Case Drug Article Statistic Source Assertion locatedIn
subOrganizationOf participatesIn handledBy occurredIn underCampaign cooperatesWith involvesDrug
partOf mentionedIn sourceFile fromSource articleIndex charStart charEnd aboutDrugs adminCode level
agencyKind caseCode year metric value approximate unit drug reportedBy periodStart periodEnd
periodText sentence rule fileName contentHash encoding charLength""".split()
for name in required:
    if JD[name] not in declared:
        fail(f"jd:{name} is not declared in the ontology")
print(f"ontology: {len(declared)} jd: terms declared; all {len(required)} required terms present")


def jd_terms(text):
    return set(re.findall(r"\bjd:([A-Za-z][A-Za-z0-9_]*)", text))


def check_declared(where, names):
    for n in sorted(names):
        if JD[n] not in declared:
            fail(f"{where} uses undeclared jd:{n}")


# OWL RL closure of ontology + sample: no node may get two jindu classes.
try:
    import owlrl
    closure = Graph()
    closure.parse(ONTO, format="turtle")
    closure.parse(SAMPLE, format="trig")
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics, axiomatic_triples=False,
                           datatype_axioms=False).expand(closure)
    jd_classes = [JD[c] for c in "Agency Region Campaign Case Drug Article Source Statistic Assertion".split()]
    for node in set(closure.subjects(RDF.type, None)):
        kinds = [c for c in jd_classes if (node, RDF.type, c) in closure]
        if len(kinds) > 1:
            fail(f"OWL RL: {node} has two jindu classes {kinds}")
    ids = "https://w3id.org/jindu/id/region/"
    if (URIRef(ids + "150702"), JD.partOf, URIRef(ids + "150000")) not in closure:
        fail("OWL RL: jd:partOf is not inferred transitively")
    admin = set(closure.subjects(RDF.type, URIRef("http://schema.org/AdministrativeArea")))
    if len(admin) != 5:
        fail(f"OWL RL: expected the 5 coded regions to be schema:AdministrativeArea, got {len(admin)}")
    print(f"OWL RL closure of ontology + sample: {len(closure)} triples, consistent with the disjoint classes")
except ImportError:
    print("owlrl not installed: the OWL RL check is skipped")

check_declared("shapes.ttl", jd_terms(open(SHAPES, encoding="utf-8").read()))
check_declared("sample.trig", jd_terms(open(SAMPLE, encoding="utf-8").read()))

# ---------------------------------------------------------------------------
# 2-3. Queries
# ---------------------------------------------------------------------------
ds = Dataset()
ds.parse(SAMPLE, format="trig")
ds.graph(ONT_GRAPH).parse(ONTO, format="turtle")
print(f"sample.trig: {len(ds.default_graph)} triples in the default graph")

HEADER_PARAM = re.compile(r"^# param: ([A-Za-z][A-Za-z0-9_]*) = ?([^()]*?) *\(([^()]*)\)\s*$")


def parse_header(text, path):
    lines = text.splitlines()
    head = []
    for line in lines:
        if not line.startswith("#"):
            break
        head.append(line)
    info = {"params": []}
    if not head or not head[0].startswith("# title: "):
        fail(f"{path}: first line is not '# title: '")
    for line in head:
        if line.startswith("# title: "):
            info["title"] = line[len("# title: "):].strip()
        elif line.startswith("# description: "):
            info["description"] = line[len("# description: "):].strip()
        elif line.startswith("# param: "):
            m = HEADER_PARAM.match(line)
            if not m:
                fail(f"{path}: malformed param line: {line}")
                continue
            info["params"].append((m.group(1), m.group(2).strip(), m.group(3).strip()))
        elif line.startswith("# example: "):
            info["example"] = line[len("# example: "):].strip()
        elif line.startswith("# requires: "):
            # what jindu checks the store has before it runs the query
            info["requires"] = [r.strip() for r in line[len("# requires: "):].split(",")]
            unknown = set(info["requires"]) - {"summary", "source-counts", "statistics-rollups",
                                               "relation-totals", "agency-counts"}
            if unknown:
                fail(f"{path}: unknown requirement(s) {sorted(unknown)}")
        else:
            fail(f"{path}: unknown header line: {line}")
    for key in ("title", "description", "example"):
        if key not in info:
            fail(f"{path}: header lacks '# {key}:'")
    return info


def body_of(text):
    return "\n".join(l for l in text.splitlines() if not l.startswith("#"))


def sparql_string(value):
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def bind_values(body, values):
    if not values:
        return body
    names = " ".join("?" + n for n in values)
    row = " ".join(sparql_string(v) for v in values.values())
    clause = f"VALUES ({names}) {{ ({row}) }}"
    return re.sub(r"WHERE\s*\{", lambda _m: "WHERE {\n  " + clause, body, count=1)


def rows_of(result):
    out = []
    for row in result:
        out.append(tuple("" if v is None else (v.n3() if not isinstance(v, Literal) else
                                                   f"{v}" + (f"@{v.language}" if v.language else ""))
                         for v in row))
    return out


def outer_select_and_group_by(body):
    """The projection of the outermost SELECT and its GROUP BY (the lines at column 0)."""
    lines = body.splitlines()
    start = next(i for i, l in enumerate(lines) if l.startswith("SELECT"))
    end = next(i for i, l in enumerate(lines) if l.startswith("WHERE"))
    projection = " ".join(lines[start:end + 1])
    group_by = [l for l in lines if l.startswith("GROUP BY")]
    return projection, (group_by[-1] if group_by else None)


def check_convention(path, body, params):
    variables = set(re.findall(r"[?$]([A-Za-z0-9_]+)", body))
    projection, group_by = outer_select_and_group_by(body)
    for name, _, _ in params:
        var = r"\?" + name + r"(?![A-Za-z0-9_])"
        if name not in variables:
            fail(f"{path}: parameter ?{name} is not used in the body")
        for v in variables:
            if v != name and v.startswith(name):
                fail(f"{path}: variable ?{v} starts with the parameter name '{name}'")
        if not re.search(var, projection):
            fail(f"{path}: parameter ?{name} is not projected by the outermost SELECT "
                 "(Oxigraph's substitute_variable needs it there)")
        if re.search(r"AS\s+" + var, body):
            fail(f"{path}: parameter ?{name} is assigned with AS")
        if group_by is not None and not re.search(var, group_by):
            fail(f"{path}: parameter ?{name} is missing from the outermost GROUP BY")
        if re.search(r"VALUES[^{]*" + var, body):
            fail(f"{path}: parameter ?{name} is bound by a VALUES clause")
        for sub in re.finditer(r"\{\s*SELECT\b", body):
            # the text of the sub-select up to its matching brace
            depth, i = 0, sub.start()
            while i < len(body):
                if body[i] == "{":
                    depth += 1
                elif body[i] == "}":
                    depth -= 1
                    if depth == 0:
                        break
                i += 1
            if re.search(var, body[sub.start():i]):
                fail(f"{path}: parameter ?{name} is used inside a sub-query")


def example_params(example):
    out = {}
    for m in re.finditer(r"--param ([A-Za-z0-9_]+)=(\S*)", example or ""):
        out[m.group(1)] = m.group(2)
    return out


try:
    import pyoxigraph as ox
    store = ox.Store()
    store.load(path=SAMPLE, format=ox.RdfFormat.TRIG)
    store.load(path=ONTO, format=ox.RdfFormat.TURTLE, to_graph=ox.NamedNode(str(ONT_GRAPH)))
    for f, fmt in ((ONTO, ox.RdfFormat.TURTLE), (SHAPES, ox.RdfFormat.TURTLE), (SAMPLE, ox.RdfFormat.TRIG)):
        n = sum(1 for _ in ox.parse(path=f, format=fmt))
        print(f"Oxigraph parser: {os.path.relpath(f, ROOT)} {n} triples/quads")
    print(f"pyoxigraph {ox.__version__}: sample and ontology loaded ({len(store)} quads)")
except ImportError:
    ox = None
    print("pyoxigraph not installed: the Oxigraph cross-check is skipped")


def norm_rdflib(rows):
    return sorted(tuple(normv(v) for v in row) for row in rows)


def normv(v):
    """A comparable form of a value printed by rows_of or by pyoxigraph."""
    if v in ("", None):
        return ""
    return str(v)


def ox_rows(q, substitutions=None):
    subs = {ox.Variable(n): ox.Literal(v) for n, v in (substitutions or {}).items()}
    res = store.query(q, substitutions=subs) if subs else store.query(q)
    out = []
    names = [v.value for v in res.variables]
    for sol in res:
        row = []
        for n in names:
            t = sol[n]
            if t is None:
                row.append("")
            elif isinstance(t, ox.Literal):
                row.append(t.value + (f"@{t.language}" if t.language else ""))
            elif isinstance(t, ox.NamedNode):
                row.append(f"<{t.value}>")
            else:
                row.append(str(t))
        out.append(tuple(row))
    return out


def canon_number(x):
    """Numbers compared by value; GROUP_CONCAT lists compared as sets (their order is unspecified)."""
    for sep in ("、", "; ", " | "):
        if sep in x:
            return sep.join(sorted(x.split(sep)))
    try:
        f = float(x)
        return repr(round(f, 9))
    except ValueError:
        return x


query_files = sorted(glob.glob(os.path.join(ROOT, "queries", "*.rq")))
print(f"\n{len(query_files)} stored queries")
summary = []
for path in query_files:
    name = os.path.basename(path)[:-3]
    text = open(path, encoding="utf-8").read()
    info = parse_header(text, name)
    body = body_of(text)
    check_declared(name, jd_terms(body))
    check_convention(name, body, info["params"])
    if not info.get("example", "").startswith(f"jindu query {name}"):
        fail(f"{name}: example does not start with 'jindu query {name}'")
    defaults = {n: d for n, d, _ in info["params"]}
    runs = [("defaults", defaults)]
    ex = dict(defaults)
    ex.update(example_params(info.get("example")))
    unknown = set(example_params(info.get("example"))) - set(defaults)
    if unknown:
        fail(f"{name}: example sets unknown parameters {unknown}")
    if ex != defaults:
        runs.append(("example", ex))
    if defaults and any(defaults.values()):
        runs.append(("all empty", {n: "" for n in defaults}))
    counts = []
    try:
        prepareQuery(body)  # the stored text itself, parameters unbound
    except Exception as e:  # noqa: BLE001
        fail(f"{name}: does not parse: {e}")
        continue
    for label, values in runs:
        qv = bind_values(body, values)
        try:
            pq = prepareQuery(qv)
            r1 = rows_of(ds.query(pq))
        except Exception as e:  # noqa: BLE001
            fail(f"{name} ({label}): fails in rdflib: {e}")
            continue
        if ox is not None:
            try:
                o_sub = ox_rows(body, values)   # jindu's way: Oxigraph substitute_variable
                o_val = ox_rows(qv)             # VALUES clause inserted, on Oxigraph
            except Exception as e:  # noqa: BLE001
                fail(f"{name} ({label}): Oxigraph fails: {e}")
            else:
                a_ = sorted(tuple(canon_number(x) for x in r) for r in r1)
                b_ = sorted(tuple(canon_number(x) for x in r) for r in o_sub)
                c_ = sorted(tuple(canon_number(x) for x in r) for r in o_val)
                if a_ != b_:
                    fail(f"{name} ({label}): Oxigraph (substitution) and rdflib (VALUES) differ:\n"
                         f"  rdflib: {a_}\n  oxigraph: {b_}")
                if b_ != c_:
                    fail(f"{name} ({label}): Oxigraph: substitution and VALUES binding differ")
        counts.append(f"{label}: {len(r1)} rows")
        if VERBOSE:
            print(f"\n== {name} [{label}] {values}")
            res = ds.query(pq)
            print("   " + " | ".join(str(v) for v in res.vars))
            for row in r1:
                print("   " + " | ".join(row))
    params = ", ".join(f"{n}={d!r}" for n, d, _ in info["params"]) or "-"
    summary.append((name, params, "; ".join(counts)))
    print(f"  {name:38s} params: {params:60s} {'; '.join(counts)}")

# Expected row counts on the sample, as a regression check:
# (defaults, example, all parameters empty); None where that run does not exist.
EXPECTED = {
    "agencies-by-region": (6, 4, 8),      # 内蒙古自治区: all but the two in 蒙古国; 呼伦贝尔市: 4
    "agencies-by-campaign": (3, 1, 4),
    "campaigns-and-editions": (3, 2, None),
    "named-cases": (1, 1, None),
    "statistics-by-region-metric": (5, 2, None),  # the unattributed figure only when no region is asked
    "cooperation-network": (2, 1, None),
    "region-hierarchy": (3, 3, 12),
    "fact-sentence": (1, 1, 23),
    "seizures-by-drug-region-time": (3, 1, None),  # the figure without drug/reporter never joins 海洛因
    "campaign-participation-by-province": (2, 1, None),
    "busiest-agencies": (8, 6, None),
    "case-handling-chain": (3, 3, None),
    "agency-figures": (3, 2, None),
    "articles-mentioning-two": (2, 1, 0),
    "facts-from-file": (8, 0, 23),
    "entity-counts": (9, None, None),
    "entity-lookup": (1, 1, 0),
    "relation-counts": (9, None, None),
    "provenance-check": (0, None, None),
    "sources": (0, 0, None),                 # the sample has no per-file graphs; tests/queries.rs checks real builds
}
for name, _, counts in summary:
    got = dict(re.findall(r"(defaults|example|all empty): (\d+) rows", counts))
    want = EXPECTED.get(name)
    if want is None:
        fail(f"{name}: no expected row counts in validate.py")
        continue
    for label, n in zip(("defaults", "example", "all empty"), want):
        if n is not None and int(got.get(label, -1)) != n:
            fail(f"{name}: expected {n} rows ({label}), got {got.get(label)}")

# ---------------------------------------------------------------------------
# 4. SHACL
# ---------------------------------------------------------------------------
import pyshacl  # noqa: E402

data = Graph()
for t in ds.triples((None, None, None, rdflib.term.URIRef("urn:x-rdflib:default"))):
    data.add(t)
if len(data) == 0:
    data = Graph().parse(SAMPLE, format="trig")
conforms, report_graph, report_text = pyshacl.validate(
    data, shacl_graph=shapes, inference="none", advanced=False, abort_on_first=False)
n_results = len(list(report_graph.subjects(RDF.type, URIRef("http://www.w3.org/ns/shacl#ValidationResult"))))
print(f"\npyshacl on sample.trig ({len(data)} triples): conforms={conforms}, results={n_results}")
if not conforms:
    print(report_text)
    fail("the sample does not conform to the shapes")

# A broken copy: each edit below must be caught.
BROKEN = """
PREFIX jd: <https://w3id.org/jindu/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
<https://w3id.org/jindu/id/region/150700> jd:adminCode "15070" .
<https://w3id.org/jindu/id/agency/海拉尔区人民检察院> jd:locatedIn <https://w3id.org/jindu/id/campaign/清源断流> .
<https://w3id.org/jindu/id/drug/冰毒> rdfs:label "甲基苯丙胺"@zh .
<https://w3id.org/jindu/id/drug/大麻> a jd:Drug ; rdfs:label "大麻"@zh .
<https://w3id.org/jindu/id/statistic/x-1-9> a jd:Statistic ; jd:metric "arrests" ; jd:value 5 .
<https://w3id.org/jindu/id/case/x> a jd:Case , jd:Agency ; rdfs:label "x案"@zh ;
    jd:mentionedIn <https://w3id.org/jindu/id/article/332abca30a3bb096-1> .
<https://w3id.org/jindu/id/assertion/bad> a rdf:Statement , jd:Assertion ;
    rdf:subject <https://w3id.org/jindu/id/drug/海洛因> ; rdf:predicate jd:handledBy ;
    rdf:object <https://w3id.org/jindu/id/region/150000> .
"""
broken = Graph()
for t in data:
    broken.add(t)
broken.parse(data=BROKEN, format="turtle")
conforms_b, report_b, _ = pyshacl.validate(broken, shacl_graph=shapes, inference="none")
SH = Namespace("http://www.w3.org/ns/shacl#")
found = set()
for r in report_b.subjects(RDF.type, SH.ValidationResult):
    focus = report_b.value(r, SH.focusNode)
    path = report_b.value(r, SH.resultPath)
    found.add((str(focus).rsplit("/", 1)[-1], str(path).rsplit("#", 1)[-1] if path else ""))
expect = [("150700", "adminCode"), ("海拉尔区人民检察院", "locatedIn"), ("冰毒", "label"),
          ("大麻", ""), ("x-1-9", "metric"), ("x-1-9", "value"), ("x-1-9", "mentionedIn"),
          ("x", ""), ("bad", "wasDerivedFrom"), ("bad", "")]
missing = [e for e in expect if e not in found]
print(f"pyshacl on a broken copy: conforms={conforms_b}, {len(found)} distinct (focus, path) results; "
      f"expected ones caught: {len(expect) - len(missing)}/{len(expect)}")
if VERBOSE:
    for f in sorted(found):
        print("   ", f)
if conforms_b or missing:
    fail(f"broken data not caught as expected: missing {missing}")

print("\n" + ("ALL CHECKS PASSED" if not failures else f"{len(failures)} FAILURE(S)"))
sys.exit(1 if failures else 0)
