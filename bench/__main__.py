"""`python -m bench` (`make bench`): every benchmark, each in a process of its own so that
one's memory does not count in another's, then a summary. Exits 1 when a target is missed.

A benchmark is any module of this package not starting with "_"; `python -m bench.<name>`
runs it, and it writes results/<name>.json. Those in ALONE run only that way.
"""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

from bench import RESULTS, number_list_file

# Run only on their own, not with every benchmark: request_cpu takes minutes of CPU (a
# 100,000-message log seeded, each heavy request at its limit) to size template.yaml's
# memory once, with a factor for Lambda's cores that is assumed (README.md "Request time
# on Lambda"); no change of the code's is likely to move it between runs.
ALONE = {"request_cpu"}


def benchmarks() -> list[str]:
    package = Path(__file__).parent
    names = (m.name for m in pkgutil.iter_modules([str(package)]))
    return sorted(name for name in names if name[0] != "_" and name not in ALONE)


def main() -> int:
    number_list_file()
    root = Path(__file__).parent.parent
    missed = []
    for name in benchmarks():
        print(f"running bench.{name} ...", flush=True)
        subprocess.run([sys.executable, "-m", f"bench.{name}"], check=True, cwd=root)
        result = json.loads((RESULTS / f"{name}.json").read_text())
        for figure_name, figure in result["figures"].items():
            target = "" if figure["target"] is None else f"  target {figure['target']:,.3f}"
            verdict = {True: "  met", False: "  MISSED", None: ""}[figure["met"]]
            print(f"  {figure_name:36} {figure['value']:>14,.3f}{target}{verdict}")
            if figure["met"] is False:
                missed.append(f"{name}.{figure_name}")
    print(f"results in {RESULTS}")
    if missed:
        print("targets missed: " + ", ".join(missed))
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
