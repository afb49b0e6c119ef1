"""DynamoDB store of lifecycle records. Every write is conditional (optimistic locking on `version`).

It also keeps the Idempotency-Key claims of the create routes: one item per stack tag, route and
key, written in the same transaction as the record it created, so a retried request finds the
lifecycle its first attempt made (and only a request with the same body may).
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any, NamedTuple

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from lambdas.adapters.aws import client
from lambdas.domain.errors import ConcurrentUpdate, IdempotencyKeyReused, InvalidRequest, NotFound
from lambdas.domain.events import LifecycleType
from lambdas.domain.models import LifecycleRecord

BY_STACK_TAG_INDEX = "by_stack_tag"
IN_PROGRESS_INDEX = "in_progress"
_IN_PROGRESS = "IN_PROGRESS"
IDEMPOTENCY_SECONDS = 24 * 3600  # how long a key replays its first result; then it may be used again
_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def _pk(lifecycle_id: str) -> str:
    return f"LC#{lifecycle_id}"


def _sk(patch_number: int | None) -> str:
    return "CREATION" if patch_number is None else f"PATCH#{patch_number:04d}"


def _to_attr(value: Any) -> dict[str, Any]:
    # DynamoDB numbers must be Decimal; a JSON round trip converts every float at any depth.
    return _serializer.serialize(json.loads(json.dumps(value), parse_float=Decimal))


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def encode_cursor(last_key: dict[str, Any] | None) -> str | None:
    if not last_key:
        return None
    return base64.urlsafe_b64encode(json.dumps(last_key, sort_keys=True).encode()).decode()


def decode_cursor(cursor: str | None, expected_keys: set[str]) -> dict[str, Any] | None:
    if not cursor:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, binascii.Error, RecursionError) as exc:
        raise InvalidRequest("next_token: not a token this API issued") from exc
    if not isinstance(key, dict) or set(key) != expected_keys or not all(_is_key_string(v) for v in key.values()):
        raise InvalidRequest("next_token: not a token this API issued")
    return key


def _is_key_string(value: Any) -> bool:
    # What DynamoDB accepts in an ExclusiveStartKey of this table: non-empty Unicode strings of at most
    # 1,024 bytes (the sort key limit; our partition keys are shorter still).
    text = value.get("S") if isinstance(value, dict) and len(value) == 1 else None
    if not isinstance(text, str) or not text:
        return False
    try:
        return len(text.encode()) <= 1024
    except UnicodeEncodeError:  # an unpaired surrogate: not Unicode text
        return False


class IdempotencyClaim(NamedTuple):
    scope: str  # stack tag and route, e.g. "main#ami-creation"
    key: str  # the client's Idempotency-Key
    request_hash: str  # of the validated request: a key replays only the request it was first used with

    @property
    def item_key(self) -> dict[str, Any]:
        return {"pk": {"S": f"IDEMPOTENCY#{self.scope}#{self.key}"}, "sk": {"S": "IDEMPOTENCY"}}


class LifecycleRepository:
    def __init__(self, table_name: str) -> None:
        self._table = table_name

    @property
    def _ddb(self) -> Any:
        return client("dynamodb")

    def _item(self, record: LifecycleRecord, version: int) -> dict[str, Any]:
        pk, sk = _pk(record.lifecycle_id), _sk(record.patch_number)
        gsi1sk = f"{record.created_at}#{record.lifecycle_id}" + (f"#{record.patch_number:04d}" if record.patch_number else "")
        item = {
            "pk": {"S": pk},
            "sk": {"S": sk},
            "version": {"N": str(version)},
            "gsi1pk": {"S": f"{record.stack_tag}#{record.lifecycle_type.value}"},
            "gsi1sk": {"S": gsi1sk},
            "doc": _to_attr(record.model_dump(mode="json", exclude={"version"})),
        }
        running = record.event_in_progress
        if running is not None:
            # Sparse index: only records with an event in flight are visible to the reconciler.
            item["ipk"] = {"S": _IN_PROGRESS}
            item["isk"] = {"S": f"{running.started_at}#{pk}#{sk}"}
        return item

    @staticmethod
    def _record(item: dict[str, Any]) -> LifecycleRecord:
        doc = _plain(_deserializer.deserialize(item["doc"]))
        doc["version"] = int(item["version"]["N"])
        return LifecycleRecord.model_validate(doc)

    def get(self, lifecycle_id: str, patch_number: int | None = None) -> LifecycleRecord:
        response = self._ddb.get_item(
            TableName=self._table,
            Key={"pk": {"S": _pk(lifecycle_id)}, "sk": {"S": _sk(patch_number)}},
            ConsistentRead=True,
        )
        if "Item" not in response:
            what = "lifecycle" if patch_number is None else f"patch run {patch_number} of lifecycle"
            raise NotFound(f"{what} {lifecycle_id} does not exist")
        return self._record(response["Item"])

    def insert(self, record: LifecycleRecord) -> None:
        try:
            self._ddb.put_item(
                TableName=self._table,
                Item=self._item(record, 1),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise ConcurrentUpdate(f"lifecycle {record.lifecycle_id} already exists") from exc
            raise
        record.version = 1

    def save(self, record: LifecycleRecord) -> None:
        """Write the record if nobody wrote it since it was read; else ConcurrentUpdate."""
        expected = record.version
        try:
            self._ddb.put_item(
                TableName=self._table,
                Item=self._item(record, expected + 1),
                ConditionExpression="version = :expected",
                ExpressionAttributeValues={":expected": {"N": str(expected)}},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise ConcurrentUpdate(
                    f"lifecycle {record.lifecycle_id} changed while this request ran; retry it"
                ) from exc
            raise
        record.version = expected + 1

    def commit(
        self,
        records: list[LifecycleRecord],
        *,
        new: tuple[LifecycleRecord, ...] = (),
        lookup_puts: list[dict[str, Any]] | None = None,
        claim: IdempotencyClaim | None = None,
    ) -> None:
        """Write several records (and lookup items) in one transaction: all land or none does.

        `records` must be unchanged since read (version check); `new` must not exist yet. Used where
        one outcome touches more than one item, e.g. a production approval that also moves the
        lineage's approved AMI and makes the AMI selectable. `claim` records that `new[0]` is the
        result of that Idempotency-Key, unless the key is already claimed (ConcurrentUpdate).
        """
        items: list[dict[str, Any]] = [
            {"Put": {
                "TableName": self._table,
                "Item": self._item(record, 1),
                "ConditionExpression": "attribute_not_exists(pk)",
            }}
            for record in new
        ]
        items += [
            {"Put": {
                "TableName": self._table,
                "Item": self._item(record, record.version + 1),
                "ConditionExpression": "version = :expected",
                "ExpressionAttributeValues": {":expected": {"N": str(record.version)}},
            }}
            for record in records
        ]
        items += [{"Put": put} for put in lookup_puts or []]
        if claim is not None:
            items.append({"Put": self._claim_put(claim, new[0])})
        try:
            self._ddb.transact_write_items(TransactItems=items)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "TransactionCanceledException":
                raise ConcurrentUpdate(
                    f"lifecycle {records[0].lifecycle_id if records else new[0].lifecycle_id} changed while "
                    "this request ran; retry it"
                ) from exc
            raise
        for record in new:
            record.version = 1
        for record in records:
            record.version += 1

    def _claim_put(self, claim: IdempotencyClaim, record: LifecycleRecord) -> dict[str, Any]:
        now = int(time.time())
        item = {
            **claim.item_key,
            "lifecycle_id": {"S": record.lifecycle_id},
            "request_hash": {"S": claim.request_hash},
            # Also the attribute to enable as the table's TTL, which would delete expired claims.
            "expires_at": {"N": str(now + IDEMPOTENCY_SECONDS)},
        }
        if record.patch_number is not None:
            item["patch_number"] = {"N": str(record.patch_number)}
        return {
            "TableName": self._table,
            "Item": item,
            # An expired claim no longer counts, whether or not TTL has deleted it yet.
            "ConditionExpression": "attribute_not_exists(pk) OR expires_at < :now",
            "ExpressionAttributeValues": {":now": {"N": str(now)}},
        }

    def claimed(self, claim: IdempotencyClaim) -> tuple[str, int | None] | None:
        """The (lifecycle id, patch number) an unexpired claim of this key created, if any; a key
        first used with another request is refused."""
        item = self._ddb.get_item(TableName=self._table, Key=claim.item_key, ConsistentRead=True).get("Item")
        if item is None or int(item["expires_at"]["N"]) < time.time():
            return None
        if item["request_hash"]["S"] != claim.request_hash:
            raise IdempotencyKeyReused(
                f"Idempotency-Key '{claim.key}' was already used with a different request body; use a new key "
                "for a new request"
            )
        patch_number = item.get("patch_number")
        return item["lifecycle_id"]["S"], int(patch_number["N"]) if patch_number else None

    def list_by_stack_tag(
        self, stack_tag: str, lifecycle_type: LifecycleType, *, limit: int, cursor: str | None
    ) -> tuple[list[LifecycleRecord], str | None]:
        """Newest first, one page; the cursor is opaque to clients."""
        params: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": BY_STACK_TAG_INDEX,
            "KeyConditionExpression": "gsi1pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": f"{stack_tag}#{lifecycle_type.value}"}},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        start = decode_cursor(cursor, {"pk", "sk", "gsi1pk", "gsi1sk"})
        if start:
            if start["gsi1pk"] != {"S": f"{stack_tag}#{lifecycle_type.value}"}:
                raise InvalidRequest("next_token: belongs to another listing")
            params["ExclusiveStartKey"] = start
        response = self._ddb.query(**params)
        return [self._record(item) for item in response["Items"]], encode_cursor(response.get("LastEvaluatedKey"))

    def in_progress_since_before(self, cutoff: str, *, page_size: int = 100) -> Iterator[LifecycleRecord]:
        """Every record whose event in progress started before `cutoff` (ISO 8601), oldest first, one
        page of the sparse index at a time."""
        params: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": IN_PROGRESS_INDEX,
            "KeyConditionExpression": "ipk = :ipk AND isk < :cutoff",
            "ExpressionAttributeValues": {":ipk": {"S": _IN_PROGRESS}, ":cutoff": {"S": cutoff}},
            "Limit": page_size,
        }
        while True:
            response = self._ddb.query(**params)
            yield from (self._record(item) for item in response["Items"])
            if "LastEvaluatedKey" not in response:
                return
            params["ExclusiveStartKey"] = response["LastEvaluatedKey"]
