"""A CPython multiprocessing.connection peer for CPythonInteropTests.

usage: cpython_peer.py listen ADDRESS KEY    ADDRESS: unix (an arbitrary path) or tcp
       cpython_peer.py connect ADDRESS KEY   ADDRESS: a socket path, or tcp:HOST:PORT
KEY is hex, or - for no authentication.

Prints "version X.Y" first. A listener prints "address ..." once bound, accepts one connection,
receives one message and sends it back reversed. A client sends b"hello from python" and
prints "reply ..." with what came back. An AuthenticationError is printed as
"AuthenticationError: <message>" with exit code 3, so the test can tell it from a crash.
"""
import sys
from multiprocessing import AuthenticationError
from multiprocessing.connection import Client, Listener


def parse_address(text):
    if text.startswith("tcp:"):
        host, port = text[4:].rsplit(":", 1)
        return (host, int(port))
    return text


def format_address(address):
    if isinstance(address, tuple):
        return "tcp:%s:%d" % address
    return address


def listen(where, authkey):
    address = ("127.0.0.1", 0) if where == "tcp" else None
    with Listener(address, authkey=authkey) as listener:
        print("address", format_address(listener.address), flush=True)
        with listener.accept() as conn:
            conn.send_bytes(conn.recv_bytes()[::-1])


def connect(address, authkey):
    with Client(parse_address(address), authkey=authkey) as conn:
        conn.send_bytes(b"hello from python")
        print("reply", conn.recv_bytes().decode("ascii"), flush=True)


def main():
    role, address, key = sys.argv[1:4]
    authkey = None if key == "-" else bytes.fromhex(key)
    print("version %d.%d" % sys.version_info[:2], flush=True)
    try:
        if role == "listen":
            listen(address, authkey)
        else:
            connect(address, authkey)
    except AuthenticationError as e:
        print("AuthenticationError:", e, flush=True)
        sys.exit(3)


if __name__ == "__main__":
    main()
