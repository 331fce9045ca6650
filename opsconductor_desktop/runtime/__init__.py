"""Runtime: the one dispatcher, the job executor, the poller and the alert manager."""
