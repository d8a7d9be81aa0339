"""The Debian package end to end, as root on a test machine (`make test`): build it, lintian, install it with
apt-get, run it as the hallkiosk user under Xvfb on the simulators, remove it (data kept), purge it (data gone),
and check nothing is left but what purge promises (the hallkiosk system user, docs/packaging.md).

Everything here is the real thing: make deb, dpkg, apt-get, adduser, the package's own virtualenv, Xvfb. The
package is purged in a finally, also when a check fails. Wheels are cached in build/wheels: a rerun takes a few
minutes (the build about one, lintian about one and a half)."""

from __future__ import annotations

import grp
import json
import os
import pwd
import shutil
import sqlite3
import stat
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

import kiosk
from tests.conftest import REPO

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        os.geteuid() != 0, reason="installs a Debian package: runs as root (make test on the test machine)"
    ),
    pytest.mark.skipif(
        shutil.which("dpkg-deb") is None or shutil.which("apt-get") is None,
        reason="not a Debian system: no dpkg-deb or apt-get",
    ),
    pytest.mark.timeout(1800),
]
PKG = "hall-kiosk"
USER = "hallkiosk"
# Where a file of ours could appear outside the package's own file list (written by the maintainer scripts or
# by the running kiosk); searched by name before installing and after purging.
SEARCH_ROOTS = ("/etc", "/var/lib", "/var/cache", "/usr", "/lib", "/opt", "/srv")


# The PATH a technician's root shell has. `make test` puts the developer virtualenv first on PATH, and its own
# `kiosk` would answer for the package's: every command here runs with the machine's PATH instead.
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def _run(
    *cmd: str, timeout: float = 600, env: dict[str, str] | None = None, **kw: object
) -> subprocess.CompletedProcess[str]:
    env = {**(os.environ if env is None else env), "PATH": SYSTEM_PATH}
    return subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,  # type: ignore[call-overload]
        **kw,
    )


def _installed() -> bool:
    r = _run("dpkg-query", "-W", "-f=${Status}", PKG)
    return r.returncode == 0 and "installed" in r.stdout and "not-installed" not in r.stdout


def _ours() -> set[str]:
    r = _run(
        "find",
        *SEARCH_ROOTS,
        "-xdev",
        "(",
        "-name",
        "*hall-kiosk*",
        "-o",
        "-name",
        "*hallkiosk*",
        ")",
        "-print",
    )
    return set(r.stdout.split())


@pytest.fixture(scope="module")
def deb() -> Path:
    if _installed():
        pytest.fail(f"{PKG} is already installed on this machine: purge it first (apt-get purge {PKG})")
    r = _run("make", "-s", "deb", cwd=REPO, timeout=1500)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    arch = _run("dpkg", "--print-architecture").stdout.strip()
    path = REPO / "build" / f"{PKG}_{kiosk.__version__}_{arch}.deb"
    assert path.is_file(), r.stdout
    return path


def test_lintian_finds_no_errors(deb: Path) -> None:
    if shutil.which("lintian") is None:
        pytest.skip("lintian not installed (make test installs it)")
    r = _run("lintian", "--no-tag-display-limit", str(deb), timeout=900)
    errors = [line for line in r.stdout.splitlines() if line.startswith("E:")]
    assert not errors, "\n".join(errors)


def test_control_depends_on_the_makefile_list(deb: Path) -> None:
    entries = [d.strip() for d in _run("dpkg-deb", "-f", str(deb), "Depends").stdout.split(",")]
    assert len(entries) == len(set(entries)), entries
    assert "python3 (>= 3.11)" in entries and "python3" not in entries  # the venv's minor version, pinned
    depends = [d.split()[0] for d in entries]
    make_list = _run(
        "make",
        "-s",
        "--no-print-directory",
        "-f",
        "Makefile",
        "-f",
        "-",
        "print-apt-kiosk",
        cwd=REPO,
        input="print-apt-kiosk:\n\t@echo $(APT_KIOSK)\n",
    ).stdout.split()
    assert {"pcscd", "fonts-wqy-microhei", "espeak-ng", "tegaki-zinnia-simplified-chinese"} <= set(make_list)
    assert set(make_list) <= set(depends), set(make_list) - set(depends)


@pytest.fixture(scope="module")
def installed(deb: Path) -> Iterator[set[str]]:
    before = _ours()
    try:
        r = _run(
            "apt-get",
            "install",
            "-y",
            "-q",
            "--no-install-recommends",
            f"./{deb.relative_to(REPO)}",
            cwd=REPO,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )
        assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
        yield before
    finally:
        if _installed() or _run("dpkg-query", "-W", PKG).returncode == 0:
            _run("apt-get", "purge", "-y", "-q", PKG, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})


def test_installed_package(installed: set[str], deb: Path) -> None:
    before = installed
    r = _run("kiosk", "--version")
    assert r.returncode == 0 and r.stdout.strip() == f"kiosk (Hall Kiosk) {kiosk.__version__}", (
        r.stdout + r.stderr
    )
    assert shutil.which("kiosk", path=SYSTEM_PATH) == "/usr/bin/kiosk"
    # The virtualenv's interpreter is the system's, never the builder's pyenv or another one.
    assert os.path.realpath("/usr/lib/hall-kiosk/bin/python") == os.path.realpath("/usr/bin/python3")
    assert (
        "/usr/lib/hall-kiosk/bin/python" in Path("/usr/lib/hall-kiosk/bin/kiosk").read_text().splitlines()[0]
    )
    r = _run("kiosk", "config", "check", "/etc/hall-kiosk/kiosk.toml")
    assert r.returncode == 0 and r.stdout.startswith("ok: /etc/hall-kiosk/kiosk.toml"), r.stdout + r.stderr
    assert "/etc/hall-kiosk/kiosk.toml" in _run("dpkg-query", "-W", "-f=${Conffiles}", PKG).stdout

    user = pwd.getpwnam(USER)
    assert user.pw_uid < 1000 and user.pw_dir == "/var/lib/hall-kiosk"  # a system user
    for group in ("dialout", "lp"):
        assert USER in grp.getgrnam(group).gr_mem, group
    st = os.stat("/var/lib/hall-kiosk")
    assert stat.S_IMODE(st.st_mode) == 0o700 and st.st_uid == user.pw_uid

    for unit in (
        "hall-kiosk.service",
        "hall-kiosk-console.service",
        "hall-kiosk-backup.service",
        "hall-kiosk-backup.timer",
    ):
        v = _run("systemd-analyze", "verify", f"/lib/systemd/system/{unit}")
        assert v.returncode == 0 and v.stderr == "", unit + v.stderr

    # As install.md says: the kiosk's data begins with `kiosk db init` (here the built-in simulators' config).
    r = _run("runuser", "-u", USER, "--", "env", f"HOME={user.pw_dir}", "kiosk", "db", "init")
    assert r.returncode == 0 and r.stdout.startswith("initialised: "), r.stdout + r.stderr
    _screenshot_as_hallkiosk(user)
    data = Path("/var/lib/hall-kiosk/.local/share/hall-kiosk/kiosk.db")
    assert data.is_file(), "the kiosk wrote no database"
    _upgrade_backs_up_then_migrates(deb)

    # remove keeps the data and the configuration ...
    r = _run("apt-get", "remove", "-y", "-q", PKG, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    assert r.returncode == 0, r.stderr
    assert data.is_file() and Path("/etc/hall-kiosk/kiosk.toml").is_file()
    assert not Path("/usr/lib/hall-kiosk").exists() and not Path("/usr/bin/kiosk").exists()
    # ... purge deletes them; what stays is what purge promises: the hallkiosk system user.
    r = _run("apt-get", "purge", "-y", "-q", PKG, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    assert r.returncode == 0, r.stderr
    assert not _installed()
    assert _ours() - before == set(), "left after purge"
    assert (
        _run("dpkg-query", "-W", PKG).returncode != 0
        or "not-installed" in _run("dpkg-query", "-W", "-f=${Status}", PKG).stdout
    )
    pwd.getpwnam(USER)  # kept, as Debian keeps system users


def _upgrade_backs_up_then_migrates(deb: Path) -> None:
    """The installed configuration's database (/var/lib/hall-kiosk/kiosk.db) is begun, then a package of a newer
    version (same code) is installed over it: postinst copies the database into backups/ before it migrates."""
    conf = "/etc/hall-kiosk/kiosk.toml"
    r = _run("runuser", "-u", USER, "--", "kiosk", "--config", conf, "db", "init")
    assert r.returncode == 0, r.stdout + r.stderr
    newer = f"{kiosk.__version__}+upgrade1"
    r = _run("make", "-s", "deb", cwd=REPO, timeout=1500, env={**os.environ, "DEB_VERSION": newer})
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    new_deb = deb.with_name(deb.name.replace(f"_{kiosk.__version__}_", f"_{newer}_"))
    try:
        r = _run(
            "apt-get",
            "install",
            "-y",
            "-q",
            f"./{new_deb.relative_to(REPO)}",
            cwd=REPO,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )
        assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    finally:
        new_deb.unlink(missing_ok=True)
    assert _run("dpkg-query", "-W", "-f=${Version}", PKG).stdout == newer
    backups = list(Path("/var/lib/hall-kiosk/backups").glob(f"kiosk-*-before-{kiosk.__version__}"))
    assert len(backups) == 1, list(Path("/var/lib/hall-kiosk").rglob("*"))
    assert stat.S_IMODE((backups[0] / "kiosk.db").stat().st_mode) == 0o600
    manifest = json.loads((backups[0] / "manifest.json").read_text())
    # Before the migration: the copy's audit head is older than the live database's, which gained the audited
    # db.backup (and any migration's records) afterwards.
    live = sqlite3.connect("file:/var/lib/hall-kiosk/kiosk.db?mode=ro", uri=True)
    try:
        (head,) = live.execute("SELECT max(seq) FROM audit_log").fetchone()
    finally:
        live.close()
    assert manifest["audit_seq"] < head, (manifest, head)
    r = _run("runuser", "-u", USER, "--", "kiosk", "--config", conf, "db", "current")
    assert r.returncode == 0, r.stdout + r.stderr  # migrated to head, marker intact


def _not_blank(png: Path) -> bool:
    try:
        with Image.open(png) as im:
            colours = im.convert("RGB").getcolors(1 << 24) or []
    except (OSError, SyntaxError):  # being written
        return False
    return len(colours) > 20


def _screenshot_as_hallkiosk(user: pwd.struct_passwd) -> None:
    """`kiosk run` as hallkiosk under its own Xvfb on the simulators (the built-in config), until a screenshot
    shows the start screen."""
    shots = Path(tempfile.mkdtemp(prefix="hall-kiosk-pkg-"))
    os.chown(shots, user.pw_uid, user.pw_gid)
    env = [
        "env",
        "-i",
        "PATH=/usr/bin:/bin",
        f"HOME={user.pw_dir}",
        f"KIVY_HOME={user.pw_dir}/kivy",
        "LANG=C.UTF-8",
    ]
    # A kiosk starts only on a data directory `kiosk db init` marked (kiosk.datadir): the technician's first step.
    init = subprocess.run(
        ["runuser", "-u", USER, "--", *env, "kiosk", "db", "init"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert init.returncode == 0, init.stdout + init.stderr
    proc = subprocess.Popen(
        [
            "runuser",
            "-u",
            USER,
            "--",
            *env,
            "xvfb-run",
            "-a",
            "-s",
            "-screen 0 1280x1024x24",
            "kiosk",
            "run",
            "--windowed",
            "--screenshot-dir",
            str(shots),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        first = shots / "001-start.png"
        while time.monotonic() < deadline:
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            if first.exists():
                break
            time.sleep(1)
        else:
            pytest.fail(f"no first screenshot within 120 s in {shots}")
        time.sleep(2)  # written by now
        # The first picture of a packaged (slow, cold) start shows the start screen, never a black buffer.
        assert _not_blank(first), f"{first} is blank"
        assert pwd.getpwuid(first.stat().st_uid).pw_name == USER
    finally:
        os.killpg(proc.pid, 15)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait(10)
        shutil.rmtree(shots, ignore_errors=True)
