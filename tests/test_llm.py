"""The [llm] stage against a real OpenAI-compatible HTTP server on loopback: streaming, timeout, refusal, privacy."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import aclosing
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fakes import SPEECH_LEVEL, WAKE_LEVEL, FakeRecognizer, FakeSynth, FakeVad, FakeWake, block

from voicebox.act.dispatch import Dispatcher
from voicebox.act.followup import TextSession
from voicebox.act.llm import LlmFallback, claims_action
from voicebox.audio_io.sinks import NullSink
from voicebox.core.audio import AudioBlock
from voicebox.core.config import Config, config_from_dict
from voicebox.core.errors import CODE_LLM_REFUSED, CODE_LLM_TIMEOUT, ConfigError, LlmError
from voicebox.core.events import Event, LlmAnswer, event_to_json
from voicebox.daemon.assistant import load_llm, load_skill_set, model_store
from voicebox.engines.openai_http import check_endpoint
from voicebox.turn.answer import COULD_NOT_ANSWER
from voicebox.turn.pipeline import Engines, Pipeline

WAIT_S = 30.0  # generous: a busy machine is slower, never wrong


class ChatServer(ThreadingHTTPServer):
    """A small OpenAI-compatible server: streams ``chunks`` as chat-completion deltas, or hangs (``hang``).

    ``gate`` (an index) holds the stream before that chunk until ``release`` is set.
    """

    daemon_threads = True

    def __init__(self, chunks: list[str], *, gate: int | None = None, hang: bool = False) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.chunks = chunks
        self.gate = gate
        self.hang = hang
        self.release = threading.Event()
        self.sent_before_gate = threading.Event()
        self.broken = threading.Event()
        self.requests: list[tuple[str, dict[str, str], dict[str, Any]]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


class _Handler(BaseHTTPRequestHandler):
    server: ChatServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append((self.path, dict(self.headers), body))
        if self.server.hang:
            self.server.release.wait(WAIT_S)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        try:
            for i, text in enumerate(self.server.chunks):
                if i == self.server.gate:
                    self.server.sent_before_gate.set()
                    self.server.release.wait(WAIT_S)
                chunk = {"choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]}
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.flush()
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.server.broken.set()


@pytest.fixture()
def serve() -> Iterator[Any]:
    servers: list[ChatServer] = []

    def start(chunks: list[str], **kwargs: Any) -> ChatServer:
        server = ChatServer(chunks, **kwargs)
        threading.Thread(target=server.serve_forever, name="chat-server", daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.release.set()
        server.shutdown()
        server.server_close()


@pytest.fixture()
def contacted(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every address this process connects to or looks up from here on."""
    seen: list[object] = []
    connect, lookup = socket.socket.connect, socket.getaddrinfo

    def recording_connect(sock: socket.socket, address: Any) -> None:
        seen.append(("connect", address))
        connect(sock, address)

    def recording_lookup(host: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(("lookup", host))
        return lookup(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", recording_connect)
    monkeypatch.setattr(socket, "getaddrinfo", recording_lookup)
    return seen


def _fallback(url: str, **llm: Any) -> LlmFallback:
    config = config_from_dict({"llm": {"url": url, **llm}})
    built = load_llm(config, model_store(config))
    assert built is not None
    return built


async def _collect(stream: AsyncIterator[str]) -> list[str]:
    return [s async for s in stream]


SKY = ["The sky looks ", "blue because air ", "scatters blue light most. ", "Sunsets look red ", "for the same reason."]


def test_sentences_are_streamed_while_the_model_still_writes(serve: Any, contacted: list[object]) -> None:
    server = serve(SKY, gate=3)
    llm = _fallback(server.url)
    events: list[Event] = []

    async def scenario() -> tuple[str, list[str]]:
        async with aclosing(llm.sentences("why is the sky blue", events.append)) as stream:
            first = await asyncio.wait_for(anext(stream), WAIT_S)
            # The server has not sent the second sentence yet: the first one came out of a stream still open.
            assert not server.release.is_set() and server.sent_before_gate.is_set()
            server.release.set()
            return first, await _collect(stream)

    first, rest = asyncio.run(scenario())
    assert first == "The sky looks blue because air scatters blue light most."
    assert rest == ["Sunsets look red for the same reason."]
    names = [e.name for e in events]
    assert names == ["llm_started", "llm_answer"]
    answer = events[-1]
    assert isinstance(answer, LlmAnswer)
    assert answer.tokens == len(SKY) and answer.first_token_ms is not None and not answer.stopped
    assert answer.text == "".join(SKY)
    path, headers, body = server.requests[0]
    assert path == "/v1/chat/completions" and body["stream"] is True
    assert body["messages"][-1] == {"role": "user", "content": "why is the sky blue"}
    assert "Authorization" not in headers
    port = server.server_address[1]
    assert {what for what in contacted} == {("lookup", "127.0.0.1"), ("connect", ("127.0.0.1", port))}


def test_a_silent_server_times_out_with_a_coded_error(serve: Any) -> None:
    server = serve([], hang=True)
    llm = _fallback(server.url, timeout_s=0.5)
    with pytest.raises(LlmError) as caught:
        asyncio.run(_collect(llm.sentences("why is the sky blue", lambda e: None)))
    assert caught.value.code == CODE_LLM_TIMEOUT
    assert "timeout_s" in caught.value.message or "did not answer" in caught.value.message


def test_stopping_the_answer_stops_the_model(serve: Any) -> None:
    server = serve(["One sentence here. ", *["word " for _ in range(2000)]], gate=1)
    llm = _fallback(server.url, max_words=400)
    events: list[Event] = []

    async def scenario() -> None:
        async with aclosing(llm.sentences("talk a lot", events.append)) as stream:
            assert await asyncio.wait_for(anext(stream), WAIT_S) == "One sentence here."
        server.release.set()  # the reader is gone: what the server writes now cannot be delivered

    asyncio.run(scenario())
    assert server.broken.wait(WAIT_S), "the connection stayed open after the answer was stopped"
    answer = events[-1]
    assert isinstance(answer, LlmAnswer) and answer.stopped and answer.tokens < 100


def test_non_local_urls_are_refused_and_nothing_is_contacted(contacted: list[object]) -> None:
    for url in ("http://8.8.8.8:8080/v1", "https://1.1.1.1/v1", "http://[2606:4700:4700::1111]/v1"):
        config = config_from_dict({"llm": {"url": url}})
        with pytest.raises(LlmError) as caught:
            load_llm(config, model_store(config))
        assert caught.value.code == CODE_LLM_REFUSED and "allow_remote" in caught.value.message
    assert not [c for c in contacted if c[0] == "connect"]

    def public(host: str, port: int, **kwargs: Any) -> list[Any]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port))]

    def home(host: str, port: int, **kwargs: Any) -> list[Any]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("192.168.1.20", port))]

    with pytest.raises(LlmError):
        check_endpoint("http://llm.example.com:8080/v1", allow_remote=False, resolve=public)
    assert check_endpoint("http://llm.example.com:8080/v1", allow_remote=True, resolve=public).port == 8080
    assert check_endpoint("http://gpu-box.lan:11434/v1", allow_remote=False, resolve=home).addresses == ("192.168.1.20",)
    assert check_endpoint("http://10.0.0.5/v1", allow_remote=False).port == 80


def test_config_rejects_model_and_url_together_and_odd_urls() -> None:
    with pytest.raises(ConfigError, match="both set"):
        config_from_dict({"llm": {"model": "gemma3-270m", "url": "http://127.0.0.1:8080/v1"}})
    with pytest.raises(ConfigError, match="http://"):
        config_from_dict({"llm": {"url": "ftp://127.0.0.1/v1"}})
    with pytest.raises(ConfigError, match="max_words"):
        config_from_dict({"llm": {"max_words": 0}})
    assert load_llm(Config(), model_store(Config())) is None  # off by default


def test_api_key_comes_from_a_file_and_is_never_shown(serve: Any, tmp_path: Path) -> None:
    key = "sk-test-0123456789abcdef"
    (tmp_path / "key").write_text(key + "\n", encoding="utf-8")
    server = serve(["Fine. "])
    llm = _fallback(server.url, api_key_file=str(tmp_path / "key"))
    events: list[Event] = []
    assert asyncio.run(llm.answer("how are you", events.append)) == "Fine."
    assert server.requests[0][1]["Authorization"] == f"Bearer {key}"
    assert key not in repr(llm.model) and all(key not in event_to_json(e) for e in events)
    config = config_from_dict({"llm": {"url": server.url, "api_key_file": str(tmp_path / "missing")}})
    with pytest.raises(LlmError) as caught:
        load_llm(config, model_store(config))
    assert "api_key_file" in caught.value.message


def test_answers_are_short_and_never_claim_an_action(serve: Any) -> None:
    assert claims_action("I've set a timer for five minutes.")
    assert claims_action("Okay, I turned on the kitchen lights.")
    assert claims_action("Done!")
    assert not claims_action("The kitchen light uses about ten watts.")
    assert not claims_action("I think the answer is forty-two.")
    long = " ".join(["word"] * 30) + ". "
    server = serve(["Sure, I have set an alarm for you. ", "Alarms help people wake up. ", long, "Last one."])
    llm = _fallback(server.url, max_words=10)
    said = asyncio.run(_collect(llm.sentences("set an alarm", lambda e: None)))
    assert said == ["Alarms help people wake up."]  # the claim is dropped; the sentence past the cap is left out
    server = serve([long])
    said = asyncio.run(_collect(_fallback(server.url, max_words=10).sentences("go on", lambda e: None)))
    assert said == [" ".join(["word"] * 10) + "."]


def test_intents_map_an_unmatched_command_to_a_skill(serve: Any) -> None:
    reply = json.dumps({"intent": "time_date.GetTime", "command": "what time is it"})
    server = serve([reply[:10], reply[10:]])
    config = config_from_dict({"llm": {"url": server.url, "intents": True}})
    skills, recognizer = load_skill_set(config)
    dispatcher = Dispatcher(skills)
    session = TextSession(recognizer, dispatcher, llm=load_llm(config, model_store(config)))
    out = asyncio.run(session.answer("consult the chronometer for me"))  # no sentence, no sure guess
    assert (out["skill"], out["intent"]) == ("time_date", "GetTime")
    schema = server.requests[0][2]["response_format"]["json_schema"]["schema"]
    assert "time_date.GetTime" in schema["properties"]["intent"]["enum"]
    # A text that matches a sentence never reaches the model.
    asyncio.run(session.answer("what time is it"))
    assert len(server.requests) == 1


WORDS = ["what", "time", "is", "it", "banana"]


def _turn(llm: LlmFallback, word_indexes: tuple[int, ...]) -> tuple[list[Event], FakeSynth]:
    config = Config()
    skills, intents = load_skill_set(config)
    tts = FakeSynth()
    engines = Engines(wake=FakeWake(), vad=FakeVad(), asr=FakeRecognizer(WORDS), intents=intents,
                      dispatcher=Dispatcher(skills), tts=tts, wake_models=("hey_jarvis",), llm=llm)
    samples = [block(WAKE_LEVEL)] + [block(SPEECH_LEVEL + 500, word=w) for w in word_indexes] + [block(0)] * 20
    events: list[Event] = []
    pipeline = Pipeline(engines, config, sink=NullSink(), emit=events.append, realtime=False)

    async def stream() -> AsyncIterator[AudioBlock]:
        for i, s in enumerate(samples):
            yield AudioBlock(np.asarray(s), i * 80)

    try:
        asyncio.run(pipeline.run(stream()))
    finally:
        pipeline.close()
        engines.close()
    return events, tts


def test_a_turn_no_skill_matches_is_answered_by_the_model_sentence_by_sentence(serve: Any) -> None:
    server = serve(SKY)
    events, tts = _turn(_fallback(server.url), (4,))
    assert tts.spoken == ["The sky looks blue because air scatters blue light most.",
                          "Sunsets look red for the same reason."]
    names = [e.name for e in events]
    assert names.index("intent_not_matched") < names.index("llm_started") < names.index("audio_started")
    response = next(e for e in events if e.name == "response")
    assert response.skill == "llm" and response.speech == " ".join(tts.spoken)  # type: ignore[attr-defined]
    # A command a skill matches is the skill's, never the model's.
    events, tts = _turn(_fallback(server.url), (0, 1, 2, 3))
    assert "llm_started" not in [e.name for e in events] and tts.spoken[0].startswith("It's")
    assert len(server.requests) == 1


def test_a_turn_whose_model_times_out_says_so(serve: Any) -> None:
    server = serve([], hang=True)
    events, tts = _turn(_fallback(server.url, timeout_s=0.5), (4,))
    error = next(e for e in events if e.name == "error")
    assert error.code == CODE_LLM_TIMEOUT and error.stage == "llm"  # type: ignore[attr-defined]
    assert tts.spoken == [COULD_NOT_ANSWER]


def test_a_new_wake_word_stops_the_answer_and_the_model(serve: Any) -> None:
    server = serve(["The sky looks blue. ", *["and more " for _ in range(2000)]], gate=1)
    config = Config().replace("listen", no_speech_timeout_s=0.5)
    skills, intents = load_skill_set(config)
    tts = FakeSynth()
    engines = Engines(wake=FakeWake(), vad=FakeVad(), asr=FakeRecognizer(WORDS), intents=intents,
                      dispatcher=Dispatcher(skills), tts=tts, wake_models=("hey_jarvis",),
                      llm=_fallback(server.url, max_words=400))
    events: list[Event] = []
    speaking = asyncio.Event()

    def emit(event: Event) -> None:
        events.append(event)
        if event.name == "audio_started":
            speaking.set()

    pipeline = Pipeline(engines, config, sink=NullSink(), emit=emit, realtime=True)
    question = [block(WAKE_LEVEL), block(SPEECH_LEVEL + 500, word=4)] + [block(0)] * 20

    async def stream() -> AsyncIterator[AudioBlock]:
        for i, s in enumerate(question):
            yield AudioBlock(s, i * 80)
        # The model has said its first sentence and still writes: the user says the wake word again.
        await speaking.wait()
        for i, s in enumerate([block(WAKE_LEVEL)] + [block(0)] * 20, start=len(question)):
            yield AudioBlock(s, i * 80)

    try:
        asyncio.run(asyncio.wait_for(pipeline.run(stream()), WAIT_S))
    finally:
        server.release.set()
        pipeline.close()
        engines.close()
    assert tts.spoken == ["The sky looks blue."]
    answer = next(e for e in events if isinstance(e, LlmAnswer))
    assert answer.stopped
    assert [e.name for e in events].count("wake") == 2
    assert server.broken.wait(WAIT_S), "the model went on writing after the wake word"


def test_a_missing_local_model_fails_at_start_with_the_fix(tmp_path: Path) -> None:
    from voicebox.core.errors import ModelError

    config = config_from_dict({"llm": {"model": "gemma3-270m"}, "paths": {"models_dir": str(tmp_path / "models")}})
    with pytest.raises(ModelError, match="voicebox models pull gemma3-270m"):
        load_llm(config, model_store(config))
    pytest.importorskip("xllamacpp", reason="llama.cpp is not installed: pip install xllamacpp")
    config = config_from_dict({"llm": {"model": str(tmp_path / "nowhere.gguf")}})
    with pytest.raises(LlmError, match="no such file"):
        load_llm(config, model_store(config))
