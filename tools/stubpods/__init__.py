"""Stub OpenStack pods for benchmarks and fast tests: a stub Keystone and, per pod, in-memory Nova,
Cinder, Glance, Neutron and Placement answering with the real services' body shapes.

    async with StubCloud(CloudConfig.uniform(10, latency_ms=20)) as cloud:
        cloud.auth_url, cloud.pods["Pod3"].endpoints ...

See docs/stubpods.md.
"""

from stubpods.cloud import StubCloud
from stubpods.config import CloudConfig, Failure, FailureMode, PodConfig
from stubpods.process import StubProcess

__all__ = ["CloudConfig", "Failure", "FailureMode", "PodConfig", "StubCloud", "StubProcess"]
