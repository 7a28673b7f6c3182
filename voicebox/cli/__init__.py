"""The voicebox command line: one explicit list of commands, each command's flags defined once."""
