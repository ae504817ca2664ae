"""The committed config and policy samples match what the code generates."""

from __future__ import annotations

import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = pathlib.Path(sys.executable).parent

SAMPLES = [
    ("oslo-config-generator", "etc/atoll/atoll-config-generator.conf", "etc/atoll/atoll.conf.sample"),
    ("oslopolicy-sample-generator", "etc/atoll/atoll-policy-generator.conf", "etc/atoll/policy.yaml.sample"),
]


@pytest.mark.parametrize(("tool", "generator_conf", "sample"), SAMPLES)
def test_sample_is_current(tool: str, generator_conf: str, sample: str, tmp_path: pathlib.Path) -> None:
    fresh = tmp_path / "sample"
    subprocess.run(
        [str(BIN / tool), "--config-file", str(ROOT / generator_conf), "--output-file", str(fresh)],
        check=True,
        cwd=ROOT,
        capture_output=True,
    )
    assert fresh.read_text() == (ROOT / sample).read_text(), (
        f"{sample} is stale: regenerate it with `{tool} --config-file {generator_conf}`"
    )


def test_config_sample_documents_every_group() -> None:
    text = (ROOT / "etc/atoll/atoll.conf.sample").read_text()
    for group in ("[api]", "[database]", "[engine]", "[keystone_authtoken]", "[service_auth]", "[oslo_policy]"):
        assert group in text
    assert "#port = 19999" in text
    assert "#connection = sqlite:///$state_path/atoll.sqlite" in text


def test_policy_sample_has_admin_only_writes() -> None:
    text = (ROOT / "etc/atoll/policy.yaml.sample").read_text()
    assert '#"atoll:pods:create": "rule:admin_api"' in text
    assert '#"atoll:routings:list": "rule:admin_or_project_reader"' in text
