#!/usr/bin/env python3
"""A bounded TCP request/response peer for the tests (100-byte messages).

  tcp_rr.py server PORT          answers until the client closes (at most 120 s)
  tcp_rr.py client HOST PORT N   N round trips; prints the mean round trip in us
"""
import socket
import sys
import time

MSG = 100


def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def server(port):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("0.0.0.0", port))
    ls.listen(1)
    ls.settimeout(120)
    conn, _ = ls.accept()
    conn.settimeout(120)
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    while True:
        req = recv_exact(conn, MSG)
        if req is None:
            break
        conn.sendall(req)


def client(host, port, n):
    s = socket.create_connection((host, port), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    payload = b"x" * MSG
    for _ in range(100):  # warm-up
        s.sendall(payload)
        recv_exact(s, MSG)
    start = time.perf_counter()
    for _ in range(n):
        s.sendall(payload)
        if recv_exact(s, MSG) is None:
            sys.exit("server closed early")
    elapsed = time.perf_counter() - start
    s.close()
    print("%.2f" % (elapsed / n * 1e6))


if __name__ == "__main__":
    if sys.argv[1] == "server":
        server(int(sys.argv[2]))
    else:
        client(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
