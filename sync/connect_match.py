"""How alike an org's field is to a model input: names, synonyms, types, fill rate.

``tierwise connect`` (``tierwise.sync.connect``) proposes fields for inputs an org does
not map; this module ranks the candidates. A field's API name and label are split into
word stems and compared with the input's name and its synonyms (a customer's
``Bombora_Composite_Score__c`` is an intent score); its type must be able to feed the
input; a fuller field (in the sampled records) ranks higher. Pure: it reads
``tierwise.connectors.inventory`` records only.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from tierwise.connectors.inventory import FieldInfo


def _stem(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


# Groups of words that name the same thing in CRM field names (stems, lower case).
SYNONYMS: tuple[frozenset[str], ...] = tuple(
    frozenset(_stem(word) for word in group.split())
    for group in (
        "intent bombora buying topic spike surge",
        "visit session traffic pageview view",
        "web website site online analytics",
        "tech technology technographic stack tool",
        "funding raised raise round investment capital series",
        "amount total value sum usd money",
        "risk credit churn danger",
        "payment credit billing pay",
        "competitor competitive competition rival",
        "customer client install installed user",
        "health sentiment nps wellness",
        "adoption usage utilization adopt pct percent",
        "product platform app feature",
        "score rating index composite grade rank",
        "employee headcount staff fte size",
        "revenue arr sale turnover income",
        "annual yearly year",
        "activity contacted touch engagement engaged",
        "last latest recent most",
        "date day timestamp time",
        "pipeline deal opportunity opp",
        "open active",
        "industry vertical sector",
        "country nation geo region",
    )
)
# Words that say little about what a field holds: they count half.
GENERIC = frozenset(
    (
        "score",
        "date",
        "last",
        "amount",
        "total",
        "value",
        "product",
        "customer",
        "count",
        "time",
        "day",
        "open",
    )
)
STOP = frozenset(("c", "hs", "of", "the", "a", "an", "num", "number", "no", "is"))
# Fields never proposed for a model input: identity and system fields.
IDENTITY = frozenset(
    {
        "Id",
        "Name",
        "OwnerId",
        "Website",
        "SystemModstamp",
        "CreatedDate",
        "LastModifiedDate",
        "IsDeleted",
        "CreatedById",
        "LastModifiedById",
        "hs_object_id",
        "hs_lastmodifieddate",
        "createdate",
        "name",
        "domain",
        "hubspot_owner_id",
    }
)
# (wanted kind, field kind) -> how well the field can feed the input; 1 = same kind.
TYPE_FIT: Mapping[tuple[str, str], float] = {
    ("number", "string"): 0.5,  # text holding amounts ("$12.5M"), parsed leniently
    ("list", "string"): 0.5,  # a ';'-separated text
    ("string", "list"): 0.3,
    ("bool", "string"): 0.3,  # a Yes/No picklist
    ("date", "string"): 0.2,
}
CONFIDENT_SIMILARITY = 0.6
TOP = 3


def tokens(text: str) -> list[str]:
    """``Bombora_Composite_Score__c`` -> ``[bombora, composite, score]``; labels too."""
    text = re.sub(r"__c$", "", text)
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", text)
    words = re.split(r"[^A-Za-z0-9]+", text.lower())
    return [_stem(w) for w in words if w and w not in STOP]


def _word_match(want: str, have: str) -> float:
    if want == have:
        return 1.0
    if any(want in group and have in group for group in SYNONYMS):
        return 0.8
    if min(len(want), len(have)) >= 5 and want[:5] == have[:5]:
        return 0.6
    return 0.0


def similarity(input_name: str, info: FieldInfo) -> float:
    """0..1: mostly the weighted share of the input's words found (or a synonym found)
    in the field's API name or label, a little the share of the field's words accounted
    for (``Number of open deals`` fits ``open_deals`` better than ``Total open deal
    value``). A field matching only generic words (last, date, score) counts half."""
    wanted = tokens(input_name)
    have = set(tokens(info.name)) | set(tokens(info.label))
    if not wanted or not have:
        return 0.0
    total = score = 0.0
    specific = False
    for word in wanted:
        generic = word in GENERIC or word[:1].isdigit()
        weight = 0.5 if generic else 1.0
        best = max(_word_match(word, h) for h in have)
        total += weight
        score += weight * best
        specific = specific or (best > 0 and not generic)
    covered = sum(1 for h in have if any(_word_match(w, h) > 0 for w in wanted)) / len(have)
    result = 0.85 * score / total + 0.15 * covered
    has_specific = any(w not in GENERIC and not w[:1].isdigit() for w in wanted)
    return result / 2 if has_specific and not specific else result


def type_fit(wanted: str, kind: str | None) -> float:
    if kind is None:
        return 0.0
    return 1.0 if wanted == kind else TYPE_FIT.get((wanted, kind), 0.0)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A field that could feed a model input, with why it ranks where it does."""

    name: str
    label: str
    crm_type: str
    kind: str | None
    fill_rate: float | None
    similarity: float
    type_fit: float
    score: float

    @property
    def confident(self) -> bool:
        return (
            self.similarity >= CONFIDENT_SIMILARITY
            and self.type_fit == 1.0
            and self.fill_rate != 0.0
        )


def rank(
    input_name: str,
    kind: str,
    fields: Iterable[FieldInfo],
    *,
    exclude: Collection[str] = (),
    top: int = TOP,
) -> list[Candidate]:
    """The best ``top`` fields for one input, best first (ties: by name, stable)."""
    found: list[Candidate] = []
    for info in fields:
        if info.name in exclude or info.name in IDENTITY or not info.readable:
            continue
        sim, fit = similarity(input_name, info), type_fit(kind, info.kind)
        if sim <= 0.0 or fit <= 0.0:
            continue
        fill = 0.5 if info.fill_rate is None else info.fill_rate
        found.append(
            Candidate(
                info.name,
                info.label,
                info.crm_type,
                info.kind,
                info.fill_rate,
                round(sim, 3),
                fit,
                round(0.6 * sim + 0.25 * fit + 0.15 * fill, 3),
            )
        )
    found.sort(key=lambda c: (-c.score, c.name))
    return found[:top]
