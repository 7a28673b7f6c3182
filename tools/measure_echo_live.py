"""Echo removed on live sound devices: a recording played through voicebox's speaker sink, heard back in its microphone.

    eval "$(VA_DIR=/tmp/va bash tests/virtual_audio.sh start)"
    M=$(pactl load-module module-loopback source=virtual_speaker.monitor sink=virtual_mic_feed latency_msec=60)
    python tools/measure_echo_live.py reply.wav [--save run.npz]
    pactl unload-module $M

``SpeakerSink`` plays the file with the playback reference on, ``MicrophoneSource`` records with the Speex
canceller on (as ``voicebox run`` does with ``echo_cancel = "auto"``). Printed every 2 s of playback: the echo
removed (ERLE, dB: microphone energy before the canceller over after), the delay in use and the last
cross-correlation measurement; at the end, the lag between the microphone and the reference handed to the
canceller in 2 s windows (50 ms = the reference leads the echo by the intended margin). Needs the devices to
carry the speaker back into the microphone (a loudspeaker next to a microphone, or the loopback above).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from pathlib import Path

import numpy as np

from voicebox.audio_io.echo import PlaybackReference
from voicebox.audio_io.sinks import SpeakerSink
from voicebox.audio_io.sources import MicrophoneSource
from voicebox.core.audio import SAMPLE_RATE, Pcm, read_wav
from voicebox.engines.speex_aec import SpeexEchoCanceller


async def _measure(pcm: Pcm) -> tuple[Pcm, Pcm, Pcm]:
    aec = SpeexEchoCanceller()
    mics: list[Pcm] = []
    refs: list[Pcm] = []
    outs: list[Pcm] = []
    window = [0.0, 0.0, 0]
    source: MicrophoneSource | None = None

    def cancel(mic: Pcm, played: Pcm) -> Pcm:
        out = aec.process(mic, played)
        mics.append(mic.copy())
        refs.append(played.copy())
        outs.append(out)
        if played.any():
            window[0] += float(np.sum(np.square(mic, dtype=np.float64)))
            window[1] += float(np.sum(np.square(out, dtype=np.float64)))
            window[2] += 1
            if window[2] == 25 and source is not None:
                estimator = source._delay  # noqa: SLF001 - a measuring tool reads the source's estimate
                print(f"ERLE {10 * np.log10((window[0] + 1) / (window[1] + 1)):5.1f} dB  delay {estimator.delay_s} s  "
                      f"last measured {estimator.last[0]:.3f} s at correlation {estimator.last[1]:.2f}", flush=True)
                window[:] = [0.0, 0.0, 0]
        return out

    reference = PlaybackReference()
    sink = SpeakerSink(reference=reference)
    source = MicrophoneSource(reference=reference, canceller=cancel)

    async def consume() -> None:
        async for _ in source.blocks():
            pass

    task = asyncio.create_task(consume(), name="microphone")
    try:
        await asyncio.sleep(1.0)
        await sink.write(pcm)
        await sink.drain()
        await asyncio.sleep(1.0)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        sink.close()
        aec.close()
    return np.concatenate(mics), np.concatenate(refs), np.concatenate(outs)


def _lags(mic: Pcm, ref: Pcm, window_s: float = 2.0, reach: int = 12000) -> None:
    n = int(window_s * SAMPLE_RATE)
    m_all, r_all = mic.astype(np.float64), ref.astype(np.float64)
    for start in range(reach, len(m_all) - n - reach, n):
        m = m_all[start : start + n]
        segment = r_all[start - reach : start + n + reach]
        c = np.correlate(segment, m, mode="valid")
        j = int(np.argmax(np.abs(c)))
        corr = c[j] / np.sqrt(np.sum(m * m) * np.sum(segment[j : j + n] ** 2) + 1.0)
        print(f"  {start / SAMPLE_RATE:6.1f} s  echo {(reach - j) / 16:7.1f} ms after the reference handed over, "
              f"correlation {corr:.2f}")


def main() -> None:
    """Play, record, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wav", type=Path)
    parser.add_argument("--save", type=Path, help="write mic, reference and output to this .npz")
    args = parser.parse_args()
    mic, ref, out = asyncio.run(_measure(read_wav(args.wav)))
    print("lag of the echo behind the reference handed to the canceller:")
    _lags(mic, ref)
    if args.save:
        np.savez(args.save, mic=mic, ref=ref, out=out)


if __name__ == "__main__":
    main()
