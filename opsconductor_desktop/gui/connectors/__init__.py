"""The Connectors pane: alert sources (manifests with settings), their health and tests."""
