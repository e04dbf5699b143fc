/* SPDX-License-Identifier: ISC */
/* ETRN (RFC 1985): ask the provider to deliver, over a new connection. */
#include <stdio.h>

#include "../lib/conf.h"
#include "odmr_int.h"

int
etrn_session(struct pull *p)
{
	snprintf(p->res->error, sizeof p->res->error,
	    "ETRN is not implemented yet");
	p->etrn_worst = 69;
	return -1;
}
