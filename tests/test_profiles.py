import dataclasses

import pytest

from ganbook_utils import profiles
from ganbook_utils.cli import main


def test_every_profile_sets_every_budget_to_a_positive_integer():
    for name in profiles.PROFILE_NAMES:
        profile = profiles.get_profile(name)
        assert profile.name == name
        for field in dataclasses.fields(profile)[1:]:
            value = getattr(profile, field.name)
            assert isinstance(value, int) and value > 0, (name, field.name, value)


def test_budgets_grow_from_smoke_to_cpu_to_gpu():
    smoke, cpu, gpu = (profiles.get_profile(name) for name in ("smoke", "cpu", "gpu"))
    for field in dataclasses.fields(smoke)[1:]:
        values = [getattr(p, field.name) for p in (smoke, cpu, gpu)]
        assert values == sorted(values), (field.name, values)


def test_environment_variable_selects_the_profile(monkeypatch):
    monkeypatch.setenv(profiles.ENV_VAR, "cpu")
    assert profiles.get_profile().name == "cpu"
    monkeypatch.setenv(profiles.ENV_VAR, " GPU ")
    assert profiles.get_profile().name == "gpu"


def test_default_is_gpu_only_when_a_gpu_is_visible(monkeypatch):
    monkeypatch.delenv(profiles.ENV_VAR, raising=False)
    monkeypatch.setattr(profiles, "gpu_available", lambda: True)
    assert profiles.get_profile().name == "gpu"
    monkeypatch.setattr(profiles, "gpu_available", lambda: False)
    assert profiles.get_profile().name == "cpu"


def test_unknown_profile_names_the_choices(monkeypatch):
    monkeypatch.setenv(profiles.ENV_VAR, "laptop")
    with pytest.raises(ValueError, match="smoke, cpu, gpu"):
        profiles.get_profile()


def test_printed_profile_names_itself_and_every_budget():
    text = str(profiles.get_profile("smoke"))
    assert text.startswith("Profile 'smoke'")
    assert "dcgan_steps=" in text and "fid_samples=" in text
    assert max(len(line) for line in text.splitlines()) <= 100  # readable on a page


def test_cli_prints_the_profile(capsys, monkeypatch):
    monkeypatch.setenv(profiles.ENV_VAR, "smoke")
    assert main(["profile"]) == 0
    assert capsys.readouterr().out.strip() == "smoke"


def test_quick_scales_every_step_budget_and_nothing_else(monkeypatch):
    full = profiles.get_profile("gpu")
    monkeypatch.setenv(profiles.QUICK_ENV_VAR, "0.1")
    quick = profiles.get_profile("gpu")
    assert quick.dcgan_steps == round(full.dcgan_steps * 0.1)
    assert quick.name == "gpu" and quick.train_size == full.train_size
    assert quick.fid_samples == full.fid_samples
    monkeypatch.setenv(profiles.QUICK_ENV_VAR, "0.000001")
    assert profiles.get_profile("smoke").vae_steps == 1  # never zero steps


@pytest.mark.parametrize("fraction", ["2", "0", "-0.5", "fast"])
def test_quick_rejects_what_is_not_a_fraction(monkeypatch, fraction):
    monkeypatch.setenv(profiles.QUICK_ENV_VAR, fraction)
    with pytest.raises(ValueError, match="GANBOOK_QUICK"):
        profiles.get_profile("gpu")
