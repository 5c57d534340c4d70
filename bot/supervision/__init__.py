"""Supervision: people and roles, enrollment, privacy and audit, alerts, check-ins,
crisis handover, reminder generators and the texts of the messages sent first."""
