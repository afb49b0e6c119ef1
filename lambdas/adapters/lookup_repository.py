"""DynamoDB AMI lookup table (see lambdas/domain/lookup.py for the key design)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from lambdas.adapters.aws import client
from lambdas.domain.lookup import LookupEntry



def _item(entry: LookupEntry) -> dict[str, Any]:
    return {key: {"S": value} for key, value in asdict(entry).items()}


class LookupRepository:
    def __init__(self, table_name: str) -> None:
        self._table = table_name

    def put_requests(self, entries: list[LookupEntry]) -> list[dict[str, Any]]:
        """Transaction Put items for these entries (the lifecycle repository commits them)."""
        return [{"TableName": self._table, "Item": _item(entry)} for entry in entries]

    def query(
        self,
        selector: str,
        *,
        rank_prefix: str | None = None,
        limit: int = 1,
        start_key: dict[str, Any] | None = None,
    ) -> tuple[list[dict[str, str]], dict[str, Any] | None, int]:
        """Entries of one selector, highest semver first; also returns how many items DynamoDB read."""
        condition = "selector = :selector"
        values: dict[str, Any] = {":selector": {"S": selector}}
        if rank_prefix:
            condition += " AND begins_with(#rank, :prefix)"
            values[":prefix"] = {"S": rank_prefix}
        params: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if rank_prefix:
            params["ExpressionAttributeNames"] = {"#rank": "rank"}
        if start_key:
            params["ExclusiveStartKey"] = start_key
        response = client("dynamodb").query(**params)
        items = [{key: value["S"] for key, value in item.items()} for item in response["Items"]]
        return items, response.get("LastEvaluatedKey"), response["ScannedCount"]

    def latest(self, selector: str) -> dict[str, str] | None:
        items, _, _ = self.query(selector, limit=1)
        return items[0] if items else None
