/*
 * filter.c — see filter.h. Compilation validates the whole tree and turns it
 * into nodes (AND/OR lists and per-field comparisons) in the request arena;
 * evaluation reads only the packed metadata bytes (bounds-checked, no
 * allocation) and the compiled operands.
 */
#include "filter.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "vx_err.h"

typedef enum { F_AND, F_OR, F_CMP } filter_kind;
typedef enum { OP_EQ, OP_NE, OP_GT, OP_GTE, OP_LT, OP_LTE, OP_IN, OP_NIN } filter_op;

struct vx_filter {
    filter_kind kind;
    /* F_AND / F_OR */
    const vx_filter **kids;
    uint32_t n_kids;
    /* F_CMP */
    const char *field;
    uint32_t field_len;
    filter_op op;
    const vx_value *operand; /* scalar; for $in/$nin an array of scalars */
};

static const struct {
    const char *name;
    filter_op op;
} filter_ops[] = {
    {"$eq", OP_EQ}, {"$ne", OP_NE},   {"$gt", OP_GT}, {"$gte", OP_GTE},
    {"$lt", OP_LT}, {"$lte", OP_LTE}, {"$in", OP_IN}, {"$nin", OP_NIN},
};

/* ---- compilation ---- */

typedef struct fc_ctx {
    vx_arena *a;
    char *err;
    size_t err_len;
} fc_ctx;

static int fc_fail(fc_ctx *c, const char *path, const char *what)
{
    if (c->err && c->err_len)
        snprintf(c->err, c->err_len, "%s: %s", path, what);
    return VX_ERR_INVALID;
}

/* Builds an error path ("filter.price.$gt"); long paths are truncated. */
static void fc_path(char *dst, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fc_path(char *dst, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dst, n, fmt, ap);
    va_end(ap);
}

static bool is_scalar(const vx_value *v)
{
    return v->type != VX_VAL_ARRAY && v->type != VX_VAL_OBJECT;
}

static int fc_object(fc_ctx *c, const vx_value *obj, const char *path, int depth, vx_filter **out);

static int fc_list(fc_ctx *c, filter_kind kind, const vx_value *arr, const char *path, int depth,
                   vx_filter **out)
{
    if (arr->type != VX_VAL_ARRAY || arr->u.arr.n == 0)
        return fc_fail(c, path, "expected a non-empty array of filters");
    vx_filter *f = vx_arena_alloc(c->a, sizeof *f);
    f->kind = kind;
    f->n_kids = arr->u.arr.n;
    f->kids = vx_arena_alloc(c->a, sizeof *f->kids * arr->u.arr.n);
    for (uint32_t i = 0; i < arr->u.arr.n; i++) {
        char sub[256];
        fc_path(sub, sizeof sub, "%s[%u]", path, i);
        vx_filter *kid;
        int rc = fc_object(c, &arr->u.arr.items[i], sub, depth + 1, &kid);
        if (rc)
            return rc;
        f->kids[i] = kid;
    }
    *out = f;
    return VX_OK;
}

static vx_filter *fc_cmp(fc_ctx *c, const vx_member *m, filter_op op, const vx_value *operand)
{
    vx_filter *f = vx_arena_alloc(c->a, sizeof *f);
    f->kind = F_CMP;
    f->field = m->key;
    f->field_len = m->key_len;
    f->op = op;
    f->operand = operand;
    return f;
}

/* {"$gt": 3, "$lt": 9} for field m → one or more comparisons appended to kids */
static int fc_ops(fc_ctx *c, const vx_member *m, const char *path, vx_filter **kids, uint32_t *n)
{
    const vx_value *ops = &m->value;
    if (ops->u.obj.n == 0)
        return fc_fail(c, path, "expected at least one operator ($eq, $ne, $gt, $gte, $lt, $lte, $in, $nin)");
    for (uint32_t i = 0; i < ops->u.obj.n; i++) {
        const vx_member *o = &ops->u.obj.items[i];
        char sub[256];
        fc_path(sub, sizeof sub, "%s.%s", path, o->key);
        int found = -1;
        for (size_t j = 0; j < sizeof filter_ops / sizeof filter_ops[0]; j++)
            if (strcmp(o->key, filter_ops[j].name) == 0)
                found = (int)j;
        if (found < 0)
            return fc_fail(c, sub, "unknown operator (expected $eq, $ne, $gt, $gte, $lt, $lte, $in or $nin)");
        filter_op op = filter_ops[found].op;
        const vx_value *v = &o->value;
        switch (op) {
        case OP_EQ:
        case OP_NE:
            if (!is_scalar(v))
                return fc_fail(c, sub, "expected a scalar (string, number, bool or null)");
            break;
        case OP_GT:
        case OP_GTE:
        case OP_LT:
        case OP_LTE:
            if (v->type != VX_VAL_INT && v->type != VX_VAL_DOUBLE && v->type != VX_VAL_STRING)
                return fc_fail(c, sub, "expected a number or a string");
            break;
        case OP_IN:
        case OP_NIN:
            if (v->type != VX_VAL_ARRAY)
                return fc_fail(c, sub, "expected an array of scalars");
            for (uint32_t k = 0; k < v->u.arr.n; k++)
                if (!is_scalar(&v->u.arr.items[k])) {
                    char el[300];
                    fc_path(el, sizeof el, "%s[%u]", sub, k);
                    return fc_fail(c, el, "expected a scalar (string, number, bool or null)");
                }
            break;
        }
        kids[(*n)++] = fc_cmp(c, m, op, v);
    }
    return VX_OK;
}

static int fc_object(fc_ctx *c, const vx_value *obj, const char *path, int depth, vx_filter **out)
{
    if (depth > FILTER_MAX_DEPTH)
        return fc_fail(c, path, "filter nested too deeply");
    if (obj->type != VX_VAL_OBJECT)
        return fc_fail(c, path, "expected an object");
    uint32_t cap = 0;
    for (uint32_t i = 0; i < obj->u.obj.n; i++) {
        const vx_value *v = &obj->u.obj.items[i].value;
        cap += v->type == VX_VAL_OBJECT ? (v->u.obj.n ? v->u.obj.n : 1) : 1;
    }
    vx_filter *and = vx_arena_alloc(c->a, sizeof *and);
    and->kind = F_AND;
    vx_filter **kids = vx_arena_alloc(c->a, sizeof *kids * (cap ? cap : 1));
    uint32_t n = 0;
    for (uint32_t i = 0; i < obj->u.obj.n; i++) {
        const vx_member *m = &obj->u.obj.items[i];
        char sub[256];
        fc_path(sub, sizeof sub, "%s.%s", path, m->key);
        int rc;
        if (m->key[0] == '$') {
            if (strcmp(m->key, "$and") == 0)
                rc = fc_list(c, F_AND, &m->value, sub, depth, &kids[n]);
            else if (strcmp(m->key, "$or") == 0)
                rc = fc_list(c, F_OR, &m->value, sub, depth, &kids[n]);
            else
                return fc_fail(c, sub, "unknown operator (expected $and, $or or a field name)");
            if (rc)
                return rc;
            n++;
        } else if (m->key_len == 0) {
            return fc_fail(c, sub, "empty field name");
        } else if (m->value.type == VX_VAL_OBJECT) {
            rc = fc_ops(c, m, sub, kids, &n);
            if (rc)
                return rc;
        } else if (m->value.type == VX_VAL_ARRAY) {
            return fc_fail(c, sub, "expected a scalar or an operator object (use $in for a list)");
        } else {
            kids[n++] = fc_cmp(c, m, OP_EQ, &m->value);
        }
    }
    if (n == 1) {
        *out = kids[0];
        return VX_OK;
    }
    and->kids = (const vx_filter **)kids;
    and->n_kids = n;
    *out = and;
    return VX_OK;
}

int filter_compile(const vx_value *f, vx_arena *a, const vx_filter **out, char *err, size_t err_len)
{
    *out = NULL;
    if (!f || f->type == VX_VAL_NULL)
        return VX_OK;
    fc_ctx c = {a, err, err_len};
    if (f->type != VX_VAL_OBJECT)
        return fc_fail(&c, "filter", "expected an object");
    if (f->u.obj.n == 0)
        return VX_OK;
    vx_filter *root;
    int rc = fc_object(&c, f, "filter", 0, &root);
    if (rc)
        return rc;
    *out = root;
    return VX_OK;
}

/* ---- evaluation over packed bytes ---- */

/* One packed scalar, read in place. */
typedef struct pk_scalar {
    vx_value_type type;
    bool b;
    int64_t i;
    double d;
    const unsigned char *s;
    uint32_t len;
} pk_scalar;

static uint32_t rd_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd_u64(const unsigned char *p)
{
    return (uint64_t)rd_u32(p) | (uint64_t)rd_u32(p + 4) << 32;
}

/* Size of the packed value at p (≤ len), or 0 when malformed. */
static size_t pk_size(const unsigned char *p, size_t len, int depth)
{
    if (len < 1 || depth > VX_VALUE_MAX_DEPTH)
        return 0;
    switch (p[0]) {
    case 0:
    case 1:
    case 2:
        return 1;
    case 3:
    case 4:
        return len >= 9 ? 9 : 0;
    case 5: {
        if (len < 5)
            return 0;
        uint64_t n = rd_u32(p + 1);
        return 5 + n <= len ? (size_t)(5 + n) : 0;
    }
    case 6:
    case 7: {
        if (len < 5)
            return 0;
        uint32_t n = rd_u32(p + 1);
        size_t off = 5;
        for (uint32_t i = 0; i < n; i++) {
            if (p[0] == 7) {
                if (len - off < 4)
                    return 0;
                uint64_t kl = rd_u32(p + off);
                if (kl > len - off - 4)
                    return 0;
                off += 4 + (size_t)kl;
            }
            size_t s = pk_size(p + off, len - off, depth + 1);
            if (!s)
                return 0;
            off += s;
        }
        return off;
    }
    default:
        return 0;
    }
}

/* Reads a scalar; false for arrays, objects and malformed bytes. */
static bool pk_read_scalar(const unsigned char *p, size_t len, pk_scalar *out)
{
    size_t s = pk_size(p, len, VX_VALUE_MAX_DEPTH);
    if (!s)
        return false;
    switch (p[0]) {
    case 0:
        out->type = VX_VAL_NULL;
        return true;
    case 1:
    case 2:
        out->type = VX_VAL_BOOL;
        out->b = p[0] == 2;
        return true;
    case 3:
        out->type = VX_VAL_INT;
        out->i = (int64_t)rd_u64(p + 1);
        return true;
    case 4: {
        uint64_t u = rd_u64(p + 1);
        out->type = VX_VAL_DOUBLE;
        memcpy(&out->d, &u, sizeof u);
        return true;
    }
    case 5:
        out->type = VX_VAL_STRING;
        out->len = rd_u32(p + 1);
        out->s = p + 5;
        return true;
    default:
        return false;
    }
}

static bool is_num(vx_value_type t) { return t == VX_VAL_INT || t == VX_VAL_DOUBLE; }

/* Exact three-way comparison of an integer with a double that is not NaN.
 * Converting i to double would round above 2^53 (9007199254740993 would
 * equal 9007199254740992.0); instead d's integer part, which fits int64
 * inside [-2^63, 2^63), is compared with i, then d's fraction decides. */
static int cmp_int_double(int64_t i, double d)
{
    if (d >= 9223372036854775808.0) /* 2^63 and +inf: above every int64 */
        return -1;
    if (d < -9223372036854775808.0)
        return 1;
    double whole = trunc(d);
    int64_t w = (int64_t)whole;
    if (i != w)
        return i < w ? -1 : 1;
    double frac = d - whole; /* exact */
    return frac > 0 ? -1 : frac < 0;
}

/* Three-way comparison of a metadata scalar with an operand; false when
 * the types do not compare. For bool/null only equality (ord 0 / 1). */
static bool sc_compare(const pk_scalar *a, const vx_value *b, int *ord)
{
    if (is_num(a->type) && is_num(b->type)) {
        if (a->type == VX_VAL_INT && b->type == VX_VAL_INT) {
            *ord = a->i < b->u.i ? -1 : a->i > b->u.i;
            return true;
        }
        double x = a->type == VX_VAL_INT ? 0 : a->d;
        double y = b->type == VX_VAL_INT ? 0 : b->u.d;
        if (x != x || y != y)
            return false;
        if (a->type == VX_VAL_INT)
            *ord = cmp_int_double(a->i, y);
        else if (b->type == VX_VAL_INT)
            *ord = -cmp_int_double(b->u.i, x);
        else
            *ord = x < y ? -1 : x > y;
        return true;
    }
    if (a->type != b->type)
        return false;
    switch (a->type) {
    case VX_VAL_NULL:
        *ord = 0;
        return true;
    case VX_VAL_BOOL:
        *ord = a->b != b->u.b;
        return true;
    case VX_VAL_STRING: {
        uint32_t n = a->len < b->u.str.len ? a->len : b->u.str.len;
        int c = n ? memcmp(a->s, b->u.str.ptr, n) : 0;
        if (c == 0)
            c = a->len < b->u.str.len ? -1 : a->len > b->u.str.len;
        *ord = c < 0 ? -1 : c > 0;
        return true;
    }
    default:
        return false;
    }
}

/* Does one metadata scalar satisfy a positive op (EQ, IN, orderings)? */
static bool sc_test(const pk_scalar *a, filter_op op, const vx_value *operand)
{
    int ord;
    if (op == OP_IN) {
        for (uint32_t i = 0; i < operand->u.arr.n; i++)
            if (sc_compare(a, &operand->u.arr.items[i], &ord) && ord == 0)
                return true;
        return false;
    }
    if (!sc_compare(a, operand, &ord))
        return false;
    if ((a->type == VX_VAL_BOOL || a->type == VX_VAL_NULL) && op != OP_EQ)
        return false;
    switch (op) {
    case OP_EQ: return ord == 0;
    case OP_GT: return ord > 0;
    case OP_GTE: return ord >= 0;
    case OP_LT: return ord < 0;
    case OP_LTE: return ord <= 0;
    default: return false;
    }
}

/* Positive op on a packed value: scalar, or any element of an array. */
static bool pk_test(vx_packed v, filter_op op, const vx_value *operand)
{
    pk_scalar s;
    if (v.len >= 1 && v.p[0] == 6) {
        if (v.len < 5)
            return false;
        uint32_t n = rd_u32(v.p + 1);
        size_t off = 5;
        for (uint32_t i = 0; i < n; i++) {
            size_t sz = pk_size(v.p + off, v.len - off, 1);
            if (!sz)
                return false;
            if (pk_read_scalar(v.p + off, sz, &s) && sc_test(&s, op, operand))
                return true;
            off += sz;
        }
        return false;
    }
    return pk_read_scalar(v.p, v.len, &s) && sc_test(&s, op, operand);
}

bool filter_match(const vx_filter *f, const unsigned char *meta, size_t meta_len)
{
    switch (f->kind) {
    case F_AND:
        for (uint32_t i = 0; i < f->n_kids; i++)
            if (!filter_match(f->kids[i], meta, meta_len))
                return false;
        return true;
    case F_OR:
        for (uint32_t i = 0; i < f->n_kids; i++)
            if (filter_match(f->kids[i], meta, meta_len))
                return true;
        return false;
    case F_CMP:
        break;
    }
    vx_packed v;
    bool present = meta && vx_value_packed_find(meta, meta_len, f->field, f->field_len, &v);
    switch (f->op) {
    case OP_NE:
        return !present || !pk_test(v, OP_EQ, f->operand);
    case OP_NIN:
        return !present || !pk_test(v, OP_IN, f->operand);
    default:
        return present && pk_test(v, f->op, f->operand);
    }
}
