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
        options = options or ("--drain-seconds", "0")
        # SIP too (the demo's telephony) on a free port, unless the options choose another telephony.
        sip = "--telephony" not in options
        self.process = subprocess.Popen(
            [BINARY, "serve", "--demo", "--host", "127.0.0.1", "--port", "0", "--sip-port", "0",
             "--database", str(database), *options],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.url = None
        self.sip_port = None
        for line in self.process.stdout:  # the server prints its addresses once it listens
            match = re.search(r"running: (http://127\.0\.0\.1:\d+)/", line)
            if match:
                self.url = match.group(1)
            match = re.search(r"SIP is listening: udp and tcp 127\.0\.0\.1:(\d+)", line)
            if match:
                self.sip_port = int(match.group(1))
            if self.url and (self.sip_port or not sip):
                break
        else:
            raise RuntimeError("the server stopped before listening")

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
