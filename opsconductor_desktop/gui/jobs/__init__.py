"""The Jobs pane: job definitions, the job editor, runs, the live run view and output."""
