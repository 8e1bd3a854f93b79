"""Helpers for tests that wait on a background thread: poll a condition with a generous timeout, never sleep and
then assert."""
import time


def wait_until(condition, timeout: float = 30.0, every: float = 0.01, what: str = "the condition"):
    """Return condition()'s first truthy value; fail if none comes within `timeout` seconds."""
    end = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(every)
