"""mldns.stopping: a stop a signal handler may ask for at any moment without hanging the process."""

from __future__ import annotations

import os
import signal
import threading

from mldns.stopping import Stop


def test_wait_times_out_unless_asked() -> None:
    stop = Stop()
    assert stop.wait(0.05) is False and not stop.is_set()
    stop.set()
    assert stop.wait(0) is True and stop.is_set()


def test_a_handler_asks_while_the_main_thread_waits() -> None:
    stop = Stop()
    previous = signal.signal(signal.SIGUSR1, lambda *_: stop.set())
    try:
        timer = threading.Timer(0.05, os.kill, (os.getpid(), signal.SIGUSR1))
        timer.start()
        assert stop.wait(30) is True
        timer.join()
    finally:
        signal.signal(signal.SIGUSR1, previous)


def test_asking_takes_no_lock_the_interrupted_thread_could_hold() -> None:
    """threading.Event.set() from a handler hangs when the signal lands inside the same Event's
    wait(), whose lock the main thread then holds; a Stop holds no lock at all."""
    stop = Stop()
    lock_types = (type(threading.Lock()), type(threading.RLock()), threading.Condition)
    assert not any(isinstance(value, lock_types) for value in vars(stop).values())
    waiting = threading.Thread(target=stop.wait, args=(30,))
    waiting.start()
    stop.set()  # while another thread waits: it wakes within a slice
    waiting.join(timeout=30)
    assert not waiting.is_alive()
