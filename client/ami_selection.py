#!/usr/bin/env python3
"""Select an AMI from the orchestrator's lookup table: a library (`select`) and a command line.

    python client/ami_selection.py [--stackTag TAG] [--semver latest|X.Y.Z|X.x|X.Y.x|^X.Y.Z|~X.Y.Z]
        [--minStage hardened|smoke-tested|scanned|qa-requested|qa-certified|production]
        [--productName NAME] [--productVer X.Y.Z] [--commitRef REF] [--lifecycleType any|ami-creation|ami-patch]
        [--region REGION] [--lookupTable NAME | --deploymentTag TAG] [--json] [--quiet]

stdout gets only the AMI id (or, with --json, the AMI's record); everything else goes to stderr. Among
AMIs of the same version (two products, or a rebuild), the newest wins: the answer never depends on
how AMI ids sort.
Exit codes: 0 found, 1 no AMI matches, 2 usage error, 3 the lookup table cannot be read.

How it reads (docs/ARCHITECTURE.md, lambdas/domain/lookup.py): an AMI that reached stage S is listed
under the selector `<stack tag>#<region>#<stage>` (and `...#P#<product name>`) of every stage up to S,
sorted by semver. Only a COMPLETED event raises an AMI's stage, so a FAILED QA certification or a
NOT_APPROVED approval never makes an AMI selectable at qa-certified or production. "latest" is one Query
with Limit=2 (the second item tells whether another AMI has the same version); a semver range narrows
the Query's key condition; product version, commit
and lifecycle type are filtered here over a paginated Query that stops at the first (highest) match.
Never a Scan.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from client.deployment import Deployment, DeploymentError, default_stack_tag, slugify  # noqa: E402
from client.semver_range import GRAMMAR, SemverRange, parse_range  # noqa: E402
from lambdas.domain.events import LifecycleType, Stage  # noqa: E402
from lambdas.domain.lookup import selector  # noqa: E402
from lambdas.domain.semver import Version  # noqa: E402

PROG = "ami_selection"
FOUND, NO_MATCH, USAGE, UNAVAILABLE = 0, 1, 2, 3
STAGES = [stage.slug for stage in Stage if stage is not Stage.NONE]
LIFECYCLE_TYPES = ["any", *(kind.value for kind in LifecycleType)]
PAGE_SIZE = 25
# What --json prints (README "Selecting an AMI"); the table's keys (selector, rank) are internal.
JSON_FIELDS = ("ami_id", "region", "semver", "stage", "product_name", "product_ver", "stack_tag", "commit_ref",
               "lifecycle_id", "lifecycle_type", "reached_at")


@dataclass(frozen=True)
class Criteria:
    stack_tag: str
    region: str
    min_stage: Stage = Stage.HARDENED
    semver: SemverRange = parse_range("latest")
    product_name: str | None = None
    product_ver: str | None = None
    commit_ref: str | None = None
    lifecycle_type: str | None = None  # None = any

    @property
    def selector(self) -> str:
        return selector(self.stack_tag, self.region, self.min_stage, self.product_name)

    def describe(self) -> str:
        parts = [f"stack tag '{self.stack_tag}'", f"region {self.region}", f"stage >= {self.min_stage.slug}",
                 f"semver {self.semver.text}"]
        for label, value in (("product", self.product_name), ("product version", self.product_ver),
                             ("commit", self.commit_ref), ("lifecycle type", self.lifecycle_type)):
            if value:
                parts.append(f"{label} '{value}'")
        return ", ".join(parts)

    def accepts(self, item: dict[str, str]) -> bool:
        try:
            version = Version.parse(item.get("semver", ""))
        except ValueError:
            return False
        return (
            self.semver.matches(version)
            and (self.product_ver is None or item.get("product_ver") == self.product_ver)
            and (self.commit_ref is None or item.get("commit_ref") == self.commit_ref)
            and (self.lifecycle_type is None or item.get("lifecycle_type") == self.lifecycle_type)
        )

    @property
    def filters_items(self) -> bool:
        """True when some criterion is not part of the key condition (items are then filtered here)."""
        return any(value is not None for value in (self.product_ver, self.commit_ref, self.lifecycle_type))


@dataclass(frozen=True)
class Selection:
    item: dict[str, str] | None
    items_read: int  # DynamoDB ScannedCount over every page
    queries: int

    @property
    def ami_id(self) -> str | None:
        return self.item["ami_id"] if self.item else None


def _query(criteria: Criteria, table: str, page_size: int) -> dict[str, Any]:
    condition = "selector = :selector"
    values: dict[str, Any] = {":selector": {"S": criteria.selector}}
    key = criteria.semver.key_condition()
    if key is not None:
        condition += {
            "begins_with": " AND begins_with(#rank, :low)",
            "between": " AND #rank BETWEEN :low AND :high",
            "gte": " AND #rank >= :low",
        }[key.operator]
        values[":low"] = {"S": key.values[0]}
        if key.operator == "between":
            values[":high"] = {"S": key.values[1]}
    params: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": condition,
        "ExpressionAttributeValues": values,
        "ScanIndexForward": False,
        # Without item filters the first item of the (narrowed) partition is the answer, unless the
        # next one has the same version (another product's, or a rebuild): one more item tells.
        "Limit": page_size if criteria.filters_items else 2,
    }
    if key is not None:
        params["ExpressionAttributeNames"] = {"#rank": "rank"}
    return params


def _newer(item: dict[str, str], than: dict[str, str]) -> bool:
    """Between AMIs of the same version: the newest (last to reach the stage); the AMI id only breaks a
    tie of times, so the answer never depends on how ids happen to sort."""
    return (item.get("reached_at", ""), item["ami_id"]) > (than.get("reached_at", ""), than["ami_id"])


def select(criteria: Criteria, table: str, dynamodb: Any, *, page_size: int = PAGE_SIZE) -> Selection:
    """The matching lookup record with the highest version, then the newest, reading as few items as possible."""
    params = _query(criteria, table, page_size)
    best: dict[str, str] | None = None
    items_read = queries = 0
    while True:
        response = dynamodb.query(**params)
        queries += 1
        items_read += response.get("ScannedCount", len(response["Items"]))
        for raw in response["Items"]:
            item = {name: value["S"] for name, value in raw.items() if "S" in value}
            if best is not None and item.get("semver") != best.get("semver"):
                return Selection(best, items_read, queries)  # past the highest version's AMIs
            if criteria.accepts(item) and (best is None or _newer(item, best)):
                best = item
        start = response.get("LastEvaluatedKey")
        if not start or (best is None and not criteria.filters_items):
            return Selection(best, items_read, queries)
        params["ExclusiveStartKey"] = start


# ----- command line ----------------------------------------------------------------------------------


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, no usage dump
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Print the id of the AMI matching the criteria (default: the latest hardened AMI of the "
        "current git branch's stack tag).",
    )
    parser.add_argument("--stackTag", help="lifecycle stack tag (default: slug of the current git branch, else main)")
    parser.add_argument("--semver", default="latest", help=f"{GRAMMAR} (default: latest)")
    parser.add_argument("--minStage", default="hardened", type=str.lower, choices=STAGES,
                        help="the least stage the AMI must have reached (default: hardened)")
    parser.add_argument("--productName")
    parser.add_argument("--productVer")
    parser.add_argument("--commitRef")
    parser.add_argument("--lifecycleType", default="any", type=str.lower, choices=LIFECYCLE_TYPES)
    parser.add_argument("--region", help="AMI region (default: the profile's, else AWS_REGION)")
    parser.add_argument("--lookupTable", help="lookup table name (default: from the profile or the stack outputs)")
    parser.add_argument("--deploymentTag", help="read the deployed stack AmiLifecycle-<tag> (default: the local "
                        "cloud profile if present, else cdk.json's stackTag)")
    parser.add_argument("--json", action="store_true", help="print the AMI's record as JSON: " + ", ".join(JSON_FIELDS))
    parser.add_argument("--quiet", action="store_true", help="print nothing on stderr when an AMI is found")
    return parser


def _criteria(args: argparse.Namespace, region: str, note: list[str]) -> Criteria:
    if args.stackTag:
        stack_tag = args.stackTag
    else:
        stack_tag, origin = default_stack_tag()
        note.append(f"stack tag '{stack_tag}' ({origin})")
    if slugify(stack_tag) != stack_tag:
        raise UsageError(f"--stackTag '{stack_tag}' is not a stack tag; did you mean '{slugify(stack_tag)}'?")
    try:
        semver = parse_range(args.semver)
    except ValueError as exc:
        raise UsageError(f"--semver: {exc}") from exc
    if args.productVer is not None:
        try:
            Version.parse(args.productVer)
        except ValueError as exc:
            raise UsageError(f"--productVer: {exc}") from exc
    for flag, value in (("--productName", args.productName), ("--commitRef", args.commitRef)):
        if value is not None and not value.strip():
            raise UsageError(f"{flag} must not be empty")
    return Criteria(
        stack_tag=stack_tag,
        region=region,
        min_stage=Stage.from_slug(args.minStage),
        semver=semver,
        product_name=args.productName,
        product_ver=args.productVer,
        commit_ref=args.commitRef,
        lifecycle_type=None if args.lifecycleType == "any" else args.lifecycleType,
    )


def main(argv: list[str] | None = None, *, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    out, err = stdout or sys.stdout, stderr or sys.stderr
    try:
        args = build_parser().parse_args(argv)
        deployment = Deployment(deployment_tag=args.deploymentTag, region=args.region)
        region = deployment.region
        if not region:
            raise UsageError("no region: pass --region or set AWS_REGION")
        notes: list[str] = []
        criteria = _criteria(args, region, notes)
    except (UsageError, ValueError) as exc:
        print(f"{PROG}: error: {exc}", file=err)
        return USAGE
    except DeploymentError as exc:
        print(f"{PROG}: error: {exc}", file=err)
        return UNAVAILABLE
    try:
        from botocore.exceptions import BotoCoreError, ClientError

        table = args.lookupTable or deployment.lookup_table()
        result = select(criteria, table, deployment.client("dynamodb"))
    except DeploymentError as exc:
        print(f"{PROG}: error: {exc}", file=err)
        return UNAVAILABLE
    except (BotoCoreError, ClientError) as exc:
        print(f"{PROG}: error: cannot query the lookup table: {exc}", file=err)
        return UNAVAILABLE
    origin = f" ({'; '.join(notes)})" if notes else ""
    if result.item is None:
        print(f"{PROG}: no AMI matches: {criteria.describe()}{origin}", file=err)
        return NO_MATCH
    if args.json:
        print(json.dumps({name: result.item[name] for name in JSON_FIELDS if name in result.item}, indent=2), file=out)
    else:
        print(result.item["ami_id"], file=out)
    if not args.quiet:
        item = result.item
        print(f"{PROG}: {item['ami_id']} ({item.get('product_name')} {item.get('semver')}, "
              f"{item.get('lifecycle_type')}, lifecycle {item.get('lifecycle_id')}) matches "
              f"{criteria.describe()}{origin}",
              file=err)
    return FOUND


if __name__ == "__main__":
    sys.exit(main())
