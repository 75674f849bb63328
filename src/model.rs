//! The knowledge model: entities, relations, statistics and their provenance.
//!
//! In: what the extraction stage resolved, article by article. Out: one
//! [`Knowledge`] value that every sink (petgraph, the RDF store, exports,
//! the evaluator) reads. It knows nothing of petgraph or RDF.

use std::borrow::Cow;
use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use rustc_hash::FxHashMap;
use serde::Serialize;

/// The entity classes of the contract (section 2).
// The declaration order is the sort order: Agency, the first, is the
// lowest (`Knowledge::has_relation_from` relies on it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum EntityClass {
    Agency,
    Region,
    Campaign,
    Case,
    Drug,
}

impl EntityClass {
    pub const ALL: [EntityClass; 5] = [
        EntityClass::Agency,
        EntityClass::Region,
        EntityClass::Campaign,
        EntityClass::Case,
        EntityClass::Drug,
    ];

    /// The class's local name in the ontology (`jd:Agency`).
    pub fn name(self) -> &'static str {
        match self {
            EntityClass::Agency => "Agency",
            EntityClass::Region => "Region",
            EntityClass::Campaign => "Campaign",
            EntityClass::Case => "Case",
            EntityClass::Drug => "Drug",
        }
    }

    /// The path segment of the class's entity IRIs.
    pub fn iri_segment(self) -> &'static str {
        match self {
            EntityClass::Agency => "agency",
            EntityClass::Region => "region",
            EntityClass::Campaign => "campaign",
            EntityClass::Case => "case",
            EntityClass::Drug => "drug",
        }
    }

    pub fn parse(name: &str) -> Option<EntityClass> {
        EntityClass::ALL
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(name))
    }
}

/// The relation properties of the contract (section 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Property {
    LocatedIn,
    SubOrganizationOf,
    ParticipatesIn,
    HandledBy,
    OccurredIn,
    UnderCampaign,
    CooperatesWith,
    InvolvesDrug,
    PartOf,
    /// Added by jindu: a higher body supervised or guided a case (督办, 指导).
    SupervisedBy,
}

impl Property {
    pub const ALL: [Property; 10] = [
        Property::LocatedIn,
        Property::SubOrganizationOf,
        Property::ParticipatesIn,
        Property::HandledBy,
        Property::OccurredIn,
        Property::UnderCampaign,
        Property::CooperatesWith,
        Property::InvolvesDrug,
        Property::PartOf,
        Property::SupervisedBy,
    ];

    /// The property's local name in the ontology (`jd:locatedIn`).
    pub fn name(self) -> &'static str {
        match self {
            Property::LocatedIn => "locatedIn",
            Property::SubOrganizationOf => "subOrganizationOf",
            Property::ParticipatesIn => "participatesIn",
            Property::HandledBy => "handledBy",
            Property::OccurredIn => "occurredIn",
            Property::UnderCampaign => "underCampaign",
            Property::CooperatesWith => "cooperatesWith",
            Property::InvolvesDrug => "involvesDrug",
            Property::PartOf => "partOf",
            Property::SupervisedBy => "supervisedBy",
        }
    }

    pub fn parse(name: &str) -> Option<Property> {
        Property::ALL.into_iter().find(|p| p.name() == name)
    }

    /// True for the properties of the contract (section 3); false for those
    /// the project added.
    pub fn in_contract(self) -> bool {
        self != Property::SupervisedBy
    }

    pub fn is_symmetric(self) -> bool {
        self == Property::CooperatesWith
    }
}

/// Identifies an entity: its class and canonical key (the admin code for
/// Chinese regions, the canonical label otherwise).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct EntityId {
    pub class: EntityClass,
    /// Shared: an id is cloned into every mention, relation key and
    /// statistic that names the entity, and a clone must not copy the text.
    pub key: Arc<str>,
}

impl EntityId {
    pub fn new(class: EntityClass, key: impl Into<Arc<str>>) -> EntityId {
        EntityId {
            class,
            key: key.into(),
        }
    }
}

/// A place in a source: article and character offsets into the decoded
/// source text, with the sentence that holds it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Evidence {
    /// Index into [`Knowledge::articles`].
    pub article: usize,
    /// Unicode scalar offsets into the decoded source text.
    pub char_start: usize,
    pub char_end: usize,
    /// The cleaned sentence the fact was read from (shared by the facts
    /// read from one sentence).
    pub sentence: Arc<str>,
    /// The rule that produced the fact (most rules are fixed names).
    pub rule: Cow<'static, str>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Entity {
    pub id: EntityId,
    /// The canonical name (`rdfs:label`).
    pub label: String,
    /// Surface forms seen other than the label (`skos:altLabel`).
    pub alt_labels: BTreeSet<String>,
    /// Articles that mention the entity (indexes into [`Knowledge::articles`]).
    pub mentioned_in: BTreeSet<usize>,
    /// GB/T 2260 code of a Chinese region.
    pub admin_code: Option<String>,
    /// Region level (`province`, `prefecture`, `county`, `country`, `area`),
    /// agency kind, drug kind or campaign kind.
    pub kind: Option<String>,
    /// Case code such as `8·12`, campaign edition year.
    pub code: Option<String>,
}

impl Entity {
    /// Records one more mention of this entity: its surface form (unless it
    /// is the label), the article, and the kind or code when it had none;
    /// as [`Knowledge::upsert_entity`] merges an entity of one mention.
    pub fn note_mention(
        &mut self,
        surface: &str,
        article: usize,
        kind: Option<String>,
        code: Option<String>,
    ) {
        // Copied only when new (most mentions repeat a known form).
        if surface != self.label && !self.alt_labels.contains(surface) {
            self.alt_labels.insert(surface.to_string());
        }
        self.alt_labels.remove(self.label.as_str());
        self.mentioned_in.insert(article);
        if self.kind.is_none() {
            self.kind = kind;
        }
        if self.code.is_none() {
            self.code = code;
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct RelationKey {
    pub subject: EntityId,
    pub property: Property,
    pub object: EntityId,
}

#[derive(Debug, Clone, Serialize)]
pub struct Relation {
    pub key: RelationKey,
    /// Where the relation was read; empty for relations implied by a
    /// gazetteer (region parents).
    pub evidence: Vec<Evidence>,
}

/// A reported figure (contract section 4).
#[derive(Debug, Clone, Serialize)]
pub struct Statistic {
    pub metric: Arc<str>,
    /// Normalised value: counts, grams, yuan. Kept as a decimal string.
    pub value: String,
    pub approximate: bool,
    /// The unit as written (起, 名, 公斤 …).
    pub unit: &'static str,
    pub drug: Option<EntityId>,
    pub reported_by: Option<EntityId>,
    pub period_start: Option<String>,
    pub period_end: Option<String>,
    pub period_text: Option<String>,
    pub evidence: Evidence,
}

#[derive(Debug, Clone, Serialize)]
pub struct SourceInfo {
    pub name: String,
    pub path: String,
    pub sha256: String,
    pub encoding: String,
    pub char_len: usize,
    pub byte_len: usize,
}

impl SourceInfo {
    pub fn key(&self) -> &str {
        &self.sha256[..16]
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ArticleInfo {
    /// Index into [`Knowledge::sources`].
    pub source: usize,
    /// 1-based position in its source.
    pub index: usize,
    pub title: Option<String>,
    pub char_start: usize,
    pub char_end: usize,
    pub about_drugs: bool,
    /// `YYYY-MM-DD` when the article's date could be read.
    pub date: Option<String>,
}

/// Everything one build knows.
#[derive(Debug, Default, Serialize)]
pub struct Knowledge {
    pub sources: Vec<SourceInfo>,
    pub articles: Vec<ArticleInfo>,
    #[serde(serialize_with = "values_only")]
    pub entities: BTreeMap<EntityId, Entity>,
    #[serde(serialize_with = "values_only")]
    pub relations: BTreeMap<RelationKey, Relation>,
    pub statistics: Vec<Statistic>,
}

impl Knowledge {
    /// Adds or merges an entity; returns its id.
    pub fn upsert_entity(&mut self, entity: Entity) -> EntityId {
        let id = entity.id.clone();
        // One search either way (the id is cloned for the map's key only).
        match self.entities.entry(id.clone()) {
            Entry::Occupied(mut found) => {
                let existing = found.get_mut();
                existing.alt_labels.extend(entity.alt_labels);
                existing.mentioned_in.extend(entity.mentioned_in);
                if existing.admin_code.is_none() {
                    existing.admin_code = entity.admin_code;
                }
                if existing.kind.is_none() {
                    existing.kind = entity.kind;
                }
                if existing.code.is_none() {
                    existing.code = entity.code;
                }
                existing.alt_labels.remove(existing.label.as_str());
            }
            Entry::Vacant(slot) => {
                let mut entity = entity;
                entity.alt_labels.remove(entity.label.as_str());
                slot.insert(entity);
            }
        }
        id
    }

    /// True when `subject` has some relation `property` (a range lookup:
    /// relations are ordered by subject, then property).
    pub fn has_relation_from(&self, subject: &EntityId, property: Property) -> bool {
        let lowest = RelationKey {
            subject: subject.clone(),
            property,
            object: EntityId::new(EntityClass::Agency, ""),
        };
        self.relations
            .range(lowest..)
            .next()
            .is_some_and(|(k, _)| &k.subject == subject && k.property == property)
    }

    /// Adds a relation, merging evidence with an existing one. A symmetric
    /// relation is stored once, from the smaller id to the larger.
    pub fn add_relation(
        &mut self,
        subject: EntityId,
        property: Property,
        object: EntityId,
        evidence: Option<Evidence>,
    ) {
        let Some((subject, object)) = stored_ends(subject, property, object) else {
            return;
        };
        let key = RelationKey {
            subject,
            property,
            object,
        };
        // One search either way; the key is cloned only for an insertion
        // (most calls find the relation already there: a place named again).
        match self.relations.entry(key) {
            Entry::Occupied(mut found) => {
                if let Some(ev) = evidence {
                    insert_sorted_unique(&mut found.get_mut().evidence, ev);
                }
            }
            Entry::Vacant(slot) => {
                let key = slot.key().clone();
                slot.insert(Relation {
                    key,
                    evidence: evidence.into_iter().collect(),
                });
            }
        }
    }

    /// Counts per entity class, in class order.
    pub fn entity_counts(&self) -> BTreeMap<EntityClass, usize> {
        let mut counts = BTreeMap::new();
        for class in EntityClass::ALL {
            counts.insert(class, 0);
        }
        for id in self.entities.keys() {
            *counts.entry(id.class).or_insert(0) += 1;
        }
        counts
    }

    /// Counts per relation property.
    pub fn relation_counts(&self) -> BTreeMap<Property, usize> {
        let mut counts = BTreeMap::new();
        for key in self.relations.keys() {
            *counts.entry(key.property).or_insert(0) += 1;
        }
        counts
    }
}

/// The relations of one fragment while it is extracted: what
/// [`Knowledge::add_relation`] builds, kept by subject in a hash map so that
/// an insertion (most find the relation there already) hashes the subject
/// once instead of comparing keys string by string down a B-tree. The order
/// of [`Knowledge::relations`] is made once, by [`RelationTable::into_map`].
#[derive(Debug, Default)]
pub struct RelationTable {
    /// By subject: each relation's property, object and evidence (sorted,
    /// without duplicates), in insertion order.
    by_subject: FxHashMap<EntityId, Vec<(Property, EntityId, Vec<Evidence>)>>,
}

impl RelationTable {
    /// As [`Knowledge::add_relation`]: adds a relation, merging evidence
    /// with an existing one; a symmetric relation is stored once, from the
    /// smaller id to the larger.
    pub fn add(
        &mut self,
        subject: EntityId,
        property: Property,
        object: EntityId,
        evidence: Option<Evidence>,
    ) {
        let Some((subject, object)) = stored_ends(subject, property, object) else {
            return;
        };
        let held = self.by_subject.entry(subject).or_default();
        match held
            .iter_mut()
            .find(|(p, o, _)| *p == property && *o == object)
        {
            Some((_, _, found)) => {
                if let Some(ev) = evidence {
                    insert_sorted_unique(found, ev);
                }
            }
            None => held.push((property, object, evidence.into_iter().collect())),
        }
    }

    /// Whether the relation is there (as `contains_key` of the map).
    pub fn contains(&self, subject: &EntityId, property: Property, object: &EntityId) -> bool {
        self.by_subject
            .get(subject)
            .is_some_and(|held| held.iter().any(|(p, o, _)| *p == property && o == object))
    }

    /// As [`Knowledge::has_relation_from`]: `subject` has some relation
    /// `property`.
    pub fn has_from(&self, subject: &EntityId, property: Property) -> bool {
        self.by_subject
            .get(subject)
            .is_some_and(|held| held.iter().any(|(p, _, _)| *p == property))
    }

    /// The smallest object of a relation `property` from `subject`: the
    /// object of the first such relation in the order of the map.
    pub fn first_object(&self, subject: &EntityId, property: Property) -> Option<&EntityId> {
        self.by_subject
            .get(subject)?
            .iter()
            .filter(|(p, _, _)| *p == property)
            .map(|(_, o, _)| o)
            .min()
    }

    /// The relations in the order of [`Knowledge::relations`]: subjects in
    /// order, then each subject's relations by property and object (cheap
    /// comparisons, mostly of properties), so that the map's own sort finds
    /// them in order already.
    pub fn into_map(self) -> BTreeMap<RelationKey, Relation> {
        let count = self.by_subject.values().map(Vec::len).sum();
        let mut subjects: Vec<_> = self.by_subject.into_iter().collect();
        // The subjects, and each subject's (property, object) pairs, are
        // distinct: an unstable sort gives the one order.
        subjects.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        // Gathered at their full size: the map collects a vector as it is.
        let mut sorted = Vec::with_capacity(count);
        for (subject, mut held) in subjects {
            held.sort_unstable_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
            for (property, object, evidence) in held {
                let key = RelationKey {
                    subject: subject.clone(),
                    property,
                    object,
                };
                sorted.push((key.clone(), Relation { key, evidence }));
            }
        }
        BTreeMap::from_iter(sorted)
    }
}

/// The (subject, object) a relation is stored under: none for a relation
/// of an entity with itself; a symmetric relation from the smaller id to
/// the larger, so that it is stored once.
fn stored_ends(
    subject: EntityId,
    property: Property,
    object: EntityId,
) -> Option<(EntityId, EntityId)> {
    if subject == object {
        None
    } else if property.is_symmetric() && object < subject {
        Some((object, subject))
    } else {
        Some((subject, object))
    }
}

/// Inserts `item` into `sorted` (ascending, without duplicates) where it
/// belongs, unless it is there already: what pushing, sorting and skipping
/// duplicates gives, without sorting the whole list on every insertion (a
/// relation read in many sentences collects many records).
pub fn insert_sorted_unique<T: Ord>(sorted: &mut Vec<T>, item: T) {
    // Most items come in order (the facts of a page are read in text
    // order): one comparison with the last puts them at the end. An item
    // read again is most often the last one, which equality tells cheaply
    // (evidence of one sentence shares its text, compared by pointer first),
    // where ordering compares the texts byte by byte.
    match sorted.last() {
        Some(last) if *last == item => {}
        Some(last) if item < *last => {
            if let Err(at) = sorted.binary_search(&item) {
                sorted.insert(at, item);
            }
        }
        _ => sorted.push(item),
    }
}

/// Serialises a map by its values (JSON keys must be strings; the values
/// carry their keys).
fn values_only<K, V: Serialize, S: serde::Serializer>(
    map: &BTreeMap<K, V>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(map.values())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_noted_mention_adds_its_surface_article_and_missing_kind() {
        let mut entity = Entity {
            id: EntityId::new(EntityClass::Agency, "开鲁县公安局"),
            label: "开鲁县公安局".into(),
            alt_labels: BTreeSet::new(),
            mentioned_in: [1].into(),
            admin_code: None,
            kind: None,
            code: None,
        };
        entity.note_mention("开鲁县公安局", 2, Some("公安".into()), None);
        entity.note_mention("開魯縣公安局", 3, Some("other".into()), None);
        assert_eq!(entity.alt_labels, ["開魯縣公安局".to_string()].into());
        assert_eq!(entity.mentioned_in, [1, 2, 3].into());
        assert_eq!(entity.kind.as_deref(), Some("公安"));
    }

    #[test]
    fn sorted_insertion_is_push_sort_and_skip_duplicates() {
        let items = [5, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3, 2];
        let mut inserted = Vec::new();
        let mut pushed: Vec<i32> = Vec::new();
        for item in items {
            insert_sorted_unique(&mut inserted, item);
            if !pushed.contains(&item) {
                pushed.push(item);
                pushed.sort();
            }
            assert_eq!(inserted, pushed);
        }
    }

    #[test]
    fn relation_table_is_the_map_add_relation_builds() {
        let ids: Vec<EntityId> = [
            (EntityClass::Agency, "开鲁县公安局禁毒大队"),
            (EntityClass::Agency, "开鲁县公安局"),
            (EntityClass::Agency, "通辽市公安局"),
            (EntityClass::Region, "150523"),
            (EntityClass::Region, "150500"),
            (EntityClass::Case, "8·12"),
        ]
        .into_iter()
        .map(|(c, k)| EntityId::new(c, k))
        .collect();
        let ev = |article: usize, at: usize| Evidence {
            article,
            char_start: at,
            char_end: at + 2,
            sentence: "句".into(),
            rule: Cow::Borrowed("rule"),
        };
        let mut kn = Knowledge::default();
        let mut table = RelationTable::default();
        // A fixed pseudo-random walk over subjects, properties, objects and
        // evidence (repeats, reversed symmetric pairs, self-relations).
        let mut x: usize = 7;
        for _ in 0..400 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345) % (1 << 31);
            let s = ids[x % ids.len()].clone();
            let o = ids[(x / 7) % ids.len()].clone();
            let p = Property::ALL[(x / 49) % Property::ALL.len()];
            let e = (!x.is_multiple_of(3)).then(|| ev((x / 11) % 3, (x / 13) % 20));
            kn.add_relation(s.clone(), p, o.clone(), e.clone());
            table.add(s, p, o, e);
            for s in &ids {
                for p in Property::ALL {
                    assert_eq!(table.has_from(s, p), kn.has_relation_from(s, p));
                    let first = kn
                        .relations
                        .keys()
                        .find(|k| k.property == p && &k.subject == s)
                        .map(|k| &k.object);
                    assert_eq!(table.first_object(s, p), first);
                    for o in &ids {
                        let key = RelationKey {
                            subject: s.clone(),
                            property: p,
                            object: o.clone(),
                        };
                        assert_eq!(table.contains(s, p, o), kn.relations.contains_key(&key));
                    }
                }
            }
        }
        let map = table.into_map();
        assert_eq!(map.len(), kn.relations.len());
        for ((k1, r1), (k2, r2)) in map.iter().zip(&kn.relations) {
            assert_eq!(k1, k2);
            assert_eq!(&r1.key, &r2.key);
            assert_eq!(r1.evidence, r2.evidence);
        }
    }

    #[test]
    fn relation_from_a_subject_is_found_by_range() {
        let mut kn = Knowledge::default();
        let unit = EntityId::new(EntityClass::Agency, "开鲁县公安局禁毒大队");
        let body = EntityId::new(EntityClass::Agency, "开鲁县公安局");
        let place = EntityId::new(EntityClass::Region, "150523");
        kn.add_relation(unit.clone(), Property::LocatedIn, place.clone(), None);
        assert!(kn.has_relation_from(&unit, Property::LocatedIn));
        assert!(!kn.has_relation_from(&unit, Property::SubOrganizationOf));
        assert!(!kn.has_relation_from(&body, Property::LocatedIn));
        kn.add_relation(
            unit.clone(),
            Property::SubOrganizationOf,
            body.clone(),
            None,
        );
        kn.add_relation(body.clone(), Property::LocatedIn, place, None);
        assert!(kn.has_relation_from(&unit, Property::SubOrganizationOf));
        assert!(kn.has_relation_from(&body, Property::LocatedIn));
        assert!(!kn.has_relation_from(&body, Property::SubOrganizationOf));
    }
}
