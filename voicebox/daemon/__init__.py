"""The daemon: building the engines, the assistant that owns the tasks, lifecycle and systemd."""
