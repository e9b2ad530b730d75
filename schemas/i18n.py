"""Gettext catalogs in Vietnamese and English, read with Babel.

Each room that speaks to people keeps its words in `locale/<lang>/LC_MESSAGES/<domain>.po`
beside its code (the web pages in `api/`, the report in `store/`). Message ids are keys such as
`nav.dashboard`; texts use `{name}` placeholders; entries shown with a count have plural forms.
A translator edits the `.po` files with any PO editor; they are compiled in memory when first
read, so there are no `.mo` files to keep in step.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LANGS = ("vi", "en")
DEFAULT_LANG = "vi"


def pick_lang(value: str | None) -> str:
    """A supported language from a cookie or query value; Vietnamese otherwise."""
    value = (value or "").strip().lower()[:5]
    return value if value in LANGS else DEFAULT_LANG


@dataclass(frozen=True)
class Catalog:
    """One language of one domain."""

    translations: Translations
    #: key → text (the plural form for entries with plural forms)
    texts: dict[str, str]
    plural: frozenset[str]


def load_catalog(po_file: Path, lang: str) -> Catalog:
    with po_file.open("rb") as po:
        catalog = read_po(po, locale=lang)
    texts: dict[str, str] = {}
    plural: set[str] = set()
    for message in catalog:
        if not message.id:
            continue  # the header
        if isinstance(message.id, str):
            texts[message.id] = str(message.string)
        else:  # (singular, plural) ids, and one text per plural form
            forms = message.string if isinstance(message.string, (tuple, list)) else ("",)
            plural.add(message.id[0])
            texts[message.id[0]] = forms[-1]
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Catalog(Translations(compiled), texts, frozenset(plural))


class Messages:
    """The words of one domain in every language."""

    def __init__(self, locale_dir: Path, domain: str) -> None:
        self.locale_dir = locale_dir
        self.domain = domain
        self.catalogs = {
            lang: load_catalog(locale_dir / lang / "LC_MESSAGES" / f"{domain}.po", lang)
            for lang in LANGS
        }

    def ids(self) -> list[str]:
        return list(self.catalogs[DEFAULT_LANG].texts)

    def __contains__(self, key: object) -> bool:
        return key in self.catalogs[DEFAULT_LANG].texts

    def text(self, key: str, lang: str, **params: object) -> str:
        """The message `key` in `lang`, placeholders filled; a count `n` picks the plural
        form. An unknown key raises KeyError: a missing label is a bug tests must see."""
        catalog = self.catalogs[pick_lang(lang)]
        if key not in catalog.texts:
            raise KeyError(key)
        count = params.get("n")
        if key in catalog.plural and isinstance(count, int):
            text = catalog.translations.ngettext(key, key, count)
        else:
            text = catalog.translations.gettext(key)
        return text.format(**params) if params else text
