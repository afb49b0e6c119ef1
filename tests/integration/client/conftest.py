"""One moto deployment whose lookup table is filled by real lifecycles (API + receivers), shared by the module."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.support.aws import module_deployment
from tests.support.calls import call_api
from tests.support.flow import approve, certify, create_body, patch_body, status, upload_patch_component
from tests.support.flow import complete_current as advance
from tests.support.flow import production_lifecycle as production

PRODUCT, OTHER = "My Product Name", "Other Product"


@dataclass(frozen=True)
class Seeded:
    deployment: Any
    amis: dict[str, str]  # label -> AMI id
    lifecycles: dict[str, str]  # label -> lifecycle id


def _create(stack_tag: str = "main", product: str = PRODUCT, product_ver: str = "1.0.0", commit: str = "0123abc",
            events: tuple[str, ...] = ("BUILD_AMI", "SMOKE_TESTS_AMI_CREATE", "VULNERABILITY_SCANS_AMI_CREATE",
                                       "QA_CERTIFICATION_REQUEST")) -> str:
    body = create_body(stack_tag=stack_tag, product_name=product, events=events) | {"product_ver": product_ver,
                                                                               "commit_ref": commit}
    response = call_api("POST", "/ami-creation/lifecycles", body=body)
    assert response.status == 201, response.text
    return response.json()["lifecycle_id"]


@pytest.fixture(scope="module")
def seeded() -> Iterator[Seeded]:
    """main / us-east-1 ("My Product Name" unless said):

    A 1.0.0 production (creation)         A' 1.1.0 production (patch of A)
    B 2.0.0 scanned                        C 3.0.0 qa-certified, then NOT_APPROVED (never production)
    D 4.0.0 qa-requested, QA FAILED        E 1.0.0 "Other Product" 2.5.0, commit feedbeef, hardened only
    F 1.0.0 stack tag "feature-x", hardened
    """
    for deployment in module_deployment():
        lifecycles: dict[str, str] = {}
        lifecycles["A"] = production(deployment)
        response = call_api("POST", "/ami-patch/lifecycles",
                            body=patch_body(lifecycles["A"], upload_patch_component(deployment)))
        assert response.status == 201, response.text
        for _ in range(3):
            advance(deployment, lifecycles["A"], "ami-patch")
        approve(lifecycles["A"], kind="ami-patch")
        advance(deployment, lifecycles["A"], "ami-patch")

        lifecycles["B"] = _create()
        for _ in range(3):
            advance(deployment, lifecycles["B"])
        lifecycles["C"] = _create()
        for _ in range(4):
            advance(deployment, lifecycles["C"])
        certify(lifecycles["C"])
        approve(lifecycles["C"], "NOT_APPROVED")
        lifecycles["D"] = _create()
        for _ in range(4):
            advance(deployment, lifecycles["D"])
        certify(lifecycles["D"], "FAILED")
        lifecycles["E"] = _create(product=OTHER, product_ver="2.5.0", commit="feedbeef", events=("BUILD_AMI",))
        advance(deployment, lifecycles["E"])
        lifecycles["F"] = _create(stack_tag="feature-x", events=("BUILD_AMI",))
        advance(deployment, lifecycles["F"])

        amis = {label: status(lifecycle_id)["ami"]["ami_id"] for label, lifecycle_id in lifecycles.items()}
        amis["A'"] = status(lifecycles["A"], "ami-patch")["ami"]["ami_id"]
        semvers = {label: status(lifecycle_id)["semver"] for label, lifecycle_id in lifecycles.items()}
        assert semvers == {"A": "1.0.0", "B": "2.0.0", "C": "3.0.0", "D": "4.0.0", "E": "1.0.0", "F": "1.0.0"}
        yield Seeded(deployment, amis, lifecycles)
