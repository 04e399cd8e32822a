"""The Salesforce field definition: what describe says of a field, and how one is built.

``FieldDef`` is the unit every object schema is made of (``sf_schema``,
``sf_schema_setup``): its ``describe()`` is the field as the describe call shows it, and
``field_from_metadata`` builds one from a Tooling ``CustomField`` body (what tierwise's
``provision`` sends). Kept apart from the object schemas so the per-object field lists
read on their own, and so the Tooling route needs only this module.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

NUMERIC_TYPES = frozenset({"double", "int", "currency", "percent"})
TEXT_TYPES = frozenset({"string", "textarea", "url", "picklist", "multipicklist", "email", "phone"})
SOAP_TYPES = {
    "id": "tns:ID",
    "reference": "tns:ID",
    "string": "xsd:string",
    "textarea": "xsd:string",
    "url": "xsd:string",
    "picklist": "xsd:string",
    "multipicklist": "xsd:string",
    "email": "xsd:string",
    "phone": "xsd:string",
    "boolean": "xsd:boolean",
    "double": "xsd:double",
    "currency": "xsd:double",
    "percent": "xsd:double",
    "int": "xsd:int",
    "date": "xsd:date",
    "datetime": "xsd:dateTime",
}


@dataclass
class FieldDef:
    name: str
    type: str
    label: str = ""
    length: int = 0
    custom: bool = False
    updateable: bool = True
    createable: bool = True
    nillable: bool = True
    external_id: bool = False
    unique: bool = False
    picklist: Sequence[str] = ()
    restricted: bool = False
    reference_to: Sequence[str] = ()
    precision: int = 0
    scale: int = 0
    default: Any = None
    hidden: bool = False  # created but not yet readable (no field-level security)
    extra: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        text = self.type in TEXT_TYPES or self.type in ("id", "reference")
        return {
            "name": self.name,
            "label": self.label or self.name.removesuffix("__c").replace("_", " "),
            "type": self.type,
            "soapType": SOAP_TYPES.get(self.type, "xsd:string"),
            "length": self.length if text else 0,
            "byteLength": self.length * 3 if text else 0,
            "precision": self.precision,
            "scale": self.scale,
            "digits": 9 if self.type == "int" else 0,
            "custom": self.custom,
            "updateable": self.updateable,
            "createable": self.createable,
            "nillable": self.nillable,
            "externalId": self.external_id,
            "unique": self.unique,
            "idLookup": self.name == "Id" or self.external_id,
            "filterable": self.type != "textarea" or self.length <= 255,
            "sortable": self.type not in ("multipicklist", "textarea"),
            "calculated": False,
            "defaultedOnCreate": not self.nillable and not self.createable,
            "defaultValue": self.default,
            "restrictedPicklist": self.restricted,
            "picklistValues": [
                {
                    "active": True,
                    "defaultValue": value == self.default,
                    "label": value,
                    "value": value,
                    "validFor": None,
                }
                for value in self.picklist
            ],
            "referenceTo": list(self.reference_to),
            "relationshipName": (
                self.name[:-2] if self.type == "reference" and self.name.endswith("Id") else None
            ),
        }


def ro_field(name: str, ftype: str, label: str, length: int = 0) -> FieldDef:
    return FieldDef(name, ftype, label, length, nillable=False, updateable=False, createable=False)


def system_fields() -> list[FieldDef]:
    return [
        ro_field("Id", "id", "Record ID", 18),
        ro_field("CreatedDate", "datetime", "Created Date"),
        ro_field("LastModifiedDate", "datetime", "Last Modified Date"),
        ro_field("SystemModstamp", "datetime", "System Modstamp"),
        ro_field("IsDeleted", "boolean", "Deleted"),
    ]


# Tooling Metadata "type" -> (describe type, default length)
METADATA_TYPES = {
    "Text": ("string", 255),
    "TextArea": ("textarea", 255),
    "LongTextArea": ("textarea", 32768),
    "Url": ("url", 255),
    "Email": ("email", 80),
    "Phone": ("phone", 40),
    "Number": ("double", 0),
    "Currency": ("currency", 0),
    "Percent": ("percent", 0),
    "Checkbox": ("boolean", 0),
    "Date": ("date", 0),
    "DateTime": ("datetime", 0),
    "Picklist": ("picklist", 255),
    "MultiselectPicklist": ("multipicklist", 4099),
}


def field_from_metadata(name: str, meta: dict[str, Any]) -> FieldDef:
    """Build a field from Tooling ``CustomField`` Metadata; raises ValueError when invalid."""
    mtype = meta.get("type")
    if mtype not in METADATA_TYPES:
        raise ValueError(f"Invalid type: {mtype}")
    ftype, default_length = METADATA_TYPES[mtype]
    values: list[str] = []
    restricted = False
    if ftype in ("picklist", "multipicklist"):
        value_set = meta.get("valueSet") or {}
        restricted = bool(value_set.get("restricted"))
        definition = value_set.get("valueSetDefinition") or {}
        values = [str(v.get("fullName")) for v in definition.get("value") or []]
        if not values:
            raise ValueError("Picklist must have at least one value")
    label = meta.get("label")
    if not label:
        raise ValueError("Required field missing: label")
    length = int(meta.get("length") or default_length)
    if ftype == "string" and not 1 <= length <= 255:
        raise ValueError("Length must be between 1 and 255")
    return FieldDef(
        name,
        ftype,
        str(label),
        length,
        custom=True,
        nillable=ftype != "boolean",
        external_id=bool(meta.get("externalId")),
        unique=bool(meta.get("unique")),
        picklist=tuple(values),
        restricted=restricted,
        precision=int(meta.get("precision") or 0),
        scale=int(meta.get("scale") or 0),
        default=False if ftype == "boolean" else None,
    )
