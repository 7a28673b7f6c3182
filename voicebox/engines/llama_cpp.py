"""A local GGUF language model run by llama.cpp (the ``xllamacpp`` wheel), behind the LanguageModel Protocol."""

from __future__ import annotations

import json
import queue
import secrets
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from voicebox.core.errors import CODE_LLM_ENGINE, CODE_LLM_RUNTIME, CODE_LLM_TIMEOUT, LlmError
from voicebox.understand.language import Prompt

__all__ = ["XLlamaCppModel"]

_CONTEXT_TOKENS = 1024
# One worked example before the question: a base model continues the pattern (a short, whole-sentence answer).
_EXAMPLE = "Question: What is the capital of France?\nAnswer: The capital of France is Paris.\n\n"


class XLlamaCppModel:
    """A GGUF model loaded once; :meth:`stream` writes one reply at a time.

    Without ``chat_template`` the prompt is plain text ("instructions,
    Question: ..., Answer:") ending at the first line break, which is what a
    base (not instruction-tuned) model can follow; with it, the model's own
    chat template frames the messages.
    """

    def __init__(self, path: Path, *, threads: int = 1, chat_template: bool = False, timeout_s: float = 10.0) -> None:
        try:
            import xllamacpp
        except ImportError as err:
            raise LlmError("a local [llm] model needs llama.cpp: run `pip install xllamacpp` (or use [llm] url)",
                           code=CODE_LLM_RUNTIME) from err
        if not path.is_file():
            raise LlmError(f"[llm] model: no such file {path}; give a catalogue name (voicebox models list) "
                           "or the path of a .gguf file", code=CODE_LLM_ENGINE)
        self.name = path.stem
        self._chat = chat_template
        self._timeout_s = timeout_s
        params = xllamacpp.CommonParams()
        params.model.path = str(path)
        params.n_ctx = _CONTEXT_TOKENS
        params.n_parallel = 1
        params.cpuparams.n_threads = threads
        params.cpuparams_batch.n_threads = threads
        params.warmup = False
        params.fit_params = False  # sizing to device memory is a trial load first: twice the start-up, on a CPU
        params.verbosity = -1
        # llama.cpp also serves the model over HTTP on a loopback port: a random key keeps other local programs out.
        params.api_keys = [secrets.token_hex(16)]
        try:
            self._server = xllamacpp.Server(params)
        except Exception as err:
            raise LlmError(f"could not load the language model {path}: {err}", code=CODE_LLM_ENGINE) from err
        self._lock = threading.Lock()

    def _request(self, prompt: Prompt) -> tuple[str, dict[str, Any]]:
        body: dict[str, Any] = {"max_tokens": prompt.max_tokens, "stream": True, "temperature": 0.3}
        if prompt.schema is not None:
            body["json_schema"] = prompt.schema
            body["temperature"] = 0.0
        if self._chat:
            body["messages"] = [{"role": "system", "content": prompt.system}, {"role": "user", "content": prompt.user}]
            return "handle_chat_completions", body
        body["prompt"] = f"{prompt.system}\n\n{_EXAMPLE}Question: {prompt.user}\nAnswer:"
        if prompt.schema is None:
            body["stop"] = ["\n", "Question:"]
        return "handle_completions", body

    def stream(self, prompt: Prompt, stop: threading.Event) -> Iterator[str]:
        """Yield the reply's pieces (tokens) as llama.cpp writes them; ``stop`` or the timeout ends it."""
        method, body = self._request(prompt)
        pieces: queue.Queue[str | BaseException | None] = queue.Queue()
        deadline = time.monotonic() + self._timeout_s

        def on_chunk(chunk: str) -> bool:
            try:
                data = json.loads(chunk)
            except ValueError:
                return False
            if isinstance(data, dict) and data.get("error"):
                pieces.put(LlmError(f"the language model {self.name} failed: {data['error']}", code=CODE_LLM_ENGINE))
                return True
            for choice in data.get("choices") or ():
                text = choice.get("text") if "text" in choice else (choice.get("delta") or {}).get("content")
                if text:
                    pieces.put(text)
            return stop.is_set() or time.monotonic() > deadline  # True: llama.cpp stops writing

        def generate() -> None:
            try:
                with self._lock:
                    getattr(self._server, method)(json.dumps(body), on_chunk)
            except Exception as err:  # handed to the reader, which raises it
                pieces.put(LlmError(f"the language model {self.name} failed: {err}", code=CODE_LLM_ENGINE))
            finally:
                pieces.put(None)

        thread = threading.Thread(target=generate, name="llama.cpp", daemon=True)
        thread.start()
        while True:
            try:
                item = pieces.get(timeout=max(0.05, deadline - time.monotonic() + 1.0))
            except queue.Empty:
                stop.set()
                raise LlmError(f"the language model {self.name} took over {self._timeout_s:g} s",
                               code=CODE_LLM_TIMEOUT) from None
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
