"""voicebox: an always-on, fully offline voice assistant daemon."""

import os

# ONNX Runtime (wake word, VAD, voice) phones home by default: it looks up a Microsoft telemetry host through the
# system's DNS and keeps a device id under ~/.cache/Microsoft. It reads this variable when it loads, so it is set
# here, before any entry point (the CLI, `python -m voicebox`, the service, tests, skill authors' tests) can import it.
os.environ["ORT_DISABLE_TELEMETRY"] = "1"

__version__ = "0.1.0"
