/*
 * hnsw_v1_test.c — graphs saved before quantisation (hnsw_persist.c format
 * version 1: float32 vectors in the node records) must still load, with
 * their vectors quantised on the way in and the graph kept as it was:
 *  - a blob written by the old code itself (V1_TINY below), searched
 *    exhaustively against brute force with exact re-ranked distances, then
 *    saved as version 2 and loaded again; truncations and a NaN component
 *    behind a valid checksum are rejected;
 *  - the version 1 image of a freshly built graph (its version 2 save with
 *    the float rows put back in place of the codes) loads to an index whose
 *    save is byte-identical to the original's.
 */
#include "hnsw.h"
#include "distance.h"
#include "vx_buf.h"
#include "vx_crc32c.h"
#include "vx_err.h"
#include "vx_log.h"
#include "vx_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* Written by the pre-quantisation hnsw_save (format version 1) from:
 *
 *     hnsw_create(&ix, 3, HNSW_SPACE_L2, 2, 8, 77);
 *     for i in 0..23: hnsw_insert(ix, i, tiny_vec(i));
 *     hnsw_remove(ix, 5);
 *     hnsw_insert(ix, 9, tiny_vec(30));     (replaces label 9)
 *
 * 25 nodes (two tombstones), 23 live labels, upper layers (m = 2 makes
 * many). Never regenerate it: it stands for files the old version wrote. */
#define V1_TINY_BYTES 2032
static const char V1_TINY_HEX[] =
    "5658484e535749580100000001000000030000000200000008000000400000001900000011000000"
    "05000000170000004d0000000000000066000000000000004b000000000000000000000000000000"
    "00000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "00000000000000000000000000000000000000000100000001000000000000000000000000000000"
    "000040c0000000000000000000000000000000000000000000000000000000000100000003000000"
    "000000000300000000000000020000000700000000000000000000c00000003f0000803e00000000"
    "00000000000000000000000000000000020000000200000000000000030000000100000003000000"
    "0800000000000000000080bf0000803f0000003f0000000000000000000000000000000000000000"
    "0300000000000000000000000300000002000000040000000900000000000000000000000000c03f"
    "0000403f000000000000000000000000000000000000000004000000010000000000000002000000"
    "030000000500000000000000000000000000803f000000400000803f000000000000000000000000"
    "00000000000000000500000000010000000000000400000004000000060000000a0000000b000000"
    "00000040000000000000a03f00000000000000000000000000000000000000000600000003000000"
    "0000000003000000050000000c0000001400000000000000000040400000003f0000c03f00000000"
    "00000000000000000000000000000000070000000000000000000000020000000100000008000000"
    "0000000000000000000040c00000803f0000e03f0000000000000000000000000000000000000000"
    "080000000000000000000000040000000700000002000000090000000e000000000000c00000c03f"
    "00000040000000000000000000000000000000000000000009000000020100000000000003000000"
    "08000000030000000a00000000000000000080bf0000004000001040000000000000000000000000"
    "00000000000000000a0000000100000000000000030000000b00000010000000090000000f000000"
    "00000000000000000000204000000000000000000000000000000000000000000b00000001000000"
    "00000000040000000a000000050000000c000000110000000000803f0000003f0000304000000000"
    "000000000000000000000000000000000c0000000000000000000000040000000b00000006000000"
    "0d00000012000000000000400000803f000040400000000000000000000000000000000000000000"
    "0d0000000000000000000000020000000c000000130000000000000000000000000040400000c03f"
    "0000504000000000000000000000000000000000000000000e000000010000000000000002000000"
    "080000000f0000000000000000000000000040c00000004000006040000000000000000000000000"
    "00000000000000000f0000000000000000000000040000000e0000000a0000001000000015000000"
    "000000c0000000000000704000000000000000000000000000000000000000001000000000000000"
    "00000000040000000f0000000a0000001100000016000000000080bf0000003f0000804000000000"
    "0000000000000000000000000000000011000000050000000000000004000000100000000b000000"
    "1200000017000000000000000000803f000088400000000000000000000000000000000000000000"
    "12000000000000000000000003000000110000000c00000013000000000000000000803f0000c03f"
    "00009040000000000000000000000000000000000000000013000000020000000000000003000000"
    "120000000d0000001400000000000000000000400000004000009840000000000000000000000000"
    "00000000000000001400000000000000000000000200000013000000060000000000000000000000"
    "00004040000000000000a04000000000000000000000000000000000000000001500000001000000"
    "00000000020000000f000000160000000000000000000000000040c00000003f0000a84000000000"
    "00000000000000000000000000000000160000000100000000000000030000001500000010000000"
    "1700000000000000000000c00000803f0000b0400000000000000000000000000000000000000000"
    "1700000002000000000000000300000016000000110000001800000000000000000080bf0000c03f"
    "0000b840000000000000000000000000000000000000000009000000000000000000000001000000"
    "17000000000000000000000000000000000080bf000000000000f040000000000000000000000000"
    "00000000000000000100000002000000000000000100000002000000000000000200000006000000"
    "1100000002000000010000000900000002000000010000000900000002000000020000000b000000"
    "01000000040000000000000002000000130000000200000002000000010000001100000002000000"
    "020000000a00000002000000020000001100000002000000090000000b000000020000000a000000"
    "11000000010000000900000000000000020000000b00000017000000020000001700000013000000"
    "02000000060000000100000000000000000000000000000000000000000000000000000001000000"
    "11000000000000000200000011000000060000000100000011000000000000000100000011000000"
    "00000000010000001100000000000000010000001100000000000000f8485505";

static void tiny_vec(uint32_t i, float *v)
{
    v[0] = (float)(i % 7) - 3.0f;
    v[1] = (float)(i % 5) * 0.5f;
    v[2] = (float)i * 0.25f;
}

static void reseal(unsigned char *p, size_t len)
{
    uint32_t crc = vx_crc32c(0, p, len - 4);
    memcpy(p + len - 4, &crc, 4);
}

TEST(hnsw_loads_version1_blob)
{
    unsigned char blob[V1_TINY_BYTES];
    for (size_t i = 0; i < V1_TINY_BYTES; i++) {
        unsigned x;
        sscanf(V1_TINY_HEX + 2 * i, "%2x", &x);
        blob[i] = (unsigned char)x;
    }
    hnsw_index *ix = NULL;
    ASSERT_EQ_INT(hnsw_load(&ix, blob, sizeof blob, UINT32_MAX), 0);
    ASSERT_EQ_INT(hnsw_count(ix), 23);
    ASSERT_EQ_INT(hnsw_node_count(ix), 25);
    ASSERT(!hnsw_contains(ix, 5) && hnsw_contains(ix, 9) && hnsw_contains(ix, 23));
    float pts[24][3];
    for (uint32_t i = 0; i < 24; i++)
        tiny_vec(i == 9 ? 30 : i, pts[i]);
    hnsw_rows src = {&pts[0][0], 3};
    /* k = everything: the search is exhaustive, so it must equal brute force */
    for (uint32_t qi = 0; qi < 24; qi++) {
        float q[3];
        tiny_vec(qi * 5 + 1, q);
        uint32_t lab[30], n = 0;
        float d[30];
        ASSERT_EQ_INT(hnsw_search(ix, q, 30, 30, NULL, NULL, hnsw_rows_vector, &src, lab, d, &n), 0);
        ASSERT_EQ_INT(n, 23);
        for (uint32_t i = 0; i < n; i++) {
            ASSERT(lab[i] != 5 && lab[i] < 24);
            ASSERT(d[i] == dist_l2sq(q, pts[lab[i]], 3));
            ASSERT(i == 0 || d[i - 1] <= d[i]);
        }
    }
    /* it saves as the current version, which loads to the same graph */
    vx_buf b = VX_BUF_INIT;
    ASSERT_EQ_INT(hnsw_save(ix, &b), 0);
    uint32_t ver;
    memcpy(&ver, b.data + 8, 4);
    ASSERT_EQ_INT(ver, 2);
    hnsw_index *ix2 = NULL;
    ASSERT_EQ_INT(hnsw_load(&ix2, b.data, b.len, UINT32_MAX), 0);
    ASSERT_EQ_INT(hnsw_count(ix2), 23);
    ASSERT_EQ_INT(hnsw_insert(ix2, 5, pts[5]), 0); /* and accepts writes */
    ASSERT_EQ_INT(hnsw_count(ix2), 24);
    hnsw_destroy(ix2);
    hnsw_destroy(ix);
    vx_buf_free(&b);
    /* damaged version 1 input is rejected like any other */
    hnsw_index *out = NULL;
    vx_log_set_level(VX_LOG_ERROR);
    for (size_t len = 0; len < sizeof blob; len += 37)
        ASSERT_EQ_INT(hnsw_load(&out, blob, len, UINT32_MAX), VX_ERR_CORRUPT);
    float nan = NAN;
    memcpy(blob + 128 + 4 * 64 + 16 + 4 * 4 + 4, &nan, 4); /* node 4, component 1 */
    reseal(blob, sizeof blob);
    ASSERT_EQ_INT(hnsw_load(&out, blob, sizeof blob, UINT32_MAX), VX_ERR_CORRUPT);
    vx_log_set_level(VX_LOG_INFO);
    ASSERT(out == NULL);
}

#define N 3000
#define DIM 20
#define M 8

TEST(hnsw_loads_version1_image_of_a_fresh_graph)
{
    float *base = malloc(sizeof(float) * N * DIM);
    uint64_t x = 88172645463325252ull;
    for (size_t i = 0; i < (size_t)N * DIM; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        base[i] = (float)((double)(x >> 11) / (double)(1ull << 53)) - 0.5f;
    }
    hnsw_index *ix = NULL;
    ASSERT_EQ_INT(hnsw_create(&ix, DIM, HNSW_SPACE_IP, M, 40, 3), 0);
    for (uint32_t i = 0; i < N; i++)
        ASSERT_EQ_INT(hnsw_insert(ix, i, base + (size_t)i * DIM), 0);
    for (uint32_t i = 0; i < N; i += 9)
        ASSERT_EQ_INT(hnsw_remove(ix, i), 0);
    vx_buf b = VX_BUF_INIT, v1 = VX_BUF_INIT, again = VX_BUF_INIT;
    ASSERT_EQ_INT(hnsw_save(ix, &b), 0);
    /* version 2 records -> version 1 records: links kept, float row in place
     * of codes + lo/scale, stride round64(16 + 4·m0 + 4·dim) */
    uint32_t stride, n, one = 1;
    memcpy(&stride, b.data + 28, 4);
    memcpy(&n, b.data + 32, 4);
    size_t links = 16 + 4 * 2 * M, stride1 = (links + 4 * DIM + 63) & ~(size_t)63;
    vx_buf_append(&v1, b.data, 128);
    memcpy(v1.data + 8, &one, 4);
    uint32_t s1 = (uint32_t)stride1;
    memcpy(v1.data + 28, &s1, 4);
    unsigned char *rec = malloc(stride1);
    for (uint32_t id = 0; id < n; id++) {
        const unsigned char *r2 = b.data + 128 + (size_t)id * stride;
        uint32_t label;
        memcpy(&label, r2, 4);
        memset(rec, 0, stride1);
        memcpy(rec, r2, links);
        memcpy(rec + links, base + (size_t)label * DIM, DIM * sizeof(float));
        vx_buf_append(&v1, rec, stride1);
    }
    size_t tail = 128 + (size_t)n * stride;
    vx_buf_append(&v1, b.data + tail, b.len - tail); /* upper layers + crc */
    reseal(v1.data, v1.len);
    hnsw_index *ix1 = NULL;
    ASSERT_EQ_INT(hnsw_load(&ix1, v1.data, v1.len, UINT32_MAX), 0);
    ASSERT_EQ_INT(hnsw_count(ix1), hnsw_count(ix));
    ASSERT_EQ_INT(hnsw_save(ix1, &again), 0);
    ASSERT_EQ_INT(again.len, b.len);
    ASSERT(memcmp(again.data, b.data, b.len) == 0); /* same codes, same graph */
    /* and searches agree */
    hnsw_rows src = {base, DIM};
    for (uint32_t qi = 1; qi < N; qi += 97) {
        uint32_t l1[10], l2[10], n1, n2;
        float d1[10], d2[10];
        const float *q = base + (size_t)qi * DIM;
        ASSERT_EQ_INT(hnsw_search(ix, q, 10, 32, NULL, NULL, hnsw_rows_vector, &src, l1, d1, &n1), 0);
        ASSERT_EQ_INT(hnsw_search(ix1, q, 10, 32, NULL, NULL, hnsw_rows_vector, &src, l2, d2, &n2), 0);
        ASSERT(n1 == 10 && n1 == n2 && !memcmp(l1, l2, sizeof l1) && !memcmp(d1, d2, sizeof d1));
    }
    free(rec);
    hnsw_destroy(ix1);
    hnsw_destroy(ix);
    vx_buf_free(&b);
    vx_buf_free(&v1);
    vx_buf_free(&again);
    free(base);
}
