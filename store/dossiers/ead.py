"""The descriptive metadata of a package: EAD.xml (the dossier's 18 TT 05 elements) and
EAD_doc_<n>.xml (a document's 21), with the XML schema that checks them.

Element names are those of the circular. A coded element carries the code as its value and
the Vietnamese label in a `label` attribute; the schema lists every code as an enumeration
with its label, so a receiving archive can check the files without sohoa. Every element is
written, empty when the value is unknown. Dates are DD/MM/YYYY, booleans 1/0. The circular's
own sample schema is not public in a form we could ship; this one follows its tables.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from lxml import etree

from schemas.dossier import Dossier, DossierDocument, PackageKind
from schemas.tt05 import (
    AccessMode,
    ConfidenceLevel,
    Language,
    Maintenance,
    PhysicalState,
    RiskRecoveryStatus,
    label,
    type_names,
)
from store.dossiers.naming import arc_doc_code, doc_id

SCHEMA_FILE = "TT05_2025.xsd"
_XS = "http://www.w3.org/2001/XMLSchema"
_XSI = "http://www.w3.org/2001/XMLSchema-instance"

#: (element, type in the schema, max length or None, repeats) for the dossier, in order
DOSSIER_ELEMENTS = [
    ("fileCode", "text", 100, False),
    ("title", "text", 1000, False),
    ("maintenance", "Maintenance", None, False),
    ("mode", "AccessMode", None, False),
    ("language", "Language", None, True),
    ("startDate", "date", None, False),
    ("endDate", "date", None, False),
    ("keyword", "text", 100, False),
    ("totalDoc", "count", None, False),
    ("numberOfPaper", "count", None, False),
    ("numberOfPage", "count", None, False),
    ("format", "PhysicalState", None, False),
    ("inforSign", "text", 30, False),
    ("confidenceLevel", "ConfidenceLevel", None, False),
    ("paperFileCode", "text", 100, False),
    ("riskRecovery", "flag", None, False),
    ("riskRecoveryStatus", "RiskRecoveryStatus", None, False),
    ("description", "text", 2000, False),
]

#: the same for a document; `docCode` is `arcDocCode` in an archival package
DOCUMENT_ELEMENTS = [
    ("docId", "text", 100, False),
    ("docCode", "text", 100, False),
    ("maintenance", "Maintenance", None, False),
    ("typeName", "TypeName", None, False),
    ("codeNumber", "text", 11, False),
    ("codeNotation", "text", 30, False),
    ("issuedDate", "date", None, False),
    ("organName", "text", 200, False),
    ("subject", "text", 500, False),
    ("language", "Language", None, True),
    ("numberOfPage", "pages", None, False),
    ("inforSign", "text", 30, False),
    ("keyword", "text", 100, False),
    ("mode", "AccessMode", None, False),
    ("confidenceLevel", "ConfidenceLevel", None, False),
    ("autograph", "text", 2000, False),
    ("format", "PhysicalState", None, False),
    ("riskRecovery", "flag", None, False),
    ("riskRecoveryStatus", "RiskRecoveryStatus", None, False),
    ("process", "flag", None, False),
    ("description", "text", 500, False),
]

_CODE_LISTS: dict[str, type[StrEnum]] = {
    "Maintenance": Maintenance,
    "AccessMode": AccessMode,
    "Language": Language,
    "PhysicalState": PhysicalState,
    "ConfidenceLevel": ConfidenceLevel,
    "RiskRecoveryStatus": RiskRecoveryStatus,
}


@dataclass(frozen=True)
class DossierTotals:
    """What a dossier's documents decide: counts and the first and last dates."""

    total_doc: int
    number_of_page: int
    start_date: date | None
    end_date: date | None


def dossier_totals(dossier: Dossier, documents: list[DossierDocument]) -> DossierTotals:
    dates = [d.issued_date for d in documents if d.issued_date]
    return DossierTotals(
        total_doc=len(documents),
        number_of_page=sum(d.number_of_page for d in documents),
        start_date=min(dates) if dates else dossier.start_date,
        end_date=max(dates) if dates else dossier.end_date,
    )


def dossier_xml(dossier: Dossier, totals: DossierTotals) -> bytes:
    """EAD.xml: the dossier's 18 elements."""
    values = {
        "fileCode": dossier.file_code,
        "title": dossier.title,
        "maintenance": dossier.maintenance,
        "mode": dossier.mode,
        "language": dossier.languages,
        "startDate": totals.start_date,
        "endDate": totals.end_date,
        "keyword": dossier.keyword,
        "totalDoc": totals.total_doc,
        "numberOfPaper": dossier.number_of_paper,
        "numberOfPage": totals.number_of_page,
        "format": dossier.format,
        "inforSign": dossier.infor_sign,
        "confidenceLevel": dossier.confidence_level,
        "paperFileCode": dossier.paper_file_code,
        "riskRecovery": dossier.risk_recovery,
        "riskRecoveryStatus": dossier.risk_recovery_status,
        "description": dossier.description,
    }
    return _document("hoSo", DOSSIER_ELEMENTS, values, {}, f"../../schemas/{SCHEMA_FILE}")


def document_xml(dossier: Dossier, document: DossierDocument, kind: PackageKind) -> bytes:
    """EAD_doc_<n>.xml: one document's 21 elements (`docCode` in a SIP, else `arcDocCode`)."""
    values = {
        "docId": doc_id(dossier, document),
        "docCode": arc_doc_code(dossier, document),
        "maintenance": document.maintenance or dossier.maintenance,
        "typeName": document.type_code,
        "codeNumber": document.code_number,
        "codeNotation": document.code_notation,
        "issuedDate": document.issued_date,
        "organName": document.organ_name,
        "subject": document.subject,
        "language": document.languages,
        "numberOfPage": document.number_of_page,
        "inforSign": document.infor_sign,
        "keyword": document.keyword,
        "mode": document.mode,
        "confidenceLevel": document.confidence_level,
        "autograph": document.autograph,
        "format": document.format,
        "riskRecovery": document.risk_recovery,
        "riskRecoveryStatus": document.risk_recovery_status,
        "process": document.process,
        "description": document.description,
    }
    renames = {} if kind == PackageKind.sip else {"docCode": "arcDocCode"}
    schema = f"../../../../schemas/{SCHEMA_FILE}"  # from representations/rep1/metadata/…
    return _document("taiLieu", DOCUMENT_ELEMENTS, values, renames, schema)


def _document(
    root_name: str,
    elements: list[tuple[str, str, int | None, bool]],
    values: Mapping[str, object],
    renames: dict[str, str],
    schema_location: str,
) -> bytes:
    root = etree.Element(root_name, nsmap={"xsi": _XSI})
    root.set(f"{{{_XSI}}}noNamespaceSchemaLocation", schema_location)
    for name, kind, _, repeats in elements:
        value = values[name]
        items = value if repeats else [value]
        assert isinstance(items, list)  # a repeated element's values come as a list
        for item in items:
            element = etree.SubElement(root, renames.get(name, name))
            element.text = _text(item)
            if isinstance(item, StrEnum):
                element.set("label", label(item))
            elif kind == "TypeName" and item:
                element.set("label", type_names()[str(item)])
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, StrEnum):
        return value.value
    return str(value)


def tt05_schema() -> bytes:
    """The XML schema of EAD.xml and EAD_doc_<n>.xml, made from the code lists above."""
    xs = f"{{{_XS}}}"
    schema = etree.Element(xs + "schema", nsmap={"xs": _XS})
    schema.set("elementFormDefault", "qualified")
    doc = etree.SubElement(etree.SubElement(schema, xs + "annotation"), xs + "documentation")
    doc.text = "Circular 05/2025/TT-BNV: dossier (hoSo) and document (taiLieu) metadata."
    _simple(schema, "date", pattern=r"((0[1-9]|[12][0-9]|3[01])/(0[1-9]|1[0-2])/[0-9]{4})?")
    _simple(schema, "count", pattern=r"([0-9]{1,10})?")
    _simple(schema, "pages", pattern=r"[0-9]{1,4}")
    _simple(schema, "flag", pattern=r"[01]?")
    lists = {name: {c.value: label(c) for c in codes} for name, codes in _CODE_LISTS.items()}
    lists["TypeName"] = type_names()
    for name, codes in lists.items():
        _coded(schema, name, codes)
    for root_name, elements in (("hoSo", DOSSIER_ELEMENTS), ("taiLieu", DOCUMENT_ELEMENTS)):
        top = etree.SubElement(schema, xs + "element", name=root_name)
        sequence = etree.SubElement(etree.SubElement(top, xs + "complexType"), xs + "sequence")
        for name, kind, length, repeats in elements:
            if name == "docCode":
                choice = etree.SubElement(sequence, xs + "choice")
                for alias in ("docCode", "arcDocCode"):
                    _element(choice, alias, kind, length, repeats)
            else:
                _element(sequence, name, kind, length, repeats)
    return etree.tostring(schema, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _simple(schema: etree._Element, name: str, *, pattern: str) -> None:
    xs = f"{{{_XS}}}"
    simple = etree.SubElement(schema, xs + "simpleType", name=name)
    restriction = etree.SubElement(simple, xs + "restriction", base="xs:string")
    etree.SubElement(restriction, xs + "pattern", value=pattern)


def _coded(schema: etree._Element, name: str, codes: dict[str, str]) -> None:
    """A coded element: the code (or empty) as text, its label in `label`."""
    xs = f"{{{_XS}}}"
    code_type = etree.SubElement(schema, xs + "simpleType", name=f"{name}Code")
    restriction = etree.SubElement(code_type, xs + "restriction", base="xs:string")
    for code, text in ["", ""], *codes.items():
        value = etree.SubElement(restriction, xs + "enumeration", value=code)
        if text:
            note = etree.SubElement(
                etree.SubElement(value, xs + "annotation"), xs + "documentation"
            )
            note.set("{http://www.w3.org/XML/1998/namespace}lang", "vi")
            note.text = text
    complex_type = etree.SubElement(schema, xs + "complexType", name=name)
    content = etree.SubElement(complex_type, xs + "simpleContent")
    extension = etree.SubElement(content, xs + "extension", base=f"{name}Code")
    etree.SubElement(extension, xs + "attribute", name="label", type="xs:string")


def _element(
    parent: etree._Element, name: str, kind: str, length: int | None, repeats: bool
) -> etree._Element:
    xs = f"{{{_XS}}}"
    element = etree.SubElement(parent, xs + "element", name=name)
    if repeats:
        element.set("maxOccurs", "unbounded")
    if kind == "text":
        simple = etree.SubElement(element, xs + "simpleType")
        restriction = etree.SubElement(simple, xs + "restriction", base="xs:string")
        etree.SubElement(restriction, xs + "maxLength", value=str(length))
    else:
        element.set("type", kind)
    return element
