"""Text clean-up before matching: wake phrase, symbols, number forms, and the politeness and filler people add.

:func:`normalize_text` is the one clean form of a transcript (what a match
reports as its ``text``). :func:`variants` adds the forms a template is more
likely to match: politeness and filler dropped ("could you", "please", "for
me", "right now", "hey"), then contractions spelled out ("what's" -> "what
is"). Matching tries them in order, so a template that spells a filler
word out still matches as written.
"""

from __future__ import annotations

import re

__all__ = ["expand_contractions", "normalize_text", "strip_fillers", "variants"]

_WAKE_PREFIX = re.compile(r"^\s*(?:hey[\s,]+)?(?:jarvis|alexa|mycroft|marvin)\b[\s,.!]*", re.IGNORECASE)

# Fractions people (and recognizers) write with a slash, before "/" can be read as "divided by".
_FRACTIONS = ((r"\b1\s*/\s*2\b", "half"), (r"\b1\s*/\s*4\b", "a quarter"), (r"\b3\s*/\s*4\b", "three quarters"),
              (r"\b1\s*/\s*3\b", "a third"), (r"\b½", "half"), (r"\b¼", "a quarter"))

_OPENERS = re.compile(
    r"^(?:(?:hey|hi|hello|ok|okay|so|um+|uh+|erm|er|well|oh|yo|please|kindly|sorry|excuse me|quick question|"
    r"(?:could|can|would|will) you(?: please)?(?: just)?|"
    r"(?:i(?:'d| would)|we(?:'d| would)) like (?:to know|you to)|i (?:want|need) (?:to know|you to)|"
    r"i (?:was|am) wondering|i wonder|(?:do|would) you mind|(?:be so kind|be a dear) and|"
    r"(?:can|could|may) i (?:ask|know)|tell me|just|now)\b[\s,]*)+")
_TRAILERS = re.compile(
    r"(?:[\s,]+(?:please|for me|thanks|thank you|right now|now|then|ok|okay|a bit|a little|a little bit|"
    r"a tad|if you can|if you could|if you would|if you don't mind|if possible|for a second|quickly|again please|"
    r"real quick|will you|would you|could you|mate|buddy|jarvis))+$")
_INSIDE = re.compile(r"\b(?:please|kindly|just|quickly|for me)\b\s*")

_CONTRACTIONS = {
    "what's": "what is", "whats": "what is", "it's": "it is", "that's": "that is", "there's": "there is",
    "how's": "how is", "where's": "where is", "who's": "who is", "when's": "when is", "let's": "let us",
    "i'd": "i would", "i'm": "i am", "i've": "i have", "i'll": "i will", "you're": "you are", "we're": "we are",
    "they're": "they are", "don't": "do not", "doesn't": "does not", "didn't": "did not", "can't": "cannot",
    "won't": "will not", "isn't": "is not", "aren't": "are not", "haven't": "have not", "wanna": "want to",
    "gonna": "going to", "gimme": "give me", "today's": "today is",
}
_CONTRACTION = re.compile(r"\b(" + "|".join(re.escape(k) for k in _CONTRACTIONS if k != "today's") + r")(?=\s|$)")


def normalize_text(text: str) -> str:
    """Drop a leading wake phrase and noise; spell out what recognizers write as symbols ("10-minute", "15%", "1/2")."""
    text = _WAKE_PREFIX.sub("", text)
    text = re.sub(r"[\u2019`]", "'", text)
    for pattern, words in _FRACTIONS:
        text = re.sub(pattern, words, text)
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)
    text = re.sub(r"(?<=\w)-(?=[a-z])", " ", text, flags=re.IGNORECASE)
    text = re.sub(r"\s*%", " percent", text)
    text = re.sub(r"(?<=\d)\s*[x\u00d7*]\s*(?=\d)", " times ", text)
    text = re.sub(r"(?<=\d)\s*\+\s*(?=\d)", " plus ", text)
    text = re.sub(r"(?<=\d)\s*/\s*(?=\d)", " divided by ", text)
    text = re.sub(r"(?<=\d)\s*\u00f7\s*(?=\d)", " divided by ", text)
    text = re.sub(r"\s+", " ", text)
    return text.strip().strip(".!?,;: ")


def strip_fillers(text: str) -> str:
    """``text`` (already normalized) without politeness and filler at its start, its end and inside."""
    lower = text.lower()
    lower = re.sub(r"[,!?;]|\.(?!\d)", " ", lower)
    previous = None
    while previous != lower:
        previous = lower
        lower = _OPENERS.sub("", lower.strip())
        lower = _TRAILERS.sub("", lower.strip())
    lower = _INSIDE.sub("", lower)
    return " ".join(lower.split())


def expand_contractions(text: str) -> str:
    """ "what's" -> "what is", "i'd" -> "i would" (lower-case text)."""
    return _CONTRACTION.sub(lambda m: _CONTRACTIONS[m.group(1)], text.lower())


def variants(text: str) -> list[str]:
    """The normalized text, then without fillers, then with contractions spelled out (no repeats, none empty)."""
    clean = normalize_text(text)
    stripped = strip_fillers(clean)
    found: list[str] = []
    for form in (clean, stripped, expand_contractions(stripped)):
        if form and form.lower() not in (f.lower() for f in found):  # matching ignores case: no second try
            found.append(form)
    return found
