"""``voicebox satellite``: run a room satellite against a hub, reconnecting when the hub goes away."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
from typing import Any

from voicebox.audio_io.supervise import Backoff
from voicebox.cli.main import EXTENSIONS, command, make_emitter
from voicebox.core.config import Config
from voicebox.core.errors import DeviceError
from voicebox.remote.satellite import Satellite

__all__: list[str] = []

_LOG = logging.getLogger(__name__)


def _add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    sat = sub.add_parser("satellite", parents=[common], help="a room satellite: wake word here, answers from a hub")
    sat.add_argument("--hub", metavar="URI", help="the hub: tcp://HOST:PORT or unix://PATH (default: [satellite] hub)")
    sat.add_argument("--token", help="the hub's shared token (default: $VOICEBOX_HUB_TOKEN, then [hub] token)")
    sat.add_argument("--name", help="this satellite's name (default: [satellite] name, then the host name)")
    sat.add_argument("--area", help="the room it is in (default: [satellite] area)")
    sat.add_argument("--input", default="mic", help="mic (default), a WAV file, or - for raw 16 kHz s16le on stdin")
    sat.add_argument("--output", default="speaker", help="speaker (default), a WAV file path, or none")
    sat.add_argument("--input-device", metavar="NAME|INDEX", help="microphone (overrides [audio] input_device)")
    sat.add_argument("--output-device", metavar="NAME|INDEX", help="speaker (overrides [audio] output_device)")
    sat.add_argument("--realtime", action="store_true", help="pace file input at real time (default: fast)")
    sat.add_argument("--json", action="store_true", help="print events as JSON lines")


EXTENSIONS.append(_add_parser)


@command("satellite")
def cmd_satellite(args: argparse.Namespace, config: Config) -> int:
    """Connect to the hub and serve this room until the input ends (file) or forever (microphone)."""
    from voicebox.cli.commands import _sink, _source
    from voicebox.daemon.assistant import load_wake, model_store, required_models

    emit = make_emitter(args.json)
    store = model_store(config)
    store.require(required_models(config, stages=("wake",)))
    wake = load_wake(config, store)
    source = _source(args.input, config, args.input_device, args.realtime, emit)
    sink = _sink(args.output, config, args.output_device, emit)
    token = args.token if args.token is not None else os.environ.get("VOICEBOX_HUB_TOKEN", config.hub.token)
    sat_cfg = config.satellite

    async def serve() -> None:
        backoff = Backoff(first_s=0.5, max_s=sat_cfg.reconnect_max_s)
        while True:
            satellite = Satellite(config, args.hub or sat_cfg.hub, wake=wake, sink=sink, emit=emit, token=token,
                                  name=args.name or sat_cfg.name, area=args.area or sat_cfg.area)
            try:
                await satellite.connect()
                backoff.reset()
                await satellite.run(source.blocks())
                return
            except DeviceError as err:
                if args.input != "mic":
                    raise
                delay = backoff.next_delay_s()
                _LOG.warning("%s; retrying in %.1f s", err.message, delay)
                await asyncio.sleep(delay)

    try:
        asyncio.run(serve())
    finally:
        sink.close()
    return 0
