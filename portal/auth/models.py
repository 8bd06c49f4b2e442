from __future__ import annotations

from datetime import datetime
from enum import Enum

from flask import current_app, has_app_context
from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from portal.clock import utcnow
from portal.db import UTCDateTime
from portal.extensions import db


def password_hash_method() -> str:
    """Return the configured hashing method (scrypt unless the test suite asks for a cheaper one)."""
    return current_app.config["PASSWORD_HASH_METHOD"] if has_app_context() else "scrypt"


class Role(str, Enum):
    HR = "hr"  # enterprise HR staff, bound to one enterprise
    OFFICIAL = "official"  # a unit's official, bound to one unit
    ADMIN = "admin"  # the city's administrator, sees every unit


class User(UserMixin, db.Model):
    """A person who logs in: enterprise HR, a unit official or a city admin."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(
            "(role = 'hr' AND enterprise_id IS NOT NULL AND unit_id IS NULL)"
            " OR (role = 'official' AND unit_id IS NOT NULL AND enterprise_id IS NULL)"
            " OR (role = 'admin' AND enterprise_id IS NULL AND unit_id IS NULL)",
            name="role_binding",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    full_name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(20))
    role: Mapped[str] = mapped_column(String(16))
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("pilot_units.id"), index=True)
    is_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped on password change so that every other session of the user ends.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    enterprise = relationship("Enterprise", foreign_keys=[enterprise_id])
    unit = relationship("PilotUnit")

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method=password_hash_method())
        self.session_version = (self.session_version or 0) + 1

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def is_active(self) -> bool:
        return bool(self.is_enabled)

    @property
    def is_hr(self) -> bool:
        return self.role == Role.HR.value

    @property
    def is_official(self) -> bool:
        return self.role == Role.OFFICIAL.value

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN.value

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"
