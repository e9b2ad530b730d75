"""Validate a package with eark-validator (CSIP 2.0.4) and every METS.xml in it with mets.xsd.

Run by the validator's own interpreter (deploy/install-python.sh puts eark-validator 1.1.3 in
.venv/validators/eark: it pins an lxml older than pyHanko accepts), not by pytest:

    python tests/eark_check.py PACKAGE.zip VOCABULARY_DIR UNPACK_DIR

The validator fetches four vocabularies from the E-ARK website when it is imported; they are
served from VOCABULARY_DIR instead (copies in tests/data/eark). Prints one JSON object:
{"report": the validator's report, "mets_xsd": {METS path: [schema errors]}}.
Imports nothing of sohoa: the validator's environment does not have it.
"""

from __future__ import annotations

import json
import sys
import urllib.request
from pathlib import Path


def _serve_vocabularies(folder: Path) -> None:
    """Answer the validator's four vocabulary downloads from local copies.

    It reads a vocabulary line by line and takes, from each line holding `Term`, the text
    between the first `>` and the next `<`: so each term is served on a line of its own."""
    from lxml import etree

    def urlopen(url, *args, **kwargs):  # type: ignore[no-untyped-def]
        name = str(url).rsplit("/", 1)[-1]
        if not (folder / name).is_file():
            raise OSError(f"no network here, and no local copy of {url}")
        terms = etree.parse(str(folder / name)).iter("{*}Term")
        return [f"<Term>{term.text}</Term>\n".encode() for term in terms]

    urllib.request.urlopen = urlopen


def _mets_schema():  # type: ignore[no-untyped-def]
    from eark_validator.ipxml.resources import schema
    from importlib_resources import files
    from lxml import etree

    folder = Path(str(files(schema).joinpath("mets.xsd"))).resolve().parent
    wrapper = f"""<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
      <xs:import namespace="http://www.w3.org/1999/xlink"
                 schemaLocation="{(folder / "xlink.xsd").as_uri()}"/>
      <xs:import namespace="http://www.loc.gov/METS/"
                 schemaLocation="{(folder / "mets.xsd").as_uri()}"/>
    </xs:schema>"""
    return etree.XMLSchema(etree.fromstring(wrapper.encode()))


def main() -> None:
    package, vocabularies, unpack = (Path(arg) for arg in sys.argv[1:4])
    _serve_vocabularies(vocabularies)
    from eark_validator import packages, structure
    from eark_validator.infopacks.package_handler import PackageHandler
    from eark_validator.specifications.specification import SpecificationVersion
    from lxml import etree

    handler = PackageHandler(unpack)  # not the shared temporary folder
    packages.PackageValidator._package_handler = handler
    structure.StructureParser._package_handler = handler
    report = packages.PackageValidator(package, SpecificationVersion.V2_0_4).validation_report
    schema = _mets_schema()
    mets_errors = {}
    for mets in sorted(unpack.rglob("METS.xml")):
        document = etree.parse(str(mets))
        schema.validate(document)
        mets_errors[str(mets.relative_to(unpack))] = [str(e) for e in schema.error_log]
    print(json.dumps({"report": json.loads(report.model_dump_json()), "mets_xsd": mets_errors}))


if __name__ == "__main__":
    main()
