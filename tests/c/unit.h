/*
 * unit.h: what every C unit test includes. The tests use cmocka (Debian's
 * libcmocka-dev): each test_*.c is one program over one pure module.
 */
#ifndef ASYNC_SEARCH_UNIT_H
#define ASYNC_SEARCH_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#define UNIT_RUN(tests) cmocka_run_group_tests(tests, NULL, NULL)

#endif
