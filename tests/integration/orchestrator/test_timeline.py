"""Timeline: signed read-only links, a self-contained page under a strict CSP, live data."""

import base64
import hashlib
import re
import time

from lambdas.core.settings import get_settings
from lambdas.domain import timeline_links
from lambdas.domain.events import LifecycleType
from tests.support.aws import API_KEY_VALUES
from tests.support.calls import call_api
from tests.support.flow import complete_current, create, create_body


def _link(lifecycle_id, kind="ami-creation", role="operator"):
    return call_api("GET", f"/{kind}/lifecycles/{lifecycle_id}/timeline-link", role=role)


def _open(path, role=None):
    route, _, query = path.partition("?")
    token = dict(part.split("=", 1) for part in query.split("&"))["token"] if query else None
    return call_api("GET", route, role=role, query={"token": token} if token else None)


def test_operator_gets_a_short_lived_link_that_carries_no_key(deployment):
    lifecycle_id = create(deployment)
    response = _link(lifecycle_id)
    assert response.status == 200, response.text
    link = response.json()
    assert link["path"].startswith(f"/ami-creation/lifecycles/{lifecycle_id}/timeline?token=v1.")
    assert all(value not in link["path"] for value in API_KEY_VALUES.values())
    expires = time.mktime(time.strptime(link["expires_at"], "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
    assert 55 * 60 < expires - time.time() <= 60 * 60
    assert _link(lifecycle_id, role="qa").status == 403


def test_page_is_self_contained_escaped_and_locked_down_by_csp(deployment):
    body = create_body(product_name="<script>alert(1)</script>")
    lifecycle_id = call_api("POST", "/ami-creation/lifecycles", body=body).json()["lifecycle_id"]
    page = _open(_link(lifecycle_id).json()["path"])
    assert page.status == 200 and page.headers["content-type"].startswith("text/html")
    assert "<script>alert(1)</script>" not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    markup = re.sub(r'data-view="[^"]*"', 'data-view=""', page.text)
    assert not re.search(r"(src|href)\s*=", markup), "the page must load nothing"
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "connect-src 'self'" in csp and "unsafe-inline" not in csp
    for tag in ("script", "style"):
        inline = re.search(rf"<{tag}>(.*?)</{tag}>", page.text, re.S).group(1)
        digest = base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp, f"the inline {tag} is not the one the CSP allows"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert '&quot;name&quot;:&quot;BUILD_AMI&quot;,&quot;title&quot;:&quot;Build&quot;,&quot;status&quot;:' \
           '&quot;IN_PROGRESS&quot;' in page.text


def test_live_data_follows_the_lifecycle(deployment):
    lifecycle_id = create(deployment)
    path = _link(lifecycle_id).json()["path"].replace("/timeline?", "/timeline/data?")
    before = _open(path).json()
    assert before["state"] == {"kind": "running", "text": "Running: Build (BUILD_AMI)"}
    assert before["progress"] == {"done": 0, "total": 6, "text": "0 of 6 events done"}
    complete_current(deployment, lifecycle_id)
    after = _open(path).json()
    assert [event["status"] for event in after["events"][:2]] == ["COMPLETED", "IN_PROGRESS"]
    fields = {row["field"]: row["text"] for row in after["header"]}
    assert fields["ami"].startswith("ami-") and fields["ami"].endswith(" (us-east-1)")
    assert fields["semver"] == "1.0.0, the latest My Product Name AMI of stack tag main; none in production yet"
    build = after["events"][0]
    assert {"label": "Image Builder image", "text": "x/1.0.0/1"} in build["details"]
    assert build["started_at"].endswith("Z") and build["ended_at"].endswith("Z") and build["duration"]


def test_links_grant_only_their_lifecycle_view_and_expire(deployment):
    first, second = create(deployment), create(deployment)
    path = _link(first).json()["path"]
    token = path.split("token=")[1]
    secret = get_settings().timeline_signing_secret_arn
    assert secret
    stolen = call_api("GET", f"/ami-creation/lifecycles/{second}/timeline", role=None, query={"token": token})
    assert stolen.status == 401 and "another lifecycle" in stolen.json()["message"]
    patch_view = call_api("GET", f"/ami-patch/lifecycles/{first}/timeline", role=None, query={"token": token})
    assert patch_view.status == 401
    tampered = call_api("GET", f"/ami-creation/lifecycles/{first}/timeline", role=None,
                        query={"token": token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")})
    assert tampered.status == 401
    import boto3

    key = boto3.client("secretsmanager").get_secret_value(SecretId=secret)["SecretString"].encode()
    expired = timeline_links.issue(key, timeline_links.TimelineGrant(first, LifecycleType.CREATION, int(time.time()) - 1))
    response = call_api("GET", f"/ami-creation/lifecycles/{first}/timeline", role=None, query={"token": expired})
    assert response.status == 401 and "expired" in response.json()["message"]
    assert call_api("GET", f"/ami-creation/lifecycles/{first}/timeline", role=None).status == 400


def test_qa_gets_a_fresh_short_lived_export_link(deployment):
    import urllib.parse

    import boto3

    lifecycle_id = create(deployment)
    assert call_api("GET", f"/ami-creation/lifecycles/{lifecycle_id}/export-link", role="qa").status == 409
    for _ in range(4):
        complete_current(deployment, lifecycle_id)
    boto3.client("s3").put_object(Bucket="ami-lc-test-exports", Key="exports/x.vmdk", Body=b"disk")
    response = call_api("GET", f"/ami-creation/lifecycles/{lifecycle_id}/export-link", role="qa")
    assert response.status == 200, response.text
    link = response.json()
    query = urllib.parse.parse_qs(urllib.parse.urlparse(link["url"]).query)
    assert link["export_s3_uri"] == "s3://ami-lc-test-exports/exports/x.vmdk"
    assert query["X-Amz-Expires"] == ["1800"]
    assert call_api("GET", f"/ami-creation/lifecycles/{lifecycle_id}/export-link", role="operator").status == 403
