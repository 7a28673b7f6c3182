"""Every built-in intent with varied phrasings, through `voicebox intent --json -` in one process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

M = lambda h=0, m=0, s=0: {"hours": h, "minutes": m, "seconds": s, "total_seconds": h * 3600 + m * 60 + s}  # noqa: E731

# (sentence, skill, intent, expected slots (a subset; None = no slots at all))
CASES: list[tuple[str, str, str, dict | None]] = [
    # time_date
    ("what time is it", "time_date", "GetTime", None),
    ("What time is it right now?", "time_date", "GetTime", None),
    ("what's the time", "time_date", "GetTime", None),
    ("tell me the time", "time_date", "GetTime", None),
    ("do you know what time it is", "time_date", "GetTime", None),
    ("Hey Jarvis, what time is it?", "time_date", "GetTime", None),
    ("what's the date", "time_date", "GetDate", None),
    ("what is today's date", "time_date", "GetDate", None),
    ("what date is it today", "time_date", "GetDate", None),
    ("tell me the date please", "time_date", "GetDate", None),
    ("what day is it", "time_date", "GetWeekday", None),
    ("what day of the week is it today", "time_date", "GetWeekday", None),
    ("which day is today", "time_date", "GetWeekday", None),
    # timers: start
    ("set a timer for 10 minutes", "timers", "StartTimer", {"duration": M(m=10)}),
    ("set a timer for ten minutes", "timers", "StartTimer", {"duration": M(m=10)}),
    ("Set a 10-minute pizza timer.", "timers", "StartTimer", {"duration": M(m=10), "name": "pizza"}),
    ("set a ten minute pizza timer", "timers", "StartTimer", {"duration": M(m=10), "name": "pizza"}),
    ("start a timer for five and a half minutes", "timers", "StartTimer", {"duration": M(m=5, s=30)}),
    ("set a timer for 1 hour 15 minutes and 30 seconds", "timers", "StartTimer", {"duration": M(1, 15, 30)}),
    ("set a timer for one hour fifteen minutes and thirty seconds", "timers", "StartTimer", {"duration": M(1, 15, 30)}),
    ("set a timer for 2 hours", "timers", "StartTimer", {"duration": M(h=2)}),
    ("set a timer for an hour", "timers", "StartTimer", {"duration": M(h=1)}),
    ("set a timer for an hour and a half", "timers", "StartTimer", {"duration": M(h=1, m=30)}),
    ("set a timer for half an hour", "timers", "StartTimer", {"duration": M(m=30)}),
    ("set a timer for two and a half hours", "timers", "StartTimer", {"duration": M(h=2, m=30)}),
    ("set a timer for 90 seconds", "timers", "StartTimer", {"duration": M(m=1, s=30)}),
    ("set a timer for thirty seconds", "timers", "StartTimer", {"duration": M(s=30)}),
    ("set a timer for a minute", "timers", "StartTimer", {"duration": M(m=1)}),
    ("set a timer for half a minute", "timers", "StartTimer", {"duration": M(s=30)}),
    ("set a timer for a minute and a half", "timers", "StartTimer", {"duration": M(m=1, s=30)}),
    ("set a timer for 3 minutes and 20 seconds", "timers", "StartTimer", {"duration": M(m=3, s=20)}),
    ("set a timer for 1 hour and 5 seconds", "timers", "StartTimer", {"duration": M(h=1, s=5)}),
    ("set a timer for 1 hour, 2 minutes", "timers", "StartTimer", {"duration": M(h=1, m=2)}),
    ("start a 3 minute egg timer", "timers", "StartTimer", {"duration": M(m=3), "name": "egg"}),
    ("set an egg timer for 3 minutes", "timers", "StartTimer", {"duration": M(m=3), "name": "egg"}),
    ("set a timer for 2 minutes called tea", "timers", "StartTimer", {"duration": M(m=2), "name": "tea"}),
    ("set me a timer for twenty five minutes", "timers", "StartTimer", {"duration": M(m=25)}),
    ("create a timer for 45 seconds", "timers", "StartTimer", {"duration": M(s=45)}),
    ("make a 15 minute timer", "timers", "StartTimer", {"duration": M(m=15)}),
    ("timer for 5 minutes", "timers", "StartTimer", {"duration": M(m=5)}),
    ("a 20 minute timer", "timers", "StartTimer", {"duration": M(m=20)}),
    ("remind me in 20 minutes", "timers", "StartTimer", {"duration": M(m=20)}),
    ("countdown from 60 seconds", "timers", "StartTimer", {"duration": M(m=1)}),
    ("set a timer", "timers", "StartTimer", None),
    ("start a pasta timer", "timers", "StartTimer", {"name": "pasta"}),
    # timers: cancel
    ("cancel the pizza timer", "timers", "CancelTimer", {"name": "pizza"}),
    ("cancel my timer", "timers", "CancelTimer", None),
    ("stop the timer", "timers", "CancelTimer", None),
    ("delete the egg timer", "timers", "CancelTimer", {"name": "egg"}),
    ("turn off the timer", "timers", "CancelTimer", None),
    ("stop the 10 minute timer", "timers", "CancelTimer", {"name": "10 minute"}),
    ("cancel the timer called tea", "timers", "CancelTimer", {"name": "tea"}),
    ("cancel all timers", "timers", "CancelAllTimers", None),
    ("cancel all my timers", "timers", "CancelAllTimers", None),
    ("delete every timer", "timers", "CancelAllTimers", None),
    ("stop all of the timers", "timers", "CancelAllTimers", None),
    ("clear my timers", "timers", "CancelAllTimers", None),
    # timers: pause / resume
    ("pause the timer", "timers", "PauseTimer", None),
    ("pause the pizza timer", "timers", "PauseTimer", {"name": "pizza"}),
    ("hold my timer", "timers", "PauseTimer", None),
    ("resume the timer", "timers", "ResumeTimer", None),
    ("continue the pizza timer", "timers", "ResumeTimer", {"name": "pizza"}),
    ("unpause my timer", "timers", "ResumeTimer", None),
    # timers: add / remove
    ("add 5 minutes to the timer", "timers", "AddTime", {"duration": M(m=5)}),
    ("add five minutes to the pizza timer", "timers", "AddTime", {"duration": M(m=5), "name": "pizza"}),
    ("add another 30 seconds to my timer", "timers", "AddTime", {"duration": M(s=30)}),
    ("put 2 more minutes on the timer", "timers", "AddTime", {"duration": M(m=2)}),
    ("put 2 minutes more on the timer", "timers", "AddTime", {"duration": M(m=2)}),
    ("extend the egg timer by a minute", "timers", "AddTime", {"duration": M(m=1), "name": "egg"}),
    ("remove 2 minutes from the timer", "timers", "RemoveTime", {"duration": M(m=2)}),
    ("take 30 seconds off the pizza timer", "timers", "RemoveTime", {"duration": M(s=30), "name": "pizza"}),
    ("subtract one minute from my timer", "timers", "RemoveTime", {"duration": M(m=1)}),
    ("shorten the timer by 10 seconds", "timers", "RemoveTime", {"duration": M(s=10)}),
    # timers: time left
    ("how much time is left", "timers", "TimeLeft", None),
    ("How much time is left on the pizza timer?", "timers", "TimeLeft", {"name": "pizza"}),
    ("how long is left on my timer", "timers", "TimeLeft", None),
    ("how much longer", "timers", "TimeLeft", None),
    ("how long until the egg timer goes off", "timers", "TimeLeft", {"name": "egg"}),
    ("what's the time left on the timer", "timers", "TimeLeft", None),
    ("what timers do i have", "timers", "TimeLeft", None),
    ("do i have any timers running", "timers", "TimeLeft", None),
    ("timer status", "timers", "TimeLeft", None),
    ("check my timers", "timers", "TimeLeft", None),
    # lists
    ("add milk to my shopping list", "lists", "AddItem", {"item": "milk", "list_name": "shopping"}),
    ("Add milk and eggs to the shopping list.", "lists", "AddItem", {"item": "milk and eggs", "list_name": "shopping"}),
    ("put bread on my list", "lists", "AddItem", {"item": "bread"}),
    ("put bananas on the shopping list", "lists", "AddItem", {"item": "bananas", "list_name": "shopping"}),
    ("add sunscreen to my packing list", "lists", "AddItem", {"item": "sunscreen", "list_name": "packing"}),
    ("add call mom to my to-do list", "lists", "AddItem", {"item": "call mom", "list_name": "to do"}),
    ("add olive oil to the list", "lists", "AddItem", {"item": "olive oil"}),
    ("remove milk from my shopping list", "lists", "RemoveItem", {"item": "milk", "list_name": "shopping"}),
    ("take eggs off the list", "lists", "RemoveItem", {"item": "eggs"}),
    ("cross bread off my shopping list", "lists", "RemoveItem", {"item": "bread", "list_name": "shopping"}),
    ("delete sunscreen from the packing list", "lists", "RemoveItem", {"item": "sunscreen", "list_name": "packing"}),
    ("what's on my shopping list", "lists", "ReadList", {"list_name": "shopping"}),
    ("what is on the list", "lists", "ReadList", None),
    ("read me my shopping list", "lists", "ReadList", {"list_name": "shopping"}),
    ("read my to do list", "lists", "ReadList", {"list_name": "to do"}),
    ("what do i have on my packing list", "lists", "ReadList", {"list_name": "packing"}),
    ("what do i need to buy", "lists", "ReadList", None),
    ("tell me my shopping list", "lists", "ReadList", {"list_name": "shopping"}),
    ("what's in my shopping list", "lists", "ReadList", {"list_name": "shopping"}),
    ("clear my shopping list", "lists", "ClearList", {"list_name": "shopping"}),
    ("empty the list", "lists", "ClearList", None),
    ("erase my packing list", "lists", "ClearList", {"list_name": "packing"}),
    ("remove everything from my shopping list", "lists", "ClearList", {"list_name": "shopping"}),
    ("start a new shopping list", "lists", "ClearList", {"list_name": "shopping"}),
    # arithmetic
    ("what is seven times eight", "arithmetic", "Calculate", {"a": "seven", "operator": "*", "b": "eight"}),
    ("what's 7 times 8", "arithmetic", "Calculate", {"a": "7", "operator": "*", "b": "8"}),
    ("What's 7 x 8?", "arithmetic", "Calculate", {"a": "7", "operator": "*", "b": "8"}),
    ("what is 12 multiplied by 12", "arithmetic", "Calculate", {"operator": "*"}),
    ("what is 2 plus 2", "arithmetic", "Calculate", {"a": "2", "operator": "+", "b": "2"}),
    ("what's twenty plus thirty five", "arithmetic", "Calculate", {"a": "twenty", "operator": "+", "b": "thirty five"}),
    ("how much is 100 minus 37", "arithmetic", "Calculate", {"operator": "-"}),
    ("calculate 144 divided by 12", "arithmetic", "Calculate", {"operator": "/"}),
    ("what is 10 over 4", "arithmetic", "Calculate", {"operator": "/"}),
    ("what is 1,000 times 3", "arithmetic", "Calculate", {"a": "1000", "operator": "*"}),
    ("what is two point five times four", "arithmetic", "Calculate", {"a": "two point five"}),
    ("what's 15 percent of 80", "arithmetic", "Percent", {"a": "15", "b": "80"}),
    ("What's 15% of 80?", "arithmetic", "Percent", {"a": "15", "b": "80"}),
    ("what is twenty percent of fifty", "arithmetic", "Percent", {"a": "twenty", "b": "fifty"}),
    ("calculate 7.5 percent of 200", "arithmetic", "Percent", {"a": "7.5", "b": "200"}),
    ("what is the square root of 144", "arithmetic", "SquareRoot", {"a": "144"}),
    ("what's the square root of two", "arithmetic", "SquareRoot", {"a": "two"}),
    # control
    ("stop", "control", "Stop", None),
    ("Stop.", "control", "Stop", None),
    ("cancel", "control", "Stop", None),
    ("never mind", "control", "Stop", None),
    ("nevermind", "control", "Stop", None),
    ("forget it", "control", "Stop", None),
    ("be quiet", "control", "Stop", None),
    ("stop the alarm", "control", "Stop", None),
    ("turn off the alarm", "control", "Stop", None),
    ("stop talking", "control", "Stop", None),
    ("repeat that", "control", "Repeat", None),
    ("say that again", "control", "Repeat", None),
    ("can you repeat that", "control", "Repeat", None),
    ("what did you say", "control", "Repeat", None),
    ("come again", "control", "Repeat", None),
    ("what can you do", "control", "Help", None),
    ("help", "control", "Help", None),
    ("what can i say", "control", "Help", None),
    ("what commands do you know", "control", "Help", None),
    ("volume up", "control", "VolumeUp", None),
    ("louder", "control", "VolumeUp", None),
    ("turn it up", "control", "VolumeUp", None),
    ("turn up the volume", "control", "VolumeUp", None),
    ("increase the volume", "control", "VolumeUp", None),
    ("volume down", "control", "VolumeDown", None),
    ("quieter", "control", "VolumeDown", None),
    ("turn the volume down", "control", "VolumeDown", None),
    ("lower the volume", "control", "VolumeDown", None),
    ("speak more quietly", "control", "VolumeDown", None),
    ("set the volume to 50 percent", "control", "VolumeSet", {"percent": 50}),
    ("set volume to fifty", "control", "VolumeSet", {"percent": 50}),
    ("volume 80%", "control", "VolumeSet", {"percent": 80}),
    ("change the volume to one hundred percent", "control", "VolumeSet", {"percent": 100}),
    # not understood
    ("what's the weather like in paris", None, None, None),
    ("play some jazz", None, None, None),
    ("open the pod bay doors", None, None, None),
]


@pytest.fixture(scope="module")
def answers(tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    tmp = tmp_path_factory.mktemp("intents")
    config = tmp / "config.toml"
    config.write_text(f'[skills]\nuser_dir = "{tmp / "skills"}"\n[paths]\nstate_dir = "{tmp / "state"}"\n')
    text = "".join(c[0] + "\n" for c in CASES)
    out = subprocess.run([sys.executable, "-m", "voicebox", "intent", "--config", str(config), "--json", "-"],
                         input=text, capture_output=True, text=True, check=True, timeout=300)
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(rows) == len(CASES), out.stderr
    return rows


def test_enough_sentences() -> None:
    assert len(CASES) >= 150
    covered = {(c[1], c[2]) for c in CASES if c[1]}
    for skill_dir in Path(__file__).resolve().parents[1].joinpath("skills").iterdir():
        yaml_path = skill_dir / "sentences" / "en.yaml"
        if yaml_path.is_file():
            import yaml

            for name in yaml.safe_load(yaml_path.read_text())["intents"]:
                assert (skill_dir.name, name) in covered, f"no test sentence for {skill_dir.name}.{name}"


@pytest.mark.parametrize("index", range(len(CASES)), ids=[c[0] for c in CASES])
def test_sentence(answers: list[dict], index: int) -> None:
    sentence, skill, intent, slots = CASES[index]
    got = answers[index]
    assert set(got) == {"skill", "intent", "slots", "speech", "matcher", "confidence"}
    assert (got["skill"], got["intent"]) == (skill, intent), f"{sentence!r} -> {got}"
    if skill is not None:
        assert got["matcher"] in ("template", "semantic") and 0.0 < got["confidence"] <= 1.0
    if skill is None:
        assert "didn't understand" in got["speech"]
        return
    if slots is None:
        assert got["slots"] == {}, f"{sentence!r} -> {got['slots']}"
    else:
        for key, value in slots.items():
            assert got["slots"].get(key) == value, f"{sentence!r}: slot {key} = {got['slots'].get(key)!r}, want {value!r}"
    if intent == "Stop":
        assert got["speech"] == ""  # stop ends the turn silently
    else:
        assert got["speech"], f"{sentence!r}: empty answer"
