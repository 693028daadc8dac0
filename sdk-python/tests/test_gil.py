"""The GIL is released while a large webhook body is verified: another Python thread
keeps running during the call (the 4-thread throughput is in scripts/bench-python.sh)."""

from __future__ import annotations

import sys
import threading
import time

import sigil

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def test_large_webhook_verify_lets_other_threads_run() -> None:
    wh = sigil.Webhook(SECRET)
    body = b'{"blob": "' + b"x" * (96 * 1024 * 1024) + b'"}'
    now = int(time.time())
    headers = {
        "webhook-id": "msg_big",
        "webhook-timestamp": str(now),
        "webhook-signature": wh.sign("msg_big", now, body),
    }
    progress = 0
    stop = threading.Event()

    def spin() -> None:
        nonlocal progress
        while not stop.is_set():
            progress += 1

    # A short switch interval: a call that held the GIL would let the spinner in
    # only around its start and end, for well under a millisecond each.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(0.0005)
    spinner = threading.Thread(target=spin, daemon=True)
    spinner.start()
    try:
        # The spinner's pace with this thread idle (sleep releases the GIL).
        start, t0 = progress, time.perf_counter()
        time.sleep(0.1)
        rate = (progress - start) / (time.perf_counter() - t0)

        start, t0 = progress, time.perf_counter()
        event = wh.verify(headers, body)
        during = progress - start
        elapsed = time.perf_counter() - t0
    finally:
        stop.set()
        spinner.join(10)
        sys.setswitchinterval(interval)
    assert event.id == "msg_big"
    # Released, the GIL lets the spinner run for most of the call.
    assert elapsed > 0.02, f"the call took only {elapsed * 1000:.1f} ms: use a larger body"
    assert during > rate * elapsed * 0.2, (
        f"{during} spins during a {elapsed * 1000:.0f} ms call at {rate:.0f}/s"
    )
