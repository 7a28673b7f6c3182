"""The Wyoming protocol both ways: the server for Home Assistant, the hub and its satellites."""
