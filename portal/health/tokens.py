"""The health sector's API tokens: made by a health-data officer, kept as a hash, shown once."""
from __future__ import annotations

import secrets

from sqlalchemy import select

from portal.api.services import hash_secret
from portal.audit.services import record
from portal.clock import utcnow
from portal.health.models import HealthToken

SECRET_PREFIX = "hlth_"


def create_token(session, name: str, actor) -> tuple[HealthToken, str]:
    """Add a token; return it with its secret, which is never stored nor shown again."""
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    token = HealthToken(name=name.strip()[:100] or "registry", prefix=secret[:12], token_hash=hash_secret(secret),
                        created_by_id=actor.id, created_at=utcnow())
    session.add(token)
    session.flush()
    record(session, actor, "health_token.created", token, after={"name": token.name, "prefix": token.prefix})
    return token, secret


def revoke_token(session, token: HealthToken, actor) -> None:
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        record(session, actor, "health_token.revoked", token, after={"name": token.name, "prefix": token.prefix})


def tokens(session) -> list[HealthToken]:
    return list(session.scalars(select(HealthToken).order_by(HealthToken.revoked_at.is_not(None),
                                                             HealthToken.created_at.desc())))


def authenticate(session, secret: str | None) -> HealthToken | None:
    """Return the working token with this secret whose maker is still an enabled health-data officer."""
    if not secret or not secret.startswith(SECRET_PREFIX) or len(secret) > 200:
        return None
    token = session.scalar(select(HealthToken).where(HealthToken.token_hash == hash_secret(secret)))
    if token is None or token.revoked_at is not None:
        return None
    maker = token.created_by
    if not maker.is_active or not maker.is_health:
        return None
    return token
