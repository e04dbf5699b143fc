/* SPDX-License-Identifier: ISC */
#ifndef TERN_CLI_H
#define TERN_CLI_H

#include <stdint.h>

struct conf;
struct queue;

/* What every verb gets: the options before the verb and what they load. */
struct cli {
	const char	*conf_file;	/* -c, or NULL */
	int		 verbose;	/* -v */
	struct conf	*conf;		/* loaded by cli_conf() */
	struct queue	*queue;		/* opened by cli_queue() */
};

/* Load the configuration; on error print it and exit 78 (EX_CONFIG). */
struct conf	*cli_conf(struct cli *);
/*
 * Open the queue under the configured state directory; on error print why
 * and exit 73 (cannot create) or 75 (temporary).
 */
struct queue	*cli_queue(struct cli *);
void		 cli_done(struct cli *);

/* 1 when a ternd holds the lock of this state directory. */
int		 cli_daemon_running(const struct conf *);
/* Tell a running daemon there is new mail; silent when none runs. */
void		 cli_nudge(const struct conf *);

/* Prints "tern: <msg>" to stderr. */
void		 cli_warnx(const char *fmt, ...)
		    __attribute__((format(printf, 1, 2)));

/*
 * sendmail -q: deliver the queue now. Through the daemon when it runs,
 * else in-process once delivery exists. Returns an exit code.
 */
int		 cli_run_queue(struct cli *);

/* Parses a queue id argument or prints why and returns -1. */
int		 cli_parse_id(const char *arg, uint64_t *id);

/* Delivers in this process; returns tern flush's exit code. */
int		 cli_flush_local(struct cli *, const uint64_t *ids, size_t n);

/* One request to a running ternd; its exit code, -1 when none runs. */
int		 cli_control(const struct conf *, const char *request);

/* Prints a report line (relay_report_fn). */
void		 cli_print_line(void *arg, const char *line);

/* sendmail -bs: SMTP on stdin/stdout; an exit code. */
int		 cli_smtp_stdio(struct cli *);

int	 cmd_pull(struct cli *, int argc, char **argv);
int	 cmd_up(struct cli *, int argc, char **argv);
int	 cmd_down(struct cli *, int argc, char **argv);
int	 cmd_flush(struct cli *, int argc, char **argv);
int	 cmd_bounce(struct cli *, int argc, char **argv);
int	 cmd_check(struct cli *, int argc, char **argv);
int	 cmd_login(struct cli *, int argc, char **argv);
int	 cmd_sendmail(struct cli *, int argc, char **argv);
int	 cmd_status(struct cli *, int argc, char **argv);
int	 cmd_queue(struct cli *, int argc, char **argv);
int	 cmd_show(struct cli *, int argc, char **argv);
int	 cmd_hold(struct cli *, int argc, char **argv);
int	 cmd_release(struct cli *, int argc, char **argv);
int	 cmd_delete(struct cli *, int argc, char **argv);

#endif
