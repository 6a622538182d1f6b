"""Google Cloud project ids: the one check of their form, made before an id reaches a URL."""

from __future__ import annotations

import re

# As Google forms them: lowercase letters, digits and hyphens, starting with a letter and not
# ending with a hyphen; a legacy one may carry a domain ("example.com:my-project").
PROJECT_ID = re.compile(r"(?:[a-z0-9.-]+:)?[a-z](?:[a-z0-9-]*[a-z0-9])?")


def project_problem(project: object) -> str | None:
    """Why `project` is not a project id, or None."""
    if isinstance(project, str) and PROJECT_ID.fullmatch(project):
        return None
    return (
        f"{project!r} is not a project id "
        "(lowercase letters, digits and hyphens, starting with a letter)"
    )
