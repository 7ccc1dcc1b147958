"""Event handlers: SQS consumers, schedules and log subscriptions."""
