"""``vnsearch serve``: waitress, in one process or in pre-forked worker processes.

One Python process answers one query at a time (the GIL), whatever its threads; with
``workers`` > 1 the parent binds the socket and forks that many children, each a waitress
on the shared socket (the kernel hands each connection to one of them). The children start
with the app the parent built and, when its backend allows it (the embedded one reads its
files through maps and ``pread`` only, so no file position is shared), the index it opened:
a worker answers at once after the fork, and the pages of the parent's objects stay shared
(the collector is frozen before the fork so that it does not write to them). Once they run,
the parent lets go of its own copy (``forked``), so that it does not keep an old
generation's files alive after a reindex. Every worker refreshes its index per request as
one process does, so a reindex is seen by all, and the generation's memory-mapped arrays are
shared through the page cache. The parent only watches: a worker that dies is started again
(opening the index itself); SIGTERM or SIGINT stops them all; a parent killed with -9 takes
them with it (PR_SET_PDEATHSIG). Each process answers its first request (a readiness check)
alone, then reads what the next ones need in the background (``_warm_after_first_answer``).

With several workers, a worker takes one request at a time, as gunicorn's sync workers do:
every response ends its connection (``Connection: close``), and a worker accepts a new
connection only when it has none in hand (``_take_when_free``), so a connection waits in the
kernel's queue for the first worker that is free instead of behind another's request. A
kept-alive connection stays with the worker that accepted it, and the kernel does not spread
them evenly: 4 keep-alive clients all landed on one worker in one run of ``tools/load.py``
out of 4, and 3 on one in two more, while the other worker idled. A client that connects and
then sends nothing holds a worker back for ``FRESH_SECONDS`` at most.

Waitress rather than gunicorn: the request limits (``WAITRESS_LIMITS``: its 256 KB header
bound, its own 431/413) are waitress's, and issue 13's tests hold the server to them.
"""

from __future__ import annotations

import gc
import logging
import os
import signal
import socket
import sys
import threading
import time
from typing import Callable

import waitress.server  # imported here, before a fork, once for every worker
from flask import Flask
from waitress.channel import HTTPChannel
from waitress.task import WSGITask
from werkzeug.wsgi import ClosingIterator

from search.store import die_with_parent

from . import freeze_long_lived
from .limits import WAITRESS_LIMITS

__all__ = ["serve", "bind"]

THREADS = 8  # per process: requests wait on the GIL, not on each other's I/O
STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}
RESPAWN_PAUSE = 1.0  # seconds before starting again a worker that died (no busy loop)
FRESH_SECONDS = 0.25  # a connection without a whole request yet counts as work for this long
WARM_WAIT = 0.5  # seconds the warm-up waits for the first answer before it starts anyway


def bind(host: str, port: int) -> socket.socket:
    """The listening socket the workers share (port 0: a free one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.create_server((host, port), family=family, backlog=1024)


def _warm(app: Flask | None = None) -> None:
    """Read what the first requests would otherwise read (``_warm_after_first_answer``): pyvi's
    dictionary, which the highlighter looks words up in (its two sets, 35 ms); the
    reference tables the filter boxes list (15 ms); `app`'s page templates (3 ms from
    ``web.TemplateCache``, 90 ms to compile without it); rapidfuzz, which "did you mean"
    measures with. It runs beside the requests after the first one (waiting for the server
    to be idle instead made the queries right after a start slower: each then read its own
    part). Then the collector leaves all of it alone, as it does the open index
    (``web.freeze_long_lived``). Without an app (``bench/query_latency.py``), only the
    searches' part, and no freezing."""
    from search import lexicon
    from search.gazetteer import gazetteer

    try:
        lexicon.words()
        gazetteer()
        for name in app.jinja_env.list_templates() if app else ():
            app.jinja_env.get_template(name)
        import rapidfuzz.distance  # noqa: F401
        import rapidfuzz.process  # noqa: F401
    except Exception as e:  # noqa: BLE001 - the request that needs it meets it and reports it
        logging.getLogger("vnsearch").warning("vnsearch: warming up stopped: %s: %s", type(e).__name__, e)
    if app:
        freeze_long_lived(app)


def _waitress(app: Flask, one_request: bool = False, **where) -> None:
    """Serve `app` with waitress; `one_request`: close each connection after its response."""
    logging.basicConfig()  # waitress's warnings (e.g. its task queue) reach stderr, as waitress.serve does
    server = waitress.server.create_server(app, threads=THREADS, ident="vnsearch", **where, **WAITRESS_LIMITS)
    if one_request:
        server.channel_class = OneRequestChannel
        _take_when_free(server)
    _warm_after_first_answer(server, app)
    server.run()


def _warm_after_first_answer(server, app: Flask) -> None:
    """Start ``_warm(app)`` once `server` has answered its first request, or after
    ``WARM_WAIT`` seconds without one. The first request (a readiness check, a load
    balancer's probe) then has the interpreter to itself: beside the warm-up, sharing the
    GIL, it took 15 to 50 ms instead of 7. Only that request goes through the wrapper that
    tells when its response has been written (WSGI's ``close``); the others go to `app`."""
    answered = threading.Event()

    def first(environ, start_response):
        server.application = app
        return ClosingIterator(app(environ, start_response), answered.set)

    def warm() -> None:
        answered.wait(WARM_WAIT)
        _warm(app)

    server.application = first
    threading.Thread(target=warm, name="vnsearch-warm", daemon=True).start()


def _take_when_free(server) -> None:
    """Make `server` accept a connection only when none it accepted is in hand: a request
    being answered, or a connection younger than ``FRESH_SECONDS`` whose request has not
    all come (it is about to be one). Waitress asks ``readable()`` before every wait on its
    sockets, and again when a response is done (its task wakes the loop)."""
    listening = server.readable

    def in_hand(channel: HTTPChannel, now: float) -> bool:
        if channel.requests:  # received, queued or being answered
            return True
        answered = channel.close_when_flushed or channel.will_close
        return not answered and now - channel.creation_time < FRESH_SECONDS

    def readable() -> bool:
        now = time.time()  # waitress's clock for creation_time
        return listening() and not any(in_hand(c, now) for c in list(server._map.values())
                                       if isinstance(c, HTTPChannel))

    server.readable = readable


class OneRequestTask(WSGITask):
    """Waitress's task, its response ending the connection."""

    def build_response_header(self):
        self.set_close_on_finish()  # before the headers: it adds "Connection: close"
        return super().build_response_header()


class OneRequestChannel(HTTPChannel):
    """Waitress's channel whose every response ends the connection."""

    task_class = OneRequestTask


def serve(make_app: Callable[[], Flask], host: str, port: int, workers: int = 1,
          sock: socket.socket | None = None, forked: Callable[[], None] | None = None) -> None:
    """Serve the app `make_app` builds on host:port (or on `sock`), with `workers` processes;
    `forked` is called in the parent once the first workers have started."""
    if workers < 1:
        raise ValueError(f"workers must be at least 1, not {workers}")
    if workers == 1:
        _waitress(make_app(), **({"sockets": [sock]} if sock else {"host": host, "port": port}))
        return
    sock = sock or bind(host, port)
    parent = os.getpid()
    children: dict[int, int] = {}  # pid → worker number

    stopping = False

    def start(number: int) -> None:
        if stopping:  # a stop that came while the others started: start no more
            return
        # Signals wait until the child has its own handlers: a SIGTERM caught in between by
        # the parent's handler (inherited) would leave that child serving.
        signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        pid = os.fork()
        if pid == 0:  # the worker: the parent's app (and its open index, if forkable)
            code = 1
            try:
                for s in STOP_SIGNALS:
                    signal.signal(s, signal.SIG_DFL)
                signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
                die_with_parent(parent)
                _waitress(make_app(), one_request=True, sockets=[sock])
                code = 0
            except BaseException as e:  # noqa: BLE001 - a worker reports and exits, never returns
                print(f"vnsearch worker {number}: {type(e).__name__}: {e}", file=sys.stderr, flush=True)
            finally:
                os._exit(code)
        children[pid] = number
        if stopping:  # the stop ran between the check above and the fork
            os.kill(pid, signal.SIGTERM)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)

    def stop(signum, frame) -> None:
        nonlocal stopping
        stopping = True
        for pid in list(children):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    previous = {s: signal.signal(s, stop) for s in STOP_SIGNALS}
    try:
        gc.freeze()  # what the workers inherit stays shared: their collectors leave it alone
        for number in range(workers):
            start(number)
        gc.unfreeze()
        if forked is not None:
            forked()
        while children:
            try:
                pid, _ = os.wait()
            except ChildProcessError:
                break
            number = children.pop(pid, None)
            if number is not None and not stopping:
                time.sleep(RESPAWN_PAUSE)
                start(number)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        sock.close()
