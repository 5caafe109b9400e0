/*
 * embed_rpc_test.c — vectron-embed's request handling over the real bus:
 * an rpc server on a random loopback port running embed_rpc_handle, a
 * client sending encoded EMBED / MODELS requests and garbage. Checks that
 * the vectors that come back are exactly the model's, that errors travel
 * as error replies with the request's type and id, and that a malformed
 * message gets VX_ERR_PROTO instead of silence. Needs the use-lite model.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "embed_handlers.h"
#include "vx_err.h"
#include "vx_rpc.h"
#include "vx_test.h"

static use_lite_model *g_model;
static char g_err[256];

static registry_model g_models[] = {
    {"use-lite", EMBED_PROVIDER_BUILTIN, "universal-sentence-encoder-lite", 512, NULL, NULL, NULL},
    {"openai-small", EMBED_PROVIDER_OPENAI, "text-embedding-3-small", 1536, "VX_TEST_NO_SUCH_KEY", NULL, NULL},
};
static registry g_reg = {g_models, 2, "use-lite"};

typedef struct bus {
    embed_service *svc;
    vx_rpc_server *srv;
    vx_rpc_client *cli;
} bus;

static int bus_open(bus *b)
{
    memset(b, 0, sizeof *b);
    const char *p = getenv("VX_USE_LITE_MODEL");
    if (!g_model && use_lite_load(&g_model, p && *p ? p : USE_LITE_DEFAULT_PATH, g_err, sizeof g_err) != VX_OK)
        return -1;
    unsetenv("VX_TEST_NO_SUCH_KEY");
    embed_service_config c = {&g_reg, g_model, NULL, NULL, NULL, NULL};
    char url[64];
    if (embed_service_create(&b->svc, &c) != VX_OK ||
        vx_rpc_server_open(&b->srv, "tcp://127.0.0.1:0", 2, VX_MAX_MSG_BYTES, embed_rpc_handle, b->svc) != VX_OK)
        return -2;
    snprintf(url, sizeof url, "tcp://127.0.0.1:%d", vx_rpc_server_port(b->srv));
    if (vx_rpc_client_open(&b->cli, url, VX_MAX_MSG_BYTES) != VX_OK)
        return -3;
    return 0;
}

static void bus_close(bus *b)
{
    vx_rpc_client_close(b->cli);
    vx_rpc_server_close(b->srv);
    embed_service_destroy(b->svc);
}

/* Encodes rq, calls, decodes the reply into rep (arena a). */
static int roundtrip(bus *b, const vx_request *rq, vx_arena *a, vx_reply *rep)
{
    vx_buf req = VX_BUF_INIT, reply = VX_BUF_INIT;
    int rc = vx_proto_encode_request(rq, &req);
    if (rc == VX_OK)
        rc = vx_rpc_call(b->cli, req.data, req.len, 10000, &reply);
    if (rc == VX_OK)
        rc = vx_proto_decode_reply(reply.data, reply.len, a, rep, NULL, 0);
    vx_buf_free(&req);
    vx_buf_free(&reply);
    return rc;
}

TEST(rpc_embed_returns_model_vectors)
{
    bus b;
    int orc = bus_open(&b);
    ASSERT_MSG(orc == 0, "bus setup failed (%d): %s", orc, g_err);
    const char *texts[3] = {"How do I reset my password?", "I forgot my login credentials.", ""};
    float direct[3 * USE_LITE_DIM];
    int drc = use_lite_embed(g_model, texts, 3, direct);
    vx_request rq;
    memset(&rq, 0, sizeof rq);
    rq.version = VX_PROTO_VERSION;
    rq.type = VX_MSG_EMBED;
    rq.request_id = 7;
    rq.deadline_ms = 10000;
    rq.body.embed.texts = texts;
    rq.body.embed.n_texts = 3;
    vx_arena a;
    vx_arena_init(&a, 65536);
    vx_reply rep;
    int rc = roundtrip(&b, &rq, &a, &rep);
    int ok = rc == VX_OK && rep.status == VX_OK && rep.type == VX_MSG_EMBED && rep.request_id == 7 &&
             rep.body.embed.dim == USE_LITE_DIM && rep.body.embed.n == 3 &&
             memcmp(rep.body.embed.vectors, direct, sizeof direct) == 0;
    vx_arena_fini(&a);
    bus_close(&b);
    ASSERT_EQ_INT(drc, VX_OK);
    ASSERT_EQ_INT(rc, VX_OK);
    ASSERT(ok);
}

TEST(rpc_errors_are_replies_with_the_request_type)
{
    bus b;
    int orc = bus_open(&b);
    ASSERT_MSG(orc == 0, "bus setup failed (%d): %s", orc, g_err);
    const char *texts[1] = {"hi"};
    vx_request rq;
    memset(&rq, 0, sizeof rq);
    rq.version = VX_PROTO_VERSION;
    rq.type = VX_MSG_EMBED;
    rq.request_id = 9;
    rq.body.embed.model = "openai-small";
    rq.body.embed.texts = texts;
    rq.body.embed.n_texts = 1;
    vx_arena a;
    vx_arena_init(&a, 65536);
    vx_reply rep;
    int rc = roundtrip(&b, &rq, &a, &rep);
    int status = rep.status, type = rep.type;
    int named = rep.err_message && strstr(rep.err_message, "openai-small");
    uint64_t id = rep.request_id;

    /* garbage bytes: an error reply, not silence */
    vx_buf reply = VX_BUF_INIT;
    int crc = vx_rpc_call(b.cli, "\xc1garbage", 8, 10000, &reply);
    vx_reply bad;
    int drc = crc == VX_OK ? vx_proto_decode_reply(reply.data, reply.len, &a, &bad, NULL, 0) : crc;
    int bad_status = drc == VX_OK ? bad.status : 0;
    int bad_type = drc == VX_OK ? (int)bad.type : -1;
    vx_buf_free(&reply);
    vx_arena_fini(&a);
    bus_close(&b);
    ASSERT_EQ_INT(rc, VX_OK);
    ASSERT_EQ_INT(status, VX_ERR_EMBED_UNAVAILABLE);
    ASSERT_EQ_INT(type, VX_MSG_EMBED);
    ASSERT_EQ_INT(id, 9);
    ASSERT(named);
    ASSERT_EQ_INT(drc, VX_OK);
    ASSERT_EQ_INT(bad_status, VX_ERR_PROTO);
    ASSERT_EQ_INT(bad_type, 0); /* PROTOCOL.md §3: unreadable type -> type 0, not health's */
}
