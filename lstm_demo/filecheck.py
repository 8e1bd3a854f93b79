"""Reading the fields of a model file's JSON metadata strictly: every value is checked before it is used, and a bad
one is a ModelFileError with a message for the visitor. No torch here (each kind's file check uses these)."""
from __future__ import annotations

import json
import math

from .config import ModelFileError


def _refuse_constant(name: str):
    raise ModelFileError(f"The file holds {name} where a number should be; it was not saved by this app.")


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > 18:  # far beyond any count or size here; also spares int()'s 4300-digit error
        raise ModelFileError("The file holds an absurdly large number; it was not saved by this app.")
    return int(text)


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ModelFileError("The file holds an infinite number; it was not saved by this app.")
    return value


def strict_json(text: str):
    """json.loads that refuses NaN/Infinity, huge integers and pathological nesting with a ModelFileError."""
    try:
        return json.loads(text, parse_constant=_refuse_constant, parse_int=_bounded_int, parse_float=_finite_float)
    except (json.JSONDecodeError, UnicodeError):
        raise ModelFileError("The file's header is not valid JSON; it is not a .safetensors model file.") from None
    except RecursionError:
        raise ModelFileError("The file's header is nested absurdly deep; it was not saved by this app.") from None


def encodable(value: str, what: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ModelFileError(f"The file's {what} contains characters that are not valid Unicode text.") from None
    return value


def text_field(info: dict, key: str, limit: int, default: str = "") -> str:
    value = info.get(key, default)
    if not isinstance(value, str) or len(value) > limit:
        raise ModelFileError(f"The file's data {key} is malformed.")
    return encodable(value, f"data {key}")


def number_field(info: dict, key: str) -> float:
    value = info.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ModelFileError(f"The file's normalisation '{key}' is not a finite number.")
    return float(value)
