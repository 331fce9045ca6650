"""The Monitoring pane: monitors, threshold rules and the per-target check status."""
