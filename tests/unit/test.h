/*
 * A small unit-test runner: TEST(name) registers a test, ASSERT_* macros
 * return bool and print the actual and expected values when they fail, so
 * a test writes `if (!ASSERT_EQ(a, b, "what")) return;`.
 */
#ifndef NETPROF_UNIT_TEST_H
#define NETPROF_UNIT_TEST_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

void test_register(const char *name, const char *file, void (*fn)(void));
void test_failed(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void test_skip(const char *reason);

#define TEST(name)								\
	static void test_##name(void);						\
	__attribute__((constructor)) static void register_##name(void)		\
	{ test_register(#name, __FILE__, test_##name); }			\
	static void test_##name(void)

#define ASSERT_TRUE(cond, what)							\
	({ bool ok_ = (cond);							\
	   if (!ok_) test_failed(__FILE__, __LINE__, "%s: expected true: %s", what, #cond); \
	   ok_; })

#define ASSERT_EQ(actual, expected, what)					\
	({ long long a_ = (long long)(actual), e_ = (long long)(expected);	\
	   bool ok_ = a_ == e_;							\
	   if (!ok_) test_failed(__FILE__, __LINE__, "%s: got %lld, expected %lld", what, a_, e_); \
	   ok_; })

#define ASSERT_NEAR(actual, expected, tolerance, what)				\
	({ double a_ = (actual), e_ = (expected), t_ = (tolerance);		\
	   bool ok_ = a_ >= e_ - t_ && a_ <= e_ + t_;				\
	   if (!ok_) test_failed(__FILE__, __LINE__, "%s: got %g, expected %g +- %g", what, a_, e_, t_); \
	   ok_; })

#define ASSERT_STREQ(actual, expected, what)					\
	({ const char *a_ = (actual), *e_ = (expected);				\
	   bool ok_ = a_ && e_ && !strcmp(a_, e_);				\
	   if (!ok_) test_failed(__FILE__, __LINE__, "%s: got \"%s\", expected \"%s\"", what, \
				 a_ ? a_ : "(null)", e_ ? e_ : "(null)");	\
	   ok_; })

#endif
