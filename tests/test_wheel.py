"""The wheel carries every runtime resource, and an unpacked wheel finds them without the repository."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


def test_an_unpacked_wheel_finds_its_catalogue_skills_and_unit_outside_the_repository(tmp_path: Path) -> None:
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path / "dist"),
                            str(REPO)], capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr
    wheel = next((tmp_path / "dist").glob("voicebox-*.whl"))
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        zf.extractall(site)
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names), sorted(names)[:20]
    probe = ("import json; from voicebox.core import resources as r; "
             "print(json.dumps([str(r.catalogue_path()), str(r.builtin_skills_dir()), "
             "str(r.unit_template_path('voicebox.service')), str(r.unit_template_path('voicebox-system.service'))]))")
    out = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                         env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    for found in map(Path, json.loads(out.stdout)):
        assert found.exists(), found
        assert site in found.parents, f"{found} is not inside the unpacked wheel"
    assert (site / "voicebox" / "_data" / "skills" / "timers" / "sentences" / "en.yaml").is_file()
