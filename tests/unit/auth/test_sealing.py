"""TOTP seeds sealed at rest (chalicelib/auth/sealing.py)."""
from __future__ import annotations

import pytest

from chalicelib.auth import sealing

SEED = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def test_a_sealed_seed_opens_to_itself_and_shows_nothing_of_it() -> None:
    sealed = sealing.seal(SEED)
    assert sealed.startswith(sealing.PREFIX) and SEED not in sealed and sealing.is_sealed(sealed)
    assert sealing.unseal(sealed) == SEED
    assert sealing.seal(SEED) != sealed  # a fresh nonce every time


def test_a_seed_from_before_sealing_reads_as_stored() -> None:
    assert not sealing.is_sealed(SEED) and sealing.unseal(SEED) == SEED
    assert sealing.unseal(None) is None and sealing.unseal("") is None


def test_another_key_or_a_changed_byte_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    sealed = sealing.seal(SEED)
    tampered = sealed[:-6] + ("A" if sealed[-6] != "A" else "B") + sealed[-5:]
    with pytest.raises(sealing.SealingError):
        sealing.unseal(tampered)
    monkeypatch.setenv("TOTP_SEALING_KEY", "another stage key")
    with pytest.raises(sealing.SealingError, match="sealed under key"):
        sealing.unseal(sealed)


def test_a_deployed_stage_without_its_key_refuses_to_seal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIALTONE_STAGE", "prod")
    monkeypatch.delenv("TOTP_SEALING_KEY", raising=False)
    monkeypatch.delenv("TOTP_SEALING_KEY_PARAMETER", raising=False)
    with pytest.raises(RuntimeError, match="TOTP_SEALING_KEY"):
        sealing.seal(SEED)
