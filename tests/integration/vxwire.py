"""vxwire — speaks Vectron's bus protocol directly, for hostile tests.

Two small pieces, stdlib only:
- a msgpack subset codec (nil, bool, int, float, str, bin, array, map) —
  enough to build request envelopes [version, type, request_id, deadline_ms,
  body] and read replies [version, type, request_id, status, body]
  (proto/vx_proto.h);
- an nng REQ client over IPC (SP over a Unix stream socket): both sides send
  the 8-byte header "\\0SP\\0" + u16 BE protocol id (REQ 0x30, peer REP 0x31)
  + 2 zero bytes; every message is a 0x01 byte, a u64 BE length and the
  payload; a REQ payload starts with a u32 BE request id with the high bit
  set, and the REP answer carries the same id in front of its body.

Invariant: the decoder never reads past its input (raises ValueError).
"""

import socket
import struct

NNG_PROTO_REQ = 0x30
NNG_PROTO_REP = 0x31


# ---- msgpack subset -------------------------------------------------------

def pack(o):
    if o is None:
        return b"\xc0"
    if o is True:
        return b"\xc3"
    if o is False:
        return b"\xc2"
    if isinstance(o, int):
        if 0 <= o < 128:
            return bytes([o])
        if -32 <= o < 0:
            return struct.pack("b", o)
        if o >= 0:
            for code, fmt, lim in ((0xcc, ">B", 1 << 8), (0xcd, ">H", 1 << 16), (0xce, ">I", 1 << 32),
                                   (0xcf, ">Q", 1 << 64)):
                if o < lim:
                    return bytes([code]) + struct.pack(fmt, o)
            raise ValueError("int too large")
        for code, fmt, lim in ((0xd0, ">b", 1 << 7), (0xd1, ">h", 1 << 15), (0xd2, ">i", 1 << 31),
                               (0xd3, ">q", 1 << 63)):
            if o >= -lim:
                return bytes([code]) + struct.pack(fmt, o)
        raise ValueError("int too small")
    if isinstance(o, float):
        return b"\xcb" + struct.pack(">d", o)
    if isinstance(o, str):
        b = o.encode("utf-8")
        n = len(b)
        if n < 32:
            return bytes([0xa0 | n]) + b
        if n < 256:
            return b"\xd9" + bytes([n]) + b
        if n < 65536:
            return b"\xda" + struct.pack(">H", n) + b
        return b"\xdb" + struct.pack(">I", n) + b
    if isinstance(o, (bytes, bytearray)):
        n = len(o)
        if n < 256:
            return b"\xc4" + bytes([n]) + bytes(o)
        if n < 65536:
            return b"\xc5" + struct.pack(">H", n) + bytes(o)
        return b"\xc6" + struct.pack(">I", n) + bytes(o)
    if isinstance(o, (list, tuple)):
        n = len(o)
        head = bytes([0x90 | n]) if n < 16 else (b"\xdc" + struct.pack(">H", n) if n < 65536
                                                 else b"\xdd" + struct.pack(">I", n))
        return head + b"".join(pack(x) for x in o)
    if isinstance(o, dict):
        n = len(o)
        head = bytes([0x80 | n]) if n < 16 else (b"\xde" + struct.pack(">H", n) if n < 65536
                                                 else b"\xdf" + struct.pack(">I", n))
        return head + b"".join(pack(k) + pack(v) for k, v in o.items())
    raise TypeError("cannot pack %r" % type(o))


def unpack(data):
    """Decodes exactly one object filling data; raises ValueError otherwise."""
    obj, pos = _unpack(data, 0)
    if pos != len(data):
        raise ValueError("%d trailing bytes" % (len(data) - pos))
    return obj


def _take(data, pos, n):
    if pos + n > len(data):
        raise ValueError("truncated at %d" % pos)
    return data[pos:pos + n], pos + n


def _unpack(data, pos):
    b, pos = _take(data, pos, 1)
    c = b[0]
    if c < 0x80:
        return c, pos
    if c >= 0xe0:
        return c - 256, pos
    if 0x80 <= c <= 0x8f:
        return _map(data, pos, c & 0x0f)
    if 0x90 <= c <= 0x9f:
        return _arr(data, pos, c & 0x0f)
    if 0xa0 <= c <= 0xbf:
        s, pos = _take(data, pos, c & 0x1f)
        return s.decode("utf-8"), pos
    fixed = {0xc0: None, 0xc2: False, 0xc3: True}
    if c in fixed:
        return fixed[c], pos
    ints = {0xcc: ">B", 0xcd: ">H", 0xce: ">I", 0xcf: ">Q", 0xd0: ">b", 0xd1: ">h", 0xd2: ">i", 0xd3: ">q",
            0xca: ">f", 0xcb: ">d"}
    if c in ints:
        fmt = ints[c]
        raw, pos = _take(data, pos, struct.calcsize(fmt))
        return struct.unpack(fmt, raw)[0], pos
    lens = {0xc4: (">B", "bin"), 0xc5: (">H", "bin"), 0xc6: (">I", "bin"), 0xd9: (">B", "str"),
            0xda: (">H", "str"), 0xdb: (">I", "str"), 0xdc: (">H", "arr"), 0xdd: (">I", "arr"),
            0xde: (">H", "map"), 0xdf: (">I", "map")}
    if c in lens:
        fmt, kind = lens[c]
        raw, pos = _take(data, pos, struct.calcsize(fmt))
        n = struct.unpack(fmt, raw)[0]
        if kind == "arr":
            return _arr(data, pos, n)
        if kind == "map":
            return _map(data, pos, n)
        raw, pos = _take(data, pos, n)
        return (raw.decode("utf-8") if kind == "str" else bytes(raw)), pos
    raise ValueError("unsupported msgpack byte 0x%02x" % c)


def _arr(data, pos, n):
    out = []
    for _ in range(n):
        v, pos = _unpack(data, pos)
        out.append(v)
    return out, pos


def _map(data, pos, n):
    out = {}
    for _ in range(n):
        k, pos = _unpack(data, pos)
        v, pos = _unpack(data, pos)
        out[k if not isinstance(k, list) else tuple(k)] = v
    return out, pos


# ---- nng REQ over IPC --------------------------------------------------------

class SPError(Exception):
    pass


class ReqClient:
    """One REQ socket connected to an nng REP listener at ipc://path or
    tcp://host:port. The two transports frame a message alike except that
    ipc puts a type byte (0x01) before the 8-byte length."""

    def __init__(self, url, timeout=5.0):
        if url.startswith("tcp://"):
            host, port = url[len("tcp://"):].rsplit(":", 1)
            self.sock = socket.create_connection((host, int(port)), timeout=timeout)
            self.type_byte = b""
        else:
            assert url.startswith("ipc://"), url
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(timeout)
            self.sock.connect(url[len("ipc://"):])
            self.type_byte = b"\x01"
        self.sock.sendall(b"\x00SP\x00" + struct.pack(">H", NNG_PROTO_REQ) + b"\x00\x00")
        hdr = self._recv_exact(8)
        if hdr[:4] != b"\x00SP\x00" or hdr[6:] != b"\x00\x00":
            raise SPError("bad SP header %r" % hdr)
        peer = struct.unpack(">H", hdr[4:6])[0]
        if peer != NNG_PROTO_REP:
            raise SPError("peer protocol 0x%x, want REP 0x%x" % (peer, NNG_PROTO_REP))
        self.next_id = 1

    def close(self):
        self.sock.close()

    def _recv_exact(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise SPError("connection closed after %d of %d bytes" % (len(buf), n))
            buf += chunk
        return buf

    def send_raw(self, payload):
        """Sends one SP message whose payload (after the request id) is payload; returns the id."""
        rid = 0x80000000 | self.next_id
        self.next_id += 1
        msg = struct.pack(">I", rid) + payload
        self.sock.sendall(self.type_byte + struct.pack(">Q", len(msg)) + msg)
        return rid

    def recv_raw(self):
        """Returns (request id, body) of the next message."""
        hdr = self._recv_exact(len(self.type_byte) + 8)
        if self.type_byte and hdr[0] != 1:
            raise SPError("message type 0x%02x" % hdr[0])
        n = struct.unpack(">Q", hdr[len(self.type_byte):])[0]
        if n < 4 or n > (64 << 20) + 4096:
            raise SPError("message length %d" % n)
        msg = self._recv_exact(n)
        return struct.unpack(">I", msg[:4])[0], msg[4:]

    def call_raw(self, payload):
        rid = self.send_raw(payload)
        got, body = self.recv_raw()
        if got != rid:
            raise SPError("reply id 0x%x, want 0x%x" % (got, rid))
        return body

    def call(self, msg_type, body, request_id=7, deadline_ms=5000, version=1):
        """Sends a well-formed envelope; returns the decoded reply envelope."""
        return unpack(self.call_raw(pack([version, msg_type, request_id, deadline_ms, body])))
