"""Semantic versions of AMIs: MAJOR.MINOR.PATCH only (no pre-release or build metadata)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

_SEMVER = re.compile(r"^(0|[1-9]\d{0,5})\.(0|[1-9]\d{0,5})\.(0|[1-9]\d{0,5})$")
BumpType = Literal["MAJOR", "MINOR", "PATCH"]


@dataclass(frozen=True, order=True)
class Version:
    major: int
    minor: int
    patch: int

    @classmethod
    def parse(cls, text: str) -> Version:
        match = _SEMVER.fullmatch(text.strip())
        if not match:
            raise ValueError(f"'{text}' is not a semantic version MAJOR.MINOR.PATCH")
        return cls(*(int(part) for part in match.groups()))

    def bump(self, kind: BumpType) -> Version:
        if kind == "MAJOR":
            return Version(self.major + 1, 0, 0)
        if kind == "MINOR":
            return Version(self.major, self.minor + 1, 0)
        return Version(self.major, self.minor, self.patch + 1)

    @property
    def sort_key(self) -> str:
        """Lexicographic order equals version order (DynamoDB sort keys compare strings)."""
        return f"{self.major:06d}.{self.minor:06d}.{self.patch:06d}"

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"


def is_semver(text: str) -> bool:
    return bool(_SEMVER.fullmatch(text))


def next_free(parent: Version, kind: BumpType, taken: set[Version]) -> Version:
    """Bump `parent`, skipping versions already given to other AMIs of the lineage.

    A rejected patch keeps its version, so the next patch of the same parent must not reuse it.
    """
    candidate = parent.bump(kind)
    while candidate in taken:
        candidate = candidate.bump(kind)
    return candidate
