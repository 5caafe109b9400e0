# proto/: libvxproto.a — message envelope and types (vx_proto.h), encoder and
# decoder, and the msgpack-c adapter (vx_msgpack.c).
