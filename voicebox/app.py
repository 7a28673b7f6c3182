"""The daemon: builds the engines from the config and the model store, owns the tasks, runs turns."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

from .audio import AudioBlock
from .config import Config
from .dispatch import Dispatcher, SimpleContext
from .events import EventSink, Ready
from .intent import IntentRecognizer
from .models import ModelStore, default_models_dir
from .pipeline import Engines, Pipeline
from .skill_loader import LoadedSkill, load_skills
from .speaker import AudioSink

__all__ = ["Assistant", "build_engines", "model_store", "required_models"]

_LOG = logging.getLogger(__name__)


def model_store(config: Config) -> ModelStore:
    """The model store at ``[paths] models_dir`` (or the default data directory)."""
    return ModelStore(default_models_dir(config.paths.models_dir))


def required_models(config: Config, *, stages: Sequence[str] = ("wake", "vad", "asr", "tts")) -> list[str]:
    """Model names the configured stages need."""
    names: list[str] = []
    if "wake" in stages:
        names += ["wake_features", *config.wake.models]
    if "vad" in stages:
        names.append("silero_vad")
    if "asr" in stages:
        names.append(config.asr.model)
    if "tts" in stages:
        names.append(config.tts.voice)
    return names


def _onnx_file(store: ModelStore, name: str) -> Path:
    files = [f.name for f in store.info(name).files if f.name.endswith(".onnx")]
    return store.file(name, files[0])


def load_wake(config: Config, store: ModelStore) -> Any:
    """openWakeWord detector for the configured models."""
    from .engines.oww import OpenWakeWordDetector

    return OpenWakeWordDetector(
        {name: _onnx_file(store, name) for name in config.wake.models},
        store.file("wake_features", "melspectrogram.onnx"),
        store.file("wake_features", "embedding_model.onnx"),
        threads=config.wake.threads,
        vad_threshold=config.wake.vad_threshold,
        noise_suppression=config.wake.noise_suppression,
        vad_path=store.file("silero_vad", "silero_vad.onnx"),
    )


def load_vad(store: ModelStore) -> Any:
    """Silero VAD for endpointing."""
    from .engines.silero_vad import SileroVad

    return SileroVad(store.file("silero_vad", "silero_vad.onnx"))


def load_asr(config: Config, store: ModelStore, prompt: str = "") -> Any:
    """faster-whisper recognizer."""
    from .engines.whisper import FasterWhisperRecognizer

    return FasterWhisperRecognizer(store.dir(config.asr.model), threads=config.asr.threads,
                                   compute_type=config.asr.compute_type, beam_size=config.asr.beam_size,
                                   short_window=config.asr.short_window, prompt=prompt)


def load_tts(config: Config, store: ModelStore) -> Any:
    """Piper synthesizer."""
    from .engines.piper_voice import PiperSynthesizer

    return PiperSynthesizer(_onnx_file(store, config.tts.voice), threads=config.tts.threads,
                            length_scale=config.tts.length_scale)


def load_skill_set(config: Config, speak: Callable[[str], Any] | None = None) -> tuple[list[LoadedSkill],
                                                                                      IntentRecognizer]:
    """Skills and the intent recognizer over their templates (compiled once)."""
    skills = load_skills(config, lambda name: SimpleContext(name, config.skill.get(name, {}), speak))
    return skills, IntentRecognizer(skills)


def build_engines(config: Config, store: ModelStore, speak: Callable[[str], Any] | None = None) -> Engines:
    """Check the models, then load every engine (the big ones in parallel threads)."""
    store.require(required_models(config))
    skills, intents = load_skill_set(config, speak)
    prompt = intents.vocabulary() if config.asr.vocabulary_prompt else ""
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        asr = pool.submit(load_asr, config, store, prompt)
        tts = pool.submit(load_tts, config, store)
        wake = pool.submit(load_wake, config, store)
        vad = load_vad(store)
        return Engines(wake=wake.result(), vad=vad, asr=asr.result(), intents=intents,
                       dispatcher=Dispatcher(skills, timeout_s=config.skills.timeout_s), tts=tts.result(),
                       wake_models=tuple(config.wake.models))


class Assistant:
    """The running assistant: engines + pipeline + the source and sink it was given."""

    def __init__(self, config: Config, *, sink: AudioSink, emit: EventSink, realtime: bool = True,
                 store: ModelStore | None = None) -> None:
        started = time.perf_counter()
        self.config = config
        self._speak_proxy: Pipeline | None = None
        self.engines = build_engines(config, store or model_store(config), self._speak)
        self.pipeline = Pipeline(self.engines, config, sink=sink, emit=emit, realtime=realtime)
        self._speak_proxy = self.pipeline
        self.startup_s = time.perf_counter() - started
        self.emit = emit

    async def _speak(self, text: str) -> None:
        if self._speak_proxy is not None:
            await self._speak_proxy.say(text)

    async def run(self, blocks: AsyncIterator[AudioBlock]) -> None:
        """Announce readiness, then process the stream until it ends or the task is cancelled."""
        self.emit(Ready(startup_s=round(self.startup_s, 3), wake_models=self.engines.wake_models))
        try:
            await self.pipeline.run(blocks)
        finally:
            self.pipeline.close()
            self.engines.close()


def run_sync(coro: Any) -> Any:
    """Run a coroutine to completion on a fresh event loop."""
    return asyncio.run(coro)
