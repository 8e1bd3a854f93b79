"""Helpers for tests that wait on a background thread: wait on the jobs' change notification (lstm_demo.jobs.CHANGED,
announced on every step, status and queue change) until a condition holds, with a generous timeout; never sleep."""
from lstm_demo.jobs import wait_for_change


def wait_until(condition, timeout: float = 30.0, what: str = "the condition"):
    """Return condition()'s first truthy value; fail if none comes within `timeout` seconds."""
    value = wait_for_change(condition, timeout)
    if not value:
        raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
    return value
