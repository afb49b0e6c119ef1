"""How long the fakes' simulated AWS work takes (kept free of moto imports: the command line reads it)."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace


@dataclass(frozen=True)
class Durations:
    """How long the fakes' AWS work takes, in simulated minutes (`--durations build=90,scan=20`)."""

    build: float = 45  # Image Builder pipeline run
    registration: float = 2  # SSM agent online after launch
    command: float = 1  # the smoke-test check script
    scan: float = 10  # Inspector's initial scan after launch
    store: float = 10  # CreateStoreImageTask
    restore: float = 15  # CreateRestoreImageTask
    export: float = 20  # ExportImage

    @classmethod
    def parse(cls, text: str) -> Durations:
        """`name=minutes,...`; names not given keep their default."""
        known = {f.name for f in fields(cls)}
        values: dict[str, float] = {}
        for item in filter(None, (part.strip() for part in text.split(","))):
            name, _, minutes = item.partition("=")
            if name not in known:
                raise ValueError(f"unknown duration {name!r}; expected {', '.join(sorted(known))}")
            try:
                values[name] = float(minutes)
            except ValueError:
                raise ValueError(f"{name}: {minutes!r} is not a number of minutes") from None
            if values[name] <= 0:
                raise ValueError(f"{name}: the duration must be positive")
        return replace(cls(), **values)

    def times(self, factor: float) -> Durations:
        return replace(self, **{f.name: getattr(self, f.name) * factor for f in fields(self)})

    def text(self) -> str:
        return ",".join(f"{f.name}={getattr(self, f.name):g}" for f in fields(self))
