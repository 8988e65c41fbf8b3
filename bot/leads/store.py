"""Saving inquiries as leads, together with the notices that tell staff about them.

`LeadStore.add` writes the lead and one outbox row per configured channel (email,
webhook) in a single transaction, so a lead is either saved with its notices queued
or not saved at all; the outbox worker sends the notices after the commit.

Saving is idempotent per conversation: each lead carries a `submission_key`, unique
together with the conversation id. The caller may pass its own key (for example the
id of the message that confirmed the inquiry); otherwise the key is derived from the
normalised details (kind, name, phone, email, area, times, insurance, consent
wording; not the consent time, which a retry may stamp afresh). Saving the same
submission again, even from two processes at once, returns the first lead's number
and queues no second notice. The key is stored as a SHA-256 digest.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.db import utcnow
from bot.leads.contact import normalize_email, normalize_phone
from bot.leads.links import lead_page_url
from bot.leads.models import Lead, LeadKind, LeadStatus
from bot.notify.queue import queue_lead_notices
from bot.schedule.bookings import attach_to_lead
from bot.settings import Settings

log = logging.getLogger(__name__)

MAX_NAME = 200
MAX_TEXT = 1000
MAX_CONSENT_TEXT = 2000
MAX_CONVERSATION_ID = 255


class LeadValidationError(ValueError):
    """The lead cannot be saved as given; `field` names the detail at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class NewLead:
    """An inquiry the visitor completed and agreed to be contacted about."""

    kind: LeadKind | str
    name: str
    phone: str | None
    email: str | None
    area_of_concern: str
    preferred_times: str
    insurance: str | None
    consent_text: str
    consented_at: datetime
    conversation_id: str
    # Optional: a key the caller chooses for this submission (see the module docstring).
    submission_key: str | None = None
    # Optional: the time held for this visitor in the chat (`bot.schedule.bookings.hold`), which
    # becomes this lead's requested time in the same transaction.
    booking_id: int | None = None


def _text(value: str | None, field: str, label: str, limit: int, *, required: bool) -> str:
    text = (value or "").strip()
    if required and not text:
        raise LeadValidationError(field, f"The {label} is missing.")
    if len(text) > limit:
        raise LeadValidationError(field, f"The {label} is too long (at most {limit} characters).")
    return text


def _validated(new: NewLead) -> dict:
    try:
        kind = LeadKind(new.kind)
    except ValueError:
        known = ", ".join(k.value for k in LeadKind)
        raise LeadValidationError("kind", f"Unknown inquiry kind {new.kind!r}; expected one of {known}.") from None
    name = _text(new.name, "name", "name", MAX_NAME, required=True)

    phone = None
    if new.phone and new.phone.strip():
        phone = normalize_phone(new.phone)
        if phone is None:
            raise LeadValidationError("phone", "The phone number is not a valid phone number.")
    email = None
    if new.email and new.email.strip():
        email = normalize_email(new.email)
        if email is None:
            raise LeadValidationError("email", "The email address is not a valid email address.")
    if phone is None and email is None:
        raise LeadValidationError("contact", "A phone number or an email address is needed to reply.")

    consent_text = _text(new.consent_text, "consent_text", "consent wording", MAX_CONSENT_TEXT, required=True)
    consented_at = new.consented_at
    if not isinstance(consented_at, datetime):
        raise LeadValidationError("consented_at", "The time of consent is missing.")
    if consented_at.tzinfo is None or consented_at.utcoffset() is None:
        raise LeadValidationError("consented_at", "The time of consent must carry a time zone.")
    conversation_id = _text(
        new.conversation_id, "conversation_id", "conversation id", MAX_CONVERSATION_ID, required=True
    )
    insurance = _text(new.insurance, "insurance", "insurance note", MAX_TEXT, required=False) or None
    return {
        "kind": kind,
        "name": name,
        "phone": phone,
        "email": email,
        "area_of_concern": _text(new.area_of_concern, "area_of_concern", "area of concern", MAX_TEXT, required=False),
        "preferred_times": _text(new.preferred_times, "preferred_times", "preferred times", MAX_TEXT, required=False),
        "insurance": insurance,
        "consent_text": consent_text,
        "consented_at": consented_at,
        "conversation_id": conversation_id,
    }


def submission_key_for(details: dict, client_key: str | None = None) -> str:
    """The stored key: a digest of the caller's key, or of the normalised details."""
    if client_key is not None and client_key.strip():
        source = "client:" + client_key.strip()
    else:
        source = "details:" + json.dumps(
            [
                details["kind"].value,
                details["name"],
                details["phone"],
                details["email"],
                details["area_of_concern"],
                details["preferred_times"],
                details["insurance"],
                details["consent_text"],
            ],
            ensure_ascii=False,
        )
    return hashlib.sha256(source.encode("utf-8")).hexdigest()


class LeadStore:
    """Leads in the application database; one session per call."""

    def __init__(
        self,
        session_factory: sessionmaker,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._session_factory = session_factory
        self._settings = settings
        self._clock = clock

    def add(self, new: NewLead) -> int:
        """Save the lead and queue its notices in one transaction; return the lead number.

        Raises `LeadValidationError` (a `ValueError`) with a message fit to show when a
        detail is missing or invalid; nothing is written then.
        """
        details = _validated(new)
        key = submission_key_for(details, new.submission_key)
        with self._session_factory() as session:
            existing = self._find_submission(session, details["conversation_id"], key)
            if existing is not None:
                log.info("Lead #%s already saved for this submission; not saved twice", existing)
                return existing
            now = self._clock()
            lead = Lead(
                **details,
                submission_key=key,
                status=LeadStatus.new,
                created_at=now,
                updated_at=now,
            )
            session.add(lead)
            try:
                # The flush assigns the lead number the notices and the booking refer to.
                session.flush()
                requested = self._request_time(session, lead, new.booking_id, now) if new.booking_id else None
                queue_lead_notices(
                    session,
                    lead_id=lead.id,
                    kind=lead.kind,
                    requested_time=requested,
                    url=lead_page_url(self._settings.public_url, lead.id),
                    created_at=now,
                    settings=self._settings,
                )
                session.commit()
            except IntegrityError:
                # Another process saved the same submission between our check and insert.
                session.rollback()
                existing = self._find_submission(session, details["conversation_id"], key)
                if existing is None:
                    raise
                log.info("Lead #%s already saved for this submission; not saved twice", existing)
                return existing
            log.info("Lead #%s saved (%s)", lead.id, lead.kind.value)
            return lead.id

    def _request_time(self, session: Session, lead: Lead, booking_id: int, now: datetime) -> datetime | None:
        """The time held in the chat, now requested on this lead; None when it could not be kept."""
        booking = attach_to_lead(session, self._settings, booking_id=booking_id,
                                 conversation_id=lead.conversation_id, lead_id=lead.id, now=now)
        if booking is None:
            # The hold lapsed and someone else has the time: staff see it was asked for, not kept.
            lead.preferred_times = f"{lead.preferred_times} (no longer free when the inquiry was sent)"[:MAX_TEXT]
            return None
        return booking.starts

    @staticmethod
    def _find_submission(session: Session, conversation_id: str, key: str) -> int | None:
        return session.scalar(
            select(Lead.id).where(Lead.conversation_id == conversation_id, Lead.submission_key == key)
        )
