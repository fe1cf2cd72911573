"""A real Switchboard server for the Python test suites (API and browser): `serve --demo` on a free
loopback port with its own SQLite file, started by a test and stopped by it."""
import os
import re
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BINARY = os.environ.get("SWITCHBOARD_BINARY", os.path.join(ROOT, ".build", "debug", "switchboard"))


class Server:
    def __init__(self, database, *options):
        """`options` go to `serve`; without them, live calls do not delay stopping (no drain)."""
        self.database = database
        self.options = options or ("--drain-seconds", "0")
        # SIP too (the demo's telephony) on a free port, unless the options choose another telephony.
        self.sip = "--telephony" not in self.options
        # SIP over TLS too, on a port of its own, unless turned off.
        self.tls = self.sip and not any(a == "--sip-tls-port" and b == "off" for a, b in zip(self.options, self.options[1:]))
        self.url = None
        self.sip_port = None
        self.tls_port = None
        self._start(port=0, sip_port=0)

    def _start(self, port, sip_port, tls_port=0):
        defaults = [] if "--sip-tls-port" in self.options else ["--sip-tls-port", str(tls_port)]
        # No qualify (OPTIONS to registered phones) unless a test asks: SIPp phones, which are two
        # runs on one port, would take a ping between or inside their scenarios as unexpected.
        if "--sip-qualify-seconds" not in self.options:
            defaults += ["--sip-qualify-seconds", "0"]
        self.process = subprocess.Popen(
            [BINARY, "serve", "--demo", "--host", "127.0.0.1", "--port", str(port), "--sip-port", str(sip_port), *defaults,
             "--database", str(self.database), *self.options],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        url, listening, tls = None, None, None
        for line in self.process.stdout:  # the server prints its addresses once it listens
            match = re.search(r"running: (https?://127\.0\.0\.1:\d+)/", line)
            if match:
                url = match.group(1)
            match = re.search(r"SIP is listening: udp and tcp 127\.0\.0\.1:(\d+)", line)
            if match:
                listening = int(match.group(1))
            match = re.search(r"SIP over TLS is listening: 127\.0\.0\.1:(\d+)", line)
            if match:
                tls = int(match.group(1))
            if url and (not self.sip or (listening and (tls or not self.tls))):
                break
        else:
            raise RuntimeError("the server stopped before listening")
        self.url, self.sip_port, self.tls_port = url, listening, tls

    def restart(self):
        """After `kill()`: the same database, HTTP port and SIP port (desktops and phones still point there)."""
        assert self.process.poll() is not None, "restart() follows kill()"
        self._start(port=int(self.url.rsplit(":", 1)[1]), sip_port=self.sip_port or 0, tls_port=self.tls_port or 0)

    def stop(self):
        """SIGTERM, as an operator would; SIGKILL if it has not stopped after 10 s."""
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self):
        """SIGKILL: no chance to flush or close anything."""
        self.process.kill()
        self.process.wait(timeout=10)
