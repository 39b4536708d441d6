"""Worker sweeps for needs (deadline warnings, escalation, revisit reminders)."""
