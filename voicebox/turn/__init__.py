"""One turn ①→⑧ over the stages: the only place that knows their order."""
