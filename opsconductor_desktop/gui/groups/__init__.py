"""The Groups pane: groups table, static member editor and dynamic rule editor."""
