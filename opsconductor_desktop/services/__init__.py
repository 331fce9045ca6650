"""Use cases: the one API every client (GUI, CLI, agent) calls. One transaction each."""
