"""⑦ Speaking: speech synthesis streamed sentence by sentence."""
