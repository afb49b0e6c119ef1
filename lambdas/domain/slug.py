"""Stack tags as slugs: the one rule shared by the deployment's resource names, the API's stack_tag
and the AMI selection client (which derives a stack tag from a git branch)."""

from __future__ import annotations

import re

_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def slugify(value: str, max_length: int) -> str:
    """Lowercase; runs of anything but [a-z0-9] become '-'; no leading/trailing '-'; cut at max_length."""
    slug = _NOT_SLUG.sub("-", value.lower()).strip("-")[:max_length].strip("-")
    if not slug:
        raise ValueError(f"stack tag {value!r} has no letters or digits to build a slug from")
    return slug
