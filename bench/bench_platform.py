"""Platform client overhead: PlatformClient vs a bare zeep client, same WSDL, same simulator, one run.

Run: ``python bench/bench_platform.py`` (or ``python -m bench.bench_platform``). Targets: a call through
PlatformClient (history plugin, reply schema check, dataclass mapping, error mapping) costs at most
1.15x a bare zeep call with the same WS-Security token; construction from the packaged WSDL is
reported beside bare zeep's.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import requests
import zeep
from zeep.wsse.username import UsernameToken

from backend_client.client import PlatformClient
from backend_client.sim import DEMO_KIOSK_ID, DEMO_PASSWORD, DEMO_USERNAME, PlatformSim
from backend_client.wsdl import BINDING, WSDL_PATH

TARGET_CALL_RATIO = 1.15


def _bare(url: str) -> tuple[zeep.Client, object]:
    transport = zeep.Transport(session=requests.Session(), timeout=10, operation_timeout=(5, 10))
    client = zeep.Client(
        str(WSDL_PATH), transport=transport, wsse=UsernameToken(DEMO_USERNAME, DEMO_PASSWORD, use_digest=True)
    )
    return client, client.create_service(BINDING, url)


def _ours(url: str) -> PlatformClient:
    return PlatformClient(url, DEMO_USERNAME, DEMO_PASSWORD, DEMO_KIOSK_ID)


def _median_s(fn: Callable[[], object], n: int) -> float:
    samples = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def _interleaved(a: Callable[[], object], b: Callable[[], object], n: int) -> tuple[float, float]:
    """Median per-call seconds of a and b, called strictly alternately so load on a shared machine hits both alike."""
    ta, tb = [], []
    for i in range(n):
        first, second = (a, b) if i % 2 == 0 else (b, a)  # neither always goes first
        t0 = time.perf_counter()
        first()
        t1 = time.perf_counter()
        second()
        t2 = time.perf_counter()
        (ta if first is a else tb).append(t1 - t0)
        (tb if first is a else ta).append(t2 - t1)
    return statistics.median(ta), statistics.median(tb)


def main(calls_per_operation: int = 600) -> int:
    """Print per-call and construction figures and their ratios; 0 when the call ratio meets the target."""
    import uuid

    with PlatformSim() as sim:
        ours = _ours(sim.url)
        _, bare = _bare(sim.url)

        def header() -> dict[str, object]:
            return {"kioskId": DEMO_KIOSK_ID, "requestId": str(uuid.uuid4()), "sentAt": ours._clock.now()}

        calls = {
            "Heartbeat": (
                lambda: ours.heartbeat("bench", []),
                lambda: bare.Heartbeat(header=header(), softwareVersion="bench", device=[]),
            ),
            "GetMatterCatalog": (
                lambda: ours.get_matter_catalog(),
                lambda: bare.GetMatterCatalog(header=header()),
            ),
        }
        worst = 0.0
        print(f"platform client benchmark against the simulator on {sim.url}")
        for name, (a, b) in calls.items():
            a(), b()  # warm up: schema cache, connection, zeep's type lookups
            t_ours, t_bare = _interleaved(a, b, calls_per_operation)
            ratio = t_ours / t_bare
            worst = max(worst, ratio)
            print(
                f"  {name:<17} ours {t_ours * 1e3:7.3f} ms  bare zeep {t_bare * 1e3:7.3f} ms  ratio {ratio:.3f}x"
            )
        ours.close()

        build_ours, build_bare = _interleaved(lambda: _ours(sim.url).close(), lambda: _bare(sim.url), 40)
        print(
            f"  construction      ours {build_ours * 1e3:7.2f} ms  bare zeep {build_bare * 1e3:7.2f} ms  "
            f"ratio {build_ours / build_bare:.3f}x  (packaged WSDL, no network)"
        )
    verdict = "ok" if worst <= TARGET_CALL_RATIO else "ABOVE TARGET"
    print(f"worst call ratio {worst:.3f}x (target <= {TARGET_CALL_RATIO}x): {verdict}")
    return 0 if worst <= TARGET_CALL_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
