"""The words of the web pages, Vietnamese first, English on request (cookie `lang=vi|en`).

The labels live in gettext catalogs, `api/locale/<lang>/LC_MESSAGES/messages.po`, one per
language, keyed by message ids such as `nav.dashboard` (plural forms where a count is shown);
a test keeps every key a template or script uses in both catalogs. Labels of enums defined in
`schemas/` (roles, paces, measures, error codes) come from their own tables. Dates are
dd/mm/yyyy in both languages (the office convention); numbers follow the language (1.234,5
in Vietnamese, 1,234.5 in English).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from types import MappingProxyType

from schemas.auth import ROLE_LABELS, Role
from schemas.errors import ERROR_MESSAGES
from schemas.i18n import LANGS, Messages, pick_lang
from schemas.plan import MEASURE_LABELS, PACE_LABELS
from schemas.review import review_message

LANG_COOKIE = "lang"
VIETNAM = timezone(timedelta(hours=7))

LOCALE_DIR = Path(__file__).parent / "locale"
#: the pages' own words: api/locale/<lang>/LC_MESSAGES/messages.po
WEB = Messages(LOCALE_DIR, "messages")
#: labels defined next to their enums elsewhere, under keys of their own
_ENUM_LABELS: dict[str, tuple[str, str]] = {}


def _add_labels() -> None:
    for role, (vi, en) in ROLE_LABELS.items():
        _ENUM_LABELS[f"role.{role.value}"] = (vi, en)
    for pace, (vi, en) in PACE_LABELS.items():
        _ENUM_LABELS[f"pace.{pace.value}"] = (vi, en)
    for measure, (vi, en) in MEASURE_LABELS.items():
        _ENUM_LABELS[f"measure.{measure.value}"] = (vi, en)
    for code, (vi, en) in ERROR_MESSAGES.items():
        _ENUM_LABELS[f"js.errorcode.{code.value}"] = (vi, en)


_add_labels()

#: key → (Vietnamese, English): every label, for the scripts and the tests
MESSAGES: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        **{
            k: (WEB.catalogs["vi"].texts[k], WEB.catalogs["en"].texts.get(k, "")) for k in WEB.ids()
        },
        **_ENUM_LABELS,
    }
)

#: the messages the page scripts use, by prefix
_JS_PREFIXES = ("js.", "status.", "outcome.", "field.", "common.", "batch.")


def translate(key: str, lang: str, **params: object) -> str:
    """The message `key` in `lang`, placeholders filled. An unknown key raises KeyError:
    a label missing from the dictionary is a bug the tests must see."""
    lang = pick_lang(lang)
    if key in _ENUM_LABELS:
        text = _ENUM_LABELS[key][LANGS.index(lang)]
        return text.format(**params) if params else text
    return WEB.text(key, lang, **params)


class Translator:
    """`t("key", name=value)` in templates, bound to one language."""

    def __init__(self, lang: str) -> None:
        self.lang = pick_lang(lang)

    def __call__(self, key: str, **params: object) -> str:
        return translate(key, self.lang, **params)


def js_messages(lang: str, prefixes: Iterable[str] = _JS_PREFIXES) -> dict[str, str]:
    """The messages the scripts of a page need, in `lang`."""
    prefixes = tuple(prefixes)
    return {k: translate(k, lang) for k in MESSAGES if k.startswith(prefixes)}


def review_reason_text(reason: object, lang: str) -> str:
    """One review reason as people read it: the code's message, the field it is about and
    the detail; a reason stored as plain text by an older version is shown as it is."""
    if not isinstance(reason, dict):
        return str(reason)
    try:
        text = review_message(reason.get("code", ""), lang)
    except ValueError:
        return str(reason.get("detail") or reason.get("code") or "")
    field = reason.get("field")
    if field and f"field.{field}" in MESSAGES:
        text = f"{translate(f'field.{field}', lang)}: {text}"
    if reason.get("detail"):
        text = f"{text} ({reason['detail']})"
    return text


def role_label(role: Role | str | None, lang: str) -> str:
    return translate(f"role.{Role(role).value}", lang) if role else ""


# --- formats ---------------------------------------------------------------------------------


def fmt_date(value: date | datetime | str | None) -> str:
    """dd/mm/yyyy (a datetime is shown as its Vietnamese calendar day); '' for None."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        text = value
        try:
            value = date.fromisoformat(text[:10])
        except ValueError:
            return text
    if isinstance(value, datetime):
        value = _in_vietnam(value).date()
    return value.strftime("%d/%m/%Y")


def fmt_datetime(value: datetime | None) -> str:
    """dd/mm/yyyy HH:MM in Vietnam time; '' for None."""
    if value is None:
        return ""
    return _in_vietnam(value).strftime("%d/%m/%Y %H:%M")


def _in_vietnam(value: datetime) -> datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(VIETNAM)


def fmt_number(value: float | int | None, lang: str, digits: int = 0) -> str:
    """1.234,5 (Vietnamese) or 1,234.5 (English); '' for None."""
    if value is None:
        return ""
    text = f"{value:,.{digits}f}"
    if lang == "en":
        return text
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


def fmt_percent(share: float | None, lang: str, digits: int = 1) -> str:
    """A share 0–1 as a percentage: '12,5 %' (Vietnamese) or '12.5%' (English)."""
    if share is None:
        return ""
    number = fmt_number(share * 100, lang, digits)
    if digits:  # 12,0 % reads better as 12 %
        number = number.rstrip("0").rstrip(",.")
    return f"{number} %" if lang == "vi" else f"{number}%"


def fmt_size(size: int | None, lang: str) -> str:
    """A byte count for people: 12,3 MB."""
    if size is None:
        return ""
    units = ("B", "KB", "MB", "GB", "TB")
    value = float(size)
    unit = 0
    while value >= 1024 and unit < len(units) - 1:
        value /= 1024
        unit += 1
    return f"{fmt_number(value, lang, 0 if unit == 0 else 1)} {units[unit]}"
