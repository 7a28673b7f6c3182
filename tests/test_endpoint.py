"""Endpointing as pure logic (durations and speech/no-speech in, decisions out) and capture with small fakes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any

import numpy as np
import pytest

from voicebox.core.audio import BLOCK_SAMPLES, AudioBlock, Pcm
from voicebox.core.events import Event
from voicebox.hear.capture import capture_command
from voicebox.hear.endpoint import Decision, Endpointer

BLOCK = 0.08


def feed(ep: Endpointer, pattern: Sequence[tuple[bool, float]]) -> list[Decision]:
    """Feed (is_speech, seconds) runs in 80 ms blocks; the decisions, one per block."""
    out = []
    for is_speech, seconds in pattern:
        for _ in range(round(seconds / BLOCK)):
            out.append(ep.feed(is_speech, BLOCK))
    return out


def test_pause_mid_command_is_not_cut_off() -> None:
    ep = Endpointer(silence_s=0.7, quick_silence_s=0.16)
    decisions = feed(ep, [(True, 1.0), (False, 0.48), (True, 0.56)])
    assert Decision.END not in decisions
    assert Decision.SPECULATE in decisions and decisions[-7] is Decision.RESUMED
    # The speculative result of the first half is incomplete ("set a timer for ..."): keep listening.
    assert ep.intent_complete(False) is Decision.LISTEN
    tail = feed(ep, [(False, 0.64)])
    assert tail[-1] is not Decision.END
    assert feed(ep, [(False, 0.08)]) == [Decision.END]


def test_complete_command_ends_early_on_quick_silence() -> None:
    ep = Endpointer(silence_s=0.7, quick_silence_s=0.16)
    decisions = feed(ep, [(True, 0.8), (False, 0.16)])
    assert decisions[-1] is Decision.SPECULATE
    assert ep.intent_complete(True) is Decision.END
    assert ep.trailing_silence_s < ep.silence_s
    assert ep.feed(False, BLOCK) is Decision.END  # stays ended


def test_incomplete_command_waits_for_the_long_silence() -> None:
    ep = Endpointer(silence_s=0.72, quick_silence_s=0.16)
    decisions = feed(ep, [(True, 0.8), (False, 0.16)])
    assert decisions[-1] is Decision.SPECULATE
    assert ep.intent_complete(False) is Decision.LISTEN
    decisions = feed(ep, [(False, 0.56)])
    assert decisions[-1] is Decision.END
    assert Decision.END not in decisions[:-1]


def test_speculation_is_dropped_when_speech_resumes() -> None:
    ep = Endpointer(quick_silence_s=0.16)
    assert feed(ep, [(True, 0.4), (False, 0.16)])[-1] is Decision.SPECULATE
    assert ep.feed(True, BLOCK) is Decision.RESUMED
    # A late "complete" answer for the dropped speculation must not end the command.
    assert ep.intent_complete(True) is Decision.LISTEN
    assert feed(ep, [(False, 0.16)])[-1] is Decision.SPECULATE  # the next pause speculates again


def test_never_ending_command_is_capped() -> None:
    ep = Endpointer(max_command_s=2.4)
    decisions = feed(ep, [(True, 4.0)])
    assert decisions.index(Decision.CAP) == round(2.4 / BLOCK) - 1
    assert ep.done


def test_cap_also_applies_during_a_pause() -> None:
    ep = Endpointer(max_command_s=1.6, silence_s=2.0, quick_silence_s=0.0)
    decisions = feed(ep, [(True, 1.2), (False, 0.8)])
    assert Decision.CAP in decisions and Decision.SPECULATE not in decisions


def test_no_speech_times_out() -> None:
    ep = Endpointer(no_speech_timeout_s=2.0)
    decisions = feed(ep, [(False, 3.0)])
    assert decisions.index(Decision.NO_SPEECH) == round(2.0 / BLOCK) - 1
    assert not ep.started


def test_a_short_blip_does_not_start_the_command() -> None:
    ep = Endpointer(speech_start_s=0.24, no_speech_timeout_s=1.0)
    feed(ep, [(True, 0.16), (False, 0.16), (True, 0.16)])
    assert not ep.started
    feed(ep, [(True, 0.08)])
    assert ep.started


def test_quick_silence_zero_never_speculates() -> None:
    ep = Endpointer(quick_silence_s=0.0, silence_s=0.4)
    decisions = feed(ep, [(True, 0.4), (False, 0.4)])
    assert Decision.SPECULATE not in decisions and decisions[-1] is Decision.END


# capture_command with a fake VAD (the Protocol) that says speech or not per block.


class ScriptedVad:
    """Speech probability read from the block's first sample (1 = speech)."""

    def probability(self, block: Pcm) -> float:
        return float(block[0])

    def reset(self) -> None:
        pass


def scripted_blocks(pattern: Sequence[tuple[bool, float]]) -> list[AudioBlock]:
    blocks = []
    for is_speech, seconds in pattern:
        for _ in range(round(seconds / BLOCK)):
            blocks.append(AudioBlock(np.full(BLOCK_SAMPLES, int(is_speech), np.int16), len(blocks) * 80))
    return blocks


async def aiter(blocks: list[AudioBlock]) -> AsyncIterator[AudioBlock]:
    for block in blocks:
        await asyncio.sleep(0)
        yield block


async def run_direct(func: Any) -> Any:
    return func()


def capture(pattern: Sequence[tuple[bool, float]], complete: bool) -> tuple[Any, list[int], list[Event]]:
    spoken: list[int] = []
    events: list[Event] = []

    async def speculate(audio: Pcm) -> str:
        spoken.append(int(audio.sum()) // BLOCK_SAMPLES)  # blocks of speech in what was recognized
        return "complete" if complete else "partial"

    async def main() -> Any:
        return await capture_command(aiter(scripted_blocks(pattern)), ScriptedVad(), Endpointer(silence_s=0.72),
                                     threshold=0.5, emit=events.append, run=run_direct, speculate=speculate,
                                     is_complete=lambda r: r == "complete", wait_for_speculation=True)

    return asyncio.run(main()), spoken, events


def test_capture_ends_on_a_complete_speculative_result() -> None:
    cap, spoken, _ = capture([(False, 0.4), (True, 0.8), (False, 2.0)], complete=True)
    assert cap.reason == "intent" and cap.early == "complete"
    assert spoken == [10]
    assert cap.end_stream_ms < (0.4 + 0.8 + 0.72) * 1000


def test_capture_keeps_listening_through_a_pause_and_drops_the_stale_guess() -> None:
    cap, spoken, events = capture([(True, 0.8), (False, 0.4), (True, 0.8), (False, 2.0)], complete=False)
    assert cap.reason == "silence"
    assert spoken == [10, 20]  # the second guess covers both halves
    assert cap.early == "partial"
    assert [e.name for e in events] == ["speech_started", "speech_ended"]


def test_capture_reports_no_speech() -> None:
    cap, spoken, events = capture([(False, 6.0)], complete=True)
    assert cap.reason == "no_speech" and len(cap.audio) == 0 and spoken == []
    assert events[-1].name == "no_speech"


@pytest.mark.parametrize("lead_s", [0.16, 2.0])
def test_capture_trims_long_silence_before_the_command(lead_s: float) -> None:
    cap, _, _ = capture([(False, lead_s), (True, 0.8), (False, 2.0)], complete=False)
    speech = int(cap.audio.sum())
    assert speech == round(0.8 / BLOCK) * BLOCK_SAMPLES
    assert len(cap.audio) / 16000 <= 0.8 + 0.72 + 0.4 + 1e-9
