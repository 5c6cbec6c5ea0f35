"""The Lambda layer is built with the versions the tests ran with (constraints/dev.txt):
what is deployed is what was tested."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        if "==" in line:
            name, version = line.split("==")
            # As pip compares names: case, "-", "_" and "." alike; extras aside.
            pins[re.sub(r"[-_.]+", "-", name.split("[")[0]).lower()] = version.strip()
    return pins


def test_every_package_of_the_layer_is_pinned_to_the_version_tested():
    layer = ROOT / "layers" / "cloudsms" / "requirements.txt"
    wanted = [line for line in layer.read_text().splitlines() if line.strip()]
    tested = _pins(ROOT / "constraints" / "dev.txt")

    assert all("==" in line for line in wanted), "pin each package: name==version"
    assert {
        name: version for name, version in _pins(layer).items() if tested.get(name) != version
    } == {}
