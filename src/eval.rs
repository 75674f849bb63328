//! Scoring a build against gold files, exactly as contract section 6 says.
//!
//! In: a [`Knowledge`] and a folder of gold files (`NAME.json` for source
//! `NAME.txt`). Out: a [`Report`] with true positives, false alarms and
//! misses per entity type, per relation property and for statistics,
//! micro-averaged over files, with the lists behind them.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

use crate::model::{EntityClass, EntityId, Knowledge, Property};

#[derive(Debug, Deserialize)]
pub struct GoldFile {
    pub source: String,
    #[serde(default)]
    pub entities: Vec<GoldEntity>,
    #[serde(default)]
    pub relations: Vec<(String, String, String)>,
    #[serde(default)]
    pub statistics: Vec<GoldStatistic>,
}

#[derive(Debug, Deserialize)]
pub struct GoldEntity {
    #[serde(rename = "type")]
    pub class: String,
    pub label: String,
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub accept: Vec<String>,
    #[serde(default)]
    pub optional: bool,
}

#[derive(Debug, Deserialize)]
pub struct GoldStatistic {
    pub metric: String,
    pub value: f64,
}

/// Counts for one line of the table.
#[derive(Debug, Default, Clone, Copy, Serialize)]
pub struct Score {
    pub tp: usize,
    pub fp: usize,
    pub fn_: usize,
}

impl Score {
    pub fn precision(&self) -> f64 {
        ratio(self.tp, self.tp + self.fp)
    }
    pub fn recall(&self) -> f64 {
        ratio(self.tp, self.tp + self.fn_)
    }
    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }
    fn add(&mut self, o: Score) {
        self.tp += o.tp;
        self.fp += o.fp;
        self.fn_ += o.fn_;
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 1.0 } else { a as f64 / b as f64 }
}

/// One file's misses and false alarms, as readable lines.
#[derive(Debug, Default, Serialize)]
pub struct FileDetails {
    pub source: String,
    pub misses: Vec<String>,
    pub false_alarms: Vec<String>,
}

#[derive(Debug, Default, Serialize)]
pub struct Report {
    /// Keys: `Agency` …, `relation:locatedIn` …, `statistics`.
    pub scores: BTreeMap<String, Score>,
    pub files: Vec<FileDetails>,
    /// Gold files with no matching source in the build.
    pub unmatched_gold: Vec<String>,
}

impl Report {
    pub fn entity_total(&self) -> Score {
        let mut s = Score::default();
        for class in EntityClass::ALL {
            if let Some(x) = self.scores.get(class.name()) {
                s.add(*x);
            }
        }
        s
    }
    pub fn relation_total(&self) -> Score {
        let mut s = Score::default();
        for (k, v) in &self.scores {
            if k.starts_with("relation:") {
                s.add(*v);
            }
        }
        s
    }
}

const CAMPAIGN_SUFFIXES: [&str; 5] = ["专项行动", "专项斗争", "专项活动", "行动", "活动"];

/// The contract's label normalisation.
pub fn normalize(label: &str, class: Option<EntityClass>) -> String {
    let mut s: String = label
        .nfkc()
        .filter(|c| {
            !c.is_whitespace()
                && !matches!(
                    c,
                    '"' | '\''
                        | '“'
                        | '”'
                        | '‘'
                        | '’'
                        | '「'
                        | '」'
                        | '『'
                        | '』'
                        | '《'
                        | '》'
                        | '〈'
                        | '〉'
                        | '('
                        | ')'
                        | '['
                        | ']'
                        | '{'
                        | '}'
                        | '【'
                        | '】'
                        | '（'
                        | '）'
                )
        })
        .map(|c| match c {
            '—' | '–' | '-' | '－' | '‐' | '―' => '-',
            '·' | '•' | '・' | '．' | '.' | '‧' => '·',
            c => c,
        })
        .collect();
    if class == Some(EntityClass::Campaign) {
        for suffix in CAMPAIGN_SUFFIXES {
            if let Some(stripped) = s.strip_suffix(suffix)
                && !stripped.is_empty()
            {
                s = stripped.to_string();
                break;
            }
        }
    }
    s
}

/// Reads every `*.json` gold file of a folder (notes and other files ignored).
pub fn read_gold_dir(dir: &Path) -> Result<Vec<GoldFile>> {
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot list gold folder {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    let mut out = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let gold: GoldFile = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a gold file", path.display()))?;
        out.push(gold);
    }
    Ok(out)
}

/// What a predicted entity matched.
#[derive(Clone, Copy, PartialEq)]
enum Match {
    Gold(usize),
    Optional(usize),
    None,
}

/// Scores the knowledge against gold files.
pub fn score(kn: &Knowledge, golds: &[GoldFile]) -> Report {
    let mut report = Report::default();
    for class in EntityClass::ALL {
        report
            .scores
            .insert(class.name().to_string(), Score::default());
    }
    for p in Property::ALL.into_iter().filter(|p| p.in_contract()) {
        report
            .scores
            .insert(format!("relation:{}", p.name()), Score::default());
    }
    report.scores.insert("statistics".into(), Score::default());
    for gold in golds {
        let Some(source) = kn.sources.iter().position(|s| s.name == gold.source) else {
            report.unmatched_gold.push(gold.source.clone());
            continue;
        };
        let details = score_file(kn, source, gold, &mut report.scores);
        report.files.push(details);
    }
    report
}

fn score_file(
    kn: &Knowledge,
    source: usize,
    gold: &GoldFile,
    scores: &mut BTreeMap<String, Score>,
) -> FileDetails {
    let mut details = FileDetails {
        source: gold.source.clone(),
        ..Default::default()
    };
    let articles: BTreeSet<usize> = kn
        .articles
        .iter()
        .enumerate()
        .filter(|(_, a)| a.source == source)
        .map(|(i, _)| i)
        .collect();
    let predicted: Vec<&crate::model::Entity> = kn
        .entities
        .values()
        .filter(|e| e.mentioned_in.iter().any(|a| articles.contains(a)))
        .collect();

    // Gold lookup by (class, normalised form) and by code.
    let mut by_form: HashMap<(EntityClass, String), Vec<usize>> = HashMap::new();
    let mut by_code: HashMap<String, Vec<usize>> = HashMap::new();
    let mut gold_class = Vec::new();
    for (i, g) in gold.entities.iter().enumerate() {
        let class = EntityClass::parse(&g.class);
        gold_class.push(class);
        let Some(class) = class else { continue };
        for form in std::iter::once(&g.label).chain(g.accept.iter()) {
            by_form
                .entry((class, normalize(form, Some(class))))
                .or_default()
                .push(i);
        }
        if let Some(code) = &g.code {
            by_code.entry(code.clone()).or_default().push(i);
        }
    }
    let mut matched_gold: BTreeSet<usize> = BTreeSet::new();
    let mut entity_match: HashMap<EntityId, Match> = HashMap::new();
    for e in &predicted {
        let class = e.id.class;
        let mut candidates: Vec<usize> = by_form
            .get(&(class, normalize(&e.label, Some(class))))
            .cloned()
            .unwrap_or_default();
        if class == EntityClass::Region
            && let Some(code) = &e.admin_code
        {
            candidates.extend(by_code.get(code).cloned().unwrap_or_default());
        }
        candidates.sort();
        candidates.dedup();
        // Prefer a required gold entity not matched yet, then an optional one.
        let required = candidates
            .iter()
            .copied()
            .find(|&g| !gold.entities[g].optional && !matched_gold.contains(&g));
        let m = if let Some(g) = required {
            matched_gold.insert(g);
            Match::Gold(g)
        } else if let Some(&g) = candidates.iter().find(|&&g| gold.entities[g].optional) {
            Match::Optional(g)
        } else {
            // No gold entity, or a duplicate of one already matched.
            Match::None
        };
        entity_match.insert(e.id.clone(), m);
        let score = scores.entry(class.name().to_string()).or_default();
        match m {
            Match::Gold(_) => score.tp += 1,
            Match::Optional(_) => {}
            Match::None => {
                score.fp += 1;
                details
                    .false_alarms
                    .push(format!("{}: {}", class.name(), e.label));
            }
        }
    }
    for (i, g) in gold.entities.iter().enumerate() {
        if g.optional || matched_gold.contains(&i) {
            continue;
        }
        if let Some(class) = gold_class[i] {
            scores.entry(class.name().to_string()).or_default().fn_ += 1;
            details
                .misses
                .push(format!("{}: {}", class.name(), g.label));
        }
    }

    // Relations.
    let gold_index: HashMap<&str, usize> = gold
        .entities
        .iter()
        .enumerate()
        .map(|(i, g)| (g.label.as_str(), i))
        .collect();
    let mut gold_rel: BTreeMap<(usize, Property, usize), bool> = BTreeMap::new(); // → optional
    for (s, p, o) in &gold.relations {
        let (Some(&si), Some(prop), Some(&oi)) = (
            gold_index.get(s.as_str()),
            Property::parse(p),
            gold_index.get(o.as_str()),
        ) else {
            continue;
        };
        if prop == Property::PartOf
            && gold_class[si] == Some(EntityClass::Region)
            && gold_class[oi] == Some(EntityClass::Region)
        {
            continue;
        }
        let optional = gold.entities[si].optional || gold.entities[oi].optional;
        let key = rel_key(si, prop, oi);
        gold_rel.insert(key, optional);
    }
    let mut hit: BTreeSet<(usize, Property, usize)> = BTreeSet::new();
    for rel in kn.relations.values() {
        let k = &rel.key;
        let (Some(ms), Some(mo)) = (entity_match.get(&k.subject), entity_match.get(&k.object))
        else {
            continue; // an end not mentioned in this file
        };
        // Properties the project added (supervisedBy) are not scored, and
        // neither is partOf between regions (it comes from the gazetteer).
        if !k.property.in_contract()
            || k.property == Property::PartOf
                && k.subject.class == EntityClass::Region
                && k.object.class == EntityClass::Region
        {
            continue;
        }
        let name = format!("relation:{}", k.property.name());
        let describe = || {
            format!(
                "{} {} {}",
                kn.entities[&k.subject].label,
                k.property.name(),
                kn.entities[&k.object].label
            )
        };
        match (ms, mo) {
            (Match::Optional(_), _) | (_, Match::Optional(_)) => {}
            (Match::Gold(s), Match::Gold(o)) => {
                let key = rel_key(*s, k.property, *o);
                match gold_rel.get(&key) {
                    Some(true) => {}
                    Some(false) => {
                        if hit.insert(key) {
                            scores.entry(name).or_default().tp += 1;
                        }
                    }
                    None => {
                        scores.entry(name).or_default().fp += 1;
                        details
                            .false_alarms
                            .push(format!("relation: {}", describe()));
                    }
                }
            }
            _ => {
                scores.entry(name).or_default().fp += 1;
                details
                    .false_alarms
                    .push(format!("relation: {}", describe()));
            }
        }
    }
    for (key, optional) in &gold_rel {
        if !optional && !hit.contains(key) {
            scores
                .entry(format!("relation:{}", key.1.name()))
                .or_default()
                .fn_ += 1;
            details.misses.push(format!(
                "relation: {} {} {}",
                gold.entities[key.0].label,
                key.1.name(),
                gold.entities[key.2].label
            ));
        }
    }

    // Statistics.
    let mut used = vec![false; gold.statistics.len()];
    let contract_metrics = [
        "casesSolved",
        "suspectsArrested",
        "drugUsersFound",
        "drugsSeized",
        "precursorsSeized",
        "gangsDestroyed",
        "labsDestroyed",
        "plantsEradicated",
        "moneySeized",
    ];
    let stats = scores.entry("statistics".into()).or_default();
    for s in kn
        .statistics
        .iter()
        .filter(|s| articles.contains(&s.evidence.article))
        .filter(|s| contract_metrics.contains(&&*s.metric))
    {
        let value: f64 = s.value.parse().unwrap_or(f64::NAN);
        let found = gold.statistics.iter().enumerate().position(|(i, g)| {
            !used[i] && *g.metric == *s.metric && (g.value - value).abs() <= g.value.abs() * 0.005
        });
        match found {
            Some(i) => {
                used[i] = true;
                stats.tp += 1;
            }
            None => {
                stats.fp += 1;
                details
                    .false_alarms
                    .push(format!("statistic: {} {}", s.metric, s.value));
            }
        }
    }
    for (i, g) in gold.statistics.iter().enumerate() {
        if !used[i] {
            stats.fn_ += 1;
            details
                .misses
                .push(format!("statistic: {} {}", g.metric, g.value));
        }
    }
    details
}

fn rel_key(s: usize, p: Property, o: usize) -> (usize, Property, usize) {
    if p.is_symmetric() && o < s {
        (o, p, s)
    } else {
        (s, p, o)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ArticleInfo, Entity, Evidence, SourceInfo, Statistic};

    fn kn_with(entities: &[(EntityClass, &str, Option<&str>)]) -> Knowledge {
        let mut kn = Knowledge::default();
        kn.sources.push(SourceInfo {
            name: "a.txt".into(),
            path: "a.txt".into(),
            sha256: "0".repeat(64),
            encoding: "UTF-8".into(),
            char_len: 0,
            byte_len: 0,
        });
        kn.articles.push(ArticleInfo {
            source: 0,
            index: 1,
            title: None,
            char_start: 0,
            char_end: 0,
            about_drugs: true,
            date: None,
        });
        for (class, label, code) in entities {
            kn.upsert_entity(Entity {
                id: EntityId::new(*class, code.unwrap_or(label)),
                label: label.to_string(),
                alt_labels: Default::default(),
                mentioned_in: [0].into(),
                admin_code: code.map(String::from),
                kind: None,
                code: None,
            });
        }
        kn
    }

    fn gold(json: &str) -> GoldFile {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn normalises_as_the_contract_says() {
        assert_eq!(
            normalize("“清源断流—2023”专项行动", Some(EntityClass::Campaign)),
            "清源断流-2023"
        );
        assert_eq!(
            normalize("“8.12”特大运输毒品案", Some(EntityClass::Case)),
            "8·12特大运输毒品案"
        );
        assert_eq!(normalize("Ｋ粉", None), "K粉");
    }

    #[test]
    fn scores_hits_false_alarms_misses_and_optionals() {
        let mut kn = kn_with(&[
            (EntityClass::Agency, "开鲁县公安局", None),
            (EntityClass::Agency, "公安机关", None),
            (EntityClass::Agency, "错误局", None),
            (EntityClass::Region, "开鲁", Some("150523")),
        ]);
        let ev = Evidence {
            article: 0,
            char_start: 0,
            char_end: 0,
            sentence: "".into(),
            rule: "".into(),
        };
        kn.add_relation(
            EntityId::new(EntityClass::Agency, "开鲁县公安局"),
            Property::LocatedIn,
            EntityId::new(EntityClass::Region, "150523"),
            Some(ev.clone()),
        );
        kn.add_relation(
            EntityId::new(EntityClass::Agency, "错误局"),
            Property::LocatedIn,
            EntityId::new(EntityClass::Region, "150523"),
            Some(ev.clone()),
        );
        kn.statistics.push(Statistic {
            metric: "drugsSeized".into(),
            value: "4110".into(),
            approximate: false,
            unit: "克",
            drug: None,
            reported_by: None,
            period_start: None,
            period_end: None,
            period_text: None,
            evidence: ev,
        });
        let g = gold(
            r#"{"source":"a.txt","entities":[
            {"type":"Agency","label":"开鲁县公安局"},
            {"type":"Agency","label":"内蒙古公安机关","accept":["公安机关"],"optional":true},
            {"type":"Agency","label":"通辽市公安局"},
            {"type":"Region","label":"开鲁县","code":"150523"}],
            "relations":[["开鲁县公安局","locatedIn","开鲁县"],["通辽市公安局","locatedIn","开鲁县"]],
            "statistics":[{"metric":"drugsSeized","value":4100},{"metric":"casesSolved","value":3}]}"#,
        );
        let r = score(&kn, &[g]);
        let a = r.scores["Agency"];
        assert_eq!((a.tp, a.fp, a.fn_), (1, 1, 1));
        let reg = r.scores["Region"];
        assert_eq!((reg.tp, reg.fp, reg.fn_), (1, 0, 0));
        let rel = r.scores["relation:locatedIn"];
        assert_eq!((rel.tp, rel.fp, rel.fn_), (1, 1, 1));
        let st = r.scores["statistics"];
        assert_eq!((st.tp, st.fp, st.fn_), (1, 0, 1));
        assert!((a.f1() - 0.5).abs() < 1e-9);
    }

    #[test]
    fn an_unmerged_duplicate_is_a_false_alarm() {
        let kn = kn_with(&[
            (EntityClass::Region, "内蒙古自治区", Some("150000")),
            (EntityClass::Region, "内蒙古", None),
        ]);
        let g = gold(
            r#"{"source":"a.txt","entities":[{"type":"Region","label":"内蒙古自治区","code":"150000","accept":["内蒙古"]}]}"#,
        );
        let r = score(&kn, &[g]);
        let s = r.scores["Region"];
        assert_eq!((s.tp, s.fp, s.fn_), (1, 1, 0));
    }
}
