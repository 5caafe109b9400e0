/*
 * vx_proto_internal.h — shared between the proto/ sources only (not part of
 * the contract): the semantic checks that both the encoder and the decoder
 * apply, so a buggy sender fails locally with the same message a receiver
 * would give.
 */
#ifndef VX_PROTO_INTERNAL_H
#define VX_PROTO_INTERNAL_H

#include <stddef.h>

#include "vx_proto.h"

/* Check every limit of a decoded/to-be-encoded message. Return VX_OK,
 * VX_ERR_INVALID or VX_ERR_LIMIT with a message naming the field in err. */
int vxp_check_request(const vx_request *m, unsigned flags, char *err, size_t err_len);
int vxp_check_reply(const vx_reply *m, char *err, size_t err_len);

void vxp_set_err(char *err, size_t err_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
