# common/: libvxcommon.a — error table, logging, arena, buffers, values,
# config, clock, signals, CRC32C, and the nng adapter (vx_rpc.c).
