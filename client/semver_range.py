"""Semver criteria of AMI selection, and the lookup-table key condition that reads only matching ranks.

Grammar (versions are MAJOR.MINOR.PATCH, lambdas/domain/semver.py):

    latest               the highest version
    X.Y.Z                exactly X.Y.Z
    X | X.x | X.*        >= X.0.0 and < (X+1).0.0
    X.Y | X.Y.x | X.Y.*  >= X.Y.0 and < X.(Y+1).0
    ^X.Y.Z  ^X.Y  ^X     caret, as npm: up to the next MAJOR (next MINOR when X is 0; next PATCH for ^0.0.Z)
    ~X.Y.Z  ~X.Y         >= X.Y.Z (X.Y.0) and < X.(Y+1).0
    ~X                   >= X.0.0 and < (X+1).0.0

Lookup ranks start with `Version.sort_key` ("000001.000002.000003#<ami id>"), so an X.Y.Z or x-range is
a `begins_with` prefix of the rank and a caret or tilde range is `rank BETWEEN low AND high`: a Query
sorted descending then returns the highest matching version first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lambdas.domain.semver import Version

_NUMBER = r"(0|[1-9]\d{0,5})"
_MAX_COMPONENT = 999_999
_EXACT = re.compile(rf"^{_NUMBER}\.{_NUMBER}\.{_NUMBER}$")
_X_RANGE = re.compile(rf"^{_NUMBER}(?:\.{_NUMBER})?(?:\.[xX*])?$")
_CARET_TILDE = re.compile(rf"^([\^~]){_NUMBER}(?:\.{_NUMBER}(?:\.{_NUMBER})?)?$")
GRAMMAR = "latest, X.Y.Z, X.x, X.Y.x, ^X.Y.Z or ~X.Y.Z"


@dataclass(frozen=True)
class KeyCondition:
    """How to narrow the Query on `rank`: ("begins_with", prefix), ("between", low, high) or ("gte", low)."""

    operator: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class SemverRange:
    text: str
    low: Version | None = None  # inclusive
    high: Version | None = None  # exclusive
    prefix: str | None = None  # rank prefix, when the range is one

    def matches(self, version: Version) -> bool:
        return (self.low is None or version >= self.low) and (self.high is None or version < self.high)

    @property
    def is_latest(self) -> bool:
        return self.low is None and self.high is None

    def key_condition(self) -> KeyCondition | None:
        if self.prefix is not None:
            return KeyCondition("begins_with", (self.prefix,))
        if self.low is None:
            return None
        if self.high is None:
            return KeyCondition("gte", (self.low.sort_key,))
        # Ranks are "<sort key>#<ami id>": every rank of a version below `high` sorts before
        # high.sort_key, and every rank of `high` itself sorts after it.
        return KeyCondition("between", (self.low.sort_key, self.high.sort_key))


def _next(major: int, minor: int, patch: int) -> Version | None:
    """The version itself, or None when a component overflows (no upper bound then)."""
    if max(major, minor, patch) > _MAX_COMPONENT:
        return None
    return Version(major, minor, patch)


def parse_range(text: str) -> SemverRange:
    value = text.strip()
    if value.lower() == "latest":
        return SemverRange("latest")
    if match := _EXACT.match(value):
        version = Version(*(int(part) for part in match.groups()))
        return SemverRange(value, version, _next(version.major, version.minor, version.patch + 1),
                           prefix=f"{version.sort_key}#")
    if match := _X_RANGE.match(value):
        major, minor = int(match.group(1)), match.group(2)
        if minor is None:
            return SemverRange(value, Version(major, 0, 0), _next(major + 1, 0, 0), prefix=f"{major:06d}.")
        minor_number = int(minor)
        return SemverRange(value, Version(major, minor_number, 0), _next(major, minor_number + 1, 0),
                           prefix=f"{major:06d}.{minor_number:06d}.")
    if match := _CARET_TILDE.match(value):
        operator, major_text, minor_text, patch_text = match.groups()
        major = int(major_text)
        minor = int(minor_text) if minor_text is not None else 0
        patch = int(patch_text) if patch_text is not None else 0
        low = Version(major, minor, patch)
        if operator == "~":
            high = _next(major, minor + 1, 0) if minor_text is not None else _next(major + 1, 0, 0)
        elif major > 0 or minor_text is None:
            high = _next(major + 1, 0, 0)
        elif minor > 0 or patch_text is None:
            high = _next(0, minor + 1, 0)
        else:
            high = _next(0, 0, patch + 1)
        return SemverRange(value, low, high)
    raise ValueError(f"'{text}' is not a semver criterion; expected {GRAMMAR}")
