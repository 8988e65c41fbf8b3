"""The production compose file keeps `python -m bot run`'s promise: a dead or hung part is restarted."""

from __future__ import annotations

import yaml

from bot.settings import PROJECT_ROOT

COMPOSE = PROJECT_ROOT / "deploy" / "compose.yml"


def test_every_part_of_the_assistant_is_restarted_when_it_dies_or_hangs():
    services = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))["services"]
    ours = [name for name in services if name == "web" or name.startswith(("rasa-", "actions-"))]
    assert {"web", "rasa-1", "actions-1"} <= set(ours)
    for name in ours:
        service = services[name]
        assert service["restart"] == "unless-stopped", name
        assert service["healthcheck"]["test"], name
        assert service["labels"]["autoheal"] == "true", name
    autoheal = services["autoheal"]
    assert autoheal["environment"]["AUTOHEAL_CONTAINER_LABEL"] == "autoheal"
    assert "/var/run/docker.sock:/var/run/docker.sock" in autoheal["volumes"]
