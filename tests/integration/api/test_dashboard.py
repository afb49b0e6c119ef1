"""GET /ami-fleet/{stack-tag}/dashboard-link (operator key) and the page it opens: .../dashboard and
.../dashboard/data (signed token scoped to one stack tag; tests/e2e/test_dashboard_in_browser.py reads the page)."""

import time

from lambdas.domain import timeline_links
from lambdas.domain.events import LifecycleType
from tests.integration.api.flow import open_link
from tests.integration.api.test_timeline import HOSTILE, assert_safe_page, embedded_view, signing_secret
from tests.support.calls import call_api
from tests.support.flow import Flow, assert_refused

FLEET = "/ami-fleet"


def link(stack_tag="main", role="operator"):
    return call_api("GET", f"{FLEET}/{stack_tag}/dashboard-link", role=role)


def test_the_dashboard_shows_only_its_stack_tag_and_escapes_every_value(deployment):
    Flow(deployment, product_name=HOSTILE).built()
    Flow(deployment, stack_tag="release", product_name="Elsewhere").built()
    response = link()
    assert response.status == 200, response.text
    assert response.json()["path"].startswith(f"{FLEET}/main/dashboard?token=v1.main.d.")
    page = open_link(response.json()["path"])
    assert_safe_page(page)
    view = embedded_view(page)
    assert [product["name"] for product in view["products"]] == [HOSTILE]
    [cell] = [cell for cell in view["products"][0]["cells"] if cell["versions"]]
    assert cell["column"] == "hardened" and cell["versions"][0]["semver"] == "1.0.0"
    data = open_link(response.json()["path"].replace("/dashboard?", "/dashboard/data?"))
    assert data.status == 200 and data.headers["cache-control"] == "no-store"
    assert data.json()["products"] == view["products"]


def test_dashboard_link_errors(deployment):
    assert_refused(deployment, {
        "not a stack tag": (lambda: link("Main_Tag"), 400, "stack_tag", "'Main_Tag' is not a stack tag: lower-case"),
        "qa key": (lambda: link(role="qa"), 403, "operator API key"),
        "approver key": (lambda: link(role="approver"), 403, "operator API key"),
        "no key": (lambda: link(role=None), 401, "x-api-key"),
    })


def test_a_dashboard_link_opens_only_its_stack_tags_dashboard_until_it_expires(deployment):
    lifecycle_id = Flow(deployment).create()["lifecycle_id"]
    token = link().json()["path"].split("token=")[1]
    secret = signing_secret(deployment)
    expired = timeline_links.issue_dashboard(secret, timeline_links.DashboardGrant("main", int(time.time()) - 1))
    timeline_token = timeline_links.issue(
        secret, timeline_links.TimelineGrant(lifecycle_id, LifecycleType.CREATION, int(time.time()) + 600))

    def get(path, value):
        return lambda: call_api("GET", path, role=None, query={"token": value})

    assert get(f"{FLEET}/main/dashboard", token)().status == 200
    renew = "python3 cli/api-cli.py --operation AMI_DASHBOARD --stackTag"
    assert_refused(deployment, {
        "another stack tag": (get(f"{FLEET}/release/dashboard", token), 401, "another stack tag", f"{renew} release"),
        "a lifecycle's timeline": (get(f"/ami-creation/lifecycles/{lifecycle_id}/timeline", token), 401,
                                   "another lifecycle"),
        "a timeline token": (get(f"{FLEET}/main/dashboard/data", timeline_token), 401, "another stack tag or page"),
        "expired": (get(f"{FLEET}/main/dashboard", expired), 401, "expired", f"{renew} main"),
    })
