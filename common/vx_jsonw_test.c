/*
 * vx_jsonw_test.c — the streaming JSON writer: commas, escaping, numbers.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vx_jsonw.h"
#include "vx_test.h"

static const char *text(vx_buf *b)
{
    vx_buf_terminate(b);
    return (const char *)b->data;
}

TEST(jsonw_structure_and_commas)
{
    vx_buf b = VX_BUF_INIT;
    vx_jsonw w;
    vx_jsonw_init(&w, &b);
    vx_jsonw_begin_object(&w);
    vx_jsonw_key(&w, "a");
    vx_jsonw_int(&w, -3);
    vx_jsonw_key(&w, "b");
    vx_jsonw_begin_array(&w);
    vx_jsonw_bool(&w, true);
    vx_jsonw_null(&w);
    vx_jsonw_begin_object(&w);
    vx_jsonw_end_object(&w);
    vx_jsonw_uint(&w, 18446744073709551615ull);
    vx_jsonw_end_array(&w);
    vx_jsonw_key(&w, "c");
    vx_jsonw_string(&w, "x");
    vx_jsonw_end_object(&w);
    ASSERT_STR_EQ(text(&b), "{\"a\":-3,\"b\":[true,null,{},18446744073709551615],\"c\":\"x\"}");
    vx_buf_free(&b);
}

TEST(jsonw_escapes_strings)
{
    vx_buf b = VX_BUF_INIT;
    vx_json_escape(&b, "q\"b\\n\n\t\x01\x1f\x7f", 10);
    ASSERT_STR_EQ(text(&b), "\"q\\\"b\\\\n\\n\\t\\u0001\\u001f\\u007f\"");
    vx_buf_reset(&b);
    /* embedded NUL is escaped, valid UTF-8 passes through */
    vx_json_escape(&b, "a\0\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 11);
    ASSERT_STR_EQ(text(&b), "\"a\\u0000\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"");
    vx_buf_reset(&b);
    /* invalid UTF-8: lone continuation, truncated sequence, overlong,
     * surrogate, > U+10FFFF — each bad byte becomes U+FFFD */
    vx_json_escape(&b, "\x80|\xc3|\xc0\xaf|\xed\xa0\x80|\xf4\x90\x80\x80", 16);
    const char *t = text(&b);
    ASSERT(strstr(t, "\xc0") == NULL);
    ASSERT(strstr(t, "\xed\xa0") == NULL);
    ASSERT(strncmp(t, "\"\xef\xbf\xbd|\xef\xbf\xbd|", 9) == 0);
    vx_buf_free(&b);
}

TEST(jsonw_numbers_round_trip)
{
    vx_buf b = VX_BUF_INIT;
    vx_jsonw w;
    vx_jsonw_init(&w, &b);
    vx_jsonw_begin_array(&w);
    vx_jsonw_float(&w, 0.1f);
    vx_jsonw_double(&w, 0.1);
    vx_jsonw_float(&w, 3.0f);
    vx_jsonw_double(&w, NAN);
    vx_jsonw_float(&w, INFINITY);
    vx_jsonw_double(&w, 1.0 / 3.0);
    vx_jsonw_end_array(&w);
    ASSERT_STR_EQ(text(&b), "[0.1,0.1,3,null,null,0.3333333333333333]");
    vx_buf_free(&b);

    /* every float written reads back exactly */
    unsigned seed = 12345;
    for (int i = 0; i < 2000; i++) {
        seed = seed * 1103515245u + 12345u;
        float f = (float)((double)(seed >> 8) / 65536.0 - 128.0) * 1e-3f;
        vx_buf c = VX_BUF_INIT;
        vx_jsonw_init(&w, &c);
        vx_jsonw_float(&w, f);
        ASSERT(strtof(text(&c), NULL) == f);
        ASSERT(c.len <= 16);
        vx_buf_free(&c);
    }
}

/* The former writer: the shortest of "%.6g".."%.9g" that reads back. */
static void legacy_float(float f, char *out, size_t cap)
{
    for (int prec = 6; prec <= 9; prec++) {
        snprintf(out, cap, "%.*g", prec, (double)f);
        if (strtof(out, NULL) == f)
            break;
    }
}

TEST(jsonw_number_text)
{
    vx_buf b = VX_BUF_INIT;
    vx_jsonw w;
    vx_jsonw_init(&w, &b);
    vx_jsonw_begin_array(&w);
    vx_jsonw_float(&w, -0.0f);
    vx_jsonw_float(&w, 1e-7f);
    vx_jsonw_float(&w, 0.0001f);
    vx_jsonw_float(&w, 1e6f);
    vx_jsonw_float(&w, 123456789.0f);
    vx_jsonw_float(&w, -0.05f);
    vx_jsonw_double(&w, -0.0);
    vx_jsonw_double(&w, 1e-7);
    vx_jsonw_double(&w, 1e15);
    vx_jsonw_double(&w, 2.5e-310);
    vx_jsonw_end_array(&w);
    ASSERT_STR_EQ(text(&b), "[-0,1e-07,0.0001,1e+06,1.2345679e+08,-0.05,-0,1e-07,1e+15,2.5e-310]");
    vx_buf_free(&b);

    /* embedding-like components come out exactly as the former printf loop
     * wrote them (it differed only for denormals and three powers of two,
     * where it was not the shortest) */
    unsigned seed = 777;
    char want[40];
    for (int i = 0; i < 20000; i++) {
        seed = seed * 1103515245u + 12345u;
        float f = (float)((double)(seed >> 8) / 16777216.0 - 0.5) * 0.4f;
        vx_buf c = VX_BUF_INIT;
        vx_jsonw_init(&w, &c);
        vx_jsonw_float(&w, f);
        legacy_float(f, want, sizeof(want));
        ASSERT_STR_EQ(text(&c), want);
        vx_buf_free(&c);
    }
}

TEST(jsonw_float_array_and_value)
{
    vx_buf b = VX_BUF_INIT;
    vx_jsonw w;
    vx_jsonw_init(&w, &b);
    float v[3] = {1.0f, -0.5f, 2.25f};
    vx_jsonw_begin_object(&w);
    vx_jsonw_key(&w, "v");
    vx_jsonw_float_array(&w, v, 3);
    vx_jsonw_key(&w, "m");
    vx_member mem[1] = {{"k\"", 2, {.type = VX_VAL_STRING, .u.str = {"s", 1}}}};
    vx_value obj = {.type = VX_VAL_OBJECT, .u.obj = {mem, 1}};
    vx_jsonw_value(&w, &obj);
    vx_jsonw_key(&w, "z");
    vx_jsonw_value(&w, NULL);
    vx_jsonw_key(&w, "r");
    vx_jsonw_raw(&w, "[1]", 3);
    vx_jsonw_end_object(&w);
    ASSERT_STR_EQ(text(&b), "{\"v\":[1,-0.5,2.25],\"m\":{\"k\\\"\":\"s\"},\"z\":null,\"r\":[1]}");
    vx_buf_free(&b);
}
