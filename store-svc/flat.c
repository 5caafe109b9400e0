/*
 * flat.c — see flat.h. The plain scan first, then the bounded scan: query
 * constants, the per-row interval, the candidate list and the re-score.
 */
#include "flat.h"

#include <float.h>
#include <math.h>

#include "distance.h"
#include "sq8_query.h"

/* The score the plain scan ranks for a kernel result: a NaN (a dot product
 * whose float32 terms overflowed both ways; coll_search re-scores it) ranks
 * last. */
static inline float ranked(float score, bool larger)
{
    if (score != score)
        return larger ? -INFINITY : INFINITY;
    return score;
}

static uint32_t finish(topk *t, bool larger, topk_item *out)
{
    uint32_t got = topk_finish(t);
    if (!larger)
        for (uint32_t i = 0; i < got; i++)
            out[i].score = sqrtf(out[i].score > 0 ? out[i].score : 0);
    return got;
}

uint32_t flat_search_plain(const flat_view *v, const float *query, uint32_t k,
                           const vx_filter *filter, topk_item *out)
{
    topk t;
    bool larger = v->metric != VX_METRIC_L2;
    topk_init(&t, out, k, larger);
    float scores[FLAT_BLOCK];
    for (uint32_t start = 0; start < v->n_slots; start += FLAT_BLOCK) {
        uint32_t n = v->n_slots - start < FLAT_BLOCK ? v->n_slots - start : FLAT_BLOCK;
        const float *rows = v->base + (size_t)start * v->dim;
        if (larger)
            dist_dot_many(query, rows, n, v->dim, scores);
        else
            dist_l2sq_many(query, rows, n, v->dim, scores);
        for (uint32_t i = 0; i < n; i++) {
            uint32_t slot = start + i;
            float score = ranked(scores[i], larger);
            if (flat_is_dead(v->dead, slot) || !topk_would_accept(&t, score, slot))
                continue;
            if (filter && !filter_match(filter, v->meta[slot], v->meta_len[slot]))
                continue;
            topk_push(&t, score, slot);
        }
    }
    return finish(&t, larger, out);
}

/* ---- bounded scan ------------------------------------------------------------ */

/* What every row's interval needs from the query, rounded so that each is
 * at least the quantity it stands for. */
typedef struct query_consts {
    bool larger;
    sq8q_query iq;   /* the query as int16 (sq8_query.h) */
    float qsum;      /* Σq (nearest; its rounding is inside fp_codes) */
    float qnorm;     /* ≥ ‖q‖ */
    float qq_lo;     /* ≤ ‖q‖² */
    float qq_hi;     /* ≥ ‖q‖² */
    float quant;     /* ≥ ‖q − qs·qi‖·255·√dim: what the int16 query loses, per unit of scale */
    float fp_codes;  /* rounding of the approximate score per unit of |lo| + 255·scale */
    float gamma;     /* relative rounding of a float32 kernel */
    float tiny;      /* absolute allowance for underflow */
} query_consts;

#define FLT_EPS_F ((float)FLT_EPSILON)

/* False when the query's own numbers do not fit a float (then the caller
 * uses the plain scan). c->iq.qi must point at roundup(dim, SQ8Q_PAD) int16. */
static bool query_constants(const float *q, uint32_t dim, bool larger, query_consts *c)
{
    double s = 0, n1 = 0, n2 = 0;
    for (uint32_t i = 0; i < dim; i++) {
        s += q[i];
        n1 += fabs(q[i]);
        n2 += (double)q[i] * q[i];
    }
    sq8q_prepare(q, dim, &c->iq);
    double gamma = 2.0 * (dim + 16) * (double)FLT_EPSILON;
    double up = 1.0 + 1e-6, down = 1.0 - 1e-6;
    c->larger = larger;
    c->qsum = (float)s;
    c->qnorm = (float)(sqrt(n2) * up);
    c->qq_lo = (float)(n2 * down);
    c->qq_hi = (float)(n2 * up);
    c->quant = (float)(c->iq.err * 255.0 * sqrt((double)dim) * up);
    /* t1 = lo·qsum and t2 = scale·(qs·S) are rounded a few times each:
     * 8ε per unit of |lo|·‖q‖₁ and 255·scale·Σ|qs·qi| covers all of it */
    c->fp_codes = (float)(8.0 * (double)FLT_EPSILON * (n1 + c->iq.abs_sum) * up);
    c->gamma = (float)gamma;
    c->tiny = (float)(dim + 16) * FLT_MIN;
    return isfinite(c->qsum) && isfinite(c->qnorm) && isfinite(c->qq_hi) &&
           isfinite(c->fp_codes) && isfinite(c->quant);
}

/* Largest ‖q‖·‖x‖ (dot) or (‖q‖ + ‖x‖)² (l2) for which no float32 kernel
 * sum can overflow (every partial sum is at most that, times 1 + γ). */
#define FLAT_NO_OVERFLOW (FLT_MAX / 8)

/* The interval [*pess, *opt] in ranking terms: pess is the worst and opt
 * the best score the float32 kernel can give row r, whose exact integer
 * code sum is isum. Returns false when the row has no finite interval
 * (re-score it). */
static inline bool row_bounds(const query_consts *c, const flat_code_row *r, int32_t isum,
                              float *pess, float *opt)
{
    /* q·x̂ ≈ lo·Σq + scale·Σ q[i]·code[i], and Σ q[i]·code[i] ≈ qs·isum */
    float approx = r->lo * c->qsum + r->scale * (c->iq.qs * (float)isum);
    /* the true q·x is within dslack of approx: the codes' error, the
     * query's quantisation, the roundings */
    float dslack = c->qnorm * r->err + r->scale * c->quant +
                   c->fp_codes * (fabsf(r->lo) + 255.0f * r->scale) +
                   4.0f * FLT_EPS_F * fabsf(approx) + c->tiny;
    dslack *= 1.0f + 8.0f * FLT_EPS_F;
    if (c->larger) {
        float qx = c->qnorm * r->norm;
        if (!(qx < FLAT_NO_OVERFLOW) || !isfinite(approx) || !isfinite(dslack))
            return false;
        float slack = dslack + c->gamma * qx;
        *pess = approx - slack;
        *opt = approx + slack;
        return true;
    }
    float sum = c->qnorm + r->norm;
    if (!(sum * sum < FLAT_NO_OVERFLOW) || !isfinite(approx) || !isfinite(dslack))
        return false;
    /* ‖q − x‖² = ‖q‖² + ‖x‖² − 2·q·x, with ‖x‖ in [norm·(1 − 8ε), norm] */
    float xn_lo = r->norm * (1.0f - 8.0f * FLT_EPS_F);
    float xx_lo = xn_lo * xn_lo, xx_hi = r->norm * r->norm;
    float m = 8.0f * FLT_EPS_F * (c->qq_hi + xx_hi + 2.0f * fabsf(approx) + 2.0f * dslack);
    float t_lo = c->qq_lo + xx_lo - 2.0f * (approx + dslack) - m;
    float t_hi = c->qq_hi + xx_hi - 2.0f * (approx - dslack) + m;
    *opt = (t_lo > 0 ? t_lo : 0) * (1.0f - 2.0f * c->gamma);
    *pess = t_hi * (1.0f + 2.0f * c->gamma) + c->tiny;
    return true;
}

/* True when score a is strictly worse than b in this ranking. */
static inline bool worse(bool larger, float a, float b)
{
    return larger ? a < b : a > b;
}

typedef struct candidate {
    uint32_t slot;
    float opt;
} candidate;

typedef struct bounded {
    int16_t qi[VX_MAX_DIM + SQ8Q_PAD]; /* the int16 query */
    int32_t isum[FLAT_BLOCK];          /* a block's integer code sums */
    const flat_view *v;
    const float *q;
    bool larger;
    topk pess;   /* the k best pessimistic bounds; T = its root when full */
    topk result; /* the exact scores of re-scored rows */
    candidate cand[FLAT_CANDIDATES];
    uint32_t n_cand;
} bounded;

/* True when a row whose optimistic bound is opt cannot be in the top k. */
static inline bool hopeless(const bounded *b, float opt)
{
    return b->pess.n == b->pess.k && worse(b->larger, opt, b->pess.items[0].score);
}

/* Scores row slot with the float32 kernel, exactly as the plain scan does
 * (distance.h: a row's score does not depend on its neighbours), into the
 * result heap. */
static void rescore(bounded *b, uint32_t slot)
{
    const flat_view *v = b->v;
    const float *row = v->base + (size_t)slot * v->dim;
    float s;
    if (b->larger)
        dist_dot_many(b->q, row, 1, v->dim, &s);
    else
        dist_l2sq_many(b->q, row, 1, v->dim, &s);
    s = ranked(s, b->larger);
    if (topk_would_accept(&b->result, s, slot))
        topk_push(&b->result, s, slot);
}

/* Drops hopeless candidates; re-scores the rest when the list stays more
 * than half full (or when final). */
static void prune_candidates(bounded *b, bool final)
{
    uint32_t kept = 0;
    for (uint32_t i = 0; i < b->n_cand; i++)
        if (!hopeless(b, b->cand[i].opt))
            b->cand[kept++] = b->cand[i];
    b->n_cand = kept;
    if (!final && kept <= FLAT_CANDIDATES / 2)
        return;
    for (uint32_t i = 0; i < b->n_cand; i++)
        rescore(b, b->cand[i].slot);
    b->n_cand = 0;
}

static void consider(bounded *b, uint32_t slot, float pess, float opt, const vx_filter *filter)
{
    if (hopeless(b, opt))
        return;
    if (filter && !filter_match(filter, b->v->meta[slot], b->v->meta_len[slot]))
        return;
    if (b->n_cand == FLAT_CANDIDATES)
        prune_candidates(b, false);
    b->cand[b->n_cand].slot = slot;
    b->cand[b->n_cand].opt = opt;
    b->n_cand++;
    if (topk_would_accept(&b->pess, pess, slot))
        topk_push(&b->pess, pess, slot);
}

static uint32_t flat_search_bounded(bounded *b, const flat_view *v, const query_consts *c,
                                    const float *query, uint32_t k, const vx_filter *filter,
                                    topk_item *out, topk_item *scratch)
{
    b->v = v;
    b->q = query;
    b->larger = c->larger;
    b->n_cand = 0;
    topk_init(&b->pess, scratch, k, c->larger);
    topk_init(&b->result, out, k, c->larger);
    const flat_codes *fc = v->codes;
    for (uint32_t start = 0; start < v->n_slots; start += FLAT_BLOCK) {
        uint32_t n = v->n_slots - start < FLAT_BLOCK ? v->n_slots - start : FLAT_BLOCK;
        sq8q_dot_many(b->qi, fc->codes + (size_t)start * v->dim, n, v->dim, b->isum);
        for (uint32_t i = 0; i < n; i++) {
            uint32_t slot = start + i;
            if (flat_is_dead(v->dead, slot))
                continue;
            float pess, opt;
            if (!row_bounds(c, &fc->rows[slot], b->isum[i], &pess, &opt)) {
                pess = c->larger ? -INFINITY : INFINITY;
                opt = c->larger ? INFINITY : -INFINITY;
            }
            consider(b, slot, pess, opt, filter);
        }
    }
    prune_candidates(b, true);
    return finish(&b->result, c->larger, out);
}

uint32_t flat_search(const flat_view *v, const float *query, uint32_t k, const vx_filter *filter,
                     topk_item *out, topk_item *scratch)
{
    bool larger = v->metric != VX_METRIC_L2;
    if (!v->codes || v->n_slots < FLAT_BOUNDED_MIN_SLOTS || k == 0 || v->dim > VX_MAX_DIM)
        return flat_search_plain(v, query, k, filter, out);
    /* ~30 KB of working storage: per thread, off the worker's stack */
    static __thread bounded b;
    query_consts c;
    c.iq.qi = b.qi;
    if (!query_constants(query, v->dim, larger, &c))
        return flat_search_plain(v, query, k, filter, out);
    return flat_search_bounded(&b, v, &c, query, k, filter, out, scratch);
}
