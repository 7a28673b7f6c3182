"""A language model on an OpenAI-compatible server (llama.cpp's, Ollama's), behind the LanguageModel Protocol.

Only the configured host is ever contacted: its name is resolved once, when
the model is set up, every address is checked (loopback or private network,
unless ``allow_remote``), and plain-HTTP requests go to that checked address
(a later DNS answer cannot redirect them); redirects are not followed.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

from voicebox.core.errors import CODE_LLM_ENGINE, CODE_LLM_REFUSED, CODE_LLM_TIMEOUT, LlmError
from voicebox.understand.language import Prompt

__all__ = ["Endpoint", "OpenAiChatModel", "check_endpoint"]

Resolver = Callable[..., list[Any]]
_MAX_LINE = 1 << 20


class Endpoint:
    """A checked server address: where to connect, and what to call the host in requests."""

    def __init__(self, scheme: str, host: str, port: int, path: str, addresses: tuple[str, ...]) -> None:
        self.scheme, self.host, self.port, self.path, self.addresses = scheme, host, port, path, addresses

    def __repr__(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}{self.path}"


def _local(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback or ip.is_link_local or (ip.is_private and not ip.is_unspecified)


def check_endpoint(url: str, *, allow_remote: bool, resolve: Resolver = socket.getaddrinfo) -> Endpoint:
    """``url`` parsed and its host resolved; refused (``llm_refused``) if it is on the internet and not allowed."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise LlmError(f"[llm] url = {url!r} is not an http:// or https:// address", code=CODE_LLM_REFUSED)
    if parts.username or parts.password:
        raise LlmError("[llm] url must not hold a user name or password; put the key in [llm] api_key_file",
                       code=CODE_LLM_REFUSED)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as err:
        raise LlmError(f"[llm] url = {url!r}: {err}", code=CODE_LLM_REFUSED) from None
    try:
        infos = resolve(parts.hostname, port, type=socket.SOCK_STREAM)
    except OSError as err:
        raise LlmError(f"[llm] url: cannot resolve {parts.hostname}: {err}", code=CODE_LLM_ENGINE) from err
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise LlmError(f"[llm] url: {parts.hostname} has no address", code=CODE_LLM_ENGINE)
    remote = [a for a in addresses if not _local(a)]
    if remote and not allow_remote:
        raise LlmError(f"[llm] url = {url!r} is not on this machine or a private network ({remote[0]}): questions "
                       "would leave your network. Use a server on your own network, or set [llm] allow_remote = true",
                       code=CODE_LLM_REFUSED)
    return Endpoint(parts.scheme, parts.hostname, port, parts.path.rstrip("/"), tuple(addresses))


class OpenAiChatModel:
    """Streams chat completions (``POST <url>/chat/completions``, server-sent events) from one checked endpoint."""

    def __init__(self, endpoint: Endpoint, *, api_key: str = "", model: str = "", timeout_s: float = 10.0) -> None:
        self.endpoint = endpoint
        self.name = model or endpoint.host
        self._model = model
        self._api_key = api_key
        self._timeout_s = timeout_s

    def __repr__(self) -> str:  # never the key
        return f"OpenAiChatModel({self.endpoint!r}, model={self._model!r})"

    def _connection(self) -> http.client.HTTPConnection:
        """A connection to the first checked address that answers ("localhost" may be ::1 and 127.0.0.1)."""
        ep = self.endpoint
        if ep.scheme == "https":  # the certificate is checked against the name, so connect by name
            conn: http.client.HTTPConnection = http.client.HTTPSConnection(ep.host, ep.port, timeout=self._timeout_s)
            conn.connect()
            return conn
        failure: OSError = OSError("no address")
        for address in ep.addresses:
            conn = http.client.HTTPConnection(address, ep.port, timeout=self._timeout_s)
            try:
                conn.connect()
            except OSError as err:
                failure = err
                continue
            return conn
        raise failure

    def _body(self, prompt: Prompt) -> dict[str, Any]:
        body: dict[str, Any] = {
            "messages": [{"role": "system", "content": prompt.system}, {"role": "user", "content": prompt.user}],
            "max_tokens": prompt.max_tokens, "stream": True, "temperature": 0.3,
        }
        if self._model:
            body["model"] = self._model
        if prompt.schema is not None:
            body["temperature"] = 0.0
            body["response_format"] = {"type": "json_schema",
                                       "json_schema": {"name": "intent", "strict": True, "schema": prompt.schema}}
        return body

    def stream(self, prompt: Prompt, stop: threading.Event) -> Iterator[str]:
        """Yield the reply's text deltas as the server sends them; raises LlmError on failure or timeout."""
        ep = self.endpoint
        headers = {"Content-Type": "application/json", "Accept": "text/event-stream",
                   "Host": ep.host if ep.port in (80, 443) else f"{ep.host}:{ep.port}"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        try:
            conn = self._connection()
        except TimeoutError:
            raise LlmError(f"the language model server {ep!r} did not answer in {self._timeout_s:g} s",
                           code=CODE_LLM_TIMEOUT) from None
        except OSError as err:
            raise LlmError(f"cannot reach the language model server {ep!r}: {err}", code=CODE_LLM_ENGINE) from err
        try:
            try:
                conn.request("POST", f"{ep.path}/chat/completions", json.dumps(self._body(prompt)), headers)
                response = conn.getresponse()
            except TimeoutError:
                raise LlmError(f"the language model server {ep!r} did not answer in {self._timeout_s:g} s",
                               code=CODE_LLM_TIMEOUT) from None
            except OSError as err:
                raise LlmError(f"cannot reach the language model server {ep!r}: {err}", code=CODE_LLM_ENGINE) from err
            if response.status != 200:
                detail = response.read(300).decode("utf-8", "replace").strip()
                raise LlmError(f"the language model server {ep!r} answered HTTP {response.status}: {detail}",
                               code=CODE_LLM_ENGINE)
            yield from self._events(response, stop)
        finally:
            conn.close()

    def _events(self, response: http.client.HTTPResponse, stop: threading.Event) -> Iterator[str]:
        while not stop.is_set():
            try:
                line = response.readline(_MAX_LINE)
            except TimeoutError:
                raise LlmError(f"the language model server {self.endpoint!r} went silent for {self._timeout_s:g} s",
                               code=CODE_LLM_TIMEOUT) from None
            except OSError as err:
                raise LlmError(f"the language model server {self.endpoint!r} failed: {err}",
                               code=CODE_LLM_ENGINE) from err
            if not line:
                return
            text = line.decode("utf-8", "replace").strip()
            if not text.startswith("data:"):
                continue
            data = text[5:].strip()
            if data == "[DONE]":
                return
            try:
                chunk = json.loads(data)
            except ValueError:
                continue
            for choice in chunk.get("choices") or () if isinstance(chunk, dict) else ():
                content = (choice.get("delta") or {}).get("content")
                if content:
                    yield str(content)
