"""The two confinements, tried directly: what each process can see, write and reach.

``jail.argv`` (the job process) shows no home at all; ``jail.confined`` (the dev worker that
executes verified plans) shows the samples it was given and nothing else of the home. Both are
bubblewrap; these tests run real processes in them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from sandbox.runtime import jail

_PROBE = """
import json, os, socket, sys
paths = json.loads(sys.argv[1])
seen = {name: os.path.exists(path) for name, path in paths.items()}
writes = {}
for name in ("samples", "run"):
    try:
        open(os.path.join(paths[name], "probe"), "w").close()
        writes[name] = True
    except OSError:
        writes[name] = False
print(json.dumps({"seen": seen, "writes": writes, "db": socket.socket().connect_ex(("127.0.0.1", 5432))}))
"""


def _home(tmp_path: Path) -> dict[str, Path]:
    paths = {
        "samples": tmp_path / "home" / "samples" / "elderly-care" / "hukou_population",
        "other_samples": tmp_path / "home" / "samples" / "rental-housing" / "housing_units",
        "raw": tmp_path / "home" / "raw" / "hukou_population",
        "secrets": tmp_path / "home" / "secrets",
        "run": tmp_path / "home" / "work" / "dev-run",
    }
    for path in paths.values():
        path.mkdir(parents=True)
    return paths


def test_the_dev_executor_sees_its_samples_and_nothing_else_of_the_home(tmp_path):
    paths = _home(tmp_path)
    argv = jail.confined([sys.executable, "-c", _PROBE, json.dumps({k: str(v) for k, v in paths.items()})],
                         read_only=[paths["samples"]], writable=[paths["run"]])  # fmt: skip
    probe = json.loads(subprocess.run(argv, capture_output=True, text=True, check=True).stdout)
    assert probe["seen"] == {
        "samples": True,
        "other_samples": False,
        "raw": False,
        "secrets": False,
        "run": True,
    }
    assert probe["writes"] == {"samples": False, "run": True}
    assert probe["db"] != 0, "loopback is its own: the host's database is not there"


def test_the_job_process_sees_no_home_and_writes_nothing(tmp_path):
    paths = _home(tmp_path)
    job = tmp_path / "job"
    job.mkdir()
    command = jail.argv(job, tmp_path / "home" / "work")
    probe_argv = [
        *command[: command.index("-I")],
        "-I",
        "-c",
        _PROBE,
        json.dumps({k: str(v) for k, v in paths.items()}),
    ]
    probe = json.loads(subprocess.run(probe_argv, capture_output=True, text=True, check=True).stdout)
    assert not any(probe["seen"].values()) and not any(probe["writes"].values())
    assert probe["db"] != 0
