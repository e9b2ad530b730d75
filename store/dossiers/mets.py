"""METS.xml of a package and of its representation, in the E-ARK CSIP 2.0.4 shape that
Circular 05/2025/TT-BNV profiles: files with their size, creation time and SHA-256 (upper-case
hex), metadata referenced by URL, a CSIP structural map.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from lxml import etree

from schemas.dossier import Agent, PackageKind
from store.dossiers.naming import derived_id

METS = "http://www.loc.gov/METS/"
XLINK = "http://www.w3.org/1999/xlink"
CSIP = "https://DILCIS.eu/XML/METS/CSIPExtensionMETS"
SIP = "https://DILCIS.eu/XML/METS/SIPExtensionMETS"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
_NS = {"mets": METS, "xlink": XLINK, "csip": CSIP, "sip": SIP, "xsi": XSI}
_LOCATION = (
    f"{METS} http://www.loc.gov/standards/mets/mets.xsd "
    f"{XLINK} http://www.loc.gov/standards/mets/xlink.xsd "
    f"{CSIP} https://earkcsip.dilcis.eu/schema/DILCISExtensionMETS.xsd "
    f"{SIP} https://earksip.dilcis.eu/schema/DILCISExtensionSIPMETS.xsd"
)
PROFILES = {
    PackageKind.sip: "https://earksip.dilcis.eu/profile/E-ARK-SIP.xml",
    PackageKind.aip: "https://earkaip.dilcis.eu/profile/E-ARK-AIP.xml",
    PackageKind.dip: "https://earkdip.dilcis.eu/profile/E-ARK-DIP.xml",
}
CONTENT_TYPE = "TT05/2025/TT-BNV"
SOFTWARE = ("sohoa", "0.1.0")


@dataclass(frozen=True)
class PackedFile:
    """A file written into the package: where, how big, its SHA-256, when."""

    path: str  # relative to the package (or representation) folder
    size: int
    sha256: str  # upper-case hex
    mimetype: str
    created: datetime
    id: str


@dataclass(frozen=True)
class MetsHeader:
    package_id: str
    label: str
    kind: PackageKind
    created: datetime
    archive: Agent


def _q(prefix: str, name: str) -> str:
    return f"{{{_NS[prefix]}}}{name}"


def _time(value: datetime) -> str:
    return value.isoformat(timespec="seconds")


def _root(header: MetsHeader, object_id: str) -> etree._Element:
    root = etree.Element(_q("mets", "mets"), nsmap=_NS)
    root.set(_q("xsi", "schemaLocation"), _LOCATION)
    root.set("OBJID", object_id)
    root.set("LABEL", header.label)
    root.set("TYPE", "Textual works – Digital")
    root.set(_q("csip", "CONTENTINFORMATIONTYPE"), "OTHER")
    root.set(_q("csip", "OTHERCONTENTINFORMATIONTYPE"), CONTENT_TYPE)
    root.set("PROFILE", PROFILES[header.kind])
    head = etree.SubElement(root, _q("mets", "metsHdr"))
    head.set("CREATEDATE", _time(header.created))
    head.set("LASTMODDATE", _time(header.created))
    head.set("RECORDSTATUS", "NEW")
    head.set(_q("csip", "OAISPACKAGETYPE"), header.kind.value.upper())
    software = etree.SubElement(head, _q("mets", "agent"), ROLE="CREATOR", TYPE="OTHER")
    software.set("OTHERTYPE", "SOFTWARE")
    etree.SubElement(software, _q("mets", "name")).text = SOFTWARE[0]
    note = etree.SubElement(software, _q("mets", "note"))
    note.text = SOFTWARE[1]
    note.set(_q("csip", "NOTETYPE"), "SOFTWARE VERSION")
    archive = etree.SubElement(head, _q("mets", "agent"), ROLE="ARCHIVIST", TYPE="ORGANIZATION")
    etree.SubElement(archive, _q("mets", "name")).text = header.archive.name
    if header.archive.identifier:
        code = etree.SubElement(archive, _q("mets", "note"))
        code.text = header.archive.identifier
        code.set(_q("csip", "NOTETYPE"), "IDENTIFICATIONCODE")
    return root


def _md_ref(
    parent: etree._Element, tag: str, item_id: str, file: PackedFile, mdtype: str
) -> etree._Element:
    section = etree.SubElement(parent, _q("mets", tag), ID=item_id, CREATED=_time(file.created))
    section.set("STATUS", "CURRENT")
    ref = etree.SubElement(section, _q("mets", "mdRef"), LOCTYPE="URL")
    ref.set(_q("xlink", "type"), "simple")
    ref.set(_q("xlink", "href"), file.path)
    if mdtype == "PREMIS":
        ref.set("MDTYPE", "PREMIS")
    else:
        ref.set("MDTYPE", "OTHER")
        ref.set("OTHERMDTYPE", CONTENT_TYPE)
    _checksums(ref, file)
    return section


def _checksums(element: etree._Element, file: PackedFile) -> None:
    element.set("MIMETYPE", file.mimetype)
    element.set("SIZE", str(file.size))
    element.set("CREATED", _time(file.created))
    element.set("CHECKSUM", file.sha256)
    element.set("CHECKSUMTYPE", "SHA-256")


def _file(group: etree._Element, file: PackedFile, dmd: str | None = None) -> None:
    element = etree.SubElement(group, _q("mets", "file"), ID=file.id)
    _checksums(element, file)
    if dmd:
        element.set("DMDID", dmd)
    location = etree.SubElement(element, _q("mets", "FLocat"), LOCTYPE="URL")
    location.set(_q("xlink", "type"), "simple")
    location.set(_q("xlink", "href"), file.path)


def _div(parent: etree._Element, package: str, label: str, **attributes: str) -> etree._Element:
    div = etree.SubElement(parent, _q("mets", "div"), ID=derived_id(package, f"div/{label}"))
    div.set("LABEL", label)
    for key, value in attributes.items():
        div.set(key, value)
    return div


def package_mets(
    header: MetsHeader,
    descriptive: PackedFile,
    preservation: PackedFile | None,
    documentation: list[PackedFile],
    schemas: list[PackedFile],
    representation: PackedFile,
) -> bytes:
    """The package's METS.xml: what is in it, where, and with which checksum."""
    pid = header.package_id
    root = _root(header, pid)
    dmd = _md_ref(root, "dmdSec", derived_id(pid, "dmd/EAD"), descriptive, "TT05")
    amd_id = derived_id(pid, "amd")
    if preservation is not None:
        amd = etree.SubElement(root, _q("mets", "amdSec"), ID=amd_id)
        _md_ref(amd, "digiprovMD", derived_id(pid, "digiprov/PREMIS"), preservation, "PREMIS")
    files = etree.SubElement(root, _q("mets", "fileSec"), ID=derived_id(pid, "fileSec"))
    groups = {}
    for use, members in (("Documentation", documentation), ("Schemas", schemas),
                         ("Representations", [representation])):  # fmt: skip
        group = etree.SubElement(files, _q("mets", "fileGrp"), ID=derived_id(pid, f"grp/{use}"))
        group.set("USE", use)
        if use == "Representations":
            group.set(_q("csip", "CONTENTINFORMATIONTYPE"), "OTHER")
            group.set(_q("csip", "OTHERCONTENTINFORMATIONTYPE"), CONTENT_TYPE)
        for member in members:
            _file(group, member)
        groups[use] = members
    struct = etree.SubElement(root, _q("mets", "structMap"), ID=derived_id(pid, "structMap"))
    struct.set("TYPE", "PHYSICAL")
    struct.set("LABEL", "CSIP")
    top = _div(struct, pid, pid)
    metadata = _div(top, pid, "Metadata", DMDID=dmd.get("ID"))
    if preservation is not None:
        metadata.set("ADMID", amd_id)
    divisions = {
        use: _div(top, pid, use) for use in ("Documentation", "Schemas", "Representations")
    }
    for use, div in divisions.items():
        for member in groups[use]:
            etree.SubElement(div, _q("mets", "fptr"), FILEID=member.id)
    rep = _div(divisions["Representations"], pid, "Representations/rep1")
    pointer = etree.SubElement(rep, _q("mets", "mptr"), LOCTYPE="URL")
    pointer.set(_q("xlink", "type"), "simple")
    pointer.set(_q("xlink", "href"), representation.path)
    pointer.set(_q("xlink", "title"), representation.id)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def representation_mets(
    header: MetsHeader, descriptive: list[PackedFile], data: list[PackedFile]
) -> bytes:
    """representations/rep1/METS.xml: the documents' files and their EAD_doc metadata.

    `descriptive[i]` describes `data[i]` (one EAD_doc per PDF), except in a DIP whose single
    PDF holds every document."""
    rid = derived_id(header.package_id, "rep1")
    root = _root(header, rid)
    dmd_ids = [
        _md_ref(root, "dmdSec", derived_id(rid, f"dmd/{f.path}"), f, "TT05").get("ID")
        for f in descriptive
    ]
    files = etree.SubElement(root, _q("mets", "fileSec"), ID=derived_id(rid, "fileSec"))
    group = etree.SubElement(files, _q("mets", "fileGrp"), ID=derived_id(rid, "grp/Data"))
    group.set("USE", "Data")
    one_per_document = len(data) == len(descriptive)
    for index, file in enumerate(data):
        _file(group, file, dmd_ids[index] if one_per_document else " ".join(dmd_ids))
    struct = etree.SubElement(root, _q("mets", "structMap"), ID=derived_id(rid, "structMap"))
    struct.set("TYPE", "PHYSICAL")
    struct.set("LABEL", "CSIP")
    top = _div(struct, rid, rid)
    _div(top, rid, "Metadata", DMDID=" ".join(dmd_ids))
    data_div = _div(top, rid, "Data")
    for file in data:
        etree.SubElement(data_div, _q("mets", "fptr"), FILEID=file.id)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
