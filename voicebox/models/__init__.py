"""The model catalogue, the local model store, and fetching models into it."""
