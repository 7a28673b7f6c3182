"""Deferred imports: a module stands in until it is used, then works as the real one."""

from __future__ import annotations

import subprocess
import sys


def test_a_deferred_module_loads_on_first_use_and_works() -> None:
    code = (
        "import sys, importlib.util\n"
        "from voicebox.core.deferred import defer_import\n"
        "defer_import('json.tool', 'no_such_module_xyz')\n"
        "assert 'no_such_module_xyz' not in sys.modules\n"
        "import json.tool as tool\n"
        "assert type(tool).__name__ == '_OnFirstUse' and importlib.util.find_spec('json.tool') is not None\n"
        "assert callable(tool.main)\n"  # first use: the real module is imported and its attributes served
        "assert type(sys.modules['json.tool']).__name__ == 'module'\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


def test_faster_whisper_imports_without_pyav_until_it_decodes_a_file() -> None:
    code = (
        "import sys\n"
        "from voicebox.core.deferred import defer_import\n"
        "defer_import('av')\n"
        "import faster_whisper\n"
        "assert type(sys.modules['av']).__name__ == '_OnFirstUse'\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr
