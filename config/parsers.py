"""The API's JSON parser: DRF's, plus the limits every JSON body gets before a view sees it.

- Nesting deeper than MAX_JSON_DEPTH is refused (Python's parser would raise RecursionError
  at ~1,000 levels, a 500; shallower but deep documents still cost recursion further on).
- A NUL character in any key or string is refused, naming where it is: PostgreSQL stores
  neither text nor jsonb with one, so it could only fail later as a 500. DRF's CharField
  refuses it too; this also covers free-form objects (``metadata``).

Bodies over DATA_UPLOAD_MAX_MEMORY_SIZE never get here (config.middleware answers 413).
"""

from __future__ import annotations

from rest_framework import parsers
from rest_framework.exceptions import ParseError, ValidationError

MAX_JSON_DEPTH = 64
NUL_MESSAGE = "Null characters are not allowed."


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(
                f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels."
            ) from None
        json_limits_check(data)
        return data


def json_limits_check(data) -> None:
    """Raise ParseError past MAX_JSON_DEPTH, ValidationError naming the first NUL's path."""
    stack: list[tuple[object, int, tuple]] = [(data, 1, ())]
    while stack:
        value, depth, path = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                _refuse_nul(path)
            continue
        if not isinstance(value, dict | list):
            continue
        if depth > MAX_JSON_DEPTH:
            raise ParseError(
                f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels."
            ) from None
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            if isinstance(key, str) and "\x00" in key:
                _refuse_nul((*path, key.replace("\x00", "\\u0000")))
            stack.append((item, depth + 1, (*path, key)))


def _refuse_nul(path: tuple) -> None:
    name = ".".join(str(part) for part in path) or "non_field_errors"
    raise ValidationError({name: [NUL_MESSAGE]})
