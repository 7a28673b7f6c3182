"""Shared vocabulary of every layer: audio format, config, errors, events, conversations; imports no other layer."""
