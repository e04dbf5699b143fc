/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target: the tern.conf parser and checks, on a file holding the
 * input (a memfd, so no disk I/O). Invariants: a refusal is one line
 * naming the file, a loaded conf has every default filled in (the
 * contract: no NULL where interface.md has a default), and the smarthost
 * lookups work on whatever was loaded.
 */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "conf.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64];
	char err[512];
	struct conf *c;
	size_t i;

	if (fd < 0) {
		fd = memfd_create("tern.conf", MFD_CLOEXEC);
		assert(fd >= 0);
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	}
	assert(ftruncate(fd, 0) == 0);
	assert(pwrite(fd, data, size, 0) == (ssize_t)size);

	err[0] = '\0';
	if ((c = conf_load(path, 1, err, sizeof err)) == NULL) {
		assert(err[0] != '\0' && strchr(err, '\n') == NULL);
		return 0;
	}
	assert(c->hostname != NULL && c->state != NULL);
	assert(c->nretry_schedule == 0 || c->retry_schedule != NULL);
	for (i = 0; i < c->nsmarthosts; i++) {
		assert(c->smarthosts[i].peer.port > 0 &&
		    c->smarthosts[i].peer.port < 65536);
		assert(conf_smarthost_named(c, c->smarthosts[i].name) != NULL);
	}
	(void)conf_smarthost_for(c, "someone@example.org");
	(void)conf_smarthost_for(c, "");
	conf_free(c);
	return 0;
}
