"""Mail: every mail the portal writes goes to an outbox table, and over SMTP when MAIL_SERVER is set."""
