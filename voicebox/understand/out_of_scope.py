"""Requests no skill here handles, as short anchors: the semantic matcher's "none of the above".

An utterance closer to these than to any skill's examples is not understood,
however close it also is to a skill ("turn on the tv" is nearer to "switch on
the television" than to "turn it up"). Written for voicebox, one or two per
kind of request a home assistant hears and no built-in skill serves; kept
generic (a domain, not a sentence from any test set). Skills that later serve
one of these domains win anyway when a template matches.
"""

from __future__ import annotations

__all__ = ["OUT_OF_SCOPE"]

OUT_OF_SCOPE: tuple[str, ...] = (
    # weather and sky
    "weather forecast", "is it going to rain", "temperature outside", "how windy is it", "sunrise and sunset",
    "will it be hot tomorrow", "moon phase",
    # music, radio, podcasts, video
    "play music", "play a song by an artist", "next song", "play the radio", "play a podcast",
    "turn on the television", "change the tv channel", "watch a movie", "play a video on youtube", "play an album",
    # lights and home devices
    "turn on the lights", "switch off the lamp", "dim the lights", "set the light colour", "lock the door",
    "open the garage door", "set the thermostat", "make the room warmer", "turn on the heating", "start the robot vacuum",
    "switch the ceiling fan on", "close the curtains", "start the washing machine", "preheat the oven", "set the brightness",
    # calendar, reminders, messages, calls, email
    "what's on my calendar", "schedule a meeting", "add an event to my calendar", "when is my appointment",
    "remind me to do something tomorrow at noon", "call a person", "send a text message", "any new text messages",
    "open my inbox", "send an email",
    # knowledge and conversation
    "who is the president", "what is the capital of a country", "how tall is a mountain", "who wrote a book",
    "what does a word mean", "translate a phrase into another language", "say something funny", "a bedtime story",
    "how are you", "what are you called", "who built this assistant", "hello there", "good night",
    "thanks a lot", "you are great", "what is the meaning of life", "when is a holiday", "days left until my birthday",
    # news, sport, money, shopping, travel, food, health, phone
    "latest news headlines", "sports scores", "when is the next game", "stock price", "bitcoin price",
    "order something online", "where is my delivery", "buy on amazon", "navigate to an address", "traffic on the way to work",
    "find a restaurant nearby", "book a table", "call a taxi", "bus and train times", "find a recipe",
    "how many calories", "what should i cook", "start a workout", "how many steps today", "where did i leave my phone",
    "wifi and bluetooth settings", "take a photo", "set the phone to silent", "heads or tails", "throw the dice for me",
)
