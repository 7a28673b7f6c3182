"""Concrete engine adapters (openWakeWord, Silero VAD, faster-whisper, piper), imported lazily."""
