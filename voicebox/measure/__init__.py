"""Tools that measure voicebox (bench, eval, soak) and their arithmetic; never on the hot path."""
