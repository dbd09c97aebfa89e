"""The shipped systemd units: they load cleanly, are hardened, and still let the agent read logs and ship them.

``systemd-analyze verify`` insists that every ``Exec*`` binary exists, so the
units are checked from a copy in which ``/usr/bin/logferry`` points at this
checkout's real ``logferry`` entry point; nothing else in them is changed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from logferry.agent.cli import _parser

REPO = Path(__file__).resolve().parents[1]
UNITS = REPO / "systemd"
MAX_EXPOSURE = 1.5

ANALYZE = shutil.which("systemd-analyze")
needs_analyze = pytest.mark.skipif(ANALYZE is None,
                                   reason="systemd-analyze is not installed (.ci/run installs systemd)")


def parse_unit(path: Path) -> dict[str, list[str]]:
    """``Section.Key`` -> every value it is given (units repeat keys such as ``ExecReload``)."""
    out: dict[str, list[str]] = {}
    section = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        out.setdefault(f"{section}.{key.strip()}", []).append(value.strip())
    return out


def one(unit: dict[str, list[str]], key: str) -> str:
    values = unit.get(key)
    assert values, f"{key} is not set"
    return values[-1]


def logferry_bin() -> str:
    found = Path(sys.executable).parent / "logferry"
    assert found.exists(), f"the logferry entry point is not installed next to {sys.executable}"
    return str(found)


def checkable_copy(tmp_path: Path, name: str) -> Path:
    """A copy of a unit whose ``/usr/bin/logferry`` is this checkout's entry point."""
    text = (UNITS / name).read_text().replace("/usr/bin/logferry", logferry_bin())
    dest = tmp_path / name
    dest.write_text(text)
    return dest


def exposure(unit_path: str, cwd: Path) -> float:
    assert ANALYZE is not None
    proc = subprocess.run([ANALYZE, "security", "--offline=true", "--no-pager", unit_path],
                          cwd=cwd, capture_output=True, text=True, check=False, timeout=60)
    m = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", proc.stdout)
    assert m, f"no exposure level in systemd-analyze output:\n{proc.stdout}\n{proc.stderr}"
    return float(m.group(1))


@needs_analyze
class TestSystemdAnalyze:
    @pytest.mark.parametrize(("file_name", "unit_arg"), [("logferry.service", "./logferry.service"),
                                                         ("logferry@.service", "./logferry@demo.service")])
    def test_verify_accepts_unit(self, tmp_path: Path, file_name: str, unit_arg: str) -> None:
        """`systemd-analyze verify` loads the unit (and an instance of the template) without a warning."""
        assert ANALYZE is not None
        checkable_copy(tmp_path, file_name)
        proc = subprocess.run([ANALYZE, "verify", "--man=false", unit_arg], cwd=tmp_path,
                              capture_output=True, text=True, check=False, timeout=60)
        assert proc.returncode == 0, proc.stderr
        assert proc.stderr.strip() == "" and proc.stdout.strip() == "", proc.stderr + proc.stdout

    def test_verify_rejects_broken_unit(self, tmp_path: Path) -> None:
        """The verify check can fail: a misspelled directive in a copy of the unit is reported."""
        assert ANALYZE is not None
        path = checkable_copy(tmp_path, "logferry.service")
        path.write_text(path.read_text().replace("ProtectSystem=strict", "ProtectSystem=strictest"))
        proc = subprocess.run([ANALYZE, "verify", "--man=false", "./logferry.service"], cwd=tmp_path,
                              capture_output=True, text=True, check=False, timeout=60)
        assert "strictest" in proc.stderr

    @pytest.mark.parametrize(("file_name", "unit_arg"), [("logferry.service", "./logferry.service"),
                                                         ("logferry@.service", "./logferry@demo.service")])
    def test_security_exposure_is_low(self, tmp_path: Path, file_name: str, unit_arg: str) -> None:
        """`systemd-analyze security --offline=true` scores the unit at most 1.5."""
        checkable_copy(tmp_path, file_name)
        assert exposure(unit_arg, tmp_path) <= MAX_EXPOSURE

    def test_security_score_reacts_to_weakening(self, tmp_path: Path) -> None:
        """The score check can fail: dropping the hardening block raises the exposure above 1.5."""
        path = checkable_copy(tmp_path, "logferry.service")
        text = path.read_text()
        path.write_text(text[: text.index("# Hardening")] + "\n[Install]\nWantedBy=multi-user.target\n")
        assert exposure("./logferry.service", tmp_path) > MAX_EXPOSURE


class TestUnitContents:
    @pytest.fixture(params=["logferry.service", "logferry@.service"])
    def unit(self, request: pytest.FixtureRequest) -> dict[str, list[str]]:
        return parse_unit(UNITS / request.param)

    def test_notify_with_watchdog(self, unit: dict[str, list[str]]) -> None:
        """The service is Type=notify, only the main process may notify, and a watchdog is armed."""
        assert one(unit, "Service.Type") == "notify"
        assert one(unit, "Service.NotifyAccess") == "main"
        assert re.fullmatch(r"\d+s", one(unit, "Service.WatchdogSec"))

    def test_config_validated_before_start_and_reload(self, unit: dict[str, list[str]]) -> None:
        """ExecStartPre validates the config; ExecReload validates it again and then sends SIGHUP."""
        assert one(unit, "Service.ExecStartPre").startswith("/usr/bin/logferry validate ")
        assert one(unit, "Service.ExecStart").startswith("/usr/bin/logferry run ")
        reload_cmds = unit["Service.ExecReload"]
        assert reload_cmds[0].startswith("/usr/bin/logferry validate ")
        assert reload_cmds[-1] == "/bin/kill -HUP $MAINPID"

    def test_state_directory_is_data_dir(self, unit: dict[str, list[str]]) -> None:
        """LOGFERRY_DATA_DIR points into the StateDirectory systemd creates for the service user."""
        state = one(unit, "Service.StateDirectory")
        assert state.startswith("logferry")
        assert f"LOGFERRY_DATA_DIR=%S/{state}" in unit["Service.Environment"]

    def test_can_read_logs_and_reach_network(self, unit: dict[str, list[str]]) -> None:
        """A dedicated user in adm and systemd-journal, internet sockets allowed, /var/log not hidden."""
        assert one(unit, "Service.User") == "logferry"
        assert {"adm", "systemd-journal"} <= set(one(unit, "Service.SupplementaryGroups").split())
        assert {"AF_INET", "AF_INET6"} <= set(one(unit, "Service.RestrictAddressFamilies").split())
        assert "Service.PrivateNetwork" not in unit and "Service.IPAddressDeny" not in unit
        assert one(unit, "Service.ProtectSystem") == "strict"  # read-only, so /var/log stays readable
        for key in ("Service.InaccessiblePaths", "Service.TemporaryFileSystem"):
            assert not any("/var" in v for v in unit.get(key, []))

    @pytest.mark.parametrize("file_name", ["logferry.service", "logferry@.service"])
    def test_drain_fits_in_stop_timeout(self, file_name: str, monkeypatch: pytest.MonkeyPatch) -> None:
        """systemd waits longer than the agent's default graceful drain (as `logferry run` parses it) before it kills."""
        monkeypatch.delenv("LOGFERRY_GRACEFUL_SECS", raising=False)
        graceful = _parser().parse_args(["run", "-c", "x.yaml"]).graceful_secs
        unit = parse_unit(UNITS / file_name)
        assert int(one(unit, "Service.TimeoutStopSec").rstrip("s")) > graceful

    def test_template_uses_instance_config_and_state(self) -> None:
        """logferry@NAME reads /etc/logferry/NAME.yaml and keeps its state in its own directory."""
        unit = parse_unit(UNITS / "logferry@.service")
        assert "/etc/logferry/%i.yaml" in one(unit, "Service.ExecStart")
        assert one(unit, "Service.StateDirectory") == "logferry/%i"
