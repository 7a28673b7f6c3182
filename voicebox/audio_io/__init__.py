"""① ⑧ Audio in and out: sound devices, sources (microphone, WAV, stdin), sinks (speaker, WAV), supervision."""
