"""Text requests over Wyoming: ``recognize`` (the intent service) and ``transcript`` (the handle service).

``recognize`` answers ``intent`` (Home Assistant's own intent name and slots
where HA implements the intent, see :mod:`voicebox.remote.ha_intents`) or
``not-recognized``. ``transcript`` is answered by voicebox's skills
(``handled``/``not-handled``). Home Assistant sends its conversation requests
as a ``transcript`` with a ``context`` (``conversation_id``, ``device_id``,
``satellite_id``) and reads either kind of answer: a timer asked on one of its
devices comes back as HA's timer intent, so HA rings it on that device; no
match is ``not-recognized``.

Follow-up questions survive HA opening a new connection per sentence: each
conversation's state is kept by the identity HA sends, or the client's host.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from wyoming.event import Event
from wyoming.handle import Handled, NotHandled
from wyoming.intent import Entity, Intent, NotRecognized

from voicebox.act.dispatch import NOT_UNDERSTOOD
from voicebox.act.followup import FollowUp
from voicebox.core.conversation import origin
from voicebox.core.events import EventSink, IntentMatched, IntentNotMatched, SkillResponded
from voicebox.remote.ha_intents import TIMER_INTENTS, to_home_assistant
from voicebox.turn.pipeline import Engines

__all__ = ["Answering", "conversation_key"]

_MAX_CONVERSATIONS = 256  # follow-up states kept at once (the oldest is forgotten first)
NO_VOICE = (" I have no speaker of my own and can't ring on the device you asked from, so you won't hear it: "
            "use a voicebox satellite, or run voicebox with a speaker.")
OWN_SPEAKER = " It will ring on voicebox's own speaker."


def conversation_key(context: Any, peer_host: str) -> str:
    """Who is talking: HA's satellite, device or conversation id, else the client's host (not its port)."""
    if isinstance(context, dict):
        for name in ("satellite_id", "device_id", "conversation_id"):
            value = context.get(name)
            if isinstance(value, str) and value:
                return f"{name.removesuffix('_id')}:{value}"[:200]
    return f"host:{peer_host}"


class Answering:
    """Answers text requests with the shared engines; one :class:`FollowUp` per conversation."""

    def __init__(self, engines: Engines, emit: EventSink, *, rings_locally: Callable[[], bool]) -> None:
        self.engines = engines
        self.emit = emit
        self._rings_locally = rings_locally
        self._follow_ups: OrderedDict[str, FollowUp] = OrderedDict()

    def _follow_up(self, key: str) -> FollowUp:
        state = self._follow_ups.pop(key, None) or FollowUp()
        self._follow_ups[key] = state
        while len(self._follow_ups) > _MAX_CONVERSATIONS:
            self._follow_ups.popitem(last=False)
        return state

    def recognize(self, text: str, context: Any = None) -> Event:
        """``intent`` (HA's name and slots where HA has the intent) or ``not-recognized``."""
        match = self.engines.intents.recognize(text)
        if match is None:
            return NotRecognized(text=NOT_UNDERSTOOD, context=_dict(context)).event()
        ha = to_home_assistant(match)
        name, slots = (ha.name, ha.slots) if ha is not None else (match.intent, match.slots)
        return Intent(name=name, entities=[Entity(name=k, value=v) for k, v in slots.items()],
                      context={**_dict(context), "skill": match.skill, "voicebox_intent": match.intent}).event()

    async def handle(self, text: str, context: Any, peer_host: str) -> Event:
        """Answer ``text`` with the skills (follow-ups included); HA's device timers go back to HA as its intent."""
        key = conversation_key(context, peer_host)
        follow_up = self._follow_up(key)
        # An answer to a pending question is no time for a semantic guess (the pipeline's rule too).
        match = self.engines.intents.recognize(text, fallback=follow_up.awaiting is None)
        from_ha = isinstance(context, dict) and "conversation_id" in context
        on_device = from_ha and any(isinstance(context.get(k), str) and context[k] for k in ("device_id", "satellite_id"))
        ha = to_home_assistant(match) if match is not None else None
        if ha is not None and on_device and ha.name in TIMER_INTENTS:
            return self.recognize(text, context)  # HA rings it on the device it was asked on
        if match is None and follow_up.awaiting is None:
            self.emit(IntentNotMatched(text=text))
            if from_ha:
                return NotRecognized(text=NOT_UNDERSTOOD, context=_dict(context)).event()
            return NotHandled(text=NOT_UNDERSTOOD, context=_dict(context)).event()
        if match is not None:
            self.emit(IntentMatched(skill=match.skill, intent=match.intent, slots=match.slots, text=match.text))
        scheduler = self.engines.services.scheduler if self.engines.services is not None else None
        before = max((job.id for job in scheduler.jobs()), default=0) if scheduler is not None else 0
        conversation = f"wyoming:{key}"
        with origin(conversation):
            answer = await follow_up.answer(self.engines.dispatcher, match, text)
        response = answer.result.response
        speech = response.speech
        if scheduler is not None and any(job.id > before and job.origin == conversation for job in scheduler.jobs()):
            speech += OWN_SPEAKER if self._rings_locally() else NO_VOICE
        self.emit(SkillResponded(skill=answer.skill, intent=answer.intent, speech=speech, data=response.data,
                                 compute_ms=round(answer.result.compute_ms, 1)))
        if answer.result.status == "ok":
            return Handled(text=speech, context=_dict(context)).event()
        return NotHandled(text=speech, context=_dict(context)).event()


def _dict(context: Any) -> dict[str, Any]:
    return dict(context) if isinstance(context, dict) else {}
