/*
 * persistence_test.c — the durable store end to end, on real files in the
 * test's temporary directory: requests go through handlers_handle (so the
 * write path, WAL records, snapshots and recovery are the real ones), the
 * "process" is stopped (with or without a final snapshot) and recovered,
 * and the recovered state is compared byte for byte with the state before
 * (every collection's config, and per slot: id, raw vector bits, packed
 * metadata). Covers: restart round trip, snapshot + more writes, a
 * snapshot taken while writers run (per-collection applied_lsn), torn
 * tail, mid-log and snapshot corruption with and without accept_loss,
 * concurrent writers (distinct LSNs, shared fsyncs), change events from the
 * WAL and on the PUB socket, and a fork + SIGKILL crash.
 */
#include "persistence.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "events.h"
#include "fsutil.h"
#include "handlers.h"
#include "snapshotter.h"
#include "store_test_util.h"
#include "vx_err.h"
#include "vx_proto.h"
#include "vx_rpc.h"
#include "vx_test.h"

typedef struct node {
    store *st;
    pers *p;
    store_handlers *h;
    snapshotter *sn;
    events *ev;
    pers_summary sum;
    char err[1024];
} node;

static int node_open(node *n, wal_fsync_policy pol, bool accept_loss, const char *events_url)
{
    memset(n, 0, sizeof *n);
    store_open(&n->st);
    pers_opts o = {.dir = vx_test_tmpdir(), .policy = pol, .accept_loss = accept_loss,
                   .segment_bytes = 64 << 10};
    int rc = pers_open(&n->p, n->st, &o, &n->sum, n->err, sizeof n->err);
    if (rc) {
        store_close(n->st);
        n->st = NULL;
        return rc;
    }
    snapshotter_opts so = {.prev_lsn = n->sum.snapshot_lsn, .base_lsn = n->sum.next_lsn - 1};
    snapshotter_start(&n->sn, n->st, n->p, &so);
    if (events_url)
        events_open(&n->ev, events_url);
    handlers_create(n->st, &n->h);
    handlers_set_persistence(n->h, n->p, n->ev);
    return VX_OK;
}

/* final: take a snapshot first (clean shutdown); otherwise only the WAL. */
static void node_close(node *n, bool final)
{
    snapshotter_stop(n->sn, final);
    handlers_destroy(n->h);
    events_close(n->ev);
    pers_close(n->p);
    store_close(n->st);
    memset(n, 0, sizeof *n);
}

static int call_in(node *n, vx_arena *a, vx_request *rq, vx_reply *rp)
{
    vx_buf in = VX_BUF_INIT, out = VX_BUF_INIT;
    rq->version = VX_PROTO_VERSION;
    int rc = vx_proto_encode_request(rq, &in);
    if (rc == VX_OK) {
        handlers_handle(n->h, in.data, in.len, a, &out);
        rc = vx_proto_decode_reply(out.data, out.len, a, rp, NULL, 0);
    }
    vx_buf_free(&in);
    vx_buf_free(&out);
    return rc == VX_OK ? rp->status : 1000;
}
static int call(node *n, vx_request *rq, vx_reply *rp) { return call_in(n, &tu_arena, rq, rp); }

static int create(node *n, const char *name, uint32_t dim, vx_metric m)
{
    vx_request rq = {.type = VX_MSG_COLL_CREATE};
    vx_reply rp;
    rq.body.coll_create.name = name;
    rq.body.coll_create.dimension = dim;
    rq.body.coll_create.metric = m;
    return call(n, &rq, &rp);
}

static int drop(node *n, const char *name)
{
    vx_request rq = {.type = VX_MSG_COLL_DELETE};
    vx_reply rp;
    rq.body.coll_name.name = name;
    return call(n, &rq, &rp);
}

/* Upserts ids prefix0..prefix(k-1) with random vectors and metadata {"i": i, "tag": t}. */
static int upsert_in(node *n, vx_arena *a, const char *coll, uint32_t dim, const char *prefix,
                     uint32_t first, uint32_t k, uint64_t seed, uint64_t *lsn)
{
    vx_point *pts = vx_arena_alloc(a, k * sizeof *pts);
    for (uint32_t i = 0; i < k; i++) {
        char id[64];
        snprintf(id, sizeof id, "%s%u", prefix, first + i);
        pts[i].id = vx_arena_strdup(a, id);
        float *v = vx_arena_alloc(a, dim * sizeof *v);
        for (uint32_t d = 0; d < dim; d++)
            v[d] = tu_randf(&seed) + 0.001f;
        pts[i].vector = v;
        pts[i].dim = dim;
        vx_value *md = vx_arena_alloc(a, sizeof *md);
        vx_member *mm = vx_arena_alloc(a, 2 * sizeof *mm);
        md->type = VX_VAL_OBJECT;
        md->u.obj.items = mm;
        md->u.obj.n = 2;
        mm[0] = (vx_member){.key = "i", .key_len = 1, .value = {.type = VX_VAL_INT, .u.i = first + i}};
        mm[1] = (vx_member){.key = "tag", .key_len = 3,
                            .value = {.type = VX_VAL_STRING, .u.str = {(i % 3) ? "odd" : "three", (i % 3) ? 3 : 5}}};
        pts[i].metadata = (i % 7 == 6) ? NULL : md;
    }
    vx_request rq = {.type = VX_MSG_POINTS_UPSERT};
    vx_reply rp;
    rq.body.upsert.collection = coll;
    rq.body.upsert.points = pts;
    rq.body.upsert.n_points = k;
    int rc = call_in(n, a, &rq, &rp);
    if (rc == VX_OK && lsn)
        *lsn = rp.body.write.lsn;
    return rc;
}
static int upsert(node *n, const char *coll, uint32_t dim, const char *prefix, uint32_t first,
                  uint32_t k, uint64_t seed)
{
    return upsert_in(n, &tu_arena, coll, dim, prefix, first, k, seed, NULL);
}

static int del_ids(node *n, const char *coll, uint32_t k, const char **ids, vx_reply *rp)
{
    vx_request rq = {.type = VX_MSG_POINTS_DELETE};
    rq.body.del.collection = coll;
    rq.body.del.ids = ids;
    rq.body.del.n_ids = k;
    return call(n, &rq, rp);
}

static int del_filter(node *n, const char *coll, const vx_value *f, vx_reply *rp)
{
    vx_request rq = {.type = VX_MSG_POINTS_DELETE};
    rq.body.del.collection = coll;
    rq.body.del.filter = f;
    return call(n, &rq, rp);
}

/* Canonical dump of the whole store. */
static void dump(store *st, vx_buf *out)
{
    vx_arena a;
    vx_arena_init(&a, 4096);
    vx_coll_info *infos;
    uint32_t nc;
    store_list(st, &a, &infos, &nc);
    vx_buf_reset(out);
    for (uint32_t i = 0; i < nc; i++) {
        store_ref *r;
        if (store_acquire(st, infos[i].config.name, false, &r))
            continue;
        const collection *c = store_ref_coll(r);
        const vx_coll_config *cfg = coll_config(c);
        vx_buf_printf(out, "[%s %u %d %d %u %u %s %llu]", cfg->name, cfg->dimension, cfg->metric,
                      cfg->index.type, cfg->index.m, cfg->index.ef_construction,
                      cfg->model ? cfg->model : "-", (unsigned long long)coll_count(c));
        for (uint32_t s = 0; s < coll_n_slots(c); s++) {
            if (!coll_slot_live(c, s))
                continue;
            uint32_t ml;
            const unsigned char *m = coll_slot_meta(c, s, &ml);
            vx_buf_printf(out, "(%s|", coll_slot_id(c, s));
            vx_buf_append(out, coll_slot_vector(c, s), cfg->dimension * sizeof(float));
            vx_buf_append(out, coll_slot_search_vector(c, s), cfg->dimension * sizeof(float));
            vx_buf_append(out, m, ml);
            vx_buf_putc(out, ')');
        }
        store_release(r);
    }
    vx_arena_fini(&a);
}

static bool same_state(store *st, const vx_buf *want)
{
    vx_buf got = VX_BUF_INIT;
    dump(st, &got);
    bool eq = got.len == want->len && memcmp(got.data, want->data, got.len) == 0;
    vx_buf_free(&got);
    return eq;
}

/* A mixed history on node n. */
static int history(node *n)
{
    vx_reply rp;
    if (create(n, "alpha", 8, VX_METRIC_COSINE) || create(n, "beta", 4, VX_METRIC_L2) ||
        create(n, "gamma", 3, VX_METRIC_DOT))
        return -1;
    for (uint32_t b = 0; b < 5; b++)
        if (upsert(n, "alpha", 8, "a", b * 100, 100, 1 + b))
            return -2;
    if (upsert(n, "beta", 4, "b", 0, 50, 99) || upsert(n, "gamma", 3, "g", 0, 10, 7))
        return -3;
    const char *ids[] = {"a1", "a2", "a3", "nope"};
    if (del_ids(n, "alpha", 4, ids, &rp) || rp.body.write.n != 3)
        return -4;
    if (del_filter(n, "alpha", tv_obj(1, "tag", tv_str("three")), &rp) || rp.body.write.n == 0)
        return -5;
    if (upsert(n, "alpha", 8, "a", 50, 20, 1234) || drop(n, "gamma"))
        return -6;
    return 0;
}

TEST(pers_restart_round_trip)
{
    tu_reset();
    node n;
    ASSERT_EQ_INT(node_open(&n, WAL_FSYNC_ALWAYS, false, NULL), VX_OK);
    ASSERT_EQ_INT(history(&n), 0);
    vx_buf want = VX_BUF_INIT;
    dump(n.st, &want);
    node_close(&n, false);

    ASSERT_EQ_INT(node_open(&n, WAL_FSYNC_ALWAYS, false, NULL), VX_OK);
    ASSERT(same_state(n.st, &want));
    ASSERT_EQ_INT(n.sum.snapshot_lsn, 0);
    ASSERT(n.sum.replayed >= 12);
    ASSERT_EQ_INT(n.sum.collections, 2);
    node_close(&n, true); /* clean shutdown: snapshot */

    ASSERT_EQ_INT(node_open(&n, WAL_FSYNC_ALWAYS, false, NULL), VX_OK);
    ASSERT(same_state(n.st, &want));
    ASSERT(n.sum.snapshot_lsn > 0);
    ASSERT_EQ_INT(n.sum.replayed, 0);
    /* writes continue after a snapshot-only recovery, LSNs keep growing */
    uint64_t lsn = 0;
    ASSERT_EQ_INT(upsert_in(&n, &tu_arena, "beta", 4, "b", 1000, 3, 5, &lsn), VX_OK);
    ASSERT(lsn > n.sum.snapshot_lsn);
    dump(n.st, &want);
    node_close(&n, false);
    ASSERT_EQ_INT(node_open(&n, WAL_FSYNC_ALWAYS, false, NULL), VX_OK);
    ASSERT(same_state(n.st, &want));
    ASSERT_EQ_INT(n.sum.replayed, 1);
    node_close(&n, false);
    vx_buf_free(&want);
}

TEST(pers_snapshot_then_writes)
{
    tu_reset();
    node n;
    ASSERT_EQ_INT(node_open(&n, WAL_FSYNC_EVERYSEC, false, NULL), VX_OK);
    ASSERT_EQ_INT(history(&n), 0);
    uint64_t L;
    ASSERT_EQ_INT(snapshotter_take(n.sn, &L), VX_OK);
    ASSERT(L > 0);
    /* after the snapshot: drop + re-create with other settings, more writes */
    ASSERT_EQ_INT(drop(&n, "beta"), VX_OK);
    ASSERT_EQ_INT(create(&n, "beta", 6, VX_METRIC_DOT), VX_OK);
    ASSERT_EQ_INT(upsert(&n, "beta", 6, "nb", 0, 30, 3), VX_OK);
    ASSERT_EQ_INT(upsert(&n, "alpha", 8, "a", 0, 10, 77), VX_OK);
    vx_buf want = VX_BUF_INIT;
    dump(n.st, &want);
    node_close(&n, false);
    ASSERT_EQ_INT(node_open(&n, WAL_FSYNC_EVERYSEC, false, NULL), VX_OK);
    ASSERT_EQ_INT(n.sum.snapshot_lsn, L);
    ASSERT_EQ_INT(n.sum.replayed, 4);
    ASSERT(same_state(n.st, &want));
    /* the slabs are mapped from the snapshot now: overwrite rows in place
     * (copy-on-write pages), then grow past them (copied into memory) */
    ASSERT_EQ_INT(upsert(&n, "alpha", 8, "a", 10, 6, 4242), VX_OK);
    ASSERT_EQ_INT(upsert(&n, "alpha", 8, "z", 0, 5, 8), VX_OK);
    ASSERT_EQ_INT(upsert(&n, "alpha", 8, "a", 11, 2, 4343), VX_OK);
    for (uint32_t b = 0; b < 5; b++) /* past the mapping's room (4× capacity): copied */
        ASSERT_EQ_INT(upsert(&n, "alpha", 8, "g", b * 1000, 1000, 900 + b), VX_OK);
    ASSERT_EQ_INT(upsert(&n, "alpha", 8, "a", 12, 1, 4444), VX_OK);
    /* a second snapshot truncates the WAL before the first one */
    uint64_t L2;
    ASSERT_EQ_INT(snapshotter_take(n.sn, &L2), VX_OK);
    ASSERT(L2 > L);
    dump(n.st, &want);
    node_close(&n, false);
    ASSERT_EQ_INT(node_open(&n, WAL_FSYNC_EVERYSEC, false, NULL), VX_OK);
    ASSERT_EQ_INT(n.sum.snapshot_lsn, L2);
    ASSERT(same_state(n.st, &want));
    node_close(&n, false);
    vx_buf_free(&want);
}

/* ---- snapshot while writers run ---- */

typedef struct writer_arg {
    node *n;
    int t;
    int rc;
    uint64_t lsns[40];
} writer_arg;

static void *writer(void *p)
{
    writer_arg *w = p;
    vx_arena a;
    vx_arena_init(&a, 1 << 16);
    char coll[16];
    snprintf(coll, sizeof coll, "c%d", w->t % 3);
    for (int i = 0; i < 40 && !w->rc; i++) {
        char prefix[16];
        snprintf(prefix, sizeof prefix, "t%d-", w->t);
        w->rc = upsert_in(w->n, &a, coll, 16, prefix, (uint32_t)(i % 25) * 4, 4,
                          (uint64_t)w->t * 1000 + (uint64_t)i + 1, &w->lsns[i]);
        vx_arena_reset(&a);
    }
    vx_arena_fini(&a);
    return NULL;
}

static void *snapper(void *p)
{
    node *n = p;
    for (int i = 0; i < 6; i++) {
        snapshotter_take(n->sn, NULL);
        usleep(2000);
    }
    return NULL;
}

TEST(pers_snapshot_during_writes_and_group_commit)
{
    tu_reset();
    node n;
    ASSERT_EQ_INT(node_open(&n, WAL_FSYNC_ALWAYS, false, NULL), VX_OK);
    for (int c = 0; c < 3; c++) {
        char name[8];
        snprintf(name, sizeof name, "c%d", c);
        ASSERT_EQ_INT(create(&n, name, 16, VX_METRIC_COSINE), VX_OK);
    }
    wal_stats before, after;
    wal_get_stats(pers_wal(n.p), &before);
    enum { NT = 8 };
    writer_arg w[NT];
    pthread_t th[NT], sth;
    for (int t = 0; t < NT; t++) {
        w[t] = (writer_arg){.n = &n, .t = t};
        pthread_create(&th[t], NULL, writer, &w[t]);
    }
    pthread_create(&sth, NULL, snapper, &n);
    for (int t = 0; t < NT; t++)
        pthread_join(th[t], NULL);
    pthread_join(sth, NULL);
    wal_get_stats(pers_wal(n.p), &after);
    /* distinct LSNs, every write acknowledged */
    uint64_t *all = malloc(NT * 40 * sizeof *all);
    int k = 0;
    for (int t = 0; t < NT; t++) {
        ASSERT_EQ_INT(w[t].rc, VX_OK);
        for (int i = 0; i < 40; i++)
            all[k++] = w[t].lsns[i];
    }
    for (int i = 0; i < k; i++)
        for (int j = i + 1; j < k; j++)
            ASSERT_MSG(all[i] != all[j] && all[i] > 0, "LSN %llu twice", (unsigned long long)all[i]);
    free(all);
    uint64_t recs = after.records - before.records, syncs = after.fsyncs - before.fsyncs;
    ASSERT_EQ_INT(recs, NT * 40);
    ASSERT_MSG(syncs < recs, "%llu fsyncs for %llu records: no group commit",
               (unsigned long long)syncs, (unsigned long long)recs);
    ASSERT(snapshotter_count(n.sn) >= 1);
    vx_buf want = VX_BUF_INIT;
    dump(n.st, &want);
    node_close(&n, false);
    ASSERT_EQ_INT(node_open(&n, WAL_FSYNC_ALWAYS, false, NULL), VX_OK);
    ASSERT(n.sum.snapshot_lsn > 0);
    ASSERT(same_state(n.st, &want));
    node_close(&n, false);
    vx_buf_free(&want);
}

/* ---- drop / re-create racing with writers ---- */

typedef struct churn_arg {
    node *n;
    int t;
    atomic_int *stop;
} churn_arg;

static void *churn_writer(void *p)
{
    churn_arg *w = p;
    vx_arena a;
    vx_arena_init(&a, 1 << 16);
    char prefix[16];
    snprintf(prefix, sizeof prefix, "w%d-", w->t);
    for (uint32_t i = 0; !atomic_load(w->stop); i++) {
        (void)upsert_in(w->n, &a, "d", 4, prefix, i % 50, 3, i + 1, NULL); /* may be NOT_FOUND */
        vx_arena_reset(&a);
    }
    vx_arena_fini(&a);
    return NULL;
}

TEST(pers_drop_recreate_racing_writers_replays_exactly)
{
    tu_reset();
    node n;
    ASSERT_EQ_INT(node_open(&n, WAL_FSYNC_NONE, false, NULL), VX_OK);
    ASSERT_EQ_INT(create(&n, "d", 4, VX_METRIC_COSINE), VX_OK);
    atomic_int stop = 0;
    churn_arg w[3];
    pthread_t th[3];
    for (int t = 0; t < 3; t++) {
        w[t] = (churn_arg){.n = &n, .t = t, .stop = &stop};
        pthread_create(&th[t], NULL, churn_writer, &w[t]);
    }
    vx_arena a;
    vx_arena_init(&a, 4096);
    for (int i = 0; i < 60; i++) {
        vx_request rq = {.type = VX_MSG_COLL_DELETE};
        vx_reply rp;
        rq.body.coll_name.name = "d";
        (void)call_in(&n, &a, &rq, &rp);
        vx_request cq = {.type = VX_MSG_COLL_CREATE};
        cq.body.coll_create.name = "d";
        cq.body.coll_create.dimension = 4;
        cq.body.coll_create.metric = (i % 2) ? VX_METRIC_L2 : VX_METRIC_COSINE;
        (void)call_in(&n, &a, &cq, &rp);
        if (i % 20 == 10)
            snapshotter_take(n.sn, NULL);
        vx_arena_reset(&a);
        usleep(500);
    }
    atomic_store(&stop, 1);
    for (int t = 0; t < 3; t++)
        pthread_join(th[t], NULL);
    vx_arena_fini(&a);
    vx_buf want = VX_BUF_INIT;
    dump(n.st, &want);
    node_close(&n, false);
    ASSERT_EQ_INT(node_open(&n, WAL_FSYNC_NONE, false, NULL), VX_OK);
    ASSERT(same_state(n.st, &want));
    node_close(&n, false);
    vx_buf_free(&want);
}

/* ---- an HNSW collection across restarts ---- */

static int search_ids(node *n, const char *coll, const float *q, uint32_t dim, char *out,
                      size_t out_len, bool *used_index)
{
    vx_request rq = {.type = VX_MSG_SEARCH};
    vx_reply rp;
    rq.body.search.collection = coll;
    rq.body.search.vector = q;
    rq.body.search.dim = dim;
    rq.body.search.k = 10;
    int rc = call(n, &rq, &rp);
    if (rc)
        return rc;
    out[0] = '\0';
    for (uint32_t i = 0; i < rp.body.search.n_hits; i++)
        snprintf(out + strlen(out), out_len - strlen(out), "%s,", rp.body.search.hits[i].id);
    *used_index = rp.body.search.used_index;
    return VX_OK;
}

TEST(pers_hnsw_collection_survives_restarts)
{
    tu_reset();
    node n;
    ASSERT_EQ_INT(node_open(&n, WAL_FSYNC_NONE, false, NULL), VX_OK);
    vx_request rq = {.type = VX_MSG_COLL_CREATE};
    vx_reply rp;
    rq.body.coll_create.name = "h";
    rq.body.coll_create.dimension = 16;
    rq.body.coll_create.metric = VX_METRIC_L2;
    rq.body.coll_create.index.type = VX_INDEX_HNSW;
    rq.body.coll_create.index.m = 12;
    rq.body.coll_create.index.ef_construction = 64;
    ASSERT_EQ_INT(call(&n, &rq, &rp), VX_OK);
    for (uint32_t b = 0; b < 3; b++)
        ASSERT_EQ_INT(upsert(&n, "h", 16, "h", b * 1000, 1000, 50 + b), VX_OK);
    const char *gone[] = {"h5", "h6"};
    ASSERT_EQ_INT(del_ids(&n, "h", 2, gone, &rp), VX_OK);
    float q[16];
    uint64_t seed = 4;
    for (int i = 0; i < 16; i++)
        q[i] = tu_randf(&seed);
    char want[512], got[512];
    bool idx;
    ASSERT_EQ_INT(search_ids(&n, "h", q, 16, want, sizeof want, &idx), VX_OK);
    ASSERT(idx);
    vx_buf state = VX_BUF_INIT;
    dump(n.st, &state);
    node_close(&n, false); /* WAL only: the graph is rebuilt by replay */
    ASSERT_EQ_INT(node_open(&n, WAL_FSYNC_NONE, false, NULL), VX_OK);
    ASSERT(same_state(n.st, &state));
    ASSERT_EQ_INT(search_ids(&n, "h", q, 16, got, sizeof got, &idx), VX_OK);
    ASSERT(idx);
    node_close(&n, true); /* snapshot with the graph section */
    ASSERT_EQ_INT(node_open(&n, WAL_FSYNC_NONE, false, NULL), VX_OK);
    ASSERT(n.sum.snapshot_lsn > 0 && n.sum.replayed == 0);
    ASSERT(same_state(n.st, &state));
    ASSERT_EQ_INT(search_ids(&n, "h", q, 16, got, sizeof got, &idx), VX_OK);
    ASSERT(idx);
    ASSERT_STR_EQ(got, want); /* the saved graph answers as before */
    ASSERT_EQ_INT(upsert(&n, "h", 16, "h", 3000, 100, 60), VX_OK); /* still writable */
    node_close(&n, false);
    vx_buf_free(&state);
}

/* ---- damage ---- */

/* Path of the newest WAL segment with records (the last one may be empty). */
static void newest_segment(char *path, size_t len, bool skip_empty)
{
    char **names;
    size_t n;
    path[0] = '\0';
    if (fsu_list_dir(vx_test_tmpdir(), "wal-", ".log", &names, &n))
        return;
    for (size_t i = n; i-- > 0;) {
        uint64_t sz = 0;
        fsu_path(path, len, vx_test_tmpdir(), names[i]);
        fsu_file_size(path, &sz);
        if (!skip_empty || sz > 32)
            break;
    }
    fsu_list_free(names, n);
}

static void flip_byte(const char *path, long off)
{
    int fd = open(path, O_RDWR);
    unsigned char b;
    if (pread(fd, &b, 1, off) == 1) {
        b ^= 0x40;
        if (pwrite(fd, &b, 1, off) != 1)
            abort();
    }
    close(fd);
}

TEST(pers_torn_tail_is_truncated)
{
    tu_reset();
    node n;
    ASSERT_EQ_INT(node_open(&n, WAL_FSYNC_ALWAYS, false, NULL), VX_OK);
    ASSERT_EQ_INT(create(&n, "t", 4, VX_METRIC_COSINE), VX_OK);
    ASSERT_EQ_INT(upsert(&n, "t", 4, "p", 0, 10, 1), VX_OK);
    vx_buf want = VX_BUF_INIT;
    dump(n.st, &want);
    ASSERT_EQ_INT(upsert(&n, "t", 4, "q", 0, 10, 2), VX_OK);
    node_close(&n, false);
    char path[4096];
    newest_segment(path, sizeof path, true);
    uint64_t sz;
    ASSERT_EQ_INT(fsu_file_size(path, &sz), VX_OK);
    ASSERT_EQ_INT(truncate(path, (off_t)sz - 7), 0); /* the last record loses its end */
    ASSERT_EQ_INT(node_open(&n, WAL_FSYNC_ALWAYS, false, NULL), VX_OK);
    ASSERT(n.sum.torn_tail);
    ASSERT(same_state(n.st, &want));
    node_close(&n, false);
    ASSERT_EQ_INT(node_open(&n, WAL_FSYNC_ALWAYS, false, NULL), VX_OK); /* repaired for good */
    ASSERT(!n.sum.torn_tail);
    ASSERT(same_state(n.st, &want));
    node_close(&n, false);
    vx_buf_free(&want);
}

TEST(pers_mid_log_corruption_refuses_unless_accept_loss)
{
    tu_reset();
    node n;
    ASSERT_EQ_INT(node_open(&n, WAL_FSYNC_ALWAYS, false, NULL), VX_OK);
    ASSERT_EQ_INT(create(&n, "m", 4, VX_METRIC_L2), VX_OK);
    ASSERT_EQ_INT(upsert(&n, "m", 4, "p", 0, 10, 1), VX_OK);
    vx_buf want = VX_BUF_INIT;
    dump(n.st, &want);
    ASSERT_EQ_INT(upsert(&n, "m", 4, "q", 0, 10, 2), VX_OK);
    ASSERT_EQ_INT(upsert(&n, "m", 4, "r", 0, 10, 3), VX_OK);
    node_close(&n, false);
    /* the third record (2nd upsert) of the segment: header 32 + create + upsert */
    char path[4096];
    newest_segment(path, sizeof path, true);
    uint64_t sz;
    fsu_file_size(path, &sz);
    flip_byte(path, (long)(sz * 2 / 3)); /* inside the middle upsert's vectors */
    ASSERT_EQ_INT(node_open(&n, WAL_FSYNC_ALWAYS, false, NULL), VX_ERR_CORRUPT);
    ASSERT_MSG(strstr(n.err, "wal-") && strstr(n.err, "offset"), "message: %s", n.err);
    ASSERT_EQ_INT(node_open(&n, WAL_FSYNC_ALWAYS, true, NULL), VX_OK);
    ASSERT(n.sum.data_lost);
    ASSERT(same_state(n.st, &want));
    node_close(&n, false);
    ASSERT_EQ_INT(node_open(&n, WAL_FSYNC_ALWAYS, false, NULL), VX_OK); /* clean since */
    ASSERT(same_state(n.st, &want));
    node_close(&n, false);
    vx_buf_free(&want);
}

TEST(pers_corrupt_snapshot_refuses_unless_accept_loss)
{
    tu_reset();
    node n;
    ASSERT_EQ_INT(node_open(&n, WAL_FSYNC_ALWAYS, false, NULL), VX_OK);
    ASSERT_EQ_INT(history(&n), 0);
    vx_buf want = VX_BUF_INIT;
    dump(n.st, &want);
    node_close(&n, true);
    char **names;
    size_t k;
    ASSERT_EQ_INT(fsu_list_dir(vx_test_tmpdir(), "snapshot-", ".vxs", &names, &k), VX_OK);
    ASSERT_EQ_INT(k, 1);
    char path[4096];
    fsu_path(path, sizeof path, vx_test_tmpdir(), names[0]);
    fsu_list_free(names, k);
    flip_byte(path, 64 * 3 + 5); /* inside the first collection's config section */
    ASSERT_EQ_INT(node_open(&n, WAL_FSYNC_ALWAYS, false, NULL), VX_ERR_CORRUPT);
    ASSERT_MSG(strstr(n.err, "snapshot-") && strstr(n.err, "offset"), "message: %s", n.err);
    /* accept_loss falls back to no snapshot; the WAL still holds everything */
    ASSERT_EQ_INT(node_open(&n, WAL_FSYNC_ALWAYS, true, NULL), VX_OK);
    ASSERT_EQ_INT(n.sum.snapshot_lsn, 0);
    ASSERT(same_state(n.st, &want));
    node_close(&n, false);
    vx_buf_free(&want);
}

/* ---- validation, events ---- */

TEST(pers_invalid_write_logs_nothing)
{
    tu_reset();
    node n;
    ASSERT_EQ_INT(node_open(&n, WAL_FSYNC_ALWAYS, false, NULL), VX_OK);
    ASSERT_EQ_INT(create(&n, "v", 4, VX_METRIC_COSINE), VX_OK);
    wal_stats a, b;
    wal_get_stats(pers_wal(n.p), &a);
    ASSERT_EQ_INT(upsert(&n, "v", 5, "x", 0, 3, 1), VX_ERR_INVALID); /* wrong dimension */
    ASSERT_EQ_INT(upsert(&n, "nope", 4, "x", 0, 3, 1), VX_ERR_NOT_FOUND);
    ASSERT_EQ_INT(create(&n, "v", 5, VX_METRIC_COSINE), VX_ERR_CONFLICT);
    ASSERT_EQ_INT(create(&n, "v", 4, VX_METRIC_COSINE), VX_OK); /* idempotent: not logged */
    vx_reply rp;
    ASSERT_EQ_INT(del_filter(&n, "v", tv_obj(1, "i", tv_obj(1, "$bad", tv_int(1))), &rp),
                  VX_ERR_INVALID);
    wal_get_stats(pers_wal(n.p), &b);
    ASSERT_EQ_INT(b.records, a.records);
    ASSERT_EQ_INT(upsert(&n, "v", 4, "x", 0, 3, 1), VX_OK);
    wal_get_stats(pers_wal(n.p), &b);
    ASSERT_EQ_INT(b.records, a.records + 1);
    node_close(&n, false);
}

static int events_after(node *n, uint64_t after, uint32_t limit, vx_reply *rp)
{
    vx_request rq = {.type = VX_MSG_EVENTS_SINCE};
    rq.body.events.after_lsn = after;
    rq.body.events.limit = limit;
    return call(n, &rq, rp);
}

TEST(pers_events_since_match_the_log)
{
    tu_reset();
    node n;
    char url[4200];
    snprintf(url, sizeof url, "ipc://%s/ev.sock", vx_test_tmpdir());
    ASSERT_EQ_INT(node_open(&n, WAL_FSYNC_ALWAYS, false, url), VX_OK);
    vx_rpc_sub *sub;
    ASSERT_EQ_INT(vx_rpc_sub_open(&sub, url, VX_MAX_MSG_BYTES), VX_OK);
    usleep(100000); /* let the subscription connect (pub/sub drops before that) */
    vx_reply rp;
    ASSERT_EQ_INT(create(&n, "e", 2, VX_METRIC_DOT), VX_OK);
    uint64_t up_lsn;
    ASSERT_EQ_INT(upsert_in(&n, &tu_arena, "e", 2, "k", 0, 3, 1, &up_lsn), VX_OK);
    const char *ids[] = {"k1", "zz"};
    ASSERT_EQ_INT(del_ids(&n, "e", 2, ids, &rp), VX_OK);
    uint64_t del_lsn = rp.body.write.lsn;
    ASSERT_STR_EQ(rp.body.write.durability, "always");
    ASSERT_EQ_INT(drop(&n, "e"), VX_OK);

    ASSERT_EQ_INT(events_after(&n, 0, 100, &rp), VX_OK);
    vx_events_rep *e = &rp.body.events;
    ASSERT_EQ_INT(e->n_events, 4);
    ASSERT_STR_EQ(e->events[0].op, "coll_create");
    ASSERT_STR_EQ(e->events[1].op, "upsert");
    ASSERT_EQ_INT(e->events[1].lsn, up_lsn);
    ASSERT_EQ_INT(e->events[1].n_ids, 3);
    ASSERT_STR_EQ(e->events[1].ids[2], "k2");
    ASSERT_STR_EQ(e->events[2].op, "delete");
    ASSERT_EQ_INT(e->events[2].lsn, del_lsn);
    ASSERT_STR_EQ(e->events[2].ids[1], "zz");
    ASSERT_STR_EQ(e->events[3].op, "coll_delete");
    ASSERT_STR_EQ(e->events[3].collection, "e");
    ASSERT_EQ_INT(e->last_lsn, e->events[3].lsn);
    vx_event all[4];
    memcpy(all, e->events, sizeof all);
    /* paging: after the 2nd event, limit 1 → exactly the 3rd */
    ASSERT_EQ_INT(events_after(&n, up_lsn, 1, &rp), VX_OK);
    ASSERT_EQ_INT(rp.body.events.n_events, 1);
    ASSERT_EQ_INT(rp.body.events.events[0].lsn, del_lsn);
    /* the PUB socket carried the same four, in order (one writer) */
    for (int i = 0; i < 4; i++) {
        vx_buf m = VX_BUF_INIT;
        ASSERT_EQ_INT(vx_rpc_sub_recv(sub, 2000, &m), VX_OK);
        vx_reply ev;
        ASSERT_EQ_INT(vx_proto_decode_reply(m.data, m.len, &tu_arena, &ev, NULL, 0), VX_OK);
        vx_buf_free(&m);
        ASSERT_EQ_INT(ev.type, VX_MSG_EVENTS_SINCE);
        ASSERT_EQ_INT(ev.body.events.n_events, 1);
        ASSERT_EQ_INT(ev.body.events.events[0].lsn, all[i].lsn);
        ASSERT_STR_EQ(ev.body.events.events[0].op, all[i].op);
    }
    vx_rpc_sub_close(sub);
    /* two snapshots truncate the log: an old cursor is refused as too old */
    ASSERT_EQ_INT(create(&n, "f", 2, VX_METRIC_DOT), VX_OK);
    ASSERT_EQ_INT(snapshotter_take(n.sn, NULL), VX_OK);
    ASSERT_EQ_INT(upsert(&n, "f", 2, "k", 0, 3, 1), VX_OK);
    ASSERT_EQ_INT(snapshotter_take(n.sn, NULL), VX_OK);
    ASSERT_EQ_INT(upsert(&n, "f", 2, "k", 0, 3, 2), VX_OK);
    ASSERT_EQ_INT(snapshotter_take(n.sn, NULL), VX_OK);
    ASSERT_EQ_INT(events_after(&n, 0, 100, &rp), VX_ERR_NOT_FOUND);
    ASSERT_MSG(strstr(rp.err_message, "too old"), "message: %s", rp.err_message);
    node_close(&n, false);
}

/* ---- crash: fork, write, SIGKILL at a random moment, recover ---- */

TEST(pers_kill9_keeps_every_acknowledged_write)
{
    tu_reset();
    (void)vx_test_tmpdir(); /* create it here, so parent and child share it */
    int fds[2];
    ASSERT_EQ_INT(pipe(fds), 0);
    pid_t pid = fork();
    ASSERT(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        node n;
        if (node_open(&n, WAL_FSYNC_ALWAYS, false, NULL) || create(&n, "k", 8, VX_METRIC_COSINE))
            _exit(3);
        if (write(fds[1], "c", 1) != 1)
            _exit(4);
        vx_arena a;
        vx_arena_init(&a, 1 << 16);
        for (uint32_t i = 0;; i++) {
            if (upsert_in(&n, &a, "k", 8, "p", i, 1, i + 1, NULL))
                _exit(5);
            uint32_t le = i;
            if (write(fds[1], &le, 4) != 4) /* acknowledged: tell the parent */
                _exit(6);
            vx_arena_reset(&a);
        }
    }
    close(fds[1]);
    char c;
    ASSERT_EQ_INT(read(fds[0], &c, 1), 1);
    usleep(150000);
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    uint32_t acked = 0, v;
    int got = 0;
    while (read(fds[0], &v, 4) == 4) {
        acked = v + 1;
        got++;
    }
    close(fds[0]);
    ASSERT(got > 0);
    node n;
    ASSERT_EQ_INT(node_open(&n, WAL_FSYNC_ALWAYS, false, NULL), VX_OK);
    store_ref *r;
    ASSERT_EQ_INT(store_acquire(n.st, "k", false, &r), VX_OK);
    uint64_t count = coll_count(store_ref_coll(r));
    store_release(r);
    ASSERT_MSG(count >= acked, "recovered %llu points, %u were acknowledged",
               (unsigned long long)count, acked);
    ASSERT(count <= acked + 1); /* at most the one in flight */
    node_close(&n, false);
}
