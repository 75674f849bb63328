//! End-to-end tests of `jindu graph` and `jindu export`: run the binary on
//! a store built from the seed pages and check paths, analytics, filters,
//! write-back and every export format.

use std::path::{Path, PathBuf};

use std::sync::OnceLock;

mod common;
use common::{jindu, seeds_dir, stderr, stdout};

/// A store built from the seeds into `dir`, with the summary graph the
/// graph commands read (a fresh build fills it; `--summary` is accepted).
fn build_store(dir: &Path) -> PathBuf {
    let store = dir.join("store");
    let out = jindu(&[
        "build",
        seeds_dir().to_str().unwrap(),
        "--store",
        store.to_str().unwrap(),
        "--summary",
    ]);
    assert!(out.status.success(), "build failed: {}", stderr(&out));
    store
}

#[test]
fn without_a_summary_the_exports_are_the_same_read_the_slow_way() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain");
    let out = jindu(&[
        "build",
        seeds_dir().to_str().unwrap(),
        "--store",
        plain.to_str().unwrap(),
        "--no-summary",
    ]);
    assert!(out.status.success(), "build failed: {}", stderr(&out));
    for format in ["graphml", "viewer-json", "neo4j"] {
        let export = |store: &str, name: &str| -> (Vec<u8>, String) {
            let target = dir.path().join(format!("{name}.{format}"));
            let out = jindu(&[
                "export",
                "--format",
                format,
                "--store",
                store,
                "-o",
                target.to_str().unwrap(),
            ]);
            assert!(out.status.success(), "{}", stderr(&out));
            let bytes = if target.is_dir() {
                let mut files: Vec<_> = std::fs::read_dir(&target)
                    .unwrap()
                    .map(|e| e.unwrap().path())
                    .collect();
                files.sort();
                files
                    .iter()
                    .flat_map(|f| std::fs::read(f).unwrap())
                    .collect()
            } else {
                std::fs::read(&target).unwrap()
            };
            (bytes, stderr(&out))
        };
        let (with_summary, quiet) = export(seed_store(), "summary");
        let (without, note) = export(plain.to_str().unwrap(), "plain");
        assert!(!quiet.contains("no summary graph"), "{quiet}");
        assert!(note.contains("no summary graph"), "{format}: {note}");
        assert!(with_summary == without, "{format}: the exports differ");
    }
}

/// One store built from the seeds, shared by the tests that only read it.
fn seed_store() -> &'static str {
    static STORE: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, path) = STORE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let store = build_store(dir.path());
        (dir, store)
    });
    path.to_str().unwrap()
}

/// Runs `jindu ARGS --store <seed store>` and returns stdout, failing on error.
fn run_ok(args: &[&str]) -> String {
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--store", seed_store()]);
    let out = jindu(&all);
    assert!(
        out.status.success(),
        "jindu {args:?} failed: {}",
        stderr(&out)
    );
    stdout(&out)
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

#[test]
fn path_between_an_agency_and_its_campaign_shows_the_sentences() {
    let text = run_ok(&["graph", "path", "开鲁县公安局", "清源断流"]);
    assert!(text.contains("开鲁县公安局 → 清源断流: 2 steps"), "{text}");
    assert!(text.contains("—participatesIn→ 清源断流—2023"), "{text}");
    assert!(text.contains("—partOf→ 清源断流"), "{text}");
    // The sentence behind the first link, with its file.
    assert!(text.contains("坚持把“清源断流—2023”专项行动"), "{text}");
    assert!(text.contains("001_d0cbc93060d4aa0e.txt"), "{text}");

    let value = json(&run_ok(&[
        "graph",
        "path",
        "开鲁县公安局",
        "清源断流",
        "--json",
    ]));
    assert_eq!(value["length"], 2);
    assert_eq!(value["edges"][0]["property"], "participatesIn");
    assert!(
        value["edges"][0]["evidence"][0]["sentence"]
            .as_str()
            .unwrap()
            .contains("开鲁县公安局")
    );
}

#[test]
fn unknown_and_ambiguous_names_list_candidates() {
    let out = jindu(&["graph", "path", "公安", "清源断流", "--store", seed_store()]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("similar names") && err.contains("公安部 (Agency)"),
        "{err}"
    );
    let out = jindu(&[
        "graph",
        "neighbours",
        "不存在的机关",
        "--store",
        seed_store(),
    ]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("no entity named 不存在的机关"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn centrality_json_parses_and_ranks() {
    let value = json(&run_ok(&["graph", "centrality", "--json", "--limit", "0"]));
    let entities = value["entities"].as_array().unwrap();
    assert_eq!(entities.len() as u64, value["nodes"].as_u64().unwrap());
    assert_eq!(value["betweenness"], "exact");
    let ranks: Vec<f64> = entities
        .iter()
        .map(|e| e["pagerank"].as_f64().unwrap())
        .collect();
    assert!(ranks.windows(2).all(|w| w[0] >= w[1]), "sorted by PageRank");
    let total: f64 = ranks.iter().sum();
    assert!((total - 1.0).abs() < 1e-6, "PageRank sums to {total}");
    assert!(entities.iter().any(|e| e["label"] == "开鲁县公安局"));

    let by_degree = json(&run_ok(&[
        "graph",
        "centrality",
        "--json",
        "--sort",
        "degree",
        "--class",
        "Agency",
        "--limit",
        "0",
    ]));
    let entities = by_degree["entities"].as_array().unwrap();
    assert!(entities.iter().all(|e| e["class"] == "Agency"));
    let degrees: Vec<u64> = entities
        .iter()
        .map(|e| e["degree"].as_u64().unwrap())
        .collect();
    assert!(degrees.windows(2).all(|w| w[0] >= w[1]), "{degrees:?}");
}

#[test]
fn stats_components_communities_and_neighbours() {
    let stats = json(&run_ok(&["graph", "stats", "--json"]));
    let nodes = stats["nodes"].as_u64().unwrap();
    assert!(nodes > 100, "{stats}");
    assert!(stats["modularity"].as_f64().unwrap() > 0.5, "{stats}");
    let text = run_ok(&["graph", "communities"]);
    assert!(text.contains("modularity"), "{text}");
    let components = json(&run_ok(&["graph", "components", "--json", "--limit", "0"]));
    let sizes: u64 = components["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["size"].as_u64().unwrap())
        .sum();
    assert_eq!(sizes, nodes);

    let around = json(&run_ok(&[
        "graph",
        "neighbours",
        "开鲁县公安局",
        "--hops",
        "2",
        "--json",
    ]));
    let labels: Vec<&str> = around["entities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["label"].as_str().unwrap())
        .collect();
    // One hop: its region and campaign edition; two hops: the campaign.
    for want in ["开鲁县", "清源断流—2023", "清源断流", "通辽市"] {
        assert!(labels.contains(&want), "{want} missing from {labels:?}");
    }
}

#[test]
fn filters_narrow_the_graph() {
    let all = json(&run_ok(&["graph", "stats", "--json"]));
    let region = json(&run_ok(&[
        "graph",
        "stats",
        "--json",
        "--region",
        "内蒙古自治区",
    ]));
    assert!(region["nodes"].as_u64() < all["nodes"].as_u64());
    assert!(region["classes"]["Agency"].as_u64().unwrap() > 0);
    let agencies = json(&run_ok(&["graph", "stats", "--json", "--class", "Agency"]));
    assert_eq!(agencies["nodes"], agencies["classes"]["Agency"]);
    let located = json(&run_ok(&[
        "graph",
        "stats",
        "--json",
        "--relation",
        "locatedIn",
    ]));
    assert_eq!(located["edges"], located["relations"]["locatedIn"]);
    let campaign = json(&run_ok(&[
        "graph",
        "stats",
        "--json",
        "--campaign",
        "清源断流",
        "--drop-isolated",
    ]));
    assert!(campaign["nodes"].as_u64().unwrap() >= 3, "{campaign}");
    let drugs = json(&run_ok(&["graph", "stats", "--json", "--drug-articles"]));
    assert!(drugs["edges"].as_u64() < all["edges"].as_u64());
    assert!(drugs["relations"]["partOf"].as_u64() < all["relations"]["partOf"].as_u64());
    let out = jindu(&[
        "graph",
        "stats",
        "--class",
        "Person",
        "--store",
        seed_store(),
    ]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("Agency, Region"), "{}", stderr(&out));
}

#[test]
fn every_export_is_deterministic_and_names_the_seed_entities() {
    let dir = tempfile::tempdir().unwrap();
    for format in [
        "graphml",
        "gexf",
        "dot",
        "cytoscape",
        "node-link",
        "viewer-json",
        "html",
    ] {
        let mut texts = Vec::new();
        for run in 0..2 {
            let path = dir.path().join(format!("{format}.{run}"));
            run_ok(&["export", "--format", format, "-o", path.to_str().unwrap()]);
            texts.push(std::fs::read(&path).unwrap());
        }
        assert_eq!(texts[0], texts[1], "{format} differs between runs");
        let text = String::from_utf8(texts.remove(0)).unwrap();
        for label in ["开鲁县公安局", "清源断流", "内蒙古自治区"] {
            assert!(text.contains(label), "{format} lacks {label}");
        }
        assert!(
            text.contains("https://w3id.org/jindu/id/agency/开鲁县公安局"),
            "{format}"
        );
    }
    let mut folders = Vec::new();
    for run in 0..2 {
        let path = dir.path().join(format!("neo4j.{run}"));
        run_ok(&["export", "--format", "neo4j", "-o", path.to_str().unwrap()]);
        folders.push(path);
    }
    for file in ["nodes.csv", "relationships.csv", "import.sh"] {
        let a = std::fs::read(folders[0].join(file)).unwrap();
        assert_eq!(a, std::fs::read(folders[1].join(file)).unwrap(), "{file}");
    }
    let nodes = std::fs::read_to_string(folders[0].join("nodes.csv")).unwrap();
    assert!(nodes.starts_with("id:ID,:LABEL,label,"), "{nodes}");
    assert!(nodes.contains("\"Entity;Agency\",\"开鲁县公安局\""));

    // The viewer JSON follows the fixed schema's main keys.
    let viewer = json(&run_ok(&["export", "--format", "viewer-json"]));
    assert_eq!(viewer["classes"]["Agency"]["color"], "#1f77b4");
    let node = viewer["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["label"] == "开鲁县公安局")
        .unwrap();
    let regions: Vec<&str> = node["regions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    assert!(
        regions.contains(&"开鲁县") && regions.contains(&"内蒙古自治区"),
        "{regions:?}"
    );
    let edge = &viewer["edges"][0];
    for key in ["id", "source", "target", "property", "support", "evidence"] {
        assert!(!edge[key].is_null(), "edge lacks {key}");
    }
}

#[test]
fn empty_filtered_export_is_valid_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.gexf");
    let out = jindu(&[
        "export",
        "--format",
        "gexf",
        "--store",
        seed_store(),
        "--min-support",
        "1000",
        "--drop-isolated",
        "-o",
        path.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("empty graph"), "{}", stderr(&out));
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.contains("<nodes/>") || text.contains("<nodes></nodes>") || text.contains("<nodes>")
    );
    assert!(text.trim_end().ends_with("</gexf>"));
    let out = jindu(&["export", "--format", "neo4j", "--store", seed_store()]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("give a folder with -o"));
}

#[test]
fn write_back_stores_scores_in_the_analytics_graph() {
    let dir = tempfile::tempdir().unwrap();
    let store = build_store(dir.path());
    let store = store.to_str().unwrap();
    for _ in 0..2 {
        let out = jindu(&["graph", "centrality", "--write-back", "--store", store]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let query = dir.path().join("pagerank.rq");
    std::fs::write(
        &query,
        "PREFIX jd: <https://w3id.org/jindu/ontology#>\n\
         PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n\
         SELECT ?label ?pr WHERE { GRAPH <https://w3id.org/jindu/graph/analytics> { ?e jd:pageRank ?pr } ?e rdfs:label ?label } ORDER BY DESC(?pr) LIMIT 1\n",
    )
    .unwrap();
    let out = jindu(&[
        "query",
        query.to_str().unwrap(),
        "--store",
        store,
        "--format",
        "json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let value = json(&stdout(&out));
    assert_eq!(value["results"]["bindings"].as_array().unwrap().len(), 1);
    // Written twice, stored once: six scores per entity.
    let count = dir.path().join("count.rq");
    std::fs::write(
        &count,
        "SELECT (COUNT(*) AS ?n) WHERE { GRAPH <https://w3id.org/jindu/graph/analytics> { ?s ?p ?o } }\n",
    )
    .unwrap();
    let out = jindu(&[
        "query",
        count.to_str().unwrap(),
        "--store",
        store,
        "--format",
        "csv",
    ]);
    let n: u64 = stdout(&out).lines().nth(1).unwrap().trim().parse().unwrap();
    let stats = json(&stdout(&jindu(&[
        "graph", "stats", "--json", "--store", store,
    ])));
    assert_eq!(n, 6 * stats["nodes"].as_u64().unwrap());
    // The analytics graph does not leak into the graph that is read back.
    let fresh = json(&run_ok(&["graph", "stats", "--json"]));
    assert_eq!(stats, fresh);
    let out = jindu(&[
        "graph",
        "centrality",
        "--write-back",
        "--class",
        "Agency",
        "--store",
        store,
    ]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("drop the filters"));
}
