"""Zeroconf with real peers: wyoming-satellite found by `voicebox run` with `[hub] zeroconf = true`, and
`voicebox satellite --uri` found by a zeroconf browser the way Home Assistant browses.

Both need multicast DNS on this machine (the ``mdns`` fixture skips saying
what is missing). Satellites listen on 0.0.0.0 because they announce the
address multicast leaves by, not loopback.
"""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from mdns import unique_name
from satellite_peer import MARK, MIC, SPEAKER, Recorder, raw, run_showing_logs, start_hub, start_satellite, stop, until
from wyoming.client import AsyncClient
from wyoming.event import Event
from wyoming.info import Describe, Info
from wyoming.server import AsyncServer
from wyoming_helpers import free_tcp_uri

from voicebox.core.audio import SAMPLE_RATE, read_wav

pytestmark = pytest.mark.slow
WYOMING = "_wyoming._tcp.local."


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("0.0.0.0", 0))
        return int(s.getsockname()[1])


def test_the_hub_finds_wyoming_satellite_with_zeroconf_and_answers_it(wyoming_satellite_path: Path, mdns: None,
                                                                     model_store: Any, shared_audio: Path,
                                                                     tmp_path: Path) -> None:
    """No `satellites` list: the hub hears wyoming-satellite's announcement, describes it, dials it, answers it."""
    control, played, detects = tmp_path / "mic", tmp_path / "played", tmp_path / "detects"
    for folder in (control, played, detects):
        folder.mkdir()
    (tmp_path / "mic.py").write_text(textwrap.dedent(MIC))
    (tmp_path / "mark.py").write_text(textwrap.dedent(MARK))
    (tmp_path / "speaker.py").write_text(textwrap.dedent(SPEAKER))
    said = np.concatenate([read_wav(shared_audio / "wyoming-openwakeword/hey_jarvis.wav"),
                           np.zeros(SAMPLE_RATE * 3 // 10, np.int16),
                           read_wav(shared_audio / "speech-to-phrase/en/what time is it.wav"),
                           np.zeros(SAMPLE_RATE * 2, np.int16)])
    name = unique_name("vbtest-wyoming-satellite")
    sat_uri, wake_uri, events_uri = f"tcp://0.0.0.0:{_free_port()}", free_tcp_uri(), free_tcp_uri()
    (tmp_path / "voicebox.toml").write_text(f'[paths]\nstate_dir = "{tmp_path / "state"}"\n\n[hub]\nzeroconf = true\n')
    seen: list[Event] = []

    async def scenario() -> None:
        changed = asyncio.Event()
        service = AsyncServer.from_uri(events_uri)
        await service.start(lambda r, w: Recorder(seen, changed, r, w))
        satellite = await start_satellite(
            wyoming_satellite_path, tmp_path, sat_uri, events_uri, "--name", "test den", "--zeroconf-name", name,
            "--wake-uri", wake_uri, "--wake-word-name", "hey_jarvis",
            "--detect-command", f"{sys.executable} {tmp_path / 'mark.py'} {detects}")
        hub = await start_hub(tmp_path, "--serve-uri", wake_uri)
        procs = [satellite, hub]
        try:
            await until(seen, changed, lambda t: "run-satellite" in t and len(list(detects.iterdir())) >= 2,
                        "the hub to find the satellite and its wake connection to open", procs)
            raw(said, control / "1.raw")
            await until(seen, changed, lambda t: "synthesize" in t and "audio-stop" in t[t.index("synthesize"):],
                        "the answer to 'what time is it'", procs)
            await until(seen, changed, lambda t: any(played.glob("*.raw")), "the satellite to finish playing", procs)
        finally:
            await stop(procs)
            await service.stop()

    run_showing_logs(scenario(), 300, tmp_path)
    found = [e for line in (tmp_path / "hub.jsonl").read_text().splitlines() if line.startswith("{")
             for e in [json.loads(line)] if e["event"] == "satellite_discovered" and e["service"].startswith(name)]
    assert [e["outcome"] for e in found if e["outcome"] != "not answering yet"][:1] == ["dialling"], found
    port = sat_uri.rsplit(":", 1)[1]
    assert found[-1]["uri"].endswith(f":{port}"), found
    assert [e.type for e in seen].count("run-satellite") == 1, "dialled more than once"
    transcripts = [str(e.data.get("text", "")) for e in seen if e.type == "transcript"]
    assert len(transcripts) == 1 and "time" in transcripts[0].lower(), transcripts
    streams = [p.stat().st_size for p in played.glob("*.raw")]
    assert streams and max(streams) > SAMPLE_RATE, streams  # over half a second of spoken answer


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])  # Ctrl+C, and systemd's stop
def test_voicebox_satellite_announces_itself_as_wyoming_satellite_does(mdns: None, model_store: Any,
                                                                      tmp_path: Path, stop_signal: int) -> None:
    """A zeroconf browser (as Home Assistant's) finds NAME._wyoming._tcp.local., describes it, sees a satellite."""
    from zeroconf import ServiceStateChange
    from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

    name = unique_name("vbtest-satellite")
    port = _free_port()
    full = f"{name}.{WYOMING}"
    log = tmp_path / "satellite.log"

    async def scenario() -> tuple[Any, Info, bool]:
        states: asyncio.Queue[ServiceStateChange] = asyncio.Queue()

        def changed(zeroconf: Any, service_type: str, name: str, state_change: ServiceStateChange) -> None:
            if name == full:
                states.put_nowait(state_change)

        azc = AsyncZeroconf()
        browser = AsyncServiceBrowser(azc.zeroconf, [WYOMING], handlers=[changed])
        sat = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "voicebox", "satellite", "--uri", f"tcp://0.0.0.0:{port}", "--zeroconf-name", name,
            "--name", "den", "--input", "-", "--output", "none", stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL, stderr=log.open("wb"))
        try:
            # Asked for by name until it answers (a browser's passive event can be missed on a loaded machine).
            deadline = asyncio.get_running_loop().time() + 120
            info = AsyncServiceInfo(WYOMING, full)
            while not await info.async_request(azc.zeroconf, 3000):
                assert asyncio.get_running_loop().time() < deadline, "not announced within 120 s"
                info = AsyncServiceInfo(WYOMING, full)
            address = info.parsed_addresses()[0]
            async with AsyncClient.from_uri(f"tcp://{address}:{info.port}", connect_timeout=10) as client:
                await client.write_event(Describe().event())
                while (event := await asyncio.wait_for(client.read_event(), 30)) is not None:
                    if Info.is_type(event.type):
                        break
                assert event is not None
                described = Info.from_event(event)
            sat.send_signal(stop_signal)  # the satellite stops and withdraws its announcement
            await asyncio.wait_for(sat.wait(), 60)
            # Withdrawn: its goodbye removes it from this browser (the event) and from the cache, where a satellite
            # that died without one would stay until its records' time to live ran out (minutes).
            withdrawn = False
            for _ in range(60):
                removed = not states.empty() and states.get_nowait() is ServiceStateChange.Removed
                withdrawn = removed or not AsyncServiceInfo(WYOMING, full).load_from_cache(azc.zeroconf)
                if withdrawn:
                    break
                await asyncio.sleep(0.5)  # polling the cache: nothing to wait on once the process is gone
            return info, described, withdrawn
        finally:
            if sat.returncode is None:
                sat.kill()
            await sat.wait()
            await browser.async_cancel()
            await azc.async_close()

    try:
        info, described, withdrawn = asyncio.run(asyncio.wait_for(scenario(), 240))
    except BaseException:
        print("---- satellite.log\n" + log.read_text(errors="replace")[-3000:])
        raise
    # What wyoming-satellite 1.0.0 announces: this type and name, one IPv4 address, the port, no properties.
    assert info.type == WYOMING and info.name == full and info.port == port, info
    assert len(info.parsed_addresses()) == 1 and "." in info.parsed_addresses()[0], info.parsed_addresses()
    assert not info.properties, info.properties
    assert described.satellite is not None and described.satellite.name == "den", described
    assert withdrawn
