"""One local Ray for the whole test session (starting it takes a few seconds)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def ray_cluster():
    """A local Ray with 2 CPUs and no dashboard or usage statistics; yields its address."""
    import ray
    from synthkit_ray.engine import ensure_ray

    started = not ray.is_initialized()
    ensure_ray(num_cpus=2)
    yield ray.get_runtime_context().gcs_address
    if started:
        ray.shutdown()
