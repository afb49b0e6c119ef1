"""The functions' one code asset holds everything the runtime and the Powertools layer do not: the
`lambdas` package and the bundled pure-Python libraries, nothing else (no tests, no bytecode)."""

from __future__ import annotations

import subprocess
import sys

from stacks.lambda_factory import BUNDLED
from tests.infrastructure.conftest import Synth

# What a deployed function resolves from its asset alone (isolated: no site-packages, no repo on the path).
_PROBE = ("import sys; sys.path[:0] = [sys.argv[1]]; from lambdas.domain.semver import Version; "
          "print(Version.parse('1.4.2').bump('MINOR'), __import__('semver').__file__)")


def test_the_asset_bundles_semver_and_resolves_it_without_the_environment(synth: Synth) -> None:
    asset = synth.outdir / ".lambda-package"
    assert sorted(p.name for p in asset.iterdir()) == sorted(["lambdas", *BUNDLED])
    assert not list(asset.rglob("__pycache__")) and not list(asset.rglob("tests"))

    done = subprocess.run([sys.executable, "-I", "-S", "-c", _PROBE, str(asset)], capture_output=True, text=True,
                          check=False, timeout=60)

    assert done.returncode == 0, done.stderr
    version, location = done.stdout.split()
    assert version == "1.5.0" and location.startswith(str(asset)), done.stdout
