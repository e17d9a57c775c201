"""The `local up` session file: what any other `allegro-sync` command needs to reach the running local stack.

`local up` writes it once everything listens and removes it when it stops; a command in another terminal
reads it by itself (cli/main.py), so `accounts connect` reaches the emulator and moto without any
`AWS_ENDPOINT_URL` or `ALLEGRO_*_URL` variable. A file whose `local up` is gone (killed, machine restarted)
is ignored. Only local, non-secret values are in it: the emulator's documented app credentials and the
local shop's throwaway signing secret.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from allegro_sync.settings import (
    ALLEGRO_API_URL_ENV,
    ALLEGRO_OAUTH_URL_ENV,
    ALLEGRO_UPLOAD_URL_ENV,
    API_URL_ENV,
    AWS_ENDPOINT_ENV,
    Settings,
    local_session_path,
)


@dataclass(frozen=True)
class LocalSession:
    pid: int  # the `local up` process
    aws_endpoint_url: str
    region: str
    api_url: str  # the local HTTP API (webhooks, /oauth/...)
    allegro_url: str  # the emulator: API, upload and OAuth hosts, admin API under /__emulator/
    shop_url: str  # the local shop that receives orders (generic contract)
    shop_signing_secret: str  # throwaway, local only
    client_id: str  # the emulator's documented application
    client_secret: str

    def environment(self) -> dict[str, str]:
        """The variables a command would otherwise need: local AWS (any key works with moto), the emulator."""
        return {
            AWS_ENDPOINT_ENV: self.aws_endpoint_url,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": self.region,
            ALLEGRO_API_URL_ENV: self.allegro_url,
            ALLEGRO_UPLOAD_URL_ENV: self.allegro_url,
            ALLEGRO_OAUTH_URL_ENV: self.allegro_url,
            API_URL_ENV: self.api_url,
        }


def write(session: LocalSession, path: Path | None = None) -> Path | None:
    """Publish the session (owner-only file); None when session files are switched off."""
    target = path or local_session_path()
    if target is None:
        return None
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_suffix(".tmp")
    temporary.write_text(json.dumps(asdict(session), indent=2), encoding="utf-8")
    temporary.chmod(0o600)
    temporary.replace(target)  # atomic: a reader never sees half a file
    return target


def remove(pid: int, path: Path | None = None) -> None:
    """Remove the file if it is still this `local up`'s (a newer one may have replaced it)."""
    target = path or local_session_path()
    if target is None:
        return
    found = _load(target)
    if found is not None and found.pid == pid:
        target.unlink(missing_ok=True)


def read(path: Path | None = None) -> LocalSession | None:
    """The running `local up`'s session, or None (no file, unreadable, or its process is gone)."""
    target = path or local_session_path()
    if target is None:
        return None
    found = _load(target)
    return found if found is not None and _alive(found.pid) else None


def active(process: Settings | None = None) -> LocalSession | None:
    """The session a command should use: none when the operator points at an AWS endpoint explicitly."""
    process = process if process is not None else Settings.from_environ()
    if process.aws_endpoint_url:
        return None
    return read()


def _load(path: Path) -> LocalSession | None:
    try:
        return LocalSession(**json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True
