"""The desktop console: PySide6 widgets over the services, on one qasync loop."""
