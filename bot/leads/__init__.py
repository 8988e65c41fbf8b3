"""Leads: the inquiries visitors agreed to be contacted about, and where they are stored."""

from bot.leads.models import Lead, LeadKind, LeadStatus, OutboxChannel, OutboxMessage
from bot.leads.store import LeadStore, LeadValidationError, NewLead

__all__ = [
    "Lead",
    "LeadKind",
    "LeadStatus",
    "LeadStore",
    "LeadValidationError",
    "NewLead",
    "OutboxChannel",
    "OutboxMessage",
]
