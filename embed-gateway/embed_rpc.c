/*
 * embed_rpc.c — the wire side of vectron-embed: decodes a bus request
 * (proto/vx_proto.h), runs embed_service_dispatch, encodes the reply.
 * A malformed request is answered with an error reply of the same type
 * (type 0 when the type is unreadable or unknown, PROTOCOL.md §3), never
 * dropped.
 * Each call uses its own arena, released before returning.
 */
#include "embed_handlers.h"

#include "vx_err.h"
#include "vx_log.h"

void embed_rpc_handle(void *arg, const unsigned char *req, size_t req_len, vx_buf *reply)
{
    embed_service *s = arg;
    vx_arena a;
    vx_arena_init(&a, 64 * 1024);
    vx_request rq;
    char err[256] = "";
    int rc = vx_proto_decode_request(req, req_len, &a, &rq, err, sizeof err);
    if (rc != VX_OK) {
        VX_DEBUG("bad request: %s", err);
        vx_proto_encode_error(rq.type, rq.request_id, rc, err[0] ? err : vx_strerror(rc), reply);
        goto done;
    }
    vx_reply rep;
    embed_service_dispatch(s, &rq, &rep, &a);
    if (rep.status != VX_OK) {
        vx_proto_encode_error(rep.type, rep.request_id, rep.status, rep.err_message, reply);
    } else if ((rc = vx_proto_encode_reply(&rep, reply)) != VX_OK) {
        vx_buf_reset(reply);
        VX_ERROR("cannot encode a %s reply: %s", vx_msg_name(rep.type), vx_strerror(rc));
        vx_proto_encode_error(rep.type, rep.request_id, VX_ERR_INTERNAL, "reply could not be encoded", reply);
    }
done:
    vx_arena_fini(&a);
}
