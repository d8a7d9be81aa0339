"""System checks: software version, the configuration as checked now, uptime, memory."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import stat
from pathlib import Path

import kiosk
from hallkiosk.diag.runner import Ctx, MiB
from kiosk.config import DEFAULT_CONFIG, load_config
from kiosk.diag_model import Check
from kiosk.errors import ConfigError
from kiosk.secret import ENV as SECRET_ENV

DEVICE = "system"
PACKAGES = (
    "sqlalchemy",
    "alembic",
    "pydantic",
    "zeep",
    "lxml",
    "pyserial",
    "pyscard",
    "kivy",
    "psycopg",
    "cryptography",
)
MEM_FAULT_BYTES = 64 * MiB
MEM_DEGRADED_BYTES = 256 * MiB


def run(ctx: Ctx) -> list[Check]:
    return [version(ctx), config(ctx), uptime(ctx), memory(ctx)]


def versions() -> dict[str, str]:
    """The kiosk's, Python's, the OS's and the main libraries' versions (for the report and the support bundle)."""
    out = {
        "kiosk": kiosk.__version__,
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
    }
    for name in PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def version(ctx: Ctx) -> Check:
    p = ctx.check("system.version", "system", "software version")
    v = versions()
    return p.ok(f"Hall Kiosk {v['kiosk']} on Python {v['python']}, {v['os']}", **v)


def config(ctx: Ctx) -> Check:
    """Re-validate the file the kiosk runs on (it may have been edited since), and the secrets it points to."""
    p = ctx.check("system.config", "system", "configuration", DEVICE)
    cfg = ctx.cfg
    source = cfg.source or str(DEFAULT_CONFIG)
    data: dict[str, object] = {
        "source": source,
        "cabinets": len(cfg.cabinets),
        "card_readers": len(cfg.card_readers),
        "simulated": list(ctx.app.simulated),
    }
    try:
        on_disk = load_config(cfg.source if cfg.source and Path(cfg.source) != DEFAULT_CONFIG else None)
    except ConfigError as err:
        first = err.message.splitlines()[0]
        return p.fault(f"the configuration no longer validates: {first}", err.hint, **data)
    changed = on_disk.model_dump() != cfg.model_dump()
    data["changed_since_start"] = changed
    try:
        password = cfg.platform_password()
    except ConfigError as err:
        return p.fault(err.message, "chmod 600 the password file, owned by the kiosk's user.", **data)
    data["platform_password_set"] = password is not None
    data["technician_pin_set"] = bool(os.environ.get(cfg.kiosk.technician_pin_env))
    data["staff_pin_set"] = bool(os.environ.get(cfg.kiosk.staff_pin_env))
    secret_path = Path(os.environ.get(SECRET_ENV) or cfg.data_dir / "secret.key")
    try:
        st = secret_path.stat()
    except FileNotFoundError:
        data["key_file"] = "missing"
        return p.degraded(
            f"no kiosk secret at {secret_path}: one is created at first start; if this kiosk held parcels, "
            "their codes and ID hashes no longer match",
            "Restore secret.key from the hall's backup if this kiosk was in service.",
            **data,
        )
    if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        data["key_file"] = "readable by others"
        return p.fault(
            f"the kiosk secret {secret_path} is readable by other users",
            f"chmod 600 {secret_path}; the kiosk refuses to start like this.",
            **data,
        )
    data["key_file"] = "ok"
    if changed:
        return p.degraded(
            f"{source} validates but was changed since this process loaded it",
            "Restart the kiosk to apply the new configuration.",
            **data,
        )
    sims = f"; simulated: {', '.join(ctx.app.simulated)}" if ctx.app.simulated else ""
    return p.ok(
        f"{source} validates ({len(cfg.cabinets)} cabinet(s), {len(cfg.card_readers)} card reader(s)){sims}",
        **data,
    )


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text(encoding="ascii")
    except OSError:
        return None


def uptime(ctx: Ctx) -> Check:
    p = ctx.check("system.uptime", "system", "uptime")
    raw = _read("/proc/uptime")
    if raw is None:
        return p.ok("uptime unknown on this system")
    host_s = float(raw.split()[0])
    data: dict[str, object] = {"host_s": round(host_s)}
    stat_line = _read("/proc/self/stat")
    if stat_line:
        # Field 22 (after the parenthesised name) is the start time in clock ticks since boot.
        start_ticks = int(stat_line.rsplit(")", 1)[1].split()[19])
        data["process_s"] = round(host_s - start_ticks / os.sysconf("SC_CLK_TCK"))
    return p.ok(
        f"host up {_dur(host_s)}"
        + (f", this process {_dur(float(data['process_s']))}" if "process_s" in data else ""),
        **data,
    )


def _dur(s: float) -> str:
    d, rem = divmod(int(s), 86400)
    h, rem = divmod(rem, 3600)
    m, sec = divmod(rem, 60)
    return f"{d}d {h}h {m}m" if d else (f"{h}h {m}m" if h else f"{m}m {sec}s")


def memory(ctx: Ctx) -> Check:
    p = ctx.check("system.memory", "system", "memory", DEVICE)
    info = _read("/proc/meminfo")
    if info is None:
        return p.ok("memory figures unavailable on this system")
    kb = {k: int(v.split()[0]) for k, v in (line.split(":", 1) for line in info.splitlines() if ":" in line)}
    avail, total = kb.get("MemAvailable", 0) * 1024, kb.get("MemTotal", 0) * 1024
    status_txt = _read("/proc/self/status") or ""
    rss = next(
        (int(line.split()[1]) * 1024 for line in status_txt.splitlines() if line.startswith("VmRSS:")), 0
    )
    data = {"available_bytes": avail, "total_bytes": total, "process_rss_bytes": rss}
    text = f"{avail / MiB:.0f} MiB available of {total / MiB:.0f} MiB; this process uses {rss / MiB:.0f} MiB"
    hint = "Find what uses the memory (`ps aux --sort=-rss | head`); restart the kiosk if it is the kiosk."
    if avail < MEM_FAULT_BYTES:
        return p.fault(f"memory nearly exhausted: {text}", hint, **data)
    if avail < MEM_DEGRADED_BYTES:
        return p.degraded(f"memory low: {text}", hint, **data)
    return p.ok(text, **data)
