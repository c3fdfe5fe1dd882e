"""The JSON parser every API reads its bodies with: odd JSON is a 400, never a 500.

DRF's ``JSONParser`` turns invalid JSON into a 400, but a deeply nested body
crashed the parser itself (a 500), and Python's parser accepts some JSON that
no field should see. ``SafeJSONParser`` refuses each of those with a 400
that names the problem:

- **nesting deeper than** ``MAX_JSON_DEPTH``: Python's ``json`` parses
  recursively, and about 1,000 nested brackets (a body of 2 KB) end in a
  ``RecursionError``. The depth is counted on the text, without recursion,
  before anything parses it.
- **a number too large for a float** (``1e999``): Python reads it as
  infinity, which no field can hold. (``NaN`` and ``Infinity`` literals are
  refused by DRF's strict JSON already.)
- **a key given twice** (``{"email": "a@…", "email": "b@…"}``): parsers
  disagree on which copy wins, so a gateway and a service could read two
  different requests from the same bytes.
- **a lone surrogate** (``"\\ud800"``): an escape JSON allows but that is
  not a Unicode character. DRF's text fields refuse it, but not in a key or
  a field of another type, and an error message that repeats it cannot be
  encoded by the JSON renderer: refused here, once, wherever it is.

What a learner should notice: the limits are checked where the body becomes
data, once for every API of both services (``DEFAULT_PARSER_CLASSES``), so
no view has to remember them.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser, get_encoding
from rest_framework.utils.json import strict_constant

# Deeper than any body of these APIs needs (an order is 3 levels deep), far
# below the depth at which Python's recursive parser fails.
MAX_JSON_DEPTH = 32

# A JSON string: quotes around anything but a quote or a backslash, or a
# backslash escape. Removed before the brackets are counted, so "[" inside a
# string is not nesting.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


def exceeds_depth(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether arrays and objects in ``text`` nest more than ``limit`` deep.

    Iterative, so any depth is counted safely; text that is not JSON may be
    miscounted, and then the parser refuses it anyway.
    """
    depth = 0
    for bracket in _BRACKET.finditer(_STRING.sub("", text)):
        if bracket.group() in "[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:40]} is too large")
    return value


def _object_without_repeated_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    data = dict(pairs)
    if len(data) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                # ascii(): the key may hold what the renderer cannot encode.
                raise ValueError(f"the key {ascii(key)} is given twice")
            seen.add(key)
    return data


def _refuse_lone_surrogates(data: Any) -> None:
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as error:
        character = error.object[error.start]
        raise ParseError(
            f"JSON parse error - the body holds \\u{ord(character):04x}, a lone "
            "surrogate, which is not a Unicode character"
        ) from None


class SafeJSONParser(JSONParser):
    """DRF's JSON parser, refusing the bodies listed in the module docstring."""

    max_depth = MAX_JSON_DEPTH

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = get_encoding(parser_context or {})
        try:
            text = stream.read().decode(encoding)
        except UnicodeDecodeError as error:
            raise ParseError(
                f"JSON parse error - the body is not valid {encoding}: {error.reason}"
            ) from None
        if exceeds_depth(text, self.max_depth):
            raise ParseError(
                "JSON parse error - arrays and objects nest deeper than "
                f"{self.max_depth} levels"
            )
        try:
            data = json.loads(
                text,
                parse_constant=strict_constant if self.strict else None,
                parse_float=_finite_float,
                object_pairs_hook=_object_without_repeated_keys,
            )
        except ValueError as error:
            raise ParseError(f"JSON parse error - {error}") from None
        _refuse_lone_surrogates(data)
        return data
