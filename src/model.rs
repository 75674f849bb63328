//! The knowledge model: entities, relations, statistics and their provenance.
//!
//! In: what the extraction stage resolved, article by article. Out: one
//! [`Knowledge`] value that every sink (petgraph, the RDF store, exports,
//! the evaluator) reads. It knows nothing of petgraph or RDF.

use std::borrow::Cow;
use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

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
        match self.entities.get_mut(&id) {
            Some(existing) => {
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
                existing.alt_labels.remove(&existing.label.clone());
            }
            None => {
                let mut entity = entity;
                entity.alt_labels.remove(&entity.label.clone());
                self.entities.insert(id.clone(), entity);
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
        if subject == object {
            return;
        }
        let (subject, object) = if property.is_symmetric() && object < subject {
            (object, subject)
        } else {
            (subject, object)
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

/// Serialises a map by its values (JSON keys must be strings; the values
/// carry their keys).
/// Inserts `item` into `sorted` (ascending, without duplicates) where it
/// belongs, unless it is there already: what pushing, sorting and skipping
/// duplicates gives, without sorting the whole list on every insertion (a
/// relation read in many sentences collects many records).
pub fn insert_sorted_unique<T: Ord>(sorted: &mut Vec<T>, item: T) {
    // Most items come in order (the facts of a page are read in text
    // order): one comparison with the last puts them at the end.
    if sorted.last().is_none_or(|last| *last < item) {
        sorted.push(item);
    } else if let Err(at) = sorted.binary_search(&item) {
        sorted.insert(at, item);
    }
}

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
