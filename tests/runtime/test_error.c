/* Error codes to text. */
#include <criterion/criterion.h>

#include "loopscope/error.h"

Test(error, names_and_messages) {
  cr_expect_str_eq(ls_err_name(LS_ECONNREFUSED), "ECONNREFUSED");
  cr_expect_str_eq(ls_strerror(LS_ECONNREFUSED), "Connection refused");
  cr_expect_str_eq(ls_err_name(LS_EOF), "EOF");
  cr_expect_str_eq(ls_strerror(LS_EOF), "end of file");
  cr_expect_str_eq(ls_err_name(LS_EMFILE), "EMFILE");
  cr_expect_str_eq(ls_strerror(-100000), "unknown error");
  cr_expect_str_eq(ls_err_name(5), "UNKNOWN");
}
