"""Ask when in doubt: "Did you mean: turn the volume down?", answered yes or no without the wake word.

A semantic match of middling confidence (``IntentMatch.confirm``) is not acted
on; :func:`question` asks about it and the next utterance settles it through
:func:`answer_of`: yes runs the match, no drops it, and anything else is
taken as a new command (or, matching nothing, as no).
"""

from __future__ import annotations

import re

from voicebox.understand.intent import IntentMatch

__all__ = ["DROPPED", "answer_of", "question"]

DROPPED = "Okay, never mind."

_YES = re.compile(r"^(?:yes|yeah|yea|yep|yup|sure|correct|right|exactly|affirmative|indeed|ok|okay|uh huh|please|"
                  r"(?:yes|yeah|ok|okay|sure)\s+(?:please|do it|that's right|thanks|thank you|exactly)|"
                  r"that's (?:right|it|correct)|that is (?:right|correct)|please do|do it|go ahead|of course|"
                  r"yes i did|i did|sounds good)$")
_NO = re.compile(r"^(?:no|nope|nah|no way|wrong|not really|not at all|negative|no thanks|no thank you|"
                 r"(?:no|nope)\s+(?:that's wrong|that's not it|i didn't|never mind|cancel|please)|that's wrong|"
                 r"that's not it|that's not what i (?:said|meant)|i didn't|don't|cancel|never mind|forget it)$")


def question(match: IntentMatch) -> str:
    """The question that asks whether ``match`` is what was meant."""
    meaning = (match.meaning or match.text).strip().rstrip("?.!")
    return f"Did you mean: {meaning}?"


def answer_of(text: str) -> bool | None:
    """True for a yes, False for a no, None for anything else (a new command, perhaps)."""
    clean = re.sub(r"[^a-z' ]", " ", text.lower().replace("\u2019", "'"))
    clean = " ".join(w for w in clean.split() if w not in ("jarvis", "hey", "um", "uh", "oh", "well"))
    if _YES.match(clean):
        return True
    if _NO.match(clean):
        return False
    return None
