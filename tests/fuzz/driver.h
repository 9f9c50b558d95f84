/* The fuzzers' entry point: a libFuzzer target with -DDAL_LIBFUZZER, else a plain
 * program mutating seeds (a seed, then a few bytes replaced, inserted or deleted;
 * deterministic, so a failure repeats). */
#ifndef DAL_FUZZ_DRIVER_H
#define DAL_FUZZ_DRIVER_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef DAL_LIBFUZZER
#define DAL_FUZZ_MAIN(check, name, iterations, seeds, alphabet) \
	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size); \
	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) \
	{ \
		(void)seeds; \
		check(data, size); \
		return 0; \
	}
#else
static uint64_t fuzz_rng = 0x9E3779B97F4A7C15ULL;

static uint64_t fuzz_next(void)
{
	fuzz_rng ^= fuzz_rng << 13;
	fuzz_rng ^= fuzz_rng >> 7;
	fuzz_rng ^= fuzz_rng << 17;
	return fuzz_rng;
}

/* One of `seeds` (each shorter than `cap`) into `buf` with 1-6 edits from `alphabet`;
 * returns the length. */
static size_t fuzz_mutate(uint8_t *buf, size_t cap, const char *const *seeds, size_t nseeds, const char *alphabet,
                          size_t nalpha)
{
	const char *seed = seeds[fuzz_next() % nseeds];
	size_t n = strlen(seed), k, edits = 1 + fuzz_next() % 6;

	memcpy(buf, seed, n);
	for (k = 0; k < edits; k++) {
		size_t at = n ? fuzz_next() % (n + 1) : 0;
		switch (fuzz_next() % 3) {
		case 0: /* replace */
			if (at < n)
				buf[at] = (uint8_t)alphabet[fuzz_next() % nalpha];
			break;
		case 1: /* insert */
			if (n < cap - 1) {
				memmove(buf + at + 1, buf + at, n - at);
				buf[at] = (uint8_t)alphabet[fuzz_next() % nalpha];
				n++;
			}
			break;
		default: /* delete */
			if (at < n) {
				memmove(buf + at, buf + at + 1, n - at - 1);
				n--;
			}
		}
	}
	return n;
}

/* Run `fn` on argv[1] (else `dflt`) mutated seeds; a crash or abort() is the failure. */
static int fuzz_main(int argc, char **argv, long dflt, const char *name, const char *const *seeds, size_t nseeds,
                     const char *alphabet, void (*fn)(const uint8_t *data, size_t size))
{
	long iterations = argc > 1 ? atol(argv[1]) : dflt, i;
	uint8_t buf[512];

	for (i = 0; i < iterations; i++)
		fn(buf, fuzz_mutate(buf, sizeof(buf), seeds, nseeds, alphabet, strlen(alphabet)));
	printf("%s: %ld inputs, no crash\n", name, iterations);
	return 0;
}

/* main(): `iterations` mutated seeds unless argv[1] says how many. */
#define DAL_FUZZ_MAIN(check, name, iterations, seeds, alphabet) \
	int main(int argc, char **argv) \
	{ \
		return fuzz_main(argc, argv, (iterations), (name), (seeds), sizeof(seeds) / sizeof((seeds)[0]), \
			(alphabet), check); \
	}
#endif

#endif
