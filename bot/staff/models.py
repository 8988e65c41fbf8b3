"""Tables of the staff pages: accounts, signed-in sessions, trusted devices, unknown sign-ins."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UTCDateTime, utcnow


class StaffAccount(Base):
    """A person who may sign in to the staff pages; `login` is an email address or `admin`."""

    __tablename__ = "staff_accounts"
    __table_args__ = (UniqueConstraint("login", name="uq_staff_accounts_login"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    login: Mapped[str] = mapped_column(String(320))
    password_hash: Mapped[str] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    # Failed sign-ins from browsers this account has not signed in on before.
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    last_failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:
        return f"<StaffAccount #{self.id} {self.login}>"


class StaffLogin(Base):
    """One signed-in browser; the encrypted session cookie holds the token, this row its digest.

    Keeping the row on the server lets sign-out, a disabled account and a password
    change end a session for real, and lets the idle timeout be checked here.
    """

    __tablename__ = "staff_logins"

    token_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("staff_accounts.id", ondelete="CASCADE", name="fk_staff_logins_account"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class StaffDevice(Base):
    """A browser the account signed in on before (a long-lived device cookie holds the token).

    Sign-ins from such a browser are throttled on their own counter, so someone guessing
    a colleague's password elsewhere cannot lock the colleague out of their own desk.
    """

    __tablename__ = "staff_devices"

    token_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("staff_accounts.id", ondelete="CASCADE", name="fk_staff_devices_account"), index=True
    )
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    last_failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class UnknownSignIn(Base):
    """Failed sign-ins to an address that has no account, counted like an account's.

    Throttled and locked exactly as a real account would be, so neither the answers nor
    their timing tell whether an account exists. Keyed by the SHA-256 digest of the
    address: what somebody typed is never stored.
    """

    __tablename__ = "staff_unknown_sign_ins"

    login_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    last_failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
