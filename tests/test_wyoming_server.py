"""`voicebox serve` through the wyoming library's own client: describe, STT, TTS, wake word, intents, skills."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from wyoming.asr import Transcribe, Transcript, TranscriptChunk
from wyoming.client import AsyncClient
from wyoming.handle import Handled, NotHandled
from wyoming.info import Describe, Info
from wyoming.intent import Intent, NotRecognized, Recognize
from wyoming.tts import Synthesize, SynthesizeChunk, SynthesizeStart, SynthesizeStop
from wyoming.wake import Detect, Detection
from wyoming_helpers import audio_of, free_tcp_uri, read_until, send_wav, served, words

from voicebox.core.audio import resample
from voicebox.core.config import Config

pytestmark = pytest.mark.slow


def _run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 300))


def test_describe_reports_the_loaded_engines_and_skills(engines: Any, model_store: Any, tmp_path: Path) -> None:
    uri = f"unix://{tmp_path}/wy.sock"

    async def scenario() -> Info:
        async with served(engines, model_store, uri), AsyncClient.from_uri(uri) as client:
            await client.write_event(Describe().event())
            return Info.from_event((await read_until(client, "info"))[-1])

    info = _run(scenario())
    config = Config()
    assert [m.name for m in info.asr[0].models] == [config.asr.model]
    assert info.asr[0].supports_transcript_streaming is True
    assert [v.name for v in info.tts[0].voices] == [config.tts.voice]
    assert info.tts[0].supports_synthesize_streaming is True
    assert [m.name for m in info.wake[0].models] == list(config.wake.models)
    assert info.wake[0].models[0].phrase == "hey jarvis"
    assert "time_date" in (info.handle[0].models[0].description or "")
    assert info.intent[0].models[0].languages == ["en"]


def test_a_real_recording_is_transcribed_with_streamed_chunks(engines: Any, model_store: Any,
                                                               shared_audio: Path) -> None:
    uri = free_tcp_uri()

    async def scenario() -> list[Any]:
        async with served(engines, model_store, uri), AsyncClient.from_uri(uri) as client:
            await client.write_event(Transcribe(language="en").event())
            await send_wav(client, shared_audio / "speech-to-phrase/en/what time is it.wav")
            return await read_until(client, "transcript-stop")

    events = _run(scenario())
    types = [e.type for e in events]
    # The spec's order: the final transcript, then the end of the stream.
    assert types[0] == "transcript-start" and types[-2:] == ["transcript", "transcript-stop"]
    final = Transcript.from_event(events[-2]).text
    assert words(final) == ["what", "time", "is", "it"]
    streamed = "".join(TranscriptChunk.from_event(e).text for e in events if e.type == "transcript-chunk")
    assert streamed.strip() == final.strip()


def test_streaming_can_be_turned_off(engines: Any, model_store: Any, tmp_path: Path, shared_audio: Path) -> None:
    uri = f"unix://{tmp_path}/wy.sock"
    config = Config().replace("wyoming", transcript_streaming=False)

    async def scenario() -> list[Any]:
        async with served(engines, model_store, uri, config), AsyncClient.from_uri(uri) as client:
            await client.write_event(Transcribe(language="en").event())
            await send_wav(client, shared_audio / "speech-to-phrase/en/what's the date.wav")
            return await read_until(client, "transcript")

    events = _run(scenario())
    assert [e.type for e in events] == ["transcript"]
    assert words(Transcript.from_event(events[0]).text)[-1] == "date"


def test_a_synthesized_sentence_transcribes_back(engines: Any, model_store: Any, tmp_path: Path) -> None:
    uri = f"unix://{tmp_path}/wy.sock"
    sentence = "Set a timer for ten minutes."

    async def scenario() -> list[Any]:
        async with served(engines, model_store, uri), AsyncClient.from_uri(uri) as client:
            await client.write_event(Synthesize(text=sentence).event())
            return await read_until(client, "audio-stop")

    events = _run(scenario())
    assert events[0].type == "audio-start"
    pcm, rate = audio_of(events)
    assert rate == engines.tts.sample_rate
    heard = set(words(engines.asr.transcribe(resample(pcm, rate)).text))
    # Piper samples its voice, so a word may come out slurred now and then: most must be heard.
    assert len(heard & {"set", "timer", "ten", "10", "minutes"}) >= 3, heard


def test_streamed_text_is_spoken_sentence_by_sentence(engines: Any, model_store: Any, tmp_path: Path) -> None:
    uri = f"unix://{tmp_path}/wy.sock"

    async def scenario() -> list[Any]:
        async with served(engines, model_store, uri), AsyncClient.from_uri(uri) as client:
            await client.write_event(SynthesizeStart().event())
            for piece in ["How are you ", "doing today? Thank ", "you very much for ", "your help."]:
                await client.write_event(SynthesizeChunk(text=piece).event())
            # Home Assistant also sends the whole text for servers that do not stream: it must not be spoken twice.
            await client.write_event(Synthesize(text="How are you doing today? Thank you very much for your help.").event())
            await client.write_event(SynthesizeStop().event())
            return await read_until(client, "synthesize-stopped")

    events = _run(scenario())
    types = [e.type for e in events]
    assert types.count("audio-start") == 2 and types.count("audio-stop") == 2
    first_stop = types.index("audio-stop")
    first, rate = audio_of(events[: first_stop + 1])
    second, _ = audio_of(events[first_stop + 1 :])
    # Piper's voices are sampled (not deterministic): check each stream holds its own sentence, not every word.
    first_words = words(engines.asr.transcribe(resample(first, rate)).text)
    second_words = words(engines.asr.transcribe(resample(second, rate)).text)
    one, two = {"how", "are", "doing", "today"}, {"thank", "very", "much", "help"}
    assert len(one & set(first_words)) >= 2 and not two & set(first_words), first_words
    assert len(two & set(second_words)) >= 2 and not one & set(second_words), second_words


def test_wake_word_detected_in_a_recording_and_not_in_a_negative(engines: Any, model_store: Any, tmp_path: Path,
                                                                 shared_audio: Path) -> None:
    uri = f"unix://{tmp_path}/wy.sock"

    async def detect(client: AsyncClient, clip: str) -> list[Any]:
        await client.write_event(Detect(names=["hey_jarvis"]).event())
        await send_wav(client, shared_audio / "wyoming-openwakeword" / clip)
        return await read_until(client, "not-detected", "detection")

    async def scenario() -> tuple[list[Any], list[Any]]:
        async with served(engines, model_store, uri), AsyncClient.from_uri(uri) as client:
            await client.write_event(Detect(names=["hey_jarvis"]).event())
            await send_wav(client, shared_audio / "wyoming-openwakeword/hey_jarvis.wav")
            positive = await read_until(client, "detection")
            # Same connection, next stream: a different phrase must give not-detected.
            negative = await detect(client, "snowboy.wav")
            return positive, negative

    positive, negative = _run(scenario())
    hit = Detection.from_event(positive[-1])
    assert hit.name == "hey_jarvis" and hit.timestamp is not None and 0 < hit.timestamp <= 2000
    assert [e.type for e in negative] == ["not-detected"]


def test_intent_recognized_and_handled_by_the_skills(engines: Any, model_store: Any, tmp_path: Path) -> None:
    uri = f"unix://{tmp_path}/wy.sock"

    async def ask(client: AsyncClient, event: Any, *answers: str) -> Any:
        await client.write_event(event.event())
        return (await read_until(client, *answers))[-1]

    async def scenario() -> list[Any]:
        async with served(engines, model_store, uri), AsyncClient.from_uri(uri) as client:
            return [
                await ask(client, Recognize(text="what time is it"), "intent", "not-recognized"),
                await ask(client, Recognize(text="paint the fence purple"), "intent", "not-recognized"),
                await ask(client, Transcript(text="what's the date today"), "handled", "not-handled"),
                await ask(client, Transcript(text="paint the fence purple"), "handled", "not-handled"),
            ]

    intent, unknown, handled, unhandled = _run(scenario())
    # Home Assistant's own name for the intent (HA implements it), voicebox's own in the context.
    assert Intent.is_type(intent.type) and Intent.from_event(intent).name == "HassGetCurrentTime"
    assert Intent.from_event(intent).context == {"skill": "time_date", "voicebox_intent": "GetTime"}
    assert NotRecognized.is_type(unknown.type)
    assert Handled.is_type(handled.type)
    import datetime as dt

    assert dt.date.today().strftime("%B") in (Handled.from_event(handled).text or "")
    assert NotHandled.is_type(unhandled.type) and "didn't understand" in (NotHandled.from_event(unhandled).text or "")


def test_silence_gives_an_empty_transcript(engines: Any, model_store: Any, tmp_path: Path) -> None:
    uri = f"unix://{tmp_path}/wy.sock"

    async def scenario() -> list[Any]:
        from wyoming_helpers import send_pcm

        async with served(engines, model_store, uri), AsyncClient.from_uri(uri) as client:
            await send_pcm(client, np.zeros(800, np.int16))
            return await read_until(client, "transcript")

    assert Transcript.from_event(_run(scenario())[-1]).text == ""


def test_one_wake_connection_reused_like_wyoming_satellite_fires_once(engines: Any, model_store: Any, tmp_path: Path,
                                                                      shared_audio: Path) -> None:
    """wyoming-satellite keeps one wake connection: `detect`, audio (no audio-start) until a detection, `detect` again."""
    from wyoming.audio import AudioChunk
    from wyoming.ping import Ping

    from voicebox.core.audio import read_wav

    uri = f"unix://{tmp_path}/wy.sock"
    wake = read_wav(shared_audio / "wyoming-openwakeword/hey_jarvis.wav")

    async def chunks(client: AsyncClient, pcm: np.ndarray) -> None:
        for start in range(0, len(pcm), 1024):
            piece = np.ascontiguousarray(pcm[start : start + 1024], "<i2").tobytes()
            await client.write_event(AudioChunk(rate=16000, width=2, channels=1, audio=piece).event())

    async def scenario() -> tuple[list[Any], list[Any]]:
        async with served(engines, model_store, uri), AsyncClient.from_uri(uri) as client:
            await client.write_event(Detect(names=["hey_jarvis"]).event())
            first: list[Any] = []
            for start in range(0, len(wake), 1024):  # in lockstep: stop at the detection, as the satellite does
                await chunks(client, wake[start : start + 1024])
                await client.write_event(Ping(text="sync").event())
                first += await read_until(client, "pong")
                if any(e.type == "detection" for e in first):
                    break
            first = [e for e in first if e.type == "detection"]
            # The satellite streams the command to the hub, then asks for the wake word again on this connection.
            await client.write_event(Detect(names=["hey_jarvis"]).event())
            await chunks(client, np.zeros(16000 * 3, np.int16))
            await client.write_event(Ping(text="after 3 s of silence").event())
            return first, await read_until(client, "pong")

    first, after = _run(scenario())
    assert Detection.from_event(first[-1]).name == "hey_jarvis"
    assert [e.type for e in after] == ["pong"]


def test_a_client_that_sends_no_detect_hears_every_loaded_model(engines: Any, model_store: Any, tmp_path: Path,
                                                                shared_audio: Path) -> None:
    uri = f"unix://{tmp_path}/wy.sock"

    async def scenario() -> list[Any]:
        async with served(engines, model_store, uri), AsyncClient.from_uri(uri) as client:
            await send_wav(client, shared_audio / "wyoming-openwakeword/hey_jarvis.wav")  # neither detect nor transcribe
            return await read_until(client, "detection", "not-detected")

    events = _run(scenario())
    assert Detection.from_event(events[-1]).name == "hey_jarvis"
