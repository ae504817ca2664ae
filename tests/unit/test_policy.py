"""The Authorizer: oslo.policy rules checked against a request context."""

from __future__ import annotations

import asyncio
import os
import pathlib
from typing import Any

import pytest
import yaml
from oslo_config import cfg

from atoll.context import RequestContext
from atoll.core.errors import Forbidden
from atoll.policy import Authorizer
from atoll.types import ProjectId, RequestId, UserId
from tests.unit.conftest import Override

REQUEST = RequestId("req-00000000-0000-4000-8000-000000000000")


def caller(roles: tuple[str, ...], project: str | None = None, **scope: str) -> RequestContext:
    return RequestContext(
        request_id=REQUEST,
        user_id=UserId("u1"),
        project_id=ProjectId(project) if project else None,
        roles=roles,
        **scope,  # type: ignore[arg-type]
    )


def test_credentials_leave_out_the_scopes_a_token_does_not_have() -> None:
    project = caller(("reader",), "p1", project_domain_id="d1")
    assert project.policy_credentials() == {
        "user_id": "u1",
        "roles": ["reader"],
        "project_id": "p1",
        "project_domain_id": "d1",
    }
    domain = caller(("reader",), domain_id="d1")
    assert domain.policy_credentials() == {"user_id": "u1", "roles": ["reader"], "domain_id": "d1"}


@pytest.mark.parametrize(
    "context",
    [
        caller(("reader",), domain_id="default"),
        caller(("reader",), system_scope="all"),
        caller(("admin", "reader"), domain_id="default"),
        caller(("admin", "reader"), system_scope="all"),
    ],
    ids=["domain-reader", "system-reader", "domain-admin", "system-admin"],
)
def test_tokens_without_a_project_pass_no_rule(conf: cfg.ConfigOpts, context: RequestContext) -> None:
    authorizer = Authorizer(conf)
    for target in (None, {"project_id": None}, {"project_id": "p1"}):
        for rule in ("atoll:routings:list", "atoll:routings:show", "atoll:pods:list", "atoll:bindings:create"):
            with pytest.raises(Forbidden, match=f"Policy doesn't allow {rule} to be performed."):
                authorizer.authorize(context, rule, target)


def test_project_reader_passes_for_its_own_project_only(conf: cfg.ConfigOpts) -> None:
    authorizer = Authorizer(conf)
    reader = caller(("reader",), "p1", project_domain_id="default")
    assert authorizer.check(reader, "atoll:routings:list")
    assert authorizer.check(reader, "atoll:routings:show", {"project_id": "p1"})
    assert not authorizer.check(reader, "atoll:routings:show", {"project_id": "p2"})
    assert not authorizer.check(reader, "atoll:routings:show", {"project_id": None})
    assert not authorizer.check(reader, "atoll:routings:list_all_projects")
    admin = caller(("admin", "reader"), "p1", project_domain_id="default")
    assert authorizer.check(admin, "atoll:routings:list_all_projects")
    assert authorizer.check(admin, "atoll:pods:create")


def _write(path: pathlib.Path, rules: dict[str, str]) -> None:
    """Write a policy file, with a new mtime even within the file system's timestamp granularity."""
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(yaml.safe_dump(rules))
    os.utime(path, ns=(before + 10**9, before + 10**9))


def _write_text(path: pathlib.Path, text: str) -> None:
    path.write_text(text)


def _remove(*paths: pathlib.Path) -> None:
    for path in paths:
        path.unlink()


ADMIN = caller(("admin", "reader"), "p1", project_domain_id="default")


@pytest.fixture
def policy_file(conf: cfg.ConfigOpts, override: Override, tmp_path: pathlib.Path) -> pathlib.Path:
    path = tmp_path / "policy.yaml"
    _write(path, {"atoll:pods:list": "role:admin"})
    override("policy_file", str(path), "oslo_policy")
    override("policy_dirs", [str(tmp_path / "policy.d")], "oslo_policy")
    return path


def test_a_check_touches_no_file(
    conf: cfg.ConfigOpts, policy_file: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (policy_file.parent / "policy.d").mkdir()
    authorizer = Authorizer(conf)
    touched: list[str] = []
    for name in ("stat", "listdir", "scandir"):
        real = getattr(os, name)

        def spy(path: Any = ".", *args: Any, _real: Any = real, **kwargs: Any) -> Any:
            touched.append(str(path))
            return _real(path, *args, **kwargs)

        monkeypatch.setattr(os, name, spy)
    for _ in range(20):
        assert authorizer.check(ADMIN, "atoll:pods:list")
        assert not authorizer.check(caller(("reader",), "p1"), "atoll:pods:list")
    monkeypatch.undo()
    assert touched == []


async def test_a_changed_policy_file_takes_effect_at_the_next_refresh(
    conf: cfg.ConfigOpts, policy_file: pathlib.Path
) -> None:
    authorizer = Authorizer(conf)
    assert authorizer.check(ADMIN, "atoll:pods:list")
    assert await authorizer.refresh() is False
    _write(policy_file, {"atoll:pods:list": "role:nobody"})
    assert authorizer.check(ADMIN, "atoll:pods:list")  # read off the request path only
    assert await authorizer.refresh() is True
    assert not authorizer.check(ADMIN, "atoll:pods:list")
    assert await authorizer.refresh() is False


async def test_policy_dirs_and_a_removed_file_count_as_changes(conf: cfg.ConfigOpts, policy_file: pathlib.Path) -> None:
    authorizer = Authorizer(conf)
    extra = policy_file.parent / "policy.d"
    extra.mkdir()
    _write(extra / "10-pods.yaml", {"atoll:pods:show": "role:nobody"})
    assert authorizer.check(ADMIN, "atoll:pods:show")
    assert await authorizer.refresh() is True
    assert not authorizer.check(ADMIN, "atoll:pods:show")
    _remove(extra / "10-pods.yaml", policy_file)
    assert await authorizer.refresh() is True
    assert authorizer.check(ADMIN, "atoll:pods:show")
    assert authorizer.check(ADMIN, "atoll:pods:list")


async def test_a_broken_file_keeps_the_rules_in_force(
    conf: cfg.ConfigOpts, policy_file: pathlib.Path, caplog: pytest.LogCaptureFixture
) -> None:
    authorizer = Authorizer(conf)
    _write(policy_file, {"atoll:pods:list": "role:nobody"})
    _write_text(policy_file, "atoll:pods:list: [unclosed\n")
    assert await authorizer.refresh() is False
    assert authorizer.check(ADMIN, "atoll:pods:list")
    assert "could not be loaded" in caplog.text
    assert str(policy_file) in caplog.text


async def test_the_watcher_reloads_a_changed_file(conf: cfg.ConfigOpts, policy_file: pathlib.Path) -> None:
    authorizer = Authorizer(conf)
    async with authorizer.watching(interval=0.05):
        _write(policy_file, {"atoll:pods:list": "role:nobody"})
        for _ in range(1000):  # polls for up to 10 s
            if not authorizer.check(ADMIN, "atoll:pods:list"):
                break
            await asyncio.sleep(0.01)
        assert not authorizer.check(ADMIN, "atoll:pods:list")
