"""Pinyin search keys for names: 梁艳荣 → "lyr" and "liangyanrong".

Every reading of a heteronym counts (单 is dan, shan and chan; 曾 is ceng and zeng;
解 is jie and xie), so a surname is found however the searcher says it. A name with
many heteronyms yields at most MAX_KEYS keys of each kind."""

from functools import lru_cache
from itertools import islice, product

from pypinyin import Style, pinyin

MAX_KEYS = 16
KEY_LENGTH = 60  # the stored key's column: longer readings are cut (and may then meet)


@lru_cache(maxsize=30_000)
def _char_readings(ch: str, style) -> tuple[str, ...]:
    found = pinyin(ch, style=style, heteronym=True, errors="ignore", strict=False)
    readings = found[0] if found else []
    # keep pypinyin's order: the commonest reading first
    return tuple(dict.fromkeys(r.lower() for r in readings if r.isascii() and r.isalpha()))


def _readings(name: str, style) -> list[tuple[str, ...]]:
    # character by character: a phrase dictionary would pick one reading (解放 → jie)
    return [r for r in (_char_readings(ch, style) for ch in name) if r]


@lru_cache(maxsize=50_000)
def search_keys(name: str) -> tuple[str, ...]:
    """Initials and full-pinyin keys of a name (lower case ASCII, no spaces, each once
    and at most KEY_LENGTH long)."""
    name = "".join(ch for ch in (name or "") if not ch.isspace())
    keys: list[str] = []
    for style in (Style.FIRST_LETTER, Style.NORMAL):
        readings = _readings(name, style)
        if not readings:
            continue
        # every reading of the surname with the commonest reading of the rest, then the
        # other combinations up to the cap
        rest = "".join(r[0] for r in readings[1:])
        keys.extend(first + rest for first in readings[0])
        keys.extend("".join(p) for p in islice(product(*readings), MAX_KEYS))
    return tuple(dict.fromkeys(key[:KEY_LENGTH] for key in keys))


def is_pinyin_query(query: str) -> bool:
    return bool(query) and query.isascii() and query.isalpha()
