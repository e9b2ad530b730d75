"""PREMIS.xml of an archival package: the files (SHA-256, size, format), what happened to
each document (digitization, OCR, classification, each correction, signing) and who did it.

PREMIS 3.0, elements in the order its schema fixes. Event types are the Library of Congress
preservation vocabulary's where it has one, plain words otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from lxml import etree

from schemas.dossier import Agent, AgentKind, DossierEvent, EventKind
from store.dossiers.mets import SOFTWARE, PackedFile
from store.dossiers.naming import derived_id

PREMIS = "http://www.loc.gov/premis/v3"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
_LOCATION = f"{PREMIS} https://www.loc.gov/standards/premis/v3/premis.xsd"
EVENT_TYPES = {
    EventKind.digitization: "digitization",
    EventKind.ocr: "optical character recognition",
    EventKind.classification: "metadata extraction",
    EventKind.correction: "metadata modification",
    EventKind.signing: "digital signature generation",
}
#: PRONOM identifiers of the PDF/A profiles a digitized copy may claim
PRONOM = {"PDF/A-1b": "fmt/354", "PDF/A-1a": "fmt/95", "PDF/A-2a": "fmt/476",
          "PDF/A-2b": "fmt/477", "PDF/A-2u": "fmt/478"}  # fmt: skip


def _q(name: str) -> str:
    return f"{{{PREMIS}}}{name}"


def _add(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, _q(name))
    if text is not None:
        element.text = text
    return element


def _identifier(parent: etree._Element, name: str, value: str) -> None:
    """`<nameIdentifier>` with its type (UUID) and value; name is object, event or agent."""
    holder = _add(parent, f"{name}Identifier")
    _add(holder, f"{name}IdentifierType", "UUID")
    _add(holder, f"{name}IdentifierValue", value)


def preservation_xml(
    package_id: str,
    files: Sequence[tuple[PackedFile, str, int | None]],
    events: Sequence[DossierEvent],
    archive: Agent,
    created: datetime,
) -> bytes:
    """`files`: each PDF with the format it claims (PDF/A-2b) and the ordinal of its document
    (None for a file of the whole dossier)."""
    root = etree.Element(_q("premis"), nsmap={"premis": PREMIS, "xsi": XSI}, version="3.0")
    root.set(f"{{{XSI}}}schemaLocation", _LOCATION)
    for file, format_name, _ in files:
        obj = _add(root, "object")
        obj.set(f"{{{XSI}}}type", "premis:file")
        _identifier(obj, "object", file.id)
        characteristics = _add(obj, "objectCharacteristics")
        _add(characteristics, "compositionLevel", "0")
        fixity = _add(characteristics, "fixity")
        _add(fixity, "messageDigestAlgorithm", "SHA-256")
        _add(fixity, "messageDigest", file.sha256)
        _add(characteristics, "size", str(file.size))
        form = _add(characteristics, "format")
        _add(_add(form, "formatDesignation"), "formatName", format_name)
        if format_name in PRONOM:
            registry = _add(form, "formatRegistry")
            _add(registry, "formatRegistryName", "PRONOM")
            _add(registry, "formatRegistryKey", PRONOM[format_name])
        _add(obj, "originalName", file.path.rsplit("/", 1)[-1])

    software = Agent(name=SOFTWARE[0], kind=AgentKind.software, identifier=SOFTWARE[1])
    agents: dict[tuple, str] = {}

    def agent_id(agent: Agent) -> str:
        key = (agent.kind, agent.name, agent.identifier)
        return agents.setdefault(key, derived_id(package_id, f"agent/{key}"))

    by_ordinal = {ordinal: file.id for file, _, ordinal in files if ordinal is not None}
    whole = [file.id for file, _, ordinal in files if ordinal is None]
    for index, event in enumerate(sorted(events, key=lambda e: e.at)):
        linked = [by_ordinal[event.ordinal]] if event.ordinal in by_ordinal else whole
        _event(root, derived_id(package_id, f"event/{index}"), EVENT_TYPES[event.kind],
               event.at, event.detail, event.outcome, agent_id(event.agent),
               _role(event.agent), linked)  # fmt: skip
    _event(root, derived_id(package_id, "event/package"), "information package creation",
           created, f"{len(files)} file(s)", "success", agent_id(software), "executing program",
           [file.id for file, _, _ in files])  # fmt: skip
    agent_id(archive)
    for (kind, name, identifier), value in agents.items():
        agent = _add(root, "agent")
        _identifier(agent, "agent", value)
        _add(agent, "agentName", name)
        _add(agent, "agentType", {"person": "person", "organization": "organization"}.get(
            kind, "software"))  # fmt: skip
        if kind == AgentKind.software and identifier:
            _add(agent, "agentVersion", identifier)
        elif identifier:
            _add(agent, "agentNote", identifier)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _role(agent: Agent) -> str:
    return "executing program" if agent.kind == AgentKind.software else "implementer"


def _event(
    root: etree._Element,
    identifier: str,
    kind: str,
    at: datetime,
    detail: str | None,
    outcome: str,
    agent: str,
    role: str,
    objects: list[str],
) -> None:
    event = _add(root, "event")
    _identifier(event, "event", identifier)
    _add(event, "eventType", kind)
    _add(event, "eventDateTime", at.isoformat(timespec="seconds"))
    if detail:
        _add(_add(event, "eventDetailInformation"), "eventDetail", detail)
    _add(_add(event, "eventOutcomeInformation"), "eventOutcome", outcome)
    link = _add(event, "linkingAgentIdentifier")
    _add(link, "linkingAgentIdentifierType", "UUID")
    _add(link, "linkingAgentIdentifierValue", agent)
    _add(link, "linkingAgentRole", role)
    for value in objects:
        linked = _add(event, "linkingObjectIdentifier")
        _add(linked, "linkingObjectIdentifierType", "UUID")
        _add(linked, "linkingObjectIdentifierValue", value)
