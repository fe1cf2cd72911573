"""docs/openapi.yaml describes every route the server registers (and nothing it does not)."""
import os
import subprocess

import yaml

from conftest import BINARY, ROOT


def test_every_route_is_in_the_openapi_document():
    served = set(subprocess.run([BINARY, "routes"], capture_output=True, text=True, check=True).stdout.split("\n")) - {""}
    with open(os.path.join(ROOT, "docs", "openapi.yaml")) as file:
        document = yaml.safe_load(file)
    described = {f"{method.upper()} {path}" for path, item in document["paths"].items() for method in item}
    assert served - described == set(), "routes missing from docs/openapi.yaml"
    assert described - served == set(), "docs/openapi.yaml describes routes the server does not have"
