//! Every stored query, run by the binary on real builds, must return rows
//! naming specific entities: the seed pages, and the invented gold-extra
//! pages for what the seeds do not hold (the seeds report no case with a
//! handling agency). A new query without an entry here fails
//! `every_stored_query_is_tested`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use std::sync::OnceLock;

mod common;
use common::jindu;

/// Runs the binary and asserts that it succeeded, showing its stderr if not.
fn jindu_ok(args: &[&str]) -> std::process::Output {
    let out = jindu(args);
    assert!(
        out.status.success(),
        "jindu {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Corpus {
    Seeds,
    GoldExtra,
}

fn store(corpus: Corpus) -> &'static Path {
    static SEEDS: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    static EXTRA: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (cell, folder) = match corpus {
        Corpus::Seeds => (&SEEDS, "seeds"),
        Corpus::GoldExtra => (&EXTRA, "tests/gold-extra"),
    };
    let (_, path) = cell.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("store");
        let input = Path::new(env!("CARGO_MANIFEST_DIR")).join(folder);
        jindu_ok(&[
            "build",
            input.to_str().unwrap(),
            "--store",
            store.to_str().unwrap(),
        ]);
        (dir, store)
    });
    path
}

/// Runs a stored query and returns its rows as variable → value (IRIs and
/// literals as their plain value).
fn rows(corpus: Corpus, name: &str, params: &[&str]) -> Vec<BTreeMap<String, String>> {
    query_rows(store(corpus), name, params)
}

/// Runs a query (a stored one's name or a file) on `store` and returns its
/// rows as variable → value.
fn query_rows(store: &Path, name: &str, params: &[&str]) -> Vec<BTreeMap<String, String>> {
    let store = store.to_str().unwrap().to_string();
    let mut args = vec!["query", name, "--store", &store, "--format", "json"];
    for p in params {
        args.push("--param");
        args.push(p);
    }
    let out = jindu(&args);
    assert!(
        out.status.success(),
        "query {name} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("SPARQL JSON");
    json["results"]["bindings"]
        .as_array()
        .expect("bindings")
        .iter()
        .map(|b| {
            b.as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v["value"].as_str().unwrap_or("").to_string()))
                .collect()
        })
        .collect()
}

/// One stored query's expectations: rows that must be there (every
/// column=value of a row in the same result row) and rows that must not.
struct Expect {
    query: &'static str,
    corpus: Corpus,
    params: &'static [&'static str],
    present: &'static [&'static [(&'static str, &'static str)]],
    absent: &'static [&'static [(&'static str, &'static str)]],
}

const EXPECTATIONS: &[Expect] = &[
    Expect {
        query: "agencies-by-campaign",
        corpus: Corpus::Seeds,
        params: &["campaign=清源断流"],
        present: &[
            &[
                ("agencyLabel", "开鲁县公安局"),
                ("editionLabel", "清源断流—2023"),
            ],
            &[
                ("agencyLabel", "兰州市公安机关"),
                ("editionLabel", "清源断流"),
            ],
            &[("agencyLabel", "广西壮族自治区出入境边防检查总站")],
        ],
        absent: &[&[("editionLabel", "平安关爱")]],
    },
    Expect {
        query: "agencies-by-region",
        corpus: Corpus::Seeds,
        params: &["region=呼伦贝尔市"],
        present: &[
            &[
                ("agencyLabel", "呼伦贝尔市公安局海拉尔分局禁毒大队"),
                ("seatLabel", "海拉尔区"),
                ("seatCode", "150702"),
            ],
            &[
                ("agencyLabel", "海拉尔区人民检察院"),
                ("agencyKind", "procuratorate"),
            ],
        ],
        absent: &[&[("agencyLabel", "开鲁县公安局")]],
    },
    Expect {
        query: "agency-figures",
        corpus: Corpus::Seeds,
        params: &["agency=公安部"],
        present: &[&[
            ("measure", "drugsSeized"),
            ("value", "5670"),
            ("drugLabel", "海洛因"),
            ("sourceFile", "003_691a8e3c31940359.txt"),
        ]],
        absent: &[&[("reporterLabel", "开鲁县公安局")]],
    },
    Expect {
        query: "articles-mentioning-two",
        corpus: Corpus::Seeds,
        params: &["first=呼伦贝尔市公安局", "second=海拉尔区人民检察院"],
        present: &[&[
            ("sourceFile", "000_c263f51713171ff9.txt"),
            ("articleIndex", "7"),
            ("date", "2025-06-24"),
        ]],
        absent: &[&[("sourceFile", "003_691a8e3c31940359.txt")]],
    },
    Expect {
        query: "busiest-agencies",
        corpus: Corpus::Seeds,
        params: &["region=呼伦贝尔市"],
        present: &[
            &[
                ("agencyLabel", "呼伦贝尔市公安局海拉尔分局禁毒大队"),
                ("partners", "1"),
            ],
            &[("agencyLabel", "海拉尔区人民检察院")],
        ],
        absent: &[&[("agencyLabel", "兰州市公安机关")]],
    },
    Expect {
        query: "campaign-participation-by-province",
        corpus: Corpus::Seeds,
        params: &["campaign=清源断流"],
        present: &[
            &[("provinceLabel", "内蒙古自治区"), ("agencies", "2")],
            &[
                ("provinceLabel", "甘肃省"),
                ("agencyNames", "兰州市公安机关"),
            ],
            &[
                ("provinceLabel", "广西壮族自治区"),
                ("provinceCode", "450000"),
            ],
        ],
        absent: &[&[("provinceLabel", "西藏自治区")]],
    },
    Expect {
        query: "campaigns-and-editions",
        corpus: Corpus::Seeds,
        params: &["campaign=清源断流"],
        present: &[&[
            ("nodeLabel", "清源断流—2023"),
            ("parentLabel", "清源断流"),
            ("year", "2023"),
        ]],
        absent: &[&[("rootLabel", "平安关爱")]],
    },
    Expect {
        query: "case-handling-chain",
        corpus: Corpus::GoldExtra,
        params: &["case=3·15特大贩卖毒品案"],
        present: &[
            &[
                ("unitLabel", "德宏傣族景颇族自治州公安局禁毒支队"),
                ("depth", "1"),
                ("bodyLabel", "德宏傣族景颇族自治州公安局"),
                ("provinceLabel", "云南省"),
            ],
            &[("unitLabel", "瑞丽市公安局"), ("placeCode", "533102")],
        ],
        absent: &[&[("crimeLabel", "2023-117专案")]],
    },
    Expect {
        query: "cooperation-network",
        corpus: Corpus::Seeds,
        params: &["agency=开鲁县公安局"],
        present: &[&[
            ("aLabel", "开鲁县公安局"),
            ("bLabel", "开鲁县市场监督管理局"),
            ("supportingArticles", "1"),
            (
                "exampleSentence",
                "同时,该局联合药监局、市场监督管理局等部门对县域内化工企业易制毒化学品使用、储存场所及日常管理工作进行详细检查,要求企业相关负责人严格加强易制毒化学品在使用、存储、运输等环节的管理,防止其流入非法渠道。",
            ),
        ]],
        absent: &[&[("aLabel", "内蒙古自治区公安机关")]],
    },
    Expect {
        query: "entity-counts",
        corpus: Corpus::Seeds,
        params: &[],
        present: &[
            &[("labelEn", "Case"), ("count", "4")],
            &[("labelEn", "Agency"), ("labelZh", "机关")],
        ],
        absent: &[],
    },
    Expect {
        query: "entity-lookup",
        corpus: Corpus::Seeds,
        params: &["name=凭祥"],
        present: &[&[
            ("canonical", "凭祥市"),
            ("code", "451481"),
            ("kind", "Region"),
        ]],
        absent: &[],
    },
    Expect {
        query: "fact-sentence",
        corpus: Corpus::GoldExtra,
        params: &[
            "subject=3·15特大贩卖毒品案",
            "property=handledBy",
            "object=瑞丽市公安局",
        ],
        present: &[&[("propName", "handledBy"), ("asserted", "true")]],
        absent: &[&[("oLabel", "重庆市公安局")]],
    },
    Expect {
        query: "facts-from-file",
        corpus: Corpus::Seeds,
        params: &["file=001_d0cbc93060d4aa0e.txt"],
        present: &[&[
            ("sLabel", "开鲁县公安局"),
            ("propName", "participatesIn"),
            ("oLabel", "清源断流—2023"),
        ]],
        absent: &[&[("srcName", "000_c263f51713171ff9.txt")]],
    },
    Expect {
        query: "named-cases",
        corpus: Corpus::GoldExtra,
        params: &["drug=海洛因"],
        present: &[&[
            ("caseLabel", "3·15特大贩卖毒品案"),
            ("caseCode", "3·15"),
            ("underCampaigns", "清源断流—2024"),
        ]],
        absent: &[&[("caseLabel", "2023-117专案")]],
    },
    Expect {
        query: "provenance-check",
        corpus: Corpus::Seeds,
        params: &[],
        present: &[],
        // Every asserted relation has a provenance record and back.
        absent: &[&[]],
    },
    Expect {
        query: "region-hierarchy",
        corpus: Corpus::Seeds,
        params: &["region=150702"],
        present: &[
            &[
                ("ancestorLabel", "呼伦贝尔市"),
                ("distance", "1"),
                ("level", "prefecture"),
            ],
            &[
                ("ancestorLabel", "内蒙古自治区"),
                ("distance", "2"),
                ("code", "150000"),
            ],
        ],
        absent: &[&[("ancestorLabel", "通辽市")]],
    },
    Expect {
        query: "relation-counts",
        corpus: Corpus::GoldExtra,
        params: &[],
        present: &[&[("labelZh", "承办机关")]],
        absent: &[],
    },
    Expect {
        query: "seizures-by-drug-region-time",
        corpus: Corpus::GoldExtra,
        params: &["drug=冰毒"],
        present: &[
            &[
                ("placeLabel", "怀化市"),
                ("kilograms", "2.6"),
                ("periodStart", "2023-01-01"),
            ],
            &[("placeLabel", "七星关区"), ("periodText", "2024年")],
        ],
        absent: &[&[("substanceLabel", "海洛因")]],
    },
    Expect {
        query: "sources",
        corpus: Corpus::Seeds,
        params: &["file=002_75639294e1420c5a.txt"],
        present: &[&[
            ("name", "002_75639294e1420c5a.txt"),
            ("encoding", "UTF-8"),
            ("readAt", "2026-01-01T00:00:00Z"),
        ]],
        absent: &[&[("name", "000_c263f51713171ff9.txt")]],
    },
    Expect {
        query: "statistics-by-region-metric",
        corpus: Corpus::Seeds,
        params: &["region=内蒙古自治区", "metric=casesSolved"],
        present: &[&[
            ("placeLabel", "内蒙古自治区"),
            ("placeCode", "150000"),
            ("measure", "casesSolved"),
        ]],
        absent: &[&[("measure", "drugsSeized")]],
    },
];

fn matches(row: &BTreeMap<String, String>, want: &[(&str, &str)]) -> bool {
    want.iter()
        .all(|(k, v)| row.get(*k).is_some_and(|have| have == v))
}

#[test]
fn stored_queries_return_the_expected_rows() {
    let mut failures = Vec::new();
    for e in EXPECTATIONS {
        let got = rows(e.corpus, e.query, e.params);
        for want in e.present {
            if !got.iter().any(|r| matches(r, want)) {
                failures.push(format!(
                    "{} {:?}: no row with {want:?}; got {got:?}",
                    e.query, e.params
                ));
            }
        }
        for unwanted in e.absent {
            if let Some(r) = got.iter().find(|r| matches(r, unwanted)) {
                failures.push(format!("{} {:?}: unexpected row {r:?}", e.query, e.params));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_stored_query_is_tested() {
    let out = jindu(&["query", "--list"]);
    assert!(out.status.success());
    let listed: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.starts_with(' ') && !l.is_empty())
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect();
    assert!(listed.len() >= 12, "{listed:?}");
    for name in &listed {
        assert!(
            EXPECTATIONS.iter().any(|e| e.query == name),
            "stored query {name} has no expected rows in tests/queries.rs"
        );
    }
}

#[test]
fn a_query_over_its_timeout_is_stopped_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    // Four-way cross product of every triple: far longer than 0.3 s.
    let slow = dir.path().join("slow.rq");
    std::fs::write(
        &slow,
        "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }",
    )
    .unwrap();
    let store = store(Corpus::Seeds).to_str().unwrap().to_string();
    let started = std::time::Instant::now();
    let out = jindu(&[
        "query",
        slow.to_str().unwrap(),
        "--store",
        &store,
        "--timeout",
        "0.3",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("ran longer than the timeout"), "{err}");
    assert!(started.elapsed().as_secs() < 30, "{:?}", started.elapsed());
}

/// Counts every node the way `entity-counts` did before it read the totals
/// the build keeps: the reference the kept totals must equal.
const COUNTED_OVER_THE_NODES: &str = r#"PREFIX jd: <https://w3id.org/jindu/ontology#>
SELECT ?class (COUNT(?x) AS ?count) (COUNT(?m) AS ?mentioned)
WHERE {
  VALUES ?class { jd:Agency jd:Region jd:Campaign jd:Case jd:Drug
                  jd:Article jd:Statistic jd:Source jd:Assertion }
  OPTIONAL {
    ?x a ?class .
    OPTIONAL { SELECT DISTINCT ?x (?x AS ?m) WHERE { ?x jd:mentionedIn ?anyArticle } }
  }
}
GROUP BY ?class"#;

/// Each source's articles, statistics and records, counted over the nodes.
const COUNTED_PER_SOURCE: &str = r#"PREFIX jd: <https://w3id.org/jindu/ontology#>
PREFIX prov: <http://www.w3.org/ns/prov#>
SELECT ?source (COUNT(DISTINCT ?article) AS ?articles) (COUNT(DISTINCT ?stat) AS ?statistics)
       (COUNT(DISTINCT ?record) AS ?facts)
WHERE {
  ?source a jd:Source .
  OPTIONAL {
    ?article jd:fromSource ?source .
    { ?stat a jd:Statistic ; jd:mentionedIn ?article } UNION { ?record prov:wasDerivedFrom ?article }
    UNION { BIND(1 AS ?none) }
  }
}
GROUP BY ?source"#;

/// Per relation property, its records, their articles and the asserted
/// facts that have one, counted over every record.
const COUNTED_PER_PROPERTY: &str = r#"PREFIX jd: <https://w3id.org/jindu/ontology#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX prov: <http://www.w3.org/ns/prov#>
SELECT ?property (COUNT(DISTINCT ?st) AS ?records) (COUNT(DISTINCT ?article) AS ?articles)
       (COUNT(DISTINCT ?fact) AS ?withProvenance)
WHERE {
  ?st a jd:Assertion ; rdf:predicate ?property ; rdf:subject ?s ; rdf:object ?o ;
      prov:wasDerivedFrom ?article .
  OPTIONAL { ?s ?property ?o . BIND(CONCAT(STR(?s), " ", STR(?o)) AS ?fact) }
}
GROUP BY ?property"#;

/// The totals written with the sources' records and kept in the summary,
/// which `entity-counts`, `sources`, `relation-counts` and
/// `busiest-agencies` read, are the counts over the nodes themselves, on
/// both corpora.
#[test]
fn the_totals_the_queries_read_equal_the_counts_over_the_nodes() {
    let dir = tempfile::tempdir().unwrap();
    // Runs a reference query given as text (written to a file of `dir`).
    let reference = |corpus: Corpus, name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        rows(corpus, path.to_str().unwrap(), &[])
    };
    for corpus in [Corpus::Seeds, Corpus::GoldExtra] {
        let counted = reference(corpus, "counted.rq", COUNTED_OVER_THE_NODES);
        let kept = rows(corpus, "entity-counts", &[]);
        assert_eq!(kept.len(), 9, "{kept:?}");
        for row in &kept {
            let want = counted
                .iter()
                .find(|r| r["class"] == row["class"])
                .unwrap_or_else(|| panic!("{corpus:?}: no count for {row:?}"));
            assert_eq!(
                (&row["count"], &row["mentioned"]),
                (&want["count"], &want["mentioned"]),
                "{corpus:?}: {row:?} against {want:?}"
            );
        }
        assert!(
            kept.iter()
                .any(|r| r["count"] != "0" && r["labelEn"] == "Statistic")
        );

        let counted = reference(corpus, "per-property.rq", COUNTED_PER_PROPERTY);
        let kept = rows(corpus, "relation-counts", &[]);
        assert_eq!(kept.len(), 9, "{kept:?}");
        for row in &kept {
            let zero = BTreeMap::from([
                ("records".to_string(), "0".to_string()),
                ("articles".to_string(), "0".to_string()),
                ("withProvenance".to_string(), "0".to_string()),
            ]);
            let want = counted
                .iter()
                .find(|r| r["property"] == row["property"])
                .unwrap_or(&zero);
            for column in ["records", "articles", "withProvenance"] {
                assert_eq!(row[column], want[column], "{corpus:?} {column}: {row:?}");
            }
        }
        assert!(counted.len() >= 5, "{counted:?}");

        let counted = reference(corpus, "per-source.rq", COUNTED_PER_SOURCE);
        let listed = rows(corpus, "sources", &["file="]);
        assert!(!listed.is_empty());
        assert!(listed.len() >= counted.len(), "{listed:?} {counted:?}");
        for row in &counted {
            // `sources` names the source by its path; match on the content
            // hash, which the source's IRI is made of.
            let hash = row["source"].rsplit('/').next().unwrap();
            let files: Vec<_> = listed
                .iter()
                .filter(|r| r["contentHash"].starts_with(&format!("sha256:{hash}")))
                .collect();
            assert!(!files.is_empty(), "{corpus:?}: {row:?} not listed");
            for file in files {
                for column in ["articles", "statistics", "facts"] {
                    assert_eq!(file[column], row[column], "{corpus:?} {column}: {file:?}");
                }
            }
        }
    }
}

/// A store without the summary (built with --no-summary), or whose files
/// were written before their records carried counts, cannot answer the
/// queries that read those totals: they are refused with what to run,
/// rather than answered with zeros.
#[test]
fn queries_reading_kept_totals_refuse_a_store_that_lacks_them() {
    let dir = tempfile::tempdir().unwrap();
    let seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds");
    let bare = dir.path().join("bare");
    let build = |summary: &str| {
        jindu_ok(&[
            "build",
            seeds.to_str().unwrap(),
            "--store",
            bare.to_str().unwrap(),
            summary,
        ]);
    };
    build("--no-summary");
    // Runs `query` on `store`, which must refuse it with every one of `says`.
    let refused = |store: &Path, query: &str, says: &[&str]| {
        let out = jindu(&["query", query, "--store", store.to_str().unwrap()]);
        assert!(!out.status.success(), "{query} ran on {store:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(says.iter().all(|s| err.contains(s)), "{query}: {err}");
    };
    for query in ["entity-counts", "busiest-agencies", "relation-counts"] {
        refused(&bare, query, &["summary graph", "jindu build --summary"]);
    }
    refused(
        &bare,
        "statistics-by-region-metric",
        &["statistics rollups", "jindu build --summary"],
    );
    // `sources` reads no summary: it runs.
    jindu_ok(&["query", "sources", "--store", bare.to_str().unwrap()]);
    // What the refusal says to run adds the summary and its rollups.
    build("--summary");
    let out = jindu_ok(&[
        "query",
        "statistics-by-region-metric",
        "--store",
        bare.to_str().unwrap(),
        "--format",
        "csv",
    ]);
    assert!(String::from_utf8_lossy(&out.stdout).lines().count() > 5);

    // The same data as an older jindu wrote it: no counts or tallies, and an
    // extractor identity that names no quads layout.
    let older = seeds_edited(dir.path(), "older", |text| {
        let counts = [
            "#articleCount>",
            "#statisticCount>",
            "#assertionCount>",
            "#relationTally>",
            "#RelationTally>",
            "#tallyProperty>",
            "#tallyRecords>",
            "#tallyArticles>",
        ];
        let old: String = text
            .lines()
            .filter(|l| !counts.iter().any(|c| l.contains(c)))
            .map(|l| format!("{}\n", l.replace("; quads 3\"", "\"")))
            .collect();
        assert!(old.len() < text.len() && !old.contains("; quads"));
        old
    });
    for query in ["sources", "entity-counts", "relation-counts"] {
        refused(
            &older,
            query,
            &["extracted by an older jindu", "jindu build"],
        );
    }
}

/// Runs a query (a stored one's name or a file) on a store, as rows with
/// `periodTexts` (a GROUP_CONCAT, whose order SPARQL leaves open) sorted
/// within, and the rows sorted.
fn sorted_rows(store: &Path, query: &str, params: &[&str]) -> Vec<Vec<(String, String)>> {
    let mut rows: Vec<Vec<(String, String)>> = query_rows(store, query, params)
        .into_iter()
        .map(|row| {
            row.into_iter()
                .map(|(k, mut value)| {
                    if k == "periodTexts" {
                        let mut texts: Vec<&str> = value.split(" | ").collect();
                        texts.sort();
                        value = texts.join(" | ");
                    }
                    (k, value)
                })
                .collect()
        })
        .collect();
    rows.sort();
    rows
}

/// `statistics-by-region-metric` sums the statistics rollups kept in the
/// summary, `relation-counts` reads its relation totals and
/// `busiest-agencies` its per-agency counts; they give the rows of the same
/// queries summing every figure and every source's tallies and counting
/// every fact (tests/reference/), on both corpora, with and without
/// parameters, and after files leave and come back (the rollups and totals
/// kept up to date by the difference of the touched sources' shares, the
/// agency counts recounted for the agencies the change touched).
#[test]
fn the_kept_totals_give_what_counting_the_figures_tallies_and_facts_gives() {
    let reference = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference");
    let cases: &[(&str, &[&str])] = &[
        ("statistics-by-region-metric", &[]),
        (
            "statistics-by-region-metric",
            &["region=内蒙古自治区", "metric=drugsSeized"],
        ),
        ("statistics-by-region-metric", &["metric=casesSolved"]),
        ("statistics-by-region-metric", &["region=150000"]),
        ("relation-counts", &[]),
        ("busiest-agencies", &[]),
        ("busiest-agencies", &["region=内蒙古自治区"]),
    ];
    // Compares every case; returns the number of figures the first counts.
    let agree = |store: &Path, when: &str| {
        let mut figures_counted = 0;
        for (i, (query, params)) in cases.iter().enumerate() {
            let summed = sorted_rows(store, query, params);
            let file = reference.join(format!("{query}.rq"));
            let figures = sorted_rows(store, file.to_str().unwrap(), params);
            assert_eq!(summed, figures, "{when}: {query} {params:?}");
            assert!(!summed.is_empty() || i > 0, "{when}: {query} {params:?}");
            if i == 0 {
                for row in &summed {
                    let (_, n) = row.iter().find(|(k, _)| k == "figures").unwrap();
                    figures_counted += n.parse::<usize>().unwrap();
                }
            }
        }
        figures_counted
    };
    for corpus in [Corpus::Seeds, Corpus::GoldExtra] {
        assert!(agree(store(corpus), &format!("{corpus:?}")) > 10);
    }

    // Files leave and come back, on a store of both corpora.
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let both = dir.path().join("both");
    let corpus = dir.path().join("corpus");
    std::fs::create_dir(&corpus).unwrap();
    let mut copied = Vec::new();
    for folder in ["seeds", "tests/gold-extra"] {
        for entry in std::fs::read_dir(root.join(folder)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "txt") {
                let name = format!(
                    "{}-{}",
                    folder.replace('/', "-"),
                    path.file_name().unwrap().to_str().unwrap()
                );
                std::fs::copy(&path, corpus.join(&name)).unwrap();
                copied.push(name);
            }
        }
    }
    copied.sort();
    assert!(copied.len() >= 6, "{copied:?}");
    let build = || {
        jindu_ok(&[
            "build",
            corpus.to_str().unwrap(),
            "--store",
            both.to_str().unwrap(),
            "--prune",
        ]);
    };
    build();
    let full = agree(&both, "both corpora");
    // One file leaves; a copy of another (same bytes, another name) comes
    // and goes; a file is changed.
    // (the fourth file, a seed page, reports figures)
    let leaving = corpus.join(&copied[3]);
    let kept = std::fs::read(&leaving).unwrap();
    std::fs::remove_file(&leaving).unwrap();
    build();
    assert!(agree(&both, "one file removed") < full);
    std::fs::copy(corpus.join(&copied[0]), corpus.join("zz-copy.txt")).unwrap();
    build();
    agree(&both, "a copy added");
    std::fs::remove_file(corpus.join(&copied[0])).unwrap();
    build();
    agree(&both, "the original of the copy removed");
    let changed = corpus.join(&copied[2]);
    let mut text = std::fs::read_to_string(&changed).unwrap();
    text.push_str("\n\n本报讯 今年以来，开鲁县公安局破获毒品案件12起，缴获海洛因0.35公斤。\n");
    std::fs::write(&changed, text).unwrap();
    build();
    agree(&both, "a file changed");
    std::fs::write(&leaving, kept).unwrap();
    std::fs::copy(corpus.join("zz-copy.txt"), corpus.join(&copied[0])).unwrap();
    std::fs::remove_file(corpus.join("zz-copy.txt")).unwrap();
    build();
    agree(&both, "the files back, the copy gone");
}

/// `busiest-agencies` counts the facts at either end of an agency and takes
/// away those stored both ways; it gives the rows of the query that counts
/// the distinct (property, other end) pairs (tests/reference/), on both
/// corpora, and on a store where cooperations and a parent link are stored
/// both ways (as external RDF may state them; jindu itself writes a
/// cooperation once).
#[test]
fn busiest_agencies_counts_a_relation_stored_both_ways_once() {
    let reference =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference/busiest-agencies.rq");
    let reference = reference.to_str().unwrap();
    for corpus in [Corpus::Seeds, Corpus::GoldExtra] {
        for params in [&[][..], &["region=内蒙古自治区"][..]] {
            assert_eq!(
                sorted_rows(store(corpus), "busiest-agencies", params),
                sorted_rows(store(corpus), reference, params),
                "{corpus:?} {params:?}"
            );
        }
    }

    let dir = tempfile::tempdir().unwrap();
    let agency = |name: &str| format!("<https://w3id.org/jindu/id/agency/{name}>");
    let (a, b, c) = (
        agency("开鲁县公安局"),
        agency("内蒙古自治区公安厅"),
        agency("托克托县公安局"),
    );
    let both = seeds_edited(dir.path(), "both-ways", |mut text| {
        for (s, p, o) in [
            (&a, "cooperatesWith", &b),
            (&b, "cooperatesWith", &a),
            (&a, "cooperatesWith", &c),
            (&c, "cooperatesWith", &a),
            (&c, "subOrganizationOf", &b),
            (&b, "subOrganizationOf", &c),
        ] {
            text.push_str(&format!(
                "{s} <https://w3id.org/jindu/ontology#{p}> {o} .\n"
            ));
        }
        text
    });
    let counted = sorted_rows(&both, reference, &[]);
    assert_eq!(sorted_rows(&both, "busiest-agencies", &[]), counted);
    let before = sorted_rows(store(Corpus::Seeds), reference, &[]);
    let column = |rows: &[Vec<(String, String)>], iri: &str, name: &str| -> usize {
        let row = rows
            .iter()
            .find(|r| {
                r.iter()
                    .any(|(k, v)| k == "agency" && format!("<{v}>") == iri)
            })
            .unwrap_or_else(|| panic!("{iri} not listed"));
        row.iter()
            .find(|(k, _)| k == name)
            .unwrap()
            .1
            .parse()
            .unwrap()
    };
    // 开鲁县公安局: two partners more, each stated both ways.
    assert_eq!(
        column(&counted, &a, "relations"),
        column(&before, &a, "relations") + 2
    );
    assert_eq!(
        column(&counted, &a, "partners"),
        column(&before, &a, "partners") + 2
    );
    // 托克托县公安局: a partner and a parent, each stated both ways.
    assert_eq!(
        column(&counted, &c, "relations"),
        column(&before, &c, "relations") + 2
    );
}

/// A store under `dir` loaded from the seeds store's dump as `edit` leaves
/// it (data as an older jindu or another tool would have written it).
fn seeds_edited(dir: &Path, name: &str, edit: impl FnOnce(String) -> String) -> PathBuf {
    let dump = dir.join(format!("{name}.nq"));
    jindu_ok(&[
        "dump",
        "--store",
        store(Corpus::Seeds).to_str().unwrap(),
        "--output",
        dump.to_str().unwrap(),
    ]);
    let text = std::fs::read_to_string(&dump).unwrap();
    std::fs::write(&dump, edit(text)).unwrap();
    let loaded = dir.join(name);
    jindu_ok(&[
        "load",
        dump.to_str().unwrap(),
        "--store",
        loaded.to_str().unwrap(),
    ]);
    loaded
}
