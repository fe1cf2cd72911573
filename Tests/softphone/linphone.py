"""Linphone's command-line phone (Debian's linphone-cli: `linphonec`) as a test's agent phone.

linphonec wants a terminal: on a plain pipe it never opens its SIP socket. It runs here under a
pseudo-terminal with its own HOME (it writes there) and a fresh configuration file each time (it
rewrites the file, turning the password into a hash). No sound card: `soundcard use files` makes
it play a WAV file as its microphone (`play`) and record what it receives (`record`)."""
import os
import pty
import re
import select
import shutil
import signal
import threading
import time

LINPHONEC = shutil.which("linphonec")
ANSI = re.compile(rb"\x1b\[[?0-9;]*[a-zA-Z]")


class Linphone:
    def __init__(self, directory, agent, registrar_port, sip_port, rtp_port, password="switchboard"):
        self.directory = directory
        os.makedirs(os.path.join(directory, "home", ".local", "share", "linphone"))
        self.config = os.path.join(directory, "linphonerc")
        with open(self.config, "w") as file:
            file.write(f"""[sip]
bind_address=127.0.0.1
sip_port={sip_port}
sip_tcp_port=0
sip_tls_port=0
default_proxy=0
register_only_when_network_is_up=0
ipv6_enabled=0
contact=sip:{agent}@127.0.0.1
[net]
firewall_policy=0
[rtp]
audio_rtp_port={rtp_port}
[video]
enabled=0
capture=0
display=0
[sound]
echocancellation=0
[proxy_0]
reg_proxy=<sip:127.0.0.1:{registrar_port};transport=udp>
reg_identity=sip:{agent}@127.0.0.1
reg_expires=600
reg_sendregister=1
publish=0
dial_escape_plus=0
[auth_info_0]
username={agent}
passwd={password}
realm=switchboard
""")
        self.output = b""
        self.condition = threading.Condition()
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: linphonec, in its own HOME
            os.environ["HOME"] = os.path.join(directory, "home")
            os.execv(LINPHONEC, [LINPHONEC, "-c", self.config, "-d", "4", "-l", os.path.join(directory, "linphone.log")])
        self.reader = threading.Thread(target=self._read, name="linphonec", daemon=True)
        self.reader.start()

    def _read(self):
        while True:
            try:
                ready, _, _ = select.select([self.fd], [], [], 0.5)
                if not ready:
                    if self._exited():
                        return
                    continue
                data = os.read(self.fd, 65536)
            except OSError:
                return
            if not data:
                return
            with self.condition:
                self.output += ANSI.sub(b"", data)
                self.condition.notify_all()

    def _exited(self):
        try:
            pid, _ = os.waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:
            return True
        return pid != 0

    def text(self):
        with self.condition:
            return self.output.decode("utf-8", errors="replace")

    def send(self, line):
        """Types a command; returns where the output stood, for `wait_for(after=)`."""
        with self.condition:
            mark = len(self.output)
        os.write(self.fd, (line + "\n").encode())
        return mark

    def wait_for(self, pattern, timeout, after=0):
        """The first match of `pattern` in the output from `after` on, within `timeout` seconds."""
        regex = re.compile(pattern.encode())
        deadline = time.monotonic() + timeout
        with self.condition:
            while True:
                match = regex.search(self.output, after)
                if match:
                    return match
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"linphonec: no {pattern!r} within {timeout} s\n--- output ---\n"
                                         f"{self.output[-6000:].decode(errors='replace')}")
                self.condition.wait(left)

    def registered(self):
        mark = self.send("status register")
        try:
            self.wait_for(r"registered, identity=", 1, after=mark)
            return True
        except AssertionError:
            return False

    def stop(self):
        """SIGTERM (it unregisters and leaves; `quit` could be taken for a password it asks for),
        then SIGKILL; each bounded."""
        for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                break
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline and not self._exited():
                time.sleep(0.05)
            if self._exited():
                break
        try:
            os.close(self.fd)
        except OSError:
            pass
