/**
 * @file dal/common.h
 * @brief Export macro and the C/C++ guards every public header uses.
 */
#ifndef DAL_COMMON_H
#define DAL_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#if defined(__GNUC__) || defined(__clang__)
#define DAL_API __attribute__((visibility("default")))
#else
#define DAL_API
#endif

#ifdef __cplusplus
#define DAL_BEGIN_DECLS extern "C" {
#define DAL_END_DECLS }
#else
#define DAL_BEGIN_DECLS
#define DAL_END_DECLS
#endif

/** Number of elements of a static array (not a pointer), e.g. of dal_field or dal_filter. */
#define DAL_COUNT(arr) (sizeof(arr) / sizeof((arr)[0]))

#endif
