import pytest

from lambdas.domain.semver import Version, is_semver, next_free


@pytest.mark.parametrize(("text", "expected"), [
    ("1.0.0", Version(1, 0, 0)),
    ("0.0.0", Version(0, 0, 0)),
    ("10.20.30", Version(10, 20, 30)),
    ("999999.999999.999999", Version(999999, 999999, 999999)),
])
def test_parse_accepts_major_minor_patch(text, expected):
    assert Version.parse(text) == expected
    assert str(Version.parse(text)) == text
    assert is_semver(text)


@pytest.mark.parametrize("text", [
    "01.0.0", "1.01.0", "1.0.01",  # leading zeros
    "1.0", "1", "1.0.0.0",
    "v1.0.0", "1.0.0-rc.1", "1.0.0+build.5",  # no prefix, pre-release or build metadata
    "", "a.b.c", "1..0", "-1.0.0",
    "1000000.0.0",  # beyond the six digits the sort key holds
])
def test_parse_rejects_anything_else(text):
    assert not is_semver(text)
    with pytest.raises(ValueError, match="not a semantic version"):
        Version.parse(text)


@pytest.mark.parametrize(("kind", "expected"), [
    ("MAJOR", "2.0.0"),
    ("MINOR", "1.3.0"),
    ("PATCH", "1.2.4"),
])
def test_bump_resets_the_lower_parts(kind, expected):
    assert str(Version.parse("1.2.3").bump(kind)) == expected


@pytest.mark.parametrize(("lower", "higher"), [
    ("2.0.0", "10.0.0"),
    ("1.2.0", "1.10.0"),
    ("1.0.9", "1.0.10"),
    ("9.9.9", "10.0.0"),
    ("1.999999.999999", "2.0.0"),
])
def test_sort_key_orders_like_versions_not_like_strings(lower, higher):
    # DynamoDB compares sort keys as strings: "10.0.0" < "2.0.0" as text, so the key must be padded.
    assert Version.parse(lower).sort_key < Version.parse(higher).sort_key


def test_sorting_by_sort_key_equals_sorting_by_version():
    versions = [Version.parse(text) for text in ("10.0.0", "2.0.0", "1.10.0", "1.2.0", "1.0.10", "1.0.2", "0.0.1")]
    assert sorted(versions, key=lambda version: version.sort_key) == sorted(versions)


@pytest.mark.parametrize(("kind", "taken", "expected"), [
    ("MINOR", set(), "1.1.0"),
    ("MINOR", {"1.1.0"}, "1.2.0"),
    ("MINOR", {"1.1.0", "1.2.0", "1.3.0"}, "1.4.0"),
    ("MINOR", {"1.0.0", "2.0.0", "1.2.0"}, "1.1.0"),  # only the candidate itself matters
    ("PATCH", {"1.1.0"}, "1.0.1"),
    ("PATCH", {"1.0.1", "1.0.2"}, "1.0.3"),
])
def test_next_free_never_reuses_a_version_of_the_lineage(kind, taken, expected):
    parent = Version.parse("1.0.0")
    assert str(next_free(parent, kind, {Version.parse(text) for text in taken})) == expected


def test_a_trailing_newline_is_not_a_version():
    assert not is_semver("1.0.0\n")
