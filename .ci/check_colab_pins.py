"""CI's Colab stage: check that the environment holds Colab's versions, before and after installing us.

Usage: python3 .ci/check_colab_pins.py PINS FREEZE_BEFORE FREEZE_AFTER

PINS is .ci/colab-versions.txt; the two freezes are `pip freeze` of the stage's
environment after installing PINS ("Colab") and after `pip install -e .[test]`.
It fails (exit status 1, one line per problem) when a pinned package is not at
its pinned version, or when installing the package changed or removed anything
Colab has: on Colab, the notebooks' `pip install` must leave Colab's packages
as they are. Packages the install adds (nbval, hypothesis, ...) are listed.

Example: python3 .ci/check_colab_pins.py .ci/colab-versions.txt before.txt after.txt
  41 packages at Colab's pinned versions; installing agnews_bert added nbval==0.11.0, ...
"""

import re
import sys
from pathlib import Path


def normalized(name: str) -> str:
    """A distribution name as pip compares it (PEP 503). Example: "PyYAML" -> "pyyaml", "hf_xet" -> "hf-xet" """
    return re.sub(r"[-_.]+", "-", name).lower()


def read_versions(path) -> dict:
    """{name: version} from a requirements or `pip freeze` file; comments, options and URLs are left out."""
    versions = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        line = line.split("#")[0].strip()
        if "==" in line and not line.startswith("-"):
            name, version = line.split("==", 1)
            versions[normalized(name)] = version.strip()
    return versions


def problems(pins: dict, before: dict, after: dict) -> list:
    """One line for each pin not met and each of Colab's packages that installing us changed or removed."""
    found = [f"{name}: pinned {version}, installed {before.get(name, 'nothing')} (before installing agnews_bert)"
             for name, version in pins.items() if before.get(name) != version]
    found += [f"{name}: installing agnews_bert changed {version} to {after.get(name, 'nothing')}"
              for name, version in before.items() if after.get(name) != version]
    return found


def main(pins_path, before_path, after_path) -> int:
    pins, before, after = read_versions(pins_path), read_versions(before_path), read_versions(after_path)
    found = problems(pins, before, after)
    for line in found:
        print(f"colab pins: {line}")
    if found:
        print(f"colab pins: {len(found)} problems; Colab's versions are in {pins_path}")
        return 1
    added = sorted(f"{name}=={version}" for name, version in after.items() if name not in before)
    print(f"{len(pins)} packages at Colab's pinned versions; installing agnews_bert added {', '.join(added) or 'nothing'}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:]))
