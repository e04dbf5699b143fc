/* SPDX-License-Identifier: ISC */
#ifndef TERN_ODMR_INT_H
#define TERN_ODMR_INT_H

/* Inside odmr/: one pull session's state, shared by atrn.c and etrn.c. */
#include "odmr.h"

struct conn;
struct smtp;
struct smtp_cb;
struct smtp_end;
struct tls_config;

struct pull {
	const struct conf	*cf;
	struct queue		*q;
	relay_report_fn		 rep;
	void			*arg;
	struct pull_result	*res;
	struct conn		*conn;
	struct tls_config	*tc;
	char			*domains;	/* "d1,d2" for ATRN */
	char			 peer[300];
	const char		*tlsinfo;
	unsigned int		 got;		/* this session */
	int			 reversed_end;	/* the provider finished */
	int			 ended;		/* client end seen */
	size_t			 etrn_next;	/* ETRN: next domain */
	int			 etrn_worst;	/* ETRN: worst outcome */
};

void	pull_report(struct pull *, const char *line);
/* Connect, TLS, AUTH and run cb's session on p; 0 ran, -1 failed. */
int	pull_session(struct pull *, const struct smtp_cb *);
void	pull_client_end(struct pull *, const struct smtp_end *);
/* Engine callbacks every pull session shares (arg: the pull). */
void	pull_on_starttls(void *arg, struct smtp *);
void	pull_on_end(void *arg, const struct smtp_end *);

int	atrn_session(struct pull *);
int	etrn_session(struct pull *);

#endif
