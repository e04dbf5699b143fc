/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target: the address parsers, on bytes from sendmail arguments
 * and header fields. The first byte picks allow_nodomain. Invariants: a
 * mailbox addr_check() passes is at most ADDR_MAX octets with no control
 * byte (RFC 5321 4.1.2, 4.5.3.1.3); addr_one() output passes addr_check()
 * and is a fixed point of addr_one(); every mailbox addr_list() hands out
 * passes addr_check() and, as a one-address list, comes back unchanged
 * (RFC 5322 3.4: the 5321 form is a valid addr-spec).
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct seen {
	int		 nodomain;
	const char	*want;		/* for the round trip */
	int		 calls;
};

static void
check_mailbox(const char *m, int nodomain)
{
	const char *why = NULL;
	int flags = 0;
	size_t i;

	assert(addr_check(m, nodomain, &flags, &why) == 0);
	assert(strlen(m) <= ADDR_MAX);
	for (i = 0; m[i] != '\0'; i++)
		assert((unsigned char)m[i] >= 0x20 && m[i] != 0x7f);
	assert(nodomain || (flags & ADDR_NODOMAIN) == 0);
	assert(strlen(addr_domain(m)) <= ADDR_DOMAIN_MAX);
}

static int
again_cb(void *arg, const char *m)
{
	struct seen *s = arg;

	assert(strcmp(m, s->want) == 0);
	s->calls++;
	return 0;
}

static int
list_cb(void *arg, const char *m)
{
	struct seen *s = arg;
	struct seen t = { s->nodomain, m, 0 };
	const char *why = NULL;

	check_mailbox(m, s->nodomain);
	assert(addr_list(m, strlen(m), s->nodomain, again_cb, &t,
	    &why) == 0);
	assert(t.calls == 1);
	s->calls++;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[ADDR_MAX + 8], out2[ADDR_MAX + 8], *s;
	struct seen seen = { 0, NULL, 0 };
	const char *why;
	int nodomain, flags;

	if (size < 1)
		return 0;
	nodomain = data[0] & 1;
	seen.nodomain = nodomain;
	data++;
	size--;

	/* addr_list takes a length: no terminator, so overreads show. */
	why = NULL;
	if (addr_list((const char *)data, size, nodomain, list_cb, &seen,
	    &why) != 0)
		assert(why != NULL);

	s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	why = NULL;
	if (addr_check(s, nodomain, &flags, &why) == 0)
		check_mailbox(s, nodomain);
	else
		assert(why != NULL);
	why = NULL;
	if (addr_one(s, nodomain, out, sizeof out, &flags, &why) == 0) {
		if (out[0] != '\0')
			check_mailbox(out, nodomain);
		assert(addr_one(out, nodomain, out2, sizeof out2, &flags,
		    &why) == 0);
		assert(strcmp(out, out2) == 0);
	} else {
		assert(why != NULL);
	}
	free(s);
	return 0;
}
