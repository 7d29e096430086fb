"""Email notifications: templates, the SMTP sender, the outbox worker and expiry reminders."""
