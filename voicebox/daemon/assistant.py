"""The daemon: builds the engines from the config and the model store, owns the tasks, runs turns."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

from voicebox.act.context import PipelineHost, SkillServices
from voicebox.act.dispatch import Dispatcher
from voicebox.act.llm import LlmFallback
from voicebox.act.loader import LoadedSkill, load_skills
from voicebox.act.scheduler import Scheduler
from voicebox.audio_io.sinks import AudioSink
from voicebox.core.audio import AudioBlock
from voicebox.core.config import Config
from voicebox.core.conversation import current_origin
from voicebox.core.errors import CODE_LLM_ENGINE, LlmError
from voicebox.core.events import EventSink, Ready, SkillResponded
from voicebox.core.memory import release_free_memory
from voicebox.core.storage import Storage
from voicebox.core.workers import Background, Worker
from voicebox.models.store import ModelStore, default_models_dir
from voicebox.skill import Job
from voicebox.speak.sentences import SentenceBuffer
from voicebox.turn.pipeline import Engines, Pipeline
from voicebox.understand.intent import IntentRecognizer
from voicebox.understand.language import LanguageModel

__all__ = ["Assistant", "build_engines", "load_llm", "model_store", "required_models"]

_LOG = logging.getLogger(__name__)
_ANSWER_SENTENCE_CHARS = 400  # a language model's run-on "sentence" is spoken once it is this long


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


def _skip_verifier_training() -> None:
    """Keep ``import openwakeword`` from importing scikit-learn (about 1.3 s and 70 MB), used only to train verifiers."""
    import sys
    import types

    if "openwakeword" in sys.modules:
        return
    stub = types.ModuleType("openwakeword.custom_verifier_model")

    def train_custom_verifier(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("training openWakeWord verifiers is not available inside voicebox")

    stub.train_custom_verifier = train_custom_verifier  # type: ignore[attr-defined]
    sys.modules.setdefault("openwakeword.custom_verifier_model", stub)


def load_wake(config: Config, store: ModelStore) -> Any:
    """openWakeWord detector for the configured models."""
    _skip_verifier_training()
    from voicebox.engines.openwakeword import OpenWakeWordDetector
    from voicebox.hear.wake import GainControl
    from voicebox.models.personal import is_personal, read_personal

    # Personal wake words (``voicebox wake enroll``) are matched on the same front end as the pre-trained models.
    personal = {name: read_personal(store.dir(name)) for name in config.wake.models
                if is_personal(store.catalogue, name)}
    return OpenWakeWordDetector(
        {name: _onnx_file(store, name) for name in config.wake.models if name not in personal},
        store.file("wake_features", "melspectrogram.onnx"),
        store.file("wake_features", "embedding_model.onnx"),
        threads=config.wake.threads,
        vad_threshold=config.wake.vad_threshold,
        noise_suppression=config.wake.noise_suppression,
        vad_path=store.file("silero_vad", "silero_vad.onnx"),
        gain=GainControl(max_gain_db=config.wake.max_gain_db) if config.wake.gain_control else None,
        silence_dbfs=config.wake.silence_dbfs if config.wake.silence_dbfs > -120 else None,
        personal={name: (m.templates, m.threshold) for name, m in personal.items()},
        speech=_speech_gate(store, config.wake.speech_gate) if config.wake.speech_gate > 0 else None,
    )


def _speech_gate(store: ModelStore, threshold: float) -> Any:
    """A Silero VAD of the wake detector's own, with the probability under which a block counts as quiet."""
    from voicebox.engines.silero import SileroVad

    return SileroVad(store.file("silero_vad", "silero_vad.onnx"), threshold=threshold)


def load_vad(store: ModelStore) -> Any:
    """Silero VAD for endpointing."""
    from voicebox.engines.silero import SileroVad

    return SileroVad(store.file("silero_vad", "silero_vad.onnx"))


def load_asr(config: Config, store: ModelStore, prompt: str = "") -> Any:
    """faster-whisper recognizer."""
    from voicebox.engines.faster_whisper import FasterWhisperRecognizer

    return FasterWhisperRecognizer(store.dir(config.asr.model), threads=config.asr.threads,
                                   compute_type=config.asr.compute_type, beam_size=config.asr.beam_size,
                                   short_window=config.asr.short_window, prompt=prompt)


def load_tts(config: Config, store: ModelStore, *, noise_scale: float | None = None,
             noise_w_scale: float | None = None) -> Any:
    """Piper synthesizer; the two noise scales are Piper's (``None``: the voice's own)."""
    from voicebox.engines.piper import PiperSynthesizer

    return PiperSynthesizer(_onnx_file(store, config.tts.voice), threads=config.tts.threads,
                            length_scale=config.tts.length_scale, noise_scale=noise_scale,
                            noise_w_scale=noise_w_scale)


def load_llm(config: Config, store: ModelStore) -> LlmFallback | None:
    """The ``[llm]`` language model (a local GGUF or a server on the user's network), or ``None`` when not set."""
    llm = config.llm
    if not llm.model and not llm.url:
        return None
    if llm.url:
        from voicebox.engines.openai_http import OpenAiChatModel, check_endpoint

        api_key = ""
        if llm.api_key_file:
            key_path = Path(llm.api_key_file).expanduser()
            try:
                api_key = key_path.read_text(encoding="utf-8").strip()
            except (OSError, UnicodeDecodeError) as err:
                raise LlmError(f"[llm] api_key_file: cannot read {key_path}: {err}", code=CODE_LLM_ENGINE) from err
        model: LanguageModel = OpenAiChatModel(check_endpoint(llm.url, allow_remote=llm.allow_remote),
                                               api_key=api_key, model=llm.server_model, timeout_s=llm.timeout_s)
    else:
        from voicebox.engines.llama_cpp import XLlamaCppModel

        if llm.model in store.catalogue:
            store.require([llm.model])
            info = store.info(llm.model)
            path = store.file(llm.model, info.files[0].name)
        else:
            path = Path(llm.model).expanduser()
        model = XLlamaCppModel(path, threads=llm.threads, chat_template=llm.chat_template, timeout_s=llm.timeout_s)
        if llm.model in store.catalogue:
            model.name = llm.model
    return LlmFallback(model, llm, lambda: SentenceBuffer(_ANSWER_SENTENCE_CHARS))


def load_skill_set(config: Config, speak: Callable[[str], Any] | None = None, *,
                   services: SkillServices | None = None) -> tuple[list[LoadedSkill], IntentRecognizer]:
    """Skills and the intent recognizer over their templates (compiled once).

    Without ``services`` the skills get a throwaway in-memory database (for
    recognition-only uses and ``voicebox intent``); the daemon passes its own.
    """
    shared = services if services is not None else SkillServices.in_memory(speak)
    skills = load_skills(config, shared.context)
    shared.examples = {s.name: s.examples for s in skills if s.ok}
    recognizer = IntentRecognizer(skills, near_match=config.skills.near_match)
    if config.skills.semantic:
        attach_semantic(recognizer, skills, config)
    return skills, recognizer


SEMANTIC_MODEL = "all-minilm-l6-v2"


def attach_semantic(recognizer: IntentRecognizer, skills: Sequence[LoadedSkill], config: Config) -> bool:
    """Give ``recognizer`` the semantic fallback if its model is installed; say how to get it if not."""
    store = model_store(config)
    if store.status(SEMANTIC_MODEL) != "installed":
        _LOG.warning("semantic intent matching is off: model %s is %s; run: voicebox models pull %s",
                     SEMANTIC_MODEL, store.status(SEMANTIC_MODEL), SEMANTIC_MODEL)
        return False
    import platformdirs

    from voicebox.engines.minilm import MiniLMEmbedder
    from voicebox.understand.semantic_intents import SemanticIntents

    embedder = MiniLMEmbedder(store.dir(SEMANTIC_MODEL))
    cache = Path(platformdirs.user_cache_dir("voicebox")) / "semantic"
    recognizer.fallback = SemanticIntents([s for s in skills if s.ok], embedder, cache_dir=cache)
    return True


def build_engines(config: Config, store: ModelStore, speak: Callable[[str], Any] | None = None, *,
                  services: SkillServices | None = None) -> Engines:
    """Check the models, then load every engine (the recognizer beside the small ones, then the voice)."""
    store.require(required_models(config))
    services = services if services is not None else SkillServices.in_memory(speak)
    skills, intents = load_skill_set(config, speak, services=services)
    prompt = intents.vocabulary() if config.asr.vocabulary_prompt else ""
    # The recognizer loads beside the small models, then the voice: loading either briefly needs much more memory
    # than the loaded model (the recognizer's weights are converted to int8), and together those peaks would set
    # the daemon's peak size (about 80 MB more), for about 0.1 s of start-up saved.
    with Worker("asr-load") as loader:
        asr = loader.submit(load_asr, config, store, prompt)
        wake = load_wake(config, store)
        vad = load_vad(store)
        recognizer = asr.result()
    release_free_memory()  # the recognizer's loading buffers, before the voice loads on top
    dispatcher = Dispatcher(skills, timeout_s=config.skills.timeout_s, workers=services.workers)
    engines = Engines(wake=wake, vad=vad, asr=recognizer, intents=intents, dispatcher=dispatcher,
                      tts=load_tts(config, store), wake_models=tuple(config.wake.models), services=services,
                      llm=load_llm(config, store))
    release_free_memory()  # what loading needed only briefly (file buffers, weights before int8 conversion)
    return engines


class Assistant:
    """The running assistant: engines + pipeline + the source and sink it was given."""

    def __init__(self, config: Config, *, sink: AudioSink, emit: EventSink, realtime: bool = True,
                 store: ModelStore | None = None, persistent: bool = True) -> None:
        """``persistent=False`` (``voicebox demo``) keeps skill data in memory: the state folder, which a running
        daemon holds, is not touched."""
        started = time.perf_counter()
        self.config = config
        self._speak_proxy: Pipeline | None = None
        # Origin (see conversation.py) -> its pipeline: skills speaking for a satellite's conversation, and its
        # timers ringing (alarm sound included), are heard in that room.
        self.speak_routes: dict[str, Pipeline] = {}
        self.host = PipelineHost(self._speak)
        if persistent:
            self.services = SkillServices.for_config(config, self.host)  # the persistent database and timers
        else:
            storage = Storage(":memory:")
            self.services = SkillServices(storage, Scheduler(storage), self.host)
        self.wait_timers = False  # `voicebox run --wait-timers`: keep running after the input until timers rang
        self.engines = build_engines(config, store or model_store(config), self._speak, services=self.services)
        self.pipeline = Pipeline(self.engines, config, sink=sink, emit=emit, realtime=realtime)
        self._speak_proxy = self.pipeline
        self.startup_s = time.perf_counter() - started
        self.emit = emit

    async def _speak(self, text: str) -> None:
        voice = self.speak_routes.get(current_origin(), self._speak_proxy)
        if voice is not None:
            await voice.say(text)

    async def _announce(self, job: Job) -> None:
        """A scheduled callback came due: run it, then speak its response (after an alarm sound if asked)."""
        result = await self.engines.dispatcher.run_job(job)
        if result is None:
            return
        response = result.response
        self.emit(SkillResponded(skill=job.skill, intent=job.handler, speech=response.speech, data=response.data,
                                 compute_ms=round(result.compute_ms, 1)))
        voice = self.speak_routes.get(current_origin(), self.pipeline)
        await voice.announce(response.speech, sound=response.sound)

    async def run(self, blocks: AsyncIterator[AudioBlock], *, wait_timers: bool | None = None) -> None:
        """Announce readiness, then process the stream until it ends or the task is cancelled.

        Scheduled callbacks (timers) fire meanwhile; ones missed while voicebox
        was down fire at once. With ``wait_timers`` the run goes on after the
        stream ends until no callback is pending (default: ``self.wait_timers``).
        """
        self.emit(Ready(startup_s=round(self.startup_s, 3), wake_models=self.engines.wake_models))
        self.host.attach(self.pipeline, asyncio.get_running_loop())
        try:
            async with Background() as background:
                background.start(self.services.scheduler.run(self._announce), name="scheduler")
                await self.pipeline.run(blocks)
                if self.wait_timers if wait_timers is None else wait_timers:
                    await self.services.scheduler.wait_idle()
                    await self.pipeline.finish()
                background.cancel()
        finally:
            self.pipeline.close()
            self.engines.close()
            self.services.close()

