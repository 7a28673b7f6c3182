"""Sound devices: list them and resolve a configured name or index to a PortAudio device."""

from __future__ import annotations

from typing import Any

from voicebox.core.errors import (
    CODE_DEVICE_PORTAUDIO,
    CODE_DEVICE_UNKNOWN,
    CODE_NO_INPUT_DEVICE,
    CODE_NO_OUTPUT_DEVICE,
    DeviceError,
)

__all__ = ["list_devices", "resolve_device"]


def _sd() -> Any:
    try:
        import sounddevice as sd
    except OSError as err:
        raise DeviceError(
            f"the PortAudio library is missing ({err}); install it, e.g. `sudo apt install libportaudio2`",
            code=CODE_DEVICE_PORTAUDIO,
        ) from err
    return sd


def list_devices() -> list[dict[str, Any]]:
    """Every device with index, name, host API, channel counts, default rate and default flags."""
    sd = _sd()
    devices = sd.query_devices()
    try:
        default_in, default_out = sd.default.device
    except Exception:
        default_in = default_out = -1
    hostapis = sd.query_hostapis()
    return [
        {
            "index": i,
            "name": d["name"],
            "hostapi": hostapis[d["hostapi"]]["name"],
            "inputs": d["max_input_channels"],
            "outputs": d["max_output_channels"],
            "default_samplerate": d["default_samplerate"],
            "default_input": i == default_in,
            "default_output": i == default_out,
        }
        for i, d in enumerate(devices)
    ]


def resolve_device(spec: str, kind: str) -> int:
    """Device index for ``spec`` (index, or case-insensitive name substring; empty = default).

    ``kind`` is "input" or "output". Raises :class:`DeviceError` naming the
    available devices when nothing fits, and the device asked for when the
    PortAudio library itself is missing.
    """
    try:
        devices = list_devices()
    except DeviceError as err:
        asked = f"{kind} device {spec!r}" if spec else f"the default {kind} device"
        raise DeviceError(f"cannot use {asked}: {err.message}", code=err.code) from err
    channels = "inputs" if kind == "input" else "outputs"
    usable = [d for d in devices if d[channels] > 0]
    names = ", ".join(f"{d['index']}: {d['name']}" for d in usable) or "none"
    if not spec:
        default = [d for d in usable if d[f"default_{kind}"]]
        if default:
            return int(default[0]["index"])
        raise DeviceError(f"no default {kind} device on this machine (available: {names}); "
                          f"use a file instead, e.g. --{kind} FILE.wav",
                          code=CODE_NO_INPUT_DEVICE if kind == "input" else CODE_NO_OUTPUT_DEVICE)
    if spec.strip().lstrip("-").isdigit():
        index = int(spec)
        if any(d["index"] == index for d in usable):
            return index
        raise DeviceError(f"no {kind} device with index {index}; available: {names} (see `voicebox devices`)",
                          code=CODE_DEVICE_UNKNOWN)
    matches = [d for d in usable if spec.lower() in str(d["name"]).lower()]
    if not matches:
        raise DeviceError(f"no {kind} device named {spec!r}; available: {names} (see `voicebox devices`)",
                          code=CODE_DEVICE_UNKNOWN)
    exact = [d for d in matches if str(d["name"]).lower() == spec.lower()]
    return int((exact or matches)[0]["index"])
