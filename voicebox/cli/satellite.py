"""``voicebox satellite``: run a room satellite against a hub, reconnecting when the hub goes away."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
from collections.abc import Coroutine
from typing import Any

from voicebox.audio_io.supervise import Backoff
from voicebox.cli.command import Command, add_audio_arguments
from voicebox.cli.commands import audio_sink, audio_source, echo_reference
from voicebox.cli.output import make_emitter
from voicebox.core.config import Config
from voicebox.core.errors import DeviceError, NetworkError
from voicebox.remote.satellite import Satellite

__all__ = ["SATELLITE"]

_LOG = logging.getLogger(__name__)


def _arguments(p: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    p.add_argument("--hub", metavar="URI", help="the hub: tcp://HOST:PORT or unix://PATH (default: [satellite] hub)")
    p.add_argument("--uri", metavar="URI", help="instead of dialling a hub, listen at tcp://HOST:PORT (e.g. "
                   "tcp://0.0.0.0:10700) for one, as Home Assistant and `[hub] satellites` expect of a Wyoming satellite")
    p.add_argument("--no-zeroconf", action="store_true", help="with --uri: do not announce this satellite with "
                   "zeroconf (by default it is announced as NAME._wyoming._tcp.local., as wyoming-satellite does)")
    p.add_argument("--zeroconf-name", default="", help="with --uri: the name announced with zeroconf (default: this "
                   "machine's MAC address, as wyoming-satellite)")
    p.add_argument("--zeroconf-host", default="", help="with --uri: the address announced with zeroconf (default: "
                   "the --uri address, or the outgoing interface's for 0.0.0.0)")
    p.add_argument("--token", help="the hub's shared token (default: $VOICEBOX_HUB_TOKEN, then [hub] token)")
    p.add_argument("--name", help="this satellite's name (default: [satellite] name, then the host name)")
    p.add_argument("--area", help="the room it is in (default: [satellite] area)")
    add_audio_arguments(p)


def cmd_satellite(args: argparse.Namespace, config: Config) -> int:
    """Connect to the hub and serve this room until the input ends (file) or forever (microphone)."""
    from voicebox.daemon.assistant import load_wake, model_store, required_models

    emit = make_emitter(args.json)
    store = model_store(config)
    store.require(required_models(config, stages=("wake",)))
    wake = load_wake(config, store)
    reference = echo_reference(args, config)
    source = audio_source(args.input, config, args.input_device, args.realtime, emit, reference)
    sink = audio_sink(args.output, config, args.output_device, emit, reference)
    token = args.token if args.token is not None else os.environ.get("VOICEBOX_HUB_TOKEN", config.hub.token)
    sat_cfg = config.satellite

    if args.uri:
        from voicebox.remote.connection import check_uri
        from voicebox.remote.satellite_server import serve_satellite

        uri = check_uri(args.uri, what="--uri")
        satellite = Satellite(config, sat_cfg.hub, wake=wake, sink=sink, emit=emit, name=args.name or sat_cfg.name,
                              area=args.area or sat_cfg.area)
        try:
            asyncio.run(_until_sigterm(serve_satellite(satellite, uri, source.blocks(),
                                                       zeroconf_name=None if args.no_zeroconf else args.zeroconf_name,
                                                       zeroconf_host=args.zeroconf_host)))
        finally:
            sink.close()
        return 0

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
            except (DeviceError, NetworkError) as err:
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


async def _until_sigterm(work: Coroutine[Any, Any, None]) -> None:
    """Run ``work``; SIGTERM (systemd's stop) ends it as Ctrl+C does, through its own clean-up (the zeroconf
    announcement withdrawn, the server closed)."""
    task = asyncio.ensure_future(work)
    stopping = False

    def stop() -> None:
        nonlocal stopping
        stopping = True
        task.cancel()

    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop)
    try:
        await task
    except asyncio.CancelledError:
        if not stopping:
            raise
        _LOG.info("SIGTERM: satellite stopped")
    finally:
        loop.remove_signal_handler(signal.SIGTERM)


SATELLITE = Command("satellite", "a room satellite: wake word here, answers from a hub", cmd_satellite, _arguments)
