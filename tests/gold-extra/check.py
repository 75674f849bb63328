#!/usr/bin/env python3
"""Sanity check for the hand-made gold files in tests/gold-extra/.

Usage: python3 tests/gold-extra/check.py   (from the repository root or anywhere)

Checks, per NAME.json:
  - the JSON parses and has exactly source / entities / relations / statistics;
  - "source" is NAME.txt and that file exists; the text decodes as UTF-8 or GBK;
  - entity types are the contract's classes; labels are unique per file;
  - every Region "code" is in data/regions.tsv with exactly that name;
    a Region without code that is not optional is in data/foreign_regions.tsv;
  - every relation property is a contract property, with both ends listed labels
    of the right classes (Agency -> Region for locatedIn, and so on);
  - every statistic metric is one of the contract's nine, value is a number,
    drug / reportedBy (if given) are listed labels;
  - warns when neither the label nor any accept form of an entity occurs in the
    text (after a Traditional->Simplified pass with data/t2s.tsv), which is
    expected only for labels that expand a written short form.
Exit status 1 on any error.
"""
import json
import os
import sys
import unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DATA = os.path.join(ROOT, "data")

TYPES = {"Agency", "Region", "Campaign", "Case", "Drug"}
METRICS = {"casesSolved", "suspectsArrested", "drugUsersFound", "drugsSeized",
           "precursorsSeized", "gangsDestroyed", "labsDestroyed",
           "plantsEradicated", "moneySeized"}
PROPS = {
    "locatedIn": ({"Agency"}, {"Region"}),
    "subOrganizationOf": ({"Agency"}, {"Agency"}),
    "participatesIn": ({"Agency"}, {"Campaign"}),
    "handledBy": ({"Case"}, {"Agency"}),
    "occurredIn": ({"Case"}, {"Region"}),
    "underCampaign": ({"Case"}, {"Campaign"}),
    "cooperatesWith": ({"Agency"}, {"Agency"}),
    "involvesDrug": ({"Case"}, {"Drug"}),
    "partOf": ({"Region", "Campaign"}, {"Region", "Campaign"}),
}


def load_tsv(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            rows.append(line.rstrip("\n").split("\t"))
    return rows


def main():
    codes = {r[0]: r[1] for r in load_tsv(os.path.join(DATA, "regions.tsv"))}
    foreign = {r[0] for r in load_tsv(os.path.join(DATA, "foreign_regions.tsv"))}
    t2s = {}
    for r in load_tsv(os.path.join(DATA, "t2s.tsv")):
        if len(r) >= 2 and len(r[0]) == 1:
            t2s[r[0]] = r[1]

    errors, warnings = [], []
    totals = {"files": 0, "entities": 0, "required": 0, "relations": 0, "statistics": 0}
    for fn in sorted(os.listdir(HERE)):
        if not fn.endswith(".json"):
            continue
        base = fn[:-5]
        path = os.path.join(HERE, fn)

        def err(msg):
            errors.append(f"{fn}: {msg}")

        try:
            with open(path, encoding="utf-8") as f:
                doc = json.load(f)
        except Exception as e:  # noqa: BLE001
            err(f"does not parse: {e}")
            continue
        totals["files"] += 1
        if set(doc) != {"source", "entities", "relations", "statistics"}:
            err(f"top-level keys {sorted(doc)}")
        if doc.get("source") != base + ".txt":
            err(f"source {doc.get('source')!r} != {base}.txt")
        txt_path = os.path.join(HERE, base + ".txt")
        text = ""
        if not os.path.exists(txt_path):
            err("source text missing")
        else:
            raw = open(txt_path, "rb").read()
            for enc in ("utf-8", "gbk"):
                try:
                    text = raw.decode(enc)
                    break
                except UnicodeDecodeError:
                    continue
            else:
                err("text decodes neither as UTF-8 nor GBK")
        simp = unicodedata.normalize("NFKC", "".join(t2s.get(c, c) for c in text))
        norm_text = simp.replace("“", "").replace("”", "")

        kinds = {}
        for e in doc.get("entities", []):
            totals["entities"] += 1
            t, label = e.get("type"), e.get("label")
            if t not in TYPES:
                err(f"bad type {t!r} for {label!r}")
            if not label:
                err(f"entity without label: {e}")
                continue
            if label in kinds:
                err(f"duplicate label {label!r}")
            kinds[label] = t
            extra = set(e) - {"type", "label", "code", "accept", "optional"}
            if extra:
                err(f"unknown keys {extra} in {label!r}")
            if not e.get("optional"):
                totals["required"] += 1
            if "code" in e:
                if t != "Region":
                    err(f"code on non-Region {label!r}")
                elif codes.get(e["code"]) != label:
                    err(f"code {e['code']} is {codes.get(e['code'])!r} in regions.tsv, not {label!r}")
            elif t == "Region" and not e.get("optional"):
                if label not in foreign:
                    err(f"required Region {label!r} has no code and is not in foreign_regions.tsv")
                if label in codes.values():
                    err(f"Region {label!r} is in regions.tsv but has no code")
            forms = [label] + list(e.get("accept", []))
            if text and not any(
                unicodedata.normalize("NFKC", "".join(t2s.get(c, c) for c in fm)).replace("“", "").replace("”", "") in norm_text
                for fm in forms
            ):
                warnings.append(f"{fn}: no written form of {t} {label!r} found verbatim in text")

        for r in doc.get("relations", []):
            totals["relations"] += 1
            if not (isinstance(r, list) and len(r) == 3):
                err(f"bad relation {r!r}")
                continue
            s, p, o = r
            if p not in PROPS:
                err(f"unknown property {p!r}")
                continue
            for end, allowed in ((s, PROPS[p][0]), (o, PROPS[p][1])):
                if end not in kinds:
                    err(f"relation end {end!r} is not a listed label ({r})")
                elif kinds[end] not in allowed:
                    err(f"relation {r}: {end!r} is {kinds[end]}, expected {allowed}")
            if p == "partOf" and s in kinds and o in kinds and kinds[s] != kinds[o]:
                err(f"partOf across classes {r}")
        seen = set()
        for r in doc.get("relations", []):
            key = tuple(r) if r[1] != "cooperatesWith" else (frozenset((r[0], r[2])), r[1])
            if key in seen:
                err(f"duplicate relation {r}")
            seen.add(key)

        for st in doc.get("statistics", []):
            totals["statistics"] += 1
            if st.get("metric") not in METRICS:
                err(f"unknown metric {st.get('metric')!r}")
            if not isinstance(st.get("value"), (int, float)) or isinstance(st.get("value"), bool):
                err(f"value not a number: {st}")
            for k in ("drug", "reportedBy"):
                if k in st and st[k] not in kinds:
                    err(f"statistic {k} {st[k]!r} is not a listed label")
            if "drug" in st and kinds.get(st["drug"]) != "Drug":
                err(f"statistic drug {st['drug']!r} is not a Drug")
            extra = set(st) - {"metric", "value", "approximate", "drug", "reportedBy",
                               "periodStart", "periodEnd", "periodText"}
            if extra:
                err(f"unknown statistic keys {extra}")

    for w in warnings:
        print("warning:", w)
    for e in errors:
        print("ERROR:", e)
    print("totals:", totals)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
