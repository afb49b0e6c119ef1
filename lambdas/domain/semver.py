"""Semantic versions of AMIs: MAJOR.MINOR.PATCH only (no pre-release or build metadata).

Parsing and bumps are the `semver` package's (bundled in the Lambda asset); the project adds the
fixed-width sort key that DynamoDB lookups range over, which bounds each part to six digits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import semver

BumpType = Literal["MAJOR", "MINOR", "PATCH"]
_MAX_PART = 999_999  # six digits per part in sort_key
_BUMPS = {"MAJOR": semver.Version.bump_major, "MINOR": semver.Version.bump_minor, "PATCH": semver.Version.bump_patch}


@dataclass(frozen=True, order=True)
class Version:
    major: int
    minor: int
    patch: int

    @classmethod
    def parse(cls, text: str) -> Version:
        problem = f"'{text}' is not a semantic version MAJOR.MINOR.PATCH"
        try:
            parsed = semver.Version.parse(text.strip())
        except (ValueError, TypeError):
            raise ValueError(problem) from None
        if parsed.prerelease or parsed.build or max(parsed.major, parsed.minor, parsed.patch) > _MAX_PART:
            raise ValueError(problem)
        return cls(parsed.major, parsed.minor, parsed.patch)

    def bump(self, kind: BumpType) -> Version:
        bumped = _BUMPS[kind](semver.Version(self.major, self.minor, self.patch))
        return Version(bumped.major, bumped.minor, bumped.patch)

    @property
    def sort_key(self) -> str:
        """Lexicographic order equals version order (DynamoDB sort keys compare strings)."""
        return f"{self.major:06d}.{self.minor:06d}.{self.patch:06d}"

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"


def is_semver(text: str) -> bool:
    try:
        Version.parse(text)
    except ValueError:
        return False
    return text == text.strip()


def next_free(parent: Version, kind: BumpType, taken: set[Version]) -> Version:
    """Bump `parent`, skipping versions already given to other AMIs of the lineage.

    A rejected patch keeps its version, so the next patch of the same parent must not reuse it.
    """
    candidate = parent.bump(kind)
    while candidate in taken:
        candidate = candidate.bump(kind)
    return candidate
