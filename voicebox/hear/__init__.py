"""② ③ Hearing a command: the wake word, pure endpointing, and command capture."""
