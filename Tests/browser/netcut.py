"""A loopback TCP proxy in front of the server that a test can cut and restore, to make a real
network loss for the browser: every open connection (the event stream's WebSocket included) is
dropped, and new ones are refused until restore()."""
import socket
import threading


class CuttableProxy:
    def __init__(self, target_url):
        host, port = target_url.removeprefix("http://").split(":")
        self.target = (host, int(port))
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.accepting = True
        self.closed = False
        self.sockets = set()
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.accepting:
                client.close()  # the network is down: the connection fails at once
                continue
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.sockets.update((client, upstream))
            threading.Thread(target=self._pipe, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client), daemon=True).start()

    def _pipe(self, source, destination):
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                destination.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, destination):
                self._drop(end)

    def _drop(self, end):
        with self.lock:
            self.sockets.discard(end)
        try:
            end.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        end.close()

    def cut(self):
        """Drops every connection and refuses new ones."""
        self.accepting = False
        with self.lock:
            open_sockets = list(self.sockets)
        for end in open_sockets:
            self._drop(end)

    def restore(self):
        self.accepting = True

    def close(self):
        self.closed = True
        self.cut()
        self.listener.close()
