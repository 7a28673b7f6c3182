"""Pure parts of the Wyoming layer: sentence streaming, transcript events, addresses, optional zeroconf."""

from __future__ import annotations

import asyncio
import sys

import numpy as np
import pytest
from wyoming.asr import Transcript, TranscriptChunk
from wyoming.audio import AudioChunk

from voicebox.core.audio import BLOCK_MS, BLOCK_SAMPLES, blocks_of
from voicebox.core.errors import ConfigError
from voicebox.remote.connection import AudioReceiver, check_uri, is_loopback
from voicebox.remote.speech import transcript_events
from voicebox.speak.sentences import SentenceBuffer


def test_sentences_come_out_whole_as_text_streams_in() -> None:
    buf = SentenceBuffer(max_chars=1000)
    assert buf.add("The kitchen light ") == []
    assert buf.add("is on. The door") == ["The kitchen light is on."]
    assert buf.add(" is locked! Is it") == ["The door is locked!"]
    assert buf.finish() == "Is it"
    assert buf.finish() == ""


def test_a_run_without_sentence_end_is_flushed_at_the_limit() -> None:
    buf = SentenceBuffer(max_chars=20)
    assert buf.add("a" * 15) == []
    assert buf.add("b" * 10) == ["a" * 15 + "b" * 10]


@pytest.mark.parametrize("samples_per_chunk", [1, 100, 1024, BLOCK_SAMPLES, 3000])
def test_received_audio_comes_out_in_whole_blocks_and_the_rest_unpadded(samples_per_chunk: int) -> None:
    pcm = (np.arange(BLOCK_SAMPLES * 3 + 77) % 500 + 1).astype(np.int16)
    receiver = AudioReceiver()
    blocks = []
    for start in range(0, len(pcm), samples_per_chunk):
        piece = pcm[start : start + samples_per_chunk].astype("<i2").tobytes()
        blocks += receiver.feed(AudioChunk(rate=16000, width=2, channels=1, audio=piece).event())
    assert [b.start_ms for b in blocks] == [b.start_ms for b in blocks_of(pcm)][:3]
    assert np.array_equal(np.concatenate([b.samples for b in blocks]), pcm[: 3 * BLOCK_SAMPLES])
    assert receiver.position_ms == 3 * BLOCK_MS
    assert np.array_equal(receiver.flush(), pcm[3 * BLOCK_SAMPLES :])  # what ASR gets after the last block
    assert len(receiver.flush()) == 0


def test_transcript_chunks_join_to_the_final_text() -> None:
    events = transcript_events("set a timer for 5 minutes", streaming=True, language="en")
    assert [e.type for e in events][:1] == ["transcript-start"]
    assert [e.type for e in events][-2:] == ["transcript", "transcript-stop"]
    chunks = "".join(TranscriptChunk.from_event(e).text for e in events if e.type == "transcript-chunk")
    assert chunks == Transcript.from_event(events[-2]).text
    assert [e.type for e in transcript_events("hi", streaming=False, language="en")] == ["transcript"]


@pytest.mark.parametrize("uri", ["tcp://127.0.0.1:10700", "tcp://[::1]:1", "unix:///tmp/x.sock", "tcp://0.0.0.0:1"])
def test_valid_addresses(uri: str) -> None:
    assert check_uri(uri, what="--uri") == uri


@pytest.mark.parametrize("uri", ["127.0.0.1:10700", "tcp://127.0.0.1", "http://x:1", "unix://", "tcp://h:notaport"])
def test_invalid_addresses_name_the_form_expected(uri: str) -> None:
    with pytest.raises(ConfigError, match=r"tcp://HOST:PORT"):
        check_uri(uri, what="--uri")


def test_loopback_detection() -> None:
    assert is_loopback("tcp://127.0.0.1:1") and is_loopback("tcp://localhost:1") and is_loopback("unix:///x")
    assert not is_loopback("tcp://0.0.0.0:1") and not is_loopback("tcp://192.168.1.5:1")


def test_zeroconf_without_the_package_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from voicebox.remote.zeroconf import announce, browse

    for module in ("zeroconf", "zeroconf.asyncio"):
        monkeypatch.setitem(sys.modules, module, None)  # as if never installed: importing it raises ImportError
    with pytest.raises(ConfigError, match="pip install zeroconf"):
        asyncio.run(announce("tcp://127.0.0.1:10700"))

    async def first_change() -> object:
        return await anext(browse())

    with pytest.raises(ConfigError, match="pip install zeroconf"):
        asyncio.run(first_change())
