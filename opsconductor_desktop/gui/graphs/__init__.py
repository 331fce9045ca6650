"""The Graphs pane and the small metric views (sparklines) other panes show."""
