"""Shared fixtures for the integration tests.

Tests drive the real programs from the build directory (POSTHORN_BUILD, set by
`make integration`). Instances live in temporary directories and use loopback
ports only.
"""
import os
import subprocess
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("POSTHORN_BUILD", ROOT / "build"))


def bin_path(name):
    return BUILD / "bin" / name


@pytest.fixture
def posthorn():
    """Runs `posthorn ARGS...`; returns the CompletedProcess (text mode)."""
    exe = bin_path("posthorn")
    assert exe.exists(), f"{exe} is not built"

    def run(*args, input=None, env=None):
        full_env = dict(os.environ)
        full_env.pop("MAIL_CONFIG", None)
        if env:
            full_env.update(env)
        return subprocess.run([str(exe), *map(str, args)], input=input, env=full_env,
                              capture_output=True, text=True, timeout=60)
    return run
