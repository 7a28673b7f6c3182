"""Barge-in over a simulated echo path: the wake word said while voicebox speaks, and its own audio heard back."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from voicebox.core.audio import BLOCK_SAMPLES, SAMPLE_RATE, Pcm, resample
from voicebox.hear.stop_word import StopSegmenter, is_stop_phrase
from voicebox.hear.wake import WakeDecider

__all__ = ["REPLY_TEXT", "echo_path", "measure_barge_in", "stops_heard"]

REPLY_TEXT = ("It is a quarter past ten in the morning. Your pizza timer has four minutes left, and the tea timer "
              "is paused. Tomorrow will be dry and mild, with a light breeze from the west and a high of seventeen "
              "degrees. I have added milk, eggs and bread to your shopping list.")
_DELAY_MS = 30  # loudspeaker to microphone, plus the sound card's buffers
_ECHO_OVER_VOICE_DB = 6.0  # a speaker at conversation level, nearer the microphone than the user
_TRIALS = 8
_FIRST_S = 2.0  # the canceller needs about this long to converge on speech


def echo_path(played: npt.NDArray[np.floating[Any]] | Pcm, rng: np.random.Generator) -> npt.NDArray[np.float64]:
    """What a microphone hears of ``played``: a delay and a small room's impulse response (about 0.1 s)."""
    rir = np.zeros(SAMPLE_RATE // 10)
    rir[[0, 80, 400, 1200]] = (0.6, 0.25, 0.1, 0.05)
    rir += 0.02 * rng.standard_normal(len(rir)) * np.exp(-np.arange(len(rir)) / 300)
    delayed = np.concatenate([np.zeros(SAMPLE_RATE * _DELAY_MS // 1000), np.asarray(played, np.float64)])
    out: npt.NDArray[np.float64] = np.convolve(delayed, rir)[: len(played)]
    return out


def _rms(x: npt.NDArray[Any]) -> float:
    return float(np.sqrt(np.mean(np.square(x.astype(np.float64))))) or 1.0


def _wakes(detector: Any, config: Any, mic: npt.NDArray[np.float64], played: Pcm, cancel: bool,
           until: int | None = None) -> list[int]:
    """Blocks at which the configured wake decision fires on ``mic`` (echo-cancelled against ``played``)."""
    from voicebox.engines.speex_aec import SpeexEchoCanceller

    detector.reset()
    decider = WakeDecider.from_config(config.wake)
    aec = SpeexEchoCanceller() if cancel else None
    pcm = np.clip(mic, -32768, 32767).astype(np.int16)
    hits = []
    try:
        for i in range(min(len(pcm) // BLOCK_SAMPLES, until if until is not None else len(pcm))):
            block = pcm[i * BLOCK_SAMPLES : (i + 1) * BLOCK_SAMPLES]
            if aec is not None:
                block = aec.process(block, played[i * BLOCK_SAMPLES : (i + 1) * BLOCK_SAMPLES])
            if decider.feed(detector.process(block)) is not None:
                hits.append(i)
    finally:
        if aec is not None:
            aec.close()
    return hits


def stops_heard(vad: Any, asr: Any, mic: npt.NDArray[np.float64], played: Pcm, *, cancel: bool = True,
                from_block: int = 0, threshold: float = 0.5) -> list[int]:
    """Blocks at which a bare stop phrase ends in ``mic`` (echo-cancelled against ``played``), as the pipeline hears
    it while voicebox plays: the VAD's short utterances from ``from_block`` on, transcribed, checked."""
    from voicebox.engines.speex_aec import SpeexEchoCanceller

    vad.reset()
    segmenter = StopSegmenter(threshold=threshold)
    aec = SpeexEchoCanceller() if cancel else None
    pcm = np.clip(mic, -32768, 32767).astype(np.int16)
    hits = []
    try:
        for i in range(len(pcm) // BLOCK_SAMPLES):
            block = pcm[i * BLOCK_SAMPLES : (i + 1) * BLOCK_SAMPLES]
            if aec is not None:  # from the start: the canceller converges on what came before
                block = aec.process(block, played[i * BLOCK_SAMPLES : (i + 1) * BLOCK_SAMPLES])
            if i < from_block:
                continue
            utterance = segmenter.feed(block, vad.probability(block))
            if utterance is not None and is_stop_phrase(asr.transcribe(utterance).text):
                hits.append(i)
    finally:
        if aec is not None:
            aec.close()
    return hits


def measure_barge_in(detector: Any, tts: Any, config: Any, wake: Pcm, alarm: Pcm, *, vad: Any = None,
                     asr: Any = None, stop: Pcm | None = None) -> dict[str, Any]:
    """``barge_in_wake_rate`` (with the echo canceller, and without it), ``barge_in_stop_rate`` and ``self_wakes``.

    The reply is spoken by the configured voice, then the alarm rings;
    ``wake`` is said over the reply at ``_TRIALS`` moments after the
    canceller's first ``_FIRST_S`` seconds, and over the ringing alarm at half
    as many (``barge_in_alarm_wake_rate``), ``_ECHO_OVER_VOICE_DB`` quieter
    than the reply's echo. With ``vad``, ``asr`` and ``stop`` (a spoken
    "stop"), ``barge_in_stop_rate`` is the share of bare "stop"s said over the
    ringing alarm at as many moments, at the same level, that
    :func:`stops_heard` finds (``_no_aec``: without the canceller), and
    ``self_stops`` counts stops found in the reply and alarm heard back alone;
    without them, ``barge_in_stop_rate`` is the wake word's over the alarm.
    ``self_wakes`` counts wakes on the reply and the alarm heard back alone.
    """
    rng = np.random.default_rng(0)
    reply = np.concatenate([resample(c, tts.sample_rate) for c in tts.synthesize(REPLY_TEXT)])
    played = np.concatenate([reply, np.zeros(SAMPLE_RATE // 2, np.int16), np.tile(alarm, 4)])
    echo = echo_path(played, rng) + rng.standard_normal(len(played)) * 20
    voice = wake.astype(np.float64) * (_rms(echo[: len(reply)]) / _rms(wake)) / 10 ** (_ECHO_OVER_VOICE_DB / 20)
    span_s = len(reply) / SAMPLE_RATE - _FIRST_S - len(wake) / SAMPLE_RATE - 1.0
    starts = [int((_FIRST_S + span_s * k / max(1, _TRIALS - 1)) * SAMPLE_RATE) for k in range(_TRIALS)]
    ringing = len(reply) + SAMPLE_RATE // 2
    alarm_span = len(played) - ringing - len(wake) - SAMPLE_RATE
    over_alarm = [ringing + alarm_span * k // (_TRIALS // 2 - 1) for k in range(_TRIALS // 2)]
    heard = {True: 0, False: 0}
    for at in starts:
        heard[True] += _heard(detector, config, echo, voice, played, at, True)
        heard[False] += _heard(detector, config, echo, voice, played, at, False)
    stopped = sum(_heard(detector, config, echo, voice, played, at, True) for at in over_alarm)
    self_wakes = len(_wakes(detector, config, echo, played, True))
    detector.reset()
    result = {"barge_in_wake_rate": round(heard[True] / len(starts), 3),
              "barge_in_wake_rate_no_aec": round(heard[False] / len(starts), 3),
              "barge_in_stop_rate": round(stopped / len(over_alarm), 3),
              "barge_in_alarm_wake_rate": round(stopped / len(over_alarm), 3),
              "self_wakes": self_wakes, "barge_in_trials": len(starts) + len(over_alarm)}
    if vad is not None and asr is not None and stop is not None:
        said = stop.astype(np.float64) * (_rms(echo[: len(reply)]) / _rms(stop)) / 10 ** (_ECHO_OVER_VOICE_DB / 20)
        at_stop = [ringing + (len(played) - ringing - len(stop) - SAMPLE_RATE) * k // (_TRIALS // 2 - 1)
                   for k in range(_TRIALS // 2)]
        rates = {}
        for cancel in (True, False):
            found = 0
            for at in at_stop:
                mic = echo.copy()
                mic[at : at + len(said)] += said[: len(mic) - at]
                first, last = at // BLOCK_SAMPLES, (at + len(said)) // BLOCK_SAMPLES + 12
                hits = stops_heard(vad, asr, mic, played, cancel=cancel, from_block=ringing // BLOCK_SAMPLES - 12)
                found += any(first <= h <= last for h in hits)
            rates[cancel] = round(found / len(at_stop), 3)
        result |= {"barge_in_stop_rate": rates[True], "barge_in_stop_rate_no_aec": rates[False],
                   "self_stops": len(stops_heard(vad, asr, echo, played))}
        result["barge_in_trials"] += 2 * len(at_stop)
    return result


def _heard(detector: Any, config: Any, echo: npt.NDArray[np.float64], voice: npt.NDArray[np.float64], played: Pcm,
           at: int, cancel: bool) -> bool:
    """Whether the wake word said at sample ``at`` over the echo is detected while it is said or just after."""
    mic = echo.copy()
    mic[at : at + len(voice)] += voice[: len(mic) - at]
    first, last = at // BLOCK_SAMPLES, (at + len(voice)) // BLOCK_SAMPLES + 12
    return any(first <= h <= last for h in _wakes(detector, config, mic, played, cancel, last + 1))
