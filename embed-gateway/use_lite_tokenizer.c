/*
 * use_lite_tokenizer.c — NFKC + unigram Viterbi segmentation for USE-lite
 * (see use_lite_tokenizer.h for the exact rules and their origin).
 *
 * Piece lookup: an open-addressing hash table over the UTF-8 bytes of each
 * piece (power-of-two size, at most half full), mapping to the piece id.
 * At each text position the lattice tries every length from 1 to the
 * longest piece (in code points), which yields exactly the matches of the
 * reference's trie prefix search, in the same (increasing length) order.
 */
#include "use_lite_tokenizer.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "vx_err.h"

#define SEP_CP 0x2581u
#define REPLACEMENT_CP 0xFFFDu

/* Hangul constants (Unicode ch. 3.12) */
#define H_SBASE 0xAC00u
#define H_LBASE 0x1100u
#define H_VBASE 0x1161u
#define H_TBASE 0x11A7u
#define H_LCOUNT 19u
#define H_VCOUNT 21u
#define H_TCOUNT 28u
#define H_NCOUNT (H_VCOUNT * H_TCOUNT)
#define H_SCOUNT (H_LCOUNT * H_NCOUNT)

struct use_lite_tokenizer {
    use_lite_tables t;
    int32_t *slots; /* piece id or -1 */
    uint32_t mask;
    uint32_t *piece_cps; /* length of each piece in code points */
    uint32_t max_piece_cps;
};

/* ---- UTF-8 ----------------------------------------------------------------- */

/* Decodes one code point at s[*i] (advancing *i); invalid → U+FFFD. */
static uint32_t utf8_next(const unsigned char *s, size_t len, size_t *i)
{
    unsigned char c = s[*i];
    uint32_t cp, min;
    size_t need;
    if (c < 0x80) {
        (*i)++;
        return c;
    } else if ((c & 0xE0) == 0xC0) {
        cp = c & 0x1F, need = 1, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        cp = c & 0x0F, need = 2, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        cp = c & 0x07, need = 3, min = 0x10000;
    } else {
        (*i)++;
        return REPLACEMENT_CP;
    }
    size_t j = *i + 1;
    for (size_t k = 0; k < need; k++, j++) {
        if (j >= len || (s[j] & 0xC0) != 0x80) {
            *i = j; /* skip the bad prefix */
            return REPLACEMENT_CP;
        }
        cp = (cp << 6) | (s[j] & 0x3F);
    }
    *i = j;
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return REPLACEMENT_CP;
    return cp;
}

static size_t utf8_put(uint32_t cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    } else if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    } else if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* ---- piece index ------------------------------------------------------------ */

static uint32_t hash_bytes(const char *p, size_t n)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 16777619u;
    }
    return h;
}

static int32_t piece_lookup(const use_lite_tokenizer *tk, const char *p, size_t n)
{
    uint32_t h = hash_bytes(p, n) & tk->mask;
    for (;;) {
        int32_t id = tk->slots[h];
        if (id < 0)
            return -1;
        uint32_t a = tk->t.offsets[id], b = tk->t.offsets[id + 1];
        if (b - a == n && memcmp(tk->t.pool + a, p, n) == 0)
            return id;
        h = (h + 1) & tk->mask;
    }
}

static bool rows_sorted(const uint32_t *rows, uint32_t n, uint32_t width, uint32_t keys)
{
    for (uint32_t i = 1; i < n; i++) {
        const uint32_t *a = rows + (size_t)(i - 1) * width, *b = rows + (size_t)i * width;
        int cmp = 0;
        for (uint32_t k = 0; k < keys && cmp == 0; k++)
            cmp = a[k] < b[k] ? -1 : a[k] > b[k] ? 1 : 0;
        if (cmp >= 0)
            return false;
    }
    return true;
}

int use_lite_tokenizer_create(use_lite_tokenizer **out, const use_lite_tables *t)
{
    *out = NULL;
    if (t->n_pieces <= USE_LITE_RESERVED_PIECES || t->offsets[0] != 0)
        return VX_ERR_CORRUPT;
    for (uint32_t i = 0; i < t->n_pieces; i++)
        if (t->offsets[i + 1] < t->offsets[i])
            return VX_ERR_CORRUPT;
    if (!rows_sorted(t->decomp, t->n_decomp, 3, 1) || !rows_sorted(t->ccc, t->n_ccc, 2, 1) ||
        !rows_sorted(t->comp, t->n_comp, 3, 2))
        return VX_ERR_CORRUPT;
    for (uint32_t i = 0; i < t->n_decomp; i++) {
        const uint32_t *r = t->decomp + (size_t)i * 3;
        if (r[2] == 0 || r[1] > t->n_decomp_pool || r[2] > t->n_decomp_pool - r[1])
            return VX_ERR_CORRUPT;
    }

    int rc = VX_ERR_NOMEM;
    use_lite_tokenizer *tk = calloc(1, sizeof *tk);
    if (!tk)
        return VX_ERR_NOMEM;
    tk->t = *t;
    uint32_t size = 1;
    while (size < 2 * t->n_pieces)
        size <<= 1;
    tk->mask = size - 1;
    tk->slots = malloc(sizeof *tk->slots * size);
    tk->piece_cps = calloc(t->n_pieces, sizeof *tk->piece_cps);
    if (!tk->slots || !tk->piece_cps)
        goto fail;
    memset(tk->slots, 0xFF, sizeof *tk->slots * size);
    rc = VX_ERR_CORRUPT;
    for (uint32_t id = 0; id < t->n_pieces; id++) {
        const unsigned char *p = (const unsigned char *)t->pool + t->offsets[id];
        size_t n = t->offsets[id + 1] - t->offsets[id], i = 0;
        uint32_t cps = 0;
        while (i < n) {
            size_t before = i;
            if (utf8_next(p, n, &i) == REPLACEMENT_CP && !(i - before == 3 && p[before] == 0xEF))
                goto fail; /* pieces must be valid UTF-8 (U+FFFD itself is fine) */
            cps++;
        }
        tk->piece_cps[id] = cps;
        if (id < USE_LITE_RESERVED_PIECES)
            continue;
        if (n == 0)
            goto fail;
        if (cps > tk->max_piece_cps)
            tk->max_piece_cps = cps;
        uint32_t h = hash_bytes((const char *)p, n) & tk->mask;
        for (;;) { /* insert; a duplicate piece takes the later id (trie overwrite) */
            int32_t cur = tk->slots[h];
            if (cur < 0) {
                tk->slots[h] = (int32_t)id;
                break;
            }
            uint32_t a = t->offsets[cur], b = t->offsets[cur + 1];
            if (b - a == n && memcmp(t->pool + a, p, n) == 0) {
                tk->slots[h] = (int32_t)id;
                break;
            }
            h = (h + 1) & tk->mask;
        }
    }
    *out = tk;
    return VX_OK;
fail:
    use_lite_tokenizer_destroy(tk);
    return rc;
}

void use_lite_tokenizer_destroy(use_lite_tokenizer *tk)
{
    if (!tk)
        return;
    free(tk->slots);
    free(tk->piece_cps);
    free(tk);
}

const char *use_lite_piece(const use_lite_tokenizer *tk, int32_t id, size_t *len)
{
    if (id < 0 || (uint32_t)id >= tk->t.n_pieces)
        return NULL;
    *len = tk->t.offsets[id + 1] - tk->t.offsets[id];
    return tk->t.pool + tk->t.offsets[id];
}

/* ---- NFKC ------------------------------------------------------------------- */

static const uint32_t *find_row(const uint32_t *rows, uint32_t n, uint32_t width, uint32_t key)
{
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        const uint32_t *r = rows + (size_t)mid * width;
        if (r[0] == key)
            return r;
        if (r[0] < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static uint32_t ccc_of(const use_lite_tokenizer *tk, uint32_t cp)
{
    const uint32_t *r = find_row(tk->t.ccc, tk->t.n_ccc, 2, cp);
    return r ? r[1] : 0;
}

static uint32_t compose_pair(const use_lite_tokenizer *tk, uint32_t a, uint32_t b)
{
    if (a >= H_LBASE && a < H_LBASE + H_LCOUNT && b >= H_VBASE && b < H_VBASE + H_VCOUNT)
        return H_SBASE + ((a - H_LBASE) * H_VCOUNT + (b - H_VBASE)) * H_TCOUNT;
    if (a >= H_SBASE && a < H_SBASE + H_SCOUNT && (a - H_SBASE) % H_TCOUNT == 0 &&
        b > H_TBASE && b < H_TBASE + H_TCOUNT)
        return a + (b - H_TBASE);
    uint32_t lo = 0, hi = tk->t.n_comp;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        const uint32_t *r = tk->t.comp + (size_t)mid * 3;
        if (r[0] == a && r[1] == b)
            return r[2];
        if (r[0] < a || (r[0] == a && r[1] < b))
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

int use_lite_nfkc(const use_lite_tokenizer *tk, const char *utf8, size_t len, uint32_t **out,
                  size_t *n_out)
{
    *out = NULL;
    *n_out = 0;
    /* decomposition: the longest NFKD expansion is 18 code points per input
     * code point; grow on demand instead of over-allocating */
    size_t cap = len + 16, n = 0;
    uint32_t *cps = malloc(cap * sizeof *cps);
    if (!cps)
        return VX_ERR_NOMEM;
    const unsigned char *s = (const unsigned char *)utf8;
    for (size_t i = 0; i < len;) {
        uint32_t cp = utf8_next(s, len, &i), tmp[3];
        const uint32_t *seq = &cp;
        size_t k = 1;
        if (cp >= H_SBASE && cp < H_SBASE + H_SCOUNT) {
            uint32_t si = cp - H_SBASE;
            tmp[0] = H_LBASE + si / H_NCOUNT;
            tmp[1] = H_VBASE + (si % H_NCOUNT) / H_TCOUNT;
            tmp[2] = H_TBASE + si % H_TCOUNT;
            seq = tmp;
            k = tmp[2] == H_TBASE ? 2 : 3;
        } else {
            const uint32_t *r = find_row(tk->t.decomp, tk->t.n_decomp, 3, cp);
            if (r) {
                seq = tk->t.decomp_pool + r[1];
                k = r[2];
            }
        }
        if (n + k > cap) {
            size_t ncap = cap * 2 + k;
            uint32_t *grown = realloc(cps, ncap * sizeof *cps);
            if (!grown) {
                free(cps);
                return VX_ERR_NOMEM;
            }
            cps = grown, cap = ncap;
        }
        memcpy(cps + n, seq, k * sizeof *cps);
        n += k;
    }
    /* canonical ordering: stable insertion sort of each run of non-starters */
    for (size_t i = 1; i < n; i++) {
        uint32_t c = ccc_of(tk, cps[i]);
        if (c == 0)
            continue;
        size_t j = i;
        uint32_t v = cps[i];
        while (j > 0) {
            uint32_t pc = ccc_of(tk, cps[j - 1]);
            if (pc == 0 || pc <= c)
                break;
            cps[j] = cps[j - 1];
            j--;
        }
        cps[j] = v;
    }
    /* canonical composition */
    if (n > 0) {
        size_t starter = SIZE_MAX, w = 0;
        uint32_t last_ccc = 0;
        for (size_t i = 0; i < n; i++) {
            uint32_t cp = cps[i], c = ccc_of(tk, cp);
            if (starter != SIZE_MAX) {
                bool blocked = w > starter + 1 && (last_ccc == 0 || last_ccc >= c);
                uint32_t comp = blocked ? 0 : compose_pair(tk, cps[starter], cp);
                if (comp) {
                    cps[starter] = comp;
                    continue;
                }
            }
            if (c == 0) {
                starter = w;
                last_ccc = 0;
            } else {
                last_ccc = c;
            }
            cps[w++] = cp;
        }
        n = w;
    }
    *out = cps;
    *n_out = n;
    return VX_OK;
}

/* ---- segmentation ----------------------------------------------------------- */

int use_lite_tokenize(const use_lite_tokenizer *tk, const char *utf8, size_t len, int32_t **ids,
                      size_t *n_ids)
{
    *ids = NULL;
    *n_ids = 0;
    uint32_t *norm = NULL;
    size_t nn = 0;
    int rc = use_lite_nfkc(tk, utf8, len, &norm, &nn);
    if (rc != VX_OK || nn == 0) {
        free(norm);
        return rc;
    }
    size_t n = nn + 1; /* symbols after the U+2581 prefix */
    uint32_t *sym = NULL;
    char *bytes = NULL;
    size_t *boff = NULL;
    double *score = NULL;
    int32_t *word = NULL, *res = NULL;
    rc = VX_ERR_NOMEM;
    sym = malloc(n * sizeof *sym);
    bytes = malloc(n * 4);
    boff = malloc((n + 1) * sizeof *boff);
    score = calloc(n + 1, sizeof *score);
    word = calloc(n + 1, sizeof *word);
    res = malloc(n * sizeof *res);
    if (!sym || !bytes || !boff || !score || !word || !res)
        goto done;
    sym[0] = SEP_CP;
    for (size_t i = 0; i < nn; i++)
        sym[i + 1] = norm[i] == 0x20 ? SEP_CP : norm[i];
    boff[0] = 0;
    for (size_t i = 0; i < n; i++)
        boff[i + 1] = boff[i] + utf8_put(sym[i], bytes + boff[i]);

    /* Forward pass. Nodes ending at e are visited in the reference's order:
     * by start position ascending, then length ascending — for a fixed end
     * that is length descending. */
    for (size_t e = 1; e <= n; e++) {
        size_t maxl = e < tk->max_piece_cps ? e : tk->max_piece_cps;
        for (size_t l = maxl; l >= 1; l--) {
            size_t st = e - l;
            int32_t id = piece_lookup(tk, bytes + boff[st], boff[e] - boff[st]);
            double sc;
            if (id >= 0) {
                sc = tk->t.scores[id];
            } else if (l == 1) {
                /* unknown symbol node, only when nothing starts at st */
                bool any = false;
                size_t lim = n - st < tk->max_piece_cps ? n - st : tk->max_piece_cps;
                for (size_t l2 = 1; l2 <= lim && !any; l2++)
                    any = piece_lookup(tk, bytes + boff[st], boff[st + l2] - boff[st]) >= 0;
                if (any)
                    continue;
                id = USE_LITE_UNK_ID;
                sc = 0.0;
            } else {
                continue;
            }
            double total = sc + score[st];
            if (score[e] == 0.0 || total >= score[e]) {
                score[e] = total;
                word[e] = id;
            }
        }
    }
    /* backward pass, then merge consecutive unknowns (in reverse order, as
     * the reference does) */
    size_t nr = 0;
    for (size_t it = n; it > 0;) {
        int32_t id = word[it];
        res[nr++] = id;
        uint32_t step = tk->piece_cps[id] ? tk->piece_cps[id] : 1;
        it = step > it ? 0 : it - step;
    }
    size_t m = 0;
    bool prev_unk = false;
    for (size_t i = 0; i < nr; i++) {
        if (!(prev_unk && res[i] == USE_LITE_UNK_ID))
            res[m++] = res[i];
        prev_unk = res[i] == USE_LITE_UNK_ID;
    }
    for (size_t i = 0; i < m / 2; i++) {
        int32_t t = res[i];
        res[i] = res[m - 1 - i];
        res[m - 1 - i] = t;
    }
    *ids = res;
    *n_ids = m;
    res = NULL;
    rc = VX_OK;
done:
    free(norm);
    free(sym);
    free(bytes);
    free(boff);
    free(score);
    free(word);
    free(res);
    return rc;
}
