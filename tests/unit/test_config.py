"""Settings precedence and validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from pocketstack.common import config


def test_defaults():
    settings = config.load(environ={})
    assert settings.port == config.DEFAULT_PORT and settings.host == "127.0.0.1"
    assert settings.effective_database_url.startswith("sqlite:///")
    assert settings.effective_public_url == "http://127.0.0.1:8780"


def test_precedence_file_env_overrides(tmp_path):
    toml = tmp_path / "c.toml"
    toml.write_text('[pocketstack]\nport = 9000\nregion = "Lab"\nbcrypt_rounds = 10\n')
    settings = config.load(toml, overrides={"bcrypt_rounds": 5},
                           environ={"POCKETSTACK_PORT": "9100", "POCKETSTACK_DATA_DIR": str(tmp_path / "d")})
    assert settings.port == 9100          # env beats file
    assert settings.region == "Lab"       # file beats default
    assert settings.bcrypt_rounds == 5    # overrides beat everything
    assert settings.data_dir == Path(tmp_path / "d")


def test_unknown_and_bad_values_fail_loudly(tmp_path):
    toml = tmp_path / "c.toml"
    toml.write_text("prot = 1\n")
    with pytest.raises(ValueError, match="unknown setting"):
        config.load(toml, environ={})
    with pytest.raises(ValueError, match="port"):
        config.load(environ={"POCKETSTACK_PORT": "eighty"})
