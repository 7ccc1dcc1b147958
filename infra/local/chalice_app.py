"""The Chalice app and its stage configuration, loaded the way the chalice
CLI loads them for `chalice local` and `chalice package`."""
from __future__ import annotations

import os

from chalice.cli.factory import CLIFactory
from chalice.config import Config

from infra.local.environment import ROOT


def load(stage: str) -> Config:
    """The stage's Config; ``config.chalice_app`` imports app.py on first use."""
    # CLIFactory writes the stage's environment_variables into the environ it
    # is given. A copy keeps them from overwriting this process's endpoints,
    # which the runtime may have moved to other ports.
    factory = CLIFactory(str(ROOT), environ=dict(os.environ))
    return factory.create_config_obj(chalice_stage_name=stage)
