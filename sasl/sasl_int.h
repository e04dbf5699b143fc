/* SPDX-License-Identifier: ISC */
#ifndef TERN_SASL_INT_H
#define TERN_SASL_INT_H

/*
 * Private to sasl/: the client state shared by sasl.c (the simple
 * mechanisms, dispatch) and scram.c (SCRAM-SHA-256). Not for other modules.
 */

#include <stddef.h>

#include "sasl.h"

#define SASL_SHA256_LEN	32

struct sasl {
	enum sasl_mech	 mech;
	char		*user;
	char		*secret;
	char		*authzid;
	char		*host;
	int		 port;
	int		 started;	/* sasl_client_start() was called */
	int		 steps;		/* challenges answered so far */
	char		*server_err;	/* OAuth error JSON */
	/* SCRAM-SHA-256 (RFC 5802 §3) */
	char		*nonce;		/* client nonce */
	char		*first_bare;	/* client-first-message-bare */
	unsigned char	 server_sig[SASL_SHA256_LEN];
	int		 verified;	/* v= checked */
	char		 err[160];
};

/* Sets the sasl_error() text and errno; returns -1. */
int	 sasl_fail(struct sasl *, int err, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* saslname (RFC 5802 §5.1): ',' as "=2C", '=' as "=3D"; malloc'd. */
char	*sasl_saslname(const char *);
/* Frees a string after wiping it; NULL ok. */
void	 sasl_wipe_free(char *);

/* SCRAM-SHA-256 halves of sasl_client_start()/sasl_client_step(). */
int	 sasl_scram_start(struct sasl *, char **resp);
int	 sasl_scram_step(struct sasl *, const char *chal, size_t len,
	    char **resp);

#endif
