/*
 * use_lite.c — loader and forward pass of the built-in USE-lite model
 * (see use_lite.h; file format in scripts/convert_use_lite.py).
 *
 * Invariants: after use_lite_load succeeds every weight pointer points into
 * the read-only mapping at a section whose shape was checked, so the
 * forward pass does no bounds checks on weights. Token ids come from the
 * tokenizer and are < n_pieces ≤ the embedding rows (checked at load).
 *
 * Batching: the texts of one call are tokenised, then processed in chunks
 * of whole texts holding at most CHUNK_TOKENS tokens; the dense layers run
 * as one matrix product over all tokens of a chunk, attention and pooling
 * per text. All scratch is allocated per call (thread safety).
 */
#include "use_lite.h"

#include <cblas.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vx_err.h"

#define FILE_MAGIC "VXUSELT"
#define FILE_VERSION 1u
#define HEADER_BYTES 64u
#define ENTRY_BYTES 128u
#define NAME_BYTES 80u
#define DT_F32 1u
#define DT_U32 2u
#define DT_BYTES 3u
#define DT_F64 4u
#define CHUNK_TOKENS 1024
#define N_HEADS 4
#define D_EMB 256
#define D_MODEL 512
#define D_FFN 1536
#define LN_EPS 1e-6

typedef struct layer_w {
    const float *ln1_s, *ln1_b, *qkv_w, *qkv_b, *q_scale, *out_w, *out_b;
    const float *ln2_s, *ln2_b, *ffn1_w, *ffn1_b, *ffn2_w, *ffn2_b;
    int d; /* attention width: 256 for layer 0, 512 for layer 1 */
} layer_w;

struct use_lite_model {
    void *map;
    size_t map_len;
    char unicode[17];
    const float *emb; /* [n_emb, 256] */
    uint32_t n_emb;
    const float *timing_inv; /* [128] */
    const float *dense_w, *dense_b;
    const float *pool_w, *pool_b;
    layer_w layer[2];
    use_lite_tokenizer *tok;
};

/* ---- loading ----------------------------------------------------------------- */

typedef struct section {
    char name[NAME_BYTES + 1];
    uint32_t dtype, ndim, shape[4];
    uint64_t offset, nbytes;
} section;

static uint32_t rd32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const unsigned char *p)
{
    return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static void seterr(char *err, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t len, const char *fmt, ...)
{
    if (!err || !len)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
}

typedef struct loader {
    const unsigned char *base;
    size_t len;
    section *secs;
    uint32_t n;
    char *err;
    size_t err_len;
} loader;

/* Finds section name with dtype and exact shape (dims ≤ 0 are wildcards,
 * reported through got). */
static const void *need(loader *L, const char *name, uint32_t dtype, uint32_t ndim, const int64_t *dims,
                        uint32_t *got)
{
    for (uint32_t i = 0; i < L->n; i++) {
        const section *s = &L->secs[i];
        if (strcmp(s->name, name) != 0)
            continue;
        if (s->dtype != dtype || s->ndim != ndim) {
            seterr(L->err, L->err_len, "use-lite model: section %s has dtype %u ndim %u, expected %u/%u",
                   name, s->dtype, s->ndim, dtype, ndim);
            return NULL;
        }
        for (uint32_t k = 0; k < ndim; k++) {
            if (dims[k] > 0 && s->shape[k] != (uint64_t)dims[k]) {
                seterr(L->err, L->err_len, "use-lite model: section %s dim %u is %u, expected %lld",
                       name, k, s->shape[k], (long long)dims[k]);
                return NULL;
            }
            if (got)
                got[k] = s->shape[k];
        }
        return L->base + s->offset;
    }
    seterr(L->err, L->err_len, "use-lite model: section %s is missing", name);
    return NULL;
}

static const float *need_f32(loader *L, const char *name, int64_t d0, int64_t d1)
{
    int64_t dims[2] = {d0, d1};
    return need(L, name, DT_F32, d1 ? 2 : 1, dims, NULL);
}

static int parse_sections(loader *L)
{
    const unsigned char *b = L->base;
    if (L->len < HEADER_BYTES || memcmp(b, FILE_MAGIC, 8) != 0) {
        seterr(L->err, L->err_len, "use-lite model: bad magic (not a converted use-lite file)");
        return VX_ERR_CORRUPT;
    }
    uint32_t version = rd32(b + 8), n = rd32(b + 12);
    uint64_t fsize = rd64(b + 16), table = rd64(b + 24);
    if (version != FILE_VERSION) {
        seterr(L->err, L->err_len, "use-lite model: version %u, this build reads %u (re-run scripts/fetch-model.sh)",
               version, FILE_VERSION);
        return VX_ERR_CORRUPT;
    }
    if (fsize != L->len || n == 0 || n > 4096 || table < HEADER_BYTES || table > L->len ||
        (uint64_t)n * ENTRY_BYTES > L->len - table) {
        seterr(L->err, L->err_len, "use-lite model: header size fields do not match the file (%zu bytes)",
               L->len);
        return VX_ERR_CORRUPT;
    }
    L->secs = calloc(n, sizeof *L->secs);
    if (!L->secs)
        return VX_ERR_NOMEM;
    L->n = n;
    static const uint32_t elsize[] = {0, 4, 4, 1, 8};
    for (uint32_t i = 0; i < n; i++) {
        const unsigned char *e = b + table + (uint64_t)i * ENTRY_BYTES;
        section *s = &L->secs[i];
        memcpy(s->name, e, NAME_BYTES);
        s->name[NAME_BYTES] = 0;
        s->dtype = rd32(e + 80);
        s->ndim = rd32(e + 84);
        for (int k = 0; k < 4; k++)
            s->shape[k] = rd32(e + 88 + 4 * k);
        s->offset = rd64(e + 104);
        s->nbytes = rd64(e + 112);
        if (memchr(e, 0, NAME_BYTES) == NULL || s->dtype == 0 || s->dtype > DT_F64 || s->ndim > 4) {
            seterr(L->err, L->err_len, "use-lite model: section entry %u is malformed", i);
            return VX_ERR_CORRUPT;
        }
        uint64_t count = 1;
        bool overflow = false;
        for (uint32_t k = 0; k < s->ndim; k++)
            overflow |= __builtin_mul_overflow(count, (uint64_t)s->shape[k], &count);
        if (overflow || s->offset % 64 || s->offset > L->len || s->nbytes > L->len - s->offset ||
            count > L->len || count * elsize[s->dtype] != s->nbytes) {
            seterr(L->err, L->err_len, "use-lite model: section %s is out of bounds or mis-sized", s->name);
            return VX_ERR_CORRUPT;
        }
    }
    return VX_OK;
}

static int bind_layer(loader *L, layer_w *w, int idx)
{
    char nm[64];
    int d = idx == 0 ? D_EMB : D_MODEL;
    w->d = d;
#define F32(field, suffix, d0, d1)                                \
    do {                                                          \
        snprintf(nm, sizeof nm, "l%d.%s", idx, suffix);           \
        if (!(w->field = need_f32(L, nm, (d0), (d1))))            \
            return VX_ERR_CORRUPT;                                \
    } while (0)
    F32(ln1_s, "ln1.scale", d, 0);
    F32(ln1_b, "ln1.bias", d, 0);
    F32(qkv_w, "qkv.w", d, 3 * d);
    F32(qkv_b, "qkv.b", 3 * d, 0);
    F32(q_scale, "q_scale", 1, 0);
    F32(out_w, "out.w", d, D_MODEL);
    F32(out_b, "out.b", D_MODEL, 0);
    F32(ln2_s, "ln2.scale", D_MODEL, 0);
    F32(ln2_b, "ln2.bias", D_MODEL, 0);
    F32(ffn1_w, "ffn1.w", D_MODEL, D_FFN);
    F32(ffn1_b, "ffn1.b", D_FFN, 0);
    F32(ffn2_w, "ffn2.w", D_FFN, D_MODEL);
    F32(ffn2_b, "ffn2.b", D_MODEL, 0);
#undef F32
    return VX_OK;
}

int use_lite_load(use_lite_model **out, const char *path, char *err, size_t err_len)
{
    *out = NULL;
    seterr(err, err_len, "ok");
    int rc = VX_ERR_NOMEM;
    loader L = {0};
    L.err = err;
    L.err_len = err_len;
    use_lite_model *m = calloc(1, sizeof *m);
    if (!m)
        return VX_ERR_NOMEM;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || st.st_size <= 0) {
        seterr(err, err_len, "use-lite model: cannot open %s (run scripts/fetch-model.sh)", path);
        rc = VX_ERR_IO;
        goto fail;
    }
    m->map_len = (size_t)st.st_size;
    m->map = mmap(NULL, m->map_len, PROT_READ, MAP_PRIVATE, fd, 0);
    if (m->map == MAP_FAILED) {
        m->map = NULL;
        seterr(err, err_len, "use-lite model: cannot map %s", path);
        rc = VX_ERR_IO;
        goto fail;
    }
    (void)madvise(m->map, m->map_len, MADV_WILLNEED); /* read ahead: first request not cold */
    L.base = m->map;
    L.len = m->map_len;
    if ((rc = parse_sections(&L)) != VX_OK)
        goto fail;
    memcpy(m->unicode, L.base + 32, 16);
    m->unicode[16] = 0;

    rc = VX_ERR_CORRUPT;
    uint32_t got[2];
    int64_t emb_dims[2] = {0, D_EMB};
    if (!(m->emb = need(&L, "embeddings", DT_F32, 2, emb_dims, got)))
        goto fail;
    m->n_emb = got[0];
    if (!(m->timing_inv = need_f32(&L, "timing_inv", D_EMB / 2, 0)) ||
        !(m->dense_w = need_f32(&L, "l0.dense.w", D_EMB, D_MODEL)) ||
        !(m->dense_b = need_f32(&L, "l0.dense.b", D_MODEL, 0)) ||
        !(m->pool_w = need_f32(&L, "pool.w", D_MODEL, D_MODEL)) ||
        !(m->pool_b = need_f32(&L, "pool.b", D_MODEL, 0)))
        goto fail;
    if (bind_layer(&L, &m->layer[0], 0) != VX_OK || bind_layer(&L, &m->layer[1], 1) != VX_OK)
        goto fail;

    use_lite_tables t;
    int64_t any1[1] = {0}, rows2[2] = {0, 2}, rows3[2] = {0, 3};
    uint32_t n_sc, n_off, n_pool, n_dec[2], n_dp, n_ccc[2], n_comp[2];
    if (!(t.scores = need(&L, "vocab.scores", DT_F64, 1, any1, &n_sc)) ||
        !(t.offsets = need(&L, "vocab.offsets", DT_U32, 1, any1, &n_off)) ||
        !(t.pool = need(&L, "vocab.pool", DT_BYTES, 1, any1, &n_pool)) ||
        !(t.decomp = need(&L, "nfkc.decomp", DT_U32, 2, rows3, n_dec)) ||
        !(t.decomp_pool = need(&L, "nfkc.pool", DT_U32, 1, any1, &n_dp)) ||
        !(t.ccc = need(&L, "nfkc.ccc", DT_U32, 2, rows2, n_ccc)) ||
        !(t.comp = need(&L, "nfkc.comp", DT_U32, 2, rows3, n_comp)))
        goto fail;
    if (n_off != n_sc + 1 || n_sc > m->n_emb) {
        seterr(err, err_len, "use-lite model: vocabulary (%u pieces) does not fit the embeddings (%u rows)",
               n_sc, m->n_emb);
        goto fail;
    }
    t.n_pieces = n_sc;
    t.n_decomp = n_dec[0];
    t.n_decomp_pool = n_dp;
    t.n_ccc = n_ccc[0];
    t.n_comp = n_comp[0];
    const uint32_t *offs = t.offsets;
    if (offs[n_sc] > n_pool) {
        seterr(err, err_len, "use-lite model: vocabulary offsets point past the piece pool");
        goto fail;
    }
    rc = use_lite_tokenizer_create(&m->tok, &t);
    if (rc != VX_OK) {
        seterr(err, err_len, "use-lite model: vocabulary or normalisation tables are invalid");
        goto fail;
    }
    close(fd);
    free(L.secs);
    *out = m;
    return VX_OK;
fail:
    if (fd >= 0)
        close(fd);
    free(L.secs);
    use_lite_destroy(m);
    return rc;
}

void use_lite_destroy(use_lite_model *m)
{
    if (!m)
        return;
    use_lite_tokenizer_destroy(m->tok);
    if (m->map)
        munmap(m->map, m->map_len);
    free(m);
}

const use_lite_tokenizer *use_lite_get_tokenizer(const use_lite_model *m)
{
    return m->tok;
}

const char *use_lite_unicode_version(const use_lite_model *m)
{
    return m->unicode;
}

void use_lite_set_blas_threads(int n)
{
    openblas_set_num_threads(n);
}

/* ---- forward pass -------------------------------------------------------------- */

/* C[rows, n] = A[rows, k] · W[k, n] + bias (beta_keep: add to C instead) */
static void dense(const float *A, int rows, int k, const float *W, const float *bias, int n, float *C,
                  bool accumulate)
{
    if (!accumulate)
        for (int r = 0; r < rows; r++)
            memcpy(C + (size_t)r * n, bias, sizeof(float) * (size_t)n);
    else
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < n; j++)
                C[(size_t)r * n + j] += bias[j];
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, n, k, 1.0f, A, k, W, n, 1.0f, C, n);
}

static void layer_norm(const float *x, int rows, int d, const float *scale, const float *bias, float *y)
{
    for (int r = 0; r < rows; r++) {
        const float *xr = x + (size_t)r * d;
        float *yr = y + (size_t)r * d;
        double mean = 0, var = 0;
        for (int j = 0; j < d; j++)
            mean += xr[j];
        mean /= d;
        for (int j = 0; j < d; j++)
            var += (xr[j] - mean) * (xr[j] - mean);
        var /= d;
        double inv = 1.0 / sqrt(var + LN_EPS);
        for (int j = 0; j < d; j++)
            yr[j] = (float)(scale[j] * ((xr[j] - mean) * inv)) + bias[j];
    }
}

typedef struct scratch {
    float *x0;   /* [T, 256] layer-0 input */
    float *h;    /* [T, 512] normalised input */
    float *qkv;  /* [T, 1536] */
    float *att;  /* [T, 512] attention output before projection */
    float *y;    /* [T, 512] residual stream */
    float *f;    /* [T, 1536] FFN hidden */
    float *s;    /* [128, 128] attention scores */
} scratch;

/* Multi-head self-attention of one text (rows [start, start+len)). */
static void attention(const layer_w *w, const float *qkv, int start, int len, float *att, float *s)
{
    int d = w->d, hd = d / N_HEADS, ld = 3 * d;
    for (int hh = 0; hh < N_HEADS; hh++) {
        const float *q = qkv + (size_t)start * ld + hh * hd;
        const float *k = q + d, *v = q + 2 * d;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, len, len, hd, w->q_scale[0], q, ld, k, ld,
                    0.0f, s, len);
        for (int r = 0; r < len; r++) {
            float *row = s + (size_t)r * len, mx = row[0];
            for (int j = 1; j < len; j++)
                mx = row[j] > mx ? row[j] : mx;
            double sum = 0;
            for (int j = 0; j < len; j++) {
                row[j] = expf(row[j] - mx);
                sum += row[j];
            }
            float inv = (float)(1.0 / sum);
            for (int j = 0; j < len; j++)
                row[j] *= inv;
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, len, hd, len, 1.0f, s, len, v, ld, 0.0f,
                    att + (size_t)start * d + hh * hd, d);
    }
}

static void ffn(const layer_w *w, int T, scratch *sc)
{
    layer_norm(sc->y, T, D_MODEL, w->ln2_s, w->ln2_b, sc->h);
    dense(sc->h, T, D_MODEL, w->ffn1_w, w->ffn1_b, D_FFN, sc->f, false);
    for (size_t i = 0; i < (size_t)T * D_FFN; i++)
        sc->f[i] = sc->f[i] > 0 ? sc->f[i] : 0;
    dense(sc->f, T, D_FFN, w->ffn2_w, w->ffn2_b, D_MODEL, sc->y, true);
}

/* Runs the encoder on a chunk of texts; writes n_texts pooled+normalised rows. */
static void encode_chunk(const use_lite_model *m, int32_t *const *ids, const size_t *n_ids, size_t n_texts,
                         scratch *sc, float *out)
{
    int T = 0;
    for (size_t t = 0; t < n_texts; t++) {
        for (size_t p = 0; p < n_ids[t]; p++) {
            const float *e = m->emb + (size_t)ids[t][p] * D_EMB;
            float *x = sc->x0 + (size_t)(T + p) * D_EMB;
            for (int j = 0; j < D_EMB / 2; j++) {
                float ang = (float)p * m->timing_inv[j];
                x[j] = 2.0f * e[j] + sinf(ang);
                x[j + D_EMB / 2] = 2.0f * e[j + D_EMB / 2] + cosf(ang);
            }
        }
        T += (int)n_ids[t];
    }
    if (T > 0) {
        /* layer 0: attention at 256-d, projected to 512 plus the dense branch */
        const layer_w *w0 = &m->layer[0], *w1 = &m->layer[1];
        layer_norm(sc->x0, T, D_EMB, w0->ln1_s, w0->ln1_b, sc->h);
        dense(sc->h, T, D_EMB, w0->qkv_w, w0->qkv_b, 3 * D_EMB, sc->qkv, false);
        for (size_t t = 0, st = 0; t < n_texts; st += n_ids[t], t++)
            if (n_ids[t])
                attention(w0, sc->qkv, (int)st, (int)n_ids[t], sc->att, sc->s);
        dense(sc->att, T, D_EMB, w0->out_w, w0->out_b, D_MODEL, sc->y, false);
        dense(sc->x0, T, D_EMB, m->dense_w, m->dense_b, D_MODEL, sc->y, true);
        ffn(w0, T, sc);
        /* layer 1 */
        layer_norm(sc->y, T, D_MODEL, w1->ln1_s, w1->ln1_b, sc->h);
        dense(sc->h, T, D_MODEL, w1->qkv_w, w1->qkv_b, 3 * D_MODEL, sc->qkv, false);
        for (size_t t = 0, st = 0; t < n_texts; st += n_ids[t], t++)
            if (n_ids[t])
                attention(w1, sc->qkv, (int)st, (int)n_ids[t], sc->att, sc->s);
        dense(sc->att, T, D_MODEL, w1->out_w, w1->out_b, D_MODEL, sc->y, true);
        ffn(w1, T, sc);
    }
    /* mean pooling (sc->h reused as [n_texts, 512]) */
    float *pooled = sc->h;
    for (size_t t = 0, st = 0; t < n_texts; st += n_ids[t], t++) {
        float *pr = pooled + t * D_MODEL;
        for (int j = 0; j < D_MODEL; j++) {
            double acc = 0;
            for (size_t p = 0; p < n_ids[t]; p++)
                acc += sc->y[(st + p) * D_MODEL + j];
            pr[j] = n_ids[t] ? (float)(acc / (double)n_ids[t]) : 0.0f;
        }
    }
    dense(pooled, (int)n_texts, D_MODEL, m->pool_w, m->pool_b, D_MODEL, out, false);
    for (size_t t = 0; t < n_texts; t++) {
        float *o = out + t * D_MODEL;
        double ss = 0;
        for (int j = 0; j < D_MODEL; j++) {
            o[j] = tanhf(o[j]);
            ss += (double)o[j] * o[j];
        }
        double inv = 1.0 / sqrt(ss > 1e-12 ? ss : 1e-12);
        for (int j = 0; j < D_MODEL; j++)
            o[j] = (float)(o[j] * inv);
    }
}

int use_lite_embed(const use_lite_model *m, const char *const *texts, size_t n, float *out)
{
    if (n == 0)
        return VX_OK;
    for (size_t i = 0; i < n; i++)
        if (!texts[i])
            return VX_ERR_INVALID;
    int rc = VX_ERR_NOMEM;
    int32_t **ids = calloc(n, sizeof *ids);
    size_t *n_ids = calloc(n, sizeof *n_ids);
    scratch sc = {0};
    if (!ids || !n_ids)
        goto done;
    for (size_t i = 0; i < n; i++) {
        if ((rc = use_lite_tokenize(m->tok, texts[i], strlen(texts[i]), &ids[i], &n_ids[i])) != VX_OK)
            goto done;
        if (n_ids[i] > USE_LITE_MAX_TOKENS)
            n_ids[i] = USE_LITE_MAX_TOKENS;
        for (size_t p = 0; p < n_ids[i]; p++)
            if (ids[i][p] < 0 || (uint32_t)ids[i][p] >= m->n_emb) {
                rc = VX_ERR_INTERNAL;
                goto done;
            }
    }
    /* scratch rows: the batch's tokens, at most CHUNK_TOKENS (≥ USE_LITE_MAX_TOKENS, so every
     * text fits in one chunk) */
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += n_ids[i];
    size_t cap = total < CHUNK_TOKENS ? (total ? total : 1) : CHUNK_TOKENS;
    rc = VX_ERR_NOMEM;
    sc.x0 = malloc(sizeof(float) * cap * D_EMB);
    sc.h = malloc(sizeof(float) * (cap > n ? cap : n) * D_MODEL);
    sc.qkv = malloc(sizeof(float) * cap * 3 * D_MODEL);
    sc.att = malloc(sizeof(float) * cap * D_MODEL);
    sc.y = malloc(sizeof(float) * cap * D_MODEL);
    sc.f = malloc(sizeof(float) * cap * D_FFN);
    sc.s = malloc(sizeof(float) * USE_LITE_MAX_TOKENS * USE_LITE_MAX_TOKENS);
    if (!sc.x0 || !sc.h || !sc.qkv || !sc.att || !sc.y || !sc.f || !sc.s)
        goto done;
    for (size_t first = 0; first < n;) {
        size_t last = first, tokens = 0;
        while (last < n && tokens + n_ids[last] <= cap)
            tokens += n_ids[last++];
        encode_chunk(m, ids + first, n_ids + first, last - first, &sc, out + first * D_MODEL);
        first = last;
    }
    rc = VX_OK;
done:
    if (ids)
        for (size_t i = 0; i < n; i++)
            free(ids[i]);
    free(ids);
    free(n_ids);
    free(sc.x0);
    free(sc.h);
    free(sc.qkv);
    free(sc.att);
    free(sc.y);
    free(sc.f);
    free(sc.s);
    return rc;
}
