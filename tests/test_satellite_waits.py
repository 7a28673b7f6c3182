"""A satellite whose audio has ended waits for the answer to its turn, however slow the hub is."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import numpy as np
from fakes import FakeWake
from wyoming.asr import Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.event import Event
from wyoming.satellite import RunSatellite
from wyoming.server import AsyncEventHandler, AsyncServer
from wyoming_helpers import free_tcp_uri

from voicebox.audio_io.sinks import NullSink
from voicebox.core.audio import SAMPLE_RATE, AudioBlock, blocks_of
from voicebox.core.config import config_from_dict
from voicebox.core.events import Event as VoiceboxEvent
from voicebox.remote.satellite import ReplyPlayed, Satellite


class SlowHub(AsyncEventHandler):
    """Accepts the satellite, takes its command, and answers only once the test lets it (a slow hub)."""

    answer = asyncio.Event()
    heard_stop = asyncio.Event()

    async def handle_event(self, event: Event) -> bool:
        if event.type == "info":
            await self.write_event(RunSatellite().event())
        elif AudioStop.is_type(event.type):
            SlowHub.heard_stop.set()
            await SlowHub.answer.wait()
            await self.write_event(Transcript(text="what time is it").event())
            await self.write_event(AudioStart(rate=SAMPLE_RATE, width=2, channels=1).event())
            reply = np.full(SAMPLE_RATE // 2, 1000, np.int16).tobytes()
            await self.write_event(AudioChunk(rate=SAMPLE_RATE, width=2, channels=1, audio=reply).event())
            await self.write_event(AudioStop().event())
        return True


def test_a_satellite_whose_audio_ended_waits_for_a_slow_hubs_answer() -> None:
    async def main() -> list[VoiceboxEvent]:
        SlowHub.answer, SlowHub.heard_stop = asyncio.Event(), asyncio.Event()
        uri = free_tcp_uri()
        server = AsyncServer.from_uri(uri)
        await server.start(SlowHub)
        events: list[VoiceboxEvent] = []
        satellite = Satellite(config_from_dict({}), uri, wake=FakeWake(), sink=NullSink(), emit=events.append)
        await satellite.connect()

        async def one_command() -> AsyncIterator[AudioBlock]:
            await satellite.start_streaming(None)  # as after a wake word
            for block in blocks_of(np.zeros(SAMPLE_RATE, np.int16)):
                yield block

        async def release_when_stopped() -> None:
            await SlowHub.heard_stop.wait()
            await asyncio.sleep(1.0)  # the audio has ended: the satellite must keep waiting meanwhile
            SlowHub.answer.set()

        releaser = asyncio.create_task(release_when_stopped())
        await asyncio.wait_for(satellite.run(one_command()), 300)
        await releaser
        await server.stop()
        return events

    events = asyncio.run(main())
    played = [e for e in events if isinstance(e, ReplyPlayed)]
    assert len(played) == 1 and played[0].audio_ms == 500, [e.name for e in events]
