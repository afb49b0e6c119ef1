"""GET .../timeline-link (operator key) and the pages it opens: .../timeline and .../timeline/data (signed token).

tests/integration/orchestrator/test_timeline.py covers the link mechanics in depth; here: both views,
the error contract of each route, and what the page may contain.
"""

import html
import json
import re
import time

import pytest

from lambdas.domain import timeline_links
from lambdas.domain.events import LifecycleType
from tests.integration.api.flow import open_link
from tests.support.aws import aws
from tests.support.calls import call_api
from tests.support.flow import CREATION, PATCH, UNKNOWN_ID, Flow, assert_error, assert_refused

HOSTILE = "<script>alert('x')</script><img src=x onerror=alert(1)>"
ESCAPED = "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"


def link(lifecycle_id, kind=CREATION, role="operator"):
    return call_api("GET", f"{kind}/{lifecycle_id}/timeline-link", role=role)


def signing_secret(deployment):
    arn = deployment.environ["TIMELINE_SIGNING_SECRET_ARN"]
    return aws("secretsmanager").get_secret_value(SecretId=arn)["SecretString"].encode()


def embedded_view(page):
    """The view the page draws itself from (the data-view attribute, HTML-escaped JSON)."""
    [data] = re.findall(r'<main id="app" data-view="([^"]*)">', page.text)
    return json.loads(html.unescape(data))


def statuses(view):
    return {event["name"]: event["status"] for event in view["events"]}


def assert_safe_page(page):
    assert page.status == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    for directive in ("default-src 'none'", "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'"):
        assert directive in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp and "http" not in csp and "*" not in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["cache-control"] == "no-store"
    # Nothing is loaded from anywhere: no src/href attribute at all, no URL in the markup.
    markup = re.sub(r'data-view="[^"]*"', 'data-view=""', page.text)
    assert not re.search(r"<[^>]*\b(src|href|action|srcset|formaction)\s*=", markup, re.I)
    assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", page.text, re.I)
    assert HOSTILE not in page.text
    assert page.text.count("<script") == 1  # the page's own, allowed by its hash


def test_the_creation_page_is_self_contained_and_escapes_every_value(deployment):
    lifecycle_id = Flow(deployment, product_name=HOSTILE).create()["lifecycle_id"]
    response = link(lifecycle_id)
    assert response.status == 200, response.text
    assert response.json()["path"].startswith(f"{CREATION}/{lifecycle_id}/timeline?token=")
    page = open_link(response.json()["path"])
    assert_safe_page(page)
    assert ESCAPED in page.text
    view = embedded_view(page)
    assert view["title"] == f"{HOSTILE} 1.0.0: creation lifecycle"  # drawn with textContent only
    assert statuses(view)["BUILD_AMI"] == "IN_PROGRESS"


def test_the_patch_page_shows_the_latest_run_and_its_parent(deployment):
    flow = Flow(deployment, product_name=HOSTILE)
    lifecycle_id = flow.patched()
    parent = flow.status(lifecycle_id)["ami"]["ami_id"]
    response = link(lifecycle_id, PATCH)
    assert response.status == 200, response.text
    path = response.json()["path"]
    assert path.startswith(f"{PATCH}/{lifecycle_id}/timeline?token=")
    page = open_link(path)
    assert_safe_page(page)
    assert ESCAPED in page.text
    view = embedded_view(page)
    fields = {row["field"]: row["text"] for row in view["header"]}
    assert (fields["lifecycle_type"], fields["parent_ami"]) == ("patch run 1", f"{parent} (1.0.0)")
    assert statuses(view)["PATCH_AMI"] == "IN_PROGRESS" and "BUILD_AMI" not in statuses(view)
    data = open_link(path.replace("/timeline?", "/timeline/data?"))
    assert data.status == 200 and data.headers["content-type"].startswith("application/json")
    assert data.json()["events"] == view["events"] and data.json()["state"]["text"] == "Running: Patch (PATCH_AMI)"


def test_timeline_link_errors(deployment):
    flow = Flow(deployment)
    lifecycle_id = flow.create()["lifecycle_id"]
    assert_refused(deployment, {
        f"{kind} {name}": (lambda kind=kind, path_id=path_id, role=role: link(path_id, kind, role), status, *words)
        for kind in (CREATION, PATCH)
        for name, path_id, role, status, *words in (
            ("not a uuid", "abc", "operator", 400, "lifecycle_id"),
            ("unknown", UNKNOWN_ID, "operator", 404, UNKNOWN_ID),
            ("qa key", lifecycle_id, "qa", 403, "operator API key"),
            ("approver key", lifecycle_id, "approver", 403, "operator API key"),
            ("no key", lifecycle_id, None, 401, "x-api-key"),
        )
    })


@pytest.mark.parametrize("page", ["timeline", "timeline/data"])
def test_a_link_opens_only_its_own_lifecycle_and_view_until_it_expires(deployment, page):
    flow = Flow(deployment)
    first, second = flow.create()["lifecycle_id"], flow.create()["lifecycle_id"]
    token = link(first).json()["path"].split("token=")[1]
    secret = signing_secret(deployment)
    expired = timeline_links.issue(
        secret, timeline_links.TimelineGrant(first, LifecycleType.CREATION, int(time.time()) - 1))
    forged = timeline_links.issue(b"not-the-secret", timeline_links.TimelineGrant(first, LifecycleType.CREATION,
                                                                                  int(time.time()) + 600))

    def get(kind, lifecycle_id, value):
        return lambda: call_api("GET", f"{kind}/{lifecycle_id}/{page}", role=None, query={"token": value})

    assert get(CREATION, first, token)().status == 200
    assert_refused(deployment, {
        "another lifecycle": (get(CREATION, second, token), 401, "another lifecycle"),
        "the other view": (get(PATCH, first, token), 401, "another lifecycle"),
        "expired": (get(CREATION, first, expired), 401, "expired"),
        "signed with another secret": (get(CREATION, first, forged), 401, "invalid timeline link"),
        "no token": (lambda: call_api("GET", f"{CREATION}/{first}/{page}", role=None), 400, "token"),
        "path not a uuid": (get(CREATION, "nope", token), 400, "lifecycle_id"),
    })


def test_a_link_to_a_deleted_or_unknown_lifecycle_is_404(deployment):
    secret = signing_secret(deployment)
    token = timeline_links.issue(secret, timeline_links.TimelineGrant(UNKNOWN_ID, LifecycleType.CREATION,
                                                                      int(time.time()) + 600))
    assert_error(call_api("GET", f"{CREATION}/{UNKNOWN_ID}/timeline", role=None, query={"token": token}), 404,
                 UNKNOWN_ID)


def test_the_patch_timeline_of_an_unpatched_lifecycle_is_refused(deployment):
    lifecycle_id = Flow(deployment).built()
    response = link(lifecycle_id, PATCH)
    assert response.status in (404, 409), response.text
    assert "no patch run" in response.json()["message"]
