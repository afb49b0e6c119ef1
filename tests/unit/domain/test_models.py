import pytest
from pydantic import ValidationError

from lambdas.domain.models import NotificationTarget


@pytest.mark.parametrize("email", ["user@domain.com", "first.last+ami@sub.example.co.uk", "o'brien@example.org"])
def test_valid_email_targets(email):
    assert NotificationTarget(method="EMAIL", target=email).target == email


@pytest.mark.parametrize("email", ["user", "user@", "@domain.com", "user@domain", "user@@domain.com",
                                   "user domain@x.com", "https://x.com"])
def test_invalid_email_targets_are_refused(email):
    with pytest.raises(ValidationError, match="email address|at least 3"):
        NotificationTarget(method="EMAIL", target=email)


@pytest.mark.parametrize(("method", "target"), [("EMAIL", "user@domain.com\n"), ("HTTPS", "https://hooks.example.com/a\n")])
def test_a_target_with_a_trailing_newline_is_refused(method, target):
    with pytest.raises(ValidationError):
        NotificationTarget(method=method, target=target)


@pytest.mark.parametrize("url", ["https://hooks.example.com", "https://hooks.example.com/ami/events",
                                 "https://hooks.example.com:8443/x"])
def test_valid_https_targets(url):
    assert NotificationTarget(method="HTTPS", target=url).target == url


@pytest.mark.parametrize("url", [
    "http://hooks.example.com/ami",  # cleartext
    "https://hooks.example.com/ami?api_key=secret",  # a credential in the query string
    "https://hooks.example.com/ami?",
    "https://hooks.example.com/ami#token=secret",
    "https://user:password@hooks.example.com/ami",  # credentials in the authority
    "ftp://hooks.example.com",
    "https://",
])
def test_https_targets_must_be_https_without_query_fragment_or_credentials(url):
    with pytest.raises(ValidationError, match="https:// URL without query string"):
        NotificationTarget(method="HTTPS", target=url)


def test_the_original_http_method_is_not_accepted():
    # The original documented an HTTP method and silently ignored it.
    with pytest.raises(ValidationError, match="method"):
        NotificationTarget(method="HTTP", target="http://hooks.example.com")


def test_target_id_is_stable_and_ignores_email_case():
    one = NotificationTarget(method="EMAIL", target="User@Domain.com")
    assert one.target_id == NotificationTarget(method="EMAIL", target="user@domain.com").target_id
    assert one.target_id == NotificationTarget(method="EMAIL", target="User@Domain.com").target_id
    assert one.target_id.startswith("t-") and len(one.target_id) == 26
    assert one.target_id != NotificationTarget(method="EMAIL", target="other@domain.com").target_id


def test_target_id_ignores_the_case_of_an_https_host():
    assert (NotificationTarget(method="HTTPS", target="https://Hooks.Example.com/ami").target_id
            == NotificationTarget(method="HTTPS", target="https://hooks.example.com/ami").target_id)


def test_https_endpoints_that_differ_in_path_case_are_different_targets():
    assert (NotificationTarget(method="HTTPS", target="https://hooks.example.com/Team-A").target_id
            != NotificationTarget(method="HTTPS", target="https://hooks.example.com/team-a").target_id)


def test_target_ids_never_reveal_the_endpoint():
    target = NotificationTarget(method="HTTPS", target="https://hooks.example.com/private-path")
    assert "hooks" not in target.target_id and "private" not in target.target_id
