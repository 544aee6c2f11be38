/* ls_value: ownership, inspection and the JSON form. */
#include <criterion/criterion.h>

#include "loopscope/value.h"

static void bump(void *p) { (*(int *)p)++; }

Test(value, pointer_destructor_runs_once_with_the_last_reference) {
  int freed = 0;
  ls_value v = ls_pointer(&freed, bump);
  ls_value w = ls_value_ref(v);
  ls_value arr = ls_array((ls_value[]){ls_value_ref(v)}, 1);
  ls_value_drop(v);
  ls_value_drop(w);
  cr_assert_eq(freed, 0);
  cr_assert_eq(ls_ptr(ls_array_at(arr, 0)), &freed);
  ls_value_drop(arr);
  cr_assert_eq(freed, 1);
}

Test(value, strings_keep_their_length) {
  ls_value s = ls_string_n("a\0b", 3);
  cr_assert_eq(ls_str_len(s), 3);
  cr_assert_eq(ls_str(s)[2], 'b');
  ls_value f = ls_stringf("%d-%s", 7, "x");
  cr_assert_str_eq(ls_str(f), "7-x");
  cr_assert_null(ls_str(ls_int(1)));
  ls_value_drop(s);
  ls_value_drop(f);
}

Test(value, errors_carry_code_message_cause_and_aggregates) {
  ls_value e = ls_error_with_cause(-2, "outer", ls_error(0, "inner"));
  cr_assert_eq(ls_error_code(e), -2);
  cr_assert_str_eq(ls_error_message(ls_error_cause(e)), "inner");
  ls_value agg = ls_aggregate_error("all", ls_array((ls_value[]){e, ls_int(3)}, 2));
  char buf[256];
  ls_value_json(agg, buf, sizeof buf);
  cr_assert_str_eq(buf, "{\"name\":\"AggregateError\",\"message\":\"all\",\"errors\":"
                        "[{\"name\":\"Error\",\"code\":-2,\"message\":\"outer\",\"cause\":"
                        "{\"name\":\"Error\",\"message\":\"inner\"}},3]}");
  ls_value_drop(agg);
}

Test(value, throw_flag_belongs_to_the_struct) {
  ls_value e = ls_throw(ls_error(0, "x"));
  cr_assert(ls_thrown(e));
  ls_value c = ls_caught(e);
  cr_assert_not(ls_thrown(c));
  cr_assert(ls_is_error(c));
  ls_value_drop(c);
}

Test(value, json_of_scalars_arrays_and_escapes) {
  ls_value arr = ls_array_new(6);
  ls_array_set(arr, 0, ls_null());
  ls_array_set(arr, 1, ls_bool(true));
  ls_array_set(arr, 2, ls_double(1.5));
  ls_array_set(arr, 3, ls_string("q\"\n"));
  ls_array_set(arr, 4, ls_settled(true, ls_int(-1)));
  ls_array_set(arr, 99, ls_string("dropped, out of range"));
  char buf[256];
  size_t need = ls_value_json(arr, buf, sizeof buf);
  cr_assert_str_eq(buf, "[null,true,1.5,\"q\\\"\\n\",{\"status\":\"fulfilled\",\"value\":-1},null]");
  cr_assert_eq(need, strlen(buf));
  char small[8];
  cr_assert_eq(ls_value_json(arr, small, sizeof small), need);
  cr_assert_str_eq(small, "[null,t");
  ls_value_drop(arr);
  cr_assert_str_eq(ls_type_name(LS_VAL_SETTLED), "settled");
  cr_assert_eq(ls_as_int(ls_double(2.9)), 2);
}
