"""A bare "stop" while voicebox plays: the short-utterance cutter (numbers), the phrases, and the real models."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import numpy as np
import pytest

from voicebox.core.audio import BLOCK_SAMPLES, SAMPLE_RATE, AudioBlock
from voicebox.hear.stop_word import StopSegmenter, is_stop_phrase


def _feed(segmenter: StopSegmenter, probabilities: list[float]) -> list[tuple[int, int]]:
    """(block index, length in blocks) of each utterance returned; block i holds the value i everywhere."""
    out = []
    for i, p in enumerate(probabilities):
        audio = segmenter.feed(np.full(BLOCK_SAMPLES, i, np.int16), p)
        if audio is not None:
            out.append((i, len(audio) // BLOCK_SAMPLES))
    return out


def test_a_short_utterance_is_cut_out_with_a_little_context() -> None:
    seg = StopSegmenter(max_speech_s=1.5, end_silence_s=0.24, pad_blocks=2)
    probs = [0.0] * 5 + [0.9] * 8 + [0.0] * 6
    (ended, blocks), = _feed(seg, probs)
    assert ended == 5 + 8 + 2  # three quiet blocks after the speech
    assert blocks == 2 + 8 + 2  # two before, the speech, two after


def test_talk_longer_than_a_stop_is_dropped_until_the_next_silence() -> None:
    seg = StopSegmenter(max_speech_s=1.5, end_silence_s=0.24)
    long_talk = [0.9] * 30 + [0.0] + [0.9] * 4 + [0.0] * 4  # 2.4 s of speech, a short pause, more speech
    assert _feed(seg, long_talk) == []
    assert _feed(seg, [0.0, 0.9, 0.9, 0.9, 0.0, 0.0, 0.0]) != []  # after the silence, a "stop" is heard again


def test_only_a_whole_stop_phrase_counts() -> None:
    for said in ("Stop.", "stop!", " Stop it. ", "Cancel.", "Be quiet.", "That's enough.", "Shut up!", "Stop. Stop."):
        assert is_stop_phrase(said), said
    for said in ("", "Stop the timer in five minutes.", "I'll stop", "Don't stop.", "Set a timer", "Stop. Go."):
        assert not is_stop_phrase(said), said


@pytest.mark.slow
def test_a_synthesized_stop_over_the_alarm_is_heard_through_the_echo_canceller_and_the_alarm_alone_is_not(
        model_store: object) -> None:
    from voicebox.core.audio import resample
    from voicebox.core.config import Config
    from voicebox.daemon.assistant import load_asr, load_tts, load_vad
    from voicebox.engines.speex_aec import speexdsp_available
    from voicebox.measure.barge_in import echo_path, stops_heard
    from voicebox.speak.sounds import alarm_clock

    if not speexdsp_available():
        pytest.skip("libspeexdsp not installed (apt install libspeexdsp1)")
    config = Config()
    tts, vad, asr = load_tts(config, model_store), load_vad(model_store), load_asr(config, model_store)  # type: ignore[arg-type]
    stop = np.concatenate([resample(c, tts.sample_rate) for c in tts.synthesize("Stop.")]).astype(np.float64)
    played = np.tile(alarm_clock(), 5)
    rng = np.random.default_rng(1)
    echo = echo_path(played, rng) + rng.standard_normal(len(played)) * 20
    # The user, as loud as the alarm's echo, in its fourth ring: the canceller has had three rings to converge.
    at = len(played) * 3 // 5 + SAMPLE_RATE // 4
    voice = stop * np.sqrt(np.mean(echo**2)) / np.sqrt(np.mean(stop**2))
    mic = echo.copy()
    mic[at : at + len(voice)] += voice
    hits = stops_heard(vad, asr, mic, played)
    assert any(at // BLOCK_SAMPLES <= h <= (at + len(voice)) // BLOCK_SAMPLES + 12 for h in hits), hits
    assert stops_heard(vad, asr, echo, played) == []  # its own alarm, heard back, is never a "stop"


class _PlaysUntilStopped:
    """A sink whose sound plays until ``stop`` cuts it (or the test ends it): ``drain`` waits for that."""

    def __init__(self) -> None:
        self.written = 0
        self.stops = 0
        self._cut: asyncio.Event | None = None

    def _event(self) -> asyncio.Event:
        self._cut = self._cut or asyncio.Event()
        return self._cut

    async def write(self, pcm: np.ndarray) -> None:
        self.written += len(pcm)

    async def drain(self) -> None:
        await self._event().wait()

    def stop(self) -> None:
        self.stops += 1
        self._event().set()

    def ended(self) -> None:
        self._event().set()

    def close(self) -> None:
        pass


def _pipeline_run(stop_words: list[int], *, bare_stop: bool = True) -> tuple[list[str], list[str], _PlaysUntilStopped]:
    """A command whose reply plays until cut, then the words ``stop_words`` said over it without the wake word."""
    from fakes import SPEECH_LEVEL, WAKE_LEVEL, FakeRecognizer, FakeSynth, FakeVad, FakeWake, block

    from voicebox.act.dispatch import Dispatcher
    from voicebox.core.config import Config
    from voicebox.core.events import Event
    from voicebox.daemon.assistant import load_skill_set
    from voicebox.turn.pipeline import Engines, Pipeline

    config = Config()
    skills, intents = load_skill_set(config)
    engines = Engines(wake=FakeWake(), vad=FakeVad(), asr=FakeRecognizer(["what", "time", "is", "it", "stop", "the"]),
                      intents=intents, dispatcher=Dispatcher(skills), tts=FakeSynth(), wake_models=("hey_jarvis",))
    sink = _PlaysUntilStopped()
    events: list[Event] = []
    pipeline = Pipeline(engines, config, sink=sink, emit=events.append, realtime=True)  # type: ignore[arg-type]
    pipeline.bare_stop = bare_stop
    speech = [block(SPEECH_LEVEL + 500, word=w) for w in (0, 1, 2, 3)]
    said = [block(SPEECH_LEVEL + 500, word=w) for w in stop_words]

    async def stream() -> AsyncIterator[AudioBlock]:
        parts = [block(WAKE_LEVEL), *speech, *[block(0)] * 20, *said, *[block(0)] * 10]
        for i, samples in enumerate(parts):
            yield AudioBlock(samples, i * 80)
            await asyncio.sleep(0.01)  # the reply's task runs meanwhile
        sink.ended()  # the reply plays to its end after the input, if nothing cut it

    async def main() -> None:
        await asyncio.wait_for(pipeline.run(stream()), timeout=60)

    try:
        asyncio.run(main())
    finally:
        pipeline.close()
        engines.close()
    return ([e.name for e in events],
            [f"{e.skill}.{e.intent}" for e in events if e.name == "intent"], sink)  # type: ignore[attr-defined]


def test_a_bare_stop_over_the_reply_cuts_it_and_runs_the_control_skills_stop() -> None:
    names, intents, sink = _pipeline_run([4])
    assert intents == ["time_date.GetTime", "control.Stop"], names
    assert names.count("wake") == 1 and sink.stops >= 1


def test_other_words_over_the_reply_or_a_bare_stop_switched_off_change_nothing() -> None:
    names, intents, sink = _pipeline_run([4, 5, 1])  # "stop the time": not a stop phrase
    assert intents == ["time_date.GetTime"] and sink.stops == 0, names
    names, intents, sink = _pipeline_run([4], bare_stop=False)
    assert intents == ["time_date.GetTime"] and sink.stops == 0, names
