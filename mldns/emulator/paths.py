"""The URL forms gcloud builds, folded onto the paths the emulator routes.

gcloud joins an `api_endpoint_overrides/<api>` value and its own relative path. With an override
of `http://HOST/dns/v1/` it calls `/dns/v1/projects/...` for v1 but `/dns/v1/dns/v2/projects/...`
for v2 methods (zone IAM), and with `http://HOST/cloudresourcemanager/v1/` it calls
`/cloudresourcemanager/v1/v1/projects/...`, and with `http://HOST/tpu/v1/` the TPU API's
`/tpu/v1/v2/projects/...`. An override of `http://HOST/` gives the plain `/dns/v2/...`, `/v1/...`
and `/v2/...` forms. All of them name the same resources, so the doubled prefix is dropped before
routing.
"""

from __future__ import annotations

import re

_DOUBLED = re.compile(
    r"^/(?:dns|compute|cloudresourcemanager|storage|tpu)/v\w+(?=/(?:(?:dns|compute|storage)/)?v\d\w*/)"
)


def canonical(path: str) -> str:
    """`path` without the override's prefix when gcloud doubled it."""
    return _DOUBLED.sub("", path, count=1)
