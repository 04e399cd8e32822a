"""Socket side of the sandbox: threaded HTTP(S) servers, fault actions, accounting.

Each CRM emulator is a plain object (:class:`Emulator`) turning a request into a
response. This module wraps one in a loopback ``ThreadingHTTPServer`` (TLS for
Salesforce, since simple-salesforce only speaks https), applies the transport-level
faults (latency, held or dropped connections) and records every call in the ledger.
"""

from __future__ import annotations

import contextlib
import select
import socket
import ssl
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

from tierwise.sandbox.clock import SandboxClock
from tierwise.sandbox.control import PREFIX as CONTROL_PREFIX
from tierwise.sandbox.faults import FaultRule, FaultSet
from tierwise.sandbox.ledger import CallRecord, Ledger
from tierwise.sandbox.wire import Request, Response

_TRANSPORT_FAULTS = ("timeout", "drop", "commit_then_drop")


class Emulator(Protocol):
    system: str

    def template(self, method: str, path: str) -> str: ...

    def dispatch(self, request: Request) -> Response: ...

    def fault_response(self, rule: FaultRule, request: Request) -> Response: ...


def emulator_error_body(system: str, exc: Exception) -> Any:
    """A 500 in the CRM's own error shape for an unexpected emulator failure."""
    message = f"sandbox internal error: {type(exc).__name__}: {exc}"
    if system == "salesforce":
        return [{"message": message, "errorCode": "UNKNOWN_EXCEPTION"}]
    return {
        "status": "error",
        "message": message,
        "correlationId": "sandbox-internal",
        "category": "INTERNAL_ERROR",
    }


class CrmServer(ThreadingHTTPServer):
    """One emulator on one loopback port."""

    daemon_threads = True
    block_on_close = False

    def __init__(
        self,
        address: tuple[str, int],
        emulator: Emulator,
        *,
        faults: FaultSet,
        ledger: Ledger,
        clock: SandboxClock,
        latency_ms: float,
        ssl_context: ssl.SSLContext | None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(address, _Handler)
        self.sleep = sleep
        self.emulator = emulator
        self.faults = faults
        self.ledger = ledger
        self.clock = clock
        self.latency_ms = latency_ms
        self.ssl_context = ssl_context
        # Test-only controls (sandbox/control.py): answered before faults, latency and the
        # ledger, since they are not CRM calls. None unless the sandbox enables them.
        self.control: Callable[[Request], Response] | None = None
        self.stopping = threading.Event()
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self.serve_forever,
            kwargs={"poll_interval": 0.05},
            daemon=True,
            name=f"sandbox-{self.emulator.system}",
        )
        self._thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.shutdown()
        self.server_close()
        with self._open_lock:
            sockets = list(self._open)
            self._open.clear()
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def finish_request(self, request: Any, client_address: Any) -> None:
        wrapped = False
        if self.ssl_context is not None:
            try:
                request = self.ssl_context.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                return
            wrapped = True
        with self._open_lock:
            self._open.add(request)
        try:
            super().finish_request(request, client_address)
        finally:
            with self._open_lock:
                self._open.discard(request)
            if wrapped:
                # The TLS wrapper replaced the accepted socket: close it ourselves, since
                # socketserver only closes the (now detached) original.
                with contextlib.suppress(OSError):
                    request.shutdown(socket.SHUT_RDWR)
                request.close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Client hang-ups and TLS noise are normal here; stay quiet."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms stalls
    server: CrmServer
    timeout = 60

    def log_message(self, format: str, *args: Any) -> None:
        """Silence per-request logging; the ledger is the log."""

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def _serve(self) -> None:
        srv = self.server
        emulator = srv.emulator
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if len(body) < length:
            # The client gave up mid-body (its timeout, a dropped connection): an HTTP
            # server never acts on a request it did not receive whole (RFC 9112 section
            # 6.3: an incomplete message body is an error and the connection is closed).
            # Handing the partial body on once wrote half a CSV row into a Bulk API job.
            self.close_connection = True
            return
        request = Request.build(self.command, self.path, dict(self.headers.items()), body)
        if srv.control is not None and request.path.startswith(CONTROL_PREFIX):
            self._send(srv.control(request))
            return
        template = emulator.template(request.method, request.path)
        action: FaultRule | None = None
        for rule in srv.faults.firing(emulator.system, request.method, request.path):
            if rule.kind == "latency":
                srv.sleep(rule.delay_ms / 1000)
            elif rule.kind == "record_error":
                request.record_faults.append(rule)
            elif action is None:
                action = rule
        if srv.latency_ms:
            srv.sleep(srv.latency_ms / 1000)
        if action is not None and action.kind in ("timeout", "drop"):
            self._record(request, template, Response(0), action.kind)
            if action.kind == "timeout":
                self._hold()
            self.close_connection = True
            return
        try:
            if action is not None and action.kind not in _TRANSPORT_FAULTS:
                response = emulator.fault_response(action, request)
            else:
                response = emulator.dispatch(request)
        except Exception as exc:  # noqa: BLE001 - an emulator bug must answer 500, not hang
            response = Response.json(500, emulator_error_body(emulator.system, exc))
        if action is not None and action.kind == "commit_then_drop":
            self._record(request, template, Response(0, records=response.records), action.kind)
            self.close_connection = True
            return
        self._record(request, template, response, action.kind if action else None)
        self._send(response)

    def _send(self, response: Response) -> None:
        self.send_response(response.status)
        for key, value in response.headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if response.body:
            self.wfile.write(response.body)

    def _record(
        self, request: Request, template: str, response: Response, fault: str | None
    ) -> None:
        srv = self.server
        srv.ledger.add(
            CallRecord(
                system=srv.emulator.system,
                method=request.method,
                path=template,
                records=response.records,
                status=response.status,
                at=srv.clock.peek(),
                fault=fault,
            )
        )

    def _hold(self) -> None:
        """Keep the connection open, unanswered, until the client gives up or we stop."""
        conn = self.connection
        while not self.server.stopping.is_set():
            try:
                readable, _, _ = select.select([conn], [], [], 0.1)
                if readable and not conn.recv(1):
                    return
            except (OSError, ValueError):
                return
