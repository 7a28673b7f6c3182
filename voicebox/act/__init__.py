"""⑥ Acting: skill loading and dispatch, the context a skill sees, its storage and scheduler."""
