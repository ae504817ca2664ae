"""The stub Keystone's users, projects and tokens.

Tokens are real Fernet tokens (the `cryptography` package, as Keystone uses)
holding the user, project and expiry, so any process sharing the key can
validate them without a lookup. Ids are stable across runs: uuid5 of the name.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import functools
import hashlib
import json
import secrets
import uuid

from cryptography.fernet import Fernet, InvalidToken

DOMAIN = {"id": "default", "name": "Default"}


@functools.lru_cache(maxsize=8192)  # a project's id is asked on every request a stub answers
def stable_id(*parts: str) -> str:
    return uuid.uuid5(uuid.NAMESPACE_URL, "stubpods/" + "/".join(parts)).hex


@dataclasses.dataclass(frozen=True)
class Project:
    name: str

    @property
    def id(self) -> str:
        return stable_id("project", self.name)

    def ref(self) -> dict[str, object]:
        return {"id": self.id, "name": self.name, "domain": dict(DOMAIN)}


@dataclasses.dataclass(frozen=True)
class User:
    name: str
    password: str
    project: Project
    roles: tuple[str, ...]

    @property
    def id(self) -> str:
        return stable_id("user", self.name)

    def credentials(self) -> dict[str, str]:
        """keystoneauth-style password credentials (as the test bed's testbed.json has them)."""
        return {"username": self.name, "password": self.password, "project_name": self.project.name}


ADMIN = Project("admin")
SERVICE = Project("service")
DEMO = Project("demo")
ALT = Project("alt_demo")
PROJECTS = (ADMIN, SERVICE, DEMO, ALT)
SEEDED_PROJECTS = (DEMO, ALT)
"""The projects that own pre-seeded servers, volumes, images and networks."""

USERS = {
    u.name: u
    for u in (
        User("admin", "admin", ADMIN, ("admin", "member", "reader")),
        User("atoll", "stub-atoll-secret", SERVICE, ("admin", "service", "member", "reader")),
        User("demo", "demo-secret", DEMO, ("member", "reader")),
        User("alt_demo", "alt-demo-secret", ALT, ("member", "reader")),
    )
}
ROLE_IDS = {name: stable_id("role", name) for name in ("admin", "member", "reader", "service")}


@dataclasses.dataclass(frozen=True)
class Claims:
    user: User
    project: Project
    issued_at: dt.datetime
    expires_at: dt.datetime
    audit_id: str

    @property
    def is_admin(self) -> bool:
        return "admin" in self.user.roles


def _time(value: dt.datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"


class TokenAuthority:
    def __init__(self, key: bytes | None = None, ttl: float = 3600.0) -> None:
        self.key = key or Fernet.generate_key()
        self._fernet = Fernet(self.key)
        self._ttl = ttl
        self._seen: dict[str, Claims | None] = {}

    def issue(self, user: User, project: Project) -> tuple[str, Claims]:
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        audit = base64.urlsafe_b64encode(secrets.token_bytes(16)).decode().rstrip("=")
        claims = Claims(user, project, now, now + dt.timedelta(seconds=self._ttl), audit)
        payload = {
            "u": user.name,
            "p": project.name,
            "i": now.timestamp(),
            "e": claims.expires_at.timestamp(),
            "a": audit,
        }
        token = self._fernet.encrypt(json.dumps(payload).encode()).decode().rstrip("=")
        return token, claims

    def validate(self, token: str) -> Claims | None:
        """The claims of a token this authority (or one with its key) issued and that has not expired."""
        key = hashlib.sha256(token.encode()).hexdigest()
        if key not in self._seen:
            self._seen[key] = self._decode(token)
        claims = self._seen[key]
        if claims is None or claims.expires_at <= dt.datetime.now(dt.UTC):
            return None
        return claims

    def _decode(self, token: str) -> Claims | None:
        try:
            payload = json.loads(self._fernet.decrypt(token + "=" * (-len(token) % 4)))
        except (InvalidToken, ValueError):
            return None
        user = USERS.get(payload["u"])
        project = next((p for p in PROJECTS if p.name == payload["p"]), None)
        if user is None or project is None:
            return None
        return Claims(
            user,
            project,
            dt.datetime.fromtimestamp(payload["i"], dt.UTC),
            dt.datetime.fromtimestamp(payload["e"], dt.UTC),
            payload["a"],
        )


def token_body(claims: Claims, catalog: list[dict[str, object]]) -> dict[str, object]:
    """The body Keystone returns for a project-scoped password token."""
    user = claims.user
    return {
        "token": {
            "methods": ["password"],
            "user": {"domain": dict(DOMAIN), "id": user.id, "name": user.name, "password_expires_at": None},
            "audit_ids": [claims.audit_id],
            "expires_at": _time(claims.expires_at),
            "issued_at": _time(claims.issued_at),
            "project": claims.project.ref(),
            "is_domain": False,
            "roles": [{"id": ROLE_IDS[r], "name": r} for r in user.roles],
            "catalog": catalog,
        }
    }
