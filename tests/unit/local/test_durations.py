"""`--durations`: simulated minutes of the fakes' AWS work, named, validated, doubled for the bench."""

from __future__ import annotations

import pytest

from local.durations import Durations


def test_named_durations_override_the_defaults_and_round_trip() -> None:
    durations = Durations.parse("build=90, scan=20,export=40,store=20")

    assert (durations.build, durations.scan, durations.export, durations.store) == (90, 20, 40, 20)
    assert (durations.registration, durations.command, durations.restore) == (2, 1, 15)  # untouched
    assert Durations.parse(durations.text()) == durations
    assert Durations().times(2) == Durations.parse("build=90,registration=4,command=2,scan=20,store=20,restore=30,export=40")


@pytest.mark.parametrize("text, problem", [("bild=90", "unknown duration 'bild'"), ("scan=soon", "not a number"),
                                           ("store=0", "must be positive")])
def test_a_bad_duration_is_refused_saying_why(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        Durations.parse(text)
