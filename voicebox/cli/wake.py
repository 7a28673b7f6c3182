"""``voicebox wake enroll`` and ``voicebox wake test``: a personal wake word from a few recordings."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

import numpy as np

from voicebox.cli.command import Command
from voicebox.core.audio import SAMPLE_RATE, Pcm, read_wav
from voicebox.core.config import Config
from voicebox.core.errors import CODE_WAKE_ENROL, WakeError

__all__ = ["WAKE"]

_TAKE_S = 3.0
_METER_WIDTH = 30


def _wake_arguments(p: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    wsub = p.add_subparsers(dest="wake_command", metavar="ACTION", required=True)
    enroll = wsub.add_parser("enroll", parents=[common], help="make a personal wake word from 3-5 recordings")
    enroll.add_argument("name", metavar="NAME", help="the model's name, e.g. hey_computer (then [wake] models = [NAME])")
    enroll.add_argument("clips", nargs="*", type=Path, metavar="CLIP.wav", help="recordings of the word, 3 to 5")
    enroll.add_argument("--mic", action="store_true", help="record the takes with the microphone instead")
    enroll.add_argument("--takes", type=int, default=3, help="how many takes --mic records (3-5, default 3)")
    enroll.add_argument("--word", default="", help="the words spoken, for eval and listings (default: NAME)")
    enroll.add_argument("--input-device", metavar="NAME|INDEX", help="microphone (overrides [audio] input_device)")
    test = wsub.add_parser("test", parents=[common], help="show a wake word's scores on recordings")
    test.add_argument("name", metavar="NAME", help="a wake-word model (personal or pre-trained)")
    test.add_argument("clips", nargs="+", type=Path, metavar="CLIP.wav")


def _meter(pcm: Pcm) -> str:
    from voicebox.hear.wake import block_dbfs

    level = block_dbfs(pcm)
    filled = int(round(_METER_WIDTH * min(1.0, max(0.0, (level + 60) / 60))))
    return f"[{'#' * filled}{'.' * (_METER_WIDTH - filled)}] {level:6.1f} dBFS"


async def _record(device: str, seconds: float) -> Pcm:
    from voicebox.audio_io.sources import MicrophoneSource

    mic = MicrophoneSource(device)
    blocks: list[Pcm] = []
    async for block in mic.blocks():
        blocks.append(block.samples)
        print(f"\r  {_meter(block.samples)}", end="", file=sys.stderr, flush=True)
        if len(blocks) * len(block.samples) >= seconds * SAMPLE_RATE:
            break
    print(file=sys.stderr)
    return np.concatenate(blocks)


def _mic_takes(args: argparse.Namespace, config: Config) -> list[tuple[str, Pcm]]:
    if not 3 <= args.takes <= 5:
        raise WakeError(f"--takes {args.takes}: record 3 to 5 takes", code=CODE_WAKE_ENROL)
    device = args.input_device if args.input_device is not None else config.audio.input_device
    takes = []
    for n in range(1, args.takes + 1):
        input(f"take {n} of {args.takes}: press Enter, then say the wake word once ({_TAKE_S:.0f} s) ")
        takes.append((f"take {n}", asyncio.run(_record(device, _TAKE_S))))
    return takes


def cmd_wake(args: argparse.Namespace, config: Config) -> int:
    """``wake enroll`` and ``wake test``."""
    from voicebox.daemon.assistant import model_store
    from voicebox.daemon.personal_wake import Enroller, is_personal, load_personal
    from voicebox.hear.personal import EnrolmentRejected

    store = model_store(config)
    if args.wake_command == "enroll":
        if args.mic == bool(args.clips):
            raise WakeError("give 3 to 5 recordings (CLIP.wav ...) or --mic to record them", code=CODE_WAKE_ENROL)
        clips = _mic_takes(args, config) if args.mic else [(str(p), read_wav(p)) for p in args.clips]
        enroller = Enroller(config, store, log=lambda msg: print(f"voicebox wake: {msg}", file=sys.stderr))
        try:
            model, enrolment = enroller.enrol(args.name, clips, word=args.word)
        except EnrolmentRejected as err:
            raise WakeError(f"enrolment rejected: {err}", code=CODE_WAKE_ENROL) from err
        print(f"personal wake word {model.name!r} stored in {store.dir(model.name)} "
              f"(threshold distance {enrolment.threshold:.3f}; closest built-in negative {enrolment.closest_negative:.3f},"
              f" farthest own recording {enrolment.worst_own:.3f})")
        print(f"use it with: [wake] models = [\"{model.name}\"]")
        return 0
    if not is_personal(store.catalogue, args.name):
        return _test_pretrained(args, config)
    model = load_personal(store, args.name)
    enroller = Enroller(config, store)
    for path in args.clips:
        score = enroller.scores(model, read_wav(path))
        print(f"{path}\t{score:.3f}\t{'wake' if score >= config.wake.thresholds.get(model.name, config.wake.threshold) else '-'}")
    return 0


def _test_pretrained(args: argparse.Namespace, config: Config) -> int:
    from voicebox.core.audio import BlockFramer
    from voicebox.daemon.assistant import load_wake, model_store

    wake_config = config.replace("wake", models=[args.name])
    store = model_store(wake_config)
    store.require(["wake_features", args.name])
    detector = load_wake(wake_config, store)
    threshold = config.wake.thresholds.get(args.name, config.wake.threshold)
    for path in args.clips:
        detector.reset()
        pcm = np.concatenate([read_wav(path), np.zeros(SAMPLE_RATE // 2, np.int16)])
        best = max((detector.process(b.samples).get(args.name, 0.0) for b in BlockFramer().feed(pcm)), default=0.0)
        print(f"{path}\t{best:.3f}\t{'wake' if best >= threshold else '-'}")
    return 0


WAKE = Command("wake", "a personal wake word: enroll from recordings, test on recordings", cmd_wake, _wake_arguments)
