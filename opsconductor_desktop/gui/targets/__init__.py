"""The Targets pane: the inventory table, its quick filter, dialogs and details panel."""
