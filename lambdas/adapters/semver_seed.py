"""Atomic MAJOR-version counter per stack tag and product."""

from __future__ import annotations

from lambdas.adapters.aws import client


class SemverSeed:
    def __init__(self, table_name: str) -> None:
        self._table = table_name

    def next_major(self, stack_tag: str, product_name: str) -> int:
        # ADD on a missing item starts from 0, so the first AMI of a product is 1.0.0. One UpdateItem:
        # two concurrent creates can never read the same value.
        response = client("dynamodb").update_item(
            TableName=self._table,
            Key={"seed_id": {"S": f"{stack_tag}#{product_name}"}},
            UpdateExpression="ADD major :one",
            ExpressionAttributeValues={":one": {"N": "1"}},
            ReturnValues="UPDATED_NEW",
        )
        return int(response["Attributes"]["major"]["N"])
