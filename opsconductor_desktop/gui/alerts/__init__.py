"""The Alerts pane: open problems, their history, acknowledgements and silences."""
