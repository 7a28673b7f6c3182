"""Privacy seen from outside the process: under ``strace -f`` (every thread, child and native library, DNS
included), a spoken turn, a Wyoming session and an idle minute make no network attempt beyond loopback and
create no file outside voicebox's own folders."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import psutil
import pytest
from conftest import say
from daemon_proc import DaemonProc
from spoken import concat_wavs
from syscalls import created_paths, network_attempts, outside, strace_prefix, strace_usable
from wyoming.asr import Transcribe
from wyoming.client import AsyncClient
from wyoming.info import Describe
from wyoming.tts import Synthesize
from wyoming_helpers import free_tcp_uri, read_until, send_wav, words

from voicebox.models.store import default_models_dir

_NO_STRACE = strace_usable()
IDLE_S = 60.0


def test_the_tracer_sees_a_native_dns_lookup(tmp_path: Path) -> None:
    # the control: a lookup made by C code (glibc's resolver, as ONNX Runtime's telemetry makes) is recorded
    if _NO_STRACE:
        pytest.skip(_NO_STRACE)
    log = tmp_path / "trace.log"
    code = ("import socket, os\n"
            "try: socket.getaddrinfo('mobile.events.data.microsoft.com', 443)\n"
            "except OSError: pass\n"
            "socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'x', ('127.0.0.1', 9))\n"
            "open(os.path.join(os.environ['HOME'], 'stray.txt'), 'w').close()\n")
    subprocess.run([*strace_prefix(log), sys.executable, "-c", code], env={**os.environ, "HOME": str(tmp_path)},
                   check=True, capture_output=True)
    text = log.read_text()
    attempts = network_attempts(text)
    assert attempts, text[-3000:]  # a resolver on loopback still counts: port 53 is a lookup of the world
    assert all(":53" in a.target or "nscd" in a.target or "resolve" in a.target for a in attempts), attempts
    assert not any(a.target == "127.0.0.1:9" for a in attempts)  # plain loopback is allowed
    assert tmp_path / "stray.txt" in created_paths(text, tmp_path)


def _child_env(home: Path) -> dict[str, str]:
    """A fresh home for the children, without ORT_DISABLE_TELEMETRY: voicebox must set it itself."""
    env = {k: v for k, v in os.environ.items() if k != "ORT_DISABLE_TELEMETRY"}
    env.update({"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"), "XDG_STATE_HOME": str(home / ".state"),
                "XDG_DATA_HOME": str(home / ".data"), "XDG_CACHE_HOME": str(home / ".cache"),
                "TMPDIR": str(home / "tmp"), "PYTHONDONTWRITEBYTECODE": "1"})
    for name in ("tmp", ".config", ".state", ".data", ".cache"):
        (home / name).mkdir(mode=0o700, parents=True)
    return env


def _wait_listening(uri: str, proc: subprocess.Popen[bytes], timeout_s: float = 300) -> None:
    host, port = uri.removeprefix("tcp://").rsplit(":", 1)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"voicebox serve exited ({proc.returncode})")
        try:
            socket.create_connection((host, int(port)), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"voicebox serve not listening at {uri} after {timeout_s} s")


async def _wyoming_session(uri: str, speech: Path) -> str:
    async with AsyncClient.from_uri(uri) as client:
        await client.write_event(Describe().event())
        await read_until(client, "info")
        await client.write_event(Transcribe(language="en").event())
        await send_wav(client, speech)
        transcript = (await read_until(client, "transcript"))[-1]
        await client.write_event(Synthesize(text="It is a quiet day.").event())
        await read_until(client, "audio-stop")
        return str((transcript.data or {}).get("text", ""))


@pytest.mark.slow
@pytest.mark.skipif(bool(_NO_STRACE), reason=_NO_STRACE or "strace works")
def test_a_turn_a_wyoming_session_and_an_idle_minute_stay_on_this_machine(tmp_path: Path,
                                                                          model_store: object) -> None:
    home = tmp_path / "home"
    env = _child_env(home)
    speech = tmp_path / "said.wav"
    said = say("Hey Jarvis. What time is it?", speech)
    assert said.returncode == 0, said.stderr
    command = concat_wavs(tmp_path / "command.wav", 0.5, speech, 1.0)

    run_log, serve_log = tmp_path / "run.trace", tmp_path / "serve.trace"
    uri = free_tcp_uri()
    # serve keeps persistent state too: a folder of its own inside voicebox's, or the run daemon's lock refuses it
    serve_config = home / ".config" / "voicebox" / "serve.toml"
    serve_config.parent.mkdir(parents=True, exist_ok=True)
    serve_config.write_text(f'[paths]\nstate_dir = "{home / ".state" / "voicebox" / "serve"}"\n')
    server = subprocess.Popen([*strace_prefix(serve_log), sys.executable, "-m", "voicebox", "serve", "--uri", uri,
                               "--config", str(serve_config)],
                              cwd=home, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    daemon = DaemonProc(env=env, prefix=strace_prefix(run_log), cwd=home)
    try:
        daemon.wait_for(lambda e: e["event"] == "ready", 300)
        from voicebox.core.audio import read_wav

        daemon.feed(read_wav(command))
        response = daemon.wait_for(lambda e: e["event"] == "response", 300)
        assert response["speech"], response
        _wait_listening(uri, server)
        heard = asyncio.run(asyncio.wait_for(_wyoming_session(uri, speech), 300))
        assert "time" in words(heard), heard
        # the idle minute: both keep running (the daemon hears silence at real-time pace); telemetry would
        # have looked its host up about 10 s after start, and again later
        idle_until = time.monotonic() + IDLE_S
        while time.monotonic() < idle_until:
            daemon.feed(np.zeros(1280 * 2, np.int16))
            time.sleep(0.16)
        assert server.poll() is None and daemon.proc.poll() is None
    finally:
        traced = psutil.Process(server.pid).children()  # strace passes no signal on: stop the server it runs
        for child in traced:
            child.send_signal(signal.SIGTERM)
        server_err = server.communicate(timeout=120)[1].decode("utf-8", "replace")
        assert daemon.close() == 0, "".join(daemon.stderr[-20:])
    assert traced and server.returncode in (0, -signal.SIGTERM), server_err[-2000:]  # strace mirrors its exit

    for log in (run_log, serve_log):
        text = log.read_text()
        attempts = network_attempts(text)
        assert attempts == [], f"{log.name}: " + "\n".join(a.line for a in attempts[:20])
        own = [Path(env[v]) / "voicebox" for v in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME",
                                                   "XDG_CACHE_HOME")]
        allowed = [*own, default_models_dir(), Path("/dev"), Path("/proc"), Path("/sys")]
        stray = outside(created_paths(text, home), allowed)
        assert stray == [], f"{log.name}: files created outside voicebox's folders: {stray}"
    left = sorted(p for p in home.rglob("*") if p.is_file())
    # Only voicebox's own state and cache (the semantic matcher's sentence vectors), and the serve config written here.
    kept = [Path(env["XDG_STATE_HOME"]) / "voicebox", Path(env["XDG_CACHE_HOME"]) / "voicebox",
            Path(env["XDG_CONFIG_HOME"]) / "voicebox"]
    assert all(any(k in p.parents for k in kept) for p in left), left
    assert not (home / ".cache" / "Microsoft").exists()


@pytest.mark.parametrize("entry", ["import voicebox.cli.main", "import voicebox.testing", "import voicebox.skill"])
def test_every_entry_point_turns_onnxruntime_telemetry_off_before_it_loads(entry: str) -> None:
    code = f"{entry}\nimport os, sys\nprint(os.environ.get('ORT_DISABLE_TELEMETRY'), 'onnxruntime' in sys.modules)"
    env = {k: v for k, v in os.environ.items() if k != "ORT_DISABLE_TELEMETRY"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["1", "False"], done.stdout + done.stderr


def test_the_service_unit_turns_telemetry_off_and_claims_no_address_filter() -> None:
    from voicebox.core.resources import unit_template_path

    for name in ("voicebox.service", "voicebox-system.service"):
        lines = unit_template_path(name).read_text(encoding="utf-8").splitlines()
        assert "Environment=ORT_DISABLE_TELEMETRY=1" in lines, name
    # systemd does not enforce IPAddressDeny= in user units: the user unit must not pretend it does
    user = unit_template_path("voicebox.service").read_text(encoding="utf-8").splitlines()
    assert not any(line.startswith(("IPAddressDeny=", "IPAddressAllow=")) for line in user)
