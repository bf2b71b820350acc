"""User-facing text in English and Chinese, read from ``sim/locale/``.

Code and comments stay in English; every sentence a user reads (CLI summaries, figure
labels, run-folder errors) goes through :func:`t`, so ``--lang zh`` changes all of it.
A language's catalogue is ``sim/locale/{lang}.toml`` plus every ``sim/locale/*.{lang}.toml``
(one file per feature, e.g. ``drill.zh.toml``); a key defined in two files is an error.
Catalogues are TOML tables; nested tables give dotted keys (``[fig.map] title = ...`` is
``"fig.map.title"``). Placeholders use :meth:`str.format` syntax.
"""

from __future__ import annotations

import functools
import string
import tomllib
from importlib import resources
from typing import Final

LANGUAGES: Final = ("en", "zh")
"""Languages with a catalogue, in the order the CLI lists them."""


def check_lang(lang: str) -> str:
    """Return ``lang`` if a catalogue exists for it, else raise ``ValueError``.

    Parameters
    ----------
    lang : str
        Language code, one of :data:`LANGUAGES`.

    Returns
    -------
    str
        The same code.

    Examples
    --------
    >>> check_lang("zh")
    'zh'
    """
    if lang not in LANGUAGES:
        msg = f"lang: expected one of {', '.join(LANGUAGES)}, got {lang!r}"
        raise ValueError(msg)
    return lang


def _flatten(table: dict, prefix: str = "") -> dict[str, str]:
    """Turn nested TOML tables into ``{"a.b.c": text}``."""
    flat: dict[str, str] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, prefix=f"{name}."))
        elif isinstance(value, str):
            flat[name] = value
        else:
            msg = f"sim/locale: {name}: expected a string, got {value!r}"
            raise ValueError(msg)
    return flat


@functools.cache
def catalogue(lang: str) -> dict[str, str]:
    """Load the flattened message catalogue of one language (read once, then cached).

    Parameters
    ----------
    lang : {"en", "zh"}
        Language code.

    Returns
    -------
    dict of str to str
        Dotted key to message template. Treat it as read-only: it is shared.
    """
    check_lang(lang)
    folder = resources.files("sim").joinpath("locale")
    names = [f"{lang}.toml"] + sorted(
        f.name for f in folder.iterdir() if f.name.endswith(f".{lang}.toml")
    )
    merged: dict[str, str] = {}
    for name in names:
        flat = _flatten(tomllib.loads(folder.joinpath(name).read_text(encoding="utf-8")))
        clash = sorted(merged.keys() & flat.keys())
        if clash:
            msg = f"sim/locale/{name}: keys already defined in another file: {clash[:5]}"
            raise ValueError(msg)
        merged.update(flat)
    return merged


def placeholders(template: str) -> frozenset[str]:
    """Names of the ``{field}`` placeholders in a template.

    Examples
    --------
    >>> sorted(placeholders("{n} of {total:,d}"))
    ['n', 'total']
    """
    return frozenset(
        field.split(".")[0].split("[")[0]
        for _, field, _, _ in string.Formatter().parse(template)
        if field
    )


def t(key: str, lang: str, **fmt: object) -> str:
    """Return the message ``key`` in language ``lang``, formatted with ``fmt``.

    Parameters
    ----------
    key : str
        Dotted catalogue key, e.g. ``"run.exists"``.
    lang : {"en", "zh"}
        Language code.
    **fmt
        Values for the template's placeholders.

    Returns
    -------
    str
        The formatted message.

    Raises
    ------
    ValueError
        If ``lang`` has no catalogue, ``key`` is not in it, or a placeholder is missing.

    Examples
    --------
    >>> t("unit.minutes", "en", value=12.5)
    '12.5 min'
    """
    messages = catalogue(lang)
    try:
        template = messages[key]
    except KeyError:
        msg = f"sim/locale/{lang}.toml: no message {key!r}"
        raise ValueError(msg) from None
    try:
        return template.format(**fmt)
    except (KeyError, IndexError) as err:
        msg = f"sim/locale/{lang}.toml: {key}: missing placeholder value {err}"
        raise ValueError(msg) from None
