/* vx_err_test.c — the error table: names, messages, HTTP mapping. */
#include "vx_err.h"
#include "vx_test.h"

TEST(err_names_are_stable)
{
    ASSERT_STR_EQ(vx_errname(VX_ERR_NOT_FOUND), "not_found");
    ASSERT_STR_EQ(vx_errname(VX_ERR_INVALID), "invalid_argument");
    ASSERT_STR_EQ(vx_errname(12345), "unknown_error");
}

TEST(err_http_mapping)
{
    ASSERT_EQ_INT(vx_err_http_status(VX_ERR_INVALID), 400);
    ASSERT_EQ_INT(vx_err_http_status(VX_ERR_NOT_FOUND), 404);
    ASSERT_EQ_INT(vx_err_http_status(VX_ERR_CONFLICT), 409);
    ASSERT_EQ_INT(vx_err_http_status(VX_ERR_TOO_LARGE), 413);
    ASSERT_EQ_INT(vx_err_http_status(VX_ERR_UNAVAILABLE), 503);
    ASSERT_EQ_INT(vx_err_http_status(VX_ERR_TIMEOUT), 504);
    ASSERT_EQ_INT(vx_err_http_status(-9999), 500);
}

TEST(err_name_round_trip)
{
    for (int code = 0; code >= -20; code--) {
        ASSERT(vx_err_is_known(code));
        ASSERT_EQ_INT(vx_err_from_name(vx_errname(code)), code);
    }
    ASSERT_EQ_INT(vx_err_from_name("no_such_error"), VX_ERR_INTERNAL);
}
